"""Test-time hyper-parameters of the trackers (the TRACK section, resolved once from the config)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TrackerParams", "MASK_BOX_METHODS"]

#: how SiamMask turns its mask into the reported rotated box (see pysiam.tracker.mask_box)
MASK_BOX_METHODS = ("minarea", "minmax", "optimized")


@dataclass
class TrackerParams:
    """Test-time hyper-parameters (the TRACK section and the device-crop option).

    The box coding (anchors or points, stride, window) belongs to the head family
    (:mod:`pysiam.families`), not here.
    """

    exemplar_size: int = 127
    instance_size: int = 255
    base_size: int = 8
    context_amount: float = 0.5
    penalty_k: float = 0.04
    window_influence: float = 0.44
    lr: float = 0.4
    lost_instance_size: int = 831
    confidence_low: float = 0.85
    confidence_high: float = 0.998
    mask_threshold: float = 0.30
    mask_output_size: int = 127
    mask_box: str = "minarea"
    #: crops with torch on the tracker's device: 'auto' (when it is not the CPU), 'on' or 'off'
    device_crop: str = "auto"

    def __post_init__(self) -> None:
        if self.mask_box not in MASK_BOX_METHODS:
            raise ValueError(f"TRACK.MASK_BOX must be one of {', '.join(MASK_BOX_METHODS)}, got {self.mask_box!r}")
        if self.device_crop not in ("auto", "on", "off"):
            raise ValueError(f"INFERENCE.DEVICE_CROP must be 'auto', 'on' or 'off', got {self.device_crop!r}")

    @classmethod
    def from_config(cls, cfg: Any) -> "TrackerParams":
        t = cfg.TRACK
        return cls(exemplar_size=int(t.EXEMPLAR_SIZE), instance_size=int(t.INSTANCE_SIZE),
                   base_size=int(t.BASE_SIZE), context_amount=float(t.CONTEXT_AMOUNT),
                   penalty_k=float(t.PENALTY_K), window_influence=float(t.WINDOW_INFLUENCE),
                   lr=float(t.LR), lost_instance_size=int(t.LOST_INSTANCE_SIZE),
                   confidence_low=float(t.CONFIDENCE_LOW), confidence_high=float(t.CONFIDENCE_HIGH),
                   mask_threshold=float(t.MASK_THERSHOLD), mask_output_size=int(t.MASK_OUTPUT_SIZE),
                   mask_box=str(t.get("MASK_BOX", "minarea")), device_crop=_device_crop_setting(cfg))


def _device_crop_setting(cfg: Any) -> str:
    node = cfg.get("INFERENCE", None)
    value = "auto" if node is None else node.get("DEVICE_CROP", "auto")
    if isinstance(value, bool):
        value = "on" if value else "off"
    return str(value).lower()
