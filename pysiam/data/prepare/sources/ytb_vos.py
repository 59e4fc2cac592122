"""YouTube-VOS (2018/2019 train): videos with per-object masks every fifth frame.

Layout: ``ROOT/train/JPEGImages/<video>/<frame>.jpg`` and ``ROOT/train/Annotations/<video>/<frame>.png``
(palette PNGs whose indices are object ids). Only the train split has masks on every annotated
frame, so ``--split val`` is refused. As in SiamMask, the video is ``train/<video>``, the frame is
the file number, the box is the tight box of the mask (``x2 = last column + 1``), objects covering
at most ``MIN_OBJECT_PIXELS`` pixels in a frame are left out of that frame, and tracks are numbered
0, 1, ... in the order of the object ids that remain.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..base import AnnotationError, Frame, ImageReadError, PrepareError, Source, Target, Video, VideoRef
from ..base import register_source
from ..io import read_label_png

MIN_OBJECT_PIXELS = 1000  # SiamMask's filter on tiny object instances


def mask_box(mask: np.ndarray) -> list:
    """Tight box ``[x1, y1, x2 + 1, y2 + 1]`` of a non-empty boolean mask (pixel edges)."""
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


@register_source("ytb_vos")
class YoutubeVOSSource(Source):
    name = "ytb_vos"
    has_masks = True
    splits = ("train",)

    def list_videos(self) -> list[VideoRef]:
        ann_root = self.root / "train" / "Annotations"
        if not ann_root.is_dir():
            raise PrepareError(f"ytb_vos: annotation folder not found: {ann_root}")
        return [VideoRef(f"train/{p.name}", p.name) for p in sorted(ann_root.iterdir()) if p.is_dir()]

    def load_video(self, ref: VideoRef) -> Video:
        ann_dir = self.root / "train" / "Annotations" / ref.payload
        img_dir = self.root / "train" / "JPEGImages" / ref.payload
        per_frame = []
        for png in sorted(ann_dir.glob("*.png")):
            try:
                labels = read_label_png(png)
            except ImageReadError as e:
                raise AnnotationError(str(e)) from None
            boxes = {}
            for obj_id in np.unique(labels):
                mask = labels == obj_id
                if obj_id != 0 and mask.sum() > MIN_OBJECT_PIXELS:
                    boxes[int(obj_id)] = mask_box(mask)
            per_frame.append((png, boxes))
        track_of = {o: t for t, o in enumerate(sorted({o for _, b in per_frame for o in b}))}
        frames = []
        for png, boxes in per_frame:
            targets = [Target(track_of[o], box) for o, box in boxes.items()]
            info = (str(png), {track_of[o]: o for o in boxes})
            frames.append(Frame(int(png.stem), img_dir / f"{png.stem}.jpg", targets, mask_info=info))
        return Video(ref.name, frames)

    def load_masks(self, frame: Frame, image_shape: tuple) -> dict[int, np.ndarray]:
        png, obj_of_track = frame.mask_info
        labels = read_label_png(Path(png))
        return {t: labels == o for t, o in obj_of_track.items()}
