"""SiamFC-style square crops around a target, shared by data preparation and training.

Geometry (pysot's pre-cropping convention, boxes are ``[x1, y1, x2, y2]`` with ``x2 = x1 + w``):

* centre ``(cx, cy) = ((x1 + x2) / 2, (y1 + y2) / 2)``, size ``w = x2 - x1``, ``h = y2 - y1``;
* template context side ``s_z = sqrt((w + c (w + h)) * (h + c (w + h)))`` with ``c = context_amount``;
* search side ``s_x = s_z * instance_size / exemplar_size`` (the template scaled to ``exemplar_size``
  pixels, plus ``(instance_size - exemplar_size) / 2`` output pixels of context on each side);
* a square of side ``s`` centred on the target is mapped onto ``out`` pixels by the affine map
  ``u -> (u - (cx - s/2)) * (out - 1) / s``, so the target centre lands on pixel ``(out - 1) / 2``
  (255 of a 511 crop) and a length ``L`` becomes ``L * (out - 1) / s``;
* pixels outside the image are filled with ``padding`` (the per-channel image mean by default).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Union

import cv2
import numpy as np

Padding = Union[None, float, Sequence[float], np.ndarray]

_INTERPOLATION = {"linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST}


@dataclass(frozen=True)
class CropGeometry:
    """Centre and square sides (in source pixels) of the template and search crops of one target."""

    cx: float
    cy: float
    s_z: float
    s_x: float


def siamfc_geometry(bbox_xyxy: Sequence[float], context_amount: float = 0.5,
                    exemplar_size: int = 127, instance_size: int = 511) -> CropGeometry:
    """Centre and crop sides of a target box ``[x1, y1, x2, y2]`` (see the module docstring)."""
    x1, y1, x2, y2 = (float(v) for v in bbox_xyxy)
    w, h = x2 - x1, y2 - y1
    context = context_amount * (w + h)
    s_z = float(np.sqrt((w + context) * (h + context)))
    if not s_z > 0:
        raise ValueError(f"degenerate box {list(bbox_xyxy)}: the context square has side {s_z}")
    # Same operation order as pysot's scripts, so that crops are bit-identical.
    pad = ((instance_size - exemplar_size) / 2) / (exemplar_size / s_z)
    s_x = s_z + 2 * pad
    return CropGeometry((x1 + x2) / 2, (y1 + y2) / 2, s_z, s_x)


def square_crop_matrix(cx: float, cy: float, side: float, out_size: int) -> np.ndarray:
    """2x3 affine matrix mapping the square of ``side`` centred on ``(cx, cy)`` onto ``out_size`` pixels."""
    x0, y0, x1, y1 = cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2
    sx, sy = (out_size - 1) / (x1 - x0), (out_size - 1) / (y1 - y0)
    return np.array([[sx, 0.0, -sx * x0], [0.0, sy, -sy * y0]], dtype=np.float64)


def mean_padding(image: np.ndarray) -> tuple:
    """Per-channel mean of ``image`` (the default fill value outside the image)."""
    return tuple(float(v) for v in np.atleast_1d(np.mean(image, axis=(0, 1))))


def _border_value(image: np.ndarray, padding: Padding) -> tuple:
    if padding is None:
        return mean_padding(image)
    return tuple(float(v) for v in np.atleast_1d(np.asarray(padding, dtype=np.float64)))


def crop_square(image: np.ndarray, cx: float, cy: float, side: float, out_size: int,
                padding: Padding = None, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Resample the square of ``side`` source pixels centred on ``(cx, cy)`` to ``out_size`` squared."""
    matrix = square_crop_matrix(cx, cy, side, out_size)
    return cv2.warpAffine(image, matrix, (out_size, out_size), flags=interpolation,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=_border_value(image, padding))


def crop_like_siamfc(image: np.ndarray, bbox_xyxy: Sequence[float], context_amount: float = 0.5,
                     exemplar_size: int = 127, instance_size: int = 511,
                     padding: Padding = None) -> tuple[np.ndarray, np.ndarray]:
    """Template (``exemplar_size``) and search (``instance_size``) crops of the target ``bbox_xyxy``.

    ``padding`` fills pixels outside the image; ``None`` means the per-channel mean of ``image``.
    Bit-identical to pysot's pre-cropping scripts for the same inputs.
    """
    g = siamfc_geometry(bbox_xyxy, context_amount, exemplar_size, instance_size)
    fill = _border_value(image, padding)
    z = crop_square(image, g.cx, g.cy, g.s_z, exemplar_size, fill)
    x = crop_square(image, g.cx, g.cy, g.s_x, instance_size, fill)
    return z, x


def crop_mask_like_siamfc(mask: np.ndarray, bbox_xyxy: Sequence[float], context_amount: float = 0.5,
                          exemplar_size: int = 127, instance_size: int = 511,
                          interpolation: str = "linear",
                          threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Template and search crops of a binary ``mask`` (H x W), aligned with :func:`crop_like_siamfc`.

    ``interpolation='linear'`` resamples the mask as floats in [0, 1] and keeps pixels above
    ``threshold`` (SiamMask used 0.5 for COCO and 0.2 for YouTube-VOS); ``'nearest'`` picks the
    nearest source pixel. Outside the image is background. Returns uint8 masks with values {0, 255}.
    """
    if interpolation not in _INTERPOLATION:
        raise ValueError(f"interpolation must be one of {sorted(_INTERPOLATION)}, got {interpolation!r}")
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (H x W), got shape {mask.shape}")
    g = siamfc_geometry(bbox_xyxy, context_amount, exemplar_size, instance_size)
    binary = mask > 0
    out = []
    for side, size in ((g.s_z, exemplar_size), (g.s_x, instance_size)):
        if interpolation == "linear":
            warped = crop_square(binary.astype(np.float32), g.cx, g.cy, side, size, 0.0, cv2.INTER_LINEAR)
            keep = warped > threshold
        else:
            keep = crop_square(binary.astype(np.uint8), g.cx, g.cy, side, size, 0.0, cv2.INTER_NEAREST) > 0
        out.append(keep.astype(np.uint8) * 255)
    return out[0], out[1]


def box_in_search_crop(bbox_xyxy: Sequence[float], context_amount: float = 0.5, exemplar_size: int = 127,
                       instance_size: int = 511) -> list[float]:
    """Where the box lands in its own search crop: ``[x1, y1, x2, y2]`` in crop pixels.

    The centre is at ``(instance_size - 1) / 2`` and the size is scaled by ``(instance_size - 1) / s_x``.
    """
    g = siamfc_geometry(bbox_xyxy, context_amount, exemplar_size, instance_size)
    scale = (instance_size - 1) / g.s_x
    c = (instance_size - 1) / 2
    w = (float(bbox_xyxy[2]) - float(bbox_xyxy[0])) * scale
    h = (float(bbox_xyxy[3]) - float(bbox_xyxy[1])) * scale
    return [c - w / 2, c - h / 2, c + w / 2, c + h / 2]
