"""Where a head sits in the model: its checkpoint name and whether it reads the neck's output.

pysot's RPN heads are ``rpn_head`` and read the adjusted (neck) features; NanoTrack's BAN heads
are ``ban_head`` and read the raw backbone features (NanoTrack builds a neck and stores its
weights, but never applies it); SiamBAN's heads are ``head`` and read the neck's output. A head
class may declare both as class attributes ``checkpoint_name`` / ``uses_neck``; the table below
holds the defaults.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict

from torch import nn

__all__ = ["HeadLayout", "head_layout", "HEAD_LAYOUTS"]


@dataclass(frozen=True)
class HeadLayout:
    checkpoint_name: str = "rpn_head"
    uses_neck: bool = True


#: head class name -> layout (classes not listed: pysot's ``rpn_head`` behind the neck)
HEAD_LAYOUTS: Dict[str, HeadLayout] = {
    "NanoBANv1": HeadLayout("ban_head", uses_neck=False),
    "NanoBANv2": HeadLayout("ban_head", uses_neck=False),
    "NanoBANv3": HeadLayout("ban_head", uses_neck=False),
    "SiamBANDepthwise": HeadLayout("head", uses_neck=True),
    "MultiBAN": HeadLayout("head", uses_neck=True),
}


def head_layout(head: nn.Module) -> HeadLayout:
    """The layout of ``head``: its class attributes, else the table, else pysot's."""
    base = HEAD_LAYOUTS.get(type(head).__name__, HeadLayout())
    return HeadLayout(getattr(head, "checkpoint_name", base.checkpoint_name),
                      bool(getattr(head, "uses_neck", base.uses_neck)))
