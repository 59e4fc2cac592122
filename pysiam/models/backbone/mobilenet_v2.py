"""MobileNetV2 with pysot's dilated layout (output stride 8).

Stages ``layer0`` (3x3 stride 2 stem, no padding) and ``layer1`` .. ``layer7`` (inverted-residual
blocks). Stages 4..7 keep stride 1 and dilate instead (2, 2, 4, 4; the first block of a stage whose
dilation grows uses half of it). The forward pass returns the outputs of the stages listed in
``used_layers`` (pysot's default [3, 5, 7]).
"""
from __future__ import annotations

from typing import List, Sequence

import torch
from torch import nn

from .base import Backbone

__all__ = ["MobileNetV2", "InvertedResidual", "mobilenetv2"]

# expansion t, channels c, blocks n, stride s, dilation d of stages 1..7
_STAGES = [
    (1, 16, 1, 1, 1),
    (6, 24, 2, 2, 1),
    (6, 32, 3, 2, 1),
    (6, 64, 4, 1, 2),
    (6, 96, 3, 1, 2),
    (6, 160, 3, 1, 4),
    (6, 320, 1, 1, 4),
]


class InvertedResidual(nn.Module):
    """1x1 expand -> 3x3 depth-wise -> 1x1 linear projection, with identity shortcut when shapes allow."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int, dilation: int = 1):
        super().__init__()
        hidden = inp * expand_ratio
        padding = dilation if dilation > 1 else 2 - stride
        self.use_res_connect = stride == 1 and inp == oup
        self.conv = nn.Sequential(
            nn.Conv2d(inp, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride, padding, dilation=dilation, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, oup, 1, bias=False),
            nn.BatchNorm2d(oup),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(Backbone):
    """Dilated MobileNetV2; ``width_mult`` scales every stage as ``int(c * width_mult)``."""

    def __init__(self, width_mult: float = 1.0, used_layers: Sequence[int] = (3, 5, 7)):
        super().__init__()
        used_layers = [int(i) for i in used_layers]
        if not used_layers or any(i < 0 or i > 7 for i in used_layers):
            raise ValueError(f"used_layers must pick from 0..7, got {used_layers}")
        self.used_layers = used_layers
        cin = int(32 * width_mult)
        self.layer0 = nn.Sequential(nn.Conv2d(3, cin, 3, 2, 0, bias=False), nn.BatchNorm2d(cin),
                                    nn.ReLU6(inplace=True))
        channels, strides = [cin], [2]
        stride, last_dilation = 2, 1
        for idx, (t, c, n, s, d) in enumerate(_STAGES, start=1):
            cout = int(c * width_mult)
            first_dilation = d if d == last_dilation else max(d // 2, 1)
            blocks = []
            for i in range(n):
                blocks.append(InvertedResidual(cin, cout, s if i == 0 else 1, t,
                                               first_dilation if i == 0 else d))
                cin = cout
            self.add_module(f"layer{idx}", nn.Sequential(*blocks))
            last_dilation = d
            stride *= s
            channels.append(cout)
            strides.append(stride)
        self._stages = [getattr(self, f"layer{i}") for i in range(max(used_layers) + 1)]
        self.out_channels = [channels[i] for i in used_layers]
        self.strides = [strides[i] for i in used_layers]

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        outs = []
        for stage in self._stages:
            x = stage(x)
            outs.append(x)
        return [outs[i] for i in self.used_layers]


def mobilenetv2(width_mult: float = 1.0, used_layers: Sequence[int] = (3, 5, 7)) -> MobileNetV2:
    """pysot's dilated MobileNetV2."""
    return MobileNetV2(width_mult, used_layers)
