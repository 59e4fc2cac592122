"""Reader of the DAVIS layout: JPEGImages/<res>/<seq>/, Annotations/<res>/<seq>/, ImageSets/."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pysiam.datasets.masks import read_label_png
from pysiam.datasets.parsing import BenchmarkFormatError, list_frames
from pysiam.datasets.video import Video

__all__ = ["read_davis"]


def _sequence_names(root: Path, year: int, split: str, ann_dir: Path) -> list[str]:
    candidates = [root / "ImageSets" / str(year) / f"{split}.txt",
                  root / "ImageSets" / "480p" / f"{split}.txt"]
    for path in candidates:
        if path.is_file():
            names = []
            for line in path.read_text().splitlines():
                line = line.strip()
                if not line:
                    continue
                # DAVIS-2016 lists frame pairs '/JPEGImages/480p/<seq>/00000.jpg /Annotations/...'
                name = line.split()[0].strip("/").split("/")[2] if "/" in line else line
                if name not in names:
                    names.append(name)
            return names
    if not ann_dir.is_dir():
        raise FileNotFoundError(f"DAVIS annotation folder not found: {ann_dir}")
    return sorted(d.name for d in ann_dir.iterdir() if d.is_dir())


def read_davis(root: str | Path, year: int = 2017, split: str = "val", resolution: str = "480p",
               **_: Any) -> dict[str, Video]:
    """DAVIS 2016 / 2017. The sequence list comes from ImageSets/<year>/<split>.txt (or the
    2016 frame-pair list ImageSets/480p/<split>.txt), else every folder of Annotations/<res>.
    Frames are paired with masks by file name; frames without a mask are an error except in
    the test splits (first mask only)."""
    root = Path(root)
    img_root, ann_root = root / "JPEGImages" / resolution, root / "Annotations" / resolution
    videos = {}
    for name in _sequence_names(root, year, split, ann_root):
        imgs = list_frames(img_root / name, (".jpg", ".jpeg"))
        masks = list_frames(ann_root / name, (".png",))
        if not masks:
            raise BenchmarkFormatError(f"{ann_root / name}: no annotation PNG")
        stems = [Path(m).stem for m in masks]
        img_stems = [Path(i).stem for i in imgs]
        if stems != img_stems[:len(stems)] or (len(stems) != len(img_stems) and not split.startswith("test")):
            missing = sorted(set(img_stems) ^ set(stems))[:3]
            raise BenchmarkFormatError(f"{ann_root / name}: frames and masks do not pair up "
                                       f"(e.g. {', '.join(missing)})")
        first = read_label_png(masks[0])
        if not ((first > 0) & (first != 255)).any():
            raise BenchmarkFormatError(f"{masks[0]}: the first annotation mask (frame 0 of {name}) "
                                       f"has no object: there is nothing to track")
        videos[name] = Video(name, imgs, None, mask_paths=masks,
                             meta={"frame_ids": img_stems, "year": year})
    return videos
