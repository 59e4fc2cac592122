"""What a data source provides to the preparation runner, and the table of registered sources.

A source lists its videos (cheap, in the main process) and loads one video's annotations (in a
worker): frames, each with an image path and the targets visible in it. The runner does the rest
(cropping, resuming, the JSON index), so a new dataset is one small module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Optional

import numpy as np


class PrepareError(Exception):
    """Bad input met while preparing data; the message names the file (and line or key)."""


class AnnotationError(PrepareError):
    """An annotation file that cannot be read or parsed."""


class ImageReadError(PrepareError):
    """An image (or mask) that is missing or cannot be decoded."""

    def __init__(self, message: str, path: Any = None, missing: bool = False):
        super().__init__(message)
        self.path = path
        self.missing = missing

    def __reduce__(self):  # keep the extra fields across process boundaries
        return (type(self), (str(self), self.path, self.missing))


@dataclass
class Target:
    """One object in one frame: its track id and box ``[x1, y1, x2, y2]`` (pixels, x2 = x1 + w).

    ``normalized`` marks a box given as fractions of the image size (converted by the runner).
    """

    track: int
    bbox: list
    normalized: bool = False

    def is_valid(self) -> bool:
        x1, y1, x2, y2 = self.bbox
        return bool(np.isfinite(self.bbox).all()) and x2 - x1 > 0 and y2 - y1 > 0


@dataclass
class Frame:
    """One annotated image. ``mask_info`` is whatever :meth:`Source.load_masks` needs (or None)."""

    index: int
    image: Path
    targets: list[Target]
    mask_info: Any = None


@dataclass
class Video:
    """A video (or a single image, for detection datasets) named as in pysot's ``train.json``."""

    name: str
    frames: list[Frame] = field(default_factory=list)


@dataclass
class VideoRef:
    """A picklable handle for one video, produced by :meth:`Source.list_videos`."""

    name: str
    payload: Any = None


class Source:
    """Base class of a dataset reader. Subclasses set ``name`` and implement two methods."""

    name: ClassVar[str] = ""
    # Whether load_masks gives per-target masks (stored as ``.m.png`` beside the crops).
    has_masks: ClassVar[bool] = False
    # Whether a missing image is normal (partial downloads, e.g. YouTube-BB): counted, not an error.
    missing_images_ok: ClassVar[bool] = False
    splits: ClassVar[tuple] = ("train", "val")

    def __init__(self, root: Path, split: str = "train"):
        self.root = Path(root)
        if split not in self.splits:
            raise PrepareError(f"{self.name}: split must be one of {self.splits}, got {split!r}")
        self.split = split
        if not self.root.is_dir():
            raise PrepareError(f"{self.name}: raw data folder not found: {self.root}")

    def json_name(self) -> str:
        """File name of the index in the output folder (pysot's name for the dataset)."""
        return f"{self.split}.json"

    def list_videos(self) -> list[VideoRef]:
        """All videos of the split; raises :class:`PrepareError` when the index cannot be read."""
        raise NotImplementedError

    def load_video(self, ref: VideoRef) -> Video:
        """Frames and targets of one video; raises :class:`AnnotationError` naming the bad file."""
        raise NotImplementedError

    def load_masks(self, frame: Frame, image_shape: tuple) -> dict[int, np.ndarray]:
        """Binary masks (``image_shape`` = H x W) of the frame's targets by track id (``has_masks`` sources).

        Raises :class:`ImageReadError` or :class:`AnnotationError` naming the bad file.
        """
        return {}


SOURCES: dict[str, type[Source]] = {}


def register_source(*names: str) -> Callable[[type[Source]], type[Source]]:
    """Class decorator adding a source to :data:`SOURCES` under one or more names."""

    def add(cls: type[Source]) -> type[Source]:
        for n in names:
            if n in SOURCES:
                raise KeyError(f"data source {n!r} registered twice")
            SOURCES[n] = cls
        return cls

    return add


def get_source(name: str, root: Path, split: str = "train") -> Source:
    """Instantiate the registered source ``name``."""
    try:
        cls = SOURCES[name]
    except KeyError:
        raise PrepareError(f"unknown data source {name!r}; known: {', '.join(sorted(SOURCES))}") from None
    return cls(root, split)


def read_text_lines(path: Path) -> list[str]:
    """Non-empty lines of a text annotation file, or :class:`AnnotationError` naming it."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise AnnotationError(f"annotation file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise AnnotationError(f"cannot read annotation file {path}: {e}") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_numbers(line: str, path: Path, lineno: int, count: Optional[int] = None) -> list[float]:
    """Numbers of one annotation line separated by commas, tabs or spaces."""
    parts = [p for p in line.replace(",", " ").replace("\t", " ").split(" ") if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise AnnotationError(f"{path}:{lineno}: cannot parse numbers from {line!r}") from None
    if count is not None and len(values) != count:
        raise AnnotationError(f"{path}:{lineno}: expected {count} values, got {len(values)} in {line!r}")
    return values


def xywh_to_xyxy(x: float, y: float, w: float, h: float) -> list:
    """``[x, y, x + w, y + h]``, keeping integers as ints so the JSON stays readable."""
    out = [x, y, x + w, y + h]
    return [int(v) if float(v).is_integer() else float(v) for v in out]
