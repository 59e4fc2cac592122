"""Anchor boxes shared by the tracker (test-time grid) and training (anchor targets).

Sizes follow pysot exactly: for a ratio r, ``ws = int(sqrt(stride**2 / r))`` and ``hs = int(ws * r)``
(integer truncation), both multiplied by each scale. Order is ratio-major, then scale.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def base_anchors(stride: int, ratios: Sequence[float], scales: Sequence[float]) -> np.ndarray:
    """Anchor corners centred at the origin, shape (len(ratios) * len(scales), 4) as x1, y1, x2, y2."""
    out = []
    area = stride * stride
    for r in ratios:
        ws = int(math.sqrt(area * 1.0 / r))
        hs = int(ws * r)
        for s in scales:
            w, h = ws * s, hs * s
            out.append([-w * 0.5, -h * 0.5, w * 0.5, h * 0.5])
    return np.asarray(out, dtype=np.float32)


def anchor_grid(stride: int, ratios: Sequence[float], scales: Sequence[float], size: int,
                centre: float = 0.0) -> np.ndarray:
    """All anchors of a ``size`` x ``size`` score map as (cx, cy, w, h), shape (A, size, size, 4).

    The grid is centred on ``centre`` (0 for the tracker's search-centre coordinates, the crop centre
    in pixels for training): position (i, j) has cx = centre + (j - size // 2) * stride, cy likewise.
    """
    base = base_anchors(stride, ratios, scales)
    w = base[:, 2] - base[:, 0]
    h = base[:, 3] - base[:, 1]
    offs = (np.arange(size, dtype=np.float32) - size // 2) * stride + centre
    a = len(base)
    grid = np.empty((a, size, size, 4), dtype=np.float32)
    grid[..., 0] = offs[None, None, :]
    grid[..., 1] = offs[None, :, None]
    grid[..., 2] = w[:, None, None]
    grid[..., 3] = h[:, None, None]
    return grid
