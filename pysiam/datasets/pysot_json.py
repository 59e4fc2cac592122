"""Reader of pysot's JSON annotation layout (<root>/<NAME>.json).

Each entry: {video: {video_dir, init_rect, img_names (relative to root), gt_rect, attr, ...}};
VOT files add per-frame tag lists (camera_motion, illum_change, ...), LaSOT an 'absent' list
(1 where the target is present), and files may carry 'width' / 'height'.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Collection, Iterable, Sequence

import numpy as np

from pysiam.datasets.parsing import BenchmarkFormatError, check_init_row
from pysiam.datasets.video import Video

__all__ = ["read_pysot_json", "gt_rows"]

_TAG_KEYS = ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion")


def gt_rows(rows: Iterable[Any], where: str, widths: Sequence[int] = (4, 8),
            allow_empty: bool = True) -> np.ndarray:
    """Box / polygon rows as a NaN-padded float array; [], [0], None or NaN rows become NaN."""
    rows = list(rows)
    width = max(widths)
    out = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        if row is None or (isinstance(row, (int, float)) and (row == 0 or math.isnan(row))):
            row = []
        try:
            vals = [float("nan") if v is None else float(v) for v in row]
        except (TypeError, ValueError):
            raise BenchmarkFormatError(f"{where}[{i}] (frame {i + 1}): not a list of numbers: {row!r}") from None
        if len(vals) <= 1 and allow_empty:
            continue
        if len(vals) not in widths:
            raise BenchmarkFormatError(f"{where}[{i}] (frame {i + 1}): {len(vals)} values, "
                                       f"expected {' or '.join(map(str, widths))}")
        out[i, :len(vals)] = vals
    return out


def read_pysot_json(json_path: str | Path, root: str | Path | None = None,
                    names: Collection[str] | None = None, **_: Any) -> dict[str, Video]:
    """Read a pysot-format annotation file; image paths are taken relative to `root`
    (default: the JSON's folder)."""
    json_path = Path(json_path)
    root = Path(root) if root is not None else json_path.parent
    if root.is_file():
        root = root.parent
    try:
        meta = json.loads(json_path.read_text())
    except json.JSONDecodeError as err:
        raise BenchmarkFormatError(f"{json_path}: invalid JSON: {err}") from None
    if not isinstance(meta, dict):
        raise BenchmarkFormatError(f"{json_path}: expected an object of videos")
    videos = {}
    for name, entry in meta.items():
        if names is not None and name not in names:
            continue
        where = f"{json_path}: video {name!r}"
        for key in ("img_names", "gt_rect"):
            if key not in entry:
                raise BenchmarkFormatError(f"{where}: missing key {key!r}")
        gt = gt_rows(entry["gt_rect"], f"{where} gt_rect")
        if np.isnan(gt[:, 4:]).all():
            gt = gt[:, :4]
        imgs = [str(root / p) for p in entry["img_names"]]
        if len(gt) > 1 and len(imgs) != len(gt):
            raise BenchmarkFormatError(f"{where}: {len(imgs)} img_names but {len(gt)} gt_rect rows")
        tags = {}
        for key in _TAG_KEYS:
            if key in entry:
                t = np.asarray(entry[key] or [], dtype=np.int64)
                tags[key] = np.concatenate([t, np.zeros(max(0, len(gt) - len(t)), np.int64)])[:len(gt)]
        visible = np.asarray(entry["absent"]) == 1 if "absent" in entry else None
        size = (entry["width"], entry["height"]) if "width" in entry and "height" in entry else None
        init = entry.get("init_rect")
        init = None if init is None or len(init) != 4 else init
        if init is not None:
            check_init_row(np.asarray([init], dtype=np.float64), f"{where} init_rect")
        else:
            check_init_row(gt, f"{where} gt_rect[0] (frame 1)")
        videos[name] = Video(name, imgs, gt, init_rect=init, attrs=entry.get("attr") or [],
                             tags=tags, visible=visible, image_size=size,
                             meta={"video_dir": entry.get("video_dir", name),
                                   "gt_complete": len(gt) == len(imgs) or len(gt) > 1})
    return videos
