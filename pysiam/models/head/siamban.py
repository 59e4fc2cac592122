"""SiamBAN's anchor-free box heads (hqucv/siamban): a depth-wise one per level and their fusion.

Each level has two :class:`~pysiam.models.head.rpn.DepthwiseXCorr` branches on the (neck-
adjusted) features: ``cls`` with 2 channels (background / target logits, softmax) and ``loc``
with 4 (left, top, right, bottom distances). :class:`MultiBAN` runs one per level (``box2``,
``box3``, ``box4`` over ResNet layers 2-4), makes every level's distances positive with
``exp(loc * loc_scale[level])`` (a learned per-level scale) and fuses the levels with
``softmax(cls_weight)`` / ``softmax(loc_weight)`` (``weighted=True``) or a plain mean.

As in SiamBAN's checkpoints the head is stored under ``head.`` and reads the neck's output
(class attributes ``checkpoint_name`` / ``uses_neck``, see :mod:`pysiam.models.heads_layout`).
Interface as the RPN heads: ``encode_template(zf)`` caches the template side, ``match(t, xf)``
gives ``(cls (B, 2, S, S), loc (B, 4, S, S))``, ``forward(zf, xf) = match(encode_template(zf), xf)``;
sample i of ``xf`` is matched against template i.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple, Union

import torch
from torch import nn

from .rpn import DepthwiseXCorr, MultiLevel

__all__ = ["SiamBANDepthwise", "MultiBAN"]

Tensors = Union[torch.Tensor, List[torch.Tensor]]
Kernel = Tuple[torch.Tensor, torch.Tensor]


def _check_cls_channels(cls_out_channels: int) -> int:
    if int(cls_out_channels) != 2:
        raise ValueError(f"BAN.KWARGS.cls_out_channels must be 2 (softmax background / target; the point "
                         f"family decodes 2-channel scores), got {cls_out_channels}")
    return 2


class SiamBANDepthwise(nn.Module):
    """SiamBAN's ``DepthwiseBAN``: depth-wise correlation branches ``cls`` (2) and ``loc`` (4).

    SiamBAN applies ``exp`` only in :class:`MultiBAN`; alone (``exp_loc=True``, the default) this
    head exps its distances itself so that the point family can decode them.
    ``weighted`` is accepted for SiamBAN's keyword set and unused.
    """

    checkpoint_name = "head"
    uses_neck = True

    def __init__(self, in_channels: int = 256, out_channels: int = 256, cls_out_channels: int = 2,
                 weighted: bool = False, exp_loc: bool = True):
        super().__init__()
        self.cls = DepthwiseXCorr(in_channels, out_channels, _check_cls_channels(cls_out_channels))
        self.loc = DepthwiseXCorr(in_channels, out_channels, 4)
        self.exp_loc = bool(exp_loc)

    def encode_template(self, zf: torch.Tensor) -> Kernel:
        """The two correlation kernels (cls, loc)."""
        return self.cls.encode_template(zf), self.loc.encode_template(zf)

    def match_raw(self, kernel: Kernel, xf: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """cls logits and the distances before ``exp``."""
        return self.cls.match(kernel[0], xf), self.loc.match(kernel[1], xf)

    def match(self, kernel: Kernel, xf: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        cls, loc = self.match_raw(kernel, xf)
        return cls, (torch.exp(loc) if self.exp_loc else loc)

    def forward(self, zf: torch.Tensor, xf: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.match(self.encode_template(zf), xf)


class MultiBAN(MultiLevel):
    """One :class:`SiamBANDepthwise` per level (``box2``, ``box3``, ...), fused over levels.

    Level i's distances are ``exp(loc_i * loc_scale[i])``; ``weighted=True`` fuses with
    ``softmax(cls_weight)`` / ``softmax(loc_weight)`` (learned, start equal), else the mean.
    """

    checkpoint_name = "head"
    uses_neck = True

    def __init__(self, in_channels: Sequence[int] = (256, 256, 256), cls_out_channels: int = 2,
                 weighted: bool = False):
        super().__init__()
        in_channels = [int(c) for c in in_channels]
        if not in_channels:
            raise ValueError("MultiBAN needs at least one level (BAN.KWARGS.in_channels is empty)")
        self._add_levels("box", [SiamBANDepthwise(c, c, cls_out_channels, exp_loc=False) for c in in_channels],
                         weighted)
        self.loc_scale = nn.Parameter(torch.ones(self.num))

    def encode_template(self, zfs: Tensors) -> List[Kernel]:
        return [getattr(self, n).encode_template(z) for n, z in zip(self._names, self._levels(zfs))]

    def match(self, kernels: List[Kernel], xfs: Tensors) -> Tuple[torch.Tensor, torch.Tensor]:
        cls: List[torch.Tensor] = []
        loc: List[torch.Tensor] = []
        for i, (name, k, x) in enumerate(zip(self._names, kernels, self._levels(xfs))):
            c, raw = getattr(self, name).match_raw(k, x)
            cls.append(c)
            loc.append(torch.exp(raw * self.loc_scale[i]))
        return self._fuse_levels(cls, loc)
