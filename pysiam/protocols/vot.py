"""The VOT2016-2019 supervised (reset) protocol: a frame with zero overlap is a failure and the
tracker is re-initialised ``skip`` frames later from that frame's ground truth.

Result file: ``<results>/<DATASET>/<tracker>/baseline/<video>/<video>_001.txt`` with 1 (init),
2 (failure), 0 (skipped) or a region (4 decimals) per line. Scores: accuracy, robustness, lost
number and EAO (pysot's / the VOT toolkit's definitions, see :mod:`pysiam.eval.vot`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from pysiam.eval.region import region_overlaps
from pysiam.eval.vot import vot_summary, vot_video_scores
from pysiam.results import files as rio
from pysiam.utils.bbox import init_box_from_region

from .base import Protocol, RunOptions, ScoreOptions, Where, frame_count
from .steps import Init, Job, Track, VOTResult

if TYPE_CHECKING:  # annotations only (no import cycle)
    from pysiam.datasets.video import Dataset, Video


__all__ = ["VOTProtocol", "vot_job", "vot_region", "vot_arrays"]


def vot_region(gt_row: Sequence[float]) -> np.ndarray:
    """A VOT ground-truth row as a polygon: 4-value boxes become pysot's inclusive corners."""
    r = np.asarray(gt_row, dtype=np.float64)
    if r.size == 4:
        x, y, w, h = r
        return np.array([x, y, x, y + h - 1, x + w - 1, y + h - 1, x + w - 1, y])
    return r


def vot_job(video: Video, frames: Iterable[Any], skip: int = 5, use_polygon: bool = False) -> Job:
    """VOT reset protocol as a step generator: yields Init / Track, returns a VOTResult.

    use_polygon: report the tracker's rotated ``polygon`` (SiamMask) instead of its box.
    A failure is an overlap of 0 with the ground truth, both bounded by the image.
    """
    out = VOTResult()
    restart = 0
    for idx, img in enumerate(frames):
        gt = vot_region(video.gt[idx])
        if idx == restart:
            _, dt = yield Init(img, init_box_from_region(gt))
            out.records.append(1)
        elif idx > restart:
            res, dt = yield Track(img)
            pred = [float(v) for v in (res["polygon"] if use_polygon else res["bbox"])]
            h, w = img.shape[:2]
            if region_overlaps(np.asarray([pred]), gt[None], bounds=(w, h))[0] > 0:
                out.records.append(pred)
            else:
                out.records.append(2)
                out.failures += 1
                restart = idx + skip
        else:
            dt = 0.0
            out.records.append(0)
        out.times.append(dt)
    return out


def vot_arrays(records: list) -> Tuple[np.ndarray, np.ndarray]:
    """VOT records (ints 0/1/2 or regions) as (codes, regions), exactly as read back from a
    result file (regions rounded to its 4 decimals)."""
    def region(r) -> List[float]:
        return [float(f"{float(v):.4f}") for v in np.asarray(r, dtype=np.float64).reshape(-1)]

    parsed = [int(r) if isinstance(r, (int, np.integer)) else region(r) for r in records]
    width = max([len(p) for p in parsed if isinstance(p, list)], default=4)
    codes = np.full(len(parsed), -1, np.int64)
    regions = np.full((len(parsed), width), np.nan)
    for i, p in enumerate(parsed):
        if isinstance(p, int):
            codes[i] = p
            continue
        if len(p) == 4 and width > 4:
            x, y, w, h = p
            p = [x, y, x + w, y, x + w, y + h, x, y + h]
        if len(p) < width:
            p = p + p[-2:] * ((width - len(p)) // 2)
        regions[i] = p
    return codes, regions


class VOTProtocol(Protocol):
    name = "vot"
    metrics = ("eao", "accuracy", "robustness", "lost_number")
    columns = ("eao", [("Accuracy", "accuracy", ".3f"), ("Robustness", "robustness", ".3f"),
                       ("Lost Number", "lost_number", ".1f"), ("EAO", "eao", ".3f")])
    video_columns = [("Acc", "accuracy", ".3f"), ("Lost", "lost_number", ".1f")]
    attribute_keys = ("eao", "accuracy")

    def job(self, video: Video, frames: Iterable[Any], opts: RunOptions) -> Job:
        return vot_job(video, frames, skip=opts.skip, use_polygon=opts.use_polygon)

    def write(self, result: VOTResult, video: Video, where: Where) -> str:
        rio.write_vot_result(where.results, where.dataset, where.tracker, video.name, result.records)
        return f"lost {result.failures}"

    def has_result(self, where: Where, video: Video) -> bool:
        return (where.dir / "baseline" / video.name / f"{video.name}_001.txt").is_file()

    def read(self, where: Where, video: Video) -> list:
        files = rio.find_run_files(where.dir / "baseline" / video.name, video.name)
        return [rio.read_vot_records(f, frames=frame_count(video)) for f in files]

    def scorable(self, result: VOTResult) -> list:
        return [vot_arrays(result.records)]

    def score(self, video: Video, scorable: list, cache: Optional[Dict[str, Any]] = None) -> dict:
        return vot_video_scores(scorable, video.gt, video.image_size, video.tags)

    def summarize(self, per_video: Dict[str, Any], dataset: Dataset, opts: ScoreOptions) -> Dict[str, Any]:
        out = vot_summary(per_video, opts.eao_interval or dataset.eao_interval, opts.eao_window)
        out["per_video"] = {v: {"accuracy": float(np.nanmean(r["overlaps"])) if np.isfinite(r["overlaps"]).any()
                                else float("nan"), "lost_number": float(np.mean(r["failures"]))}
                            for v, r in sorted(per_video.items())}
        return out
