"""Folding eval-mode BatchNorm layers into the convolutions before them (weights folded in float64)."""
from __future__ import annotations

import copy
from typing import Dict, Sequence, Tuple, Type

import torch
from torch import nn

from pysiam.models.backbone.resnet import BasicBlock, Bottleneck, ResNet

__all__ = ["fold_batchnorm", "fuse_conv_bn", "register_conv_bn_pairs"]

#: module class -> (conv attribute, bn attribute) pairs whose forward computes bn(conv(x)) only
_NAMED_CONV_BN: Dict[Type[nn.Module], Tuple[Tuple[str, str], ...]] = {
    ResNet: (("conv1", "bn1"),),
    BasicBlock: (("conv1", "bn1"), ("conv2", "bn2")),
    Bottleneck: (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3")),
}


def register_conv_bn_pairs(cls: Type[nn.Module], pairs: Sequence[Tuple[str, str]]) -> None:
    """Declare that ``cls.forward`` uses ``bn(conv(x))`` (and conv's output nowhere else) for
    each (conv attribute, bn attribute) pair, so :func:`fold_batchnorm` may fold them.
    ``nn.Sequential`` runs of Conv2d -> BatchNorm2d are found without registration."""
    _NAMED_CONV_BN[cls] = tuple((str(c), str(b)) for c, b in pairs)


def _foldable(conv: nn.Module, bn: nn.Module) -> bool:
    return (type(conv) is nn.Conv2d and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats
            and bn.running_mean is not None and conv.out_channels == bn.num_features)


@torch.no_grad()
def fuse_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """One Conv2d computing ``bn(conv(x))`` with ``bn`` in eval mode (folded in float64)."""
    if bn.training:
        raise RuntimeError("fold BatchNorm only in eval mode (call model.eval() first)")
    dtype, device = conv.weight.dtype, conv.weight.device
    scale = torch.rsqrt(bn.running_var.double() + bn.eps)
    if bn.affine:
        scale = scale * bn.weight.double()
    bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)
    bias = (bias - bn.running_mean.double()) * scale
    if bn.affine:
        bias = bias + bn.bias.double()
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                      padding=conv.padding, dilation=conv.dilation, groups=conv.groups, bias=True,
                      padding_mode=conv.padding_mode, device=device, dtype=dtype)
    fused.weight.copy_((conv.weight.double() * scale.view(-1, 1, 1, 1)).to(dtype))
    fused.bias.copy_(bias.to(dtype))
    return fused


def fold_batchnorm(model: nn.Module, inplace: bool = False) -> nn.Module:
    """Fold eval-mode BatchNorm2d layers into the convolutions before them.

    Handles Conv2d -> BatchNorm2d runs inside ``nn.Sequential`` and the named pairs of the
    registered modules (pysiam's ResNet blocks); the BatchNorm becomes ``nn.Identity``. Returns
    the folded model (a deep copy unless ``inplace``). Training-mode models are refused.
    """
    if model.training:
        raise RuntimeError("fold_batchnorm needs an eval-mode model (call model.eval() first)")
    if not inplace:
        model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for a, b in zip(names, names[1:]):
                conv, bn = module._modules[a], module._modules[b]
                if _foldable(conv, bn):
                    module._modules[a] = fuse_conv_bn(conv, bn)
                    module._modules[b] = nn.Identity()
        for cls, pairs in _NAMED_CONV_BN.items():
            if type(module) is cls:
                for a, b in pairs:
                    conv, bn = getattr(module, a, None), getattr(module, b, None)
                    if conv is not None and bn is not None and _foldable(conv, bn):
                        setattr(module, a, fuse_conv_bn(conv, bn))
                        setattr(module, b, nn.Identity())
    return model
