"""Random smooth signals, paths and colour textures for the synthetic generator (numpy + OpenCV)."""
from __future__ import annotations

import math

import cv2
import numpy as np

TARGET_KINDS = ("noise", "stripes", "checker", "spots")
BACKGROUND_KINDS = ("noise", "stripes", "checker", "spots", "gradient", "shapes")


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
