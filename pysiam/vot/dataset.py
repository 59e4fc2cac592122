"""Reader of the VOT2020+ sequence layout (ground truth with mask lines), for the multistart protocol.

<root>/list.txt names the sequences; each <seq>/ holds ``groundtruth.txt`` with one region per
line (``m<x0>,<y0>,<w>,<h>,<RLE>`` masks, rectangles or polygons), frames in <seq>/color/ (or
<seq>/), optional ``anchor.value`` and ``*.tag`` files. Each Video keeps the parsed regions in
``meta['regions']`` (what the multistart analysis scores against) and their axis-aligned boxes
in ``gt`` (what box-based code reads); an unknown region is a NaN row.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import numpy as np

from pysiam.datasets.parsing import BenchmarkFormatError, check_frame_count, list_frames, read_int_column
from pysiam.datasets.sot_readers import match_frames, read_sequence_list
from pysiam.datasets.video import Video
from pysiam.vot.regions import Region, read_trajectory

__all__ = ["read_vot_regions", "region_box"]


def region_box(r: Region) -> np.ndarray:
    """(x, y, w, h) around a region (NaN for special or empty ones)."""
    if r.kind == "rectangle":
        return np.asarray(r.data, np.float64)
    if r.kind == "polygon":
        xs, ys = r.data[:, 0].astype(np.float64), r.data[:, 1].astype(np.float64)
        return np.array([xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()])
    if r.kind == "mask" and r.data.size and r.data.any():
        ys, xs = np.nonzero(r.data)
        return np.array([xs.min() + r.offset[0], ys.min() + r.offset[1], np.ptp(xs) + 1, np.ptp(ys) + 1], np.float64)
    return np.full(4, np.nan)


def _read_regions(gt_path: Path) -> list:
    out = read_trajectory(gt_path)          # errors name the file and line
    if not out or np.isnan(region_box(out[0])).any():
        raise BenchmarkFormatError(f"{gt_path}:1: the first ground-truth region (the initial target) is empty")
    return out


def read_vot_regions(root: str | Path, **_: Any) -> Dict[str, Video]:
    """Read a VOT2020+ layout folder (see the module docstring)."""
    root = Path(root)
    list_path = root / "list.txt"
    videos = {}
    for name in read_sequence_list(list_path, "VOT"):
        seq_dir = root / name
        gt_path = seq_dir / "groundtruth.txt"
        if not gt_path.is_file():
            raise FileNotFoundError(f"{list_path}: sequence {name} has no ground truth {gt_path}")
        regions = _read_regions(gt_path)
        img_dir = seq_dir / "color" if (seq_dir / "color").is_dir() else seq_dir
        frames = list_frames(img_dir)
        imgs = match_frames(frames, range(1, len(regions) + 1), gt_path, img_dir)
        check_frame_count(frames, len(regions), gt_path, img_dir)
        tags = {p.stem: read_int_column(p, len(regions)) for p in sorted(seq_dir.glob("*.tag"))}
        gt = np.stack([region_box(r) for r in regions])
        videos[name] = Video(name, imgs, gt, tags=tags, meta={"regions": regions})
    return videos
