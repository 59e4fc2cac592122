"""Test protocols: how a tracker is run over one video of a benchmark.

Each function takes a tracker (``init(img, bbox)`` / ``track(img) -> dict``) and a
:class:`pysiam.datasets.Video`, and returns a plain result object that the result writers of
:mod:`pysiam.results.files` turn into pysot's files.

* :func:`run_ope` one-pass evaluation (OTB, UAV123, LaSOT, NfS, GOT-10k, TrackingNet, VOT-LT).
* :func:`run_vot` VOT supervised protocol: a frame with zero overlap is a failure, the tracker is
  re-initialised ``skip`` frames later; records are 1 (init), 2 (failure), 0 (skipped) or a region.
* :func:`run_vos` semi-supervised video object segmentation (DAVIS): one tracker per object,
  initialised from the box of its first mask; per-frame masks merged by score.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable, Iterator, List, Optional, Sequence

import numpy as np

from pysiam.eval.region import region_overlaps
from pysiam.utils.bbox import init_box_from_region

__all__ = ["OPEResult", "VOTResult", "VOSResult", "run_ope", "run_vot", "run_vos", "vot_region",
           "FrameCallback", "Init", "Track", "ope_job", "vot_job", "drive"]

FrameCallback = Optional[Callable[[], None]]


@dataclass
class OPEResult:
    """Per-frame boxes (x, y, w, h), scores (None on the first frame) and times in seconds."""
    boxes: List[List[float]] = field(default_factory=list)
    scores: List[Optional[float]] = field(default_factory=list)
    times: List[float] = field(default_factory=list)


@dataclass
class VOTResult:
    """Per-frame records (int codes or regions), times and the number of failures."""
    records: list = field(default_factory=list)
    times: List[float] = field(default_factory=list)
    failures: int = 0


@dataclass
class VOSResult:
    """Per-frame label maps (uint8, 0 background, k for the k-th object) and times."""
    labels: List[np.ndarray] = field(default_factory=list)
    object_ids: List[int] = field(default_factory=list)
    times: List[float] = field(default_factory=list)


def _frames(video, frames: Optional[Iterator[np.ndarray]]) -> Iterator[np.ndarray]:
    return video.frames() if frames is None else frames


@dataclass
class Init:
    """A protocol step: (re)initialise the tracker on ``img`` with ``box`` (x, y, w, h)."""
    img: Any
    box: Sequence[float]


@dataclass
class Track:
    """A protocol step: track on ``img``; the reply is ``(result dict, seconds)``."""
    img: Any


Job = Generator[Any, Any, Any]


def vot_region(gt_row: Sequence[float]) -> np.ndarray:
    """A VOT ground-truth row as a polygon: 4-value boxes become pysot's inclusive corners."""
    r = np.asarray(gt_row, dtype=np.float64)
    if r.size == 4:
        x, y, w, h = r
        return np.array([x, y, x, y + h - 1, x + w - 1, y + h - 1, x + w - 1, y])
    return r


def ope_job(video, frames: Iterable) -> Job:
    """One-pass evaluation as a step generator: yields Init / Track, returns an OPEResult.

    The first frame's box is the axis-aligned box of the ground truth region shifted so that the
    tracker's centre rule recovers its centre (``init_box_from_region``), as pysot's test script
    does; it is also the first output line.
    """
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


def vot_job(video, frames: Iterable, skip: int = 5, use_polygon: bool = False) -> Job:
    """VOT supervised (reset) protocol as a step generator: yields Init / Track, returns a VOTResult.

    use_polygon: report the tracker's rotated ``polygon`` (SiamMask) instead of its box.
    A failure is an overlap of 0 with the ground truth, both bounded by the image; the tracker is
    re-initialised ``skip`` frames after the failure from that frame's ground truth.
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
            ov = region_overlaps(np.asarray([pred]), gt[None], bounds=(w, h))[0]
            if ov > 0:
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


def drive(job: Job, tracker):
    """Run a step generator with one tracker (the sequential engine); return its result."""
    try:
        request = next(job)
        while True:
            tic = time.perf_counter()
            if isinstance(request, Init):
                tracker.init(request.img, request.box)
                res = None
            else:
                res = tracker.track(request.img)
            request = job.send((res, time.perf_counter() - tic))
    except StopIteration as stop:
        return stop.value


def _counted(frames: Iterable, on_frame: FrameCallback) -> Iterator:
    for img in frames:
        yield img
        if on_frame is not None:
            on_frame()


def run_ope(tracker, video, frames: Optional[Iterator[np.ndarray]] = None,
            on_frame: FrameCallback = None) -> OPEResult:
    """One pass from the first frame's ground truth (see :func:`ope_job`)."""
    return drive(ope_job(video, _counted(_frames(video, frames), on_frame)), tracker)


def run_vot(tracker, video, skip: int = 5, use_polygon: bool = False,
            frames: Optional[Iterator[np.ndarray]] = None, on_frame: FrameCallback = None) -> VOTResult:
    """VOT supervised (reset) protocol (see :func:`vot_job`)."""
    return drive(vot_job(video, _counted(_frames(video, frames), on_frame), skip, use_polygon), tracker)


def _mask_box(mask: np.ndarray) -> Optional[List[float]]:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    x0, y0 = xs.min(), ys.min()
    return [float(x0), float(y0), float(xs.max() - x0 + 1), float(ys.max() - y0 + 1)]


def run_vos(make_tracker: Callable[[], object], video, threshold: float,
            on_frame: FrameCallback = None, object_ids: Optional[Sequence[int]] = None) -> VOSResult:
    """Semi-supervised VOS as the SiamMask repository runs DAVIS.

    Each object present in the first annotation gets its own tracker (``make_tracker()``),
    initialised from the bounding rectangle of its first mask with the centre at x + w / 2 (the
    SiamMask VOS convention). Per frame, each object's pasted mask probability is stacked (its
    first mask on its first frame, -1 before it appears); the label is the id of the arg-max object where
    the maximum exceeds ``threshold``, else background. Frames are read once for all objects.
    """
    first = video.read_mask(0)
    if object_ids is None:
        object_ids = [int(o) for o in np.unique(first) if o != 0]
    trackers = {o: make_tracker() for o in object_ids}
    started = {o: False for o in object_ids}
    out = VOSResult(object_ids=list(object_ids))
    for idx, img in enumerate(video.frames()):
        tic = time.perf_counter()
        probs = np.full((len(object_ids),) + img.shape[:2], -1.0, dtype=np.float32)
        anno = first if idx == 0 else None
        for k, o in enumerate(object_ids):
            if not started[o]:
                if anno is None and video.mask_paths and idx < len(video.mask_paths):
                    anno = video.read_mask(idx)
                m = None if anno is None else (anno == o)
                box = None if m is None else _mask_box(m)
                if box is None:
                    continue
                # SiamMask: centre x + w / 2; pysot's init uses x + (w - 1) / 2, hence the +0.5.
                trackers[o].init(img, [box[0] + 0.5, box[1] + 0.5, box[2], box[3]])
                started[o] = True
                probs[k] = m.astype(np.float32)
            else:
                probs[k] = trackers[o].track(img)["mask"]
        if len(object_ids):
            ids = np.asarray(object_ids, dtype=np.uint8)
            labels = ids[np.argmax(probs, axis=0)] * (probs.max(axis=0) > threshold).astype(np.uint8)
        else:
            labels = np.zeros(img.shape[:2], np.uint8)
        out.labels.append(labels)
        out.times.append(time.perf_counter() - tic)
        if on_frame is not None:
            on_frame()
    return out
