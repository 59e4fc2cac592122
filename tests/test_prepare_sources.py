"""Every data-preparation source on a tiny generated copy of its native layout."""
import cv2
import numpy as np
import pytest
from PIL import Image

from pysiam.data.prepare import PrepareError, crop_mask_like_siamfc
from test_prepare_fixtures import (crop_files, expected_files, make_otb_layout, run, write_jpg,
                                   write_lines)

XML_OBJECT = ("<object>{trackid}<name>n0</name><bndbox><xmax>{2}</xmax><xmin>{0}</xmin>"
              "<ymax>{3}</ymax><ymin>{1}</ymin></bndbox><occluded>0</occluded></object>")


def write_xml(path, stem, objects, with_trackid=True):
    """ImageNet-style annotation; objects are (trackid, [xmin, ymin, xmax, ymax])."""
    body = "".join(XML_OBJECT.format(*box, trackid=f"<trackid>{tid}</trackid>" if with_trackid else "")
                   for tid, box in objects)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<annotation><folder>x</folder><filename>{stem}</filename><size><width>64</width>"
                    f"<height>48</height></size>{body}</annotation>")


def test_vid_native_layout_drops_isolated_frames(tmp_path):
    root = tmp_path / "ILSVRC2015"
    b0, b1, b2 = [10, 5, 40, 30], [20, 10, 50, 40], [1, 1, 9, 9]
    frames = [[(0, b0), (1, b1)], [(0, b0), (2, b2)], [(0, b0), (1, b1)], [(0, b0), (1, b1)]]
    for i, objs in enumerate(frames):
        stem = f"{i:06d}"
        write_xml(root / "Annotations/VID/train/ILSVRC2015_VID_train_0000/vidA" / f"{stem}.xml", stem, objs)
        write_jpg(root / "Data/VID/train/ILSVRC2015_VID_train_0000/vidA" / f"{stem}.JPEG", seed=i)
    for k in (1, 2, 3):
        (root / f"Annotations/VID/train/ILSVRC2015_VID_train_000{k}").mkdir(parents=True)
    summary, index = run("vid", root, tmp_path / "out")
    # track 1 at frame 0 and track 2 (only frame 1) have no annotated neighbour: left out
    assert index == {"a/vidA": {"00": {f"{i:06d}": b0 for i in range(4)},
                                "01": {"000002": b1, "000003": b1}}}
    assert crop_files(tmp_path / "out") == expected_files(index)
    assert summary.counts["targets"] == 6


def test_vid_val_with_pysot_letter_links(tmp_path):
    root = tmp_path / "ILSVRC2015"
    for i in range(2):
        stem = f"{i:06d}"
        write_xml(root / "Annotations/VID/train/e/vidV" / f"{stem}.xml", stem, [(3, [5, 5, 25, 20])])
        write_jpg(root / "Data/VID/train/e/vidV" / f"{stem}.JPEG", seed=i)
    _, index = run("vid", root, tmp_path / "out", split="val")
    assert index == {"e/vidV": {"03": {"000000": [5, 5, 25, 20], "000001": [5, 5, 25, 20]}}}
    assert (tmp_path / "out" / "val.json").is_file()
    assert (tmp_path / "out/crop511/e/vidV/000001.03.x.jpg").is_file()


def test_vid_missing_subset_is_a_clear_error(tmp_path):
    (tmp_path / "Annotations/VID/train/a").mkdir(parents=True)
    with pytest.raises(PrepareError, match="ILSVRC2015_VID_train_0001"):
        run("vid", tmp_path, tmp_path / "out")


def test_det_flattens_class_folders_and_skips_empty_boxes(tmp_path):
    root = tmp_path / "ILSVRC"
    objs = [(None, [4, 4, 30, 30]), (None, [10, 10, 10, 20]), (None, [30, 20, 60, 45])]
    write_xml(root / "Annotations/DET/train/ILSVRC2013_train/n01/n01_7.xml", "n01_7", objs,
              with_trackid=False)
    write_jpg(root / "Data/DET/train/ILSVRC2013_train/n01/n01_7.JPEG", seed=0)
    for k in range(7):
        (root / f"Annotations/DET/train/ILSVRC2014_train_{k:04d}").mkdir(parents=True)
    summary, index = run("det", root, tmp_path / "out")
    assert index == {"a/n01_7": {"00": {"000000": [4, 4, 30, 30]}, "02": {"000000": [30, 20, 60, 45]}}}
    assert crop_files(tmp_path / "out") == expected_files(index)
    assert summary.counts["invalid_boxes"] == 1


def test_got10k_skips_absent_frames(tmp_path):
    seq = tmp_path / "GOT-10k/train/GOT-10k_Train_000001"
    for i in range(5):
        write_jpg(seq / f"{i + 1:08d}.jpg", seed=i)
    write_lines(seq / "groundtruth.txt",
                ["10.5,5,20,10", "11,5,20,10", "0,0,0,0", "12,6,20,10", "13,6,20,10"])
    write_lines(seq / "absence.label", [0, 0, 1, 0, 0])
    write_lines(tmp_path / "GOT-10k/train/list.txt", ["GOT-10k_Train_000001"])
    _, index = run("got10k", tmp_path / "GOT-10k", tmp_path / "out")
    assert index == {"train/GOT-10k_Train_000001": {"00": {
        "000000": [10.5, 5, 30.5, 15], "000001": [11, 5, 31, 15],
        "000003": [12, 6, 32, 16], "000004": [13, 6, 33, 16]}}}
    assert crop_files(tmp_path / "out") == expected_files(index)


def test_got10k_box_count_mismatch_names_the_file(tmp_path):
    seq = tmp_path / "train/seq1"
    write_jpg(seq / "00000001.jpg", seed=0)
    write_lines(seq / "groundtruth.txt", ["1,1,5,5", "1,1,5,5"])
    with pytest.raises(PrepareError, match=r"seq1/groundtruth.txt: 2 boxes for 1 images"):
        run("got10k", tmp_path, tmp_path / "out")


def make_lasot(root):
    for n in (1, 2):
        seq = root / "cat" / f"cat-{n}"
        for i in range(4):
            write_jpg(seq / "img" / f"{i + 1:08d}.jpg", seed=10 * n + i)
        write_lines(seq / "groundtruth.txt", ["5,5,20,20", "6,5,20,20", "7,5,20,20", "8,5,20,20"])
        write_lines(seq / "full_occlusion.txt", ["0,1,0,0"])
        write_lines(seq / "out_of_view.txt", ["0,0,0,1"])
    write_lines(root / "testing_set.txt", ["cat-2"])


def test_lasot_splits_and_hidden_frames(tmp_path):
    root = tmp_path / "LaSOT"
    make_lasot(root)
    _, train = run("lasot", root, tmp_path / "out")
    assert train == {"cat/cat-1": {"00": {"000000": [5, 5, 25, 25], "000002": [7, 5, 27, 25]}}}
    _, val = run("lasot", root, tmp_path / "out", split="val")
    assert list(val) == ["cat/cat-2"]
    assert crop_files(tmp_path / "out") == expected_files({**train, **val})


def test_otb_layout_with_masks_as_synthetic(tmp_path):
    masks = make_otb_layout(tmp_path / "raw", videos=("seqA",))
    summary, index = run("synthetic", tmp_path / "raw", tmp_path / "out")
    assert index == {"seqA": {"00": {"000000": [10, 8, 40, 28], "000001": [12, 9, 42, 31]}}}
    assert crop_files(tmp_path / "out") == expected_files(index, masks=True)
    assert summary.counts["invalid_boxes"] == 1
    for i, box in ((0, [10, 8, 40, 28]), (1, [12, 9, 42, 31])):
        saved = cv2.imread(str(tmp_path / f"out/crop511/seqA/{i:06d}.00.m.png"), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(saved, crop_mask_like_siamfc(masks["seqA"][i], box)[1])
        assert saved[255, 255] == 255 and saved[0, 0] == 0
    # --no-masks: no mask crops
    _, index2 = run("otb", tmp_path / "raw", tmp_path / "out2", masks=False)
    assert crop_files(tmp_path / "out2") == expected_files(index2)


def write_palette_png(path, labels):
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(labels.astype(np.uint8), mode="P")
    im.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0] + [0] * 756)
    im.save(path)


def test_youtube_vos_tracks_and_masks(tmp_path):
    root = tmp_path / "ytb"
    size = (72, 96)
    lab0, lab5 = np.zeros(size, np.uint8), np.zeros(size, np.uint8)
    lab0[10:40, 20:60] = 1          # object 1: 1200 pixels
    lab0[50:60, 70:80] = 2          # object 2: 100 pixels, below SiamMask's 1000 -> dropped
    lab5[12:42, 22:62] = 1
    lab5[35:65, 50:85] = 3          # object 3: 1050 pixels, only in frame 5
    for stem, lab in (("00000", lab0), ("00005", lab5)):
        write_palette_png(root / "train/Annotations/vid1" / f"{stem}.png", lab)
        write_jpg(root / "train/JPEGImages/vid1" / f"{stem}.jpg", seed=int(stem), size=size)
    _, index = run("ytb_vos", root, tmp_path / "out")
    assert index == {"train/vid1": {"00": {"000000": [20, 10, 60, 40], "000005": [22, 12, 62, 42]},
                                    "01": {"000005": [50, 35, 85, 65]}}}
    assert crop_files(tmp_path / "out") == expected_files(index, masks=True)
    saved = cv2.imread(str(tmp_path / "out/crop511/train/vid1/000005.01.m.png"), cv2.IMREAD_UNCHANGED)
    # the second track's mask holds object 3 only (object 1 overlaps its crop, but is not in the mask)
    assert np.array_equal(saved, crop_mask_like_siamfc(lab5 == 3, [50, 35, 85, 65])[1])
    with pytest.raises(PrepareError, match="split"):
        run("ytb_vos", root, tmp_path / "out", split="val")


def test_youtube_bb_pixels_and_missing_frames(tmp_path):
    root = tmp_path / "ytbb"
    write_lines(root / "yt_bb_detection_train.csv", [
        "vidX,1000,0,person,0,present,0.1,0.5,0.25,0.75",
        "vidX,2000,0,person,0,present,0.2,0.6,0.25,0.75",
        "vidX,3000,0,person,0,absent,-1,-1,-1,-1",
        "vidX,4000,0,person,0,present,0.1,0.5,0.25,0.75",   # frame not downloaded
        "vidX,2000,0,person,1,present,0.5,0.9,0.0,0.5",
    ])
    for ts, obj in ((1000, 0), (2000, 0), (2000, 1)):
        write_jpg(root / f"yt_bb_detection_train/0/vidX_{ts}_0_{obj}.jpg", seed=ts + obj)
    summary, index = run("yt_bb", root, tmp_path / "out")
    assert list(index) == ["yt_bb_detection_train/0/vidX"]
    tracks = index["yt_bb_detection_train/0/vidX"]
    # fractions times the 64 x 48 frame size
    assert tracks["00"]["000001"] == pytest.approx([6.4, 12.0, 32.0, 36.0])
    assert tracks["00"]["000002"] == pytest.approx([12.8, 12.0, 38.4, 36.0])
    assert tracks["01"] == {"000002": pytest.approx([32.0, 0.0, 57.6, 24.0])}
    assert summary.counts["missing_images"] == 1 and not summary.errors
    assert crop_files(tmp_path / "out") == expected_files(index)
