"""Batched test engine: many videos tracked in lockstep, one network pass per step.

    results = run_batched(make_tracker, videos, protocol="vot", batch=8)   # {video name: result}

Each video runs the same protocol as :mod:`pysiam.runner.protocols` (OPE, VOT reset protocol)
written as a generator that asks for ``Init`` / ``Track`` steps; the engine keeps ``batch``
videos in flight (a finished video's slot takes the next one, so videos of different lengths
and VOT re-initialisations just change what a slot asks for) and per step:

* crops every template / search patch with that slot's tracker (``begin_init`` /
  ``begin_track``),
* runs ``extract_template`` once for all slots that (re)initialise and ``track_with`` once per
  search size for all slots that track (their template features are concatenated along the
  batch; the concatenation is cached while the set of templates does not change),
* brings scores and deltas to the host in one transfer, lets each tracker decode and update
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

from pysiam.models.siam_model import Template
from pysiam.tracker.base import network_outputs

from .prefetch import PrefetchReader
from .protocols import Init, Job, Track, ope_job, vot_job

__all__ = ["Init", "Track", "ope_job", "vot_job", "run_batched", "BatchedEngine", "cat_templates",
           "BATCH_PROTOCOLS"]

#: dataset protocols the engine runs (GOT-10k and VOT-LT use the one-pass protocol)
BATCH_PROTOCOLS = ("ope", "vot", "vot-lt", "got10k")


def cat_templates(templates: Sequence[Template]) -> Template:
    """One batch :class:`Template` from several (concatenated along the batch dimension)."""
    if len(templates) == 1:
        return templates[0]

    def cat(parts):
        first = parts[0]
        if isinstance(first, torch.Tensor):
            return torch.cat(parts)
        if first is None:
            return None
        if isinstance(first, (list, tuple)):
            return type(first)(cat([p[i] for p in parts]) for i in range(len(first)))
        raise TypeError(f"cannot concatenate template part {type(first).__name__}")

    return Template(cat([t.features for t in templates]), cat([t.rpn for t in templates]),
                    cat([t.mask for t in templates]))


class _Slot:
    __slots__ = ("video", "job", "request", "tracker", "template", "version", "search")

    def __init__(self, video, job: Job, tracker):
        self.video = video
        self.job = job
        self.tracker = tracker
        self.request: Any = None
        self.template: Optional[Template] = None
        self.version = 0
        self.search: Optional[Dict[str, Any]] = None


class BatchedEngine:
    """Runs step generators (:func:`ope_job`, :func:`vot_job`) ``batch`` at a time.

    ``make_tracker()`` builds one tracker per slot (all around the same model, which must offer
    ``extract_template``, ``track_with`` and, for SiamMask, ``refine_with``: a
    :class:`~pysiam.models.SiamModel` or :class:`~pysiam.inference.InferenceModel`).
    """

    def __init__(self, make_tracker: Callable[[], Any], batch: int):
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.batch = int(batch)
        self.trackers = [make_tracker() for _ in range(self.batch)]
        first = self.trackers[0]
        self.model = first.model
        for name in ("extract_template", "track_with"):
            if not callable(getattr(self.model, name, None)):
                raise TypeError(f"the batched engine needs model.{name}(); {type(self.model).__name__} has none")
        self.device = first.device
        self.track_kwargs = first.network_kwargs
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
            s.template = template.index(i) if len(slots) > 1 else template
            s.version += 1

    def _stacked_template(self, slots: List[_Slot]) -> Template:
        key = tuple((id(s), s.version) for s in slots)
        if key != self._cache_key:
            self._cache = cat_templates([s.template for s in slots])
            self._cache_key = key
        return self._cache

    def _track(self, slots: List[_Slot]) -> List[Dict[str, Any]]:
        for s in slots:
            s.search = s.tracker.begin_track(s.request.img)
        results: List[Optional[Dict[str, Any]]] = [None] * len(slots)
        groups: Dict[int, List[int]] = {}
        for i, s in enumerate(slots):
            groups.setdefault(int(s.search["instance_size"]), []).append(i)
        for instance_size, idx in groups.items():
            group = [slots[i] for i in idx]
            xs = [s.search["x"] for s in group]
            with torch.no_grad():
                out = self.model.track_with(self._stacked_template(group),
                                            torch.cat(xs) if len(xs) > 1 else xs[0], **self.track_kwargs)
            tr0 = group[0].tracker
            size = tr0.grid(instance_size)[0]
            scores, locs = network_outputs(out["cls"], out["loc"], tr0.anchor_num, size)
            self.forward_batches.append(len(group))
            located = []
            for j, s in enumerate(group):
                sample = {k: (v[j:j + 1] if isinstance(v, torch.Tensor) else v)
                          for k, v in out.items() if k in ("cls", "loc", "mask")}
                located.append(s.tracker.locate(s.request.img, s.search, scores[j], locs[j], sample))
            logits: List[Optional[torch.Tensor]] = [None] * len(group)
            if tr0.needs_refine:
                pos = torch.tensor([loc["pos"] for loc in located], dtype=torch.long).to(self.device)
                with torch.no_grad():
                    refined = self.model.refine_with(out, pos).float().cpu()
                logits = list(refined)
            for j, s in enumerate(group):
                results[idx[j]] = s.tracker.finish(s.request.img, s.search, located[j], logits[j])
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
                still: List[_Slot] = []
                for s in active:
                    if on_frame is not None:
                        on_frame()
                    if advance(s, (replies.get(id(s)), share)):
                        still.append(s)
                    else:
                        free.append(s.tracker)
                active[:] = still
                fill()
        return results


def run_batched(make_tracker: Callable[[], Any], videos: Sequence, protocol: str = "ope", batch: int = 8,
                skip: int = 5, use_polygon: bool = False, prefetch: int = 4, decode: str = "cpu",
                on_done: Optional[Callable[[Any, Any], None]] = None,
                on_frame: Optional[Callable[[], None]] = None) -> Dict[str, Any]:
    """Track ``videos`` under ``protocol`` ('ope', 'vot', 'vot-lt', 'got10k') ``batch`` at a time.

    Returns {video name: OPEResult | VOTResult}, as :func:`~pysiam.runner.protocols.run_ope` /
    :func:`~pysiam.runner.protocols.run_vot` would. Frames are read ``prefetch`` ahead per
    video in a shared thread pool (``decode='gpu'``: JPEGs decoded on the CUDA device).
    """
    if protocol not in BATCH_PROTOCOLS:
        raise ValueError(f"the batched engine runs protocols {BATCH_PROTOCOLS}, not {protocol!r}")
    engine = BatchedEngine(make_tracker, batch)
    workers = max(2, min(8, batch))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pysiam-frames") if prefetch > 0 else None
    readers: List[PrefetchReader] = []

    def jobs():
        for video in videos:
            reader = PrefetchReader.for_video(video, depth=prefetch, executor=pool, decode=decode,
                                              device=engine.device)
            readers.append(reader)
            frames = iter(reader)
            if protocol == "vot":
                yield video, vot_job(video, frames, skip=skip, use_polygon=use_polygon)
            else:
                yield video, ope_job(video, frames)

    try:
        return engine.run(jobs(), on_done=on_done, on_frame=on_frame)
    finally:
        for r in readers:
            r.close()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
