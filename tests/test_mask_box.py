"""Rotated boxes from masks (pysiam.tracker.mask_box): a brute-force oracle for the VOT-optimised
box, the minarea / minmax rules, constraint handling, bad inputs and the box-oracle tool."""
from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from pysiam.tracker import mask_to_box
from pysiam.tracker.mask import mask_polygon
from pysiam.tracker.mask_box import box_cost, box_iou, optimize_box, rect_corners

# -- synthetic masks (seeded) -------------------------------------------------------------------


def _ellipse(size=30, a=9.0, b=4.5, angle=0.5, cx=15.3, cy=14.6):
    yy, xx = np.mgrid[0:size, 0:size]
    c, s = math.cos(angle), math.sin(angle)
    u, v = (xx - cx) * c + (yy - cy) * s, (yy - cy) * c - (xx - cx) * s
    return (u / a) ** 2 + (v / b) ** 2 <= 1


def _rotated_rect(size=30, w=16.0, h=7.0, angle=0.3):
    m = np.zeros((size, size), np.uint8)
    pts = np.array(rect_corners([size / 2, size / 2, w, h, angle])).reshape(4, 2)
    cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 1)
    return m > 0


def _l_shape(size=30):
    m = np.zeros((size, size), bool)
    m[6:24, 7:13] = True
    m[18:24, 7:24] = True
    return m


def _noisy_blob(seed, size=30):
    rng = np.random.default_rng(seed)
    m = _ellipse(size, a=rng.uniform(6, 9), b=rng.uniform(4, 6), angle=rng.uniform(-1.5, 1.5))
    flip = rng.random((size, size)) < 0.08
    ring = cv2.dilate(m.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return np.where(ring & flip, ~m, m)


def _ring(size=30):
    yy, xx = np.mgrid[0:size, 0:size]
    r2 = (xx - 15) ** 2 + (yy - 15) ** 2
    return (r2 <= 10 ** 2) & (r2 >= 7 ** 2)


SYNTHETIC = {"ellipse": _ellipse(), "rotated-rect": _rotated_rect(), "l-shape": _l_shape(),
             "blob0": _noisy_blob(0), "blob1": _noisy_blob(1),
             "thin-ellipse": _ellipse(a=10, b=2.5, angle=-0.9)}
SYNTHETIC_RING = _ring()       # no rectangle meets the constraints: the fallback


# -- the oracle: every angle (1 deg) and every side position on a 1 px grid ---------------------


def oracle(mask: np.ndarray, step_deg: float = 1.0) -> dict:
    """Exhaustive search: for each angle, sides at (extreme foreground projection - 0.5) + k;
    pixel counts from 2-D histograms of all (padded) pixel centres. Best feasible and best overall."""
    h, w = mask.shape
    pad = max(h, w) // 2
    yy, xx = np.mgrid[-pad:h + pad, -pad:w + pad]
    fg = np.pad(mask, pad).ravel()
    xx, yy = xx.ravel().astype(np.float64), yy.ravel().astype(np.float64)
    total = fg.sum()
    best = {"feasible": (math.inf, None), "any": (math.inf, None)}
    for deg in np.arange(-45.0, 45.0, step_deg):
        t = math.radians(deg)
        u, v = xx * math.cos(t) + yy * math.sin(t), yy * math.cos(t) - xx * math.sin(t)
        lu, lv = u[fg].min() - 0.5, v[fg].min() - 0.5
        nu, nv = int(math.ceil(u[fg].max() + 0.5 - lu)), int(math.ceil(v[fg].max() + 0.5 - lv))
        iu, iv = np.floor(u - lu).astype(int), np.floor(v - lv).astype(int)
        ok = (iu >= 0) & (iu < nu) & (iv >= 0) & (iv < nv)
        cums = []
        for wts in (fg[ok].astype(np.float64), None):
            hist = np.bincount(iu[ok] * nv + iv[ok], wts, nu * nv).reshape(nu, nv)
            cum = np.zeros((nu + 1, nv + 1))
            cum[1:, 1:] = hist.cumsum(0).cumsum(1)
            cums.append(cum)
        (cf, ca), (i0, i1), (j0, j1) = cums, np.triu_indices(nu + 1, 1), np.triu_indices(nv + 1, 1)
        a0, a1, b0, b1 = i0[:, None], i1[:, None], j0[None, :], j1[None, :]
        fg_in = cf[a1, b1] - cf[a0, b1] - cf[a1, b0] + cf[a0, b0]
        n_in = ca[a1, b1] - ca[a0, b1] - ca[a1, b0] + ca[a0, b0]
        out, bg, area = total - fg_in, n_in - fg_in, (a1 - a0) * (b1 - b0)
        cost = 4 * out + bg
        feasible = (out <= 0.1 * total) & (bg <= 0.4 * area)
        for key, c in (("any", cost), ("feasible", np.where(feasible, cost, np.inf))):
            k = np.unravel_index(np.argmin(c), c.shape)
            if c[k] < best[key][0]:
                um, vm = lu + (i0[k[0]] + i1[k[0]]) / 2, lv + (j0[k[1]] + j1[k[1]]) / 2
                rect = [um * math.cos(t) - vm * math.sin(t), um * math.sin(t) + vm * math.cos(t),
                        float(i1[k[0]] - i0[k[0]]), float(j1[k[1]] - j0[k[1]]), t]
                best[key] = (float(c[k]), rect_corners(rect))
    return best


def _check_against_oracle(mask: np.ndarray):
    """optimized's cost <= 1.01 x the oracle's (both counted by box_cost; the oracle's own
    counts agree but for pixel centres within 1e-3 px of an edge, which box_cost counts inside)."""
    ref = oracle(mask)
    got = box_cost(mask, mask_to_box(mask, "optimized"))
    key = "feasible" if ref["feasible"][1] is not None else "any"
    best = box_cost(mask, ref[key][1])
    assert best.cost == pytest.approx(ref[key][0], rel=0.01)
    assert best.feasible == (key == "feasible")
    if got.feasible and not best.feasible:
        return got, ref               # met the constraints off the oracle's grid: nothing to compare
    assert got.feasible == best.feasible
    assert got.cost <= 1.01 * best.cost
    return got, ref


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_optimized_matches_oracle_on_synthetic_masks(name):
    got, ref = _check_against_oracle(SYNTHETIC[name])
    assert got.fg_total == SYNTHETIC[name].sum()


def _davis_small(path, side=26):
    from pysiam.datasets.masks import read_label_png

    m = read_label_png(path) > 0
    x, y, w, h = cv2.boundingRect(m.view(np.uint8))
    s = side / max(w, h)
    crop = m[y:y + h, x:x + w].astype(np.float32)
    small = cv2.resize(crop, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA) > 0.5
    return np.pad(small, 3)


def test_optimized_matches_oracle_on_davis_masks(shared_data):
    root = shared_data / "DAVIS" / "Annotations" / "480p"
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    for seq in ("blackswan", "car-shadow", "tennis"):
        files = sorted((root / seq).glob("*.png"))
        assert files, seq
        for path in (files[0], files[-1]):
            _check_against_oracle(_davis_small(path))


# -- minarea / minmax ---------------------------------------------------------------------------


def test_minarea_is_mask_polygon():
    rng = np.random.default_rng(3)
    for name, m in SYNTHETIC.items():
        u8 = m.astype(np.uint8) * 255
        assert mask_to_box(u8, "minarea") == mask_polygon(m.astype(np.uint8), [0, 0, 1, 1], -1), name
        xywh = [2.0, 3.0, 7.5, 9.25]
        prior = [float(v) for v in np.array([[2, 3], [9.5, 3], [9.5, 12.25], [2, 12.25]]).ravel()]
        assert mask_to_box(m, "minarea", prior=prior) == mask_polygon(m.astype(np.uint8), xywh), name
    # with a prior the tracker's fallback rule holds: tiny mask -> the prior's corners
    tiny = np.zeros((40, 40), np.uint8)
    tiny[5:10, 5:10] = 1
    xywh = [3.0, 4.0, 10.0, 12.0]
    corners = [float(v) for v in np.array([[3, 4], [13, 4], [13, 16], [3, 16]]).ravel()]
    assert mask_to_box(tiny, "minarea", prior=corners) == mask_polygon(tiny, xywh) == corners
    big = (rng.random((60, 60)) < 0.02).astype(np.uint8)
    big[10:40, 20:30] = 1
    assert mask_to_box(big, "minarea", prior=corners) == mask_polygon(big, xywh)


def test_minmax_by_hand():
    m = np.zeros((20, 30), bool)
    m[4:9, 10:17] = True          # rows 4..8, cols 10..16
    m[12, 3] = True               # a lone pixel widens the box to col 3 and row 12
    assert mask_to_box(m, "minmax") == [2.5, 3.5, 16.5, 3.5, 16.5, 12.5, 2.5, 12.5]
    c = box_cost(m, mask_to_box(m, "minmax"))
    assert (c.fg_outside, c.area, c.bg_inside) == (0, 14 * 9, 14 * 9 - 36)
    assert box_iou(m, mask_to_box(m, "minmax")) == pytest.approx(36 / 126)


def test_cost_by_hand():
    m = np.zeros((10, 10), bool)
    m[2:6, 2:6] = True            # 16 px
    inner = [2.5, 2.5, 5.5, 2.5, 5.5, 5.5, 2.5, 5.5]      # covers rows / cols 3..5: 9 px
    c = box_cost(m, inner)
    assert (c.fg_outside, c.bg_inside, c.cost) == (7, 0, 28.0)
    assert c.fg_out_ratio == pytest.approx(7 / 16) and not c.feasible
    # a 45-degree diamond around the centre: centres inside counted exactly
    diamond = rect_corners([3.5, 3.5, 4 * math.sqrt(2), 4 * math.sqrt(2), math.pi / 4])
    yy, xx = np.mgrid[0:10, 0:10]
    inside = np.abs(xx - 3.5) + np.abs(yy - 3.5) <= 4 + 1e-3
    d = box_cost(m, diamond)
    assert d.fg_outside == int((m & ~inside).sum()) and d.bg_inside == int((~m & inside).sum())


def test_counts_match_a_naive_pixel_test():
    """box_cost / box_iou against a direct pixel-centre-in-rectangle test (random rectangles,
    some reaching past the image border, where box_cost counts background and box_iou does not)."""
    rng = np.random.default_rng(7)
    m = SYNTHETIC["blob0"]
    pad = 20
    yy, xx = np.mgrid[-pad:m.shape[0] + pad, -pad:m.shape[1] + pad]
    fg = np.pad(m, pad)
    in_image = np.pad(np.ones_like(m), pad)
    for _ in range(30):
        cx, cy, w, h = rng.uniform(-5, 35, 2).tolist() + rng.uniform(2, 30, 2).tolist()
        t = rng.uniform(-3, 3)
        u = (xx - cx) * math.cos(t) + (yy - cy) * math.sin(t)
        v = (yy - cy) * math.cos(t) - (xx - cx) * math.sin(t)
        inside = (np.abs(u) <= w / 2 + 1e-3) & (np.abs(v) <= h / 2 + 1e-3)
        c = box_cost(m, rect_corners([cx, cy, w, h, t]))
        assert (c.fg_outside, c.bg_inside) == (int((fg & ~inside).sum()), int((~fg & inside).sum()))
        union = (fg | (inside & in_image)).sum()
        assert box_iou(m, rect_corners([cx, cy, w, h, t])) == pytest.approx((fg & inside).sum() / union)


# -- constraints and fallback -------------------------------------------------------------------


def test_constraints_change_the_answer():
    m = np.zeros((30, 30), bool)
    m[5:25, 5:12] = True
    m[18:25, 5:25] = True          # an L: its bounding box is 42 % background
    free, fc = optimize_box(m, constrained=False)
    held, hc = optimize_box(m)
    assert not fc.feasible and fc.bg_in_ratio > 0.4
    assert hc.feasible and hc.bg_in_ratio <= 0.4 and hc.fg_out_ratio <= 0.1
    assert hc.cost > fc.cost


def test_infeasible_mask_falls_back_to_unconstrained_optimum():
    ring = SYNTHETIC_RING
    _, hc = optimize_box(ring)
    _, fc = optimize_box(ring, constrained=False)
    assert not hc.feasible and hc.cost == fc.cost
    got, ref = _check_against_oracle(ring)
    assert ref["feasible"][1] is None



def test_prior_is_a_start_and_a_fallback():
    m = SYNTHETIC["ellipse"]
    prior = mask_to_box(m, "minarea")
    assert box_cost(m, mask_to_box(m, "optimized", prior=prior)).cost <= box_cost(m, prior).cost
    empty = np.zeros((20, 20), np.uint8)
    for method in ("minarea", "minmax", "optimized"):
        assert mask_to_box(empty, method, prior=prior) == prior
        assert mask_to_box(empty, method, prior=[1, 2, 3, 4]) == [1.0, 2.0, 4.0, 2.0, 4.0, 6.0, 1.0, 6.0]


def test_deterministic():
    m = SYNTHETIC["blob1"]
    assert mask_to_box(m, "optimized") == mask_to_box(m.copy(), "optimized")


# -- bad inputs ---------------------------------------------------------------------------------


def test_bad_inputs():
    with pytest.raises(ValueError, match="empty mask"):
        mask_to_box(np.zeros((5, 5)), "optimized")
    with pytest.raises(ValueError, match="2-D"):
        mask_to_box(np.ones((4, 4, 3)), "minmax")
    with pytest.raises(ValueError, match="2-D"):
        mask_to_box(np.ones((0, 4)), "minarea")
    with pytest.raises(ValueError, match="unknown mask box method 'best'"):
        mask_to_box(np.ones((4, 4)), "best")
    with pytest.raises(ValueError, match="prior box"):
        mask_to_box(np.ones((4, 4)), "minmax", prior=[1, 2, 3])
    with pytest.raises(ValueError, match="8 finite numbers"):
        box_cost(np.ones((4, 4)), [0, 0, 1, 1])
    with pytest.raises(ValueError, match="foreground"):
        box_cost(np.zeros((4, 4)), [0, 0, 1, 0, 1, 1, 0, 1])


# -- the box-oracle tool --------------------------------------------------------------------------


def _write_davis(root, masks_by_seq):
    from pysiam.datasets.masks import write_label_png

    for seq, masks in masks_by_seq.items():
        for i, m in enumerate(masks):
            write_label_png(root / "Annotations" / "480p" / seq / f"{i:05d}.png", m.astype(np.uint8))


def test_box_oracle_tool(tmp_path, capsys):
    from pysiam.cli.box_oracle import main

    square = np.zeros((40, 50), np.uint8)
    square[10:20, 5:30] = 1                               # the min/max box is the mask itself
    two = np.zeros((40, 50), np.uint8)
    two[5:25, 10:30] = 2                                  # object 2 and a void border count as
    two[4, 10:30] = 255                                   # 'labels > 0 except 255'
    _write_davis(tmp_path, {"rect": [square, square, np.zeros_like(square)],
                            "ell": [SYNTHETIC["ellipse"], SYNTHETIC["l-shape"], _ring(40) * 1], "two": [two]})
    out = tmp_path / "oracle.json"
    assert main(["--root", str(tmp_path), "--sequences", "rect", "ell", "two", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "minarea" in table and "optimized" in table and "masks/s" in table
    res = json.loads(out.read_text())
    assert res["skipped_empty"] == 1 and res["sequences"] == ["rect", "ell", "two"]
    mm, opt = res["methods"]["minmax"], res["methods"]["optimized"]
    assert mm["masks"] == opt["masks"] == 6
    assert mm["per_sequence"]["rect"]["mean_iou"] == pytest.approx(1.0)
    assert mm["per_sequence"]["two"]["mean_iou"] == pytest.approx(1.0)
    assert mm["per_sequence"]["rect"]["mean_cost"] == 0.0
    for m in ("minarea", "minmax"):
        assert opt["mean_cost"] <= res["methods"][m]["mean_cost"]
    assert 0 < opt["mean_iou"] <= 1 and opt["masks_per_s"] > 0
    # --every, and bad input: exit code 2 with a one-line message
    assert main(["--root", str(tmp_path), "--sequences", "rect", "--every", "2", "--methods", "minmax"]) == 0
    assert main(["--root", str(tmp_path), "--sequences", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["--root", str(tmp_path / "missing")]) == 2
    assert main(["--root", str(tmp_path), "--every", "0"]) == 2


# -- the tracker option ---------------------------------------------------------------------------


def test_tracker_mask_box_option():
    from test_tracker_fake import FakeSiamModel

    from pysiam.config import load_config
    from pysiam.tracker import SiamMaskTracker, TrackerParams
    from pysiam.tracker.mask_box import MASK_BOX_METHODS
    from pysiam.tracker.params import MASK_BOX_METHODS as PARAM_METHODS

    assert tuple(MASK_BOX_METHODS) == tuple(PARAM_METHODS)
    cfg = load_config(None)
    assert cfg.TRACK.MASK_BOX == "minarea" and TrackerParams.from_config(cfg).mask_box == "minarea"
    cfg.TRACK.MASK_BOX = "optimized"
    assert TrackerParams.from_config(cfg).mask_box == "optimized"
    with pytest.raises(ValueError, match="TRACK.MASK_BOX"):
        TrackerParams(mask_box="best")
    img = np.random.RandomState(2).randint(0, 256, (96, 128, 3)).astype(np.uint8)
    polys = {}
    for method in MASK_BOX_METHODS:
        t = SiamMaskTracker(FakeSiamModel(mask=True), TrackerParams(mask_threshold=0.15, mask_box=method))
        t.init(img, [40, 30, 20, 24])
        out = t.track(img)
        binary = out["mask_binary"]
        box = [t.center_pos[0] - t.size[0] / 2, t.center_pos[1] - t.size[1] / 2, t.size[0], t.size[1]]
        assert out["polygon"] == mask_to_box(binary, method, prior=box)
        polys[method] = out["polygon"]
    if (binary > 0).sum() > 100:
        assert polys["minarea"] == mask_polygon(binary, box)
