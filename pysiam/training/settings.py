"""The training settings, read from the config once (``TrainSettings.from_config(cfg)``) and passed
explicitly: the loop, the optimizer set-up, the losses and the forward pass never read ``cfg``.

Every value comes from the config's own defaults (:mod:`pysiam.config.defaults`); nothing here
has a second default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

__all__ = ["STAGES", "resolve_stage", "LossWeights", "TrainableSettings", "TrainSettings"]

STAGES = ("rpn", "mask", "refine")
AMP_MODES = ("none", "bf16", "fp16")


def resolve_stage(cfg) -> str:
    """``TRAIN.STAGE``, or 'mask' / 'rpn' from ``MASK.MASK`` when it is empty."""
    stage = str(cfg.TRAIN.STAGE or "").lower() or ("mask" if cfg.MASK.MASK else "rpn")
    if stage not in STAGES:
        raise ValueError(f"TRAIN.STAGE must be one of {STAGES} (or ''), got {stage!r}")
    if stage != "rpn" and not cfg.MASK.MASK:
        raise ValueError(f"TRAIN.STAGE {stage!r} needs a mask branch (MASK.MASK True)")
    if stage == "refine" and not cfg.REFINE.REFINE:
        raise ValueError("TRAIN.STAGE 'refine' needs the refine module (REFINE.REFINE True)")
    return stage


@dataclass(frozen=True)
class LossWeights:
    """TRAIN.CLS_WEIGHT / LOC_WEIGHT / MASK_WEIGHT."""

    cls: float
    loc: float
    mask: float

    @classmethod
    def from_config(cls, cfg) -> "LossWeights":
        t = cfg.TRAIN
        return cls(float(t.CLS_WEIGHT), float(t.LOC_WEIGHT), float(t.MASK_WEIGHT))

    def for_stage(self, stage: str) -> Dict[str, float]:
        """The weighted names of ``stage``; the refine stage trains the mask only (SiamMask's
        [0, 0, MASK_WEIGHT])."""
        if stage == "refine":
            return {"mask": self.mask}
        weights = {"cls": self.cls, "loc": self.loc}
        if stage == "mask":
            weights["mask"] = self.mask
        return weights


@dataclass(frozen=True)
class TrainableSettings:
    """What trains when and at which rate (see :mod:`pysiam.training.optim`)."""

    stage: str
    backbone_type: str
    train_layers: Tuple[str, ...]    # BACKBONE.TRAIN_LAYERS
    train_epoch: int                 # BACKBONE.TRAIN_EPOCH: first epoch (0-based) they train
    layers_lr: float                 # BACKBONE.LAYERS_LR
    base_lr: float
    momentum: float
    weight_decay: float
    reset_momentum: bool             # TRAIN.UNFREEZE_RESET_MOMENTUM

    @classmethod
    def from_config(cls, cfg) -> "TrainableSettings":
        b, t = cfg.BACKBONE, cfg.TRAIN
        return cls(resolve_stage(cfg), str(b.TYPE), tuple(str(n) for n in b.TRAIN_LAYERS), int(b.TRAIN_EPOCH),
                   float(b.LAYERS_LR), float(t.BASE_LR), float(t.MOMENTUM), float(t.WEIGHT_DECAY),
                   bool(t.UNFREEZE_RESET_MOMENTUM))

    def backbone_unfrozen(self, epoch: int) -> bool:
        """Whether the backbone's TRAIN_LAYERS train during ``epoch`` (0-based)."""
        return self.stage != "refine" and epoch >= self.train_epoch

    def unfreezes_at(self, epoch: int) -> bool:
        """Whether ``epoch`` is the one where the backbone starts training (after a frozen start)."""
        return self.stage != "refine" and epoch == self.train_epoch and epoch > 0


@dataclass(frozen=True)
class TrainSettings:
    """Everything the training loop needs from the config."""

    seed: int
    epochs: int
    start_epoch: int
    batch_size: int
    workers: int
    print_freq: int
    image_freq: int
    grad_clip: float
    amp: str                 # 'none', 'bf16' or 'fp16'
    resume: str              # TRAIN.RESUME: an explicit checkpoint to continue from
    pretrained: str          # TRAIN.PRETRAINED: whole-model weights to start from
    backbone_pretrained: str  # BACKBONE.PRETRAINED: ImageNet weights of the backbone
    snapshot_dir: str
    log_dir: str
    mask_window: int         # TRAIN.EXEMPLAR_SIZE: side of a position's mask window
    mask_stride: int         # ANCHOR.STRIDE: distance between mask windows
    weights: LossWeights
    trainable: TrainableSettings

    @classmethod
    def from_config(cls, cfg) -> "TrainSettings":
        t = cfg.TRAIN
        amp = str(t.AMP or "none").lower()
        if amp not in AMP_MODES:
            raise ValueError(f"TRAIN.AMP must be one of '', 'none', 'bf16', 'fp16', got {t.AMP!r}")
        return cls(int(t.SEED), int(t.EPOCH), int(t.START_EPOCH), int(t.BATCH_SIZE), int(t.NUM_WORKERS),
                   max(1, int(t.PRINT_FREQ)), int(t.IMAGE_FREQ), float(t.GRAD_CLIP), amp, str(t.RESUME or ""),
                   str(t.PRETRAINED or ""), str(cfg.BACKBONE.PRETRAINED or ""), str(t.SNAPSHOT_DIR),
                   str(t.LOG_DIR), int(t.EXEMPLAR_SIZE), int(cfg.ANCHOR.STRIDE), LossWeights.from_config(cfg),
                   TrainableSettings.from_config(cfg))

    @property
    def stage(self) -> str:
        return self.trainable.stage
