"""Speed of the tracking side: model passes, single-stream tracker, batched engine vs sequential runner."""
from __future__ import annotations

import statistics
import time
from typing import Any, Dict

import numpy as np

from .timing import timed

__all__ = ["bench_model", "bench_tracker", "bench_batched"]

def bench_model(model, cfg, device, repeats: int, warmup: int) -> Dict[str, Any]:
    """Median latency of the search pass (batch 1, template cached) and of the template pass."""
    import torch

    g = torch.Generator().manual_seed(0)
    e, s = int(cfg.TRACK.EXEMPLAR_SIZE), int(cfg.TRACK.INSTANCE_SIZE)
    z = (torch.rand(1, 3, e, e, generator=g) * 255).to(device)
    x = (torch.rand(1, 3, s, s, generator=g) * 255).to(device)
    kw = {"with_mask": False} if cfg.MASK.MASK else {}
    with torch.inference_mode():
        template = model.extract_template(z)
        t_search = timed(lambda: model.track_with(template, x, **kw), device, repeats, warmup)
        t_template = timed(lambda: model.extract_template(z), device, max(1, repeats // 4), 1)
    med = statistics.median(t_search)
    return {"search_ms_median": 1000 * med, "search_ms_min": 1000 * min(t_search),
            "template_ms_median": 1000 * statistics.median(t_template), "passes": len(t_search),
            "search_size": s, "search_per_s": 1.0 / med}


def bench_tracker(cfg, model, device, videos) -> Dict[str, Any]:
    """Single-stream tracker FPS on the first generated video: 1 / median frame time (init excluded)."""
    import torch

    from pysiam.tracker import build_tracker

    name, frames, box = videos[0]
    tracker = build_tracker(cfg, model, device=device)
    times = []
    with torch.inference_mode():
        tracker.init(frames[0], box)
        for img in frames[1:]:
            tic = time.perf_counter()
            tracker.track(img)
            times.append(time.perf_counter() - tic)
    med = statistics.median(times)
    return {"fps_median": 1.0 / med, "ms_median": 1000 * med, "fps_mean": len(times) / sum(times),
            "frames": len(times), "video": name, "frame_size": list(frames[0].shape[1::-1])}


def bench_batched(cfg, model, device, videos, batch: int, sequential: bool = True,
                  rounds: int = 1) -> Dict[str, Any]:
    """Frames/s of the batched engine over all generated videos (OPE), and of the sequential runner.

    With ``rounds`` > 1 the two alternate (batched, sequential, sequential, batched, ...) and the
    rates come from the summed times, so that a drifting machine speed affects both alike."""
    from pysiam.datasets.video import Video
    from pysiam.protocols import get_protocol
    from pysiam.runner.batched import BatchedEngine, ope_job
    from pysiam.runner.sequential import run_sequential
    from pysiam.tracker import build_tracker

    def video_of(name, frames, box):
        gt = np.tile(np.asarray(box, dtype=np.float64), (len(frames), 1))
        return Video(name, [], gt, init_rect=box, image_size=frames[0].shape[1::-1])

    vids = [(video_of(*v), v[1]) for v in videos]
    total = sum(len(f) for _, f in vids)
    make_tracker = lambda: build_tracker(cfg, model, device=device)  # noqa: E731
    engine = BatchedEngine(make_tracker, batch)
    frames_of = {v.name: f for v, f in vids}

    def run_batched_once() -> float:
        tic = time.perf_counter()
        engine.run((v, ope_job(v, frames)) for v, frames in vids)
        return time.perf_counter() - tic

    def run_sequential_once() -> float:
        tic = time.perf_counter()
        run_sequential(get_protocol("ope"), make_tracker, [v for v, _ in vids],
                       frames_of=lambda v: iter(frames_of[v.name]))
        return time.perf_counter() - tic

    walls = {"batched": 0.0, "sequential": 0.0}
    order = ["batched", "sequential"] if sequential else ["batched"]
    for r in range(max(1, rounds)):
        for kind in (order if r % 2 == 0 else order[::-1]):
            walls[kind] += run_batched_once() if kind == "batched" else run_sequential_once()
    n = max(1, rounds)
    out = {"videos": len(vids), "batch": batch, "frames": total, "rounds": n,
           "frames_per_s": n * total / walls["batched"], "steps": engine.steps // n,
           "mean_forward_batch": float(np.mean(engine.forward_batches)) if engine.forward_batches else 0.0}
    if sequential:
        out["sequential_frames_per_s"] = n * total / walls["sequential"]
        out["speedup"] = walls["sequential"] / walls["batched"]
    return out
