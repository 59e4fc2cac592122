"""Label PNGs of video object segmentation (DAVIS): reading and atomic palette writing."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from pysiam.utils.atomic import atomic_path

__all__ = ["read_label_png", "write_label_png", "label_palette"]


def label_palette(n: int = 256) -> np.ndarray:
    """The usual VOS palette (PASCAL VOC colour map): bits of the label spread over R, G, B."""
    labels = np.arange(n)
    cmap = np.zeros((n, 3), np.uint8)
    for bit in range(8):
        for ch in range(3):
            cmap[:, ch] |= (((labels >> (3 * bit + ch)) & 1) << (7 - bit)).astype(np.uint8)
    return cmap


def read_label_png(path: str | os.PathLike) -> np.ndarray:
    """An annotation / result PNG as integer labels.

    Palette PNGs give their indices (DAVIS 2017: objects 1..K, 255 void); 1-bit PNGs give 0/1;
    grey PNGs holding only 0 and 255 (DAVIS 2016 annotations) give 0/1, other grey levels are
    labels as they are.
    """
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.mode in ("RGB", "RGBA"):
                raise ValueError(f"{path}: colour PNG; a label mask must be a palette, grey or 1-bit PNG")
            labels = np.array(im)
            if im.mode != "P" and labels.dtype != bool and np.isin(labels, (0, 255)).all():
                labels = labels > 0
            return labels.astype(np.uint8)
    except FileNotFoundError:
        raise FileNotFoundError(f"mask not found: {path}") from None


def write_label_png(path: str | os.PathLike, labels: np.ndarray) -> None:
    """Write labels 0..255 as a palette PNG, atomically (temporary file, then rename)."""
    from PIL import Image

    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.min(initial=0) < 0 or labels.max(initial=0) > 255:
        raise ValueError(f"{path}: labels must be a 2-D array of values 0..255")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(labels.astype(np.uint8), mode="P")
    im.putpalette(label_palette().reshape(-1).tolist())
    with atomic_path(path, fsync=False) as tmp:
        im.save(tmp, format="PNG")
