"""Training-pair augmentation of pysot: crop with random shift and scale, colour, blur, flip, gray.

Input is a target patch (:class:`pysiam.data.train_sources.TargetPatch`: pysot's 511x511 crops,
or a frame seen through the geometry of such a crop) with the target centred at exemplar scale.
The order of operations is pysot's:

1. gray (the same decision for template and search of a pair, made by the caller; applied right
   after the crop, which equals pysot's gray-then-crop up to rounding);
2. a ``size - 1`` wide window centred on the patch, scaled by ``1 + u * scale`` per axis
   (u uniform in [-1, 1], at most the patch size) and shifted by ``u * shift`` px per axis
   (kept inside the patch), resampled to ``size`` x ``size``; the box follows;
3. colour: subtract a random PCA offset of the ImageNet RGB statistics (probability ``color``);
4. motion blur with a random line kernel (probability ``blur``);
5. horizontal flip (probability ``flip``).

The image comes back as float32 (colour jitter is not clipped, as in pysot). All randomness comes
from the ``numpy.random.Generator`` passed in, so a sample is reproducible from its seed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence, Tuple

import cv2
import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .train_sources import TargetPatch

__all__ = ["Augmentation", "crop_window", "RGB_PCA"]

# Eigenvectors of the ImageNet RGB covariance scaled by their eigenvalues (rows: one per
# random component), the usual "fancy PCA" colour augmentation.
RGB_PCA = np.array([[-0.55919361, 0.98062831, -0.41940627],
                    [1.72091413, 0.19879334, -1.82968581],
                    [4.64467907, 4.73710203, 4.88324118]], dtype=np.float32)


def crop_window(image: np.ndarray, window: Sequence[float], size: int, border=0.0,
                scale: float = 1.0, origin: Sequence[float] = (0.0, 0.0),
                interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Resample the corner box ``window`` (x1, y1, x2, y2) to ``size`` x ``size``, in one warp.

    ``window`` is in patch coordinates; patch pixel ``p`` sits at ``origin + scale * p`` in
    ``image`` (identity by default). Corner pixels map to corner pixels (x1 -> 0, x2 -> size - 1).
    Outside the image: ``border`` (a number or one value per channel).
    """
    x1, y1, x2, y2 = (float(v) for v in window)
    a = (size - 1) / (x2 - x1) / scale
    b = (size - 1) / (y2 - y1) / scale
    ox, oy = float(origin[0]) + x1 * scale, float(origin[1]) + y1 * scale
    mapping = np.array([[a, 0.0, -a * ox], [0.0, b, -b * oy]], dtype=np.float64)
    channels = 1 if image.ndim == 2 else image.shape[2]
    if np.ndim(border) == 0:
        border = (float(border),) * channels
    return cv2.warpAffine(image, mapping, (size, size), flags=interpolation,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=tuple(border))


def _uniform(rng: np.random.Generator) -> float:
    """Uniform in [-1, 1)."""
    return rng.random() * 2.0 - 1.0


class Augmentation:
    """Random crop (shift, scale) plus colour, blur and flip; see the module docstring."""

    def __init__(self, shift: float = 0.0, scale: float = 0.0, blur: float = 0.0, flip: float = 0.0,
                 color: float = 0.0):
        self.shift = float(shift)
        self.scale = float(scale)
        self.blur = float(blur)
        self.flip = float(flip)
        self.color = float(color)

    @classmethod
    def from_config(cls, node) -> "Augmentation":
        """From a ``DATASET.TEMPLATE`` / ``DATASET.SEARCH`` config node."""
        return cls(node.SHIFT, node.SCALE, node.BLUR, node.FLIP, node.COLOR)

    # -- the steps ---------------------------------------------------------------------------
    def shift_scale(self, image_hw: Tuple[int, int], box: np.ndarray, size: int,
                    rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
        """Crop window (corners, patch pixels) and the box in output-crop pixels."""
        im_h, im_w = image_hw
        cx, cy = im_w // 2, im_h // 2
        w = h = float(size - 1)
        sx = sy = 1.0
        if self.scale:
            sx = min(1.0 + _uniform(rng) * self.scale, im_w / w)
            sy = min(1.0 + _uniform(rng) * self.scale, im_h / h)
        x1, y1 = cx - w * sx / 2, cy - h * sy / 2
        x2, y2 = cx + w * sx / 2, cy + h * sy / 2
        if self.shift:
            dx = _uniform(rng) * self.shift
            dy = _uniform(rng) * self.shift
            dx = max(-x1, min(im_w - 1 - x2, dx))
            dy = max(-y1, min(im_h - 1 - y2, dy))
            x1, x2, y1, y2 = x1 + dx, x2 + dx, y1 + dy, y2 + dy
        window = np.array([x1, y1, x2, y2], dtype=np.float64)
        out = (np.asarray(box, dtype=np.float64) - [x1, y1, x1, y1]) / [sx, sy, sx, sy]
        return window, out

    @staticmethod
    def color_offset(rng: np.random.Generator) -> np.ndarray:
        """Per-channel BGR offset to subtract (RGB PCA noise, reversed to BGR)."""
        return (RGB_PCA.astype(np.float64) @ rng.standard_normal(3))[::-1]

    @staticmethod
    def motion_blur_kernel(rng: np.random.Generator) -> np.ndarray:
        """Odd-sized (5..45) kernel: a vertical and a horizontal line through the centre, mixed at random."""
        size = int(rng.choice(np.arange(5, 46, 2)))
        wx = rng.random()
        kernel = np.zeros((size, size))
        c = size // 2
        kernel[:, c] += wx / size
        kernel[c, :] += (1.0 - wx) / size
        return kernel

    def __call__(self, patch: "TargetPatch", size: int, rng: np.random.Generator, gray: bool = False,
                 with_mask: bool = False) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
        """Augmented ``size`` x ``size`` crop (float32 HWC BGR) of ``patch``, its box (x1, y1, x2, y2)
        and, with ``with_mask`` and a patch mask, the mask crop (float32 in [0, 1])."""
        window, box = self.shift_scale(patch.size, patch.box, size, rng)
        crop = crop_window(patch.image, window, size, patch.border, patch.scale, patch.origin)
        mask = None
        if with_mask and patch.mask is not None:
            mask = crop_window(patch.mask.astype(np.float32), window, size, 0.0, patch.scale, patch.origin)
        if gray:  # pysot grays the patch before cropping; per-pixel, so the same up to rounding
            crop = cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        crop = crop.astype(np.float32)
        if self.color > rng.random():
            crop = crop - self.color_offset(rng).astype(np.float32)
        if self.blur > rng.random():
            crop = cv2.filter2D(crop, -1, self.motion_blur_kernel(rng))
        if self.flip and self.flip > rng.random():
            crop = cv2.flip(crop, 1)
            if mask is not None:
                mask = cv2.flip(mask, 1)
            box = np.array([size - 1 - box[2], box[1], size - 1 - box[0], box[3]])
        return crop, np.asarray(box, dtype=np.float32), mask
