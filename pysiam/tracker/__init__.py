"""Test-time trackers: SiamRPN(++), SiamMask and long-term SiamRPN, chosen by ``TRACK.TYPE``.

    from pysiam.tracker import build_tracker
    tracker = build_tracker(cfg, model)          # device from cfg.DEVICE ('' = auto) or device=
    tracker.init(frame, [x, y, w, h])            # BGR uint8 frame, 0-based box
    out = tracker.track(next_frame)              # {'bbox': [x, y, w, h], 'best_score': ...}
"""
from __future__ import annotations

from typing import Callable, Dict

from ..utils.device import DeviceLike, resolve_device
from .base import SiameseTracker, TrackerParams
from .crop import crop_window, get_subwindow
from .siammask import SiamMaskTracker
from .siamrpn import SiamRPNTracker
from .siamrpn_lt import SiamRPNLTTracker

__all__ = ["build_tracker", "register_tracker", "TRACKERS", "TrackerParams", "SiameseTracker",
           "SiamRPNTracker", "SiamMaskTracker", "SiamRPNLTTracker", "crop_window", "get_subwindow"]

# TRACK.TYPE -> tracker class (any callable (model, params, device) -> tracker).
TRACKERS: Dict[str, Callable[..., SiameseTracker]] = {
    "SiamRPNTracker": SiamRPNTracker,
    "SiamMaskTracker": SiamMaskTracker,
    "SiamRPNLTTracker": SiamRPNLTTracker,
}


def register_tracker(name: str):
    """Decorator adding a tracker class to :data:`TRACKERS` under ``name``."""
    def deco(cls):
        TRACKERS[name] = cls
        return cls
    return deco


def build_tracker(cfg, model, device: DeviceLike = None) -> SiameseTracker:
    """The tracker named by ``cfg.TRACK.TYPE`` around ``model``, on ``device`` (default: cfg.DEVICE,
    '' = CUDA when available and cfg.CUDA, else CPU); the model is moved there."""
    name = cfg.TRACK.TYPE
    if name not in TRACKERS:
        raise KeyError(f"unknown TRACK.TYPE {name!r}; known trackers: {', '.join(sorted(TRACKERS))}")
    return TRACKERS[name](model, TrackerParams.from_cfg(cfg), device=resolve_device(device, cfg))
