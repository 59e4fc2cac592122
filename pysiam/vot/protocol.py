"""The multistart protocol as a :class:`pysiam.protocols.base.Protocol` object, for the protocol
registry of ``tools/test.py`` / ``tools/eval.py`` (register it with
``register_protocol(MultistartProtocol())``; not registered here).

Result files: ``<results>/<dataset>/<tracker>/multistart/<video>/<video>_<anchor:08d>.txt`` and
``..._time.value`` (the toolkit's text trajectory; :func:`pysiam.vot.multistart.run_dir`).
Ground truth: :func:`pysiam.vot.sources.video_regions` (boxes, polygons or DAVIS masks);
anchors: the sequence folder's ``anchor.value``, else one every ``ANCHOR_SPACING`` frames.
Frames are read with ``video.read_frame`` in both directions (the ``frames`` iterator of
:meth:`job` is not used).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, Optional

from pysiam.protocols.base import Protocol, RunOptions, ScoreOptions, Where
from pysiam.vot.multistart import (MultistartResult, SequenceRuns, anchor_runs, multistart_done,
                                   multistart_job, read_multistart_runs, sequence_runs, summarize,
                                   write_multistart_result)
from pysiam.vot.sources import video_anchor_values, video_regions

if TYPE_CHECKING:  # annotations only (no import cycle)
    from pysiam.datasets.video import Dataset, Video


__all__ = ["MultistartProtocol", "ANCHOR_SPACING", "DEFAULT_EAO_INTERVAL"]

ANCHOR_SPACING = 50
#: VOT2020-2022 short-term EAO interval (the toolkit's stacks)
DEFAULT_EAO_INTERVAL = (115, 755)


class MultistartProtocol(Protocol):
    """VOT2020+ anchor-based multistart (vot-toolkit 0.7.4 definitions)."""

    name = "multistart"
    metrics = ("eao", "accuracy", "robustness")
    columns = ("eao", [("EAO", "eao", ".3f"), ("Accuracy", "accuracy", ".3f"),
                       ("Robustness", "robustness", ".3f")])
    video_columns = [("Acc", "accuracy", ".3f"), ("Rob", "robustness", ".3f")]
    per_video_key = "per_video"
    batchable = False            # reads frames out of order

    def __init__(self, anchor_spacing: int = ANCHOR_SPACING):
        self.anchor_spacing = int(anchor_spacing)

    def _anchors(self, video):
        return anchor_runs(video_anchor_values(video, spacing=self.anchor_spacing))

    def _gt(self, video, cache: Optional[Dict[str, Any]] = None):
        key = f"multistart-gt:{video.name}"
        if cache is not None and key in cache:
            return cache[key]
        gt = video_regions(video)
        if cache is not None:
            cache[key] = gt
        return gt

    def job(self, video: Video, frames: Iterable[Any], opts: RunOptions):
        output = "polygon" if opts.use_polygon else "auto"
        return multistart_job(self._gt(video), video.read_frame, self._anchors(video), output)

    def write(self, result: MultistartResult, video: Video, where: Where) -> str:
        write_multistart_result(where.dir / "multistart" / video.name, video.name, result)
        return f"{len(result.runs)} runs"

    def has_result(self, where: Where, video: Video) -> bool:
        return multistart_done(where.dir / "multistart" / video.name, video.name, self._anchors(video))

    def read(self, where: Where, video: Video):
        return read_multistart_runs(where.dir / "multistart" / video.name, video.name, self._anchors(video))

    def scorable(self, result: MultistartResult):
        from pysiam.vot.regions import format_region, parse_region

        return {(r.anchor, r.reverse): [parse_region(format_region(x)) for x in r.regions]
                for r in result.runs}

    def score(self, video: Video, scorable: Any, cache: Optional[Dict[str, Any]] = None) -> SequenceRuns:
        return sequence_runs(scorable, self._gt(video, cache), video.image_size)

    def summarize(self, per_video: Dict[str, SequenceRuns], dataset: Dataset, opts: ScoreOptions) -> Dict[str, Any]:
        low, high = opts.eao_interval or dataset.eao_interval or DEFAULT_EAO_INTERVAL
        scores = {name: runs.score(high) for name, runs in per_video.items()}
        out = summarize(scores, low, high)
        out[self.per_video_key] = {name: s.as_dict() for name, s in scores.items()}
        return out
