"""Anchor labels on hand-checked cases (pysot's sizes: 25x25 grid, stride 8, 255 search crop)."""
import numpy as np
import pytest

from pysiam.config import get_cfg
from pysiam.data.anchor_target import AnchorTarget, box_iou


def _target(**kw) -> AnchorTarget:
    return AnchorTarget.from_config(get_cfg()) if not kw else AnchorTarget(
        8, [0.33, 0.5, 1, 2, 3], [8], 255, 25, **kw)


def test_anchor_grid_matches_pysot_layout():
    at = _target()
    cx, cy, w, h = at.centres
    # position (row 0, col 0) is 12 cells up-left of the crop centre 127; anchor 2 is the 64x64 one
    assert (cx[2, 0, 0], cy[2, 0, 0], w[2, 0, 0], h[2, 0, 0]) == (31.0, 31.0, 64.0, 64.0)
    assert (cx[0, 12, 12], w[0, 12, 12], h[0, 12, 12]) == (127.0, 104.0, 32.0)
    assert tuple(at.corners[2, 12, 13]) == (103.0, 95.0, 167.0, 159.0)


def test_centred_square_target_hand_checked():
    # A 64x64 target at the crop centre: the ratio-1 anchors one cell away (8 px) have IoU
    # 56*64 / (2*64*64 - 56*64) = 0.778, diagonal ones 56*56 / (8192 - 3136) = 0.620 (> 0.6),
    # two cells away 48*64 / 5120 = 0.6 (not > 0.6); other ratios stay below 0.6
    # (88x40: 2560 / 5056 = 0.506). So exactly the 3x3 ratio-1 block is positive.
    at = _target()
    box = np.array([95.0, 95.0, 159.0, 159.0])
    cls, delta, weight, overlap = at(box, neg=False, rng=np.random.default_rng(0))
    pos = np.argwhere(cls == 1)
    assert sorted(map(tuple, pos)) == [(2, r, c) for r in (11, 12, 13) for c in (11, 12, 13)]
    assert overlap[2, 12, 13] == pytest.approx(3584 / 4608)
    assert overlap[2, 13, 13] == pytest.approx(3136 / 5056)
    assert overlap[2, 12, 14] == pytest.approx(0.6)
    assert np.allclose(weight[cls == 1], 1 / (9 + 1e-6)) and weight[cls != 1].sum() == 0
    # 48 negatives (TOTAL_NUM - POS_NUM), all with IoU < 0.3
    assert (cls == 0).sum() == 48 and (overlap[cls == 0] < 0.3).all()
    # regression targets: 0 at the matching anchor; one cell right: dx = -8 / 64
    assert np.allclose(delta[:, 2, 12, 12], 0)
    assert np.allclose(delta[:, 2, 12, 13], [-8 / 64, 0, 0, 0])
    # 104x32 anchor at the centre: dw = log(64 / 104), dh = log(64 / 32)
    assert np.allclose(delta[2:, 0, 12, 12], [np.log(64 / 104), np.log(2)], atol=1e-6)


def test_positive_cap_and_random_subset_reproducible():
    at = _target(pos_num=4, total_num=10)
    box = np.array([95.0, 95.0, 159.0, 159.0])
    a = at(box, False, np.random.default_rng(3))
    b = at(box, False, np.random.default_rng(3))
    assert (a[0] == b[0]).all()
    assert (a[0] == 1).sum() == 4 and (a[0] == 0).sum() == 6
    assert np.allclose(a[2][a[0] == 1], 1 / (4 + 1e-6))


def test_negative_pair_window_pysot_rounding():
    at = _target()
    box = np.array([95.0, 95.0, 159.0, 159.0])  # centred: pysot's ceil(0 + 0.5) puts the window at 13
    cls, delta, weight, overlap = at(box, neg=True, rng=np.random.default_rng(0))
    assert at.negative_window_centre(box) == (13, 13)
    neg = np.argwhere(cls == 0)
    assert len(neg) == 16 and (cls != 0).sum() == cls.size - 16 and (cls == 1).sum() == 0
    assert neg[:, 1].min() >= 10 and neg[:, 1].max() <= 16 and neg[:, 2].min() >= 10 and neg[:, 2].max() <= 16
    assert weight.sum() == 0 and not delta.any() and not overlap.any()


def test_negative_pair_window_nearest_and_clipped():
    at = _target(neg_centre="nearest", neg_num=1000)
    box = np.array([95.0, 95.0, 159.0, 159.0])
    assert at.negative_window_centre(box) == (12, 12)
    cls = at(box, True, np.random.default_rng(0))[0]
    assert sorted(set(np.argwhere(cls == 0)[:, 1])) == list(range(9, 16))
    assert (cls == 0).sum() == 5 * 7 * 7
    # a target near the top-left corner: the window is clipped at the grid border
    corner = np.array([0.0, 0.0, 20.0, 20.0])  # centre 10: offset (10 - 127) / 8 = -14.6 cells
    col, row = at.negative_window_centre(corner)
    assert (col, row) == (-3, -3)
    assert (at(corner, True, np.random.default_rng(0))[0] == 0).sum() == 5 * 1 * 1


def test_box_iou_known_values():
    boxes = np.array([[0, 0, 10, 10], [5, 5, 15, 15], [20, 20, 30, 30]], dtype=np.float64)
    assert np.allclose(box_iou(boxes, [0, 0, 10, 10]), [1.0, 25 / 175, 0.0])
