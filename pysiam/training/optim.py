"""What is trained when: parameter groups, freezing, BatchNorm modes, the backbone unfreeze.

The SGD optimizer is built once with one group per part (``backbone`` = the
``BACKBONE.TRAIN_LAYERS`` at ``BASE_LR * LAYERS_LR``, then ``neck``, ``rpn_head``, ``mask_head``,
``refine_head`` at ``BASE_LR``). Frozen parameters have ``requires_grad=False`` and no gradient,
so SGD skips them (no weight decay, no momentum buffer); unfreezing the backbone at
``BACKBONE.TRAIN_EPOCH`` only flips ``requires_grad`` and the BatchNorm modes, so the heads keep
their momentum. pysot rebuilt the optimizer there instead, dropping all momentum
(``TRAIN.UNFREEZE_RESET_MOMENTUM True`` does the same).

Frozen parts keep their BatchNorm statistics (eval mode), as in pysot.
"""
from __future__ import annotations

from typing import Dict, List

import torch
from torch import nn

__all__ = ["head_modules", "backbone_train_layers", "build_optimizer", "apply_trainable",
           "set_train_modes", "backbone_unfrozen"]


def head_modules(model: nn.Module, stage: str) -> Dict[str, nn.Module]:
    """The non-backbone parts trained in ``stage``, by name."""
    if stage == "refine":  # SiamMask's second stage: the refine module and the mask correlation
        names = ["mask_head", "refine_head"]
    else:
        names = ["neck", "rpn_head"] + (["mask_head"] if stage == "mask" else [])
    return {n: getattr(model, n) for n in names if getattr(model, n, None) is not None}


def backbone_train_layers(model: nn.Module, cfg) -> Dict[str, nn.Module]:
    """``BACKBONE.TRAIN_LAYERS`` as modules of the backbone (e.g. layer2, or conv1 / bn1)."""
    out = {}
    for name in cfg.BACKBONE.TRAIN_LAYERS:
        mod = getattr(model.backbone, name, None)
        if not isinstance(mod, nn.Module):
            have = [n for n, _ in model.backbone.named_children()]
            raise ValueError(f"BACKBONE.TRAIN_LAYERS names {name!r}, which backbone {cfg.BACKBONE.TYPE} "
                             f"does not have (its parts: {', '.join(have)})")
        out[name] = mod
    return out


def backbone_unfrozen(cfg, stage: str, epoch: int) -> bool:
    """Whether the backbone's TRAIN_LAYERS train during ``epoch``."""
    return stage != "refine" and epoch >= int(cfg.BACKBONE.TRAIN_EPOCH)


def build_optimizer(model: nn.Module, cfg, stage: str) -> torch.optim.SGD:
    """SGD with one named group per trainable part (see the module docstring)."""
    base = float(cfg.TRAIN.BASE_LR)
    groups: List[dict] = []
    if stage != "refine":
        params = [p for m in backbone_train_layers(model, cfg).values() for p in m.parameters()]
        if params:
            groups.append({"name": "backbone", "params": params, "lr": base * float(cfg.BACKBONE.LAYERS_LR)})
    for name, mod in head_modules(model, stage).items():
        groups.append({"name": name, "params": list(mod.parameters()), "lr": base})
    for g in groups:
        g["initial_lr"] = g["lr"]
    return torch.optim.SGD(groups, lr=base, momentum=float(cfg.TRAIN.MOMENTUM),
                           weight_decay=float(cfg.TRAIN.WEIGHT_DECAY))


def apply_trainable(model: nn.Module, cfg, stage: str, epoch: int) -> None:
    """Set ``requires_grad`` for ``epoch``: the stage's heads, plus the backbone layers once unfrozen."""
    for p in model.parameters():
        p.requires_grad_(False)
    for mod in head_modules(model, stage).values():
        for p in mod.parameters():
            p.requires_grad_(True)
    if backbone_unfrozen(cfg, stage, epoch):
        for mod in backbone_train_layers(model, cfg).values():
            for p in mod.parameters():
                p.requires_grad_(True)


def set_train_modes(model: nn.Module, cfg, stage: str, epoch: int) -> None:
    """``model.train()``, then eval mode (frozen BatchNorm statistics) for the frozen parts."""
    model.train()
    model.backbone.eval()
    if backbone_unfrozen(cfg, stage, epoch):
        for mod in backbone_train_layers(model, cfg).values():
            mod.train()
    if stage == "refine":
        for name in ("neck", "rpn_head"):
            if getattr(model, name, None) is not None:
                getattr(model, name).eval()
