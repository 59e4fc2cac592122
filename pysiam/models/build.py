"""``build_model(cfg)``: the network a config describes (the only place that reads its model keys)."""
from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from torch import nn

from .backbone import build_backbone
from .head import build_ban_head, build_mask_head, build_refine_head, build_rpn_head, resolve_ban_type
from .neck import build_neck
from .siam_model import SiamModel

__all__ = ["build_model", "build_head", "build_and_load", "head_needs_snapshot"]


def _kwargs(node) -> Dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dict(node).items()}


def _ban_enabled(cfg) -> bool:
    ban = cfg.get("BAN", None)
    return ban is not None and bool(ban.get("BAN", False))


def build_head(cfg, snapshot_keys: Optional[Iterable[str]] = None) -> nn.Module:
    """The box head: ``BAN`` section when ``BAN.BAN`` is on (anchor-free), else ``RPN``.

    NanoTrack's own ``BAN.TYPE: DepthwiseBAN`` names three different heads; ``snapshot_keys``
    (the keys of the checkpoint that will be loaded) tell them apart.
    """
    if _ban_enabled(cfg):
        name = resolve_ban_type(str(cfg.BAN.TYPE), str(cfg.BACKBONE.TYPE), snapshot_keys)
        return build_ban_head(name, **_kwargs(cfg.BAN.KWARGS))
    return build_rpn_head(cfg.RPN.TYPE, **_kwargs(cfg.RPN.KWARGS))


def _check_neck(cfg, backbone, neck, mask_head) -> None:
    if neck is None or not hasattr(neck, "in_channels"):
        return
    head_channels = backbone.out_channels[-1:] if mask_head is not None else backbone.out_channels
    neck_in = neck.in_channels if isinstance(neck.in_channels, list) else [neck.in_channels]
    if list(neck_in) != list(head_channels):
        raise ValueError(f"ADJUST.KWARGS.in_channels {neck_in} does not match the channels "
                         f"{head_channels} of backbone {cfg.BACKBONE.TYPE} {_kwargs(cfg.BACKBONE.KWARGS)}")


def build_model(cfg, load_backbone_weights: bool = False,
                snapshot_keys: Optional[Iterable[str]] = None) -> SiamModel:
    """Build the network described by ``cfg`` (BACKBONE, ADJUST, RPN or BAN, MASK, REFINE sections).

    ``load_backbone_weights=True`` also loads ``cfg.BACKBONE.PRETRAINED`` (ImageNet weights, see
    :func:`pysiam.models.checkpoint.load_pretrained_backbone`) when it is set.
    """
    backbone = build_backbone(cfg.BACKBONE.TYPE, **_kwargs(cfg.BACKBONE.KWARGS))
    neck = build_neck(cfg.ADJUST.TYPE, **_kwargs(cfg.ADJUST.KWARGS)) if cfg.ADJUST.ADJUST else None
    head = build_head(cfg, snapshot_keys)
    mask_head = refine_head = None
    if cfg.MASK.MASK:
        mask_head = build_mask_head(cfg.MASK.TYPE, **_kwargs(cfg.MASK.KWARGS))
        if cfg.REFINE.REFINE:
            refine_head = build_refine_head(cfg.REFINE.TYPE)
    model = SiamModel(backbone, head, neck=neck, mask_head=mask_head, refine_head=refine_head)
    if model.neck_feeds_head:
        _check_neck(cfg, backbone, neck, mask_head)
    if load_backbone_weights and cfg.BACKBONE.PRETRAINED:
        from .checkpoint import load_pretrained_backbone
        load_pretrained_backbone(model.backbone, cfg.BACKBONE.PRETRAINED)
    return model


def head_needs_snapshot(cfg) -> bool:
    """Whether the head type can only be told from the weights (NanoTrack's own ``DepthwiseBAN``
    on ``mobilenetv3_small`` names both V1 and V2)."""
    return _ban_enabled(cfg) and str(cfg.BAN.TYPE) == "DepthwiseBAN"


def build_and_load(cfg, snapshot: str = "", *, trust: bool = False) -> SiamModel:
    """The network of ``cfg`` with the weights of ``snapshot`` ('' = random weights): what every
    tool calls. Files are unpickled safely unless ``trust`` (UNSAFE: runs code from the file)."""
    from .checkpoint import load_checkpoint, read_state_dict

    keys = None
    if snapshot and head_needs_snapshot(cfg):
        keys = list(read_state_dict(snapshot, trust=trust)[0])
    model = build_model(cfg, snapshot_keys=keys)
    if snapshot:
        load_checkpoint(model, snapshot, trust=trust)
    return model
