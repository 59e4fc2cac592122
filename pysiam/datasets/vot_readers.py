"""Reader of the VOT native layout (short-term and long-term).

<root>/list.txt names the sequences; each <seq>/ holds groundtruth.txt (x,y,w,h or a polygon
x1,y1,...,x4,y4 per line; long-term sets write 'nan' lines, empty lines or a lone '0' for an
absent target),
frames 00000001.jpg... in <seq>/color/ or <seq>/, and optional per-frame tags <tag>.tag (or
.label) with one 0/1 per line, zero-padded to the sequence length.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pysiam.datasets.parsing import (BenchmarkFormatError, check_frame_count, check_init_row,
                                       list_frames, read_int_column, read_rows)
from pysiam.datasets.sot_readers import match_frames, read_sequence_list
from pysiam.datasets.video import Video

__all__ = ["read_vot", "VOT_TAGS"]

VOT_TAGS = ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion")


def _check_region_kind(gt_path: Path) -> None:
    with open(gt_path) as f:
        first = f.readline().strip()
    if first.startswith("m"):
        raise BenchmarkFormatError(f"{gt_path}:1: mask regions (VOT2020 and later) are not supported")


def read_vot(root: str | Path, longterm: bool = False, **_: Any) -> dict[str, Video]:
    """Read a VOT short-term (or, with `longterm`, long-term) dataset folder."""
    root = Path(root)
    list_path = root / "list.txt"
    names = read_sequence_list(list_path, "VOT")
    videos = {}
    for name in names:
        seq_dir = root / name
        gt_path = seq_dir / "groundtruth.txt"
        if not gt_path.is_file():
            raise FileNotFoundError(f"{list_path}: sequence {name} has no ground truth {gt_path}")
        _check_region_kind(gt_path)
        gt = read_rows(gt_path, (1, 4, 8) if longterm else (4, 8), allow_empty=longterm)
        if longterm:                       # a lone number ('0') marks an absent target too
            lone = ~np.isnan(gt[:, 0]) & np.isnan(gt[:, 1:]).all(axis=1)
            gt[lone] = np.nan
            if gt.shape[1] < 4:
                gt = np.pad(gt, ((0, 0), (0, 4 - gt.shape[1])), constant_values=np.nan)
        if not longterm and np.isnan(gt).all(axis=1).any():
            bad = int(np.flatnonzero(np.isnan(gt).all(axis=1))[0]) + 1
            raise BenchmarkFormatError(f"{gt_path}:{bad}: short-term VOT ground truth cannot be empty")
        check_init_row(gt, f"{gt_path}:1")
        img_dir = seq_dir / "color" if (seq_dir / "color").is_dir() else seq_dir
        frames = list_frames(img_dir)
        imgs = match_frames(frames, range(1, len(gt) + 1), gt_path, img_dir)
        check_frame_count(frames, len(gt), gt_path, img_dir)
        tags = {}
        for tag_path in sorted(list(seq_dir.glob("*.tag")) + list(seq_dir.glob("*.label"))):
            tags[tag_path.stem] = read_int_column(tag_path, len(gt))
        if not longterm:
            for t in VOT_TAGS:
                tags.setdefault(t, np.zeros(len(gt), np.int64))
        videos[name] = Video(name, imgs, gt, tags=tags)
    return videos
