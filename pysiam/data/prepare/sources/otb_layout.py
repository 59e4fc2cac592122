"""A folder of OTB-style sequences, optionally with masks (also pysiam's synthetic videos).

Layout: ``ROOT/<video>/img/0001.jpg ...`` with ``ROOT/<video>/groundtruth_rect.txt`` (x,y,w,h per
frame, separated by commas, tabs or spaces) and optionally ``ROOT/<video>/mask/0001.png`` (non-zero
= target; values 0/255 are thresholded at 128). The video is the folder name, the track is 0 and the
frame is the 0-based image index; empty or NaN boxes are left out; hidden folders (names starting
with a dot, e.g. unfinished writes) are ignored. The split only names the JSON.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..base import Frame, Source, Target, Video, VideoRef, register_source
from ..io import read_label_png
from .got10k import read_boxes, sequence_images

GROUNDTRUTH = "groundtruth_rect.txt"


def binary_mask(labels: np.ndarray) -> np.ndarray:
    """Target pixels of a mask image: ``> 0`` for 0/1 masks, ``>= 128`` for 8-bit masks."""
    return labels > 0 if labels.max(initial=0) <= 1 else labels >= 128


@register_source("otb", "synthetic")
class OtbLayoutSource(Source):
    name = "otb"
    has_masks = True

    def list_videos(self) -> list[VideoRef]:
        return [VideoRef(p.name, str(p)) for p in sorted(self.root.iterdir())
                if p.is_dir() and not p.name.startswith(".") and (p / GROUNDTRUTH).is_file()]

    def load_video(self, ref: VideoRef) -> Video:
        folder = Path(ref.payload)
        images = sequence_images(folder / "img") if (folder / "img").is_dir() else []
        boxes = read_boxes(folder / GROUNDTRUTH, len(images))
        mask_dir = folder / "mask"
        frames = []
        for i, (image, box) in enumerate(zip(images, boxes)):
            mask = mask_dir / f"{image.stem}.png"
            frames.append(Frame(i, image, [Target(0, box)], mask_info=str(mask) if mask.is_file() else None))
        return Video(ref.name, frames)

    def load_masks(self, frame: Frame, image_shape: tuple) -> dict[int, np.ndarray]:
        return {0: binary_mask(read_label_png(Path(frame.mask_info)))}
