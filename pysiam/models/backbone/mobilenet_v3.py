"""NanoTrack's backbone: the first blocks of MobileNetV3-Small (output stride 16).

``features`` is a Sequential: the stem (3x3 stride-2 conv, BN, h-swish) followed by 8
inverted-residual blocks (``mobilenetv3_small``, 48 output channels; NanoTrack V1/V2) or 9
(``mobilenetv3_small_v3``, 96 channels; V3). In every block the squeeze-excitation layer sits
between the depth-wise conv's BN and the activation that follows it (not torchvision's order).
Sequential indices count the parameter-free layers too, so the state-dict keys
(``features.N.conv.K...``) match NanoTrack's checkpoints. No conv has a bias; BN eps is 1e-5.

The network input is raw BGR pixels in 0..255 (no normalisation). The forward pass returns a
one-element list, the last block's output: 127 -> 8x8, 255 -> 16x16.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch
from torch import nn

from .base import Backbone

__all__ = ["MobileNetV3Small", "SqueezeExcite", "InvertedResidualV3", "make_divisible",
           "mobilenetv3_small", "mobilenetv3_small_v3"]

# kernel k, expansion ratio t, output channels c, squeeze-excite, h-swish (else ReLU), stride
_BLOCKS: Tuple[Tuple[int, float, int, bool, bool, int], ...] = (
    (3, 1, 16, True, False, 2),
    (3, 4.5, 24, False, False, 2),
    (3, 3.67, 24, False, False, 1),
    (5, 4, 40, True, True, 2),
    (5, 6, 40, True, True, 1),
    (5, 6, 40, True, True, 1),
    (5, 3, 48, True, True, 1),
    (5, 3, 48, True, True, 1),
    (5, 6, 96, True, True, 1),   # V3 only
)


def make_divisible(v: float, divisor: int = 8, min_value: Optional[int] = None) -> int:
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``, default the
    divisor), plus one more ``divisor`` when rounding lost more than 10 % (24 * 3.67 -> 88)."""
    min_value = divisor if min_value is None else min_value
    out = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * v else out


def _activation(hswish: bool) -> nn.Module:
    return nn.Hardswish() if hswish else nn.ReLU(inplace=True)


class SqueezeExcite(nn.Module):
    """Global average pool, Linear(C, r) + ReLU, Linear(r, C) + h-sigmoid, per-channel gate
    (``r = make_divisible(C / 4)``)."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = make_divisible(channels / reduction, 8)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True),
                                nn.Linear(hidden, channels), nn.Hardsigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        return x * self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)


class InvertedResidualV3(nn.Module):
    """[1x1 expand, BN, act,] k x k depth-wise (stride here), BN, SE or Identity, act, 1x1 linear, BN.

    Without expansion (``hidden == inp``) the leading 1x1 is omitted (``conv.0..5``); with it the
    layers are ``conv.0..8``. The input is added back when stride is 1 and ``inp == oup``.
    """

    def __init__(self, inp: int, hidden: int, oup: int, kernel_size: int, stride: int,
                 use_se: bool, use_hs: bool):
        super().__init__()
        self.identity = stride == 1 and inp == oup
        layers: List[nn.Module] = []
        if hidden != inp:
            layers += [nn.Conv2d(inp, hidden, 1, bias=False), nn.BatchNorm2d(hidden), _activation(use_hs)]
        depthwise = [nn.Conv2d(hidden, hidden, kernel_size, stride, (kernel_size - 1) // 2,
                               groups=hidden, bias=False), nn.BatchNorm2d(hidden)]
        gate = SqueezeExcite(hidden) if use_se else nn.Identity()
        if hidden == inp:  # NanoTrack's block 1 orders the activation before the SE layer
            layers += depthwise + [_activation(use_hs), gate]
        else:
            layers += depthwise + [gate, _activation(use_hs)]
        layers += [nn.Conv2d(hidden, oup, 1, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.identity else self.conv(x)


class MobileNetV3Small(Backbone):
    """Stem + the first ``num_blocks`` blocks of NanoTrack's MobileNetV3-Small.

    ``used_layers`` is accepted (NanoTrack's yaml passes it) and ignored: the whole stack runs and
    only its last output is returned.
    """

    def __init__(self, num_blocks: int = 8, width_mult: float = 1.0,
                 used_layers: Optional[Sequence[int]] = None):
        super().__init__()
        if not 1 <= num_blocks <= len(_BLOCKS):
            raise ValueError(f"num_blocks must be 1..{len(_BLOCKS)}, got {num_blocks}")
        inp = make_divisible(16 * width_mult, 8)
        layers: List[nn.Module] = [nn.Sequential(nn.Conv2d(3, inp, 3, 2, 1, bias=False),
                                                 nn.BatchNorm2d(inp), nn.Hardswish())]
        stride = 2
        for k, t, c, use_se, use_hs, s in _BLOCKS[:num_blocks]:
            oup = make_divisible(c * width_mult, 8)
            layers.append(InvertedResidualV3(inp, make_divisible(inp * t, 8), oup, k, s, use_se, use_hs))
            inp, stride = oup, stride * s
        self.features = nn.Sequential(*layers)
        self.out_channels = [inp]
        self.strides = [stride]

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [self.features(x)]


def mobilenetv3_small(**kwargs) -> MobileNetV3Small:
    """NanoTrack V1/V2 backbone: 8 blocks, 48 channels, stride 16."""
    return MobileNetV3Small(num_blocks=8, **kwargs)


def mobilenetv3_small_v3(**kwargs) -> MobileNetV3Small:
    """NanoTrack V3 backbone: 9 blocks, 96 channels, stride 16."""
    return MobileNetV3Small(num_blocks=9, **kwargs)
