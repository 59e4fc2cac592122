"""Context crops with torch on any device, bit-exact with :mod:`pysiam.tracker.crop` (OpenCV).

:func:`crop_resize` gives the same uint8 patch as ``crop_window`` -- square crop of side
``crop_size`` around the centre, mean-colour padding, ``cv2.resize`` with INTER_LINEAR -- but
runs where the frame tensor lives (e.g. the GPU), so a frame is uploaded once and only the crop
reaches the network. OpenCV's uint8 bilinear resize is reproduced in integer arithmetic:

* source coordinate ``f = float32((d + 0.5) * scale - 0.5)``, ``scale = 1 / (dst / src)``;
  ``s = floor(f)``, fraction ``f - s``; weights ``round((1 - frac) * 2048)``, ``round(frac * 2048)``
  (11-bit fixed point, rounding half to even);
* columns: a coordinate left of the first / right of the last pixel uses that pixel alone;
  rows: indices are clipped to the image (weights kept);
* horizontal pass ``D = a0 * p0 + a1 * p1``; vertical pass
  ``((b0 * (D0 >> 4)) >> 16) + ((b1 * (D1 >> 4)) >> 16) + 2) >> 2``.

Only the 2 x out rows and columns that the bilinear taps touch are gathered from the frame, so
the padded crop is never built. Nothing here reads a value back to the host.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .crop import crop_origin

__all__ = ["resize_taps", "crop_resize", "crop_to_tensor", "crop_batch", "DeviceCropper",
           "frame_to_tensor", "channel_mean"]

_COEF_SCALE = 2048  # 1 << 11, OpenCV's INTER_RESIZE_COEF_SCALE
_TAPS_CACHE: "OrderedDict[Tuple[int, int, str], Tuple[torch.Tensor, ...]]" = OrderedDict()
_CACHE_SIZE = 512


def _axis_taps(src: int, dst: int, device: torch.device, clamp_fraction: bool):
    d = torch.arange(dst, device=device, dtype=torch.float64)
    scale = 1.0 / (dst / src)
    f = ((d + 0.5) * scale - 0.5).to(torch.float32)
    s = torch.floor(f)
    frac = f - s
    s = s.to(torch.int64)
    if clamp_fraction:  # columns: outside the source, use the border pixel alone
        outside = (s < 0) | (s >= src - 1)
        frac = torch.where(outside, torch.zeros_like(frac), frac)
        s = torch.where(s < 0, torch.zeros_like(s), s)
        s = torch.where(s >= src - 1, torch.full_like(s, src - 1), s)
    w0 = torch.round((1.0 - frac) * _COEF_SCALE).to(torch.int32)
    w1 = torch.round(frac * _COEF_SCALE).to(torch.int32)
    i0 = s.clamp(0, src - 1)
    i1 = (s + 1).clamp(0, src - 1)
    return i0, i1, w0, w1


def resize_taps(src: int, dst: int, device: torch.device = torch.device("cpu")) -> Tuple[torch.Tensor, ...]:
    """(col0, col1, a0, a1, row0, row1, b0, b1) for resizing a ``src`` square to ``dst``:
    source indices (int64, within 0..src-1) and 11-bit weights (int32) per output column / row."""
    key = (int(src), int(dst), str(device))
    taps = _TAPS_CACHE.get(key)
    if taps is None:
        taps = _axis_taps(src, dst, device, True) + _axis_taps(src, dst, device, False)
        _TAPS_CACHE[key] = taps
        if len(_TAPS_CACHE) > _CACHE_SIZE:
            _TAPS_CACHE.popitem(last=False)
    else:
        _TAPS_CACHE.move_to_end(key)
    return taps


def _gather(frame: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
    """frame[rows][:, cols] with ``pad`` wherever a row or column lies outside the frame."""
    h, w = frame.shape[0], frame.shape[1]
    inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]
    g = frame[rows.clamp(0, h - 1)[:, None], cols.clamp(0, w - 1)[None, :]]
    return torch.where(inside[:, :, None], g, pad.to(g.dtype))


def _check(frame: torch.Tensor, crop_size: int) -> int:
    if frame.dim() != 3 or frame.dtype != torch.uint8:
        raise ValueError(f"expected an H x W x C uint8 frame tensor, got {tuple(frame.shape)} {frame.dtype}")
    sz = int(crop_size)
    if sz < 1:
        raise ValueError(f"crop size must be >= 1 pixel, got {crop_size}")
    return sz


def _pad_tensor(pad, frame: torch.Tensor) -> torch.Tensor:
    if isinstance(pad, torch.Tensor):
        return pad.to(frame.device, torch.uint8)
    # the mean colour truncated to uint8, as the OpenCV path writes it
    vals = np.asarray(pad, dtype=np.float64).astype(np.uint8)
    return torch.as_tensor(vals, dtype=torch.uint8).to(frame.device, non_blocking=True)


def _taps_and_gather(frame: torch.Tensor, center: Sequence[float], out_size: int, sz: int,
                     pad: torch.Tensor):
    x0, y0 = crop_origin(center, sz)
    c0, c1, a0, a1, r0, r1, b0, b1 = resize_taps(sz, out_size, frame.device)
    g = _gather(frame, torch.cat([r0, r1]) + y0, torch.cat([c0, c1]) + x0, pad)
    return g, (a0, a1, b0, b1)


def _interpolate(g: torch.Tensor, a0, a1, b0, b1) -> torch.Tensor:
    """OpenCV's fixed-point bilinear from gathered taps g (..., 2n, 2n, C) uint8 -> (..., n, n, C)."""
    n = a0.shape[-1]
    g = g.to(torch.int32)
    d = g[..., :, :n, :] * a0[..., None, :, None] + g[..., :, n:, :] * a1[..., None, :, None]
    top, bottom = d[..., :n, :, :] >> 4, d[..., n:, :, :] >> 4
    out = ((b0[..., :, None, None] * top) >> 16) + ((b1[..., :, None, None] * bottom) >> 16)
    return ((out + 2) >> 2).clamp_(0, 255).to(torch.uint8)


def crop_resize(frame: torch.Tensor, center: Sequence[float], out_size: int, crop_size: int,
                pad) -> torch.Tensor:
    """The (out_size, out_size, C) uint8 patch of an (H, W, C) uint8 ``frame`` tensor, equal to
    :func:`pysiam.tracker.crop.crop_window` on the same pixels. ``pad`` is the per-channel mean
    (floats, truncated like the OpenCV path) or a uint8 tensor."""
    sz = _check(frame, crop_size)
    pad = _pad_tensor(pad, frame)
    out_size = int(out_size)
    if out_size == sz:
        x0, y0 = crop_origin(center, sz)
        idx = torch.arange(sz, device=frame.device)
        return _gather(frame, idx + y0, idx + x0, pad)
    g, (a0, a1, b0, b1) = _taps_and_gather(frame, center, out_size, sz, pad)
    return _interpolate(g, a0, a1, b0, b1)


def _to_nchw_float(patch: torch.Tensor) -> torch.Tensor:
    """(..., H, W, C) uint8 -> (B, C, H, W) contiguous float32."""
    if patch.dim() == 3:
        patch = patch.unsqueeze(0)
    return patch.permute(0, 3, 1, 2).to(torch.float32, memory_format=torch.contiguous_format)


def crop_to_tensor(frame: torch.Tensor, center: Sequence[float], out_size: int, crop_size: int,
                   pad) -> torch.Tensor:
    """:func:`crop_resize` as a (1, C, out, out) float32 tensor (what the network takes)."""
    return _to_nchw_float(crop_resize(frame, center, out_size, crop_size, pad))


def crop_batch(frames: Sequence[torch.Tensor], centers: Sequence[Sequence[float]], out_size: int,
               crop_sizes: Sequence[int], pads: Sequence) -> torch.Tensor:
    """(B, C, out, out) float32 crops of several frames (any sizes, same device); the
    interpolation of all crops runs as one batched computation."""
    if not frames:
        raise ValueError("crop_batch needs at least one frame")
    out_size = int(out_size)
    gathered, taps = [], []
    for frame, center, size, pad in zip(frames, centers, crop_sizes, pads):
        sz = _check(frame, size)
        pad = _pad_tensor(pad, frame)
        if sz == out_size:  # identity resize: the exact taps (weight 2048 on the pixel itself)
            x0, y0 = crop_origin(center, sz)
            idx = torch.arange(sz, device=frame.device)
            g = _gather(frame, torch.cat([idx, idx]) + y0, torch.cat([idx, idx]) + x0, pad)
            full = torch.full((sz,), _COEF_SCALE, dtype=torch.int32, device=frame.device)
            t = (full, torch.zeros_like(full), full, torch.zeros_like(full))
        else:
            g, t = _taps_and_gather(frame, center, out_size, sz, pad)
        gathered.append(g)
        taps.append(t)
    stacked = [torch.stack([t[k] for t in taps]) for k in range(4)]
    return _to_nchw_float(_interpolate(torch.stack(gathered), *stacked))


def channel_mean(frame: torch.Tensor) -> np.ndarray:
    """Per-channel mean of an (H, W, C) uint8 tensor as float64 numpy, equal to
    ``np.mean(img, axis=(0, 1))`` (exact integer sum, one division); one device-to-host read."""
    n = frame.shape[0] * frame.shape[1]
    total = frame.reshape(n, -1).sum(0, dtype=torch.int64).cpu().numpy()
    return total.astype(np.float64) / n


def frame_to_tensor(img, device: torch.device, staging: Optional[Dict] = None) -> torch.Tensor:
    """An (H, W, C) uint8 numpy frame as a tensor on ``device``; tensors are moved as they are.

    For CUDA, the frame goes through a reusable pinned buffer (``staging`` dict, one buffer per
    shape) and a non-blocking copy; the buffer is reused only after its last copy finished.
    """
    if isinstance(img, torch.Tensor):
        return img.to(device, non_blocking=True)
    device = torch.device(device)
    if device.type != "cuda":
        return torch.from_numpy(np.ascontiguousarray(img)).to(device)
    if staging is None:
        return torch.from_numpy(np.ascontiguousarray(img)).pin_memory().to(device, non_blocking=True)
    entry = staging.get(img.shape)
    if entry is None:
        entry = [torch.empty(img.shape, dtype=torch.uint8, pin_memory=True), None]
        staging[img.shape] = entry
    buf, event = entry
    if event is not None:
        event.synchronize()
    buf.numpy()[...] = img
    out = buf.to(device, non_blocking=True)
    entry[1] = torch.cuda.Event()
    entry[1].record()
    return out


class DeviceCropper:
    """Crops on ``device`` for a tracker: uploads numpy frames once (pinned, non-blocking) and
    cuts template / search patches there; ``mean`` gives the padding colour of a frame."""

    def __init__(self, device: torch.device):
        self.device = torch.device(device)
        self._staging: Dict = {}

    def upload(self, img) -> torch.Tensor:
        """The frame as an (H, W, C) uint8 tensor on the device."""
        return frame_to_tensor(img, self.device, self._staging)

    def mean(self, frame) -> np.ndarray:
        """Per-channel mean (float64 numpy) of a numpy frame or a frame tensor."""
        if isinstance(frame, torch.Tensor):
            return channel_mean(frame)
        return np.mean(frame, axis=(0, 1))

    def crop(self, frame, center: Sequence[float], out_size: int, crop_size: int, pad) -> torch.Tensor:
        """(1, C, out, out) float32 crop on the device."""
        return crop_to_tensor(self.upload(frame), center, out_size, crop_size, pad)

    def crop_many(self, frames: List, centers, out_size: int, crop_sizes, pads) -> torch.Tensor:
        """(B, C, out, out) float32 crops of several frames."""
        return crop_batch([self.upload(f) for f in frames], centers, out_size, crop_sizes, pads)
