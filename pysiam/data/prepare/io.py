"""File helpers for data preparation: checked image reads, atomic writes."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .base import ImageReadError
from pysiam.utils.atomic import atomic_write_bytes

_JPEG_SOI = b"\xff\xd8"
_JPEG_EOI = b"\xff\xd9"


def _read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ImageReadError(f"image not found: {path}", path, missing=True) from None
    except OSError as e:
        raise ImageReadError(f"cannot read image {path}: {e}", path) from None


def read_image(path: Path, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """Decode an image (BGR for colour) or raise :class:`ImageReadError` naming the file.

    A JPEG whose data does not end with the end-of-image marker is reported as truncated (OpenCV
    would decode it silently with a grey lower part).
    """
    data = _read_bytes(path)
    if not data:
        raise ImageReadError(f"image file is empty: {path}", path)
    if data.startswith(_JPEG_SOI) and not data.rstrip(b"\x00\r\n\t ").endswith(_JPEG_EOI):
        raise ImageReadError(f"JPEG image is truncated (no end-of-image marker): {path}", path)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if image is None:
        raise ImageReadError(f"cannot decode image (corrupt or unsupported format): {path}", path)
    return image


def read_label_png(path: Path) -> np.ndarray:
    """Read a label/mask PNG as a 2-D array of label values.

    Palette PNGs (YouTube-VOS, DAVIS 2017) give the palette indices, not colours.
    """
    from PIL import Image  # pillow comes with matplotlib, a core dependency

    data_path = Path(path)
    if not data_path.is_file():
        raise ImageReadError(f"mask not found: {path}", path, missing=True)
    try:
        with Image.open(data_path) as im:
            if im.mode in ("P", "L", "I", "I;16", "1"):
                arr = np.array(im)
            else:
                arr = np.array(im.convert("L"))
    except Exception as e:  # PIL raises several unrelated types for bad files
        raise ImageReadError(f"cannot decode mask {path}: {e}", path) from None
    return arr.astype(np.int64) if arr.dtype == bool else arr


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of an image from its header, without decoding the pixels."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except FileNotFoundError:
        raise ImageReadError(f"image not found: {path}", path, missing=True) from None
    except Exception as e:
        raise ImageReadError(f"cannot read image header {path}: {e}", path) from None


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    atomic_write_bytes(path, data, fsync=False)


def write_image_atomic(path: Path, image: np.ndarray) -> None:
    """Encode ``image`` by the extension of ``path`` (as ``cv2.imwrite`` does) and write it atomically."""
    ok, buf = cv2.imencode(Path(path).suffix, image)
    if not ok:
        raise OSError(f"cannot encode image for {path}")
    write_bytes_atomic(path, buf.tobytes())


def write_json_atomic(path: Path, obj: Any) -> None:
    """Dump ``obj`` as indented, key-sorted JSON (pysot's style) and rename it into place."""
    write_bytes_atomic(path, json.dumps(obj, indent=4, sort_keys=True).encode())
