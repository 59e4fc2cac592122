"""The anchor family (SiamRPN, SiamRPN++, SiamMask): A anchors per cell, (dx, dy, dw, dh) deltas.

Scores are the softmax foreground probability of each anchor; boxes are decoded as pysot does,
in float32: cx = dx * w_a + cx_a, cy = dy * h_a + cy_a, w = exp(dw) * w_a, h = exp(dh) * h_a.
The window is ``outer(hanning(S), hanning(S))`` repeated for every anchor.
"""
from __future__ import annotations

from typing import Any, Dict, Sequence, Tuple

import numpy as np
import torch

from pysiam.utils.anchors import anchor_grid

from .base import Grid, check_outputs, foreground_probability, to_host

__all__ = ["AnchorFamily", "score_size", "cosine_window", "decode_boxes"]


def score_size(instance_size: int, exemplar_size: int, stride: int, base_size: int) -> int:
    """Side of the score map: (instance - exemplar) // stride + 1 + base_size."""
    return (int(instance_size) - int(exemplar_size)) // int(stride) + 1 + int(base_size)


def cosine_window(size: int, priors: int) -> np.ndarray:
    """Outer product of ``np.hanning(size)`` with itself, flattened and repeated per prior (float64)."""
    h = np.hanning(size)
    return np.tile(np.outer(h, h).ravel(), priors)


def decode_boxes(loc: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """(..., 4, N) deltas (dx, dy, dw, dh) + anchors (N, 4) -> (..., 4, N) boxes (cx, cy, w, h), float32."""
    loc = np.asarray(loc, dtype=np.float32)
    out = np.empty_like(loc)
    with np.errstate(over="ignore"):  # untrained weights can give huge dw, dh
        out[..., 0, :] = loc[..., 0, :] * anchors[:, 2] + anchors[:, 0]
        out[..., 1, :] = loc[..., 1, :] * anchors[:, 3] + anchors[:, 1]
        out[..., 2, :] = np.exp(loc[..., 2, :]) * anchors[:, 2]
        out[..., 3, :] = np.exp(loc[..., 3, :]) * anchors[:, 3]
    return out


class AnchorFamily:
    """Box coding of the anchor heads (``RPN.TYPE`` UPChannelRPN / DepthwiseRPN / MultiRPN)."""

    name = "anchor"

    def __init__(self, stride: int = 8, ratios: Sequence[float] = (0.33, 0.5, 1, 2, 3),
                 scales: Sequence[float] = (8,), exemplar_size: int = 127, base_size: int = 8):
        self.stride = int(stride)
        self.ratios = [float(r) for r in ratios]
        self.scales = [float(s) for s in scales]
        self.exemplar_size = int(exemplar_size)
        self.base_size = int(base_size)
        self.priors_per_cell = len(self.ratios) * len(self.scales)
        self._grids: Dict[int, Grid] = {}

    @classmethod
    def from_config(cls, cfg: Any) -> "AnchorFamily":
        a, t = cfg.ANCHOR, cfg.TRACK
        return cls(stride=int(a.STRIDE), ratios=list(a.RATIOS), scales=list(a.SCALES),
                   exemplar_size=int(t.EXEMPLAR_SIZE), base_size=int(t.BASE_SIZE))

    def score_size(self, instance_size: int) -> int:
        return score_size(instance_size, self.exemplar_size, self.stride, self.base_size)

    def grid(self, size: int) -> Grid:
        if size not in self._grids:
            anchors = anchor_grid(self.stride, self.ratios, self.scales, size).reshape(-1, 4)
            self._grids[size] = Grid(size, anchors, cosine_window(size, self.priors_per_cell))
        return self._grids[size]

    def decode(self, cls: torch.Tensor, loc: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
        size = check_outputs(self.name, cls, loc, self.priors_per_cell)
        score, deltas = to_host(foreground_probability(cls, self.priors_per_cell), loc)
        return score, decode_boxes(deltas, self.grid(size).priors)

    def training_target(self, cfg: Any) -> Any:
        from pysiam.data.anchor_target import AnchorTarget

        return AnchorTarget.from_config(cfg)

    def training_losses(self) -> Dict[str, Any]:
        from pysiam.training.losses import anchor_losses

        return anchor_losses()
