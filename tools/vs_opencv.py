#!/usr/bin/env python
"""pysiam's NanoTrack tracker (ONNX Runtime backend) against OpenCV's cv2.TrackerNano, same frames.

    python tools/vs_opencv.py --config nanotrack_v2 --snapshot nanotrackv2.pth \\
        --backbone nanotrack_backbone_sim.onnx --neckhead nanotrack_head_sim.onnx \\
        --frames-dir OTB100/Crossing/img --groundtruth OTB100/Crossing/groundtruth_rect.txt \\
        [--threads 1 2] [--rounds 3] [--streams 2]

Per thread count, both trackers are initialised on frame 0 and then track the same decoded
frames, interleaved frame by frame (pysiam, then OpenCV), for ``--rounds`` passes; FPS =
frames / summed ``track`` / ``update`` time (crop + network + decode; initialisation and frame
decoding excluded). The boxes of the onnxruntime tracker are compared with pysiam's torch tracker
teacher-forced (both start each frame from the torch tracker's state). ``--streams N`` also
runs N single-thread pysiam processes at once and reports their total frames/s. cv2.TrackerNano
is a separate C++ port (RGB input, its own hyper-parameters), so its boxes are not expected to
match pysiam's.
"""
import argparse
import sys
import time
from pathlib import Path

import pysiam.cli  # noqa: F401  (passive OpenMP waiting, before torch loads)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="vs_opencv", description=__doc__.split("\n")[0])
    p.add_argument("--config", default="nanotrack_v2")
    p.add_argument("--snapshot", required=True, help="NanoTrack .pth weights for pysiam")
    p.add_argument("--backbone", required=True, help="NanoTrack backbone ONNX for cv2.TrackerNano")
    p.add_argument("--neckhead", required=True, help="NanoTrack head ONNX for cv2.TrackerNano")
    p.add_argument("--frames-dir", required=True, help="folder of frames (sorted by name)")
    p.add_argument("--groundtruth", required=True, help="first line: x,y,w,h of frame 0 (OTB) or 8 polygon numbers")
    p.add_argument("--max-frames", type=int, default=200)
    p.add_argument("--threads", type=int, nargs="*", default=[1, 2], help="thread counts of the interleaved runs")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--streams", type=int, default=0, help="also time N concurrent single-thread pysiam processes")
    p.add_argument("--seconds", type=float, default=8.0, help="duration of the --streams run")
    return p.parse_args(argv)


def load_frames(folder, gt, limit):
    import cv2
    import numpy as np

    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:limit]
    frames = [cv2.imread(str(p)) for p in paths]
    if not frames or any(f is None for f in frames):
        raise SystemExit(f"vs_opencv: error: no readable frames in {folder}")
    nums = [float(v) for v in Path(gt).read_text().splitlines()[0].replace("\t", ",").replace(" ", ",").split(",") if v]
    if len(nums) == 8:  # VOT polygon -> axis-aligned box
        xs, ys = np.array(nums[0::2]), np.array(nums[1::2])
        nums = [xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()]
    return frames, [float(v) for v in nums[:4]]


def pysiam_trackers(args, threads):
    import torch

    from pysiam.config import load_config
    from pysiam.inference import prepare_from_cfg
    from pysiam.models import build_model, load_checkpoint
    from pysiam.tracker import build_tracker

    torch.set_num_threads(threads)
    out = {}
    for backend in ("torch", "onnxruntime"):
        cfg = load_config(args.config, ["INFERENCE.BACKEND", backend, "INFERENCE.THREADS", str(threads)])
        model = build_model(cfg).eval()
        load_checkpoint(model, args.snapshot)
        out[backend] = build_tracker(cfg, prepare_from_cfg(model, cfg, torch.device("cpu")), device="cpu")
    return out


def opencv_tracker(args):
    import cv2

    params = cv2.TrackerNano_Params()
    params.backbone, params.neckhead = args.backbone, args.neckhead
    return cv2.TrackerNano_create(params)


def teacher_forced_diff(trackers, frames, box):
    """Max |box difference| (px) of the onnxruntime tracker, started each frame from the torch state."""
    from pysiam.deploy.validate import teacher_forced_box_diff

    return teacher_forced_box_diff(trackers["torch"], trackers["onnxruntime"], frames, box)


def interleaved(args, threads, frames, box):
    import cv2

    cv2.setNumThreads(threads)
    trackers = pysiam_trackers(args, threads)
    diff = teacher_forced_diff(trackers, frames, box)
    ours, theirs = trackers["onnxruntime"], opencv_tracker(args)
    t_ours = t_cv = 0.0
    n = 0
    for _ in range(args.rounds):
        ours.init(frames[0], box)
        theirs.init(frames[0], tuple(int(round(v)) for v in box))
        for frame in frames[1:]:
            t0 = time.perf_counter()
            ours.track(frame)
            t1 = time.perf_counter()
            theirs.update(frame)
            t_cv += time.perf_counter() - t1
            t_ours += t1 - t0
            n += 1
    return n / t_ours, n / t_cv, diff


def _stream(args, seconds, queue):
    frames, box = load_frames(args.frames_dir, args.groundtruth, args.max_frames)
    trackers = pysiam_trackers(args, 1)
    import cv2
    cv2.setNumThreads(1)
    ours = trackers["onnxruntime"]
    ours.init(frames[0], box)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        ours.track(frames[1 + n % (len(frames) - 1)])
        n += 1
    queue.put(n / (time.perf_counter() - t0))


def streams(args):
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # fresh processes: forking after OpenMP / onnxruntime started can hang
    queue = ctx.Queue()
    procs = [ctx.Process(target=_stream, args=(args, args.seconds, queue)) for _ in range(args.streams)]
    for p in procs:
        p.start()
    rates = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return rates


def main(argv=None):
    import os

    args = parse_args(argv)
    frames, box = load_frames(args.frames_dir, args.groundtruth, args.max_frames)
    print(f"{len(frames)} frames of {args.frames_dir}, box {box}; load average {os.getloadavg()[0]:.2f}")
    for threads in args.threads:
        ours, theirs, diff = interleaved(args, threads, frames, box)
        print(f"threads {threads}: pysiam (onnxruntime) {ours:7.1f} FPS | cv2.TrackerNano {theirs:7.1f} FPS | "
              f"ratio {ours / theirs:5.2f} | max box diff vs torch (teacher-forced) {diff:.2e} px")
    if args.streams:
        rates = streams(args)
        print(f"{args.streams} single-thread pysiam streams: {' + '.join(f'{r:.1f}' for r in rates)} = "
              f"{sum(rates):.1f} frames/s; load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
