"""AlexNet variants of pysot: ``alexnetlegacy`` (one ``features`` Sequential, the released
SiamRPN AlexNet) and ``alexnet`` (the same network split into ``layer1..layer5``).

Both have BatchNorm after every conv, no padding, output stride 8 and
``int(c * width_mult)`` channels per conv (96, 256, 384, 384, 256 at width 1).
Input 127 -> 6x6, 255 -> 22x22, 287 -> 26x26.
"""
from __future__ import annotations

from typing import List

import torch
from torch import nn

from .base import Backbone

__all__ = ["AlexNetLegacy", "AlexNet", "alexnetlegacy", "alexnet"]

_WIDTHS = (96, 256, 384, 384, 256)


def _stage_modules(widths: List[int]) -> List[List[nn.Module]]:
    """Modules of the five stages; conv kernels 11 (stride 2), 5, 3, 3, 3; max-pool after 1 and 2."""
    cin = [3] + widths[:-1]
    stages = []
    for i, (k, s) in enumerate([(11, 2), (5, 1), (3, 1), (3, 1), (3, 1)]):
        mods: List[nn.Module] = [nn.Conv2d(cin[i], widths[i], k, stride=s), nn.BatchNorm2d(widths[i])]
        if i < 2:
            mods.append(nn.MaxPool2d(3, stride=2))
        if i < 4:  # the last stage ends without ReLU
            mods.append(nn.ReLU(inplace=True))
        stages.append(mods)
    return stages


def _widths(width_mult: float) -> List[int]:
    return [int(c * width_mult) for c in _WIDTHS]


class AlexNetLegacy(Backbone):
    """pysot's ``alexnetlegacy``: all layers in ``self.features`` (keys ``features.0`` .. ``features.15``)."""

    def __init__(self, width_mult: float = 1.0):
        super().__init__()
        widths = _widths(width_mult)
        self.features = nn.Sequential(*[m for stage in _stage_modules(widths) for m in stage])
        self.out_channels = [widths[-1]]
        self.strides = [8]

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [self.features(x)]


class AlexNet(Backbone):
    """pysot's ``alexnet``: the same network as five named stages ``layer1`` .. ``layer5``."""

    def __init__(self, width_mult: float = 1.0):
        super().__init__()
        widths = _widths(width_mult)
        for i, stage in enumerate(_stage_modules(widths), start=1):
            self.add_module(f"layer{i}", nn.Sequential(*stage))
        self.out_channels = [widths[-1]]
        self.strides = [8]

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = self.layer5(self.layer4(self.layer3(self.layer2(self.layer1(x)))))
        return [x]


def alexnetlegacy(width_mult: float = 1.0) -> AlexNetLegacy:
    """pysot's legacy AlexNet (SiamRPN AlexNet release)."""
    return AlexNetLegacy(width_mult)


def alexnet(width_mult: float = 1.0) -> AlexNet:
    """pysot's BN AlexNet with named stages (training recipe)."""
    return AlexNet(width_mult)
