"""Rotated box of a binary mask: pysot's minimum-area rectangle, the min/max box, or VOT's optimised box.

    from pysiam.tracker import mask_to_box
    poly = mask_to_box(mask, method="optimized", prior=corners)   # [x1, y1, ..., x4, y4]

Pixel (row r, col c) is the point x = c, y = r; a pixel is *inside* a rectangle when its centre is
(closed rectangle, 1e-3 px tolerance). The frame is padded with background: a rectangle reaching
past the image border pays for the pixels it covers there (:func:`box_iou` counts image pixels
only). ``minmax`` has its corners on pixel edges (c_min - 0.5, r_min - 0.5) ... (c_max + 0.5,
r_max + 0.5), so its w * h is exactly the number of pixels inside it.

``optimized`` fits the box the way the VOT ground truth was fitted to segmentations (Vojir's
rule): minimise ``4 * (foreground outside) + 1 * (background inside)`` subject to foreground
outside <= 10 % of the foreground and background inside <= 40 % of w * h; when no rectangle met the
constraints, the unconstrained optimum. Search (:mod:`pysiam.tracker.mask_box_search`): a scan of
angles on block sums of the mask (per angle the 4 sides from projections on the rectangle's axes
and 2-D cumulative histograms), then a pattern search on exact pixel counts started from the best
scanned boxes and from the axis-aligned box, the minimum-area rectangle and the prior when they
are better. Deterministic (no random numbers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..utils.bbox import corners_of_xywh
from .mask import mask_polygon
from .mask_box_search import (BG_WEIGHT, FG_WEIGHT, MAX_BG_IN, MAX_FG_OUT, PixelCounter, fit_rect,
                              wrap_rects)

__all__ = ["mask_to_box", "box_cost", "box_iou", "optimize_box", "BoxCost", "MASK_BOX_METHODS",
           "rect_from_polygon", "rect_corners", "FG_WEIGHT", "BG_WEIGHT", "MAX_FG_OUT", "MAX_BG_IN"]


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
    return np.ascontiguousarray(m) if m.dtype == bool else m > 0


def rect_from_polygon(polygon: Sequence[float]) -> np.ndarray:
    """[cx, cy, w, h, theta] of a rectangle given as 4 corners in order (8 values; the sides are
    taken from corners 1-2 and 2-3, the centre is the corners' mean)."""
    p = np.asarray(polygon, dtype=np.float64).ravel()
    if p.size != 8 or not np.all(np.isfinite(p)):
        raise ValueError(f"a box polygon must be 8 finite numbers x1, y1, ..., x4, y4, got {list(p)}")
    p = p.reshape(4, 2)
    a, b = p[1] - p[0], p[2] - p[1]
    cx, cy = p.mean(axis=0)
    return wrap_rects([cx, cy, np.hypot(*a), np.hypot(*b), math.atan2(a[1], a[0])])[0]


def rect_corners(rect: Sequence[float]) -> List[float]:
    """8 corner values (clockwise in image coordinates) of [cx, cy, w, h, theta]."""
    cx, cy, w, h, t = [float(v) for v in rect]
    e1 = np.array([math.cos(t), math.sin(t)]) * (w / 2)
    e2 = np.array([-math.sin(t), math.cos(t)]) * (h / 2)
    c = np.array([cx, cy])
    return [float(v) for v in np.stack([c - e1 - e2, c + e1 - e2, c + e1 + e2, c - e1 + e2]).ravel()]


def _cost_of(counter: PixelCounter, rect: np.ndarray) -> BoxCost:
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
    return _cost_of(PixelCounter.of_mask(binary), rect_from_polygon(polygon))


def box_iou(mask, polygon: Sequence[float]) -> float:
    """IoU of the rasterised rectangle (pixels of the image whose centre is inside) with the mask."""
    binary = _binary(mask)
    if not binary.any():
        raise ValueError("box_iou needs a mask with at least one foreground pixel")
    counter = PixelCounter.of_mask(binary)
    fg, n_in = counter.count(rect_from_polygon(polygon)[None, :], clip=True)
    union = counter.total + n_in[0] - fg[0]
    return float(fg[0] / union) if union > 0 else 0.0


def _minmax_rect(counter: PixelCounter) -> np.ndarray:
    r1, c1 = counter.r0 + counter.nr - 1, counter.c0 + counter.nc - 1
    return np.array([(counter.c0 + c1) / 2, (counter.r0 + r1) / 2, counter.nc, counter.nr, 0.0])


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
    counter = PixelCounter.of_mask(binary)
    if minarea is None:
        minarea = mask_polygon(binary.view(np.uint8), [0, 0, 0, 0], -1)
    starts = [_minmax_rect(counter), rect_from_polygon(minarea)]
    if prior is not None:
        starts.append(rect_from_polygon(_prior_corners(prior)))
    rect = fit_rect(counter, starts, constrained)
    return rect_corners(rect), _cost_of(counter, rect)


def _prior_corners(prior: Sequence[float]) -> List[float]:
    p = [float(v) for v in np.asarray(prior, dtype=np.float64).ravel()]
    if len(p) == 4:
        p = [float(v) for v in corners_of_xywh(p).ravel()]
    if len(p) != 8 or not all(math.isfinite(v) for v in p):
        raise ValueError(f"prior box must be 8 corner values (or x, y, w, h), got {prior!r}")
    return p


def _minmax(binary: np.ndarray, prior, minarea) -> List[float]:
    return rect_corners(_minmax_rect(PixelCounter.of_mask(binary)))


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
