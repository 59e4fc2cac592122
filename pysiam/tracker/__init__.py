"""Test-time trackers: SiamRPN(++), SiamMask, long-term SiamRPN and the anchor-free trackers
(NanoTrack, SiamBAN), chosen by ``TRACK.TYPE``; the head family (anchors or points) by the config.

    from pysiam.tracker import build_tracker
    tracker = build_tracker(cfg, model)          # device from cfg.DEVICE ('' = auto) or device=
    tracker.init(frame, [x, y, w, h])            # BGR uint8 frame, 0-based box
    out = tracker.track(next_frame)              # {'bbox': [x, y, w, h], 'best_score': ..., 'best_idx': ...}

Trackers keep their own state and template; any number of them may share one model.
"""
from __future__ import annotations

from typing import Any, Callable, Dict

from ..families import build_family
from ..utils.device import DeviceLike, resolve_device
from .base import SiameseNetwork, SiameseTracker, TrackerParams
from .crop import crop_window, get_subwindow
from .mask_box import mask_to_box
from .siammask import SiamMaskTracker
from .siamrpn import SiamRPNTracker
from .siamrpn_lt import SiamRPNLTTracker

__all__ = ["build_tracker", "register_tracker", "TRACKERS", "TrackerParams", "SiameseTracker",
           "SiameseNetwork", "SiamRPNTracker", "SiamMaskTracker", "SiamRPNLTTracker", "crop_window",
           "get_subwindow", "mask_to_box"]

# TRACK.TYPE -> tracker class (any callable (model, params, family, device) -> tracker).
TRACKERS: Dict[str, Callable[..., SiameseTracker]] = {
    "SiamRPNTracker": SiamRPNTracker,
    "SiamMaskTracker": SiamMaskTracker,
    "SiamRPNLTTracker": SiamRPNLTTracker,
    # NanoTrack's and SiamBAN's trackers select and update exactly as SiamRPN; their point
    # family (cfg BAN.BAN) decodes the head's distances instead of anchor deltas.
    "NanoTracker": SiamRPNTracker,
    "SiamBANTracker": SiamRPNTracker,
}


def register_tracker(name: str):
    """Decorator adding a tracker class to :data:`TRACKERS` under ``name``."""
    def deco(cls):
        TRACKERS[name] = cls
        return cls
    return deco


def build_tracker(cfg: Any, model: SiameseNetwork, device: DeviceLike = None) -> SiameseTracker:
    """The tracker named by ``cfg.TRACK.TYPE`` around ``model``, on ``device`` (default: cfg.DEVICE,
    '' = CUDA when available and cfg.CUDA, else CPU); the model is moved there."""
    name = cfg.TRACK.TYPE
    if name not in TRACKERS:
        raise KeyError(f"unknown TRACK.TYPE {name!r}; known trackers: {', '.join(sorted(TRACKERS))}")
    return TRACKERS[name](model, TrackerParams.from_config(cfg), family=build_family(cfg),
                          device=resolve_device(device, cfg))
