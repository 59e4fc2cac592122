"""ResNet-18/34/50 with pysot's "atrous" layout (output stride 8).

Differences from torchvision's ResNet (parameter names are the same):

* ``conv1`` (7x7, stride 2) has no padding;
* the first block of ``layer2`` uses stride 2 without padding in its strided 3x3 conv, and the
  shortcut convs of ``layer2``, ``layer3`` and ``layer4`` are 3x3 instead of 1x1;
* ``layer3`` and ``layer4`` keep stride 1 and are dilated by 2 and 4; the first block of each
  uses half that dilation in the reshaping conv and the shortcut;
* ``layer3`` / ``layer4`` are built only when ``used_layers`` asks for them.

The forward pass returns ``[stem (conv1+bn1+relu, before max-pool), layer1, layer2, layer3,
layer4][i] for i in used_layers``.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Type, Union

import torch
from torch import nn

from .base import Backbone

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50"]


def _shortcut(inplanes: int, outplanes: int, stride: int, dilation: int) -> nn.Sequential:
    """Projection shortcut: 1x1 when the stage neither strides nor dilates, else 3x3."""
    if stride == 1 and dilation == 1:
        conv = nn.Conv2d(inplanes, outplanes, 1, stride=1, bias=False)
    else:
        d = dilation // 2 if dilation > 1 else 1
        conv = nn.Conv2d(inplanes, outplanes, 3, stride=stride, padding=d if dilation > 1 else 0,
                         dilation=d, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(outplanes))


def _spatial_conv_args(stride: int, dilation: int, first_of_dilated_stage: bool):
    """(dilation, padding) of a block's strided/reshaping 3x3 conv.

    A strided conv gets no padding (stride 2 -> padding 0), a plain one padding 1; in the first
    block of a dilated stage the dilation is halved, and padding equals the dilation when > 1.
    """
    d = dilation // 2 if first_of_dilated_stage else dilation
    pad = d if d > 1 else 2 - stride
    return d, pad


class BasicBlock(nn.Module):
    """Two 3x3 convs (ResNet-18/34)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None, dilation: int = 1):
        super().__init__()
        d, pad = _spatial_conv_args(stride, dilation, downsample is not None and dilation > 1)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=pad, dilation=d, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1 bottleneck (ResNet-50)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None, dilation: int = 1):
        super().__init__()
        if stride != 1 and dilation != 1:
            raise ValueError("a block either strides or dilates, not both")
        d, pad = _spatial_conv_args(stride, dilation, downsample is not None and dilation > 1)
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=pad, dilation=d, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(Backbone):
    """Atrous ResNet returning the levels listed in ``used_layers`` (0 = stem, 1..4 = layer1..4)."""

    def __init__(self, block: Type[Union[BasicBlock, Bottleneck]], layers: Sequence[int],
                 used_layers: Sequence[int] = (2, 3, 4)):
        super().__init__()
        used_layers = [int(i) for i in used_layers]
        if not used_layers or any(i < 0 or i > 4 for i in used_layers):
            raise ValueError(f"used_layers must pick from 0..4, got {used_layers}")
        self.used_layers = used_layers
        self._inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_stage(block, 64, layers[0])
        self.layer2 = self._make_stage(block, 128, layers[1], stride=2)
        channels = [64, 64 * block.expansion, 128 * block.expansion]
        self.layer3 = self.layer4 = None
        if 3 in used_layers:
            self.layer3 = self._make_stage(block, 256, layers[2], dilation=2)
        channels.append(self._inplanes)
        if 4 in used_layers:
            self.layer4 = self._make_stage(block, 512, layers[3], dilation=4)
        channels.append(self._inplanes)
        self._depth = max(used_layers)
        self.out_channels = [channels[i] for i in used_layers]
        self.strides = [[2, 4, 8, 8, 8][i] for i in used_layers]
        self._init_weights()

    def _make_stage(self, block, planes: int, blocks: int, stride: int = 1,
                    dilation: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self._inplanes != planes * block.expansion:
            downsample = _shortcut(self._inplanes, planes * block.expansion, stride, dilation)
        seq = [block(self._inplanes, planes, stride, downsample, dilation=dilation)]
        self._inplanes = planes * block.expansion
        seq += [block(self._inplanes, planes, dilation=dilation) for _ in range(1, blocks)]
        return nn.Sequential(*seq)

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        stem = self.relu(self.bn1(self.conv1(x)))
        levels = [stem]
        if self._depth >= 1:
            x = self.layer1(self.maxpool(stem))
            levels.append(x)
            for stage in (self.layer2, self.layer3, self.layer4)[:self._depth - 1]:
                if stage is not None:  # an unbuilt stage passes its input through
                    x = stage(x)
                levels.append(x)
        return [levels[i] for i in self.used_layers]


def resnet18(used_layers: Sequence[int] = (2, 3, 4)) -> ResNet:
    """Atrous ResNet-18."""
    return ResNet(BasicBlock, [2, 2, 2, 2], used_layers)


def resnet34(used_layers: Sequence[int] = (2, 3, 4)) -> ResNet:
    """Atrous ResNet-34."""
    return ResNet(BasicBlock, [3, 4, 6, 3], used_layers)


def resnet50(used_layers: Sequence[int] = (2, 3, 4)) -> ResNet:
    """Atrous ResNet-50 (SiamRPN++ / SiamMask backbone)."""
    return ResNet(Bottleneck, [3, 4, 6, 3], used_layers)
