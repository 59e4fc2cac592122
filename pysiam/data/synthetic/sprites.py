"""Moving textured objects of a synthetic video: the target, distractors and occluders."""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .params import SynthParams
from .textures import TARGET_KINDS, _palette, _texture, _walk, _wave

SHAPE_KINDS = ("ellipse", "polygon", "blob")


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
        """2x2 map from local shape coordinates to image pixels at frame ``t``."""
        c, s = math.cos(self.angle[t]), math.sin(self.angle[t])
        return np.array([[c * self.sx[t], -s * self.sy[t]], [s * self.sx[t], c * self.sy[t]]])

    def polygon(self, t: int) -> np.ndarray:
        """(M, 2) image polygon at frame ``t``."""
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


def _sized_texture(rng: np.random.Generator, sx: np.ndarray, sy: np.ndarray, kind: str,
                   palette: np.ndarray, grain: float = 4.0) -> np.ndarray:
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
    kind = str(rng.choice(TARGET_KINDS + ("gradient",)))
    return _Sprite(_sized_texture(rng, sx, sy, kind, palette), shape, centre, sx, sy, angle, z)
