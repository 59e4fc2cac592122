"""Dataset readers: every layout read back from generated folders, real sequences, errors."""
import json
import os

import numpy as np
import pytest

from pysiam.datasets import BenchmarkFormatError, DATASETS, build_dataset, get_spec
from pysiam.datasets import testing as T


def test_table_and_unknown_name():
    assert {"OTB100", "OTB2013", "VOT2016", "VOT2018", "VOT2019", "VOT2018-LT", "UAV123", "LaSOT",
            "NFS30", "GOT-10k", "TrackingNet", "DAVIS2016", "DAVIS2017"} <= set(DATASETS)
    assert get_spec("cvpr13").name == "OTB2013" and get_spec("otb2015").name == "OTB100"
    with pytest.raises(KeyError, match="unknown dataset 'OTB-17'.*OTB100"):
        build_dataset("OTB-17", ".")


def test_otb_native_and_frames(tmp_path):
    gts = T.make_otb_like(tmp_path, videos={"Alpha": 6, "Beta": 4}, size=(48, 36))
    ds = build_dataset("OTB100", tmp_path)
    assert ds.names == ["Alpha", "Beta"] and ds.protocol == "ope" and ds.meta["layout"] == "native"
    v = ds["Alpha"]
    np.testing.assert_allclose(v.gt, gts["Alpha"])
    np.testing.assert_allclose(v.init_rect, gts["Alpha"][0])
    assert len(v) == 6 and v.image_size == (48, 36)
    frames = list(v.frames())
    assert len(frames) == 6 and frames[0].shape == (36, 48, 3) and frames[0].dtype == np.uint8
    assert [x.name for x in ds] == ["Alpha", "Beta"] and ds[1].name == "Beta"


def test_otb_json_without_frames(tmp_path):
    gts = T.make_otb_like(tmp_path, layout="json", frames=False, attrs={"Alpha": ["Occlusion"]})
    ds = build_dataset("OTB100", tmp_path)
    assert ds.meta["layout"] == "json" and ds.attributes == {"Occlusion": ["Alpha"]}
    assert ds["Beta"].image_size == (48, 36)
    np.testing.assert_allclose(ds["Beta"].gt, gts["Beta"])
    with pytest.raises(OSError, match="frame 0 is missing"):
        next(ds["Beta"].frames())


def test_missing_frame_names_gt_file_and_line(tmp_path):
    T.make_otb_like(tmp_path, videos={"Alpha": 6})
    os.remove(tmp_path / "Alpha" / "img" / "0004.jpg")
    with pytest.raises(BenchmarkFormatError, match=r"Alpha.groundtruth_rect.txt:4: no frame numbered 4"):
        build_dataset("OTB100", tmp_path)


def test_malformed_and_short_lines(tmp_path):
    T.make_otb_like(tmp_path, videos={"Alpha": 4})
    gt = tmp_path / "Alpha" / "groundtruth_rect.txt"
    lines = gt.read_text().splitlines()
    gt.write_text("\n".join([lines[0], "1,2,3"] + lines[2:]) + "\n")
    with pytest.raises(BenchmarkFormatError, match=r"groundtruth_rect.txt:2: .* 3 values, expected 4"):
        build_dataset("OTB100", tmp_path)
    gt.write_text("\n".join([lines[0], "1,2,x,4"] + lines[2:]) + "\n")
    with pytest.raises(BenchmarkFormatError, match=r"groundtruth_rect.txt:2: not a list of numbers"):
        build_dataset("OTB100", tmp_path)
    gt.write_text("\n".join([lines[0], ""] + lines[2:]) + "\n")
    with pytest.raises(BenchmarkFormatError, match=r"groundtruth_rect.txt:2: empty"):
        build_dataset("OTB100", tmp_path)


def test_otb_tab_separated_start_frame_and_two_targets(tmp_path):
    import cv2

    img = tmp_path / "David" / "img"
    img.mkdir(parents=True)
    for i in range(298, 304):
        cv2.imwrite(str(img / f"{i:04d}.jpg"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "David" / "groundtruth_rect.txt").write_text("1\t2\t3\t4\n5 6 7 8\n")
    (tmp_path / "Jog" / "img").mkdir(parents=True)
    for i in (1, 2):
        cv2.imwrite(str(tmp_path / "Jog" / "img" / f"{i:04d}.jpg"), np.zeros((8, 8, 3), np.uint8))
    for k in (1, 2):
        (tmp_path / "Jog" / f"groundtruth_rect.{k}.txt").write_text(f"{k},1,2,3\n{k},1,2,3\n")
    ds = build_dataset("OTB100", tmp_path)
    assert ds.names == ["David", "Jog-1", "Jog-2"]
    assert [os.path.basename(p) for p in ds["David"].img_paths] == ["0300.jpg", "0301.jpg"]
    assert ds["David"].gt.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert ds["Jog-2"].gt[0, 0] == 2


def test_vot_native_and_json(tmp_path):
    gts = T.make_vot(tmp_path / "n", videos={"ants": 12, "bag": 10})
    ds = build_dataset("VOT2018", tmp_path / "n")
    assert ds.protocol == "vot" and ds.eao_interval == (100, 356)
    v = ds["ants"]
    assert v.gt.shape == (12, 8) and v.image_size == (64, 48)
    np.testing.assert_allclose(v.gt, gts["ants"])
    assert sorted(v.tags) == ["camera_motion", "illum_change", "motion_change", "occlusion", "size_change"]
    assert v.tags["occlusion"].shape == (12,)
    T.make_vot(tmp_path / "j", videos={"ants": 12}, layout="json", frames=False)
    dj = build_dataset("VOT2018", tmp_path / "j")
    assert dj["ants"].image_size == (64, 48) and dj["ants"].gt.shape == (12, 8)
    assert build_dataset("VOT2016", tmp_path / "n", layout="native").eao_interval == (108, 371)
    assert build_dataset("VOT2019", tmp_path / "n").eao_interval == (46, 291)


def test_vot_short_term_rejects_empty_and_lt_accepts_nan(tmp_path):
    T.make_vot(tmp_path, videos={"ants": 6})
    gt = tmp_path / "ants" / "groundtruth.txt"
    lines = gt.read_text().splitlines()
    gt.write_text("\n".join(lines[:2] + ["nan,nan,nan,nan"] + lines[3:]) + "\n")
    with pytest.raises(BenchmarkFormatError, match=r"groundtruth.txt:3: short-term"):
        build_dataset("VOT2018", tmp_path)
    gt.write_text("\n".join(lines[:2] + ["", "0"] + lines[4:]) + "\n")
    ds = build_dataset("VOT2018-LT", tmp_path)
    assert np.isnan(ds["ants"].gt[2:4]).all() and not np.isnan(ds["ants"].gt[4]).any()
    assert ds["ants"].gt.shape == (6, 8)
    (tmp_path / "list.txt").unlink()
    with pytest.raises(FileNotFoundError, match="list.txt"):
        build_dataset("VOT2018", tmp_path)


def test_vot_lt_generated(tmp_path):
    gts = T.make_vot_lt(tmp_path, videos={"car1": 15})
    ds = build_dataset("VOT2018-LT", tmp_path)
    assert ds.protocol == "vot-lt"
    np.testing.assert_array_equal(np.isnan(ds["car1"].gt), np.isnan(gts["car1"]))


def test_got10k_val_and_test(tmp_path):
    T.make_got10k(tmp_path, "val", {"GOT-10k_Val_000001": 6})
    ds = build_dataset("GOT-10k", tmp_path)
    v = ds["GOT-10k_Val_000001"]
    assert v.image_size == (48, 36) and v.visible.tolist() == [1, 1, 1, 0, 1, 1]
    T.make_got10k(tmp_path, "test", {"GOT-10k_Test_000001": 5})
    dt = build_dataset("GOT-10k", tmp_path, split="test")
    assert dt[0].gt.shape == (1, 4) and len(dt[0]) == 5 and dt[0].meta["gt_complete"] is False


def test_davis_layouts(tmp_path):
    labels = T.make_davis(tmp_path / "d17", 2017, {"dog": 4}, objects=2)
    ds = build_dataset("DAVIS2017", tmp_path / "d17")
    v = ds["dog"]
    assert v.mask_paths and len(v) == 4 and v.meta["frame_ids"] == ["00000", "00001", "00002", "00003"]
    np.testing.assert_array_equal(v.read_mask(2), labels["dog"][2])
    T.make_davis(tmp_path / "d16", 2016, {"cat": 3})
    v16 = build_dataset("DAVIS2016", tmp_path / "d16")["cat"]
    assert set(np.unique(v16.read_mask(0))) <= {0, 1}
    os.remove(tmp_path / "d17" / "Annotations" / "480p" / "dog" / "00002.png")
    with pytest.raises(BenchmarkFormatError, match="do not pair up"):
        build_dataset("DAVIS2017", tmp_path / "d17")


def test_uav_lasot_nfs_trackingnet_native(tmp_path):
    import cv2

    blank = np.zeros((10, 12, 3), np.uint8)
    # UAV123: bird1_2 starts at frame 775 of data_seq/UAV123/bird1; NaN = target absent
    (tmp_path / "uav" / "anno" / "UAV123" / "att").mkdir(parents=True)
    frames = tmp_path / "uav" / "data_seq" / "UAV123" / "bird1"
    frames.mkdir(parents=True)
    for i in (775, 776, 777):
        cv2.imwrite(str(frames / f"{i:06d}.jpg"), blank)
    (tmp_path / "uav" / "anno" / "UAV123" / "bird1_2.txt").write_text("1,2,3,4\nNaN,NaN,NaN,NaN\n5,6,7,8\n")
    (tmp_path / "uav" / "anno" / "UAV123" / "att" / "bird1_2.txt").write_text("1,0,0,1,0,0,0,0,0,0,0,0\n")
    uav = build_dataset("UAV123", tmp_path / "uav")["bird1_2"]
    assert os.path.basename(uav.img_paths[0]) == "000775.jpg" and np.isnan(uav.gt[1]).all()
    assert uav.attrs == ["Scale Variation", "Fast Motion"]
    # LaSOT: visible unless fully occluded or out of view
    seq = tmp_path / "lasot" / "cat" / "cat-1"
    (seq / "img").mkdir(parents=True)
    for i in (1, 2, 3):
        cv2.imwrite(str(seq / "img" / f"{i:08d}.jpg"), blank)
    (seq / "groundtruth.txt").write_text("1,2,3,4\n0,0,0,0\n1,2,3,4\n")
    (seq / "full_occlusion.txt").write_text("0,1,0\n")
    (seq / "out_of_view.txt").write_text("0,0,0\n")
    assert build_dataset("LaSOT", tmp_path / "lasot")["cat-1"].visible.tolist() == [True, False, True]
    # NfS: 240 fps annotations "id x1 y1 x2 y2 frame ..." for 30 fps frames: every 8th line
    nfs = tmp_path / "nfs" / "ball" / "30"
    (nfs / "ball").mkdir(parents=True)
    for i in (1, 2):
        cv2.imwrite(str(nfs / "ball" / f"{i:05d}.jpg"), blank)
    (nfs / "ball.txt").write_text("".join(f'1 {k} 2 {k + 10} 22 {k + 1} 0 0 0 "ball"\n' for k in range(16)))
    assert build_dataset("NFS30", tmp_path / "nfs")["ball"].gt.tolist() == [[0, 2, 10, 20], [8, 2, 10, 20]]
    # TrackingNet: frames 0.jpg, 1.jpg ...; the TEST split gives the first box only
    tn = tmp_path / "tn" / "TEST"
    (tn / "anno").mkdir(parents=True)
    (tn / "frames" / "abc").mkdir(parents=True)
    for i in range(3):
        cv2.imwrite(str(tn / "frames" / "abc" / f"{i}.jpg"), blank)
    (tn / "anno" / "abc.txt").write_text("1,2,3,4\n")
    v = build_dataset("TrackingNet", tmp_path / "tn")["abc"]
    assert len(v) == 3 and v.gt.shape == (1, 4) and os.path.basename(v.img_paths[2]) == "2.jpg"


def test_unreadable_frame_is_a_clear_error(tmp_path):
    T.make_otb_like(tmp_path, videos={"Alpha": 3})
    (tmp_path / "Alpha" / "img" / "0002.jpg").write_bytes(b"not a jpeg")
    frames = build_dataset("OTB100", tmp_path)["Alpha"].frames()
    next(frames)
    with pytest.raises(OSError, match=r"frame 1 is unreadable: .*0002.jpg"):
        next(frames)


def test_json_errors_name_video_and_frame(tmp_path):
    (tmp_path / "OTB100.json").write_text(json.dumps(
        {"A": {"video_dir": "A", "img_names": ["A/1.jpg", "A/2.jpg"], "gt_rect": [[1, 2, 3, 4], [1, 2, 3]]}}))
    with pytest.raises(BenchmarkFormatError, match=r"video 'A' gt_rect\[1\] \(frame 2\): 3 values"):
        build_dataset("OTB100", tmp_path)
    with pytest.raises(FileNotFoundError, match="no pysot JSON"):
        build_dataset("UAV123", tmp_path, layout="json")


def test_check_frames_and_image_size_override(tmp_path):
    T.make_otb_like(tmp_path, layout="json", frames=False)
    with pytest.raises(FileNotFoundError, match="Alpha: frame 0 missing"):
        build_dataset("OTB100", tmp_path, check_frames=True)
    assert build_dataset("OTB100", tmp_path, image_size=(7, 5))["Alpha"].image_size == (7, 5)


def test_real_otb_crossing(shared_data):
    ds = build_dataset("OTB100", shared_data / "OTB100")
    v = ds["Crossing"]
    assert len(v) == 120 and v.gt.shape == (120, 4)
    assert v.gt[0].tolist() == [205, 151, 17, 50] and v.gt[1].tolist() == [202, 150, 19, 49]
    assert v.image_size == (360, 240)
    frame = next(v.frames())
    assert frame.shape == (240, 360, 3)


def test_real_vot_bag(shared_data, tmp_path):
    os.symlink(shared_data / "VOT" / "bag", tmp_path / "bag")
    (tmp_path / "list.txt").write_text("bag\n")
    v = build_dataset("VOT2018", tmp_path)["bag"]
    assert v.gt.shape == (196, 8) and len(v.img_paths) == 196
    np.testing.assert_allclose(v.gt[0], [334.02, 128.36, 438.19, 188.78, 396.39, 260.83, 292.23, 200.41])
    assert v.image_size == (480, 360)
    assert v.tags["occlusion"].sum() == 0                   # no tag files: all zero
    np.testing.assert_allclose(v.init_rect, [292.23, 128.36, 438.19 - 292.23, 260.83 - 128.36])


def test_real_davis_without_imagesets(shared_data):
    ds = build_dataset("DAVIS2016", shared_data / "DAVIS")
    assert ds.names == ["blackswan", "car-shadow", "tennis"]
    v = ds["blackswan"]
    assert len(v) == 50 and v.read_mask(0).max() == 1 and v.image_size == (854, 480)


def test_withheld_ground_truth_cannot_be_scored(tmp_path):
    from pysiam.eval import evaluate

    (tmp_path / "TrackingNet.json").write_text(json.dumps(
        {"a": {"img_names": ["a/0.jpg", "a/1.jpg"], "gt_rect": [[1, 2, 3, 4]]}}))
    ds = build_dataset("TrackingNet", tmp_path)
    assert ds["a"].gt.shape == (1, 4) and len(ds["a"]) == 2
    (tmp_path / "res" / "TrackingNet" / "T").mkdir(parents=True)
    (tmp_path / "res" / "TrackingNet" / "T" / "a.txt").write_text("1,2,3,4\n1,2,3,4\n")
    with pytest.raises(ValueError, match="withheld"):
        evaluate(ds, tmp_path / "res")
