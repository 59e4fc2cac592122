"""The one sequential runner: videos one at a time under their protocol, used by test, tune and
benchmark (the batched engine, :mod:`pysiam.runner.batched`, runs the same protocols in lockstep).

    results = run_sequential(protocol, make_tracker, videos, RunOptions.from_config(cfg),
                             on_done=lambda video, result: ...)
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Iterator, Optional

import torch

from pysiam.protocols import Protocol, RunOptions

__all__ = ["run_sequential", "run_videos"]

FramesOf = Callable[[Any], Optional[Iterator]]


def run_sequential(protocol: Protocol, make_tracker: Callable[[], Any], videos: Iterable,
                   opts: Optional[RunOptions] = None, on_done: Optional[Callable[[Any, Any], None]] = None,
                   frames_of: Optional[FramesOf] = None,
                   on_frame: Optional[Callable[[], None]] = None) -> Dict[str, Any]:
    """Run every video with a fresh tracker from ``make_tracker`` (trackers share the model);
    ``frames_of(video)`` may give a frame iterator (e.g. a prefetching reader) instead of
    ``video.frames()``; ``on_done(video, result)`` is called as each video finishes."""
    opts = opts or RunOptions()
    results: Dict[str, Any] = {}
    with torch.inference_mode():
        for video in videos:
            frames = frames_of(video) if frames_of is not None else None
            res = protocol.run(make_tracker, video, opts, frames=frames, on_frame=on_frame)
            results[video.name] = res
            if on_done is not None:
                on_done(video, res)
    return results


def run_videos(protocol: Protocol, make_tracker: Callable[[], Any], videos, opts: Optional[RunOptions] = None,
               batch: int = 1, prefetch: int = 0, decode: str = "cpu",
               on_done: Optional[Callable[[Any, Any], None]] = None,
               on_frame: Optional[Callable[[], None]] = None, device=None) -> Dict[str, Any]:
    """Sequential or, with ``batch > 1`` and a batchable protocol, batched: the one entry point of
    the tools. Frames are prefetched in background threads when ``prefetch > 0``."""
    if batch > 1 and protocol.batchable:
        from .batched import run_batched

        return run_batched(make_tracker, list(videos), protocol, opts, batch=batch, prefetch=prefetch,
                           decode=decode, on_done=on_done, on_frame=on_frame)
    frames_of = None
    if protocol.batchable and (prefetch > 0 or decode != "cpu"):
        from .prefetch import PrefetchReader

        def frames_of(video):
            return iter(PrefetchReader.for_video(video, depth=prefetch, decode=decode, device=device))
    return run_sequential(protocol, make_tracker, videos, opts, on_done=on_done, frames_of=frames_of,
                          on_frame=on_frame)
