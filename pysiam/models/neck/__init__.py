"""Necks by pysot's ``ADJUST.TYPE`` names."""
from __future__ import annotations

from typing import Callable, Dict

from torch import nn

from .adjust import AdjustAllLayer, AdjustLayer

__all__ = ["NECKS", "build_neck", "AdjustLayer", "AdjustAllLayer"]

NECKS: Dict[str, Callable[..., nn.Module]] = {
    "AdjustLayer": AdjustLayer,
    "AdjustAllLayer": AdjustAllLayer,
}


def build_neck(name: str, **kwargs) -> nn.Module:
    """Instantiate the neck registered as ``name``."""
    if name not in NECKS:
        raise KeyError(f"unknown neck type {name!r}; known: {', '.join(sorted(NECKS))}")
    try:
        return NECKS[name](**kwargs)
    except TypeError as e:
        raise TypeError(f"neck {name!r}: bad KWARGS {kwargs}: {e}") from None
