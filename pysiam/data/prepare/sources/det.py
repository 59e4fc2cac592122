"""ImageNet DET (ILSVRC2015 DET): still images with XML boxes, each a one-frame video.

Layout: ``ROOT/Annotations/DET/train/<subset>/**/<image>.xml`` with images under ``Data`` at the
same relative path (``.JPEG``). Subsets use pysot's letters: ``a``-``h`` are ILSVRC2013_train and
ILSVRC2014_train_0000-0006 (``--split train``), ``i`` is ``val`` (``--split val``); the native
folder names work too. The video is ``<subset>/<image stem>`` (ILSVRC2013_train's class folders are
flattened, as in pysot), the frame is 0 and the track is the object's position in the file.
"""
from __future__ import annotations

from pathlib import Path

from ..base import Frame, Target, Video, VideoRef, register_source
from .imagenet_xml import ImageNetSource, parse_objects

_TRAIN = {"a": "train/ILSVRC2013_train"}
_TRAIN.update({chr(ord("b") + i): f"train/ILSVRC2014_train_{i:04d}" for i in range(7)})
SUBSETS = {"train": _TRAIN, "val": {"i": "val"}}


@register_source("det")
class DetSource(ImageNetSource):
    name, kind, subsets = "det", "DET", SUBSETS

    def subset_videos(self, letter: str, ann_dir: Path, img_dir: Path) -> list[VideoRef]:
        return [VideoRef(f"{letter}/{xml.stem}",
                         (str(xml), str(img_dir / xml.relative_to(ann_dir).with_suffix(".JPEG"))))
                for xml in sorted(ann_dir.rglob("*.xml"))]

    def load_video(self, ref: VideoRef) -> Video:
        xml, image = (Path(p) for p in ref.payload)
        objects = parse_objects(xml, with_trackid=False)
        targets = [Target(i, o.bbox) for i, o in enumerate(objects)]
        return Video(ref.name, [Frame(0, image, targets)])
