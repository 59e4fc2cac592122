"""The long-term protocol (VOT2018-LT / VOT2019-LT): one pass with a confidence per frame.

Result files: ``<results>/<DATASET>/<tracker>/longterm/<video>/<video>_001.txt`` (first line 1,
then boxes), ``<video>_001_confidence.value`` (first line empty) and ``<video>_time.txt``.
Scores: tracking precision / recall over confidence thresholds and the best F-score.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, Optional, Tuple

import numpy as np

from pysiam.eval.vot import longterm_summary, longterm_video_scores
from pysiam.results import files as rio

from .base import Protocol, RunOptions, ScoreOptions, Where, frame_count
from .ope import one_pass
from .steps import Job, OPEResult

if TYPE_CHECKING:  # annotations only (no import cycle)
    from pysiam.datasets.video import Dataset, Video


__all__ = ["LongTermProtocol"]


class LongTermProtocol(Protocol):
    name = "vot-lt"
    metrics = ("f_score", "precision", "recall")
    columns = ("f_score", [("Precision", "precision", ".3f"), ("Recall", "recall", ".3f"),
                           ("F-score", "f_score", ".3f")])
    video_columns = [("Pr", "precision", ".3f"), ("Re", "recall", ".3f"), ("F", "f_score", ".3f")]

    def job(self, video: Video, frames: Iterable[Any], opts: RunOptions) -> Job:
        return one_pass(video, frames)

    def write(self, result: OPEResult, video: Video, where: Where) -> str:
        rio.write_longterm_result(where.results, where.dataset, where.tracker, video.name,
                                  [None] + result.boxes[1:], result.scores, result.times)
        return ""

    def _paths(self, where: Where, video):
        d = where.dir / "longterm" / video.name
        return d / f"{video.name}_001.txt", d / f"{video.name}_001_confidence.value"

    def has_result(self, where: Where, video: Video) -> bool:
        return self._paths(where, video)[1].is_file()

    def read(self, where: Where, video: Video) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        box_path, conf_path = self._paths(where, video)
        if not box_path.is_file():
            raise FileNotFoundError(f"no result for video {video.name}: {box_path}")
        codes, regions = rio.read_vot_records(box_path, frames=frame_count(video))
        return codes, regions, rio.read_confidences(conf_path, len(codes))

    def scorable(self, result: OPEResult) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        boxes = np.asarray(result.boxes, np.float64)
        codes = np.full(len(boxes), -1, np.int64)
        codes[0] = 1
        regions = boxes.copy()
        regions[0] = np.nan
        conf = np.array([np.nan] + [float(f"{s:.6f}") for s in result.scores[1:]])
        return codes, regions, conf

    def score(self, video: Video, scorable: Any, cache: Optional[Dict[str, Any]] = None) -> dict:
        codes, regions, conf = scorable
        return longterm_video_scores(codes, regions, conf, video.gt, video.image_size)

    def summarize(self, per_video: Dict[str, Any], dataset: Dataset, opts: ScoreOptions) -> Dict[str, Any]:
        return longterm_summary(per_video)
