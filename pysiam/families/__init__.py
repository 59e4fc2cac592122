"""Head families: the box coding (priors, window, batched decoding, training targets and losses)
of each kind of head, looked up once from the config.

    family = build_family(cfg)          # AnchorFamily for RPN heads, PointFamily for BAN heads
    scores, boxes = family.decode(out["cls"], out["loc"])   # (B, N), (B, 4, N) on the host
"""
from __future__ import annotations

from typing import Any, Callable, Dict

from .anchor import AnchorFamily
from .base import Grid, HeadFamily
from .point import PointFamily

__all__ = ["FAMILIES", "build_family", "family_name", "HeadFamily", "Grid", "AnchorFamily", "PointFamily"]

#: family name -> constructor from a config
FAMILIES: Dict[str, Callable[[Any], HeadFamily]] = {
    "anchor": AnchorFamily.from_config,
    "point": PointFamily.from_config,
}


def family_name(cfg: Any) -> str:
    """'point' when the config enables a BAN head (``BAN.BAN``), else 'anchor' (pysot's RPN)."""
    ban = cfg.get("BAN", None)
    return "point" if ban is not None and bool(ban.get("BAN", False)) else "anchor"


def build_family(cfg: Any) -> HeadFamily:
    """The head family of ``cfg``."""
    return FAMILIES[family_name(cfg)](cfg)
