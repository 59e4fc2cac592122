"""Score-map arithmetic of the SiamRPN trackers: anchors, window, box decoding, penalties, clipping.

All arrays are flat over (anchor, row, col), anchor-major, matching the class-major ``cls`` and
coordinate-major ``loc`` head outputs. Dtypes follow pysot under NumPy 2: scores and decoded
boxes are float32 (network precision), everything derived from the tracker state is float64.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

from ..utils.anchors import anchor_grid

__all__ = ["score_size", "tracker_anchors", "cosine_window", "decode_boxes", "change_penalty",
           "context_size", "clip_state"]


def score_size(instance_size: int, exemplar_size: int, stride: int, base_size: int) -> int:
    """Side of the score map: (instance - exemplar) // stride + 1 + base_size."""
    return (int(instance_size) - int(exemplar_size)) // int(stride) + 1 + int(base_size)


def tracker_anchors(stride: int, ratios: Sequence[float], scales: Sequence[float], size: int) -> np.ndarray:
    """Anchors (A * size * size, 4) as float32 (cx, cy, w, h), centred on the search centre (0, 0)."""
    return anchor_grid(stride, ratios, scales, size).reshape(-1, 4)


def cosine_window(size: int, anchor_num: int) -> np.ndarray:
    """Outer product of ``np.hanning(size)`` with itself, flattened and repeated per anchor (float64)."""
    h = np.hanning(size)
    return np.tile(np.outer(h, h).ravel(), anchor_num)


def decode_boxes(loc: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """(4, N) deltas (dx, dy, dw, dh) + anchors (N, 4) -> (4, N) boxes (cx, cy, w, h), float32."""
    loc = np.asarray(loc, dtype=np.float32)
    out = np.empty_like(loc)
    out[0] = loc[0] * anchors[:, 2] + anchors[:, 0]
    out[1] = loc[1] * anchors[:, 3] + anchors[:, 1]
    out[2] = np.exp(loc[2]) * anchors[:, 2]
    out[3] = np.exp(loc[3]) * anchors[:, 3]
    return out


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
