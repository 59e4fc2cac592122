"""Frame sources (video file, folder of images, webcam) and an annotated-video writer.

Errors name the file: a missing input, a video that cannot be opened or yields no frame, an
image that cannot be decoded.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

__all__ = ["FrameSource", "open_frames", "list_images", "VideoSink", "IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def _natural_key(path: Path):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def list_images(folder: Union[str, os.PathLike]) -> List[Path]:
    """Image files of a folder in natural order (2.jpg before 10.jpg)."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(files, key=_natural_key)


class FrameSource:
    """Iterable over BGR uint8 frames with ``name``, ``fps`` (None if unknown), ``count`` (None if
    unknown) and ``describe`` (what it reads, for messages)."""

    def __init__(self, spec: Union[str, int, os.PathLike]):
        self.spec = spec
        self.images: Optional[List[Path]] = None
        self.capture_target: Optional[Union[str, int]] = None
        self.fps: Optional[float] = None
        self.count: Optional[int] = None
        text = str(spec)
        if isinstance(spec, int) or text.isdigit():
            self.capture_target = int(text)
            self.name = f"webcam{int(text)}"
            self.describe = f"webcam {int(text)}"
            return
        path = Path(text)
        if not path.exists():
            raise FileNotFoundError(f"input not found: {path}")
        self.name = path.stem if path.is_file() else path.resolve().name
        self.describe = str(path)
        if path.is_dir():
            self.images = list_images(path)
            if not self.images:
                raise FileNotFoundError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in folder {path}")
            self.count = len(self.images)
        else:
            self.capture_target = str(path)
            cap = self._open_capture()
            fps = cap.get(cv2.CAP_PROP_FPS)
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            cap.release()
            self.fps = float(fps) if fps and np.isfinite(fps) and 0 < fps < 1000 else None
            self.count = n if n > 0 else None

    def _open_capture(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.capture_target)
        if not cap.isOpened():
            raise OSError(f"cannot open {self.describe} (not a video OpenCV can read?)")
        return cap

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.images is not None:
            for p in self.images:
                frame = cv2.imread(str(p), cv2.IMREAD_COLOR)
                if frame is None:
                    raise OSError(f"cannot read image {p} (missing, truncated or not an image)")
                yield frame
            return
        cap = self._open_capture()
        try:
            n = 0
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                n += 1
                yield frame
            if n == 0:
                raise OSError(f"no frame could be read from {self.describe}")
        finally:
            cap.release()


def open_frames(spec: Union[str, int, os.PathLike]) -> FrameSource:
    """A :class:`FrameSource` for a video file, a folder of images or a webcam index."""
    return FrameSource(spec)


class VideoSink:
    """Writes frames to ``<stem>.<ext>``, trying codecs in order (mp4v/.mp4, then MJPG/.avi).

    Frames go to a temporary file renamed into place by :meth:`close`, so a finished video is
    never half-written; :meth:`abort` removes the temporary file.
    """

    CODECS: Sequence[Tuple[str, str]] = (("mp4v", ".mp4"), ("MJPG", ".avi"))

    def __init__(self, stem: Union[str, os.PathLike], fps: float, size: Tuple[int, int],
                 codecs: Optional[Sequence[Tuple[str, str]]] = None):
        self.stem = Path(stem)
        self.writer = None
        tried = []
        for fourcc, ext in codecs or self.CODECS:
            tmp = self.stem.with_name(f".{self.stem.name}.partial{ext}")
            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), float(fps), tuple(size))
            if writer.isOpened():
                self.writer, self.tmp, self.path, self.codec = writer, tmp, self.stem.with_suffix(ext), fourcc
                break
            writer.release()
            tmp.unlink(missing_ok=True)
            tried.append(f"{fourcc}{ext}")
        if self.writer is None:
            raise OSError(f"cannot write a video at {self.stem} with any codec ({', '.join(tried)})")
        self.size = tuple(size)
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        if (frame.shape[1], frame.shape[0]) != self.size:
            raise ValueError(f"frame size {frame.shape[1]}x{frame.shape[0]} != video size "
                             f"{self.size[0]}x{self.size[1]}")
        self.writer.write(frame)
        self.frames += 1

    def close(self) -> Path:
        self.writer.release()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        self.writer.release()
        self.tmp.unlink(missing_ok=True)
