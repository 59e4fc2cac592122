"""Box conversions shared by the trackers, the test tools and the demo.

Conventions: ``xywh`` is (x, y, w, h) with (x, y) the top-left corner, 0-based; ``cxcywh`` is
(centre x, centre y, w, h). The tracker's initial centre follows pysot: cx = x + (w - 1) / 2.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

__all__ = ["axis_aligned_from_polygon", "init_box_from_region", "tracker_center",
           "center_to_xywh", "corners_of_xywh"]


def axis_aligned_from_polygon(region: Sequence[float]) -> Tuple[float, float, float, float]:
    """(cx, cy, w, h) of a VOT region, as pysot's ``get_axis_aligned_bbox``.

    For an 8-value polygon: the centre is the mean of the corners; the min/max box is scaled by
    sqrt(A_poly / A_box), where A_poly = |p1 - p2| * |p2 - p3| (the polygon taken as a
    rectangle), and 1 is added to w and h. For 4 values (x, y, w, h): cx = x + w / 2, same w, h.
    """
    r = np.asarray(region, dtype=np.float64).ravel()
    if r.size == 8:
        xs, ys = r[0::2], r[1::2]
        cx, cy = np.mean(xs), np.mean(ys)
        x1, x2, y1, y2 = min(xs), max(xs), min(ys), max(ys)
        a_poly = np.linalg.norm(r[0:2] - r[2:4]) * np.linalg.norm(r[2:4] - r[4:6])
        a_box = (x2 - x1) * (y2 - y1)
        s = np.sqrt(a_poly / a_box)
        w = s * (x2 - x1) + 1
        h = s * (y2 - y1) + 1
    elif r.size == 4:
        x, y, w, h = r
        cx, cy = x + w / 2, y + h / 2
    else:
        raise ValueError(f"a region has 4 (x,y,w,h) or 8 (polygon) values, got {r.size}: {list(r)}")
    return float(cx), float(cy), float(w), float(h)


def init_box_from_region(region: Sequence[float]) -> List[float]:
    """Initial (x, y, w, h) for ``tracker.init`` from a ground-truth region, as pysot's test script.

    ``x = cx - (w - 1) / 2`` (same for y) so that the tracker's centre rule x + (w - 1) / 2 gives
    back the region's centre ``cx`` of :func:`axis_aligned_from_polygon`.
    """
    cx, cy, w, h = axis_aligned_from_polygon(region)
    return [cx - (w - 1) / 2, cy - (h - 1) / 2, w, h]


def tracker_center(bbox: Sequence[float]) -> Tuple[float, float]:
    """Centre the trackers use for an initial (x, y, w, h): (x + (w - 1) / 2, y + (h - 1) / 2)."""
    return bbox[0] + (bbox[2] - 1) / 2, bbox[1] + (bbox[3] - 1) / 2


def center_to_xywh(center: Sequence[float], size: Sequence[float]) -> List[float]:
    """(cx, cy), (w, h) -> [cx - w / 2, cy - h / 2, w, h] (the trackers' output box)."""
    return [center[0] - size[0] / 2, center[1] - size[1] / 2, size[0], size[1]]


def corners_of_xywh(box: Sequence[float]) -> np.ndarray:
    """The 4 corners (4 x 2, clockwise from top-left) of an axis-aligned (x, y, w, h) box."""
    x, y, w, h = box
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
