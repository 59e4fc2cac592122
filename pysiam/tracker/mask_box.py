"""Rotated box of a binary mask: pysot's minimum-area rectangle, the min/max box, or VOT's optimised box.

    from pysiam.tracker import mask_to_box
    poly = mask_to_box(mask, method="optimized", prior=corners)   # [x1, y1, ..., x4, y4]

Pixel (row r, col c) is the point x = c, y = r; a pixel is *inside* a rectangle when its centre is
(closed rectangle, 1e-3 px tolerance). The frame is padded with background: a rectangle reaching
past the image border pays for the pixels it covers there. ``minmax`` has its corners on pixel
edges (c_min - 0.5, r_min - 0.5) ... (c_max + 0.5, r_max + 0.5), so its w * h is exactly the number
of pixels inside it.

``optimized`` fits the box the way the VOT ground truth was fitted to segmentations: minimise
``4 * (foreground outside) + 1 * (background inside)`` subject to foreground outside <= 10 % of the
foreground and background inside <= 40 % of w * h; when no rectangle met the constraints, the
unconstrained optimum. The search: a coarse global stage (per angle, project the block-averaged
foreground on the two rectangle axes; 2-D cumulative histograms give every choice of the 4 sides
at once), then an exact pattern search over (centre, sides, angle) started from the best coarse
boxes, the axis-aligned box, the minimum-area rectangle and the prior, with counts from row-wise
prefix sums of the mask. Deterministic (no random numbers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..utils.bbox import corners_of_xywh
from .mask import mask_polygon

__all__ = ["mask_to_box", "box_cost", "box_iou", "optimize_box", "BoxCost", "MASK_BOX_METHODS",
           "FG_WEIGHT", "BG_WEIGHT", "MAX_FG_OUT", "MAX_BG_IN"]

FG_WEIGHT, BG_WEIGHT = 4.0, 1.0    # cost of a foreground pixel outside / background pixel inside
MAX_FG_OUT, MAX_BG_IN = 0.10, 0.40  # constraints: fg outside / |fg|, bg inside / (w * h)
_EPS = 1e-3                         # a pixel centre this close to an edge is inside
_PENALTY = 100.0                    # constrained search: penalty per unit of ratio excess, times |fg|
_COARSE_SIDE = 48                   # the coarse stage works on blocks: <= this many per side
_COARSE_BINS = 11                   # coarse side positions per axis
_COARSE_ANGLES = np.deg2rad(np.arange(-45.0, 45.0, 5.0))
_KEEP, _KEEP_BLOCKS = 3, 1       # angles kept from the scan (pixels / blocks)
_SWEEPS = 8
_NEAR = np.deg2rad([-2.5, -2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2, 2.5])
_MIN_STEP, _MIN_STEP_REL, _MIN_TURN = 0.2, 0.0, 0.05
_L1_MIN, _L1_TURN = 0.5, 0.5


@dataclass(frozen=True)
class BoxCost:
    """Cost and constraint values of one rectangle for one mask."""

    cost: float
    fg_outside: int
    bg_inside: int
    fg_total: int
    area: float
    fg_out_ratio: float
    bg_in_ratio: float
    feasible: bool


def _binary(mask) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim != 2 or m.shape[0] == 0 or m.shape[1] == 0:
        raise ValueError(f"mask must be a non-empty 2-D H x W array, got shape {m.shape}")
    return m > 0


def _wrap(rects: np.ndarray) -> np.ndarray:
    """(K, 5) [cx, cy, w, h, theta] with theta moved into [-pi/4, pi/4) (w, h swapped per quarter turn)."""
    r = np.array(rects, dtype=np.float64).reshape(-1, 5)
    q = np.floor((r[:, 4] + math.pi / 4) / (math.pi / 2))
    r[:, 4] -= q * (math.pi / 2)
    odd = (q.astype(np.int64) % 2) == 1
    r[odd, 2], r[odd, 3] = r[odd, 3].copy(), r[odd, 2].copy()
    r[:, 2:4] = np.maximum(r[:, 2:4], 0.0)
    return r


def rect_from_polygon(polygon: Sequence[float]) -> np.ndarray:
    """[cx, cy, w, h, theta] of a rectangle given as 4 corners in order (8 values)."""
    p = np.asarray(polygon, dtype=np.float64).ravel()
    if p.size != 8 or not np.all(np.isfinite(p)):
        raise ValueError(f"a box polygon must be 8 finite numbers x1, y1, ..., x4, y4, got {list(p)}")
    p = p.reshape(4, 2)
    a, b = p[1] - p[0], p[2] - p[1]
    cx, cy = p.mean(axis=0)
    return _wrap([cx, cy, np.hypot(*a), np.hypot(*b), math.atan2(a[1], a[0])])[0]


def rect_corners(rect: Sequence[float]) -> List[float]:
    """8 corner values (clockwise in image coordinates) of [cx, cy, w, h, theta]."""
    cx, cy, w, h, t = [float(v) for v in rect]
    e1 = np.array([math.cos(t), math.sin(t)]) * (w / 2)
    e2 = np.array([-math.sin(t), math.cos(t)]) * (h / 2)
    c = np.array([cx, cy])
    return [float(v) for v in np.stack([c - e1 - e2, c + e1 - e2, c + e1 + e2, c - e1 + e2]).ravel()]


class _Counter:
    """Exact pixel counts inside many rectangles at once from row-wise prefix sums.

    ``weights`` (nr x nc, bool or float) are the pixels, or blocks of f x f pixels, of the crop at
    (r0, c0) of the frame; block (i, j) is the point (c0 + j f + (f - 1) / 2, r0 + i f + (f - 1) / 2)
    and counts f * f pixels.
    """

    def __init__(self, weights: np.ndarray, r0: int, c0: int, f: int = 1, shape=None):
        self.r0, self.c0, self.f, self.shape = r0, c0, f, shape
        self.nr, self.nc = weights.shape
        prefix = np.zeros((self.nr, self.nc + 1), np.int64 if weights.dtype == bool else np.float64)
        np.cumsum(weights, axis=1, out=prefix[:, 1:])
        self.prefix = prefix.ravel()
        self.total = prefix[:, -1].sum()

    @classmethod
    def of_mask(cls, binary: np.ndarray) -> "_Counter":
        rows, cols = np.nonzero(binary.any(axis=1))[0], np.nonzero(binary.any(axis=0))[0]
        r0, c0 = int(rows[0]), int(cols[0])
        return cls(binary[r0:rows[-1] + 1, c0:cols[-1] + 1], r0, c0, 1, binary.shape)

    def blocks(self, f: int) -> "_Counter":
        """The same crop as f x f block sums (a coarser, approximate counter)."""
        nr, nc = -(-self.nr // f), -(-self.nc // f)
        sub = np.zeros((nr * f, nc * f), np.float64)
        sub[:self.nr, :self.nc] = self.crop()
        return _Counter(sub.reshape(nr, f, nc, f).sum(axis=(1, 3)), self.r0, self.c0, f, self.shape)

    def crop(self) -> np.ndarray:
        p = self.prefix.reshape(self.nr, self.nc + 1)
        return np.diff(p, axis=1)

    def count(self, rects: np.ndarray, clip: bool = False) -> Tuple[np.ndarray, np.ndarray]:
        """(foreground inside, pixels inside) of each [cx, cy, w, h, theta] row (theta in about
        [-pi/4, pi/4]); ``clip``: count only pixels of the image (f = 1)."""
        r = np.asarray(rects, dtype=np.float64).reshape(-1, 5)
        f, off = self.f, (self.f - 1) / 2
        cx, cy = (r[:, 0:1] - self.c0 - off) / f, (r[:, 1:2] - self.r0 - off) / f
        c, s = np.cos(r[:, 4:5]), np.sin(r[:, 4:5])
        t = np.where(np.abs(s) < 1e-12, -1e-12, -s)
        hw, hh = r[:, 2:3] / (2 * f) + _EPS, r[:, 3:4] / (2 * f) + _EPS
        ext = np.abs(hw * s) + np.abs(hh * c) + 1
        y0, y1 = math.floor((cy - ext).min()), math.ceil((cy + ext).max())
        if clip:
            y0, y1 = max(y0, -self.r0), min(y1, self.shape[0] - 1 - self.r0)
        y = np.arange(y0, y1 + 1, dtype=np.float64)[None, :]
        uc, vc, ic, it = cx * c + cy * s, cy * c + cx * t, 1 / c, 1 / t
        g, h = y * (s * ic), y * (c * it)
        lo = np.maximum((uc - hw) * ic - g, np.where(t > 0, vc - hh, vc + hh) * it - h)
        hi = np.minimum((uc + hw) * ic - g, np.where(t > 0, vc + hh, vc - hh) * it - h)
        if clip:
            lo, hi = np.maximum(lo, -self.c0), np.minimum(hi, self.shape[1] - 1 - self.c0)
        lo, hi = np.ceil(lo), np.floor(hi)
        n_in = np.maximum(hi - lo + 1, 0).sum(axis=1) * (f * f)
        a, b = max(0, -y0), min(y1 - y0 + 1, self.nr - y0)
        if b <= a:
            return np.zeros(len(r)), n_in
        base = (np.arange(y0 + a, y0 + b) * (self.nc + 1))[None, :]
        cl = np.clip(lo[:, a:b], 0, self.nc).astype(np.int64)
        cr = np.maximum(np.clip(hi[:, a:b] + 1, 0, self.nc).astype(np.int64), cl)
        fg = (self.prefix[base + cr] - self.prefix[base + cl]).sum(axis=1)
        return fg, n_in

    def objective(self, rects: np.ndarray, constrained: bool) -> np.ndarray:
        fg, n_in = self.count(rects)
        out, bg = self.total - fg, n_in - fg
        cost = FG_WEIGHT * out + BG_WEIGHT * bg
        if constrained:
            area = rects[:, 2] * rects[:, 3]
            cost = cost + _PENALTY * (np.maximum(out - MAX_FG_OUT * self.total, 0)
                                      + np.maximum(bg - MAX_BG_IN * area, 0))
        return cost

def _cost_of(counter: _Counter, rect: np.ndarray) -> BoxCost:
    fg, n_in = counter.count(rect[None, :])
    fg, n_in, total = int(fg[0]), int(n_in[0]), int(counter.total)
    out, bg, area = total - fg, n_in - fg, float(rect[2] * rect[3])
    fo, bi = out / total, (bg / area if area > 0 else (0.0 if bg == 0 else math.inf))
    return BoxCost(cost=FG_WEIGHT * out + BG_WEIGHT * bg, fg_outside=out, bg_inside=bg, fg_total=total,
                   area=area, fg_out_ratio=fo, bg_in_ratio=bi,
                   feasible=bool(out <= MAX_FG_OUT * total + 1e-9 and bg <= MAX_BG_IN * area + 1e-9))


def box_cost(mask, polygon: Sequence[float]) -> BoxCost:
    """Cost (4 * fg outside + 1 * bg inside) and constraint values of a rectangle (8 corner values)."""
    binary = _binary(mask)
    if not binary.any():
        raise ValueError("box_cost needs a mask with at least one foreground pixel")
    return _cost_of(_Counter.of_mask(binary), rect_from_polygon(polygon))


def box_iou(mask, polygon: Sequence[float]) -> float:
    """IoU of the rasterised rectangle (pixels of the image whose centre is inside) with the mask."""
    binary = _binary(mask)
    if not binary.any():
        raise ValueError("box_iou needs a mask with at least one foreground pixel")
    counter = _Counter.of_mask(binary)
    fg, n_in = counter.count(rect_from_polygon(polygon)[None, :], clip=True)
    union = counter.total + n_in[0] - fg[0]
    return float(fg[0] / union) if union > 0 else 0.0


def _minmax_rect(counter: _Counter) -> np.ndarray:
    r1, c1 = counter.r0 + counter.nr - 1, counter.c0 + counter.nc - 1
    return np.array([(counter.c0 + c1) / 2, (counter.r0 + r1) / 2, counter.nc, counter.nr, 0.0])


def _scan(blocks: _Counter, angles: np.ndarray, flags: np.ndarray,
          init: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
    """For each angle and objective (``flags``: constrained or not), the 4 sides found by coordinate
    descent on the foreground blocks projected on the rectangle's axes (one block per bin, 2-D
    cumulative histograms give every position of one side at once; the area stands in for the
    pixel count), from the whole extent and from the 20-80 % core, or from ``init`` (na, 5):
    values (na,), rectangles (na, 5)."""
    f, total, na = blocks.f, float(blocks.total), len(angles)
    weights = blocks.crop()
    bi, bj = np.nonzero(weights)
    fgw = weights[bi, bj]
    ys, xs = blocks.r0 + bi * f + (f - 1) / 2, blocks.c0 + bj * f + (f - 1) / 2
    c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
    u, v = xs * c + ys * s, ys * c - xs * s
    lu, lv = u.min(axis=1) - f / 2, v.min(axis=1) - f / 2
    n = int(math.ceil(max((u.max(axis=1) - lu).max(), (v.max(axis=1) - lv).max()) / f + 0.5))
    iu = np.minimum(((u - lu[:, None]) / f).astype(np.int64), n - 1)
    iv = np.minimum(((v - lv[:, None]) / f).astype(np.int64), n - 1)
    idx = ((np.arange(na)[:, None] * n + iu) * n + iv).ravel()
    hist = np.bincount(idx, np.broadcast_to(fgw, u.shape).ravel(), na * n * n).reshape(na, n, n)
    cf = np.zeros((na, n + 1, n + 1))
    cf[:, 1:, 1:] = hist.cumsum(axis=1).cumsum(axis=2)
    starts = 1 if init is not None else 2                 # rows: the starts of each angle
    a = np.tile(np.arange(na), starts)[:, None]
    flag = np.tile(np.asarray(flags, np.float64), starts)[:, None]

    def value(i0, i1, j0, j1):                       # the area stands in for the pixel count
        fg = cf[a, i1, j1] - cf[a, i0, j1] - cf[a, i1, j0] + cf[a, i0, j0]
        area = (i1 - i0) * (j1 - j0) * (f * f)
        out, bg = total - fg, np.maximum(area - fg, 0)
        val = FG_WEIGHT * out + BG_WEIGHT * bg + flag * _violation(out, bg, total, area)
        return np.where((i1 > i0) & (j1 > j0), val, np.inf)

    side = np.zeros((starts * na, 4), np.int64)
    side[:, 1::2] = n
    if init is not None:                                   # warm start: the given boxes' sides
        um, vm = init[:, 0] * c[:, 0] + init[:, 1] * s[:, 0], init[:, 1] * c[:, 0] - init[:, 0] * s[:, 0]
        for k, (mid, half, low) in enumerate(((um, init[:, 2] / 2, lu), (vm, init[:, 3] / 2, lv))):
            side[:, 2 * k] = np.round((mid - half - low) / f)
            side[:, 2 * k + 1] = np.round((mid + half - low) / f)
    else:                                                  # the whole extent, and the 20-80 % core
        for k, marginal in ((0, cf[:, :, n]), (2, cf[:, n, :])):
            side[na:, k] = (marginal < 0.2 * total).sum(axis=1) - 1
            side[na:, k + 1] = (marginal < 0.8 * total).sum(axis=1) + 1
    side = np.clip(side, 0, n)
    pos = np.arange(n + 1)[None, :]
    for _ in range(_SWEEPS):
        before = side.copy()
        for k in range(4):
            args = [side[:, j:j + 1] for j in range(4)]
            args[k] = pos
            side[:, k] = value(*args).argmin(axis=1)
        if (side == before).all():
            break
    vals = value(*[side[:, j:j + 1] for j in range(4)])[:, 0].reshape(starts, na)
    pick = vals.argmin(axis=0)                                            # the better start
    vals, side = vals[pick, np.arange(na)], side.reshape(starts, na, 4)[pick, np.arange(na)]
    um, vm = lu + (side[:, 0] + side[:, 1]) * f / 2, lv + (side[:, 2] + side[:, 3]) * f / 2
    rects = np.stack([um * c[:, 0] - vm * s[:, 0], um * s[:, 0] + vm * c[:, 0],
                      (side[:, 1] - side[:, 0]) * f, (side[:, 3] - side[:, 2]) * f, angles], axis=1)
    return vals, rects


def _best_angles(blocks: _Counter, angles: np.ndarray, keep: int) -> np.ndarray:
    """(2, keep, 5): for each objective (constrained, then not) the rectangles of :func:`_scan`
    at the ``keep`` best of ``angles``, each then at the best angle within +-2.5 deg (0.5 deg steps)."""
    na = len(angles)
    vals, rects = _scan(blocks, np.tile(angles, 2), np.repeat([True, False], na))
    vals, rects = vals.reshape(2, na), rects.reshape(2, na, 5)
    order = np.argsort(vals, axis=1, kind="stable")[:, :keep]
    best = np.take_along_axis(vals, order, 1)
    rect = np.take_along_axis(rects, order[:, :, None], 1)
    near = rect[..., 4:5] + _NEAR                                        # (2, keep, 10)
    tv, tr = _scan(blocks, near.ravel(), np.repeat([True, False], near[0].size),
                   np.repeat(rect.reshape(-1, 5), len(_NEAR), axis=0))
    tv, tr = tv.reshape(near.shape), tr.reshape(near.shape + (5,))
    j = tv.argmin(axis=2)
    o, k = np.indices(j.shape)
    better = tv[o, k, j] < best - 1e-9
    rect[better] = tr[o, k, j][better]
    return rect


# moves in units of the side step (centre along e1 / e2, w, h) and the turn step (theta): each
# side out and in, a shift along each axis, a turn either way; then (constrained search) one
# side of each axis out while one of the other axis comes in
_SIDE = np.array([[-.5, 0, 1, 0, 0], [.5, 0, -1, 0, 0], [.5, 0, 1, 0, 0], [-.5, 0, -1, 0, 0],
                  [0, -.5, 0, 1, 0], [0, .5, 0, -1, 0], [0, .5, 0, 1, 0], [0, -.5, 0, -1, 0]])
_MOVES = np.concatenate([_SIDE[:4], [[1, 0, 0, 0, 0], [-1, 0, 0, 0, 0]], _SIDE[4:],
                         [[0, 1, 0, 0, 0], [0, -1, 0, 0, 0], [0, 0, 0, 0, -1], [0, 0, 0, 0, 1]],
                         [_SIDE[a] + _SIDE[b] for a in (0, 2) for b in (5, 7)],
                         [_SIDE[a] + _SIDE[b] for a in (4, 6) for b in (1, 3)]]).T
_GROUPS = np.array([[0, 1], [2, 3], [6, 7], [8, 9], [12, 13]])  # the moves of one side / the turn


def _moves(state: np.ndarray, ds: np.ndarray, da: np.ndarray, count: int) -> np.ndarray:
    """(S, count, 5): the first ``count`` neighbours of each [cx, cy, w, h, theta] row."""
    c, s = np.cos(state[:, 4:5]), np.sin(state[:, 4:5])
    mv = _MOVES[:, :count]
    a1, a2 = ds[:, None] * mv[0], ds[:, None] * mv[1]
    out = np.empty((len(state), count, 5))
    out[:, :, 0] = state[:, 0:1] + a1 * c - a2 * s
    out[:, :, 1] = state[:, 1:2] + a1 * s + a2 * c
    out[:, :, 2] = state[:, 2:3] + ds[:, None] * mv[2]
    out[:, :, 3] = state[:, 3:4] + ds[:, None] * mv[3]
    out[:, :, 4] = state[:, 4:5] + da[:, None] * mv[4]
    return out


def _refine(counter: _Counter, seeds: np.ndarray, constrained: bool, step: float, turn: float,
            min_step: float, min_turn: float) -> Tuple[np.ndarray, float]:
    """Pattern search from every seed at once: the best of the moves (14, or 22 when constrained)
    or of the sum of the improving side / turn moves; a seed's steps halve when nothing improves.
    The best final rectangle and its objective value."""
    moves = _MOVES.shape[1] if constrained else 14
    state = _wrap(seeds)
    best = _objective(counter, state, constrained)
    ds, da = np.full(len(state), float(step)), np.full(len(state), float(turn))
    active = np.ones(len(state), bool)
    while active.any():
        idx = np.nonzero(active)[0]
        n = len(idx)
        cur, ar = state[idx], np.arange(n)
        cand = _moves(cur, ds[idx], da[idx], moves)
        obj = _objective(counter, cand.reshape(-1, 5), constrained).reshape(n, moves)
        pair = obj[:, _GROUPS]                                           # (n, 5 groups, 2)
        pick = _GROUPS[None, :, 0] + pair.argmin(axis=2)
        gain = (best[idx, None] - pair.min(axis=2)) > 1e-9
        k = obj.argmin(axis=1)
        val, new = obj[ar, k], cand[ar, k]
        multi = np.nonzero(gain.sum(axis=1) > 1)[0]
        if len(multi):
            step_sum = ((cand[multi[:, None], pick[multi]] - cur[multi, None]) * gain[multi, :, None]).sum(axis=1)
            cval = _objective(counter, cur[multi] + step_sum, constrained)
            use = cval < val[multi]
            new[multi[use]], val[multi[use]] = cur[multi[use]] + step_sum[use], cval[use]
        better = val < best[idx] - 1e-9
        state[idx[better]] = _wrap(new[better])
        best[idx[better]] = val[better]
        still = idx[~better]
        ds[still] *= 0.5
        da[still] *= 0.5
        active[still] = (ds[still] >= min_step) | (da[still] >= min_turn)
    k = int(np.argmin(best))
    return state[k], float(best[k])


def _objective(counter: _Counter, rects: np.ndarray, constrained: bool) -> np.ndarray:
    """Cost, plus (``constrained``) a steep penalty per pixel of constraint violation."""
    fg, n_in = counter.count(rects)
    out, bg = counter.total - fg, n_in - fg
    cost = FG_WEIGHT * out + BG_WEIGHT * bg
    if constrained:
        cost += _violation(out, bg, counter.total, rects[:, 2] * rects[:, 3])
    return cost


def _violation(out, bg, total: float, area):
    """Penalty of the constrained search: the constraint ratios' excess, times 100 * |fg|."""
    return (_PENALTY * total) * (np.maximum(out / total - MAX_FG_OUT, 0)
                                 + np.maximum(bg / np.maximum(area, 1e-9) - MAX_BG_IN, 0))


def optimize_box(mask, prior: Optional[Sequence[float]] = None, constrained: bool = True,
                 minarea: Optional[Sequence[float]] = None) -> Tuple[List[float], BoxCost]:
    """VOT's optimised rectangle of a non-empty mask (8 corner values) and its :class:`BoxCost`.

    ``constrained=False`` minimises the cost alone; with the constraints on, a mask where none
    was met gets the unconstrained optimum (its ``BoxCost.feasible`` is False). ``minarea``: the
    minimum-area rectangle when already at hand.
    """
    binary = _binary(mask)
    if not binary.any():
        raise ValueError("optimize_box needs a mask with at least one foreground pixel")
    counter = _Counter.of_mask(binary)
    if minarea is None:
        minarea = mask_polygon(binary.view(np.uint8), [0, 0, 0, 0], -1)
    start = [_minmax_rect(counter), rect_from_polygon(minarea)]
    if prior is not None:
        start.append(rect_from_polygon(_prior_corners(prior)))
    start = list(_wrap(np.stack(start)))
    f = max(1, math.ceil(max(counter.nr, counter.nc) / _COARSE_SIDE))
    blocks = counter.blocks(f) if f > 1 else counter
    scanned = _best_angles(blocks, np.concatenate([_COARSE_ANGLES, [r[4] for r in start[1:]]]),
                           _KEEP if f == 1 else _KEEP_BLOCKS)
    fine = max(_MIN_STEP, _MIN_STEP_REL * max(counter.nr, counter.nc))
    rect, cost = None, None
    for o, flag in enumerate((True, False)):
        if flag and not constrained:
            continue
        if flag and f > 1 and _objective(blocks, scanned[0, :1], True)[0] > _objective(blocks, scanned[0, :1], False)[0]:
            continue                                 # infeasible on the blocks: the fallback
        seeds = np.concatenate([scanned[o], np.stack(start)])
        vals = _objective(counter, seeds, flag)
        keep = np.arange(len(seeds)) < len(scanned[o])
        seeds = seeds[keep | (vals <= vals[keep].min())]     # the scan's boxes, and starts that beat them
        rect = _refine(counter, seeds, flag, max(0.5 * f, 1.0), math.radians(0.3), fine,
                       math.radians(_MIN_TURN))[0]
        cost = _cost_of(counter, rect)
        if cost.feasible:
            break
    return rect_corners(rect), cost


def _prior_corners(prior: Sequence[float]) -> List[float]:
    p = [float(v) for v in np.asarray(prior, dtype=np.float64).ravel()]
    if len(p) == 4:
        p = [float(v) for v in corners_of_xywh(p).ravel()]
    if len(p) != 8 or not all(math.isfinite(v) for v in p):
        raise ValueError(f"prior box must be 8 corner values (or x, y, w, h), got {prior!r}")
    return p


def _minmax(binary: np.ndarray, prior, minarea) -> List[float]:
    return rect_corners(_minmax_rect(_Counter.of_mask(binary)))


def _optimized(binary: np.ndarray, prior, minarea) -> List[float]:
    return optimize_box(binary, prior, minarea=minarea)[0]


MASK_BOX_METHODS = {"minarea": None, "minmax": _minmax, "optimized": _optimized}


def mask_to_box(mask, method: str = "minarea", prior: Optional[Sequence[float]] = None,
                min_area: float = 100.0) -> List[float]:
    """Rotated box (8 values x1, y1, ..., x4, y4) of the pixels ``mask > 0``.

    ``method``: 'minarea' (pysot: :func:`~pysiam.tracker.mask.mask_polygon`, the minimum-area
    rectangle of the largest contour), 'minmax' (axis-aligned, corners on pixel edges) or
    'optimized' (VOT's fit, see the module docstring). With a ``prior`` (8 corner values or
    x, y, w, h), a mask whose largest contour has an area <= ``min_area`` (pysot: 100) gives the
    prior's corners; without one, every non-empty mask gets a box and an empty one is an error.
    """
    if method not in MASK_BOX_METHODS:
        raise ValueError(f"unknown mask box method {method!r}; choose one of {', '.join(MASK_BOX_METHODS)}")
    binary = _binary(mask)
    corners = None if prior is None else _prior_corners(prior)
    if not binary.any():
        if corners is None:
            raise ValueError("empty mask (no pixel > 0) and no prior box to fall back to")
        return corners
    poly = mask_polygon(binary.view(np.uint8), [math.nan] * 4, min_area if corners is not None else -1)
    if math.isnan(poly[0]):
        return corners
    return poly if method == "minarea" else MASK_BOX_METHODS[method](binary, corners, poly)
