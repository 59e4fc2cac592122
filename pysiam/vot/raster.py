"""The vot-toolkit's (0.7.x) region overlap, re-implemented with NumPy (see pysiam.vot.regions)."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

__all__ = ["region_overlap", "region_overlaps", "rasterize"]

Bounds = Tuple[int, int, int, int]


def _meta(r) -> Tuple[str, np.ndarray, Tuple[int, int]]:
    if r.kind == "rectangle":
        return "rectangle", np.round(r.data.astype(np.float32)), (0, 0)
    if r.kind == "polygon":
        return "polygon", np.round(r.data.astype(np.float32)), (0, 0)
    if r.kind == "mask":
        return "mask", r.data, r.offset
    return "empty", np.zeros((1, 1)), (0, 0)


def _bounds(kind: str, a: np.ndarray, off: Tuple[int, int]) -> Bounds:
    if kind == "rectangle":
        x, y, w, h = (float(v) for v in a)
        return int(round(x)), int(round(y)), int(round(x + w - 1)), int(round(y + h - 1))
    if kind == "polygon":
        return (int(round(float(a[:, 0].min()))), int(round(float(a[:, 1].min()))),
                int(round(float(a[:, 0].max()))), int(round(float(a[:, 1].max()))))
    if kind == "mask":
        ys, xs = np.nonzero(a)
        if len(xs) == 0:
            return off[0], off[1], off[0], off[1]
        return (int(xs.min()) + off[0], int(ys.min()) + off[1],
                int(xs.max()) + off[0], int(ys.max()) + off[1])
    return 0, 0, 0, 0


def _raster_rectangle(a: np.ndarray, b: Bounds) -> np.ndarray:
    out = np.zeros((b[3] - b[1] + 1, b[2] - b[0] + 1), dtype=np.uint8)
    x, y, w, h = (float(v) for v in a)
    if x > b[2] or x + w - 1 < b[0] or y > b[3] or y + h - 1 < b[1]:
        return out
    left, top = int(max(0, x - b[0])), int(max(0, y - b[1]))
    right, bottom = int(min(b[2], x + w - 1 - b[0])), int(min(b[3], y + h - 1 - b[1]))
    if bottom >= 0 and right >= 0:
        out[top:bottom + 1, left:right + 1] = 1
    return out


def _row_nodes(poly: np.ndarray, py: int) -> List[int]:
    nodes = []
    n = len(poly)
    j = n - 1
    for i in range(n):
        xi, yi, xj, yj = poly[i, 0], poly[i, 1], poly[j, 0], poly[j, 1]
        if ((yi <= py < yj) or (yj <= py < yi) or (yi < py <= yj) or (yj < py <= yi)
                or (yi == yj == py)):
            r, k = yj - yi, xj - xi
            nodes.append(int(xi + (py - yi) / r * k) if r != 0 else int(xi))
        j = i
    return sorted(nodes)


def _raster_polygon(a: np.ndarray, b: Bounds) -> np.ndarray:
    """The toolkit's scan-line fill (truncating crossings, a repeated crossing drops its first
    copy unless it is the last pair)."""
    width, height = b[2] - b[0] + 1, b[3] - b[1] + 1
    out = np.zeros((height, width), dtype=np.uint8)
    poly = np.round(a).astype(np.float64) - np.array([[b[0], b[1]]], dtype=np.float64)
    lo, hi = max(0, int(np.floor(poly[:, 1].min()))), min(height - 1, int(np.ceil(poly[:, 1].max())))
    for py in range(lo, hi + 1):
        nodes = _row_nodes(poly, py)
        i = 0
        while i < len(nodes) - 1:
            if nodes[i] >= width:
                break
            if nodes[i] == nodes[i + 1] and i < len(nodes) - 2:
                i += 1
                continue
            if nodes[i + 1] >= 0:
                x0, x1 = max(nodes[i], 0), min(nodes[i + 1], width - 1)
                out[py, x0:x1 + 1] = 1
            i += 2
    return out


def _raster_mask(m: np.ndarray, off: Tuple[int, int], b: Bounds) -> np.ndarray:
    out = np.zeros((b[3] - b[1] + 1, b[2] - b[0] + 1), dtype=np.uint8)
    tx, ty = max(off[0], b[0]), max(off[1], b[1])
    tw = min(b[2] + 1, off[0] + m.shape[1]) - tx
    th = min(b[3] + 1, off[1] + m.shape[0]) - ty
    if tw > 0 and th > 0:
        out[ty - b[1]:ty - b[1] + th, tx - b[0]:tx - b[0] + tw] = \
            m[ty - off[1]:ty - off[1] + th, tx - off[0]:tx - off[0] + tw]
    return out


def rasterize(r, b: Bounds) -> np.ndarray:
    """Region ``r`` as a 0/1 raster over the inclusive window ``b`` = (left, top, right, bottom)."""
    kind, a, off = _meta(r)
    if kind == "rectangle":
        return _raster_rectangle(a, b)
    if kind == "polygon":
        return _raster_polygon(a, b)
    if kind == "mask":
        return _raster_mask(a, off, b)
    return np.zeros((b[3] - b[1] + 1, b[2] - b[0] + 1), dtype=np.uint8)


def region_overlap(r1, r2, bounds: Optional[Tuple[int, int]] = None) -> float:
    """Intersection over union of two regions, as the toolkit's ``calculate_overlap``."""
    m1, m2 = _meta(r1), _meta(r2)
    b1, b2 = _bounds(*m1), _bounds(*m2)
    u = (min(b1[0], b2[0]), min(b1[1], b2[1]), max(b1[2], b2[2]), max(b1[3], b2[3]))
    if u[0] >= u[2] or u[1] >= u[3]:
        return 1.0
    if bounds is not None:
        u = (max(0, u[0]), max(0, u[1]), min(int(bounds[0]) - 1, u[2]), min(int(bounds[1]) - 1, u[3]))
    if u[0] >= u[2] or u[1] >= u[3]:
        return 0.0
    a1, a2 = rasterize(r1, u) != 0, rasterize(r2, u) != 0
    union = int(np.count_nonzero(a1 | a2))
    return float(np.count_nonzero(a1 & a2)) / float(union) if union > 0 else 0.0


def region_overlaps(first: Sequence, second: Sequence,
                    bounds: Optional[Tuple[int, int]] = None) -> List[float]:
    """Per-frame overlaps of two equally long region lists."""
    if len(first) != len(second):
        raise ValueError(f"region lists differ in length: {len(first)} != {len(second)}")
    return [region_overlap(a, b, bounds) for a, b in zip(first, second)]
