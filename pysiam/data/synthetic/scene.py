"""Scene generation: one synthetic video from ``(params.seed, index)``.

The random draws happen in a fixed order (background, target, distractors, occluders, photometry),
so a video is bit-identical for the same seed, index and parameters.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from itertools import count
from typing import Iterator

import numpy as np

from .params import SynthParams, SyntheticVideo, video_name
from .render import _overlap, _Photometry, _render_frames
from .sprites import SHAPE_KINDS, _moving_object, _occluder, _Sprite
from .textures import BACKGROUND_KINDS, TARGET_KINDS, _palette, _texture, _walk

_OCC_SEGMENT = 50          # frames per occlusion opportunity (see SynthParams.occlusion_prob)


@dataclass(frozen=True)
class _TargetStyle:
    """What distractors copy from (or avoid in) the target."""

    radius: float
    hue: float
    kind: str
    shape: str


def _background(rng: np.random.Generator, p: SynthParams) -> tuple[float, np.ndarray, np.ndarray]:
    """(hue, texture larger than the frame, (n, 2) integer pan offsets of the viewing window)."""
    n, w, h = p.n_frames, p.width, p.height
    pad = int(math.ceil(min(12 * p.pan, 0.2 * min(w, h))))
    bg_hue = rng.uniform(0, 360)
    bg_pal = _palette(rng, bg_hue, k=4, hue_jitter=60, sat=(30, 200))
    contrast = rng.uniform(0.35, 0.75)   # a subdued background keeps the target distinct
    bg_pal = bg_pal.mean(0) + (bg_pal - bg_pal.mean(0)) * contrast
    bg = _texture(rng, h + 2 * pad, w + 2 * pad, str(rng.choice(BACKGROUND_KINDS)), bg_pal, grain=2.0)
    if pad > 0:
        pan = np.rint(_walk(rng, n, np.zeros(2), np.full(2, 2.0 * pad), p.pan,
                            np.array([pad, pad], np.float64) + rng.uniform(-pad, pad, 2))).astype(int)
    else:
        pan = np.zeros((n, 2), int)
    return bg_hue, bg, pan


def _make_target(rng: np.random.Generator, p: SynthParams, bg_hue: float) -> tuple[_Sprite, _TargetStyle]:
    """The target, in a hue distinct from the background's."""
    w, h = p.width, p.height
    radius = 0.5 * p.target_size * min(w, h) * rng.uniform(0.8, 1.25)
    t_hue = (bg_hue + rng.uniform(90, 270)) % 360
    t_kind = str(rng.choice(TARGET_KINDS))
    t_shape = str(rng.choice(SHAPE_KINDS))
    start = np.array([rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h])
    target = _moving_object(rng, p, radius, t_kind, t_shape, _palette(rng, t_hue), start, p.speed, 0.0)
    return target, _TargetStyle(radius, t_hue, t_kind, t_shape)


def _distractor(rng: np.random.Generator, p: SynthParams, i: int, target: _Sprite,
                style: _TargetStyle) -> _Sprite:
    """Distractor ``i``; the first ``n_similar`` share the target's texture family and colours."""
    w, h = p.width, p.height
    if i < p.n_similar:   # same family and colours, own pattern, shape and size
        kind, shape_kind = style.kind, style.shape
        pal = _palette(rng, style.hue + rng.choice([-1, 1]) * rng.uniform(12, 30))
    else:
        kind, shape_kind = str(rng.choice(TARGET_KINDS)), str(rng.choice(SHAPE_KINDS + ("rect",)))
        pal = _palette(rng, style.hue + rng.uniform(45, 315))
    r = style.radius * rng.uniform(0.7, 1.3)
    for _ in range(50):   # start away from the target so that frame 1 is unoccluded
        d_start = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h])
        if np.linalg.norm(d_start - target.centre[0]) > 1.6 * (style.radius + r) * 1.2:
            break
    z = (1.0 + i) if rng.random() < p.front_prob else -(1.0 + i)
    return _moving_object(rng, p, r, kind, shape_kind, pal, d_start, p.speed * rng.uniform(0.5, 1.2), z)


def _occluders(rng: np.random.Generator, p: SynthParams, target: _Sprite, radius: float) -> list[_Sprite]:
    """At most one occluder per ``_OCC_SEGMENT`` frames, never over the first 26 frames."""
    n = p.n_frames
    out = []
    for seg in range(int(math.ceil(n / _OCC_SEGMENT))):
        if rng.random() >= p.occlusion_prob:
            continue
        lo = seg * _OCC_SEGMENT + (26 if seg == 0 else 0)    # keep the first frame clear
        hi = min((seg + 1) * _OCC_SEGMENT, n)
        if lo >= hi:
            continue
        out.append(_occluder(rng, p, target, int(rng.integers(lo, hi)), radius, 100.0 + seg))
    return out


def _scene(rng: np.random.Generator, p: SynthParams, bg_hue: float) -> tuple[_Sprite, list[_Sprite]]:
    """(target, all sprites sorted back to front)."""
    target, style = _make_target(rng, p, bg_hue)
    sprites = [target]
    sprites += [_distractor(rng, p, i, target, style) for i in range(p.n_distractors)]
    sprites += _occluders(rng, p, target, style.radius)
    for s in sprites[1:]:   # frame 1 initialises trackers: nothing may cover the target there
        if s.z > target.z and _overlap(s.polygon(0), target.polygon(0), p.width, p.height):
            s.z = -s.z
    sprites.sort(key=lambda s: s.z)
    return target, sprites


def _attributes(p: SynthParams, visible: np.ndarray, full_boxes: np.ndarray, blur: np.ndarray) -> list[str]:
    """OTB attributes measured on the video (see the package docstring)."""
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
    return attr


def generate_video(index: int, params: SynthParams | None = None) -> SyntheticVideo:
    """Generate video ``index``; deterministic in ``(params.seed, index)``."""
    p = params or SynthParams()
    rng = np.random.default_rng([p.seed, index])
    bg_hue, bg, pan = _background(rng, p)
    target, sprites = _scene(rng, p, bg_hue)
    look = _Photometry.draw(rng, p)
    frames, masks, boxes, full_boxes, visible = _render_frames(p, bg, pan, target, sprites, look)
    attr = _attributes(p, visible, full_boxes, look.blur)
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
