"""VOT mask encoding: ``m<x0>,<y0>,<w>,<h>,<RLE>`` lines (VOT2020 and later, vot-toolkit).

The mask is cut to the ``w x h`` window whose top-left pixel is ``(x0, y0)`` in the image; the
window is flattened row after row (C order) and written as run lengths that alternate between
background and foreground, starting with background (a window whose first pixel is foreground
starts with a 0 run). Runs of length 0 may appear anywhere (the toolkit's binary files split long
runs that way) and decode to nothing. An empty mask is ``m0,0,0,0,0``.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

__all__ = ["mask_to_rle", "rle_to_mask", "encode_mask", "decode_mask", "mask_bounds",
           "paste_mask", "EMPTY_MASK_LINE"]

EMPTY_MASK_LINE = "m0,0,0,0,0"


def mask_to_rle(window: np.ndarray) -> List[int]:
    """Run lengths of a 2-D 0/1 window, row-major, background first."""
    v = (np.asarray(window) > 0).ravel()
    if v.size == 0:
        return [0]
    change = np.flatnonzero(v[1:] != v[:-1]) + 1
    edges = np.concatenate([[0], change, [v.size]])
    runs = np.diff(edges).tolist()
    return ([0] + runs) if v[0] else runs


def rle_to_mask(rle: Sequence[int], width: int, height: int) -> np.ndarray:
    """Decode run lengths into a ``height x width`` uint8 0/1 window (runs must fit exactly
    or fall short; missing pixels are background)."""
    runs = np.asarray([int(r) for r in rle], dtype=np.int64)
    if (runs < 0).any():
        raise ValueError(f"negative run length in mask RLE: {runs[runs < 0][0]}")
    total = int(width) * int(height)
    if runs.sum() > total:
        raise ValueError(f"mask RLE covers {int(runs.sum())} pixels, the {width}x{height} window "
                         f"has {total}")
    values = np.arange(len(runs)) % 2
    flat = np.zeros(total, dtype=np.uint8)
    flat[:int(runs.sum())] = np.repeat(values, runs).astype(np.uint8)
    return flat.reshape(int(height), int(width))


def mask_bounds(mask: np.ndarray) -> Tuple[int, int, int, int] | None:
    """(left, top, right, bottom) inclusive of the non-zero pixels, or None for an empty mask."""
    ys, xs = np.nonzero(np.asarray(mask))
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def encode_mask(mask: np.ndarray, offset: Tuple[int, int] = (0, 0)) -> str:
    """A full-image (or offset) mask (> 0 is foreground) as a VOT ``m...`` line, cut to the
    tightest window around the foreground, as the toolkit writes it."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"a mask is 2-D, got shape {mask.shape}")
    b = mask_bounds(mask > 0)
    if b is None:
        return EMPTY_MASK_LINE
    x0, y0, x1, y1 = b
    runs = mask_to_rle(mask[y0:y1 + 1, x0:x1 + 1] > 0)
    head = [x0 + int(offset[0]), y0 + int(offset[1]), x1 - x0 + 1, y1 - y0 + 1]
    return "m" + ",".join(str(v) for v in head + runs)


def decode_mask(line: str) -> Tuple[np.ndarray, Tuple[int, int]]:
    """A VOT ``m<x0>,<y0>,<w>,<h>,<RLE>`` line -> (window uint8 0/1 (h x w), (x0, y0))."""
    text = line.strip()
    if not text.startswith("m"):
        raise ValueError(f"not a mask line (must start with 'm'): {text[:40]!r}")
    try:
        values = [int(float(t)) for t in text[1:].split(",") if t.strip() != ""]
    except ValueError:
        raise ValueError(f"mask line has a non-numeric value: {text[:60]!r}") from None
    if len(values) < 4:
        raise ValueError(f"mask line needs x0,y0,w,h and runs: {text[:60]!r}")
    x0, y0, w, h = values[:4]
    if w < 0 or h < 0:
        raise ValueError(f"mask line has a negative size {w}x{h}: {text[:60]!r}")
    return rle_to_mask(values[4:], w, h), (x0, y0)


def paste_mask(window: np.ndarray, offset: Tuple[int, int], size: Tuple[int, int]) -> np.ndarray:
    """A window placed at ``offset`` in a ``size`` = (width, height) image, cut to the image."""
    width, height = int(size[0]), int(size[1])
    out = np.zeros((height, width), dtype=np.uint8)
    ox, oy = int(offset[0]), int(offset[1])
    h, w = window.shape[:2]
    x0, y0, x1, y1 = max(ox, 0), max(oy, 0), min(ox + w, width), min(oy + h, height)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = window[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    return out
