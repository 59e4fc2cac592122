"""Sanity checks of a tracker's inputs: the frame, the initial box, and the box against the frame.

A box above / beside the image, or one many times the image's size, starts the tracker on
padding (the average-colour border of the template crop): it then runs to the end, writes
plausible-looking numbers and exits 0. These checks make that a one-line error instead.
"""
from __future__ import annotations

from typing import Any, Sequence, Tuple

import numpy as np
import torch

__all__ = ["check_image", "check_box", "check_init_box", "MAX_BOX_TO_IMAGE"]

#: a box side longer than this many image sides is taken as a unit or layout mistake
MAX_BOX_TO_IMAGE = 10.0


def check_image(img: Any) -> np.ndarray:
    """A frame must be an H x W x 3 uint8 array (BGR), or such a torch tensor."""
    if isinstance(img, torch.Tensor) and img.dim() == 3 and img.shape[2] == 3 and img.dtype == torch.uint8:
        if img.shape[0] == 0 or img.shape[1] == 0:
            raise ValueError(f"empty image of shape {tuple(img.shape)}")
        return img
    if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        desc = f"{type(img).__name__} {getattr(img, 'shape', '')} {getattr(img, 'dtype', '')}"
        raise ValueError(f"expected a BGR uint8 image of shape H x W x 3, got {desc.strip()}")
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"empty image of shape {img.shape}")
    return img


def check_box(bbox: Sequence[float]) -> Tuple[float, float, float, float]:
    """An initial box must be 4 finite numbers x, y, w, h with w, h > 0."""
    try:
        vals = [float(v) for v in np.asarray(bbox, dtype=np.float64).ravel()]
    except (TypeError, ValueError):
        raise ValueError(f"initial box must be 4 numbers x, y, w, h, got {bbox!r}") from None
    if len(vals) != 4 or not all(np.isfinite(vals)) or vals[2] <= 0 or vals[3] <= 0:
        raise ValueError(f"initial box must be 4 finite numbers x, y, w, h with w, h > 0, got {bbox!r}")
    return vals[0], vals[1], vals[2], vals[3]


def check_init_box(box: Sequence[float], image_size: Tuple[int, int]) -> Tuple[float, float, float, float]:
    """Return ``box`` (x, y, w, h, 0-based) as floats; raise ValueError naming the box and the
    (width, height) image size when it is not 4 finite numbers with w, h > 0, lies wholly
    outside the image, or has a side over :data:`MAX_BOX_TO_IMAGE` times the image's."""
    width, height = int(image_size[0]), int(image_size[1])
    try:
        vals = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"init box {box!r} is not 4 numbers x,y,w,h") from None
    where = f"init box {_fmt(vals)} (x,y,w,h) on a {width}x{height} image"
    if vals.size != 4 or not np.isfinite(vals).all():
        raise ValueError(f"{where}: need 4 finite numbers x,y,w,h")
    x, y, w, h = (float(v) for v in vals)
    if w <= 0 or h <= 0:
        raise ValueError(f"{where}: width and height must be > 0")
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise ValueError(f"{where}: the box lies outside the image")
    if w > MAX_BOX_TO_IMAGE * width or h > MAX_BOX_TO_IMAGE * height:
        raise ValueError(f"{where}: the box is over {MAX_BOX_TO_IMAGE:g}x the image size "
                         f"(x,y,w,h in pixels expected, not x1,y1,x2,y2 of another resolution?)")
    return x, y, w, h


def _fmt(vals: np.ndarray) -> str:
    return ",".join(f"{v:g}" for v in vals)
