"""Reading the plain-text files of tracking benchmarks, with errors that name the file and line."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

__all__ = ["BenchmarkFormatError", "parse_numbers", "read_rows", "read_int_column",
           "list_frames", "frame_number", "check_init_row", "check_frame_count"]

_SPLIT = re.compile(r"[,\s;]+")


class BenchmarkFormatError(ValueError):
    """A benchmark or result file does not have the expected content."""


def parse_numbers(text: str, where: str) -> list[float]:
    """Split one line on commas, tabs or spaces into floats ('nan' allowed); `where` names the line."""
    fields = [f for f in _SPLIT.split(text.strip()) if f]
    try:
        return [float(f) for f in fields]
    except ValueError:
        raise BenchmarkFormatError(f"{where}: not a list of numbers: {text.strip()[:80]!r}") from None


def read_rows(path: str | os.PathLike, widths: Sequence[int] = (4,), *, allow_empty: bool = False,
              what: str = "ground truth") -> np.ndarray:
    """Read a numeric table, one row per line, each row `widths[k]` values long.

    Rows of different allowed widths are padded with NaN to the widest one present. With `allow_empty`,
    an empty line is a frame without annotation (a NaN row); otherwise it is an error. Trailing
    empty lines at the end of the file are always ignored.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file not found: {path}")
    lines = path.read_text().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    width = max(widths)
    out = np.full((len(lines), width), np.nan)
    seen = min(widths)
    for i, line in enumerate(lines):
        where = f"{path}:{i + 1}"
        if not line.strip():
            if allow_empty:
                continue
            raise BenchmarkFormatError(f"{where}: empty {what} line")
        values = parse_numbers(line, where)
        if len(values) not in widths:
            raise BenchmarkFormatError(
                f"{where}: {what} line has {len(values)} values, expected {' or '.join(map(str, widths))}")
        out[i, :len(values)] = values
        seen = max(seen, len(values))
    return out[:, :seen]


def check_init_row(gt: np.ndarray, where: str) -> None:
    """The first ground-truth row initialises the tracker: it must be a box x,y,w,h (w, h > 0) or
    a polygon of finite numbers; `where` names the file and line (e.g. 'groundtruth.txt:1')."""
    if gt is None or not len(gt):
        raise BenchmarkFormatError(f"{where}: no ground-truth line: the first box is needed to start tracking")
    row = np.asarray(gt[0], dtype=np.float64)
    n = int(np.count_nonzero(~np.isnan(row)))
    values = row[:n]
    text = ",".join(f"{v:g}" for v in row)
    shape_ok = n == 4 or (n >= 6 and n % 2 == 0)
    if not shape_ok or not np.isfinite(values).all() or not np.isnan(row[n:]).all():
        raise BenchmarkFormatError(f"{where}: the first ground-truth line (the initial box) must be "
                                   f"finite numbers x,y,w,h or a polygon, got {text}")
    if n == 4 and (values[2] <= 0 or values[3] <= 0):
        raise BenchmarkFormatError(f"{where}: the first ground-truth box {text} has no area (w, h must be > 0)")


def check_frame_count(frames: Sequence[str], last_number: int, gt_path, folder) -> None:
    """Fail when `folder` holds frames numbered after `last_number`, the frame of the last
    ground-truth line: those frames would be dropped silently (a cut ground-truth file)."""
    after = [f for f in frames if (frame_number(f) or 0) > last_number]
    if after:
        raise BenchmarkFormatError(
            f"{gt_path}: the ground truth ends at frame {last_number} but {folder} has {len(after)} "
            f"more frame(s) (up to {os.path.basename(after[-1])}): the ground-truth file is shorter "
            f"than the video")


def read_int_column(path: str | os.PathLike, length: int | None = None) -> np.ndarray:
    """Read one integer per line (VOT .tag files, LaSOT occlusion flags, GOT-10k labels).

    Comma-separated single lines (LaSOT's `full_occlusion.txt`) are accepted too. The result is
    zero-padded or cut to `length` when given (VOT tag files stop at the last tagged frame).
    """
    path = Path(path)
    values: list[int] = []
    for i, line in enumerate(path.read_text().splitlines()):
        if line.strip():
            values += [int(round(v)) for v in parse_numbers(line, f"{path}:{i + 1}")]
    arr = np.asarray(values, dtype=np.int64)
    if length is not None:
        arr = np.concatenate([arr, np.zeros(max(0, length - len(arr)), np.int64)])[:length]
    return arr


_DIGITS = re.compile(r"(\d+)(?=\.[A-Za-z]+$)")


def frame_number(name: str) -> int | None:
    """The number in a frame file name such as '00000042.jpg' (None when there is none)."""
    m = _DIGITS.search(os.path.basename(name))
    return int(m.group(1)) if m else None


def list_frames(folder: str | os.PathLike, exts: Iterable[str] = (".jpg", ".jpeg", ".png")) -> list[str]:
    """Image files of a folder, ordered by their frame number (then by name)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"frame folder not found: {folder}")
    exts = tuple(e.lower() for e in exts)
    names = [n for n in os.listdir(folder) if n.lower().endswith(exts) and not n.startswith(".")]
    names.sort(key=lambda n: (frame_number(n) if frame_number(n) is not None else -1, n))
    return [str(folder / n) for n in names]
