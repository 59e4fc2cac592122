"""Timing helpers of the speed benchmark: device syncs, repeated timed calls, generated videos."""
from __future__ import annotations

import time
from typing import Any, Callable, List, Sequence

__all__ = ["sync", "timed", "generated_videos"]

def sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device, repeats: int, warmup: int) -> List[float]:
    for _ in range(max(0, warmup)):
        fn()
    sync(device)
    times = []
    for _ in range(max(1, repeats)):
        tic = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - tic)
    return times


def generated_videos(count: int, frames: int, size: Sequence[int], seed: int = 7):
    """``count`` generated (name, frames list, first box) videos of ``frames`` frames."""
    from pysiam.data.synthetic import SynthParams, generate_video

    params = SynthParams(width=int(size[0]), height=int(size[1]), n_frames=max(2, int(frames)), seed=seed)
    out = []
    for i in range(count):
        v = generate_video(i, params)
        out.append((f"gen{i:03d}", v.frames, [float(x) for x in v.boxes[0]]))
    return out
