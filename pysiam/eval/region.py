"""Region overlap of VOT boxes and polygons, rasterised on the pixel grid (vectorised NumPy).

Semantics follow the VOT toolkit's region code as pysot uses it (non-legacy rasterisation):

* a rectangle x,y,w,h is the polygon (x,y), (x+w,y), (x+w,y+h), (x,y+h); coordinates are
  single-precision floats;
* each polygon's bounding box is widened to whole pixels (floor / ceil) and cut by the bounds
  [0, W] x [0, H]; the two cut boxes span the raster window (both ends inclusive);
* the overlap is 0 without rasterising when either cut box has (almost) no area relative to the
  other, the window is empty, or the two cut boxes only touch / do not overlap;
* otherwise vertices are rounded (half away from zero) and each raster row collects the x where
  non-horizontal edges reach the row (truncated toward zero); the sorted crossings are paired,
  a repeated crossing (a vertex on the row) drops its first copy, and each pair fills pixels
  first..last inclusive, clipped to the window;
* overlap = |A and B| / |A or B| in pixels (single precision; NaN when both are empty).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["region_overlaps", "rect_to_polygon", "pixel_extent", "MAX_ROWS_PER_CHUNK"]

MAX_ROWS_PER_CHUNK = 1_000_000


def rect_to_polygon(rects: np.ndarray) -> np.ndarray:
    """N x 4 (x, y, w, h) -> N x 8 corner polygons, computed in double precision."""
    x, y, w, h = (rects[:, i] for i in range(4))
    return np.stack([x, y, x + w, y, x + w, y + h, x, y + h], axis=1)


def _as_vertices(regions: np.ndarray) -> np.ndarray:
    """N x D regions (D = 4 rectangles, else polygons) -> N x K x 2 float32 vertices."""
    regions = np.asarray(regions, dtype=np.float64)
    if regions.ndim != 2 or (regions.shape[1] != 4 and (regions.shape[1] < 6 or regions.shape[1] % 2)):
        raise ValueError(f"regions must be N x 4 boxes or N x 2k polygons (k >= 3), got {regions.shape}")
    if regions.shape[1] == 4:
        regions = rect_to_polygon(regions)
    return regions.astype(np.float32).reshape(len(regions), -1, 2)


def pixel_extent(regions: np.ndarray) -> np.ndarray:
    """N x 2 (ceil of the largest x, ceil of the largest y) of each region, as the raster sees it.

    Two pairs of regions whose extents stay within both of two bounds have the same overlap
    under either bound, which lets accuracy reuse the EAO overlaps.
    """
    return np.ceil(_as_vertices(regions).max(axis=1)).astype(np.float64)


def _c_round(v: np.ndarray) -> np.ndarray:
    """C's round(): half away from zero (float32 in, float64 out)."""
    v = v.astype(np.float64)
    return np.where(v >= 0, np.floor(v + 0.5), -np.floor(-v + 0.5))


def _pixel_bounds(verts: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """[left, top, right, bottom] of the whole-pixel bounding box, cut by `limit` (same layout)."""
    lo = np.floor(verts.min(axis=1))
    hi = np.ceil(verts.max(axis=1))
    b = np.stack([lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]], axis=1).astype(np.float32)
    b[:, :2] = np.maximum(b[:, :2], limit[:, :2])
    b[:, 2:] = np.minimum(b[:, 2:], limit[:, 2:])
    return b


def _area(b: np.ndarray) -> np.ndarray:
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])          # float32 like the C code


def _pair_crossings(nodes: np.ndarray, count: np.ndarray, w: np.ndarray, slots: int):
    """The C fill loop over sorted crossings, for rows with more than two crossings."""
    n, k = nodes.shape
    rows = np.arange(n)
    starts = np.zeros((n, slots))
    ends = np.zeros((n, slots))
    n_out = np.zeros(n, np.int64)
    pos = np.zeros(n, np.int64)
    live = count >= 2
    for _ in range(k):
        live &= pos < count - 1
        if not live.any():
            break
        a = nodes[rows, np.minimum(pos, k - 1)]
        b = nodes[rows, np.minimum(pos + 1, k - 1)]
        same = live & (a == b)           # a vertex on the row: drop the first copy
        stop = live & ~same & (a >= w)
        fill = live & ~same & ~stop & (b >= 0)
        r = rows[fill]
        starts[r, n_out[r]] = np.maximum(a[fill], 0)
        ends[r, n_out[r]] = np.minimum(b[fill], w[fill] - 1) + 1
        n_out[r] += 1
        pos += np.where(same, 1, np.where(live & ~stop, 2, 0))
        live &= ~stop
    return starts, ends


def _row_spans(verts: np.ndarray, frame: np.ndarray, y: np.ndarray, width: np.ndarray):
    """Filled pixel spans of each raster row as half-open, disjoint [start, end) slots."""
    k = verts.shape[1]
    rx, ry = _c_round(verts[..., 0]), _c_round(verts[..., 1])
    yf = y.astype(np.float64)
    nodes = np.empty((k, len(y)))               # crossings, one contiguous row per edge
    count = np.zeros(len(y), np.int64)
    for i in range(k):
        j = i - 1 if i else k - 1
        xi, yi = rx[:, i], ry[:, i]
        dx, dy = rx[:, j] - xi, ry[:, j] - yi
        y_lo = np.where(dy != 0, np.minimum(yi, ry[:, j]), np.inf)   # horizontal edges: none
        y_hi = np.maximum(yi, ry[:, j])
        hit = (y_lo[frame] <= yf) & (yf <= y_hi[frame])
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.trunc(xi[frame] + (yf - yi[frame]) / dy[frame] * dx[frame])
        nodes[i] = np.where(hit, x, np.inf)
        count += hit
    w = width[frame]
    slots = k // 2
    starts = np.zeros((slots, len(y)))
    ends = np.zeros((slots, len(y)))
    # two crossings (almost every row): one span unless they coincide or miss the window
    lo = np.minimum.reduce(nodes)
    hi = np.maximum.reduce(np.where(np.isfinite(nodes), nodes, -np.inf))
    two = (count == 2) & (lo != hi) & (lo < w) & (hi >= 0)
    starts[0] = np.where(two, np.maximum(lo, 0), 0)
    ends[0] = np.where(two, np.minimum(hi, w - 1) + 1, 0)
    more = np.flatnonzero(count > 2)
    if len(more):
        sub = np.sort(nodes[:, more].T, axis=1)
        s_more, e_more = _pair_crossings(sub, count[more], w[more], slots)
        # consecutive spans of one row can share their end pixel: make them disjoint
        for s in range(1, slots):
            s_more[:, s] = np.maximum(s_more[:, s], e_more[:, s - 1])
        e_more = np.maximum(e_more, s_more)
        starts[:, more], ends[:, more] = s_more.T, e_more.T
    return starts, ends


def _rasterised(p1, p2, box1, box2, window_w, window_h) -> np.ndarray:
    """Pixel IoU of polygon pairs (already known to need rasterising)."""
    n = len(p1)
    out = np.empty(n, np.float64)
    origin = np.minimum(box1[:, :2], box2[:, :2])               # x0, y0 (float32)
    q1 = p1 + (-origin)[:, None, :]
    q2 = p2 + (-origin)[:, None, :]
    heights = window_h.astype(np.int64)
    order_start = 0
    while order_start < n:
        # a chunk of frames whose rows fit the row budget
        cum = np.cumsum(heights[order_start:])
        stop = order_start + max(1, int(np.searchsorted(cum, MAX_ROWS_PER_CHUNK, side="right")))
        sel = slice(order_start, stop)
        h = heights[sel]
        frame = np.repeat(np.arange(stop - order_start), h)
        first = np.repeat(np.cumsum(h) - h, h)
        y = np.arange(len(frame)) - first
        s1, e1 = _row_spans(q1[sel], frame, y, window_w[sel])
        s2, e2 = _row_spans(q2[sel], frame, y, window_w[sel])
        inter = np.zeros(len(frame))
        for a in range(len(s1)):
            for b in range(len(s2)):
                inter += np.maximum(0, np.minimum(e1[a], e2[b]) - np.maximum(s1[a], s2[b]))
        m = stop - order_start
        vol1 = np.bincount(frame, (e1 - s1).sum(axis=0), minlength=m)
        vol2 = np.bincount(frame, (e2 - s2).sum(axis=0), minlength=m)
        both = np.bincount(frame, inter, minlength=m)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[sel] = np.float32(both) / np.float32(vol1 + vol2 - both)
        order_start = stop
    return out


def region_overlaps(a: np.ndarray, b: np.ndarray,
                    bounds: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """Per-row overlap of regions `a` and `b` (N x 4 boxes or N x 2k polygons each).

    bounds: None (unbounded), (W, H) for all rows, or an N x 2 array of (W, H); a region is cut
    to [0, W] x [0, H] (VOT accuracy uses the image size, pysot's EAO W-1, H-1). Rows with NaN
    give NaN.
    """
    p1, p2 = _as_vertices(a), _as_vertices(b)
    n = len(p1)
    if len(p2) != n:
        raise ValueError(f"region_overlaps: {n} rows against {len(p2)}")
    out = np.full(n, np.nan)
    if n == 0:
        return out
    if bounds is None:
        limit = np.tile(np.array([-np.inf, -np.inf, np.inf, np.inf], np.float32), (n, 1))
    else:
        wh = np.broadcast_to(np.asarray(bounds, dtype=np.float32), (n, 2))
        limit = np.concatenate([np.zeros((n, 2), np.float32), wh], axis=1)
    valid = ~(np.isnan(p1).any(axis=(1, 2)) | np.isnan(p2).any(axis=(1, 2)))
    p1, p2, limit, idx = p1[valid], p2[valid], limit[valid], np.flatnonzero(valid)
    b1, b2 = _pixel_bounds(p1, limit), _pixel_bounds(p2, limit)
    origin = np.minimum(b1[:, :2], b2[:, :2])
    window_w = np.trunc(np.maximum(b1[:, 2], b2[:, 2]) - origin[:, 0]) + 1
    window_h = np.trunc(np.maximum(b1[:, 3], b2[:, 3]) - origin[:, 1]) + 1
    a1, a2 = _area(b1).astype(np.float64), _area(b2).astype(np.float64)
    cut = np.concatenate([np.maximum(b1[:, :2], b2[:, :2]), np.minimum(b1[:, 2:], b2[:, 2:])], axis=1)
    inter = _area(cut)
    with np.errstate(divide="ignore", invalid="ignore"):
        tiny = (a1 / a2 < 1e-10) | (a2 / a1 < 1e-10) | (window_w < 1) | (window_h < 1)
        box_iou = inter / (_area(b1) + _area(b2) - inter)
    box_iou = np.where(0 > box_iou, np.float32(0), box_iou)    # C's MAX(0, x): NaN stays NaN
    zero = tiny | (box_iou == 0)
    res = np.zeros(len(idx))
    todo = ~zero
    if todo.any():
        res[todo] = _rasterised(p1[todo], p2[todo], b1[todo], b2[todo], window_w[todo], window_h[todo])
    out[idx] = res
    return out
