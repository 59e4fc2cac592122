"""What is trained when: parameter groups, freezing, BatchNorm modes, the backbone unfreeze.

The SGD optimizer is built once with one group per part (``backbone`` = the
``BACKBONE.TRAIN_LAYERS`` at ``BASE_LR * LAYERS_LR``, then ``neck`` (when it feeds the head), the
box head (``model.head_name``: ``rpn_head``, ``ban_head`` or ``head``), ``mask_head``, ``refine_head``
at ``BASE_LR``). Frozen parameters have ``requires_grad=False`` and no gradient,
so SGD skips them (no weight decay, no momentum buffer); unfreezing the backbone at
``BACKBONE.TRAIN_EPOCH`` only flips ``requires_grad`` and the BatchNorm modes, so the heads keep
their momentum. pysot rebuilt the optimizer there instead, dropping all momentum
(``TRAIN.UNFREEZE_RESET_MOMENTUM True`` does the same).

Frozen parts keep their BatchNorm statistics (eval mode), as in pysot. Everything comes from a
:class:`pysiam.training.settings.TrainableSettings` (read from the config once).
"""
from __future__ import annotations

from typing import Dict, List

import torch
from torch import nn

from .settings import TrainableSettings

__all__ = ["head_modules", "backbone_train_layers", "build_optimizer", "apply_trainable", "set_train_modes"]


def _box_parts(model: nn.Module) -> List[str]:
    """The neck (when the head reads it; NanoTrack keeps an unused one) and the box head."""
    neck = ["neck"] if getattr(model, "neck_feeds_head", True) else []
    return neck + [getattr(model, "head_name", "rpn_head")]


def head_modules(model: nn.Module, stage: str) -> Dict[str, nn.Module]:
    """The non-backbone parts trained in ``stage``, by name."""
    if stage == "refine":  # SiamMask's second stage: the refine module and the mask correlation
        names = ["mask_head", "refine_head"]
    else:
        names = _box_parts(model) + (["mask_head"] if stage == "mask" else [])
    return {n: getattr(model, n) for n in names if getattr(model, n, None) is not None}


def backbone_train_layers(model: nn.Module, s: TrainableSettings) -> Dict[str, nn.Module]:
    """``BACKBONE.TRAIN_LAYERS`` as modules of the backbone (e.g. layer2, or conv1 / bn1)."""
    out = {}
    for name in s.train_layers:
        mod = getattr(model.backbone, name, None)
        if not isinstance(mod, nn.Module):
            have = [n for n, _ in model.backbone.named_children()]
            raise ValueError(f"BACKBONE.TRAIN_LAYERS names {name!r}, which backbone {s.backbone_type} "
                             f"does not have (its parts: {', '.join(have)})")
        out[name] = mod
    return out


def build_optimizer(model: nn.Module, s: TrainableSettings) -> torch.optim.SGD:
    """SGD with one named group per trainable part (see the module docstring)."""
    groups: List[dict] = []
    if s.stage != "refine":
        params = [p for m in backbone_train_layers(model, s).values() for p in m.parameters()]
        if params:
            groups.append({"name": "backbone", "params": params, "lr": s.base_lr * s.layers_lr})
    for name, mod in head_modules(model, s.stage).items():
        groups.append({"name": name, "params": list(mod.parameters()), "lr": s.base_lr})
    for g in groups:
        g["initial_lr"] = g["lr"]
    return torch.optim.SGD(groups, lr=s.base_lr, momentum=s.momentum, weight_decay=s.weight_decay)


def apply_trainable(model: nn.Module, s: TrainableSettings, epoch: int) -> None:
    """Set ``requires_grad`` for ``epoch``: the stage's heads, plus the backbone layers once unfrozen."""
    for p in model.parameters():
        p.requires_grad_(False)
    for mod in head_modules(model, s.stage).values():
        for p in mod.parameters():
            p.requires_grad_(True)
    if s.backbone_unfrozen(epoch):
        for mod in backbone_train_layers(model, s).values():
            for p in mod.parameters():
                p.requires_grad_(True)


def set_train_modes(model: nn.Module, s: TrainableSettings, epoch: int) -> None:
    """``model.train()``, then eval mode (frozen BatchNorm statistics) for the frozen parts."""
    model.train()
    model.backbone.eval()
    if s.backbone_unfrozen(epoch):
        for mod in backbone_train_layers(model, s).values():
            mod.train()
    if s.stage == "refine":
        for name in _box_parts(model):
            if getattr(model, name, None) is not None:
                getattr(model, name).eval()
    elif not getattr(model, "neck_feeds_head", True) and getattr(model, "neck", None) is not None:
        model.neck.eval()   # an unused neck (NanoTrack) keeps its statistics
