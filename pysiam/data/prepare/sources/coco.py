"""COCO detection/segmentation (``instances_<set>.json``): every image is a one-frame video.

Layout: ``ROOT/annotations/instances_train2017.json`` and ``ROOT/train2017/*.jpg`` (``val2017`` for
``--split val``; the 2014 sets are used when the 2017 ones are absent). The index is named like
pysot's, ``OUT/train2017.json`` (the default ``DATASET.COCO.ANNO``). As in pysot, the video is
``<set>/<image stem>``, the frame is 0, the track is the annotation's position among the image's
annotations (crowd regions included) and boxes with zero width or height are left out.
"""
from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np

from ..base import AnnotationError, Frame, PrepareError, Source, Target, Video, VideoRef, register_source


def _find_set(root: Path, split: str) -> str:
    for year in ("2017", "2014"):
        if (root / "annotations" / f"instances_{split}{year}.json").is_file():
            return f"{split}{year}"
    raise PrepareError(f"coco: no annotations/instances_{split}2017.json (or 2014) under {root}")


@register_source("coco")
class CocoSource(Source):
    name = "coco"
    has_masks = True

    def json_name(self) -> str:
        return f"{_find_set(self.root, self.split)}.json"

    def list_videos(self) -> list[VideoRef]:
        from pycocotools.coco import COCO

        data_set = _find_set(self.root, self.split)
        ann_file = self.root / "annotations" / f"instances_{data_set}.json"
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                coco = COCO(str(ann_file))
        except Exception as e:
            raise AnnotationError(f"cannot load COCO annotations {ann_file}: "
                                  f"{type(e).__name__}: {e}") from None
        refs = []
        for img_id, img in coco.imgs.items():
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id, iscrowd=None))
            if not anns:
                continue
            stem = img["file_name"].split("/")[-1].split(".")[0]
            payload = {"file": str(self.root / data_set / img["file_name"]), "ann_file": str(ann_file),
                       "size": (img.get("height"), img.get("width")),
                       "anns": [(a.get("id"), a.get("bbox"), a.get("segmentation")) for a in anns]}
            refs.append(VideoRef(f"{data_set}/{stem}", payload))
        return refs

    def load_video(self, ref: VideoRef) -> Video:
        p = ref.payload
        targets = []
        for track, (ann_id, rect, _) in enumerate(p["anns"]):
            if not (isinstance(rect, (list, tuple)) and len(rect) == 4):
                raise AnnotationError(f"{p['ann_file']}: annotation id {ann_id}: bad 'bbox' {rect!r}")
            x, y, w, h = rect
            targets.append(Target(track, [x, y, x + w, y + h]))
        frame = Frame(0, Path(p["file"]), targets, mask_info=p)
        return Video(ref.name, [frame])

    def load_masks(self, frame: Frame, image_shape: tuple) -> dict[int, np.ndarray]:
        from pycocotools import mask as mask_utils

        p = frame.mask_info
        h, w = p["size"]
        if (h, w) != tuple(image_shape):
            raise AnnotationError(f"{p['ann_file']}: image {p['file']} is {image_shape[1]}x{image_shape[0]} "
                                  f"but the annotation says {w}x{h}")
        masks = {}
        for track, (ann_id, _, seg) in enumerate(p["anns"]):
            try:
                if isinstance(seg, list):  # polygons
                    rle = mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
                elif isinstance(seg, dict) and isinstance(seg.get("counts"), list):  # uncompressed RLE
                    rle = mask_utils.frPyObjects(seg, h, w)
                else:  # compressed RLE
                    rle = seg
                with warnings.catch_warnings():  # pycocotools' numpy-2 copy-keyword notice
                    warnings.simplefilter("ignore", DeprecationWarning)
                    masks[track] = mask_utils.decode(rle)
            except Exception as e:
                raise AnnotationError(f"{p['ann_file']}: annotation id {ann_id}: bad 'segmentation': "
                                      f"{type(e).__name__}: {e}") from None
        return masks
