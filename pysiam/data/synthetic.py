"""Procedural synthetic tracking videos: pysiam's built-in default data.

Every video shows one textured target (ellipse, polygon or blob with its own texture) that moves on
a smooth path while it scales, stretches, rotates and changes shape, over a textured and slowly
panning background. Distractor objects wander around (some share the target's texture family and
colours, so the tracker has to tell them apart), occluders cross the target, and the frame gets a
mild illumination change, sensor noise and occasional motion blur. Everything is pure numpy +
OpenCV and fully determined by ``(params.seed, video index)``.

Ground truth per frame
    * ``boxes[i] = [x, y, w, h]`` in 0-based pixel coordinates: ``x, y`` is the first covered
      column / row and ``w, h`` the number of covered columns / rows, so the box centre
      ``(x + (w - 1) / 2, y + (h - 1) / 2)`` is the centre pixel, as pysot reads OTB boxes.
    * ``masks[i]``: uint8 0/1, the target's *visible* pixels (anything drawn in front of it, an
      occluder or a distractor, is removed).
    * Box rule: while at least ``params.visible_box_min`` of the target's in-frame area is visible,
      the box is the bounding box of the visible mask (OTB annotates the visible extent). Under
      heavier or full occlusion it is the bounding box of the whole, unoccluded target (clipped to
      the image), so every frame has a valid box inside the image. ``SyntheticVideo.visible`` and
      ``full_boxes`` carry the visible fraction and the whole-target box, e.g. for training code
      that skips heavily occluded frames. Frame 1 is never occluded (it initialises trackers).
    * ``attr`` (OTB names, measured on the video): OCC (visible fraction < 0.75 somewhere),
      SV (box side outside [0.5, 2] x that of frame 1), MB (a motion-blurred frame),
      BC (distractors that resemble the target).

Layout written by :func:`write_otb_layout` (readable by pysot's OTB loader)::

    root/<NAME>.json                     {video: {video_dir, init_rect, img_names, gt_rect, attr}}
    root/<video>/img/0001.jpg ...        frames, JPEG quality 95
    root/<video>/mask/0001.png ...       target masks, lossless PNG, 0 / 255
    root/<video>/groundtruth_rect.txt    "x,y,w,h" per line
    root/<video>/meta.json               generator version, index and parameters (for resuming)
"""
from __future__ import annotations

import json
import math
import os
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from itertools import count
from multiprocessing import get_context
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np
from pysiam.utils.atomic import atomic_write_text

__all__ = [
    "SynthParams", "SyntheticVideo", "PRESETS", "preset", "generate_video", "iter_videos",
    "write_otb_layout", "read_otb_video", "mask_bbox", "video_name", "contact_sheet",
    "GENERATOR_VERSION",
]

#: Bump when the generator's output changes, so :func:`write_otb_layout` regenerates old videos.
GENERATOR_VERSION = 1

_JPEG_QUALITY = 95
_OCC_SEGMENT = 50          # frames per occlusion opportunity (see SynthParams.occlusion_prob)
_TARGET_KINDS = ("noise", "stripes", "checker", "spots")
_BACKGROUND_KINDS = ("noise", "stripes", "checker", "spots", "gradient", "shapes")
_SHAPE_KINDS = ("ellipse", "polygon", "blob")


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


def preset(name: str = "default", **overrides) -> SynthParams:
    """A named preset ("default", "easy") with optional field overrides."""
    if name not in PRESETS:
        raise KeyError(f"unknown synthetic preset {name!r}; known: {sorted(PRESETS)}")
    return replace(PRESETS[name], **overrides)


@dataclass
class SyntheticVideo:
    """One generated video. ``frames`` are HxWx3 uint8 BGR, ``masks`` HxW uint8 0/1."""

    frames: list[np.ndarray]
    boxes: np.ndarray                      # (N, 4) float32, x, y, w, h (see module docstring)
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


# ----------------------------------------------------------------------------- random signals

def _wave(rng: np.random.Generator, n: int, min_period: float, max_period: float,
          terms: int = 1) -> np.ndarray:
    """Smooth signal in [-1, 1]: a sum of sinusoids with random periods and phases."""
    t = np.arange(n, dtype=np.float64)
    amps = np.concatenate([[1.0], rng.uniform(0.2, 0.6, terms - 1)])
    out = np.zeros(n)
    for a in amps:
        out += a * np.sin(2 * np.pi * t / rng.uniform(min_period, max_period) + rng.uniform(0, 2 * np.pi))
    return out / amps.sum()


def _walk(rng: np.random.Generator, n: int, lo: np.ndarray, hi: np.ndarray, speed: float,
          start: np.ndarray) -> np.ndarray:
    """Smooth 2-D path, (n, 2): slowly turning heading, varying speed, reflected at [lo, hi]."""
    heading = rng.uniform(0, 2 * np.pi)
    turn = _wave(rng, n, 20, 60, terms=2) * rng.uniform(0.03, 0.15)
    mag = speed * (0.45 + 0.275 * (1 + _wave(rng, n, 15, 50)))
    pos = np.empty((n, 2))
    p = np.clip(np.asarray(start, np.float64), lo, hi)
    for t in range(n):
        pos[t] = p
        p = p + mag[t] * np.array([math.cos(heading), math.sin(heading)])
        if p[0] < lo[0] or p[0] > hi[0]:
            p[0] = np.clip(2 * np.clip(p[0], lo[0], hi[0]) - p[0], lo[0], hi[0])
            heading = np.pi - heading
        if p[1] < lo[1] or p[1] > hi[1]:
            p[1] = np.clip(2 * np.clip(p[1], lo[1], hi[1]) - p[1], lo[1], hi[1])
            heading = -heading
        heading += turn[t]
    return pos


# ----------------------------------------------------------------------------- textures

def _palette(rng: np.random.Generator, hue: float, k: int = 3, hue_jitter: float = 25.0,
             sat: tuple[float, float] = (90, 255)) -> np.ndarray:
    """k BGR colours (float32) around ``hue`` (degrees) with a wide spread of brightness."""
    hsv = np.zeros((1, k, 3), np.uint8)
    hsv[0, :, 0] = ((hue + rng.uniform(-hue_jitter, hue_jitter, k)) % 360) / 2
    hsv[0, :, 1] = rng.uniform(*sat, k)
    lo, hi = rng.uniform(25, 110), rng.uniform(170, 255)
    hsv[0, :, 2] = rng.permutation(np.linspace(lo, hi, k))
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0].astype(np.float32)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, feature: float, octaves: int = 2) -> np.ndarray:
    """Value noise in [0, 1] with blobs of about ``feature`` pixels, (h, w) float32."""
    out = np.zeros((h, w), np.float32)
    amp = 1.0
    for _ in range(octaves):
        gh, gw = max(2, int(round(h / feature)) + 1), max(2, int(round(w / feature)) + 1)
        out += amp * cv2.resize(rng.random((gh, gw), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        amp *= 0.45
        feature = max(feature / 2.0, 2.0)
    out -= out.min()
    return out / max(float(out.max()), 1e-6)


def _coords(rng: np.random.Generator, h: int, w: int, period: float) -> np.ndarray:
    """Coordinate along a random direction, in units of ``period`` (h, w) float32."""
    a = rng.uniform(0, np.pi)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return (x * math.cos(a) + y * math.sin(a)) / period


def _scalar_field(rng: np.random.Generator, h: int, w: int, kind: str) -> np.ndarray:
    """Pattern of one texture family as a scalar field in [0, 1]."""
    size = min(h, w)
    if kind == "noise":
        f = _smooth_noise(rng, h, w, rng.uniform(0.08, 0.25) * size + 3, octaves=3)
    elif kind == "stripes":
        period = rng.uniform(0.08, 0.3) * size + 3
        warp = _smooth_noise(rng, h, w, size / 2 + 2) * rng.uniform(0, 1.5)
        f = 0.5 + 0.5 * np.sin(2 * np.pi * (_coords(rng, h, w, period) + warp))
        f = np.clip((f - 0.5) * rng.uniform(1, 4) + 0.5, 0, 1)
    elif kind == "checker":
        cell = rng.uniform(0.08, 0.25) * size + 3
        a = rng.uniform(0, np.pi / 2)
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        u = np.floor((x * math.cos(a) + y * math.sin(a)) / cell)
        v = np.floor((-x * math.sin(a) + y * math.cos(a)) / cell)
        f = 0.75 * ((u + v) % 2) + 0.25 * _smooth_noise(rng, h, w, cell)
    elif kind == "spots":
        f = 0.4 * _smooth_noise(rng, h, w, size / 3 + 2)
        for _ in range(int(rng.integers(4, 12))):
            c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            r = int(rng.uniform(0.05, 0.2) * size) + 1
            cv2.circle(f, c, r, float(rng.uniform(0, 1)), -1, cv2.LINE_AA)
    elif kind == "gradient":
        f = _coords(rng, h, w, math.hypot(h, w))
        f = 0.8 * (f - f.min()) / max(float(np.ptp(f)), 1e-6) + 0.2 * _smooth_noise(rng, h, w, size / 4 + 2)
    elif kind == "shapes":
        f = 0.5 * _smooth_noise(rng, h, w, size / 3 + 2)
        for _ in range(int(rng.integers(15, 35))):
            val = float(rng.uniform(0, 1))
            c = np.array([rng.uniform(0, w), rng.uniform(0, h)])
            r = rng.uniform(0.03, 0.12) * size + 2
            if rng.random() < 0.5:
                cv2.ellipse(f, (int(c[0]), int(c[1])), (int(r), int(r * rng.uniform(0.3, 1))),
                            float(rng.uniform(0, 180)), 0, 360, val, -1, cv2.LINE_AA)
            else:
                ang = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 7))))
                pts = c + r * np.stack([np.cos(ang), np.sin(ang)], 1)
                cv2.fillPoly(f, [pts.astype(np.int32)], val, cv2.LINE_AA)
    else:
        raise ValueError(f"unknown texture kind {kind!r}")
    return np.clip(f, 0, 1).astype(np.float32)


def _texture(rng: np.random.Generator, h: int, w: int, kind: str, palette: np.ndarray,
             grain: float = 4.0) -> np.ndarray:
    """Colour texture (h, w, 3) uint8: a pattern mapped through a colour ramp, plus grain."""
    f = _scalar_field(rng, h, w, kind)
    knots = np.linspace(0, 1, len(palette))
    img = np.stack([np.interp(f, knots, palette[:, c]).astype(np.float32) for c in range(3)], -1)
    if grain > 0:
        img += grain * rng.standard_normal((h, w, 1), dtype=np.float32)
    return cv2.add(img, (0.0, 0.0, 0.0), dtype=cv2.CV_8U)   # rounds, saturates


# ----------------------------------------------------------------------------- moving objects

@dataclass
class _Sprite:
    """A textured polygon with a per-frame shape and pose. Local shape coordinates lie in [-1, 1]."""

    texture: np.ndarray      # (S, S, 3) uint8, covers local [-1, 1]^2
    shape: np.ndarray        # (n, M, 2) local polygon per frame
    centre: np.ndarray       # (n, 2) image position of the local origin
    sx: np.ndarray           # (n,) pixels per local unit along local x
    sy: np.ndarray           # (n,)
    angle: np.ndarray        # (n,) radians
    z: float = 0.0           # drawing order: larger is in front

    def linear(self, t: int) -> np.ndarray:
        c, s = math.cos(self.angle[t]), math.sin(self.angle[t])
        return np.array([[c * self.sx[t], -s * self.sy[t]], [s * self.sx[t], c * self.sy[t]]])

    def polygon(self, t: int) -> np.ndarray:
        return self.shape[t] @ self.linear(t).T + self.centre[t]

    def paint(self, frame: np.ndarray, t: int) -> tuple[int, int, np.ndarray] | None:
        """Draw into ``frame``; returns (x0, y0, mask of the painted region) or None if off-frame."""
        h, w = frame.shape[:2]
        pts = self.polygon(t)
        x0, y0 = max(int(np.floor(pts[:, 0].min())), 0), max(int(np.floor(pts[:, 1].min())), 0)
        x1, y1 = min(int(np.ceil(pts[:, 0].max())) + 1, w), min(int(np.ceil(pts[:, 1].max())) + 1, h)
        if x1 <= x0 or y1 <= y0:
            return None
        m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(m, [np.round((pts - (x0, y0)) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
        size = self.texture.shape[0]
        a = self.linear(t)
        # texture pixel u covers local coordinate (u + 0.5) * 2 / S - 1
        shift = a @ np.full(2, 1.0 / size - 1) + self.centre[t] - (x0, y0)
        affine = np.hstack([a * (2.0 / size), shift[:, None]])
        tex = cv2.warpAffine(self.texture, affine, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT)
        np.copyto(frame[y0:y1, x0:x1], tex, where=m[..., None].astype(bool))
        return x0, y0, m


def _shape(rng: np.random.Generator, n: int, kind: str, deform: float) -> np.ndarray:
    """(n, M, 2) star-shaped polygon per frame, morphing over time, max radius 0.95."""
    if kind == "ellipse":
        ang = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        radii = np.ones((n, ang.size))
    elif kind == "polygon":
        k = int(rng.integers(3, 9))
        ang = (np.arange(k) + rng.uniform(-0.3, 0.3, k)) * 2 * np.pi / k
        r0 = rng.uniform(0.6, 1.0, k)
        wob = np.stack([_wave(rng, n, 20, 60) for _ in range(k)], 1)
        radii = r0 * (1 + 0.5 * deform * wob)
    elif kind == "blob":
        ang = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        radii = np.ones((n, ang.size))
        for harmonic in range(2, 6):
            amp = rng.uniform(0, 0.35 / harmonic * 2) * (1 + deform * _wave(rng, n, 20, 60))
            phase = rng.uniform(0, 2 * np.pi) + deform * 2 * _wave(rng, n, 30, 90)
            radii += amp[:, None] * np.cos(harmonic * ang[None, :] + phase[:, None])
        radii = np.maximum(radii, 0.25)
    elif kind == "rect":
        ang = np.array([0.25, 0.75, 1.25, 1.75]) * np.pi
        radii = np.full((n, 4), math.sqrt(2))
    else:
        raise ValueError(f"unknown shape kind {kind!r}")
    radii = radii * (0.95 / radii.max())
    return np.stack([radii * np.cos(ang), radii * np.sin(ang)], -1).astype(np.float64)


def _sized_texture(rng, sx, sy, kind, palette, grain=4.0):
    """Square texture about 1:1 with the object's largest on-screen size."""
    size = int(np.clip(2 * max(float(sx.max()), float(sy.max())), 16, 320))
    return _texture(rng, size, size, kind, palette, grain)


def _moving_object(rng: np.random.Generator, p: SynthParams, radius: float, kind: str,
                   shape_kind: str, palette: np.ndarray, start: np.ndarray, speed: float,
                   z: float) -> _Sprite:
    """Target or distractor: random walk with scale, aspect, rotation and shape changes."""
    n = p.n_frames
    scale = radius * np.exp(p.scale_change * _wave(rng, n, 0.8 * min(n, 150), 1.6 * min(n, 150)))
    aspect = rng.uniform(-0.5, 0.5) + p.deform * _wave(rng, n, 25, 80, terms=2)
    angle = rng.uniform(-0.4, 0.4) + math.radians(p.rotation) * _wave(rng, n, 30, 100, terms=2)
    sx, sy = scale * np.exp(aspect / 2), scale * np.exp(-aspect / 2)
    margin = 0.4 * radius
    lo = np.array([margin, margin])
    hi = np.array([p.width - 1 - margin, p.height - 1 - margin])
    centre = _walk(rng, n, lo, hi, speed, start)
    shape = _shape(rng, n, shape_kind, p.deform)
    return _Sprite(_sized_texture(rng, sx, sy, kind, palette), shape, centre, sx, sy, angle, z)


def _occluder(rng: np.random.Generator, p: SynthParams, target: _Sprite, t_cross: int,
              radius: float, z: float) -> _Sprite:
    """An object on a straight line that passes over the target's centre at frame ``t_cross``."""
    n = p.n_frames
    bar = rng.random() < 0.5
    if bar:   # a pole / beam moving across its long axis
        sx = np.full(n, radius * rng.uniform(1.5, 4.0))
        sy = np.full(n, radius * rng.uniform(0.3, 0.8))
        base = rng.uniform(0, np.pi)
        angle = base + 0.05 * _wave(rng, n, 30, 90)
        direction = base + np.pi / 2 + rng.uniform(-0.5, 0.5)
        extent = sy[0]
        shape = _shape(rng, n, "rect", 0.0)
    else:
        r = radius * rng.uniform(0.8, 1.4)
        asp = rng.uniform(-0.4, 0.4)
        sx, sy = np.full(n, r * math.exp(asp / 2)), np.full(n, r * math.exp(-asp / 2))
        angle = rng.uniform(0, np.pi) + 0.2 * _wave(rng, n, 30, 90)
        direction = rng.uniform(0, 2 * np.pi)
        extent = r
        shape = _shape(rng, n, str(rng.choice(["ellipse", "blob", "polygon"])), 0.1)
    duration = rng.uniform(10, 24)      # frames from first to last contact, roughly
    speed = 2 * (radius + extent) / duration
    v = speed * np.array([math.cos(direction), math.sin(direction)])
    centre = target.centre[t_cross] + (np.arange(n) - t_cross)[:, None] * v
    palette = _palette(rng, rng.uniform(0, 360))
    kind = str(rng.choice(_TARGET_KINDS + ("gradient",)))
    return _Sprite(_sized_texture(rng, sx, sy, kind, palette), shape, centre, sx, sy, angle, z)


# ----------------------------------------------------------------------------- one video

def _cut(roi: tuple, painted: tuple[int, int, np.ndarray]) -> None:
    """Remove from the target's visible mask the pixels of an object painted in front of it."""
    tx, ty, _, vis = roi
    x0, y0, m = painted
    ix0, iy0 = max(tx, x0), max(ty, y0)
    ix1, iy1 = min(tx + vis.shape[1], x0 + m.shape[1]), min(ty + vis.shape[0], y0 + m.shape[0])
    if ix1 > ix0 and iy1 > iy0:
        vis[iy0 - ty:iy1 - ty, ix0 - tx:ix1 - tx] &= 1 - m[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0]


def _overlap(a: np.ndarray, b: np.ndarray, w: int, h: int) -> bool:
    """Whether two image polygons share a pixel inside the w x h frame."""
    lo = np.maximum(np.maximum(a.min(0), b.min(0)), 0).astype(int)
    hi = np.minimum(np.minimum(a.max(0), b.max(0)), (w - 1, h - 1)).astype(int) + 2
    if np.any(hi <= lo):
        return False
    ma = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), np.uint8)
    mb = np.zeros_like(ma)
    cv2.fillPoly(ma, [np.round((a - lo) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    cv2.fillPoly(mb, [np.round((b - lo) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return bool(np.any(ma & mb))


def _target_truth(roi: tuple | None, polygon: np.ndarray, w: int, h: int,
                  visible_box_min: float) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """(full box, box, visible fraction, full-frame visible mask) from the target's region."""
    mask = np.zeros((h, w), np.uint8)
    if roi is None or not roi[2].any():   # not while the centre is in the frame; stay valid anyway
        x0, y0 = np.clip(polygon.min(0), 0, (w - 1, h - 1))
        fb = np.array([x0, y0, 1, 1], np.float32)
        return fb, fb, 0.0, mask
    x0, y0, full, vis = roi
    mask[y0:y0 + vis.shape[0], x0:x0 + vis.shape[1]] = vis
    offset = np.array([x0, y0, 0, 0], np.float32)
    fb = mask_bbox(full) + offset
    area = np.count_nonzero(full)
    frac = np.count_nonzero(vis) / area
    vb = mask_bbox(vis)
    box = vb + offset if (vb is not None and frac >= visible_box_min) else fb
    return fb, box, frac, mask


def generate_video(index: int, params: SynthParams | None = None) -> SyntheticVideo:
    """Generate video ``index``; deterministic in ``(params.seed, index)``."""
    p = params or SynthParams()
    rng = np.random.default_rng([p.seed, index])
    n, w, h = p.n_frames, p.width, p.height

    # background: a texture larger than the frame, viewed through a slowly panning window
    pad = int(math.ceil(min(12 * p.pan, 0.2 * min(w, h))))
    bg_hue = rng.uniform(0, 360)
    bg_pal = _palette(rng, bg_hue, k=4, hue_jitter=60, sat=(30, 200))
    contrast = rng.uniform(0.35, 0.75)   # a subdued background keeps the target distinct
    bg_pal = bg_pal.mean(0) + (bg_pal - bg_pal.mean(0)) * contrast
    bg = _texture(rng, h + 2 * pad, w + 2 * pad, str(rng.choice(_BACKGROUND_KINDS)), bg_pal, grain=2.0)
    if pad > 0:
        pan = np.rint(_walk(rng, n, np.zeros(2), np.full(2, 2.0 * pad), p.pan,
                            np.array([pad, pad], np.float64) + rng.uniform(-pad, pad, 2))).astype(int)
    else:
        pan = np.zeros((n, 2), int)

    # target: distinct hue from the background
    radius = 0.5 * p.target_size * min(w, h) * rng.uniform(0.8, 1.25)
    t_hue = (bg_hue + rng.uniform(90, 270)) % 360
    t_kind = str(rng.choice(_TARGET_KINDS))
    t_shape = str(rng.choice(_SHAPE_KINDS))
    start = np.array([rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h])
    target = _moving_object(rng, p, radius, t_kind, t_shape, _palette(rng, t_hue), start, p.speed, 0.0)

    sprites = [target]
    for i in range(p.n_distractors):
        similar = i < p.n_similar   # so at most n_distractors of them
        if similar:   # same family and colours, own pattern, shape and size
            kind, shape_kind = t_kind, t_shape
            pal = _palette(rng, t_hue + rng.choice([-1, 1]) * rng.uniform(12, 30))
        else:
            kind, shape_kind = str(rng.choice(_TARGET_KINDS)), str(rng.choice(_SHAPE_KINDS + ("rect",)))
            pal = _palette(rng, t_hue + rng.uniform(45, 315))
        r = radius * rng.uniform(0.7, 1.3)
        for _ in range(50):   # start away from the target so that frame 1 is unoccluded
            d_start = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h])
            if np.linalg.norm(d_start - target.centre[0]) > 1.6 * (radius + r) * 1.2:
                break
        z = (1.0 + i) if rng.random() < p.front_prob else -(1.0 + i)
        sprites.append(_moving_object(rng, p, r, kind, shape_kind, pal, d_start,
                                      p.speed * rng.uniform(0.5, 1.2), z))

    for seg in range(int(math.ceil(n / _OCC_SEGMENT))):
        if rng.random() >= p.occlusion_prob:
            continue
        lo = seg * _OCC_SEGMENT + (26 if seg == 0 else 0)    # keep the first frame clear
        hi = min((seg + 1) * _OCC_SEGMENT, n)
        if lo >= hi:
            continue
        sprites.append(_occluder(rng, p, target, int(rng.integers(lo, hi)), radius, 100.0 + seg))
    for s in sprites[1:]:   # frame 1 initialises trackers: nothing may cover the target there
        if s.z > target.z and _overlap(s.polygon(0), target.polygon(0), w, h):
            s.z = -s.z
    sprites.sort(key=lambda s: s.z)

    # photometric changes
    gain = 1 + p.illumination * _wave(rng, n, 40, 120, terms=2)
    bias = 25 * p.illumination * _wave(rng, n, 40, 120)
    slope = 0.6 * p.illumination * _wave(rng, n, 40, 120)
    slope_dir = rng.uniform(0, 2 * np.pi)
    ramp = ((np.arange(w, dtype=np.float32)[None, :] - w / 2) * math.cos(slope_dir)
            + (np.arange(h, dtype=np.float32)[:, None] - h / 2) * math.sin(slope_dir)) / max(w, h)
    ramp3 = np.repeat(ramp[..., None], 3, axis=2)
    noise_bank = p.noise * rng.standard_normal((h + 8, w + 8, 3), dtype=np.float32) if p.noise > 0 else None
    blur = rng.random(n) < p.blur_prob
    blur_len = rng.integers(3, 10, n)
    blur_ang = rng.uniform(0, 180, n)
    noise_shift = rng.integers(0, 9, (n, 2))

    frames, masks = [], []
    boxes = np.zeros((n, 4), np.float32)
    full_boxes = np.zeros((n, 4), np.float32)
    visible = np.zeros(n, np.float32)
    for t in range(n):
        frame = np.ascontiguousarray(bg[pan[t, 1]:pan[t, 1] + h, pan[t, 0]:pan[t, 0] + w])
        roi = None   # (x0, y0, full mask, visible mask) of the target, in its bounding region
        for s in sprites:
            res = s.paint(frame, t)
            if res is None:
                continue
            if s is target:
                roi = (res[0], res[1], res[2], res[2].copy())
            elif roi is not None:
                _cut(roi, res)
        full_boxes[t], boxes[t], visible[t], mask = _target_truth(roi, target.polygon(t), w, h,
                                                                  p.visible_box_min)
        out = cv2.multiply(frame, cv2.addWeighted(ramp3, float(gain[t] * slope[t]), ramp3, 0.0,
                                                  float(gain[t])), dtype=cv2.CV_32F)
        if noise_bank is not None:
            oy, ox = noise_shift[t]
            frame = cv2.addWeighted(out, 1.0, noise_bank[oy:oy + h, ox:ox + w], 1.0, float(bias[t]),
                                    dtype=cv2.CV_8U)   # rounds, saturates
        else:
            frame = cv2.add(out, (float(bias[t]),) * 3, dtype=cv2.CV_8U)
        if blur[t]:
            k = np.zeros((blur_len[t], blur_len[t]), np.float32)
            k[blur_len[t] // 2, :] = 1.0 / blur_len[t]
            mid = (blur_len[t] - 1) / 2
            rot = cv2.getRotationMatrix2D((mid, mid), float(blur_ang[t]), 1.0)
            k = cv2.warpAffine(k, rot, k.shape[::-1])
            frame = cv2.filter2D(frame, -1, k / max(float(k.sum()), 1e-6))
        frames.append(frame)
        masks.append(mask)

    attr = []
    if visible.min() < 0.75:
        attr.append("OCC")
    side = np.sqrt(full_boxes[:, 2] * full_boxes[:, 3])
    if np.any((side / side[0] > 2) | (side / side[0] < 0.5)):
        attr.append("SV")
    if blur.any():
        attr.append("MB")
    if min(p.n_similar, p.n_distractors) > 0:
        attr.append("BC")
    return SyntheticVideo(frames, boxes, masks, video_name("SYNTH", index), visible, full_boxes, attr)


def iter_videos(n: int | None = None, params: SynthParams | None = None, seed: int | None = None,
                start: int = 0) -> Iterator[SyntheticVideo]:
    """Generate videos ``start .. start + n - 1`` in memory (forever when ``n`` is None).

    ``seed`` overrides ``params.seed``; training code can crop straight from the yielded videos.
    """
    p = params or SynthParams()
    if seed is not None:
        p = replace(p, seed=seed)
    for i in (count(start) if n is None else range(start, start + n)):
        yield generate_video(i, p)


# ----------------------------------------------------------------------------- OTB layout on disk

def _format_box(box: Sequence[float]) -> str:
    return ",".join(f"{float(v):.10g}" for v in box)


def _read_gt(path: Path) -> list[list[float]]:
    rows = []
    for ln, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        vals = line.replace("\t", ",").replace(" ", ",").split(",")
        try:
            row = [float(v) for v in vals if v != ""]
        except ValueError as e:
            raise ValueError(f"{path}:{ln}: cannot parse box {line!r}") from e
        if len(row) != 4:
            raise ValueError(f"{path}:{ln}: expected 4 values x,y,w,h, got {len(row)}")
        rows.append(row)
    return rows


def _meta(index: int, name: str, params: SynthParams) -> dict:
    return {"version": GENERATOR_VERSION, "index": index, "name": video_name(name, index),
            "params": asdict(params)}


def _existing(root: Path, index: int, name: str, params: SynthParams) -> tuple[list, list] | None:
    """(gt rows, attr) of a complete, up-to-date video folder, else None."""
    vdir = root / video_name(name, index)
    try:
        meta = json.loads((vdir / "meta.json").read_text())
        gt = _read_gt(vdir / "groundtruth_rect.txt")
    except (OSError, ValueError):
        return None
    if {k: meta.get(k) for k in ("version", "index", "name", "params")} != _meta(index, name, params):
        return None
    if len(gt) != params.n_frames:
        return None
    return gt, list(meta.get("attr", []))


def _write_video(root: str, index: int, name: str, params: SynthParams,
                 single_thread: bool = False) -> tuple[str, list, list]:
    """Generate one video and move it into place atomically; returns (video, gt rows, attr)."""
    if single_thread:
        cv2.setNumThreads(1)
    root_p = Path(root)
    vname = video_name(name, index)
    video = generate_video(index, params)
    tmp = root_p / f".tmp-{vname}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "img").mkdir(parents=True)
    (tmp / "mask").mkdir()
    for i, (frame, mask) in enumerate(zip(video.frames, video.masks), 1):
        jpeg = [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]
        if not cv2.imwrite(str(tmp / "img" / f"{i:04d}.jpg"), frame, jpeg):
            raise OSError(f"could not write {tmp / 'img' / f'{i:04d}.jpg'}")
        if not cv2.imwrite(str(tmp / "mask" / f"{i:04d}.png"), mask * 255):
            raise OSError(f"could not write {tmp / 'mask' / f'{i:04d}.png'}")
    gt_text = "\n".join(_format_box(b) for b in video.boxes) + "\n"
    (tmp / "groundtruth_rect.txt").write_text(gt_text)
    meta = dict(_meta(index, name, params), attr=video.attr,
                min_visible=float(video.visible.min()))
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    final = root_p / vname
    if final.exists():   # stale or incomplete: move aside first so the swap stays atomic
        old = root_p / f".old-{vname}-{os.getpid()}"
        os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old)
    else:
        os.rename(tmp, final)
    return vname, [[float(v) for v in b] for b in video.boxes], video.attr


def write_otb_layout(root: str | os.PathLike, n_videos: int, params: SynthParams | None = None,
                     name: str = "SYNTH", workers: int = 1, progress: bool = False) -> Path:
    """Write ``n_videos`` videos in OTB layout under ``root`` plus ``root/<name>.json``.

    Resumable: folders whose ``meta.json`` matches the generator version, index and parameters are
    kept; anything else is regenerated. Each video is written to a temporary folder and renamed
    into place. ``workers > 1`` generates in that many processes. Returns the JSON path.
    One writer per ``root`` at a time.
    """
    p = params or SynthParams()
    root_p = Path(root)
    root_p.mkdir(parents=True, exist_ok=True)
    for leftover in list(root_p.glob(f".tmp-{name}_*")) + list(root_p.glob(f".old-{name}_*")):
        shutil.rmtree(leftover, ignore_errors=True)

    results: dict[int, tuple[str, list, list]] = {}
    todo = []
    for i in range(n_videos):
        done = _existing(root_p, i, name, p)
        if done is None:
            todo.append(i)
        else:
            results[i] = (video_name(name, i), *done)

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=n_videos, initial=n_videos - len(todo), desc=f"synthetic {name}", unit="video")
    try:
        if workers > 1 and len(todo) > 1:
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(_write_video, str(root_p), i, name, p, True): i for i in todo}
                for fut in as_completed(futures):
                    results[futures[fut]] = fut.result()
                    if bar is not None:
                        bar.update(1)
        else:
            for i in todo:
                results[i] = _write_video(str(root_p), i, name, p)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()

    meta = {}
    for i in range(n_videos):
        vname, gt, attr = results[i]
        meta[vname] = {
            "video_dir": vname,
            "init_rect": gt[0],
            "img_names": [f"{vname}/img/{k:04d}.jpg" for k in range(1, len(gt) + 1)],
            "gt_rect": gt,
            "attr": attr,
        }
    out = root_p / f"{name}.json"
    atomic_write_text(out, json.dumps(meta))
    return out


def read_otb_video(root: str | os.PathLike, video: str, with_masks: bool = True) -> SyntheticVideo:
    """Read one written video back (frames, boxes, masks as 0/1)."""
    vdir = Path(root) / video
    gt = _read_gt(vdir / "groundtruth_rect.txt")
    frames, masks = [], []
    for path in sorted((vdir / "img").glob("*.jpg")):
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise OSError(f"cannot read image {path}")
        frames.append(img)
    if with_masks:
        for path in sorted((vdir / "mask").glob("*.png")):
            m = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if m is None:
                raise OSError(f"cannot read mask {path}")
            masks.append((m > 127).astype(np.uint8))
    attr = []
    if (vdir / "meta.json").exists():
        attr = list(json.loads((vdir / "meta.json").read_text()).get("attr", []))
    return SyntheticVideo(frames, np.asarray(gt, np.float32).reshape(-1, 4), masks, video, attr=attr)


# ----------------------------------------------------------------------------- preview

def contact_sheet(video: SyntheticVideo, n: int = 8, cols: int = 4) -> np.ndarray:
    """Evenly spaced frames in a grid with the box (green) and the mask outline (red) drawn."""
    idx = np.linspace(0, len(video) - 1, min(n, len(video))).round().astype(int)
    tiles = []
    for i in idx:
        img = video.frames[i].copy()
        if video.masks:
            contours, _ = cv2.findContours(video.masks[i], cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            cv2.drawContours(img, contours, -1, (0, 0, 255), 1)
        x, y, bw, bh = video.boxes[i]
        cv2.rectangle(img, (int(x), int(y)), (int(x + bw - 1), int(y + bh - 1)), (0, 255, 0), 1)
        label = f"#{i + 1}"
        if video.visible is not None:
            label += f" vis {video.visible[i]:.2f}"
        cv2.putText(img, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(img)
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[r:r + cols]) for r in range(0, len(tiles), cols)]
    return np.vstack(rows)
