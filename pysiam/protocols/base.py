"""The protocol object: everything pysiam does differently per evaluation protocol, in one place.

A :class:`Protocol` holds, for one protocol ('ope', 'vot', 'vot-lt', 'got10k', 'davis', ...),
how a video is run (its step generator or runner), how its result files are written, found and
read back, how one video is scored, how the dataset numbers are summarised, the table columns
and the metrics a tuning search may optimise. It is looked up once from the dataset
(:func:`pysiam.protocols.get_protocol`); a new protocol costs one module.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Tuple

from dataclasses import dataclass
from pathlib import Path

from .steps import FrameCallback, Job, counted, drive

if TYPE_CHECKING:  # annotations only (no import cycle)
    from pysiam.datasets.video import Dataset, Video


__all__ = ["Protocol", "RunOptions", "ScoreOptions", "Where", "Column"]

#: (header, key in the summary dict, format)
Column = Tuple[str, str, str]


@dataclass(frozen=True)
class RunOptions:
    """How trackers are run: VOT restart gap, reported region, DAVIS mask threshold."""

    skip: int = 5
    use_polygon: bool = False
    mask_threshold: float = 0.3

    @classmethod
    def from_config(cls, cfg: Any, skip: int = 5) -> "RunOptions":
        return cls(skip=int(skip), use_polygon=bool(cfg.MASK.MASK), mask_threshold=float(cfg.TRACK.MASK_THERSHOLD))


@dataclass(frozen=True)
class ScoreOptions:
    """How results are summarised: EAO window ('pysot' or 'vot') and interval override."""

    eao_window: str = "pysot"
    eao_interval: Optional[Tuple[int, int]] = None


@dataclass(frozen=True)
class Where:
    """One tracker's result folder: ``<results>/<dataset>/<tracker>`` (``dataset`` None: ``<results>/<tracker>``)."""

    results: Path
    dataset: Optional[str]
    tracker: str

    @property
    def dir(self) -> Path:
        base = Path(self.results) if self.dataset is None else Path(self.results) / self.dataset
        return base / self.tracker


class Protocol:
    """Base class; subclasses fill in the per-protocol parts (see the module docstring)."""

    name: str = ""
    #: metrics a search may optimise; the first is the default
    metrics: Tuple[str, ...] = ()
    #: the main table: (sort key, columns)
    columns: Tuple[str, List[Column]] = ("", [])
    #: per-video table columns (``--show-video-level``)
    video_columns: List[Column] = []
    #: keys of the per-attribute / per-tag tables of ``tools/eval.py``
    attribute_keys: Tuple[str, ...] = ()
    #: where the summary keeps its small per-video numbers
    per_video_key: str = "per_video"
    #: the batched engine can run its step generator
    batchable: bool = True
    #: the config must have a mask branch (segmentation benchmarks)
    needs_mask: bool = False

    # -- running -------------------------------------------------------------------------------
    def job(self, video: Video, frames: Iterable[Any], opts: RunOptions) -> Job:
        """The step generator of one video (see :mod:`pysiam.protocols.steps`)."""
        raise NotImplementedError(f"the {self.name} protocol has no step generator")

    def run(self, make_tracker: Callable[[], Any], video: Video, opts: RunOptions, frames: Iterable[Any]=None,
            on_frame: FrameCallback = None) -> Any:
        """Run one video sequentially with a fresh tracker; return its result object."""
        frames = video.frames() if frames is None else frames
        return drive(self.job(video, counted(frames, on_frame), opts), make_tracker())

    # -- result files --------------------------------------------------------------------------
    def write(self, result: Any, video: Video, where: Where) -> str:
        """Write one video's result files atomically; return a short summary for the log."""
        raise NotImplementedError

    def has_result(self, where: Where, video: Video) -> bool:
        """Whether the video's result files are all there (the last one written is checked)."""
        raise NotImplementedError

    def read(self, where: Where, video: Video) -> Any:
        """A video's result files read back into what :meth:`score` takes."""
        raise NotImplementedError

    def scorable(self, result: Any) -> Any:
        """An in-memory result in the form :meth:`read` gives (exactly as a write/read round trip)."""
        raise NotImplementedError

    # -- scoring -------------------------------------------------------------------------------
    def score(self, video: Video, scorable: Any, cache: Optional[Dict[str, Any]] = None) -> Any:
        """Per-video statistics (the inputs of :meth:`summarize`); ``cache``: the caller's
        memo for data that does not change between calls (ground-truth masks)."""
        raise NotImplementedError

    def summarize(self, per_video: Dict[str, Any], dataset: Dataset, opts: ScoreOptions) -> Dict[str, Any]:
        """The dataset numbers of one tracker (what ``tools/eval.py`` prints and writes)."""
        raise NotImplementedError

    def check_scorable(self, dataset: Dataset) -> None:
        """Raise ValueError when the dataset cannot be scored locally (withheld ground truth)."""

    def resolve_metric(self, name: Optional[str]) -> str:
        """The metric to optimise: ``name`` (or an alias) checked against :attr:`metrics`."""
        from .metrics import resolve_metric

        return resolve_metric(self, name)

    def __repr__(self) -> str:
        return f"<protocol {self.name}>"


def withheld_check(protocol: Protocol, dataset: Dataset) -> None:
    """The GOT-10k / TrackingNet test splits carry only the first frame's box."""
    if any(v.meta.get("gt_complete") is False for v in dataset):
        raise ValueError(f"{dataset.name}: the ground truth of this split is withheld (first frame "
                         f"only); submit the results to the benchmark's server")


def frame_count(video: Video) -> Optional[int]:
    """The number of frames a result file of ``video`` must have (its ground-truth rows)."""
    return None if video.gt is None else len(video.gt)
