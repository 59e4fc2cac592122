"""Necks by pysot's ``ADJUST.TYPE`` names."""
from __future__ import annotations

from typing import Any, Callable, Dict

from torch import nn

from ..tables import build_from_table
from .adjust import AdjustAllLayer, AdjustLayer

__all__ = ["NECKS", "build_neck", "AdjustLayer", "AdjustAllLayer"]

NECKS: Dict[str, Callable[..., nn.Module]] = {
    "AdjustLayer": AdjustLayer,
    "AdjustAllLayer": AdjustAllLayer,
}


def build_neck(name: str, **kwargs: Any) -> nn.Module:
    """Instantiate the neck registered as ``name``."""
    return build_from_table(NECKS, "neck", name, kwargs)
