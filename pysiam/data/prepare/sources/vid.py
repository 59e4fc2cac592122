"""ImageNet VID (ILSVRC2015): videos with per-frame XML boxes and track ids.

Layout: ``ROOT/Annotations/VID/train/<subset>/<video>/<frame>.xml`` with images under ``Data`` at
the same relative path (``.JPEG``). Subsets use pysot's letters: ``a``-``d`` are the four training
folders (``--split train``), ``e`` is ``val`` (``--split val``); the native folder names work too.

As in pysot, a track's frames that have no annotated neighbour (isolated frames) are left out.
pysot keeps only the last contiguous run of a track that leaves the picture and comes back;
here every run of two or more frames is kept under the same track.
"""
from __future__ import annotations

from pathlib import Path

from ..base import Frame, Target, Video, VideoRef, register_source
from .imagenet_xml import ImageNetSource, parse_objects

SUBSETS = {
    "train": {"a": "train/ILSVRC2015_VID_train_0000", "b": "train/ILSVRC2015_VID_train_0001",
              "c": "train/ILSVRC2015_VID_train_0002", "d": "train/ILSVRC2015_VID_train_0003"},
    "val": {"e": "val"},
}


@register_source("vid")
class VidSource(ImageNetSource):
    name, kind, subsets = "vid", "VID", SUBSETS

    def subset_videos(self, letter: str, ann_dir: Path, img_dir: Path) -> list[VideoRef]:
        return [VideoRef(f"{letter}/{video}", (str(ann_dir / video), str(img_dir / video)))
                for video in sorted(p.name for p in ann_dir.iterdir() if p.is_dir())]

    def load_video(self, ref: VideoRef) -> Video:
        ann_dir, img_dir = (Path(p) for p in ref.payload)
        xmls = sorted(ann_dir.glob("*.xml"))
        per_frame = [parse_objects(x, with_trackid=True) for x in xmls]
        # positions (in the annotated frame list) where each track appears
        seen: dict[int, set] = {}
        for pos, objects in enumerate(per_frame):
            for o in objects:
                seen.setdefault(o.trackid, set()).add(pos)
        frames = []
        for pos, (xml, objects) in enumerate(zip(xmls, per_frame)):
            targets = [Target(o.trackid, o.bbox) for o in objects
                       if pos - 1 in seen[o.trackid] or pos + 1 in seen[o.trackid]]
            frames.append(Frame(int(xml.stem), img_dir / f"{xml.stem}.JPEG", targets))
        return Video(ref.name, frames)
