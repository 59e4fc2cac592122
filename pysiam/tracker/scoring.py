"""The trackers' selection arithmetic: scale / aspect penalty, context size and state clipping.

Candidate arrays are flat over (prior, row, col) as the head families decode them
(:mod:`pysiam.families`). Dtypes follow pysot under NumPy 2: scores and decoded boxes are float32
(network precision), everything derived from the tracker state is float64.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

__all__ = ["change_penalty", "context_size", "clip_state"]


def _change(r: np.ndarray) -> np.ndarray:
    return np.maximum(r, 1.0 / r)


def _padded_size(w, h):
    pad = (w + h) * 0.5
    return np.sqrt((w + pad) * (h + pad))


def change_penalty(boxes: np.ndarray, size: Sequence[float], scale_z: float, k: float) -> np.ndarray:
    """exp(-k * (r_c * s_c - 1)) for every candidate box (float64).

    ``s_c`` is the change of padded size sqrt((w + p)(h + p)), p = (w + h) / 2, between the
    candidate (search-crop pixels) and the current target ``size`` (frame pixels) times
    ``scale_z``; ``r_c`` the change of aspect ratio w / h; change(r) = max(r, 1 / r).
    """
    w0, h0 = np.float64(size[0]), np.float64(size[1])
    cur = _padded_size(w0 * scale_z, h0 * scale_z)
    s_c = _change(_padded_size(boxes[2], boxes[3]).astype(np.float64) / cur)
    r_c = _change((w0 / h0) / (boxes[2] / boxes[3]).astype(np.float64))
    return np.exp(-(r_c * s_c - 1) * k)


def context_size(size: Sequence[float], context_amount: float) -> float:
    """Side s_z = sqrt((w + p)(h + p)) of the context square, p = context_amount * (w + h) (float64)."""
    w, h = np.float64(size[0]), np.float64(size[1])
    total = w + h
    return float(np.sqrt((w + context_amount * total) * (h + context_amount * total)))


def clip_state(cx: float, cy: float, w: float, h: float, im_w: int, im_h: int,
               min_size: float = 10) -> Tuple[float, float, float, float]:
    """Centre into [0, W] x [0, H]; width into [min_size, W], height into [min_size, H]."""
    cx = max(0, min(cx, im_w))
    cy = max(0, min(cy, im_h))
    w = max(min_size, min(w, im_w))
    h = max(min_size, min(h, im_h))
    return float(cx), float(cy), float(w), float(h)
