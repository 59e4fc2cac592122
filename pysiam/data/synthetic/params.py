"""Generator parameters, presets and the in-memory video type of the synthetic generator."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

#: Bump when the generator's output changes, so :func:`write_otb_layout` regenerates old videos.
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class SynthParams:
    """Difficulty knobs of the generator; the defaults are the "default" preset."""

    width: int = 320               # frame size in pixels
    height: int = 240
    n_frames: int = 100            # frames per video
    seed: int = 0                  # base seed; video i uses np.random.default_rng([seed, i])
    target_size: float = 0.25      # mean target diameter as a fraction of min(width, height)
    speed: float = 3.0             # maximum target speed, pixels per frame
    scale_change: float = 0.3      # amplitude of the target's log-scale oscillation
    deform: float = 0.2            # amplitude of log aspect-ratio change and of shape morphing
    rotation: float = 20.0         # amplitude of in-plane rotation, degrees
    n_distractors: int = 3         # other moving objects
    n_similar: int = 1             # of those (at most all), how many share the target's texture and colours
    front_prob: float = 0.3        # chance that a distractor moves in front of the target
    occlusion_prob: float = 0.5    # chance, per 50 frames, that an occluder crosses the target
    illumination: float = 0.15     # amplitude of global gain / bias / gradient change
    noise: float = 2.0             # sensor noise standard deviation, grey levels
    blur_prob: float = 0.03        # chance per frame of motion blur
    pan: float = 1.0               # maximum background pan speed, pixels per frame
    visible_box_min: float = 0.3   # visible fraction below which the box is the full target's

    def __post_init__(self) -> None:
        if self.width < 32 or self.height < 32:
            raise ValueError(f"SynthParams: image size {self.width}x{self.height} is below 32x32")
        if self.n_frames < 1:
            raise ValueError(f"SynthParams: n_frames must be >= 1, got {self.n_frames}")
        if not 0 < self.target_size <= 0.8:
            raise ValueError(f"SynthParams: target_size must be in (0, 0.8], got {self.target_size}")
        if self.n_distractors < 0 or self.n_similar < 0:
            raise ValueError(f"SynthParams: n_distractors and n_similar must be >= 0, got "
                             f"{self.n_distractors} / {self.n_similar}")
        for key in ("front_prob", "occlusion_prob", "blur_prob", "visible_box_min"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"SynthParams: {key} must be in [0, 1], got {getattr(self, key)}")
        for key in ("speed", "scale_change", "deform", "rotation", "illumination", "noise", "pan"):
            if getattr(self, key) < 0:
                raise ValueError(f"SynthParams: {key} must be >= 0, got {getattr(self, key)}")


PRESETS: dict[str, SynthParams] = {
    "default": SynthParams(),
    "easy": SynthParams(speed=1.5, scale_change=0.15, deform=0.08, rotation=5.0, n_distractors=1,
                        n_similar=0, front_prob=0.0, occlusion_prob=0.0, illumination=0.05,
                        noise=1.0, blur_prob=0.0, pan=0.3),
}


def preset(name: str = "default", **overrides: Any) -> SynthParams:
    """A named preset ("default", "easy") with optional field overrides."""
    if name not in PRESETS:
        raise KeyError(f"unknown synthetic preset {name!r}; known: {sorted(PRESETS)}")
    return replace(PRESETS[name], **overrides)


@dataclass
class SyntheticVideo:
    """One generated video. ``frames`` are HxWx3 uint8 BGR, ``masks`` HxW uint8 0/1."""

    frames: list[np.ndarray]
    boxes: np.ndarray                      # (N, 4) float32, x, y, w, h (see the package docstring)
    masks: list[np.ndarray]
    name: str = ""
    visible: np.ndarray | None = None      # (N,) visible fraction of the target's in-frame area
    full_boxes: np.ndarray | None = None   # (N, 4) boxes of the whole (unoccluded) target
    attr: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frames)


def video_name(name: str, index: int) -> str:
    """Folder / JSON key of video ``index`` in a set called ``name``."""
    return f"{name}_{index:04d}"


def mask_bbox(mask: np.ndarray) -> np.ndarray | None:
    """Bounding box [x, y, w, h] (float32) of the non-zero pixels, or None if there are none."""
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    return np.array([cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1], np.float32)
