"""What a head family is: the box coding of a head's outputs, shared by trackers, engines and training.

A family turns the head's raw ``cls`` / ``loc`` maps of a batch into per-candidate foreground
scores and boxes, and knows the priors (anchors or points) and the cosine window of a score map.
The trackers (:mod:`pysiam.tracker`), the batched engine (:mod:`pysiam.runner.batched`), the
training set and losses and the speed benchmark ask the family and assume nothing about anchors.

Candidates are flattened the same way for every family: index ``k`` runs over (prior, row, col),
prior-major, row-major inside a map (``k = row * S + col`` for one prior per cell). Boxes are
(cx, cy, w, h) in search-crop pixels, relative to the crop centre, float32.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Protocol, Tuple, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["Grid", "HeadFamily", "foreground_probability", "to_host"]


@dataclass(frozen=True)
class Grid:
    """The candidates of one S x S score map: priors, cosine window (float64) and their count."""

    size: int
    priors: np.ndarray
    window: np.ndarray

    @property
    def count(self) -> int:
        return int(self.window.shape[0])


@runtime_checkable
class HeadFamily(Protocol):
    """The box coding of one kind of head (see the module docstring)."""

    name: str
    priors_per_cell: int

    def score_size(self, instance_size: int) -> int:
        """Side of the score map the configured network gives for a search crop of this size."""

    def grid(self, size: int) -> Grid:
        """Priors and window of an S x S score map (cached)."""

    def decode(self, cls: torch.Tensor, loc: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """Batched head outputs -> scores (B, N) and boxes (B, 4, N), float32 on the host."""

    def training_target(self, cfg: Any) -> Any:
        """The object labelling training pairs for this family (built from ``cfg``)."""

    def training_losses(self) -> Dict[str, Any]:
        """Name -> loss function of (outputs, batch) for this family."""


def foreground_probability(cls: torch.Tensor, priors: int) -> torch.Tensor:
    """(B, 2P, S, S) class-major logits -> (B, P*S*S) softmax probability of the foreground."""
    b = cls.shape[0]
    return F.softmax(cls.float().reshape(b, 2, -1).permute(0, 2, 1), dim=2)[:, :, 1]


def to_host(score: torch.Tensor, loc: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
    """Scores (B, N) and a (B, 4, N) map as float32 numpy arrays in one device-to-host transfer."""
    b, n = score.shape
    flat = torch.cat([score, loc.float().reshape(b, -1)], dim=1).cpu().numpy()
    return flat[:, :n], flat[:, n:].reshape(b, 4, n)


def check_outputs(family: str, cls: torch.Tensor, loc: torch.Tensor, priors: int) -> int:
    """The score-map side of a batch of outputs, with a clear error when the shapes do not fit."""
    if cls.dim() != 4 or loc.dim() != 4 or cls.shape[0] < 1:
        raise ValueError(f"{family} head outputs must be (B, C, S, S) maps, got cls {tuple(cls.shape)}, "
                         f"loc {tuple(loc.shape)}")
    b, _, s, s2 = cls.shape
    want_cls, want_loc = (b, 2 * priors, s, s), (b, 4 * priors, s, s)
    if s != s2 or tuple(cls.shape) != want_cls or tuple(loc.shape) != want_loc:
        raise ValueError(f"model outputs cls {tuple(cls.shape)}, loc {tuple(loc.shape)}; the {family} family "
                         f"expects {want_cls} and {want_loc}: check that the config matches the model")
    return int(s)
