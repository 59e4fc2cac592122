"""Point labels (SiamBAN / NanoTrack's ellipse recipe) on hand-computed values, and a point-family pair set."""
import numpy as np
import pytest

from pysiam.config import get_cfg, load_config
from pysiam.data.point_target import PointTarget
from pysiam.data.train_dataset import build_train_dataset
from pysiam.data.train_sources import DatasetError
from pysiam.families import build_family
from pysiam.families.point import decode_ltrb, point_grid

# 5x5 points 8 pixels apart in a 64-pixel crop: x, y in 16, 24, 32, 40, 48
# box 40 x 24 centred at (32, 32): positive ellipse semi-axes (10, 6), negative-border ones (20, 12)
BOX = (12.0, 20.0, 52.0, 44.0)


def _target(**kw) -> PointTarget:
    return PointTarget(stride=8, search_size=64, output_size=5, **kw)


def test_points_are_the_family_grid_in_crop_pixels():
    t = _target()
    assert t.points[0, 0].tolist() == [16, 24, 32, 40, 48] and t.points[1, :, 0].tolist() == [16, 24, 32, 40, 48]
    nano = PointTarget(stride=16, search_size=255, output_size=16)
    assert nano.points[0, 0, 0] == -1 and nano.points[0, 0, -1] == 239   # 127 - 8 * 16, NanoTrack's layout


def test_positive_pair_hand_checked():
    cls, ltrb = _target()(BOX, neg=False, rng=np.random.default_rng(0))
    want = np.full((5, 5), -1)
    want[2, 1:4] = 1                    # (x - 32)^2 / 100 < 1 on the centre row only: x = 24, 32, 40
    want[[0, 4], :] = 0                 # rows y = 16, 48: (16 / 12)^2 > 1
    want[[1, 3], 0] = want[[1, 3], 4] = 0   # y = 24 / 40, x = 16 / 48: 0.64 + 0.44 > 1
    assert np.array_equal(cls, want) and cls.dtype == np.int64
    assert ltrb.dtype == np.float32 and ltrb.shape == (4, 5, 5)
    assert ltrb[:, 2, 2].tolist() == [20, 12, 20, 12]      # point (32, 32)
    assert ltrb[:, 0, 0].tolist() == [4, -4, 36, 28]       # point (16, 16): outside the box, unused
    # the family decodes every point's target back to the box (relative to the crop centre)
    boxes = decode_ltrb(ltrb.reshape(4, -1), point_grid(8, 5))
    assert np.allclose(boxes, np.array([0, 0, 40, 24], np.float32)[:, None])


def test_sample_caps_and_reproducible_subsets():
    t = _target(pos_num=2, total_num=10)
    cls, _ = t(BOX, False, np.random.default_rng(3))
    assert (cls == 1).sum() == 2 and (cls[2, 1:4] == 1).sum() == 2 and (cls == 0).sum() == 8
    again, _ = t(BOX, False, np.random.default_rng(3))
    assert np.array_equal(cls, again)


def test_negative_pair_labels_the_inner_ellipse_negative_only():
    cls, ltrb = _target()(BOX, neg=True, rng=np.random.default_rng(0))
    want = np.full((5, 5), -1)
    want[2, 1:4] = 0
    assert np.array_equal(cls, want) and not ltrb.any()
    few, _ = _target(neg_num=1)(BOX, True, np.random.default_rng(0))
    assert (few == 0).sum() == 1 and (few == -1).sum() == 24


def test_ellipse_against_a_per_point_loop():
    t = PointTarget(stride=8, search_size=127, output_size=15, pos_num=100, total_num=1000)   # no caps
    box = (30.3, 41.0, 77.9, 70.2)
    cls, ltrb = t(box, False, np.random.default_rng(1))
    cx, cy, w, h = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]
    for i in range(15):
        for j in range(15):
            x, y = 63 - 56 + 8 * j, 63 - 56 + 8 * i
            inner = ((x - cx) / (w / 4)) ** 2 + ((y - cy) / (h / 4)) ** 2 < 1
            outer = ((x - cx) / (w / 2)) ** 2 + ((y - cy) / (h / 2)) ** 2 > 1
            assert cls[i, j] == (1 if inner else 0 if outer else -1), (i, j)
            assert np.allclose(ltrb[:, i, j], [x - box[0], y - box[1], box[2] - x, box[3] - y], atol=1e-4)


def test_from_config_checks_the_output_size():
    cfg = load_config("nanotrack_v1")
    with pytest.raises(DatasetError, match="OUTPUT_SIZE 25 does not match the 16x16"):
        build_family(cfg).training_target(cfg)
    cfg.TRAIN.OUTPUT_SIZE = 16
    t = build_family(cfg).training_target(cfg)
    assert isinstance(t, PointTarget) and t.stride == 16 and t.output_size == 16


def test_point_family_pair_dataset():
    cfg = load_config("quickstart_nanotrack", ["DATASET.SYNTHETIC.NUM_VIDEOS", "2", "DATASET.SYNTHETIC.KWARGS.n_frames",
                                               "6", "DATASET.SYNTHETIC.WORKERS", "1", "DATASET.VIDEOS_PER_EPOCH", "8",
                                               "DATASET.SYNTHETIC.KWARGS.width", "96",
                                               "DATASET.SYNTHETIC.KWARGS.height", "72"])
    ds = build_train_dataset(cfg)
    items = [ds[i] for i in range(8)]
    assert set(items[0]) == {"template", "search", "label_cls", "label_loc", "bbox", "template_bbox", "neg"}
    assert items[0]["label_cls"].shape == (15, 15) and items[0]["label_loc"].shape == (4, 15, 15)
    for s in items:
        if s["neg"]:
            assert (s["label_cls"] == 1).sum() == 0 and not s["label_loc"].any()
        else:
            pos = s["label_cls"] == 1
            assert (s["label_loc"][:, pos] > 0).all()   # positive points lie inside the box
    assert get_cfg().TRAIN.SEED == ds.seed
