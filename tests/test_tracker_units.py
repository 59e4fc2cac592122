"""Hand-computed checks of the tracker building blocks (pysot's formulas, values derived by hand)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from pysiam.config import load_config
from pysiam.tracker import (SiamMaskTracker, SiamRPNLTTracker, SiamRPNTracker, TrackerParams,
                            build_tracker)
from pysiam.tracker.crop import crop_origin, crop_window, get_subwindow, pad_color
from pysiam.tracker.mask import mask_polygon, mask_window, paste_mask, paste_matrix
from pysiam.families.anchor import AnchorFamily, cosine_window, decode_boxes, score_size
from pysiam.tracker.scoring import change_penalty, clip_state, context_size


def tracker_anchors(stride, ratios, scales, size):
    return AnchorFamily(stride, ratios, scales).grid(size).priors
from pysiam.utils.bbox import axis_aligned_from_polygon, init_box_from_region, tracker_center
from pysiam.utils.device import resolve_device
from test_tracker_fake import FakeSiamModel

RATIOS = [0.33, 0.5, 1, 2, 3]


# -- anchors, window, decoding, penalty --------------------------------------------------------

def test_score_sizes():
    assert score_size(255, 127, 8, 8) == 25
    assert score_size(287, 127, 8, 0) == 21
    assert score_size(831, 127, 8, 8) == 97


def test_anchor_grid_values():
    a = tracker_anchors(8, RATIOS, [8], 25)
    assert a.shape == (5 * 625, 4) and a.dtype == np.float32
    sizes = [tuple(a[k * 625, 2:]) for k in range(5)]
    assert sizes == [(104, 32), (88, 40), (64, 64), (40, 80), (32, 96)]
    # flat index = anchor * 625 + row * 25 + col; centre offsets (col - 12) * 8, (row - 12) * 8
    assert tuple(a[0, :2]) == (-96, -96)
    assert tuple(a[2 * 625 + 3 * 25 + 20]) == ((20 - 12) * 8, (3 - 12) * 8, 64, 64)
    assert tuple(a[4 * 625 + 12 * 25 + 12, :2]) == (0, 0)
    alex = tracker_anchors(8, RATIOS, [8], 21)
    assert tuple(alex[0, :2]) == (-80, -80) and tuple(alex[-1, :2]) == (80, 80)


def test_cosine_window():
    w = cosine_window(5, 2)
    assert w.shape == (50,) and w.dtype == np.float64
    grid = w[:25].reshape(5, 5)
    assert np.all(grid[0] == 0) and np.all(grid[:, -1] == 0)  # zero at the edges
    assert grid[2, 2] == 1 and grid[1, 1] == pytest.approx(0.25) and grid[1, 2] == pytest.approx(0.5)
    assert np.array_equal(w[:25], w[25:])  # repeated per anchor


def test_decode_boxes():
    anchors = np.array([[0, 0, 64, 64], [8, -16, 104, 32]], dtype=np.float32)
    loc = np.array([[0.5, 0.0], [0.0, -1.0], [0.0, math.log(2)], [math.log(0.5), 0.0]], dtype=np.float32)
    out = decode_boxes(loc, anchors)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0], [32, 0, 64, 32], rtol=1e-6)
    np.testing.assert_allclose(out[:, 1], [8, -48, 208, 32], rtol=1e-6)


def test_change_penalty_known_cases():
    # same size and aspect as the current target at search scale -> no penalty
    same = np.array([[0], [0], [64], [64]], dtype=np.float32)
    assert change_penalty(same, (32, 32), 2.0, 0.3)[0] == 1.0
    # a 128x64 candidate for a 64x64 target (scale 1): s_c = sqrt(224 * 160) / 128, r_c = 2
    cand = np.array([[0], [0], [128], [64]], dtype=np.float32)
    s_c = math.sqrt(224 * 160) / 128
    expected = math.exp(-0.05 * (2 * s_c - 1))
    # (the candidate's padded size is computed in float32, as pysot does: 1e-7 relative)
    assert change_penalty(cand, (64, 64), 1.0, 0.05)[0] == pytest.approx(expected, rel=1e-6)
    # shrinking is penalised like growing: a 32x32 candidate for 64x64 gives s_c = 2
    small = np.array([[0], [0], [32], [32]], dtype=np.float32)
    assert change_penalty(small, (64, 64), 1.0, 0.1)[0] == pytest.approx(math.exp(-0.1), rel=1e-6)


def test_context_size_and_clip():
    # p = 0.5 * (30 + 40) = 35 -> sqrt(65 * 75)
    assert context_size((30, 40), 0.5) == pytest.approx(math.sqrt(65 * 75))
    assert clip_state(-5.0, 300.0, 5.0, 500.0, 200, 100) == (0, 100, 10, 100)
    assert clip_state(50.5, 20.25, 12.0, 30.0, 200, 100) == (50.5, 20.25, 12.0, 30.0)
    assert clip_state(250.0, -1.0, 400.0, 2.0, 200, 100) == (200, 0, 200, 10)


# -- crop ------------------------------------------------------------------------------------

def test_crop_origin_rounding():
    # c = (size + 1) / 2; x0 = floor(cx - c + 0.5)
    assert crop_origin((10.0, 10.0), 4) == (8, 8)      # floor(10 - 2.5 + 0.5) = 8
    assert crop_origin((10.5, 3.2), 5) == (8, 0)       # floor(8.0) = 8, floor(0.7) = 0
    assert crop_origin((0.0, 0.0), 5) == (-3, -3)      # floor(-2.5) = -3


def test_crop_on_image_edge_mean_padding():
    img = np.zeros((10, 12, 3), np.uint8)
    img[..., 0] = np.arange(12, dtype=np.uint8)[None, :] * 10
    img[..., 1] = 7
    img[..., 2] = 200
    mean = np.mean(img, axis=(0, 1))          # (55.0, 7.0, 200.0)
    mean_frac = mean + np.array([0.9, 0.5, 0.99])
    assert list(pad_color(mean_frac)) == [55, 7, 200]  # truncated, not rounded
    patch = crop_window(img, (0.0, 0.0), 5, 5, mean_frac)  # origin (-3, -3): 2x2 of the image
    assert patch.shape == (5, 5, 3)
    assert np.all(patch[:3] == [55, 7, 200]) and np.all(patch[:, :3] == [55, 7, 200])
    assert np.array_equal(patch[3:, 3:], img[0:2, 0:2])
    # bottom-right corner
    patch = crop_window(img, (11.0, 9.0), 4, 4, mean)  # origin floor(11 - 2.5 + .5) = 9, 7
    assert np.array_equal(patch[:3, :3], img[7:10, 9:12]) and np.all(patch[3:] == [55, 7, 200])
    # entirely outside the image: all padding
    assert np.all(crop_window(img, (100.0, 100.0), 3, 3, mean) == [55, 7, 200])


def _reference_crop(img, center, out_size, crop_size, mean):
    """Straightforward version: pad the whole image with the mean colour, slice, resize."""
    x0, y0 = crop_origin(center, crop_size)
    pad = max(0, -x0, -y0, x0 + crop_size - img.shape[1], y0 + crop_size - img.shape[0])
    big = np.empty((img.shape[0] + 2 * pad, img.shape[1] + 2 * pad, 3), np.uint8)
    big[...] = np.asarray(mean).astype(np.uint8)
    big[pad:pad + img.shape[0], pad:pad + img.shape[1]] = img
    p = big[y0 + pad:y0 + pad + crop_size, x0 + pad:x0 + pad + crop_size]
    return p if out_size == crop_size else cv2.resize(p, (out_size, out_size))


def test_crop_matches_full_padding_reference():
    rs = np.random.RandomState(3)
    img = rs.randint(0, 256, (60, 80, 3)).astype(np.uint8)
    mean = np.mean(img, axis=(0, 1))
    for _ in range(40):
        center = rs.uniform(-20, 100, 2)
        size = int(rs.randint(1, 120))
        out = int(rs.choice([size, 31, 127]))
        assert np.array_equal(crop_window(img, center, out, size, mean),
                              _reference_crop(img, center, out, size, mean))


def test_crop_inside_is_a_view_and_tensor_layout():
    img = np.random.RandomState(0).randint(0, 256, (50, 60, 3)).astype(np.uint8)
    patch = crop_window(img, (30.0, 25.0), 20, 20, (0, 0, 0))
    assert np.shares_memory(patch, img)
    t = get_subwindow(img, (30.0, 25.0), 20, 20, (0, 0, 0))
    assert t.shape == (1, 3, 20, 20) and t.dtype == torch.float32 and t.is_contiguous()
    assert torch.equal(t[0].permute(1, 2, 0), torch.from_numpy(patch.astype(np.float32)))


# -- init rules ----------------------------------------------------------------------------------

class _Recorder(FakeSiamModel):
    def template(self, z):
        self.z = z.clone()
        super().template(z)


def test_init_centre_rule_and_template_crop():
    img = np.random.RandomState(1).randint(0, 256, (120, 160, 3)).astype(np.uint8)
    model = _Recorder()
    tracker = SiamRPNTracker(model, TrackerParams())
    tracker.init(img, [10, 20, 30, 40])
    assert tuple(tracker.center_pos) == (24.5, 39.5)  # x + (w - 1) / 2
    assert tuple(tracker.size) == (30, 40)
    assert tracker_center([10, 20, 30, 40]) == (24.5, 39.5)
    # s_z = round(sqrt(65 * 75)) = round(69.82) = 70; pad colour = truncated image mean
    expected = crop_window(img, (24.5, 39.5), 127, 70, np.mean(img, axis=(0, 1)))
    assert torch.equal(model.z[0].permute(1, 2, 0), torch.from_numpy(expected.astype(np.float32)))


def test_round_half_to_even_crop_size():
    # w = h = 8.25: p = 8.25, s_z = sqrt(16.5 * 16.5) = 16.5 -> Python round -> 16 (not 17)
    assert context_size((8.25, 8.25), 0.5) == 16.5
    img = np.random.RandomState(4).randint(0, 256, (64, 64, 3)).astype(np.uint8)
    model = _Recorder()
    SiamRPNTracker(model).init(img, [20, 20, 8.25, 8.25])
    centre, mean = (20 + 7.25 / 2, 20 + 7.25 / 2), np.mean(img, axis=(0, 1))
    z = model.z[0].permute(1, 2, 0).numpy()
    assert np.array_equal(z, crop_window(img, centre, 127, 16, mean))
    assert not np.array_equal(z, crop_window(img, centre, 127, 17, mean))


def test_vot_polygon_init_box():
    # a square of side sqrt(200) rotated by 45 degrees: box 20x20, area ratio 1/2
    cx, cy, w, h = axis_aligned_from_polygon([0, 10, 10, 0, 20, 10, 10, 20])
    assert (cx, cy) == (10, 10)
    assert w == pytest.approx(20 * math.sqrt(0.5) + 1) and h == pytest.approx(20 * math.sqrt(0.5) + 1)
    x, y, w2, h2 = init_box_from_region([0, 10, 10, 0, 20, 10, 10, 20])
    assert x == pytest.approx(10 - (w - 1) / 2) and w2 == w and h2 == h
    # x, y, w, h regions: cx = x + w / 2, then x' = cx - (w - 1) / 2 = x + 0.5
    assert axis_aligned_from_polygon([5, 6, 10, 20]) == (10, 16, 10, 20)
    assert init_box_from_region([5, 6, 10, 20]) == [5.5, 6.5, 10, 20]
    with pytest.raises(ValueError, match="4 .* or 8"):
        axis_aligned_from_polygon([1, 2, 3])


def test_vot_init_matches_pysot_on_bag(shared_data):
    """pysot's get_axis_aligned_bbox + test.py rule on bag's first polygon (stored by the driver)."""
    ref = json.loads((Path(__file__).parent / "data" / "tracker" / "siamrpn_bag.json").read_text())
    line = (shared_data / "VOT" / "bag" / "groundtruth.txt").read_text().splitlines()[0]
    assert init_box_from_region([float(v) for v in line.split(",")]) == ref["init"]


# -- SiamMask paste-back and polygon -----------------------------------------------------------

def test_mask_window_and_paste_matrix():
    # crop box at (100, 50), side 255 (s = 1): position (12, 12) covers [164, 114] + 127
    assert mask_window([100, 50, 255, 255], 12, 12, 255, 127, 8, 8) == [164, 114, 127, 127]
    # side 510 (s = 2), position (row 4, col 0): x0 = 100 + (0 - 4) * 8 * 2, y0 = 50 + 0
    assert mask_window([100, 50, 510, 510], 4, 0, 255, 127, 8, 8) == [36, 50, 254, 254]
    # pysot's paste matrix: mask pixel (63, 63) of a window at (300.3, 100.7), side 254, in an 854x480 frame
    m = paste_matrix([300.3, 100.7, 254, 254], 127, (854, 480))
    x, y = m @ np.array([63, 63, 1.0])
    assert x == pytest.approx(853 / 854 * (300.3 + 63 * 2)) and x == pytest.approx(425.8, abs=0.05)
    assert y == pytest.approx(479 / 480 * (100.7 + 63 * 2)) and y == pytest.approx(226.2, abs=0.05)


def test_paste_mask_border_and_extent():
    mask = np.ones((127, 127), np.float32)
    out = paste_mask(mask, [40, 30, 127, 127], (320, 240))
    assert out.shape == (240, 320) and out.dtype == np.float32
    ys, xs = np.nonzero(out > 0.5)
    assert abs(xs.min() - 40) <= 1 and abs(xs.max() - (40 + 126) * 319 / 320) <= 1.5
    assert abs(ys.min() - 30) <= 1 and out[0, 0] == 0 and out[200, 300] == 0
    assert paste_mask(mask, [40, 30, 127, 127], (320, 240), border=-1)[200, 300] == -1


def test_polygon_of_rotated_rectangle():
    canvas = np.zeros((200, 240), np.uint8)
    corners = cv2.boxPoints(((120.0, 90.0), (100.0, 40.0), 30.0))
    cv2.fillPoly(canvas, [np.round(corners).astype(np.int32)], 1)
    poly = np.array(mask_polygon(canvas, [0, 0, 5, 5])).reshape(4, 2)
    # same rectangle up to pixelisation: centre, side lengths and angle
    (cx, cy), (w, h), _ = cv2.minAreaRect(poly.astype(np.float32))
    assert (cx, cy) == pytest.approx((120, 90), abs=1.0)
    assert sorted((w, h)) == pytest.approx([40, 100], abs=2.0)
    long_edge = max((poly[1] - poly[0], poly[2] - poly[1]), key=np.linalg.norm)
    angle = math.degrees(math.atan2(long_edge[1], long_edge[0])) % 180
    assert angle == pytest.approx(30, abs=2.0)


def test_polygon_fallback_for_small_or_empty_masks():
    fallback = [10.5, 20.0, 30.0, 40.0]
    corners = [10.5, 20.0, 40.5, 20.0, 40.5, 60.0, 10.5, 60.0]
    assert mask_polygon(np.zeros((50, 60), np.uint8), fallback) == corners
    small = np.zeros((50, 60), np.uint8)
    small[5:15, 5:16] = 1     # contour area 9 * 10 = 90 <= 100
    assert mask_polygon(small, fallback) == corners
    small[5:17, 5:17] = 1     # contour area 11 * 11 = 121 > 100
    assert mask_polygon(small, fallback) != corners


# -- builder, devices, errors ------------------------------------------------------------------

def test_build_tracker_by_type_and_device():
    cfg = load_config("siamrpn_alex_dwxcorr")
    cfg.DEVICE = "cpu"
    t = build_tracker(cfg, FakeSiamModel(base_size=0))
    assert type(t) is SiamRPNTracker and t.device == torch.device("cpu") and t.score_size == 21
    cfg.TRACK.TYPE = "SiamRPNLTTracker"
    assert type(build_tracker(cfg, FakeSiamModel(base_size=0))) is SiamRPNLTTracker
    cfg.TRACK.TYPE = "SiamMaskTracker"
    assert type(build_tracker(cfg, FakeSiamModel(base_size=0, mask=True))) is SiamMaskTracker
    plain = FakeSiamModel(base_size=0)
    plain.mask_head = plain.refine_head = None  # like a SiamRPN model (MASK.MASK off)
    with pytest.raises(TypeError, match="mask head"):
        build_tracker(cfg, plain)
    cfg.TRACK.TYPE = "Nope"
    with pytest.raises(KeyError, match="SiamRPNTracker"):
        build_tracker(cfg, FakeSiamModel())


def test_resolve_device():
    cfg = load_config(None)
    cfg.CUDA = False
    assert resolve_device(None, cfg) == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    cfg.DEVICE = "cpu"
    assert resolve_device("", cfg) == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            resolve_device("cuda")


def test_errors_are_clear():
    t = SiamRPNTracker(FakeSiamModel())
    img = np.zeros((60, 80, 3), np.uint8)
    with pytest.raises(RuntimeError, match="init"):
        t.track(img)
    with pytest.raises(ValueError, match="BGR uint8"):
        t.init(img.astype(np.float32), [1, 2, 3, 4])
    with pytest.raises(ValueError, match="w, h > 0"):
        t.init(img, [1, 2, 0, 4])
    with pytest.raises(TypeError, match="template"):
        SiamRPNTracker(object())
    # a model whose score map does not match the config
    t = SiamRPNTracker(FakeSiamModel(base_size=0))
    t.init(img, [10, 10, 20, 20])
    with pytest.raises(ValueError, match="INSTANCE_SIZE"):
        t.track(img)


def test_outputs_and_state_types():
    img = np.random.RandomState(2).randint(0, 256, (96, 128, 3)).astype(np.uint8)
    t = SiamMaskTracker(FakeSiamModel(mask=True), TrackerParams(mask_threshold=0.15))
    t.init(img, [40, 30, 20, 24])
    out = t.track(img)
    assert set(out) == {"bbox", "best_score", "best_idx", "mask", "mask_binary", "polygon"}
    assert all(type(v) is float for v in out["bbox"]) and type(out["best_score"]) is float
    assert len(out["polygon"]) == 8 and out["mask"].shape == (96, 128) and out["mask"].dtype == np.float32
    assert t.center_pos.dtype == np.float64 and t.size.dtype == np.float64
