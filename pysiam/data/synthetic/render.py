"""Drawing one synthetic video's frames: sprite compositing, ground truth and photometric effects."""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .params import SynthParams, mask_bbox
from .sprites import _Sprite
from .textures import _wave

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


@dataclass
class _Photometry:
    """Per-frame illumination, sensor noise and motion blur of one video, drawn up front."""

    gain: np.ndarray
    bias: np.ndarray
    slope: np.ndarray
    ramp3: np.ndarray                 # (h, w, 3) illumination gradient
    noise_bank: np.ndarray | None     # (h + 8, w + 8, 3) noise, viewed at a per-frame shift
    blur: np.ndarray                  # (n,) bool: motion-blurred frames
    blur_len: np.ndarray
    blur_ang: np.ndarray
    noise_shift: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, p: SynthParams) -> _Photometry:
        n, w, h = p.n_frames, p.width, p.height
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
        return cls(gain, bias, slope, ramp3, noise_bank, blur, blur_len, blur_ang, noise_shift)

    def apply(self, frame: np.ndarray, t: int) -> np.ndarray:
        """Frame ``t`` after illumination change, noise and (maybe) motion blur, uint8."""
        h, w = frame.shape[:2]
        gain, bias = float(self.gain[t]), float(self.bias[t])
        out = cv2.multiply(frame, cv2.addWeighted(self.ramp3, float(self.gain[t] * self.slope[t]), self.ramp3,
                                                  0.0, gain), dtype=cv2.CV_32F)
        if self.noise_bank is not None:
            oy, ox = self.noise_shift[t]
            frame = cv2.addWeighted(out, 1.0, self.noise_bank[oy:oy + h, ox:ox + w], 1.0, bias,
                                    dtype=cv2.CV_8U)   # rounds, saturates
        else:
            frame = cv2.add(out, (bias,) * 3, dtype=cv2.CV_8U)
        if self.blur[t]:
            frame = _motion_blur(frame, self.blur_len[t], float(self.blur_ang[t]))
        return frame


def _motion_blur(frame: np.ndarray, length: int, angle: float) -> np.ndarray:
    """Blur along a line of ``length`` pixels at ``angle`` degrees."""
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0 / length
    mid = (length - 1) / 2
    rot = cv2.getRotationMatrix2D((mid, mid), angle, 1.0)
    k = cv2.warpAffine(k, rot, k.shape[::-1])
    return cv2.filter2D(frame, -1, k / max(float(k.sum()), 1e-6))


def _paint_sprites(frame: np.ndarray, sprites: list[_Sprite], target: _Sprite, t: int) -> tuple | None:
    """Draw all sprites (back to front) at frame ``t``; the target's region and masks, or None."""
    roi = None   # (x0, y0, full mask, visible mask) of the target, in its bounding region
    for s in sprites:
        res = s.paint(frame, t)
        if res is None:
            continue
        if s is target:
            roi = (res[0], res[1], res[2], res[2].copy())
        elif roi is not None:
            _cut(roi, res)
    return roi


def _render_frames(p: SynthParams, bg: np.ndarray, pan: np.ndarray, target: _Sprite,
                   sprites: list[_Sprite], look: _Photometry) -> tuple:
    """(frames, masks, boxes, full boxes, visible fractions) of a whole video."""
    n, w, h = p.n_frames, p.width, p.height
    frames, masks = [], []
    boxes = np.zeros((n, 4), np.float32)
    full_boxes = np.zeros((n, 4), np.float32)
    visible = np.zeros(n, np.float32)
    for t in range(n):
        frame = np.ascontiguousarray(bg[pan[t, 1]:pan[t, 1] + h, pan[t, 0]:pan[t, 0] + w])
        roi = _paint_sprites(frame, sprites, target, t)
        full_boxes[t], boxes[t], visible[t], mask = _target_truth(roi, target.polygon(t), w, h,
                                                                  p.visible_box_min)
        frames.append(look.apply(frame, t))
        masks.append(mask)
    return frames, masks, boxes, full_boxes, visible
