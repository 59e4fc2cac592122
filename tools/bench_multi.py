"""Speed of many targets in one video: MultiTracker (one batched pass) vs separate trackers.

    python tools/bench_multi.py [--configs siamrpn_alex_dwxcorr nanotrack_v2] [--targets 4 16]
        [--frames 20] [--repeats 3] [--threads N] [--device cpu] [--json out.json]

Per config and target count N, on one generated video (pysiam.data.synthetic, 640x480) with
random weights: video frames/s of ``MultiTracker.track`` (all N search crops in one
``track_with``, one decode) and of N separate trackers each calling ``track`` (the
initialisation excluded). Random weights make the boxes drift and grow, so before every frame
each target's state is reset to its initial box (both modes): every frame then costs the same. The two modes alternate repeat by repeat (so that a busy machine
slows both alike); the median over repeats is reported, with the largest box difference between
the modes as a check. Not a test: a measurement script.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any, Dict, List, Sequence

import numpy as np
import torch

from pysiam.config import load_config
from pysiam.data.synthetic import SynthParams, generate_video
from pysiam.models import build_model
from pysiam.runner.multi import MultiTracker
from pysiam.tracker import build_tracker


def _boxes(n: int, size, first, seed: int = 0) -> List[List[float]]:
    """The video's target and n - 1 random boxes (24..80 px) whose search crops stay inside the
    frame (a crop of plain padding gives tied scores, and ties may break differently in a batch)."""
    rng = np.random.default_rng(seed)
    w, h = size
    out = [list(map(float, first))]
    while len(out) < n:
        bw, bh = rng.uniform(24, 80, 2)
        cx, cy = rng.uniform(170, w - 170), rng.uniform(170, h - 170)
        out.append([float(cx - bw / 2), float(cy - bh / 2), float(bw), float(bh)])
    return out


def _reset(trackers, states) -> None:
    for t, (c, s) in zip(trackers, states):
        t.center_pos, t.size = c.copy(), s.copy()


def _run_multi(cfg, model, frames, boxes):
    multi = MultiTracker(cfg, model)
    multi.init(frames[0], boxes)
    states = [(t.center_pos.copy(), t.size.copy()) for t in multi.trackers]
    res = []
    tic = time.perf_counter()
    for f in frames[1:]:
        _reset(multi.trackers, states)
        res.append([r["bbox"] for r in multi.track(f)])
    return time.perf_counter() - tic, res


def _run_separate(cfg, model, frames, boxes):
    trackers = [build_tracker(cfg, model) for _ in boxes]
    for t, b in zip(trackers, boxes):
        t.init(frames[0], b)
    states = [(t.center_pos.copy(), t.size.copy()) for t in trackers]
    res = []
    tic = time.perf_counter()
    for f in frames[1:]:
        _reset(trackers, states)
        res.append([t.track(f)["bbox"] for t in trackers])
    return time.perf_counter() - tic, res


def bench(config: str, targets: Sequence[int], n_frames: int, repeats: int, device: str) -> List[Dict[str, Any]]:
    cfg = load_config(config, ["DEVICE", device])
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    video = generate_video(0, SynthParams(width=640, height=480, n_frames=n_frames + 1, seed=0))
    rows = []
    for n in targets:
        boxes = _boxes(n, (640, 480), video.boxes[0])
        times: Dict[str, List[float]] = {"multi": [], "separate": []}
        diff = 0.0
        with torch.inference_mode():
            _run_multi(cfg, model, video.frames[:3], boxes)  # warm-up
            for r in range(repeats):
                order = ("multi", "separate") if r % 2 == 0 else ("separate", "multi")
                got = {}
                for mode in order:
                    run = _run_multi if mode == "multi" else _run_separate
                    seconds, got[mode] = run(cfg, model, video.frames, boxes)
                    times[mode].append(seconds)
                diff = max(diff, float(np.abs(np.array(got["multi"]) - np.array(got["separate"])).max()))
        fps = {m: n_frames / statistics.median(t) for m, t in times.items()}
        rows.append({"config": config, "targets": n, "frames": n_frames, "repeats": repeats,
                     "multi_fps": fps["multi"], "separate_fps": fps["separate"],
                     "speedup": fps["multi"] / fps["separate"], "max_box_diff_px": diff,
                     "seconds": {m: [round(v, 4) for v in t] for m, t in times.items()}})
    return rows


def main(argv: Sequence[str] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=["siamrpn_alex_dwxcorr", "nanotrack_v2"])
    ap.add_argument("--targets", nargs="+", type=int, default=[4, 16])
    ap.add_argument("--frames", type=int, default=20, help="tracked frames per run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = [r for c in args.configs for r in bench(c, args.targets, args.frames, args.repeats, args.device)]
    print(f"{'config':24s} {'N':>3s} {'multi f/s':>10s} {'separate f/s':>13s} {'speedup':>8s} {'max diff px':>12s}")
    for r in rows:
        print(f"{r['config']:24s} {r['targets']:3d} {r['multi_fps']:10.2f} {r['separate_fps']:13.2f} "
              f"{r['speedup']:7.2f}x {r['max_box_diff_px']:12.2e}")
    meta = {"threads": torch.get_num_threads(), "device": args.device, "torch": torch.__version__,
            "utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
