"""Ground truth and anchors of a pysiam :class:`~pysiam.datasets.Video` for the multistart protocol.

    gt = video_regions(video)                       # boxes / polygons, or DAVIS masks of one object
    anchors = anchor_runs(video_anchor_values(video))
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import numpy as np

from pysiam.vot.multistart import default_anchors
from pysiam.vot.regions import UNKNOWN, Region, mask_region, parse_region, special

__all__ = ["video_regions", "video_anchor_values", "first_object_id"]


def first_object_id(video) -> int:
    """The smallest object id of a segmentation video's first annotation."""
    ids = [int(o) for o in np.unique(video.read_mask(0)) if o != 0]
    if not ids:
        raise ValueError(f"video {video.name}: the first annotation has no object")
    return ids[0]


def video_regions(video, n: Optional[int] = None, object_id: Optional[int] = None) -> List[Region]:
    """The first ``n`` (default all) ground-truth regions: rectangles / polygons from ``video.gt``
    (NaN rows are unknown), else the masks of ``object_id`` (default: the first object)."""
    n = len(video) if n is None else min(int(n), len(video))
    if video.meta.get("regions") is not None:      # VOT2020+ ground truth, masks included
        return list(video.meta["regions"][:n])
    if video.gt is not None:
        out = []
        for row in video.gt[:n]:
            row = np.asarray(row, dtype=np.float64)
            vals = row[~np.isnan(row)]
            out.append(special(UNKNOWN) if vals.size == 0 else
                       parse_region(",".join(repr(float(v)) for v in vals)))
        return out
    if not video.mask_paths:
        raise ValueError(f"video {video.name} has neither boxes nor masks")
    obj = first_object_id(video) if object_id is None else int(object_id)
    return [mask_region(video.read_mask(i) == obj, optimize=True) if i < len(video.mask_paths)
            else special(UNKNOWN) for i in range(n)]


def video_anchor_values(video, n: Optional[int] = None, spacing: int = 50) -> List[float]:
    """The anchor column: the sequence folder's ``anchor.value`` (VOT2020 and later layouts) when
    it has one with an anchor among the first ``n`` frames, else ``default_anchors(n, spacing)``."""
    n = len(video) if n is None else min(int(n), len(video))
    first = Path(video.img_paths[0]).resolve().parent
    for folder in (first, first.parent):
        p = folder / "anchor.value"
        if p.is_file():
            vals = [float(v) for v in p.read_text().split()][:n]
            vals += [0.0] * (n - len(vals))
            if any(v != 0 for v in vals):
                return vals
    return [float(v) for v in default_anchors(n, spacing)]
