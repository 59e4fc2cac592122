"""Batched test engine: many videos tracked in lockstep, one network pass per step.

    results = run_batched(make_tracker, videos, get_protocol("vot"), RunOptions(), batch=8)

Each video runs its protocol's step generator (:mod:`pysiam.protocols`); the engine keeps
``batch`` videos in flight (a finished video's slot takes the next one, so videos of different
lengths and VOT re-initialisations just change what a slot asks for) and per step:

* crops every template / search patch with that slot's tracker (``begin_init`` /
  ``begin_track``),
* runs ``extract_template`` once for all slots that (re)initialise (each tracker keeps its
  own slice) and ``track_with`` once per search size for all slots that track (their
  templates concatenated; the concatenation is cached while the set of templates is the same),
* decodes the whole batch with the head family in one host transfer, lets each tracker update
  (``locate``), runs the SiamMask refine module once for all positions, and ``finish``.

Results equal sequential tracking up to float rounding (a batch-B convolution may round
differently from B batch-1 convolutions). Per-frame times are the step time divided by the
number of videos in the step.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

import torch

from pysiam.models.siam_model import Template, cat_templates
from pysiam.protocols import Init, Job, Protocol, RunOptions, Track, ope_job, vot_job

from .group import track_group
from .prefetch import PrefetchReader

__all__ = ["Init", "Track", "ope_job", "vot_job", "run_batched", "BatchedEngine", "cat_templates"]


class _Slot:
    __slots__ = ("video", "job", "request", "tracker", "version", "search")

    def __init__(self, video, job: Job, tracker):
        self.video = video
        self.job = job
        self.tracker = tracker
        self.request: Any = None
        self.version = 0
        self.search: Optional[Dict[str, Any]] = None


class BatchedEngine:
    """Runs protocol step generators ``batch`` at a time.

    ``make_tracker()`` builds one tracker per slot, all around the same functional model
    (``extract_template``, ``track_with`` and, for SiamMask, ``refine_with``).
    """

    def __init__(self, make_tracker: Callable[[], Any], batch: int):
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.batch = int(batch)
        self.trackers = [make_tracker() for _ in range(self.batch)]
        self.model = self.trackers[0].model
        self.device = self.trackers[0].device
        self._cache_key: Any = None
        self._cache: Optional[Template] = None
        self.steps = 0
        self.forward_batches: List[int] = []

    # -- the network steps -------------------------------------------------------------------
    def _initialise(self, slots: List[_Slot]) -> None:
        zs = [s.tracker.begin_init(s.request.img, s.request.box) for s in slots]
        with torch.no_grad():
            template = self.model.extract_template(torch.cat(zs) if len(zs) > 1 else zs[0])
        for i, s in enumerate(slots):
            s.tracker.template = template.index(i) if len(slots) > 1 else template
            s.version += 1

    def _stacked_template(self, slots: List[_Slot]) -> Template:
        key = tuple((id(s), s.version) for s in slots)
        if key != self._cache_key:
            self._cache = cat_templates([s.tracker.template for s in slots])
            self._cache_key = key
        return self._cache

    def _track(self, slots: List[_Slot]) -> List[Dict[str, Any]]:
        for s in slots:
            s.search = s.tracker.begin_track(s.request.img)
        results: List[Optional[Dict[str, Any]]] = [None] * len(slots)
        groups: Dict[int, List[int]] = {}
        for i, s in enumerate(slots):
            groups.setdefault(int(s.search["instance_size"]), []).append(i)
        for idx in groups.values():
            group = [slots[i] for i in idx]
            out = track_group(self.model, [s.tracker for s in group], [s.request.img for s in group],
                              [s.search for s in group], self._stacked_template(group))
            self.forward_batches.append(len(group))
            for j, s in enumerate(group):
                results[idx[j]] = out[j]
                s.search = None
        return results  # type: ignore[return-value]

    # -- the loop ----------------------------------------------------------------------------
    def run(self, jobs: Iterable[tuple], on_done: Optional[Callable[[Any, Any], None]] = None,
            on_frame: Optional[Callable[[], None]] = None) -> Dict[str, Any]:
        """Run ``(video, job generator)`` pairs; returns {video name: the job's return value}.

        ``on_done(video, result)`` is called as each video finishes (e.g. to write its files),
        ``on_frame()`` once per processed frame.
        """
        pending = iter(jobs)
        free = list(self.trackers)
        active: List[_Slot] = []
        results: Dict[str, Any] = {}

        def advance(slot: _Slot, reply) -> bool:
            try:
                slot.request = slot.job.send(reply) if reply is not None else next(slot.job)
                return True
            except StopIteration as stop:
                results[slot.video.name] = stop.value
                if on_done is not None:
                    on_done(slot.video, stop.value)
                return False

        def fill() -> None:
            while free:
                try:
                    video, job = next(pending)
                except StopIteration:
                    return
                slot = _Slot(video, job, free.pop())
                if advance(slot, None):
                    active.append(slot)
                else:
                    free.append(slot.tracker)

        with torch.inference_mode():
            fill()
            while active:
                share = self._step(active)
                still: List[_Slot] = []
                for s, reply in zip(active, share):
                    if on_frame is not None:
                        on_frame()
                    if advance(s, reply):
                        still.append(s)
                    else:
                        free.append(s.tracker)
                active[:] = still
                fill()
        return results

    def _step(self, active: List[_Slot]) -> List[tuple]:
        """One lockstep step over the active slots; the (result, seconds) reply of each."""
        tic = time.perf_counter()
        inits = [s for s in active if isinstance(s.request, Init)]
        tracks = [s for s in active if isinstance(s.request, Track)]
        if len(inits) + len(tracks) != len(active):
            bad = next(s for s in active if s not in inits and s not in tracks)
            raise TypeError(f"video {bad.video.name}: a job yielded {bad.request!r}")
        if inits:
            self._initialise(inits)
        replies = dict(zip(map(id, tracks), self._track(tracks))) if tracks else {}
        self.steps += 1
        share = (time.perf_counter() - tic) / len(active)
        return [(replies.get(id(s)), share) for s in active]


def run_batched(make_tracker: Callable[[], Any], videos: Sequence, protocol: Protocol,
                opts: Optional[RunOptions] = None, batch: int = 8, prefetch: int = 4, decode: str = "cpu",
                on_done: Optional[Callable[[Any, Any], None]] = None,
                on_frame: Optional[Callable[[], None]] = None) -> Dict[str, Any]:
    """Track ``videos`` under a batchable ``protocol`` ``batch`` at a time.

    Returns {video name: result}, as the protocol's sequential run would. Frames are read
    ``prefetch`` ahead per video in a shared thread pool (``decode='gpu'``: JPEGs decoded on the
    CUDA device).
    """
    if not protocol.batchable:
        raise ValueError(f"the batched engine cannot run the {protocol.name} protocol (it runs one video at a time)")
    opts = opts or RunOptions()
    engine = BatchedEngine(make_tracker, batch)
    workers = max(2, min(8, batch))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pysiam-frames") if prefetch > 0 else None
    readers: List[PrefetchReader] = []

    def jobs():
        for video in videos:
            reader = PrefetchReader.for_video(video, depth=prefetch, executor=pool, decode=decode,
                                              device=engine.device)
            readers.append(reader)
            yield video, protocol.job(video, iter(reader), opts)

    try:
        return engine.run(jobs(), on_done=on_done, on_frame=on_frame)
    finally:
        for r in readers:
            r.close()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
