"""The point family (SiamBAN, NanoTrack): one point per cell, (left, top, right, bottom) distances.

Cell (row i, col j) of an S x S map sits at ``(o + stride * j, o + stride * i)`` from the search
crop centre, o = -(S // 2) * stride (so S = 16 gives -128..112: the grid is not symmetric). The
head's ``loc`` holds the four distances (already made positive by exp in the head) from the
point to the box edges, in crop pixels; boxes are decoded in float32 as x1 = px - l, y1 = py - t,
x2 = px + r, y2 = py + b, then (cx, cy, w, h) = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1).
Scores are the softmax foreground probability; the window is ``outer(hanning(S), hanning(S))``.
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np
import torch

from .anchor import cosine_window, score_size
from .base import Grid, check_outputs, foreground_probability, to_host

__all__ = ["PointFamily", "point_grid", "decode_ltrb"]


def point_grid(stride: int, size: int) -> np.ndarray:
    """(S*S, 2) float32 points (x, y) relative to the crop centre, row-major."""
    origin = -(size // 2) * stride
    offs = origin + stride * np.arange(size, dtype=np.float32)
    xs, ys = np.meshgrid(offs, offs)
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)


def decode_ltrb(ltrb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(..., 4, N) distances (l, t, r, b) + points (N, 2) -> (..., 4, N) boxes (cx, cy, w, h), float32."""
    ltrb = np.asarray(ltrb, dtype=np.float32)
    x1 = points[:, 0] - ltrb[..., 0, :]
    y1 = points[:, 1] - ltrb[..., 1, :]
    x2 = points[:, 0] + ltrb[..., 2, :]
    y2 = points[:, 1] + ltrb[..., 3, :]
    return np.stack([(x1 + x2) * 0.5, (y1 + y2) * 0.5, x2 - x1, y2 - y1], axis=-2)


class PointFamily:
    """Box coding of the anchor-free BAN heads (``BAN.TYPE``: NanoBANv1/v2/v3, SiamBAN's)."""

    name = "point"
    priors_per_cell = 1

    def __init__(self, stride: int = 8, exemplar_size: int = 127, base_size: int = 8,
                 output_size: int = 0, instance_size: int = 255):
        self.stride = int(stride)
        self.exemplar_size = int(exemplar_size)
        self.base_size = int(base_size)
        self.output_size = int(output_size)
        self.instance_size = int(instance_size)
        self._grids: Dict[int, Grid] = {}

    @classmethod
    def from_config(cls, cfg: Any) -> "PointFamily":
        t = cfg.TRACK
        return cls(stride=int(cfg.POINT.STRIDE), exemplar_size=int(t.EXEMPLAR_SIZE), base_size=int(t.BASE_SIZE),
                   output_size=int(t.get("OUTPUT_SIZE", 0) or 0), instance_size=int(t.INSTANCE_SIZE))

    def score_size(self, instance_size: int) -> int:
        """``TRACK.OUTPUT_SIZE`` for the configured search size when set (NanoTrack), else
        (instance - exemplar) // stride + 1 + base_size (SiamBAN)."""
        if self.output_size > 0 and int(instance_size) == self.instance_size:
            return self.output_size
        return score_size(instance_size, self.exemplar_size, self.stride, self.base_size)

    def grid(self, size: int) -> Grid:
        if size not in self._grids:
            self._grids[size] = Grid(size, point_grid(self.stride, size), cosine_window(size, 1))
        return self._grids[size]

    def decode(self, cls: torch.Tensor, loc: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
        size = check_outputs(self.name, cls, loc, 1)
        score, ltrb = to_host(foreground_probability(cls, 1), loc)
        return score, decode_ltrb(ltrb, self.grid(size).priors)

    def training_target(self, cfg: Any) -> Any:
        from pysiam.data.point_target import PointTarget

        return PointTarget.from_config(cfg)

    def training_losses(self) -> Dict[str, Any]:
        from pysiam.training.losses import point_losses

        return point_losses()
