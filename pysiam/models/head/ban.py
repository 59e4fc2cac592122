"""NanoTrack's anchor-free (SiamBAN-style) heads V1 and V2, shared parts, and version detection.

Like the RPN heads, every head splits its work so that a tracker can cache the template side:
``encode_template(zf)`` -> a tuple of template tensors, ``match(kernel, xf)`` -> ``(cls, loc)``,
``forward(zf, xf) = match(encode_template(zf), xf)``. ``cls`` (B, 2, S, S) holds background /
target logits, ``loc`` (B, 4, S, S) the exp'd (left, top, right, bottom) distances in search-crop
pixels. Sample i of ``xf`` is matched against template i.

The heads read the raw backbone features (NanoTrack builds a neck but never applies it).
NanoTrack's yaml gives ``BAN.KWARGS.in_channels/out_channels`` (64 for V1/V2); the heads accept
and ignore them and size themselves from ``feature_channels`` (the backbone's output channels).
"""
from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Tuple

import torch
from torch import nn

__all__ = ["ChannelAttention", "pixelwise_xcorr", "dw_pw_tower", "conv1x1_bn", "NanoBANv1",
           "NanoBANv2", "nanotrack_head_version", "resolve_ban_type"]

Kernel = Tuple[torch.Tensor, ...]


def pixelwise_xcorr(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) template x (B, C, H, W) search -> (B, h*w, H, W):
    ``out[b, i*w + j, y, x] = sum_c z[b, c, i, j] * x[b, c, y, x]`` (a batched matrix product)."""
    b, c, h, w = z.shape
    if x.shape[:2] != (b, c):
        raise ValueError(f"template {tuple(z.shape)} and search {tuple(x.shape)} differ in batch/channels")
    out = torch.bmm(z.reshape(b, c, h * w).transpose(1, 2), x.reshape(b, c, -1))
    return out.view(b, h * w, x.shape[2], x.shape[3])


class ChannelAttention(nn.Module):
    """Global average pool, 1x1 conv + ReLU, 1x1 conv + sigmoid, per-channel gate (keys fc1/fc2)."""

    def __init__(self, channels: int = 64):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels, channels, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))


def conv1x1_bn(channels: int) -> nn.Sequential:
    """1x1 conv with bias, then BN (no activation): the template / search adapters."""
    return nn.Sequential(nn.Conv2d(channels, channels, 1), nn.BatchNorm2d(channels))


def dw_pw_tower(cin: int, widths: Sequence[int], kernels: Sequence[int]) -> nn.Sequential:
    """V1/V2 tower: per layer a k x k depth-wise conv, a 1x1 conv, BN, ReLU6 (no biases, "same" padding)."""
    layers: List[nn.Module] = []
    for cout, k in zip(widths, kernels):
        layers += [nn.Conv2d(cin, cin, k, padding=k // 2, groups=cin, bias=False),
                   nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6(inplace=True)]
        cin = cout
    return nn.Sequential(*layers)


class PixelwiseCorr(nn.Module):
    """Optional 1x1 conv+BN adapters on template/search, pixel-wise correlation, channel attention."""

    def __init__(self, channels: int, adapters: bool, template_cells: int = 64):
        super().__init__()
        self.CA_layer = ChannelAttention(template_cells)
        self.adapters = adapters
        if adapters:
            self.conv_kernel = conv1x1_bn(channels)
            self.conv_search = conv1x1_bn(channels)

    def encode_template(self, z: torch.Tensor) -> torch.Tensor:
        return self.conv_kernel(z) if self.adapters else z

    def match(self, kernel: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_search(x) if self.adapters else x
        return self.CA_layer(pixelwise_xcorr(kernel, x))


class _TwoStepHead(nn.Module):
    def forward(self, zf: torch.Tensor, xf: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.match(self.encode_template(zf), xf)


class NanoBANv1(_TwoStepHead):
    """V1: one shared pixel-wise correlation (no adapters) + CA feeding a 3-layer cls tower
    (dw 5/5/3, 64->128->128->128) and a 4-layer bbox tower (dw 3/3/5/5, 64->96->96->96->96)."""

    def __init__(self, in_channels: int = 64, out_channels: int = 64, feature_channels: int = 48,
                 template_cells: int = 64):
        super().__init__()
        self.corr_pw = PixelwiseCorr(feature_channels, adapters=False, template_cells=template_cells)
        self.cls_tower = dw_pw_tower(template_cells, (128, 128, 128), (5, 5, 3))
        self.bbox_tower = dw_pw_tower(template_cells, (96, 96, 96, 96), (3, 3, 5, 5))
        self.cls_logits = nn.Sequential(nn.Conv2d(128, 2, 1))
        self.bbox_pred = nn.Sequential(nn.Conv2d(96, 4, 1))

    def encode_template(self, zf: torch.Tensor) -> Kernel:
        return (self.corr_pw.encode_template(zf),)

    def match(self, kernel: Kernel, xf: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        corr = self.corr_pw.match(kernel[0], xf)
        return self.cls_logits(self.cls_tower(corr)), torch.exp(self.bbox_pred(self.bbox_tower(corr)))


class NanoBANv2(_TwoStepHead):
    """V2: separate reg / cls pixel-wise correlations with 1x1 conv+BN adapters, each + CA,
    then two 6-layer towers (dw 3x3, 64->96, then 96->96)."""

    def __init__(self, in_channels: int = 64, out_channels: int = 64, feature_channels: int = 48,
                 template_cells: int = 64):
        super().__init__()
        self.corr_pw_reg = PixelwiseCorr(feature_channels, adapters=True, template_cells=template_cells)
        self.corr_pw_cls = PixelwiseCorr(feature_channels, adapters=True, template_cells=template_cells)
        widths, kernels = (96,) * 6, (3,) * 6
        self.cls_pw_tower = dw_pw_tower(template_cells, widths, kernels)
        self.bbox_pw_tower = dw_pw_tower(template_cells, widths, kernels)
        self.cls_pred = nn.Sequential(nn.Conv2d(96, 2, 1))
        self.bbox_pred = nn.Sequential(nn.Conv2d(96, 4, 1))

    def encode_template(self, zf: torch.Tensor) -> Kernel:
        return self.corr_pw_reg.encode_template(zf), self.corr_pw_cls.encode_template(zf)

    def match(self, kernel: Kernel, xf: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        reg = self.corr_pw_reg.match(kernel[0], xf)
        cls = self.corr_pw_cls.match(kernel[1], xf)
        return self.cls_pred(self.cls_pw_tower(cls)), torch.exp(self.bbox_pred(self.bbox_pw_tower(reg)))


def nanotrack_head_version(state_dict_keys: Iterable[str]) -> int:
    """1, 2 or 3: which NanoTrack head a checkpoint's keys belong to.

    V3 has depth-wise correlation modules (``corr_dw_*``), V2 its ``cls_pw_tower`` (and
    ``cls_pred``), V1 a single ``corr_pw``. Keys may carry ``module.`` / ``ban_head.`` prefixes.
    NanoTrack's own yaml says ``BAN.TYPE: DepthwiseBAN`` for all three versions: with backbone
    ``mobilenetv3_small_v3`` that is V3; with ``mobilenetv3_small`` it is V1 or V2, which only
    the snapshot tells apart (without one, pysiam's tools assume V2).
    """
    keys = list(state_dict_keys)
    if any(".corr_dw_" in f".{k}" for k in keys):
        return 3
    if any(".cls_pw_tower." in f".{k}" or ".cls_pred." in f".{k}" for k in keys):
        return 2
    if any(".corr_pw." in f".{k}" for k in keys):
        return 1
    raise ValueError("not a NanoTrack checkpoint: no 'corr_dw_*', 'cls_pw_tower' or 'corr_pw' keys "
                     f"(keys like {keys[:3]})")


def resolve_ban_type(ban_type: str, backbone_type: str, state_dict_keys: Optional[Iterable[str]] = None) -> str:
    """pysiam's head name for a ``BAN.TYPE``: ``NanoBANv1/2/3`` pass through; NanoTrack's own
    ``DepthwiseBAN`` becomes ``NanoBANv3`` with ``mobilenetv3_small_v3``, and with
    ``mobilenetv3_small`` the version found in ``state_dict_keys`` (a snapshot's keys), else
    ``NanoBANv2`` (the documented default when no snapshot is given)."""
    if ban_type != "DepthwiseBAN":
        return ban_type
    if state_dict_keys is not None:
        return f"NanoBANv{nanotrack_head_version(state_dict_keys)}"
    return "NanoBANv3" if backbone_type == "mobilenetv3_small_v3" else "NanoBANv2"
