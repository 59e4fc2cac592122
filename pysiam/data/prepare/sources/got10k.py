"""GOT-10k (train and val splits).

Layout: ``ROOT/<split>/list.txt`` (optional) and ``ROOT/<split>/<sequence>/00000001.jpg ...`` with
``groundtruth.txt`` (x,y,w,h per frame) and ``absence.label`` (1 = target absent). The video is
``<split>/<sequence>``, the track is 0 and the frame is the 0-based image index; absent frames and
empty boxes are left out. The test split has no per-frame boxes and is not supported.
"""
from __future__ import annotations

from pathlib import Path

from ..base import AnnotationError, Frame, PrepareError, Source, Target, Video, VideoRef
from ..base import parse_numbers, read_text_lines, register_source, xywh_to_xyxy

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def sequence_images(folder: Path) -> list[Path]:
    """Image files of a sequence folder in name order."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def read_flags(path: Path, count: int) -> list[bool]:
    """Per-frame 0/1 flags, one per line or comma-separated on one line; all False if the file is absent."""
    if not path.is_file():
        return [False] * count
    values = []
    for lineno, line in enumerate(read_text_lines(path), 1):
        values += parse_numbers(line, path, lineno)
    if len(values) != count:
        raise AnnotationError(f"{path}: {len(values)} flags for {count} frames")
    return [v != 0 for v in values]


def read_boxes(path: Path, count: int) -> list[list]:
    """``count`` boxes ``[x1, y1, x2, y2]`` from an x,y,w,h file, or :class:`AnnotationError`."""
    lines = read_text_lines(path)
    if len(lines) != count:
        raise AnnotationError(f"{path}: {len(lines)} boxes for {count} images")
    return [xywh_to_xyxy(*parse_numbers(line, path, i, count=4)) for i, line in enumerate(lines, 1)]


@register_source("got10k")
class Got10kSource(Source):
    name = "got10k"

    def list_videos(self) -> list[VideoRef]:
        split_dir = self.root / self.split
        if not split_dir.is_dir():
            raise PrepareError(f"got10k: split folder not found: {split_dir}")
        listing = split_dir / "list.txt"
        if listing.is_file():
            names = read_text_lines(listing)
        else:
            names = sorted(p.name for p in split_dir.iterdir() if p.is_dir())
        return [VideoRef(f"{self.split}/{n}", str(split_dir / n)) for n in names]

    def load_video(self, ref: VideoRef) -> Video:
        folder = Path(ref.payload)
        if not folder.is_dir():
            raise AnnotationError(f"got10k: sequence folder not found: {folder}")
        images = sequence_images(folder)
        boxes = read_boxes(folder / "groundtruth.txt", len(images))
        absent = read_flags(folder / "absence.label", len(images))
        frames = [Frame(i, image, [Target(0, box)])
                  for i, (image, box, gone) in enumerate(zip(images, boxes, absent)) if not gone]
        return Video(ref.name, frames)
