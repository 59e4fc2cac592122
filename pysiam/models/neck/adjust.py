"""Adjust layers ("neck"): a 1x1 conv + BN per level, plus the template centre crop.

When a map is narrower than ``crop_below`` (20) pixels -- i.e. it is a template map, 15x15 for a
127 exemplar -- only its centre is kept:

* ``crop_mode="center"`` (pysot): the centred ``center_size`` x ``center_size`` window,
  rows/cols ``(w - center_size) // 2`` onwards (15 -> [4:11]).
* ``crop_mode="trim"`` (original SiamMask): a fixed 4 pixels are cut from every side
  (15 -> 7 as well, but 17 -> 9, which the SiamMask refine training at search size 143 relies on).
"""
from __future__ import annotations

from typing import List, Sequence, Union

import torch
from torch import nn

__all__ = ["AdjustLayer", "AdjustAllLayer"]

_CROP_MODES = ("center", "trim")
_TRIM = 4


class AdjustLayer(nn.Module):
    """1x1 conv (no bias) + BatchNorm, then the template centre crop described in the module doc."""

    def __init__(self, in_channels: int, out_channels: int, center_size: int = 7,
                 crop_mode: str = "center", crop_below: int = 20):
        super().__init__()
        if crop_mode not in _CROP_MODES:
            raise ValueError(f"crop_mode must be one of {_CROP_MODES}, got {crop_mode!r}")
        self.downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.center_size = center_size
        self.crop_mode = crop_mode
        self.crop_below = crop_below
        self.in_channels = in_channels
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.downsample(x)
        w = x.shape[3]
        if w < self.crop_below:
            if self.crop_mode == "center":
                lo = (w - self.center_size) // 2
                hi = lo + self.center_size
            else:
                lo, hi = _TRIM, w - _TRIM
            x = x[:, :, lo:hi, lo:hi]
        return x


class AdjustAllLayer(nn.Module):
    """One :class:`AdjustLayer` per level.

    State-dict names follow pysot: a single level is ``downsample``, several are ``downsample2``,
    ``downsample3``, ... (numbered from 2). The forward pass maps a list of maps to a list.
    """

    def __init__(self, in_channels: Sequence[int] = (512, 1024, 2048), out_channels: Sequence[int] = (256, 256, 256),
                 center_size: int = 7, crop_mode: str = "center", crop_below: int = 20):
        super().__init__()
        in_channels, out_channels = list(in_channels), list(out_channels)
        if len(in_channels) != len(out_channels) or not in_channels:
            raise ValueError(f"AdjustAllLayer: in_channels {in_channels} and out_channels "
                             f"{out_channels} must be non-empty lists of equal length")
        self.num = len(out_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        layers = [AdjustLayer(i, o, center_size, crop_mode, crop_below)
                  for i, o in zip(in_channels, out_channels)]
        self._names = ["downsample"] if self.num == 1 else [f"downsample{i + 2}" for i in range(self.num)]
        for name, layer in zip(self._names, layers):
            self.add_module(name, layer)

    def forward(self, features: Union[torch.Tensor, List[torch.Tensor]]) -> List[torch.Tensor]:
        if isinstance(features, torch.Tensor):
            features = [features]
        if len(features) != self.num:
            raise ValueError(f"AdjustAllLayer expects {self.num} feature maps, got {len(features)}")
        return [getattr(self, n)(f) for n, f in zip(self._names, features)]
