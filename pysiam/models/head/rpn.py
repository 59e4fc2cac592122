"""Region-proposal heads: up-channel (SiamRPN), depth-wise (SiamRPN++) and their multi-level fusion.

Every head splits its work into two steps so that a tracker can cache the template side:

* ``encode_template(zf)`` -> whatever the head derives from the template features alone;
* ``match(template, xf)`` -> ``(cls, loc)`` for the search features.

``forward(zf, xf)`` is ``match(encode_template(zf), xf)``. Output channels: ``cls`` has
``2 * anchor_num`` (class-major: all background, then all foreground), ``loc`` has
``4 * anchor_num`` (coordinate-major: dx, dy, dw, dh, each for every anchor).
"""
from __future__ import annotations

from typing import Any, List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from ..xcorr import xcorr_depthwise, xcorr_fast

__all__ = ["DepthwiseXCorr", "UPChannelRPN", "DepthwiseRPN", "MultiLevel", "MultiRPN"]

Tensors = Union[torch.Tensor, List[torch.Tensor]]


def _conv_bn_relu(cin: int, cout: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DepthwiseXCorr(nn.Module):
    """conv-BN-ReLU on both inputs, depth-wise correlation, then 1x1 conv-BN-ReLU and a 1x1 conv.

    ``conv_kernel`` / ``conv_search`` (k x k, no padding) embed template and search; ``head`` maps
    the ``hidden``-channel correlation to ``out_channels``.
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, kernel_size: int = 3):
        super().__init__()
        self.conv_kernel = _conv_bn_relu(in_channels, hidden, kernel_size)
        self.conv_search = _conv_bn_relu(in_channels, hidden, kernel_size)
        self.head = nn.Sequential(
            nn.Conv2d(hidden, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, out_channels, 1),
        )

    def encode_template(self, z: torch.Tensor) -> torch.Tensor:
        """The correlation kernel (template embedding)."""
        return self.conv_kernel(z)

    def correlate(self, kernel: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Depth-wise correlation of the embedded search map with a cached kernel (before ``head``)."""
        return xcorr_depthwise(self.conv_search(x), kernel)

    def match(self, kernel: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.correlate(kernel, x))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.match(self.encode_template(z), x)


class UPChannelRPN(nn.Module):
    """SiamRPN's up-channel head: the template conv produces full kernels for every output channel.

    Keyword names follow pysot (``feature_in``).
    """

    def __init__(self, anchor_num: int = 5, feature_in: int = 256):
        super().__init__()
        cls_out, loc_out = 2 * anchor_num, 4 * anchor_num
        self.template_cls_conv = nn.Conv2d(feature_in, feature_in * cls_out, 3)
        self.template_loc_conv = nn.Conv2d(feature_in, feature_in * loc_out, 3)
        self.search_cls_conv = nn.Conv2d(feature_in, feature_in, 3)
        self.search_loc_conv = nn.Conv2d(feature_in, feature_in, 3)
        self.loc_adjust = nn.Conv2d(loc_out, loc_out, 1)

    def encode_template(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.template_cls_conv(z), self.template_loc_conv(z)

    def match(self, template: Tuple[torch.Tensor, torch.Tensor],
              x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        cls_kernel, loc_kernel = template
        cls = xcorr_fast(self.search_cls_conv(x), cls_kernel)
        loc = self.loc_adjust(xcorr_fast(self.search_loc_conv(x), loc_kernel))
        return cls, loc

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.match(self.encode_template(z), x)


class DepthwiseRPN(nn.Module):
    """Two :class:`DepthwiseXCorr` branches, ``cls`` and ``loc``."""

    def __init__(self, anchor_num: int = 5, in_channels: int = 256, out_channels: int = 256):
        super().__init__()
        self.cls = DepthwiseXCorr(in_channels, out_channels, 2 * anchor_num)
        self.loc = DepthwiseXCorr(in_channels, out_channels, 4 * anchor_num)

    def encode_template(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.cls.encode_template(z), self.loc.encode_template(z)

    def match(self, template: Tuple[torch.Tensor, torch.Tensor],
              x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.cls.match(template[0], x), self.loc.match(template[1], x)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.match(self.encode_template(z), x)


class MultiLevel(nn.Module):
    """Base of the multi-level heads: one sub-head per feature level, named ``<prefix><level + 2>``
    (``rpn2``, ``rpn3``, ... over ResNet layers 2-4), whose ``(cls, loc)`` maps are fused by a plain
    mean or, with ``weighted``, by the learned ``softmax(cls_weight)`` / ``softmax(loc_weight)``.

    Subclasses call :meth:`_add_levels` in ``__init__`` and implement ``encode_template`` and
    ``match`` (ending in :meth:`_fuse_levels`).
    """

    def _add_levels(self, prefix: str, heads: Sequence[nn.Module], weighted: bool) -> None:
        self.weighted = bool(weighted)
        self.num = len(heads)
        self._names = [f"{prefix}{i + 2}" for i in range(self.num)]
        for name, head in zip(self._names, heads):
            self.add_module(name, head)
        if self.weighted:
            self.cls_weight = nn.Parameter(torch.ones(self.num))
            self.loc_weight = nn.Parameter(torch.ones(self.num))

    def _levels(self, feats: Tensors) -> List[torch.Tensor]:
        feats = [feats] if isinstance(feats, torch.Tensor) else list(feats)
        if len(feats) != self.num:
            raise ValueError(f"{type(self).__name__} expects {self.num} feature levels, got {len(feats)}")
        return feats

    def _fuse_levels(self, cls: List[torch.Tensor], loc: List[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.weighted:
            return self.fuse(cls, F.softmax(self.cls_weight, 0)), self.fuse(loc, F.softmax(self.loc_weight, 0))
        return sum(cls) / self.num, sum(loc) / self.num

    @staticmethod
    def fuse(maps: List[torch.Tensor], weights: torch.Tensor) -> torch.Tensor:
        """Weighted sum of per-level maps."""
        return sum(m * w for m, w in zip(maps, weights))

    def forward(self, zs: Tensors, xs: Tensors) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.match(self.encode_template(zs), xs)


class MultiRPN(MultiLevel):
    """One :class:`DepthwiseRPN` per level (``rpn2``, ``rpn3``, ...), outputs fused over levels.

    ``weighted=True``: weights ``softmax(cls_weight)`` / ``softmax(loc_weight)`` (learned, start
    equal); ``weighted=False``: plain mean.
    """

    def __init__(self, anchor_num: int = 5, in_channels: Sequence[int] = (256, 256, 256), weighted: bool = False):
        super().__init__()
        self._add_levels("rpn", [DepthwiseRPN(anchor_num, c, c) for c in in_channels], weighted)

    def encode_template(self, zs: Tensors) -> List[Any]:
        return [getattr(self, n).encode_template(z) for n, z in zip(self._names, self._levels(zs))]

    def match(self, template: List[Any], xs: Tensors) -> Tuple[torch.Tensor, torch.Tensor]:
        outs = [getattr(self, n).match(t, x) for n, t, x in zip(self._names, template, self._levels(xs))]
        return self._fuse_levels([o[0] for o in outs], [o[1] for o in outs])
