"""Semi-supervised video object segmentation (DAVIS 2016 / 2017), as the SiamMask repository runs it.

Every object of the first annotation gets its own tracker on the one shared model, started
from the bounding rectangle of its first mask (centre x + w / 2, the SiamMask VOS convention);
per frame the objects' pasted mask probabilities are stacked (the first mask on the object's
first frame, -1 before it appears) and the label is the arg-max object where the maximum
exceeds ``mask_threshold``. Result files: palette PNGs ``<results>/<DATASET>/<tracker>/<video>/<frame>.png``
(``<results>/<tracker>/<video>/`` is read too). Scores: J (region) and F (boundary) per object.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence

import time
from pathlib import Path

import numpy as np

from pysiam.datasets.masks import read_label_png
from pysiam.eval.davis import davis_sequence_scores, davis_summary
from pysiam.results import files as rio
from pysiam.runner.multi import MultiTracker

from .base import Protocol, RunOptions, ScoreOptions, Where
from .steps import FrameCallback, VOSResult

if TYPE_CHECKING:  # annotations only (no import cycle)
    from pysiam.datasets.video import Dataset, Video


__all__ = ["DAVISProtocol", "run_vos", "mask_box"]


def mask_box(mask: np.ndarray) -> Optional[List[float]]:
    """(x, y, w, h) of the pixels of a binary mask (None when it is empty)."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    x0, y0 = xs.min(), ys.min()
    return [float(x0), float(y0), float(xs.max() - x0 + 1), float(ys.max() - y0 + 1)]


def _start(anno, obj: int):
    """(initial box, mask) of object ``obj`` in annotation ``anno``, or None if it is absent."""
    m = None if anno is None else (anno == obj)
    box = None if m is None else mask_box(m)
    if box is None:
        return None
    # SiamMask: centre x + w / 2; pysot's init uses x + (w - 1) / 2, hence the +0.5.
    return [box[0] + 0.5, box[1] + 0.5, box[2], box[3]], m.astype(np.float32)


def run_vos(make_tracker: Callable[[], Any], video: Video, threshold: float, on_frame: FrameCallback = None,
            object_ids: Optional[Sequence[int]] = None) -> VOSResult:
    """Track every object of ``video`` (see the module docstring); frames are read once. The
    started objects share one :class:`~pysiam.runner.multi.MultiTracker` (one batched network
    pass per frame); an object starts on the first frame whose annotation shows it."""
    first = video.read_mask(0)
    if object_ids is None:
        object_ids = [int(o) for o in np.unique(first) if o != 0]
    multi = MultiTracker(make_tracker)
    active: List[int] = []  # the object index of each MultiTracker target
    out = VOSResult(object_ids=list(object_ids))
    for idx, img in enumerate(video.frames()):
        tic = time.perf_counter()
        probs = np.full((len(object_ids),) + img.shape[:2], -1.0, dtype=np.float32)
        for k, res in zip(active, multi.track(img) if active else []):
            probs[k] = res["mask"]
        waiting = [k for k in range(len(object_ids)) if k not in active]
        anno = first if idx == 0 else None
        if waiting and anno is None and video.mask_paths and idx < len(video.mask_paths):
            anno = video.read_mask(idx)
        starts = [(k, st) for k in waiting for st in [_start(anno, object_ids[k])] if st is not None]
        if starts:
            multi.add_many(img, [st[0] for _, st in starts])
            for k, st in starts:
                active.append(k)
                probs[k] = st[1]
        out.labels.append(_merge(probs, object_ids, threshold, img.shape[:2]))
        out.times.append(time.perf_counter() - tic)
        if on_frame is not None:
            on_frame()
    return out


def _merge(probs: np.ndarray, object_ids: Sequence[int], threshold: float, shape) -> np.ndarray:
    if not len(object_ids):
        return np.zeros(shape, np.uint8)
    ids = np.asarray(object_ids, dtype=np.uint8)
    return ids[np.argmax(probs, axis=0)] * (probs.max(axis=0) > threshold).astype(np.uint8)


class DAVISProtocol(Protocol):
    name = "davis"
    metrics = ("JF_mean", "J_mean", "F_mean")
    columns = ("JF_mean", [("J&F", "JF_mean", ".3f"), ("J-Mean", "J_mean", ".3f"),
                           ("J-Recall", "J_recall", ".3f"), ("J-Decay", "J_decay", ".3f"),
                           ("F-Mean", "F_mean", ".3f"), ("F-Recall", "F_recall", ".3f"),
                           ("F-Decay", "F_decay", ".3f")])
    per_video_key = "per_object"
    batchable = False
    needs_mask = True

    def run(self, make_tracker: Callable[[], Any], video: Video, opts: RunOptions, frames: Iterable[Any]=None, on_frame: FrameCallback = None) -> VOSResult:
        return run_vos(make_tracker, video, threshold=opts.mask_threshold, on_frame=on_frame)

    def write(self, result: VOSResult, video: Video, where: Where) -> str:
        for path, labels in zip(video.img_paths, result.labels):
            rio.write_davis_mask(where.results, where.tracker, video.name, Path(path).stem, labels,
                                 dataset=where.dataset)
        return f"{len(result.object_ids)} object(s)"

    def has_result(self, where: Where, video: Video) -> bool:
        d = where.dir / video.name
        return d.is_dir() and all((d / f"{Path(p).stem}.png").is_file() for p in video.img_paths)

    def read(self, where: Where, video: Video) -> List[np.ndarray]:
        out = []
        for fid in [Path(m).stem for m in video.mask_paths][1:-1]:
            path = where.dir / video.name / f"{fid}.png"
            if not path.is_file():
                raise FileNotFoundError(f"no result mask for {video.name} frame {fid}: {path}")
            out.append(read_label_png(path))
        return out

    def scorable(self, result: VOSResult) -> List[np.ndarray]:
        return list(result.labels[1:-1])

    def score(self, video: Video, scorable: Any, cache: Optional[Dict[str, Any]] = None) -> dict:
        key = f"davis-gt:{video.name}"
        gts = None if cache is None else cache.get(key)
        if gts is None:
            gts = [read_label_png(m) for m in video.mask_paths]
            if cache is not None:
                cache[key] = gts
        binary = video.meta.get("year") == 2016
        return davis_sequence_scores(gts, scorable[:len(gts) - 2], binary, where=video.name)

    def summarize(self, per_video: Dict[str, Any], dataset: Dataset, opts: ScoreOptions) -> Dict[str, Any]:
        out = davis_summary(per_video)
        out["per_frame"] = {v: {"J": r["J"].tolist(), "F": r["F"].tolist()} for v, r in sorted(per_video.items())}
        return out
