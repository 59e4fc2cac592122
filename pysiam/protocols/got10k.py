"""GOT-10k's one-pass protocol: OPE runs, scored by average overlap (AO) and success rates.

Result files: ``<results>/<DATASET>/<tracker>/<video>/<video>_001.txt`` (more runs: _002, ...)
and ``<video>_time.txt``; a flat ``<video>.txt`` is read too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional

import numpy as np

from pysiam.eval.got10k import got10k_summary, got10k_video_ious
from pysiam.results import files as rio

from .base import Protocol, RunOptions, ScoreOptions, Where, frame_count, withheld_check
from .ope import one_pass
from .steps import Job, OPEResult

if TYPE_CHECKING:  # annotations only (no import cycle)
    from pysiam.datasets.video import Dataset, Video


__all__ = ["GOT10kProtocol"]


class GOT10kProtocol(Protocol):
    name = "got10k"
    metrics = ("ao", "sr50", "sr75")
    columns = ("ao", [("AO", "ao", ".3f"), ("SR0.50", "sr50", ".3f"), ("SR0.75", "sr75", ".3f")])
    video_columns = [("AO", "ao", ".3f")]

    def job(self, video: Video, frames: Iterable[Any], opts: RunOptions) -> Job:
        return one_pass(video, frames)

    def write(self, result: OPEResult, video: Video, where: Where) -> str:
        rio.write_got10k_result(where.results, where.dataset, where.tracker, video.name, result.boxes,
                                result.times)
        return ""

    def has_result(self, where: Where, video: Video) -> bool:
        return (where.dir / video.name / f"{video.name}_001.txt").is_file()

    def read(self, where: Where, video: Video) -> List[np.ndarray]:
        folder = where.dir / video.name
        files = rio.find_run_files(folder, video.name) if folder.is_dir() else [
            rio.find_ope_result(where.dir, video.name)]
        return [rio.read_boxes(f, frames=frame_count(video)) for f in files]

    def scorable(self, result: OPEResult) -> List[np.ndarray]:
        return [np.asarray(result.boxes, np.float64)]

    def score(self, video: Video, scorable: Any, cache: Optional[Dict[str, Any]] = None) -> np.ndarray:
        return got10k_video_ious(scorable, video.gt, video.image_size, video.visible)

    def summarize(self, per_video: Dict[str, Any], dataset: Dataset, opts: ScoreOptions) -> Dict[str, Any]:
        return got10k_summary(per_video)

    def check_scorable(self, dataset: Dataset) -> None:
        withheld_check(self, dataset)
