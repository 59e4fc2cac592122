"""Speed benchmark of a config on a device: tracker, batched engine, model, training, data loading.

    python tools/benchmark.py --config siamrpn_r50_l234_dwxcorr [--device cpu] [--snapshot S]
        [--frames 30] [--batch 8] [--only tracker,batched,model,train,data] [--json out.json]
        [--fold-bn] [--channels-last] [--winograd] [--amp bf16] [--compile] [--cuda-graphs] [--threads N]
        [KEY VALUE ...]

Figures (printed as a table, then as JSON; ``--json`` also writes the JSON to a file):

* ``tracker``: single-stream tracker FPS = 1 / median per-frame time of ``tracker.track`` (the
  first frame, the initialisation, is excluded), on a generated video;
* ``batched``: frames/s of the batched engine (:mod:`pysiam.runner.batched`, ``--batch``
  videos in lockstep, OPE) and of the sequential runner on the same generated videos;
* ``model``: median latency of the search pass ``track_with`` (template cached), batch 1;
* ``train``: training samples/s of forward + backward + SGD step (pysiam.training's losses and
  optimizer; random pair batches with the training set's labels);
* ``data``: samples/s of the training data loader over generated (synthetic) videos.

Frames and videos are generated (pysiam.data.synthetic), so it runs anywhere; without
``--snapshot`` the weights are random (speed does not depend on them). Timings on CUDA
synchronise the device around each measured call.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
from typing import Any, Dict, Optional, Sequence

from pysiam.cli.common import guarded, setup_logging
from pysiam.cli.inference_args import add_inference_arguments, apply_inference_arguments
from pysiam.config import load_config
from pysiam.speed import (PARTS, bench_batched, bench_data, bench_model, bench_tracker, bench_train,
                          format_table, generated_videos)

logger = logging.getLogger("pysiam.benchmark")



def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmark", description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="shipped config name, YAML path or pysot experiment folder")
    p.add_argument("--snapshot", default="", help="model weights (default: random weights)")
    p.add_argument("--device", default=None, help="torch device (default: cfg.DEVICE / auto)")
    p.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {PARTS}")
    p.add_argument("--frames", type=int, default=30, help="frames per generated video (default 30)")
    p.add_argument("--frame-size", type=int, nargs=2, default=(640, 360), metavar=("W", "H"),
                   help="generated frame size (default 640 360)")
    p.add_argument("--batch", type=int, default=8, help="videos in lockstep for the batched engine")
    p.add_argument("--repeats", type=int, default=20, help="timed model passes (default 20)")
    p.add_argument("--warmup", type=int, default=2, help="untimed passes before timing (default 2)")
    p.add_argument("--train-batch", type=int, default=0, help="pairs per training step "
                   "(default: TRAIN.BATCH_SIZE on GPU, 4 on CPU)")
    p.add_argument("--train-steps", type=int, default=3, help="timed training steps (default 3)")
    p.add_argument("--data-batches", type=int, default=4, help="timed data-loader batches (default 4)")
    p.add_argument("--no-sequential", action="store_true",
                   help="batched part: skip the sequential run on the same videos")
    p.add_argument("--rounds", type=int, default=1, help="batched part: alternating batched / "
                   "sequential rounds (ABBA...; default 1)")
    p.add_argument("--json", default=None, help="also write the JSON result to this file")
    add_inference_arguments(p)
    p.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides as KEY VALUE pairs")
    return p


# -- main ----------------------------------------------------------------------------------------

def run_benchmark(args) -> Dict[str, Any]:
    """Run the requested parts; the result dict that is printed."""
    import torch

    from pysiam.inference import InferenceOptions, apply_threads, prepare_for_inference
    from pysiam.models import build_and_load
    from pysiam.utils.device import resolve_device

    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ValueError(f"--only: unknown part(s) {unknown}; choose from {PARTS}")
    cfg = load_config(args.config, args.opts)
    apply_inference_arguments(cfg, args)
    device = resolve_device(args.device, cfg)
    options = InferenceOptions.from_config(cfg)
    apply_threads(options)
    result: Dict[str, Any] = {
        "config": str(args.config), "device": str(device), "torch": torch.__version__,
        "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "snapshot": args.snapshot or None, "options": options.as_dict(),
        "tolerance": options.tolerance(),
    }
    if device.type == "cuda":
        result["gpu"] = torch.cuda.get_device_name(device)
    model = None
    if any(p in parts for p in ("tracker", "batched", "model")):
        torch.manual_seed(0)
        model = prepare_for_inference(build_and_load(cfg, args.snapshot), options, device)
    videos = None
    if any(p in parts for p in ("tracker", "batched")):
        count = max(1, args.batch) if "batched" in parts else 1
        videos = generated_videos(count, args.frames, args.frame_size)
    for part in PARTS:
        if part not in parts:
            continue
        logger.info("benchmark: %s ...", part)
        try:
            result[part] = _run_part(part, args, cfg, model, device, videos)
        except Exception as e:  # one failing part (e.g. a config the training set refuses) is reported
            logger.warning("benchmark: %s failed: %s", part, e)
            result[part] = {"error": f"{type(e).__name__}: {e}"}
    return result


def _run_part(part: str, args, cfg, model, device, videos) -> Dict[str, Any]:
    if part == "model":
        return bench_model(model, cfg, device, args.repeats, args.warmup)
    if part == "tracker":
        return bench_tracker(cfg, model, device, videos)
    if part == "batched":
        return bench_batched(cfg, model, device, videos, max(1, args.batch), sequential=not args.no_sequential,
                             rounds=args.rounds)
    batch = args.train_batch or (int(cfg.TRAIN.BATCH_SIZE) if device.type == "cuda" else 4)
    if part == "train":
        return bench_train(cfg, device, batch, args.train_steps, warmup=min(1, args.warmup))
    return bench_data(cfg, batch, args.data_batches, args.frames, args.frame_size)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    code, result = guarded("benchmark", lambda: run_benchmark(args), extra=(RuntimeError,))
    if code:
        return code
    print(format_table(result))
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.json:
        from pysiam.results.files import atomic_write_text
        atomic_write_text(args.json, text + "\n")
    return 1 if any("error" in v for v in result.values() if isinstance(v, dict)) else 0


if __name__ == "__main__":
    sys.exit(main())
