"""How a protocol talks to a tracker: Init / Track steps of a generator, and the drivers.

A protocol's per-video logic is written once, as a generator that yields :class:`Init` and
:class:`Track` requests and returns its result object. :func:`drive` runs it with one tracker
(the sequential engine); :mod:`pysiam.runner.batched` runs many of them in lockstep.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable, Iterator, List, Optional, Sequence

import numpy as np

__all__ = ["Init", "Track", "Job", "drive", "counted", "OPEResult", "VOTResult", "VOSResult", "FrameCallback"]

FrameCallback = Optional[Callable[[], None]]
Job = Generator[Any, Any, Any]


@dataclass
class Init:
    """A protocol step: (re)initialise the tracker on ``img`` with ``box`` (x, y, w, h)."""
    img: Any
    box: Sequence[float]


@dataclass
class Track:
    """A protocol step: track on ``img``; the reply is ``(result dict, seconds)``."""
    img: Any


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


def drive(job: Job, tracker: Any) -> Any:
    """Run a step generator with one tracker (the sequential engine); return its result."""
    try:
        request = next(job)
        while True:
            tic = time.perf_counter()
            if isinstance(request, Init):
                tracker.init(request.img, request.box)
                res = None
            elif isinstance(request, Track):
                res = tracker.track(request.img)
            else:
                raise TypeError(f"a protocol job yielded {request!r}, not Init or Track")
            request = job.send((res, time.perf_counter() - tic))
    except StopIteration as stop:
        return stop.value


def counted(frames: Iterable, on_frame: FrameCallback) -> Iterator:
    """``frames``, calling ``on_frame()`` after each one has been used."""
    for img in frames:
        yield img
        if on_frame is not None:
            on_frame()
