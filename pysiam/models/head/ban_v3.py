"""NanoTrack V3's head: per branch a pixel-wise and a (padded) depth-wise correlation, fused.

Each branch (reg, cls) concatenates

* pixel-wise correlation of 1x1-conv+BN adapted features, channel attention, then a 2x2
  depth-wise conv + BN + ReLU6 + 1x1 conv + BN (64 channels, 16x16 -> 15x15), and
* depth-wise correlation of the adapted search map with the adapted **centre 4x4** of the
  template, zero padding 1 (96 channels, 16 + 2 - 4 + 1 = 15),

reduces the 160 channels to 96 with a 1x1 conv and runs a 6-unit tower (dw 3x3, BN, ReLU6,
1x1, BN; each unit ends linear). Outputs cls (B, 2, 15, 15) and exp'd loc (B, 4, 15, 15).
"""
from __future__ import annotations

from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .ban import ChannelAttention, Kernel, _TwoStepHead, conv1x1_bn, pixelwise_xcorr

__all__ = ["NanoBANv3", "xcorr_depthwise_padded", "centre_crop"]


def centre_crop(z: torch.Tensor, size: int = 4) -> torch.Tensor:
    """The centre ``size`` x ``size`` of a template map wider than ``size`` (8x8 -> rows/cols 2..5)."""
    if z.shape[-1] <= size:
        return z
    lo = (z.shape[-1] - size) // 2
    return z[:, :, lo:lo + size, lo:lo + size]


def xcorr_depthwise_padded(x: torch.Tensor, kernel: torch.Tensor, padding: int = 1) -> torch.Tensor:
    """Channel-by-channel correlation of x (B, C, H, W) with kernel (B, C, k, k), zero padding."""
    b, c = kernel.shape[:2]
    out = F.conv2d(x.reshape(1, b * c, x.shape[2], x.shape[3]),
                   kernel.reshape(b * c, 1, kernel.shape[2], kernel.shape[3]), groups=b * c, padding=padding)
    return out.view(b, c, out.shape[2], out.shape[3])


class PixelwiseBranch(nn.Module):
    """Adapters, pixel-wise correlation + CA, then 2x2 dw conv, BN, ReLU6, 1x1 conv, BN."""

    def __init__(self, channels: int, template_cells: int = 64):
        super().__init__()
        self.CA_layer = ChannelAttention(template_cells)
        self.conv_kernel = conv1x1_bn(channels)
        self.conv_search = conv1x1_bn(channels)
        n = template_cells
        self.conv = nn.Sequential(nn.Conv2d(n, n, 2, groups=n, bias=False), nn.BatchNorm2d(n),
                                  nn.ReLU6(inplace=True), nn.Conv2d(n, n, 1), nn.BatchNorm2d(n))

    def encode_template(self, z: torch.Tensor) -> torch.Tensor:
        return self.conv_kernel(z)

    def match(self, kernel: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.CA_layer(pixelwise_xcorr(kernel, self.conv_search(x))))


class DepthwiseBranch(nn.Module):
    """Adapters on the template's centre 4x4 and on the search map, padded depth-wise correlation."""

    def __init__(self, channels: int, crop: int = 4):
        super().__init__()
        self.crop = crop
        self.conv_kernel = conv1x1_bn(channels)
        self.conv_search = conv1x1_bn(channels)

    def encode_template(self, z: torch.Tensor) -> torch.Tensor:
        return self.conv_kernel(centre_crop(z, self.crop))

    def match(self, kernel: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return xcorr_depthwise_padded(self.conv_search(x), kernel, padding=1)


def _tower(channels: int, units: int = 6) -> nn.Sequential:
    layers: List[nn.Module] = []
    for _ in range(units):
        layers += [nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
                   nn.BatchNorm2d(channels), nn.ReLU6(inplace=True),
                   nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels)]
    return nn.Sequential(*layers)


class NanoBANv3(_TwoStepHead):
    """NanoTrack V3 head (see the module docstring). ``in_channels`` / ``out_channels`` (the yaml's
    96, 96) are accepted and ignored; ``feature_channels`` is the backbone's output width."""

    def __init__(self, in_channels: int = 96, out_channels: int = 96, feature_channels: int = 96,
                 template_cells: int = 64, tower_channels: int = 96):
        super().__init__()
        c, n, t = feature_channels, template_cells, tower_channels
        self.corr_dw_reg = DepthwiseBranch(c)
        self.corr_pw_reg = PixelwiseBranch(c, n)
        self.corr_dw_cls = DepthwiseBranch(c)
        self.corr_pw_cls = PixelwiseBranch(c, n)
        self.cls_tower = _tower(t)
        self.bbox_tower = _tower(t)
        self.cls_logits = nn.Sequential(nn.Conv2d(t, 2, 1))
        self.bbox_pred = nn.Sequential(nn.Conv2d(t, 4, 1))
        self.down_reg = nn.Sequential(nn.Conv2d(n + c, t, 1))
        self.down_cls = nn.Sequential(nn.Conv2d(n + c, t, 1))

    def encode_template(self, zf: torch.Tensor) -> Kernel:
        """(pixel-wise reg, pixel-wise cls, depth-wise reg, depth-wise cls) template tensors."""
        return (self.corr_pw_reg.encode_template(zf), self.corr_pw_cls.encode_template(zf),
                self.corr_dw_reg.encode_template(zf), self.corr_dw_cls.encode_template(zf))

    def match(self, kernel: Kernel, xf: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        pw_reg, pw_cls, dw_reg, dw_cls = kernel
        reg = self.down_reg(torch.cat([self.corr_pw_reg.match(pw_reg, xf),
                                       self.corr_dw_reg.match(dw_reg, xf)], 1))
        cls = self.down_cls(torch.cat([self.corr_pw_cls.match(pw_cls, xf),
                                       self.corr_dw_cls.match(dw_cls, xf)], 1))
        return self.cls_logits(self.cls_tower(cls)), torch.exp(self.bbox_pred(self.bbox_tower(reg)))
