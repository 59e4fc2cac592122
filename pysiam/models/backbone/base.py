"""Common interface of the backbones: a list of feature maps plus their declared channels/strides."""
from __future__ import annotations

from typing import List

import torch
from torch import nn


class Backbone(nn.Module):
    """A feature extractor returning a list of maps, one per selected level.

    Subclasses set ``out_channels`` and ``strides`` (one entry per returned level, in order) so
    that necks and heads can size themselves without running the network.
    """

    out_channels: List[int]
    strides: List[int]

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:  # pragma: no cover - interface
        raise NotImplementedError
