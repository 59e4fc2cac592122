"""The search behind ``mask_to_box(method="optimized")`` (see :mod:`pysiam.tracker.mask_box`).

Rectangles are rows [cx, cy, w, h, theta] (theta in [-pi/4, pi/4), w along (cos, sin)). Stages:
:func:`scan_angles` scans angles on f x f block sums of the mask (per angle, coordinate descent
over the 4 sides with 2-D cumulative histograms of the projected blocks), then :func:`refine`
polishes with a pattern search on exact pixel counts (:class:`PixelCounter`: row-wise prefix sums).
"""
from __future__ import annotations

import math
from typing import List, Tuple

import cv2
import numpy as np

__all__ = ["FG_WEIGHT", "BG_WEIGHT", "MAX_FG_OUT", "MAX_BG_IN", "PixelCounter", "wrap_rects", "fit_rect",
           "is_feasible"]

FG_WEIGHT, BG_WEIGHT = 4.0, 1.0    # cost of a foreground pixel outside / background pixel inside
MAX_FG_OUT, MAX_BG_IN = 0.10, 0.40  # constraints: fg outside / |fg|, bg inside / (w * h)
_EPS = 1e-3                         # a pixel centre this close to an edge is inside
_PENALTY = 100.0                    # constrained search: penalty per unit of ratio excess, times |fg|
_BLOCK_SIDE = 48                    # the scan works on blocks: at most this many along a side
_ANGLES = np.deg2rad(np.arange(-45.0, 45.0, 7.5))   # the scan's angles
_KEEP, _KEEP_BLOCKS = 3, 1          # scanned boxes (best angles) the pixel search starts from (f = 1 / f > 1)
_SWEEPS = 4                         # coordinate-descent sweeps at most
_MIN_STEP, _MIN_TURN = 0.2, math.radians(0.05)    # the pixel search stops below these steps
_MIN_STEP_BLOCKS, _MIN_TURN_BLOCKS = 0.5, math.radians(0.1)    # ... after a scan on blocks
_START, _TURN = 0.5, math.radians(1.5)   # its first side step (in blocks) and turn
_CLEARLY_INFEASIBLE = 0.02          # constraint-ratio excess of the best scanned box: no pixel search


def wrap_rects(rects: np.ndarray) -> np.ndarray:
    """(K, 5) [cx, cy, w, h, theta] with theta moved into [-pi/4, pi/4) (w, h swapped per quarter turn)."""
    r = np.array(rects, dtype=np.float64).reshape(-1, 5)
    q = np.floor((r[:, 4] + math.pi / 4) / (math.pi / 2))
    r[:, 4] -= q * (math.pi / 2)
    odd = (q.astype(np.int64) % 2) == 1
    r[odd, 2], r[odd, 3] = r[odd, 3].copy(), r[odd, 2].copy()
    r[:, 2:4] = np.maximum(r[:, 2:4], 0.0)
    return r


class PixelCounter:
    """Exact pixel counts inside many rectangles at once from row-wise prefix sums.

    ``weights`` (nr x nc, bool or float) are the pixels, or blocks of f x f pixels, of the crop at
    (r0, c0) of the frame; block (i, j) is the point (c0 + j f + (f - 1) / 2, r0 + i f + (f - 1) / 2)
    and counts f * f pixels.
    """

    def __init__(self, weights: np.ndarray, r0: int, c0: int, f: int = 1, shape=None):
        self.r0, self.c0, self.f, self.shape, self.weights = r0, c0, f, shape, weights
        self.nr, self.nc = weights.shape
        if weights.dtype == bool:
            prefix = np.zeros((self.nr, self.nc + 1), np.int32)
            np.cumsum(weights.view(np.uint8), axis=1, dtype=np.int32, out=prefix[:, 1:])
        else:
            prefix = np.zeros((self.nr, self.nc + 1), np.float64)
            np.cumsum(weights, axis=1, out=prefix[:, 1:])
        self.prefix = prefix.ravel()
        self.total = prefix[:, -1].sum()

    @classmethod
    def of_mask(cls, binary: np.ndarray) -> "PixelCounter":
        c0, r0, w, h = cv2.boundingRect(binary.view(np.uint8))
        return cls(binary[r0:r0 + h, c0:c0 + w], r0, c0, 1, binary.shape)

    def blocks(self, f: int) -> "PixelCounter":
        """The same crop as f x f block sums (a coarser, approximate counter)."""
        nr, nc = -(-self.nr // f), -(-self.nc // f)
        sub = np.zeros((nr * f, nc * f), np.float32)
        sub[:self.nr, :self.nc] = self.weights
        sums = cv2.resize(sub, (nc, nr), interpolation=cv2.INTER_AREA).astype(np.float64) * (f * f)
        return PixelCounter(np.round(sums), self.r0, self.c0, f, self.shape)

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
        lo, hi = np.ceil(lo), np.floor(hi) + 1                  # columns lo <= x < hi
        n_in = np.maximum(hi - lo, 0).sum(axis=1) * (f * f)
        a, b = max(0, -y0), min(y1 - y0 + 1, self.nr - y0)
        if b <= a:
            return np.zeros(len(r)), n_in
        base = np.arange(y0 + a, y0 + b, dtype=np.intp) * (self.nc + 1)
        cl = np.minimum(np.maximum(lo[:, a:b], 0), self.nc).astype(np.intp)
        cr = np.minimum(np.maximum(hi[:, a:b], cl), self.nc).astype(np.intp)
        cl += base
        cr += base
        fg = (self.prefix.take(cr) - self.prefix.take(cl)).sum(axis=1)
        return fg, n_in


def projections(blocks: PixelCounter, angles: np.ndarray):
    """2-D cumulative histograms (na, n + 1, n + 1) of the foreground blocks projected on the axes
    of each angle (bins of one block from (lu, lv), the lowest projections less half a block),
    with cos, sin (na, 1), lu, lv (na,) and n."""
    f, na = blocks.f, len(angles)
    bi, bj = np.nonzero(blocks.weights)
    fgw = blocks.weights[bi, bj]
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
    return cf, c, s, lu, lv, n


def scan_angles(blocks: PixelCounter, angles: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """For each objective (constrained, then not) and angle, the 4 sides found by coordinate
    descent on the :func:`projections` (every position of one side at once; the area stands in
    for the pixel count), the better of two starts: the whole extent and the 20-80 % core.
    Values (2, na), rectangles (2, na, 5)."""
    f, total, na = blocks.f, float(blocks.total), len(angles)
    cf, c, s, lu, lv, n = projections(blocks, angles)
    # rows: (constrained, unconstrained) x (whole extent, core) x angles; the constrained rows
    # lead, so the penalty is computed for a leading slice of the (ascending) rows swept only
    a = np.tile(np.arange(na), 4)[:, None]
    n_con = 2 * na

    def value(r, i0, i1, j0, j1):
        ar = a[r]
        fg = cf[ar, i1, j1] - cf[ar, i0, j1] - cf[ar, i1, j0] + cf[ar, i0, j0]
        area = (i1 - i0) * (j1 - j0) * (f * f)
        out, bg = total - fg, np.maximum(area - fg, 0)
        val = FG_WEIGHT * out + BG_WEIGHT * bg
        m = int(np.searchsorted(r, n_con))
        if m:
            val[:m] += violation(out[:m], bg[:m], total, area[:m])
        return np.where((i1 > i0) & (j1 > j0), val, np.inf)

    side = np.zeros((4, na, 4), np.int64)
    side[..., 1::2] = n
    for k, marginal in ((0, cf[:, :, n]), (2, cf[:, n, :])):
        side[1::2, :, k] = (marginal < 0.2 * total).sum(axis=1) - 1
        side[1::2, :, k + 1] = (marginal < 0.8 * total).sum(axis=1) + 1
    side = _descend(value, np.clip(side, 0, n).reshape(-1, 4), n)
    vals = value(np.arange(len(side)), *[side[:, j:j + 1] for j in range(4)])[:, 0].reshape(2, 2, na)
    pick = vals.argmin(axis=1)                                          # the better start (2, na)
    o, k = np.indices(pick.shape)
    vals, side = vals[o, pick, k], side.reshape(2, 2, na, 4)[o, pick, k]
    um, vm = lu + (side[..., 0] + side[..., 1]) * f / 2, lv + (side[..., 2] + side[..., 3]) * f / 2
    rects = np.stack([um * c[:, 0] - vm * s[:, 0], um * s[:, 0] + vm * c[:, 0],
                      (side[..., 1] - side[..., 0]) * f, (side[..., 3] - side[..., 2]) * f,
                      np.broadcast_to(angles, um.shape)], axis=-1)
    return vals, rects


def _descend(value, side: np.ndarray, n: int) -> np.ndarray:
    """Coordinate descent: each side in turn to its best position, sweeping the rows that still move."""
    pos, rows = np.arange(n + 1)[None, :], np.arange(len(side))
    for _ in range(_SWEEPS):
        before = side[rows]
        for k in range(4):
            args = [side[rows, j:j + 1] for j in range(4)]
            args[k] = pos
            side[rows, k] = value(rows, *args).argmin(axis=1)
        rows = rows[(side[rows] != before).any(axis=1)]
        if not len(rows):
            break
    return side


# moves in units of the side step (centre along e1 / e2, w, h) and the turn step (theta): each
# side out and in, a shift along each axis, a turn either way; then (``trade``) one side of
# each axis out while one of the other axis comes in
_SIDE = np.array([[-.5, 0, 1, 0, 0], [.5, 0, -1, 0, 0], [.5, 0, 1, 0, 0], [-.5, 0, -1, 0, 0],
                  [0, -.5, 0, 1, 0], [0, .5, 0, -1, 0], [0, .5, 0, 1, 0], [0, -.5, 0, -1, 0]])
_MOVES = np.concatenate([_SIDE[:4], [[1, 0, 0, 0, 0], [-1, 0, 0, 0, 0]], _SIDE[4:],
                         [[0, 1, 0, 0, 0], [0, -1, 0, 0, 0], [0, 0, 0, 0, -1], [0, 0, 0, 0, 1]],
                         [_SIDE[a] + _SIDE[b] for a in (0, 2) for b in (5, 7)],
                         [_SIDE[a] + _SIDE[b] for a in (4, 6) for b in (1, 3)]]).T
_GROUPS = np.array([[0, 1], [2, 3], [6, 7], [8, 9], [12, 13]])  # the moves of one side / the turn


def moves(state: np.ndarray, ds: np.ndarray, da: np.ndarray, count: int) -> np.ndarray:
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


def refine(counter: PixelCounter, seeds: np.ndarray, constrained: bool, step: float, turn: float,
            min_step: float, min_turn: float, trade: bool = False) -> Tuple[np.ndarray, float]:
    """Pattern search from every seed at once: the best of the moves (14, or 22 with ``trade``)
    or of the sum of the improving side / turn moves; a seed's steps halve when nothing improves.
    The best final rectangle and its objective value."""
    n_moves = _MOVES.shape[1] if trade else 14
    state = wrap_rects(seeds)
    best = objective(counter, state, constrained)
    ds, da = np.full(len(state), float(step)), np.full(len(state), float(turn))
    active = np.ones(len(state), bool)
    while active.any():
        idx = np.nonzero(active)[0]
        n = len(idx)
        cur, ar = state[idx], np.arange(n)
        cand = moves(cur, ds[idx], da[idx], n_moves)
        obj = objective(counter, cand.reshape(-1, 5), constrained).reshape(n, n_moves)
        pair = obj[:, _GROUPS]                                           # (n, 5 groups, 2)
        pick = _GROUPS[None, :, 0] + pair.argmin(axis=2)
        gain = (best[idx, None] - pair.min(axis=2)) > 1e-9
        k = obj.argmin(axis=1)
        val, new = obj[ar, k], cand[ar, k]
        multi = np.nonzero(gain.sum(axis=1) > 1)[0]
        if len(multi):
            chosen = cand[multi[:, None], pick[multi]] - cur[multi, None]    # (m, 5 groups, 5)
            step_sum = (chosen * gain[multi, :, None]).sum(axis=1)
            cval = objective(counter, cur[multi] + step_sum, constrained)
            use = cval < val[multi]
            new[multi[use]], val[multi[use]] = cur[multi[use]] + step_sum[use], cval[use]
        better = val < best[idx] - 1e-9
        state[idx[better]] = wrap_rects(new[better])
        best[idx[better]] = val[better]
        still = idx[~better]
        ds[still] *= 0.5
        da[still] *= 0.5
        active[still] = (ds[still] >= min_step) | (da[still] >= min_turn)
    k = int(np.argmin(best))
    return state[k], float(best[k])


def objective(counter: PixelCounter, rects: np.ndarray, constrained: bool) -> np.ndarray:
    """Cost, plus (``constrained``) a steep penalty for violating the constraints."""
    fg, n_in = counter.count(rects)
    out, bg = counter.total - fg, n_in - fg
    cost = FG_WEIGHT * out + BG_WEIGHT * bg
    if constrained:
        cost += violation(out, bg, counter.total, rects[:, 2] * rects[:, 3])
    return cost


def violation(out, bg, total: float, area):
    """Penalty of the constrained search: the constraint ratios' excess, times 100 * |fg|."""
    return (_PENALTY * total) * (np.maximum(out / total - MAX_FG_OUT, 0)
                                 + np.maximum(bg / np.maximum(area, 1e-9) - MAX_BG_IN, 0))


def is_feasible(counter: "PixelCounter", rect: np.ndarray) -> bool:
    """Whether ``rect`` meets the VOT constraints (exact pixel counts)."""
    fg, n_in = counter.count(rect[None, :])
    out, bg = counter.total - fg[0], n_in[0] - fg[0]
    return bool(out <= MAX_FG_OUT * counter.total + 1e-9 and bg <= MAX_BG_IN * rect[2] * rect[3] + 1e-9)


def _near_limits(counter: PixelCounter, rect: np.ndarray, margin: float = 0.02) -> bool:
    """Whether a constraint is active at ``rect`` (a ratio within ``margin`` of its limit)."""
    fg, n_in = counter.count(rect[None, :])
    out, bg = counter.total - fg[0], n_in[0] - fg[0]
    return bool(out > (MAX_FG_OUT - margin) * counter.total
                or bg > (MAX_BG_IN - margin) * rect[2] * rect[3])


def _excess(counter: PixelCounter, rect: np.ndarray) -> float:
    """Sum of the constraint ratios' excess at ``rect`` (0 when feasible)."""
    both = objective(counter, rect[None, :], True)[0] - objective(counter, rect[None, :], False)[0]
    return float(both / (_PENALTY * counter.total))


def fit_rect(counter: "PixelCounter", starts: List[np.ndarray], constrained: bool = True) -> np.ndarray:
    """The optimised rectangle: the constrained optimum, or (none met the constraints, or
    ``constrained`` off) the unconstrained one. ``starts``: extra start rectangles."""
    f = max(1, math.ceil(max(counter.nr, counter.nc) / _BLOCK_SIDE))
    blocks = counter.blocks(f) if f > 1 else counter
    start = wrap_rects(np.stack(starts))
    vals, rects = scan_angles(blocks, np.concatenate([_ANGLES, start[1:, 4]]))
    rect = None
    for o, flag in enumerate((True, False)):
        if flag and not constrained:
            continue
        scanned = rects[o][np.argsort(vals[o], kind="stable")[:_KEEP if f == 1 else _KEEP_BLOCKS]]
        if flag and f > 1 and _excess(blocks, scanned[0]) > _CLEARLY_INFEASIBLE:
            continue                                 # far from feasible on the blocks: the fallback
        seeds = np.concatenate([scanned, start])
        value = objective(counter, seeds, flag)
        mine = np.arange(len(seeds)) < len(scanned)
        seeds = seeds[mine | (value <= value[mine].min())]   # the scan's boxes, and starts that beat them
        stop = (_MIN_STEP, _MIN_TURN) if f == 1 else (_MIN_STEP_BLOCKS, _MIN_TURN_BLOCKS)
        rect = refine(counter, seeds, flag, max(_START * f, 1.0), _TURN, *stop)[0]
        if flag and (f == 1 or _near_limits(counter, rect)):   # trade one side for another
            rect = refine(counter, rect[None], flag, 1.0, math.radians(0.3), *stop, trade=True)[0]
        if not flag or is_feasible(counter, rect):
            break
    return rect
