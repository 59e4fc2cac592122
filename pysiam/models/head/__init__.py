"""Heads by pysot's ``RPN.TYPE`` / ``MASK.TYPE`` / ``REFINE.TYPE`` names."""
from __future__ import annotations

from typing import Callable, Dict

from torch import nn

from .mask import MaskCorr, Refine
from .rpn import DepthwiseRPN, DepthwiseXCorr, MultiRPN, UPChannelRPN

__all__ = ["RPN_HEADS", "MASK_HEADS", "REFINE_HEADS", "build_rpn_head", "build_mask_head",
           "build_refine_head", "UPChannelRPN", "DepthwiseRPN", "DepthwiseXCorr", "MultiRPN",
           "MaskCorr", "Refine"]

RPN_HEADS: Dict[str, Callable[..., nn.Module]] = {
    "UPChannelRPN": UPChannelRPN,
    "DepthwiseRPN": DepthwiseRPN,
    "MultiRPN": MultiRPN,
}
MASK_HEADS: Dict[str, Callable[..., nn.Module]] = {"MaskCorr": MaskCorr}
REFINE_HEADS: Dict[str, Callable[..., nn.Module]] = {"Refine": Refine}


def _build(table: Dict[str, Callable[..., nn.Module]], kind: str, name: str, kwargs) -> nn.Module:
    if name not in table:
        raise KeyError(f"unknown {kind} type {name!r}; known: {', '.join(sorted(table))}")
    try:
        return table[name](**kwargs)
    except TypeError as e:
        raise TypeError(f"{kind} {name!r}: bad KWARGS {kwargs}: {e}") from None


def build_rpn_head(name: str, **kwargs) -> nn.Module:
    """Instantiate the RPN head registered as ``name``."""
    return _build(RPN_HEADS, "RPN head", name, kwargs)


def build_mask_head(name: str, **kwargs) -> nn.Module:
    """Instantiate the mask head registered as ``name``."""
    return _build(MASK_HEADS, "mask head", name, kwargs)


def build_refine_head(name: str, **kwargs) -> nn.Module:
    """Instantiate the refine module registered as ``name``."""
    return _build(REFINE_HEADS, "refine head", name, kwargs)
