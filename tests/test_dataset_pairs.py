"""Training pairs: pysot's crop511 layout, epoch plans, pair sampling, augmentation, determinism."""
import json

import cv2
import numpy as np
import pytest

from pysiam.config import get_cfg
from pysiam.data.augmentation import Augmentation, crop_window
from pysiam.data.sampler import EpochSampler
from pysiam.data.train_dataset import PairDataset, build_train_dataset, epoch_plan
from pysiam.data.train_sources import Crop511Source, DatasetError, TargetPatch, box_in_patch


def _write_crop511(root, videos):
    """A pysot crop511 folder: ``videos`` = {video: {track: {frame: box}}}; images are flat grey."""
    crop = root / "crop511"
    for video, tracks in videos.items():
        (crop / video).mkdir(parents=True, exist_ok=True)
        for track, frames in tracks.items():
            for frame, box in frames.items():
                if frame.isdigit():
                    img = np.full((511, 511, 3), int(frame) % 250, np.uint8)
                    cv2.imwrite(str(crop / video / f"{frame}.{track}.x.jpg"), img)
    anno = root / "train.json"
    anno.write_text(json.dumps(videos))
    return crop, anno


def test_crop511_reads_pysot_json_and_filters(tmp_path):
    videos = {
        "a": {"00": {"000000": [10, 10, 60, 40], "000001": [12, 10, 62, 40], "000003": [0, 0, 0, 5],
                     "frames": [1, 2]},
              "01": {"000000": [5, 5, 5, 9]}},          # zero width: track dropped
        "b": {"00": {"000002": [30, 20]}},              # (w, h) form
        "c": {"00": {"000000": [1, 1, 1, 1]}},          # nothing valid: video dropped
    }
    crop, anno = _write_crop511(tmp_path, videos)
    src = Crop511Source("T", str(crop), str(anno), frame_range=1, num_use=-1)
    assert src.videos == ["a", "b"] and len(src) == 2 and src.num_use == 2
    assert [t[0] for t in src.tracks[0]] == ["00"] and src.tracks[0][0][1] == [0, 1]
    patch = src.load((0, 0, 1))
    assert patch.image.shape == (511, 511, 3) and patch.size == (511, 511)
    assert np.allclose(patch.box, box_in_patch([12, 10, 62, 40], (511, 511), 127))
    assert src.load((1, 0, 0)).image.mean() == pytest.approx(2, abs=1)   # frame 000002
    assert not src.has_masks


def test_crop511_errors_name_the_file(tmp_path):
    with pytest.raises(DatasetError, match="train.json"):
        Crop511Source("T", str(tmp_path), str(tmp_path / "train.json"), 1, -1)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DatasetError, match="bad.json"):
        Crop511Source("T", str(tmp_path), str(tmp_path / "bad.json"), 1, -1)
    crop, anno = _write_crop511(tmp_path, {"v": {"00": {"000000": [0, 0, 10, 10]}}})
    src = Crop511Source("T", str(tmp_path / "missing"), str(anno), 1, -1)
    with pytest.raises(DatasetError, match="missing/v/000000.00.x.jpg"):
        src.load((0, 0, 0))


def test_box_in_patch_hand_checked():
    # w=100, h=50: context 75, s_z = sqrt(175 * 125) = 147.902; 127 / s_z = 0.858678
    box = box_in_patch([0, 0, 100, 50], (511, 511), 127)
    scale = 127 / np.sqrt(175 * 125)
    assert np.allclose(box, [255 - 50 * scale, 255 - 25 * scale, 255 + 50 * scale, 255 + 25 * scale])
    assert np.allclose(box_in_patch([100, 50], (511, 511), 127), box)


def test_positive_pairs_stay_within_frame_range(tmp_path):
    frames = {f"{i:06d}": [10, 10, 50, 50] for i in range(0, 40, 2)}   # 20 frames, numbers 0, 2, ..
    crop, anno = _write_crop511(tmp_path, {"v": {"00": frames, "01": frames}})
    src = Crop511Source("T", str(crop), str(anno), frame_range=3, num_use=-1)
    rng = np.random.default_rng(0)
    gaps, tracks = [], set()
    for _ in range(2000):
        (v1, t1, p1), (v2, t2, p2) = src.positive_pair(0, rng)
        assert (v1, t1) == (v2, t2)
        gaps.append(p2 - p1)
        tracks.add(t1)
    # frame_range counts positions in the sorted frame list (not frame numbers), both sides, inclusive
    assert set(gaps) == set(range(-3, 4)) and tracks == {0, 1}


def test_epoch_plan_num_use_and_videos_per_epoch():
    rng = np.random.default_rng(0)
    plan = epoch_plan([3, 5], [7, -1], 0, rng)   # source 0 repeated to 7, source 1 all 5 once
    assert len(plan) == 12
    counts0 = np.bincount(plan[plan[:, 0] == 0, 1], minlength=3)
    assert counts0.sum() == 7 and counts0.min() >= 2 and counts0.max() <= 3
    assert sorted(plan[plan[:, 0] == 1, 1]) == [0, 1, 2, 3, 4]
    longer = epoch_plan([3, 5], [7, -1], 30, np.random.default_rng(0))
    # the pool (7 + 5 entries) shuffled, repeated: each block of 12 is one copy of it
    assert len(longer) == 30 and (longer[:12, 0] == 0).sum() == 7 and (longer[12:24, 0] == 0).sum() == 7
    assert len(epoch_plan([3, 5], [2, 1], 2, np.random.default_rng(0))) == 2
    assert (epoch_plan([4], [-1], 0, np.random.default_rng(5)) == epoch_plan([4], [-1], 0, np.random.default_rng(5))).all()


def _patch(size=255, box=(100.0, 110.0, 150.0, 140.0), value=None):
    img = np.arange(size * size * 3, dtype=np.uint32).reshape(size, size, 3) % 251
    img = img.astype(np.uint8) if value is None else np.full((size, size, 3), value, np.uint8)
    return TargetPatch(img, np.array(box), (size, size))


def test_augmentation_centre_crop_exact():
    aug = Augmentation()           # no shift, scale, colour, blur, flip: a plain centre crop
    patch = _patch()
    crop, box, _ = aug(patch, 127, np.random.default_rng(0))
    # window = centre 127 +- 63: pixels 64..190 map 1:1
    assert np.array_equal(crop, patch.image[64:191, 64:191].astype(np.float32))
    assert np.allclose(box, np.array(patch.box) - 64)


def test_augmentation_shift_scale_box_follows_window():
    aug = Augmentation(shift=10, scale=0.2)
    rng = np.random.default_rng(1)
    window, box = aug.shift_scale((255, 255), np.array([100.0, 110.0, 150.0, 140.0]), 127, np.random.default_rng(1))
    crop, box2, _ = aug(_patch(), 127, rng)
    assert np.allclose(box, box2)
    sx = (window[2] - window[0]) / 126
    sy = (window[3] - window[1]) / 126
    assert np.allclose(box, [(100 - window[0]) / sx, (110 - window[1]) / sy, (150 - window[0]) / sx,
                             (140 - window[1]) / sy])
    assert window[0] >= 0 and window[2] <= 254 and abs(window[0] + window[2] - 254) <= 20 + 1e-9


def test_augmentation_shift_is_clipped_to_the_patch():
    aug = Augmentation(shift=1000)
    for seed in range(20):
        window, _ = aug.shift_scale((200, 200), np.array([90.0, 90.0, 110.0, 110.0]), 127, np.random.default_rng(seed))
        assert window[0] >= 0 and window[1] >= 0 and window[2] <= 199 and window[3] <= 199


def test_augmentation_flip_color_gray():
    patch = _patch()
    crop, box, _ = Augmentation(flip=1.0)(patch, 127, np.random.default_rng(0))
    plain, pbox, _ = Augmentation()(patch, 127, np.random.default_rng(0))
    assert np.array_equal(crop, plain[:, ::-1])
    assert np.allclose(box, [126 - pbox[2], pbox[1], 126 - pbox[0], pbox[3]])
    flat = _patch(value=100)
    rng = np.random.default_rng(7)
    coloured, _, _ = Augmentation(color=1.0)(flat, 127, rng)
    replay = np.random.default_rng(7)
    replay.random()                                  # the colour probability draw comes first
    offset = Augmentation.color_offset(replay)
    assert np.allclose(coloured[5, 5], 100 - offset, atol=1e-4)
    gray, _, _ = Augmentation()(patch, 127, np.random.default_rng(0), gray=True)
    assert np.array_equal(gray[..., 0], gray[..., 1]) and np.array_equal(gray[..., 1], gray[..., 2])


def test_crop_window_with_patch_geometry_matches_two_step_crop():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    # patch = frame region scaled by 2 around (80, 60); then a window of the patch
    scale, origin = 0.5, (40.0, 30.0)
    window = (20.0, 10.0, 140.0, 130.0)
    direct = crop_window(frame, window, 61, 0, scale, origin)
    patch = crop_window(frame, (40.0, 30.0, 40.0 + 0.5 * 199, 30.0 + 0.5 * 199), 200)
    two_step = crop_window(patch, window, 61)
    assert np.abs(direct.astype(int) - two_step.astype(int)).mean() < 3


def test_sampler_splits_epoch_between_ranks():
    one = list(EpochSampler(100, 5, epoch=2))
    assert one[:3] == [200, 201, 202] and len(one) == 100
    r0 = list(EpochSampler(100, 5, rank=0, world_size=2, epoch=1))
    r1 = list(EpochSampler(100, 5, rank=1, world_size=2, epoch=1))
    assert r0[:5] == [100, 101, 102, 103, 104] and r1[:5] == [105, 106, 107, 108, 109]
    assert sorted(r0 + r1) == list(range(100, 200))
    resumed = EpochSampler(100, 5, epoch=0, start_iter=18)
    assert list(resumed) == list(range(90, 100)) and len(resumed) == 10


def _synthetic_cfg():
    cfg = get_cfg()
    cfg.DATASET.NAMES = ["SYNTHETIC"]
    cfg.DATASET.SYNTHETIC.NUM_VIDEOS = 3
    cfg.DATASET.SYNTHETIC.KWARGS.n_frames = 6
    cfg.DATASET.SYNTHETIC.KWARGS.width = 96
    cfg.DATASET.SYNTHETIC.KWARGS.height = 72
    cfg.DATASET.SYNTHETIC.WORKERS = 1
    cfg.DATASET.VIDEOS_PER_EPOCH = 20
    cfg.TRAIN.EXEMPLAR_SIZE, cfg.TRAIN.SEARCH_SIZE = 63, 127
    cfg.TRAIN.BASE_SIZE, cfg.TRAIN.OUTPUT_SIZE = 0, 9
    cfg.ANCHOR.SCALES = [4]
    cfg.DATASET.SEARCH.SHIFT = 32
    return cfg


def test_pair_dataset_is_a_function_of_seed_epoch_index():
    cfg = _synthetic_cfg()
    cfg.MASK.MASK = True
    ds = build_train_dataset(cfg)
    a, b = ds[25], ds[3]            # epoch 1 item 5, then epoch 0 item 3
    again = build_train_dataset(cfg)
    assert all(np.array_equal(a[k], again[25][k]) for k in a)
    assert all(np.array_equal(b[k], again[3][k]) for k in b)
    assert not np.array_equal(ds[5]["search"], a["search"])    # epoch 0 item 5 differs
    assert a["template"].shape == (3, 63, 63) and a["search"].shape == (3, 127, 127)
    assert a["label_cls"].shape == (5, 9, 9) and a["label_loc"].shape == (4, 5, 9, 9)
    assert a["label_mask"].shape == (1, 127, 127) and a["label_mask_weight"].shape == (1, 9, 9)
    assert set(np.unique(a["label_mask"])) <= {-1.0, 1.0}


def test_pair_dataset_positive_and_negative_pairs():
    cfg = _synthetic_cfg()
    cfg.MASK.MASK = True
    cfg.DATASET.NEG = 1.0
    neg = build_train_dataset(cfg)
    for i in range(4):
        s = neg[i]
        assert s["neg"] == 1 and (s["label_cls"] == 1).sum() == 0 and 0 < (s["label_cls"] == 0).sum() <= 16
        assert s["label_mask_weight"].sum() == 0 and s["label_loc_weight"].sum() == 0
    cfg.DATASET.NEG = 0.0
    cfg.DATASET.SEARCH.SHIFT = 0
    cfg.DATASET.SEARCH.SCALE = 0.0
    pos = build_train_dataset(cfg)
    for i in range(4):
        s = pos[i]
        x1, y1, x2, y2 = s["bbox"]
        assert s["neg"] == 0 and abs((x1 + x2) / 2 - 63) < 1.01 and abs((y1 + y2) / 2 - 63) < 1.01
        assert (s["label_cls"] == 1).sum() > 0
        # the mask weight marks exactly the positions with a positive anchor
        assert np.array_equal(s["label_mask_weight"][0] > 0, (s["label_cls"] == 1).any(axis=0))
        inside = s["label_mask"][0, int(y1) + 2:int(y2) - 1, int(x1) + 2:int(x2) - 1]
        assert (inside > 0).mean() > 0.3 and (s["label_mask"][0, :5, :5] < 0).all()


def test_output_size_mismatch_is_reported():
    cfg = _synthetic_cfg()
    cfg.TRAIN.OUTPUT_SIZE = 25
    with pytest.raises(DatasetError, match="OUTPUT_SIZE"):
        build_train_dataset(cfg)
    cfg = _synthetic_cfg()
    cfg.DATASET.NAMES = ["NOPE"]
    with pytest.raises(DatasetError, match="DATASET.NOPE"):
        build_train_dataset(cfg)


def test_pair_dataset_with_crop511_source(tmp_path):
    frames = {f"{i:06d}": [100, 100, 180, 160] for i in range(5)}
    crop, anno = _write_crop511(tmp_path, {"v0": {"00": frames}, "v1": {"00": frames}})
    cfg = get_cfg()
    cfg.DATASET.NAMES = ["VID"]
    cfg.DATASET.VID.ROOT, cfg.DATASET.VID.ANNO = str(crop), str(anno)
    cfg.DATASET.VID.NUM_USE = 3
    cfg.DATASET.VIDEOS_PER_EPOCH = -1
    ds = build_train_dataset(cfg)
    assert isinstance(ds, PairDataset) and len(ds) == 3
    s = ds[0]
    assert s["search"].shape == (3, 255, 255) and s["label_cls"].shape == (5, 25, 25)
