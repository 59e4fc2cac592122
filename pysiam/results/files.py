"""Tracker result files in pysot's layouts: paths, atomic writers and tolerant readers.

    OPE:        <results>/<DATASET>/<tracker>/<video>.txt                 x,y,w,h per line
    VOT:        <results>/<DATASET>/<tracker>/baseline/<video>/<video>_001.txt
                (1 = init, 2 = failure, 0 = skipped, or a box / polygon per line)
    long-term:  <results>/<DATASET>/<tracker>/longterm/<video>/<video>_001.txt, plus
                <video>_001_confidence.value (first line empty) and <video>_time.txt
    GOT-10k:    <results>/<DATASET>/<tracker>/<video>/<video>_001.txt and <video>_time.txt
    DAVIS:      <results>/<tracker>/<video>/<frame>.png  (also <results>/<DATASET>/<tracker>/...)
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from pysiam.datasets.masks import write_label_png
from pysiam.datasets.parsing import BenchmarkFormatError, parse_numbers
from pysiam.utils.atomic import atomic_write_text

__all__ = ["ope_result_path", "vot_result_path", "longterm_result_paths", "got10k_result_path",
           "davis_result_dir", "write_ope_result", "write_vot_result", "write_longterm_result",
           "write_got10k_result", "write_davis_mask", "read_boxes", "read_vot_records",
           "read_confidences", "find_ope_result", "find_run_files", "list_trackers",
           "tracker_root", "atomic_write_text", "format_vot_record", "looks_like_dataset_folder",
           "check_line_count"]


# ----------------------------------------------------------------------------- paths
def tracker_root(results: str | os.PathLike, dataset: str, tracker: str) -> Path:
    return Path(results) / dataset / tracker


def ope_result_path(results, dataset: str, tracker: str, video: str) -> Path:
    return tracker_root(results, dataset, tracker) / f"{video}.txt"


def vot_result_path(results, dataset: str, tracker: str, video: str, run: int = 1) -> Path:
    return tracker_root(results, dataset, tracker) / "baseline" / video / f"{video}_{run:03d}.txt"


def longterm_result_paths(results, dataset: str, tracker: str, video: str) -> tuple[Path, Path, Path]:
    """(boxes, confidences, times) files of one long-term run."""
    d = tracker_root(results, dataset, tracker) / "longterm" / video
    return d / f"{video}_001.txt", d / f"{video}_001_confidence.value", d / f"{video}_time.txt"


def got10k_result_path(results, dataset: str, tracker: str, video: str, run: int = 1) -> Path:
    return tracker_root(results, dataset, tracker) / video / f"{video}_{run:03d}.txt"


def davis_result_dir(results, tracker: str, video: str, dataset: str | None = None) -> Path:
    base = Path(results) if dataset is None else Path(results) / dataset
    return base / tracker / video


# ----------------------------------------------------------------------------- writers
def _fmt(v: float) -> str:
    return repr(float(v)) if np.isfinite(v) else "nan"


def format_vot_record(record) -> str:
    """One VOT line: an int code (0, 1, 2) or comma-separated numbers with 4 decimals."""
    if isinstance(record, (int, np.integer)):
        return f"{int(record):d}"
    rec = np.asarray(record, dtype=np.float64).reshape(-1)
    if rec.size == 1:
        return f"{int(rec[0]):d}"
    return ",".join(f"{v:.4f}" for v in rec)


def write_ope_result(results, dataset: str, tracker: str, video: str,
                     boxes: Iterable[Sequence[float]]) -> Path:
    """One x,y,w,h line per frame (full float precision), written atomically."""
    path = ope_result_path(results, dataset, tracker, video)
    atomic_write_text(path, "".join(",".join(_fmt(v) for v in b) + "\n" for b in boxes))
    return path


def write_vot_result(results, dataset: str, tracker: str, video: str, records, run: int = 1) -> Path:
    """Records are ints (1 init, 2 failure, 0 skipped) or boxes / polygons."""
    path = vot_result_path(results, dataset, tracker, video, run)
    atomic_write_text(path, "".join(format_vot_record(r) + "\n" for r in records))
    return path


def write_longterm_result(results, dataset: str, tracker: str, video: str, boxes,
                          confidences, times=None) -> Path:
    """First box line is '1' (init) when `boxes[0]` is None; a None confidence is an empty line."""
    box_path, conf_path, time_path = longterm_result_paths(results, dataset, tracker, video)
    lines = ["1" if b is None else ",".join(_fmt(v) for v in b) for b in boxes]
    atomic_write_text(box_path, "".join(l + "\n" for l in lines))
    atomic_write_text(conf_path, "".join(("" if c is None else f"{float(c):.6f}") + "\n"
                                         for c in confidences))
    if times is not None:
        atomic_write_text(time_path, "".join(f"{float(t):.6f}\n" for t in times))
    return box_path


def write_got10k_result(results, dataset: str, tracker: str, video: str, boxes, times=None,
                        run: int = 1) -> Path:
    path = got10k_result_path(results, dataset, tracker, video, run)
    atomic_write_text(path, "".join(",".join(_fmt(v) for v in b) + "\n" for b in boxes))
    if times is not None:
        atomic_write_text(path.with_name(f"{video}_time.txt"),
                          "".join(f"{float(t):.6f}\n" for t in times))
    return path


def write_davis_mask(results, tracker: str, video: str, frame: str, labels: np.ndarray,
                     dataset: str | None = None) -> Path:
    """A palette PNG <frame>.png of object labels (0 background, 1..N objects)."""
    path = davis_result_dir(results, tracker, video, dataset) / f"{frame}.png"
    write_label_png(path, labels)
    return path


# ----------------------------------------------------------------------------- readers
def check_line_count(path: str | os.PathLike, lines: int, frames: int | None) -> None:
    """A result file needs one line per frame of its video: fewer lines means a cut file (a
    killed run, a full disk), which would otherwise be scored as if the video were shorter."""
    if frames is not None and lines != frames:
        what = "cut short" if lines < frames else "longer than the video"
        raise BenchmarkFormatError(f"{path}: {lines} line(s) for a video of {frames} frames: the result "
                                   f"file is {what}; rerun the tracker on this video (--overwrite)")


def read_boxes(path: str | os.PathLike, width: int | None = 4, frames: int | None = None) -> np.ndarray:
    """Rows of numbers separated by commas, tabs or spaces; `width` values each (None: any
    one width). Empty lines and 'nan' give NaN rows. With `frames`, a file with another number
    of lines is an error naming it."""
    path = Path(path)
    rows = []
    for i, line in enumerate(path.read_text().splitlines()):
        vals = parse_numbers(line, f"{path}:{i + 1}") if line.strip() else []
        if vals and width is not None and len(vals) != width:
            raise BenchmarkFormatError(f"{path}:{i + 1}: {len(vals)} values, expected {width}")
        rows.append(vals)
    while rows and not rows[-1]:
        rows.pop()
    check_line_count(path, len(rows), frames)
    w = width or max((len(r) for r in rows), default=4)
    out = np.full((len(rows), w), np.nan)
    for i, r in enumerate(rows):
        if r:
            if len(r) != w:
                raise BenchmarkFormatError(f"{path}:{i + 1}: {len(r)} values, expected {w}")
            out[i] = r
    return out


def read_vot_records(path: str | os.PathLike, frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A VOT result file as (codes, regions): codes[i] is 0/1/2 for special lines and -1 for
    a region; regions is frames x D (D = widest region, rectangles as x,y,w,h) with NaN rows.
    With `frames` (the video's length), a file with another number of lines is an error."""
    path = Path(path)
    lines = path.read_text().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    check_line_count(path, len(lines), frames)
    parsed = [parse_numbers(l, f"{path}:{i + 1}") for i, l in enumerate(lines)]
    codes = np.full(len(parsed), -1, np.int64)
    width = max([len(p) for p in parsed if len(p) > 1], default=4)
    regions = np.full((len(parsed), width), np.nan)
    for i, vals in enumerate(parsed):
        if len(vals) == 1:
            if vals[0] not in (0, 1, 2):
                raise BenchmarkFormatError(f"{path}:{i + 1}: special code {vals[0]:g} is not 0, 1 or 2")
            codes[i] = int(vals[0])
        elif len(vals) == 4 or (len(vals) >= 6 and len(vals) % 2 == 0):
            if len(vals) == 4 and width > 4:   # mixed file: rectangles as 4-point polygons
                x, y, w, h = vals
                vals = [x, y, x + w, y, x + w, y + h, x, y + h]
            if len(vals) < width:             # shorter polygon: repeat its last vertex
                vals = vals + vals[-2:] * ((width - len(vals)) // 2)
            regions[i] = vals
        else:
            raise BenchmarkFormatError(f"{path}:{i + 1}: {len(vals)} values: not a code, box or polygon")
    return codes, regions


def read_confidences(path: str | os.PathLike, length: int | None = None) -> np.ndarray:
    """Long-term confidence file: the first line belongs to the init frame and is NaN."""
    path = Path(path)
    lines = path.read_text().splitlines()
    out = [np.nan]
    for i, line in enumerate(lines[1:], 2):
        out.append(float(parse_numbers(line, f"{path}:{i}")[0]) if line.strip() else np.nan)
    arr = np.asarray(out)
    if length is not None and len(arr) < length:
        arr = np.concatenate([arr, np.full(length - len(arr), np.nan)])
    return arr


def _otb_alternatives(video: str) -> list[str]:
    # pysot's OTB results sometimes use lower-case / underscore names (e.g. jogging_1.txt)
    low = video[0].lower() + video[1:]
    return [video, low, video.lower(), video.replace("-", "_").lower(), low.replace("-", "_")]


def find_ope_result(tracker_dir: Path, video: str) -> Path:
    """The OPE result file of `video` under a tracker folder (a few spellings are tried)."""
    for stem in _otb_alternatives(video):
        p = tracker_dir / f"{stem}.txt"
        if p.is_file():
            return p
    raise FileNotFoundError(f"no result for video {video}: {tracker_dir / (video + '.txt')}")


def find_run_files(folder: Path, video: str) -> list[Path]:
    """<video>_001.txt, <video>_002.txt ... of a VOT / GOT-10k result folder, in run order."""
    pat = re.compile(re.escape(video) + r"_(\d{3})\.txt")
    files = sorted((p for p in folder.glob(f"{video}_*.txt") if pat.fullmatch(p.name)),
                   key=lambda p: p.name) if folder.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no result for video {video}: {folder / (video + '_001.txt')}")
    return files


_DATASET_DIRS = ("img", "color", "JPEGImages", "Annotations")
_FRAME_EXTS = (".jpg", ".jpeg")


def looks_like_dataset_folder(path: str | os.PathLike) -> str:
    """Why `path` looks like a benchmark's sequence folder rather than a tracker's result folder
    ('' when it does not): it holds img/ or color/ (OTB, LaSOT, VOT), JPEGImages/ or Annotations/
    (DAVIS), a groundtruth*.txt, or *.jpg frames (VOT, GOT-10k). Result folders hold text files
    and per-video folders only."""
    path = Path(path)
    if not path.is_dir():
        return ""
    if path.name in ("JPEGImages", "Annotations", "ImageSets"):
        return f"{path.name}/ is a DAVIS dataset folder"
    for name in _DATASET_DIRS:
        if (path / name).is_dir():
            return f"it has a {name}/ folder"
    for f in path.iterdir():
        if f.is_file() and f.name.startswith("groundtruth") and f.suffix == ".txt":
            return f"it has {f.name}"
        if f.is_file() and f.suffix.lower() in _FRAME_EXTS:
            return f"it has image frames such as {f.name}"
    return ""


def list_trackers(results: str | os.PathLike, dataset: str | None = None) -> list[str]:
    """Tracker folders under <results>/<dataset>/ (or <results>/ when dataset is None).

    A folder that looks like a dataset sequence (:func:`looks_like_dataset_folder`) is an error:
    the results folder given is most likely the dataset's."""
    base = Path(results) if dataset is None else Path(results) / dataset
    if not base.is_dir():
        return []
    names = sorted(d.name for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
    for name in names:
        why = looks_like_dataset_folder(base / name)
        if why:
            raise ValueError(f"{base} looks like a dataset, not a results folder: {base / name} is a "
                             f"sequence folder ({why}); give --results the folder the tracker "
                             f"results were written to (tools/test.py --output)")
        if _benchmark_name(name):
            raise ValueError(f"{base / name} is named like the benchmark {name}, not like a tracker: "
                             f"results of another dataset? check --dataset and --results")
    return names


def _benchmark_name(name: str) -> bool:
    from pysiam.datasets.registry import get_spec  # lazy: the registry imports the readers

    try:
        get_spec(name)
    except KeyError:
        return False
    return True
