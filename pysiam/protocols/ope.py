"""One-pass evaluation (OTB, UAV123, LaSOT, NfS, TrackingNet, SYNTH): init on frame 0, track the rest.

Result file: ``<results>/<DATASET>/<tracker>/<video>.txt``, one x,y,w,h line per frame.
Scores: success (IoU thresholds) and precision (centre error) curves, as pysot's OPEBenchmark.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, Optional

import numpy as np

from pysiam.eval.ope import PRECISION_AT, ope_summary, ope_video_scores
from pysiam.results import files as rio
from pysiam.utils.bbox import init_box_from_region

from .base import Protocol, RunOptions, ScoreOptions, Where, frame_count, withheld_check
from .steps import Init, Job, OPEResult, Track

if TYPE_CHECKING:  # annotations only (no import cycle)
    from pysiam.datasets.video import Dataset, Video


__all__ = ["OPEProtocol", "ope_job", "one_pass"]


def one_pass(video: Video, frames: Iterable[Any]) -> Job:
    """Init on frame 0 (pysot's init box of the ground truth region), track every later frame;
    returns an :class:`OPEResult` whose first box is the init box."""
    out = OPEResult()
    for idx, img in enumerate(frames):
        if idx == 0:
            box = init_box_from_region(video.init_rect)
            _, dt = yield Init(img, box)
            out.boxes.append([float(v) for v in box])
            out.scores.append(None)
        else:
            res, dt = yield Track(img)
            out.boxes.append([float(v) for v in res["bbox"]])
            out.scores.append(float(res["best_score"]))
        out.times.append(dt)
    return out


def ope_job(video: Video, frames: Iterable[Any]) -> Job:
    """One-pass evaluation as a step generator (see :func:`one_pass`)."""
    return one_pass(video, frames)


class OPEProtocol(Protocol):
    name = "ope"
    metrics = ("success_auc", "precision", "norm_precision")
    columns = ("success_auc", [("Success", "success_auc", ".3f"), ("Norm Precision", "norm_precision", ".3f"),
                               ("Precision", "precision", ".3f")])
    video_columns = [("AUC", "success_auc", ".3f"), ("Prec", "precision", ".3f")]
    attribute_keys = ("success_auc", "precision")

    def job(self, video: Video, frames: Iterable[Any], opts: RunOptions) -> Job:
        return one_pass(video, frames)

    def write(self, result: OPEResult, video: Video, where: Where) -> str:
        rio.write_ope_result(where.results, where.dataset, where.tracker, video.name, result.boxes)
        return ""

    def has_result(self, where: Where, video: Video) -> bool:
        try:
            rio.find_ope_result(where.dir, video.name)
        except FileNotFoundError:
            return False
        return True

    def read(self, where: Where, video: Video) -> np.ndarray:
        return rio.read_boxes(rio.find_ope_result(where.dir, video.name), frames=frame_count(video))

    def scorable(self, result: OPEResult) -> np.ndarray:
        return np.asarray(result.boxes, np.float64)

    def score(self, video: Video, scorable: np.ndarray, cache: Optional[Dict[str, Any]] = None) -> dict:
        return ope_video_scores(video.gt, scorable, video.visible)

    def summarize(self, per_video: Dict[str, Any], dataset: Dataset, opts: ScoreOptions) -> Dict[str, Any]:
        out = ope_summary(per_video)
        out["per_attribute"] = {}
        for attr, names in dataset.attributes.items():
            s = ope_summary(per_video, names)
            if s:
                out["per_attribute"][attr] = {k: s[k] for k in
                                              ("success_auc", "precision", "norm_precision", "num_videos",
                                               "success_curve", "precision_curve")}
        out["per_video"] = {v: {"success_auc": float(np.mean(r["success"])),
                                "precision": float(r["precision"][PRECISION_AT]),
                                "norm_precision": float(r["norm_precision"][PRECISION_AT])}
                            for v, r in sorted(per_video.items())}
        return out

    def check_scorable(self, dataset: Dataset) -> None:
        withheld_check(self, dataset)
