"""Regions as the Python vot-toolkit (0.7.x) stores and scores them: special codes, rectangles,
polygons and masks; their text / binary trajectory files; their overlap.

The overlap reproduces the toolkit's rasterisation exactly (it differs from the legacy C
toolkit that :mod:`pysiam.eval.region` follows): rectangles and polygon vertices are single
precision and rounded to whole pixels (half to even) before anything else; a rectangle covers
pixels ``x .. x + w - 1``; polygons are filled by the toolkit's scan-line rule; masks are copied
with their offset. The raster window is the union of the two regions' pixel bounds, cut to the
image when ``bounds`` (width, height) is given. Two regions whose union bounds are degenerate
(both empty, say) overlap 1; a window cut away entirely gives 0.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from pysiam.vot.rle import EMPTY_MASK_LINE, decode_mask, mask_to_rle, rle_to_mask

__all__ = ["Region", "special", "rectangle", "polygon", "mask_region", "parse_region",
           "format_region", "read_trajectory", "write_trajectory", "region_overlap",
           "region_overlaps", "is_empty", "INIT", "FAILURE", "UNKNOWN"]

UNKNOWN, INIT, FAILURE = 0, 1, 2
Bounds = Tuple[int, int, int, int]


@dataclass(frozen=True, eq=False)
class Region:
    """kind: 'special' (``code``), 'rectangle' (data float32 x,y,w,h), 'polygon' (float32 N x 2)
    or 'mask' (uint8 0/1 window, top-left pixel ``offset`` = (x, y))."""
    kind: str
    data: Optional[np.ndarray] = None
    offset: Tuple[int, int] = (0, 0)
    code: int = 0


def special(code: int) -> Region:
    return Region("special", code=int(code))


def rectangle(x: float, y: float, w: float, h: float) -> Region:
    return Region("rectangle", np.array([x, y, w, h], dtype=np.float32))


def polygon(points: Sequence[float]) -> Region:
    """From x1,y1,x2,y2,... or N x 2 points (at least 3)."""
    pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    if len(pts) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(pts)}")
    return Region("polygon", pts)


def _bbox(mask: np.ndarray) -> Bounds:
    """The toolkit's ``mask_bounds``: (left, top, right, bottom), (0, 0, 0, 0) when empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return 0, 0, 0, 0
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def mask_region(mask: np.ndarray, offset: Tuple[int, int] = (0, 0), optimize: bool = False) -> Region:
    """A mask (> 0 is foreground); ``optimize`` crops it to its bounds as the toolkit does when
    it reads a text line or a tracker's reply (a mask whose right bound is column 0 empties)."""
    m = (np.asarray(mask) > 0).astype(np.uint8)
    off = (int(offset[0]), int(offset[1]))
    if optimize:
        b = _bbox(m)
        if b[2] == 0:
            return Region("mask", np.zeros((0, 0), np.uint8), (0, 0))
        m = m[b[1]:b[3] + 1, b[0]:b[2] + 1].copy()
        off = (b[0] + off[0], b[1] + off[1])
    return Region("mask", m, off)


def parse_region(line: str) -> Region:
    """One trajectory / ground-truth line, as the toolkit's ``parse_region``."""
    text = line.strip()
    if text.startswith("m"):
        window, off = decode_mask(text)
        return mask_region(window, off, optimize=True)
    try:
        tokens = [float(t) for t in text.split(",")]
    except ValueError:
        raise ValueError(f"not a region line: {text[:60]!r}") from None
    if len(tokens) == 1:
        return special(int(tokens[0]))
    if any(math.isnan(t) for t in tokens) and (len(tokens) == 4 or len(tokens) % 2 == 0):
        return special(UNKNOWN)
    if len(tokens) == 4:
        return rectangle(*tokens)
    if len(tokens) % 2 == 0 and len(tokens) > 4:
        return polygon(tokens)
    raise ValueError(f"a region line has 1, 4 or an even number >= 6 of values: {text[:60]!r}")


def format_region(r: Region) -> str:
    """The text line of a region (float32 values written in full)."""
    if r.kind == "special":
        return str(r.code)
    if r.kind == "rectangle":
        return ",".join(repr(float(v)) for v in r.data)
    if r.kind == "polygon":
        return ",".join(repr(float(v)) for v in r.data.ravel())
    if r.data.size == 0:
        return EMPTY_MASK_LINE
    h, w = r.data.shape
    return "m" + ",".join(str(v) for v in [r.offset[0], r.offset[1], w, h] + mask_to_rle(r.data))


def _read_binary(buf: bytes) -> List[Region]:
    pos = struct.calcsize("<hI")
    _, n = struct.unpack_from("<hI", buf, 0)
    out = []
    for _ in range(n):
        (kind,), pos = struct.unpack_from("<B", buf, pos), pos + 1
        if kind == 0:
            (code,), pos = struct.unpack_from("<I", buf, pos), pos + 4
            out.append(special(code))
        elif kind == 1:
            vals, pos = struct.unpack_from("<ffff", buf, pos), pos + 16
            out.append(rectangle(*vals))
        elif kind == 2:
            (k,), pos = struct.unpack_from("<H", buf, pos), pos + 2
            vals, pos = struct.unpack_from(f"<{2 * k}f", buf, pos), pos + 8 * k
            out.append(polygon(vals))
        elif kind == 3:
            x, y, w, h, k = struct.unpack_from("<hhHHH", buf, pos)
            pos += 10
            runs, pos = struct.unpack_from(f"<{k}H", buf, pos), pos + 2 * k
            out.append(Region("mask", rle_to_mask(runs, w, h), (x, y)))
        else:
            raise ValueError(f"unknown region type {kind} in a binary trajectory")
    return out


def read_trajectory(path: Union[str, Path]) -> List[Region]:
    """A trajectory file: the toolkit's binary ``.bin`` (first short = 1) or text lines."""
    path = Path(path)
    buf = path.read_bytes()
    if len(buf) >= 6 and struct.unpack_from("<h", buf, 0)[0] == 1 and not buf[:1].isdigit():
        return _read_binary(buf)
    regions = []
    for no, line in enumerate(buf.decode().splitlines(), 1):
        try:
            regions.append(parse_region(line))
        except ValueError as e:
            raise ValueError(f"{path}:{no}: {e}") from None
    return regions


def write_trajectory(path: Union[str, Path], regions: Sequence[Region]) -> Path:
    """Text trajectory, one region per line (atomically)."""
    from pysiam.utils.atomic import atomic_write_text

    atomic_write_text(Path(path), "".join(format_region(r) + "\n" for r in regions))
    return Path(path)


def is_empty(r: Region) -> bool:
    """The toolkit's ``is_empty`` (special: always; a mask whose local right or bottom bound is 0)."""
    if r.kind == "special":
        return True
    if r.kind == "rectangle":
        return not (float(r.data[2]) > 0 and float(r.data[3]) > 0)
    if r.kind == "polygon":
        return bool(r.data[:, 1].min() == r.data[:, 1].max() or r.data[:, 0].min() == r.data[:, 0].max())
    b = _bbox(r.data)
    return b[2] == 0 or b[3] == 0


from pysiam.vot.raster import region_overlap, region_overlaps  # noqa: E402  (re-export)
