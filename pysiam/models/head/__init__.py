"""Heads by pysot's ``RPN.TYPE`` / ``MASK.TYPE`` / ``REFINE.TYPE`` names and NanoTrack's ``BAN.TYPE``."""
from __future__ import annotations

from typing import Callable, Dict

from torch import nn

from ..tables import build_from_table
from .ban import NanoBANv1, NanoBANv2, nanotrack_head_version, resolve_ban_type
from .ban_v3 import NanoBANv3
from .mask import MaskCorr, Refine
from .rpn import DepthwiseRPN, DepthwiseXCorr, MultiRPN, UPChannelRPN
from .siamban import MultiBAN, SiamBANDepthwise

__all__ = ["RPN_HEADS", "MASK_HEADS", "REFINE_HEADS", "build_rpn_head", "build_mask_head",
           "build_refine_head", "UPChannelRPN", "DepthwiseRPN", "DepthwiseXCorr", "MultiRPN",
           "MaskCorr", "Refine", "BAN_HEADS", "build_ban_head", "NanoBANv1", "NanoBANv2", "NanoBANv3",
           "nanotrack_head_version", "resolve_ban_type", "SiamBANDepthwise", "MultiBAN"]

RPN_HEADS: Dict[str, Callable[..., nn.Module]] = {
    "UPChannelRPN": UPChannelRPN,
    "DepthwiseRPN": DepthwiseRPN,
    "MultiRPN": MultiRPN,
}
MASK_HEADS: Dict[str, Callable[..., nn.Module]] = {"MaskCorr": MaskCorr}
REFINE_HEADS: Dict[str, Callable[..., nn.Module]] = {"Refine": Refine}
#: anchor-free heads: NanoTrack's (its own name ``DepthwiseBAN``: see :func:`resolve_ban_type`) and SiamBAN's
BAN_HEADS: Dict[str, Callable[..., nn.Module]] = {
    "NanoBANv1": NanoBANv1,
    "NanoBANv2": NanoBANv2,
    "NanoBANv3": NanoBANv3,
    "SiamBANDepthwise": SiamBANDepthwise,
    "MultiBAN": MultiBAN,
}


def build_rpn_head(name: str, **kwargs) -> nn.Module:
    """Instantiate the RPN head registered as ``name``."""
    return build_from_table(RPN_HEADS, "RPN head", name, kwargs)


def build_ban_head(name: str, **kwargs) -> nn.Module:
    """Instantiate the anchor-free (BAN: NanoTrack, SiamBAN) head registered as ``name``."""
    return build_from_table(BAN_HEADS, "BAN head", name, kwargs)


def build_mask_head(name: str, **kwargs) -> nn.Module:
    """Instantiate the mask head registered as ``name``."""
    return build_from_table(MASK_HEADS, "mask head", name, kwargs)


def build_refine_head(name: str, **kwargs) -> nn.Module:
    """Instantiate the refine module registered as ``name``."""
    return build_from_table(REFINE_HEADS, "refine head", name, kwargs)
