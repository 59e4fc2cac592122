"""SiamMask post-processing: paste the refined mask back into the frame, rotated box from the mask.

Paste-back (the rule of pysot's SiamMask tracker): the ``k`` x ``k`` mask covers the exemplar-sized window
of the search crop at score-map position (row, col), top-left crop_origin +
((col - base/2) * stride * s, (row - base/2) * stride * s), side exemplar * s, s = crop / instance.
It is warped into the W x H frame with ``cv2.warpAffine`` (bilinear, constant border); the
forward matrix maps x_img = (W - 1) / W * (win_x0 + x_mask * win / k), which is the half-pixel
shrink towards the origin that pysot's matrix has (kept for parity; OpenCV 4.x semantics).
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import cv2
import numpy as np

from ..utils.bbox import corners_of_xywh

__all__ = ["mask_window", "paste_matrix", "paste_mask", "mask_polygon"]


def mask_window(crop_box: Sequence[float], row: int, col: int, instance_size: int,
                exemplar_size: int, stride: int, base_size: int) -> List[float]:
    """Frame-space (x, y, side, side) window that the refined mask at (row, col) covers.

    ``crop_box`` is the search crop (x0, y0, S, S) with x0 = cx - S / 2 (unrounded) and S the
    rounded crop side.
    """
    s = crop_box[2] / instance_size
    return [crop_box[0] + (col - base_size / 2) * stride * s,
            crop_box[1] + (row - base_size / 2) * stride * s,
            s * exemplar_size,
            s * exemplar_size]


def paste_matrix(window: Sequence[float], mask_size: int, image_size: Tuple[int, int]) -> np.ndarray:
    """2 x 3 float64 affine matrix taking mask pixels into a frame of ``image_size`` = (W, H)."""
    im_w, im_h = image_size
    s = mask_size / window[2]
    back = [-window[0] * s, -window[1] * s, im_w * s, im_h * s]
    a = (im_w - 1) / back[2]
    b = (im_h - 1) / back[3]
    c = -a * back[0]
    d = -b * back[1]
    return np.array([[a, 0, c], [0, b, d]], dtype=np.float64)


def paste_mask(mask: np.ndarray, window: Sequence[float], image_size: Tuple[int, int],
               border: float = 0.0) -> np.ndarray:
    """Warp a square float32 mask (k x k) onto an (H, W) frame canvas; ``border`` fills the rest.

    pysot uses ``border=0``; the original SiamMask test script uses -1.
    """
    mask = np.asarray(mask, dtype=np.float32)
    if mask.ndim != 2 or mask.shape[0] != mask.shape[1]:
        raise ValueError(f"expected a square 2-D mask, got shape {mask.shape}")
    m = paste_matrix(window, mask.shape[0], image_size)
    return cv2.warpAffine(mask, m, (int(image_size[0]), int(image_size[1])), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=float(border))


def mask_polygon(binary: np.ndarray, fallback_xywh: Sequence[float], min_area: float = 100) -> List[float]:
    """Rotated box (8 values x1, y1, ..., x4, y4) of a binary mask's largest external contour.

    The minimum-area rectangle of the contour with the largest area is used when that area is
    above ``min_area``; otherwise (empty or tiny mask) the corners of ``fallback_xywh``.
    """
    binary = np.ascontiguousarray(binary, dtype=np.uint8)
    contours = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[-2]
    areas = [cv2.contourArea(c) for c in contours]
    if areas and max(areas) > min_area:
        contour = contours[int(np.argmax(areas))].reshape(-1, 2)
        pts = cv2.boxPoints(cv2.minAreaRect(contour))
    else:
        pts = corners_of_xywh(fallback_xywh)
    return [float(v) for v in np.asarray(pts).ravel()]
