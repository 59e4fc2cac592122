"""Run a tracker over a benchmark and write pysot-layout result files.

    python tools/test.py --config siamrpn_r50_l234_dwxcorr --snapshot model.pth \\
        --dataset VOT2018 --dataset-root data/VOT2018 [--output results] [--videos a b] [KEY VALUE ...]

Protocols by dataset: OPE (OTB, UAV123, LaSOT, NfS, TrackingNet, GOT-10k), the VOT reset protocol
(VOT2016/2018/2019), the long-term protocol with confidences (VOT2018-LT) and the VOS protocol
(DAVIS2016/2017, needs a SiamMask config). Results:

* OPE:       <output>/<DATASET>/<tracker>/<video>.txt
* GOT-10k:   <output>/<DATASET>/<tracker>/<video>/<video>_001.txt (+ _time.txt)
* VOT:       <output>/<DATASET>/<tracker>/baseline/<video>/<video>_001.txt
* long-term: <output>/<DATASET>/<tracker>/longterm/<video>/<video>_001.txt (+ confidence, time)
* DAVIS:     <output>/<DATASET>/<tracker>/<video>/<frame>.png (palette PNGs)

Videos whose result files exist are skipped (resume); every file is written atomically. Under
torchrun, or with ``--shard i/N``, each process takes every N-th video.

Speed: ``--batch N`` tracks N videos in lockstep with one batched network pass per step
(:mod:`pysiam.runner.batched`; OPE, VOT, VOT-LT and GOT-10k; DAVIS stays sequential); frames are
decoded ahead in background threads (``--prefetch``); ``--winograd`` (the fastest float32 CPU
path), ``--fold-bn``, ``--channels-last``, ``--amp``, ``--compile``, ``--cuda-graphs``,
``--threads`` set the INFERENCE options of :mod:`pysiam.inference` (default: the exact
float32 path).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Optional, Sequence, Tuple

from pysiam.cli.common import add_dataset_arguments, guarded, setup_logging, strip_separator
from pysiam.cli.inference_args import add_inference_arguments, apply_inference_arguments
from pysiam.config import load_config

logger = logging.getLogger("pysiam.test")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="test", description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="shipped config name, YAML path or pysot experiment folder")
    p.add_argument("--snapshot", default="", help="model weights (pysot, SiamMask or NanoTrack layout)")
    p.add_argument("--random-weights", action="store_true",
                   help="run without --snapshot on purpose (untrained network)")
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="UNSAFE: unpickle any object in the snapshot (runs code from the file); only for "
                        "files you made yourself")
    add_dataset_arguments(p)
    p.add_argument("--output", default="results", help="results folder (default ./results)")
    p.add_argument("--name", default=None, help="tracker name in the results tree (default: "
                   "<config>-<snapshot>-<digest of config and weights>, so other settings never share a folder)")
    p.add_argument("--device", default=None, help="torch device (default: cfg.DEVICE / auto)")
    p.add_argument("--shard", default=None, help="i/N: run every N-th video starting at i "
                   "(default: RANK/WORLD_SIZE under torchrun, else 0/1)")
    p.add_argument("--overwrite", action="store_true", help="rerun videos that already have results "
                   "(and replace the folder's run.json manifest)")
    p.add_argument("--skip", type=int, default=5, help="VOT: frames skipped after a failure (default 5)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_inference_arguments(p)
    p.add_argument("--batch", type=int, default=1, help="videos tracked in lockstep with one batched "
                   "network pass per step (default 1: one video at a time)")
    p.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides as KEY VALUE pairs")
    return p


def parse_shard(text: Optional[str]) -> Tuple[int, int]:
    """'i/N' -> (i, N); None -> torchrun's RANK / WORLD_SIZE, else (0, 1)."""
    if text is None:
        return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like i/N (e.g. 0/4), got {text!r}") from None
    if not 0 <= i < n:
        raise ValueError(f"--shard {text}: need 0 <= i < N")
    return i, n


def tracker_name(args, cfg) -> str:
    """``--name``, else a name derived from the config, the snapshot and their digest."""
    from pysiam.results.manifest import default_tracker_name

    return args.name or default_tracker_name(args.config, args.snapshot, cfg)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    code, result = guarded("test", lambda: _run(args))
    return code or result


def _load_model(cfg, args, device):
    """The network with the snapshot's weights and the INFERENCE options applied."""
    from pysiam.inference import prepare_from_cfg
    from pysiam.models import build_and_load

    if not args.snapshot:
        logger.warning("--random-weights: the model has random weights")
    model = build_and_load(cfg, args.snapshot, trust=args.trust_checkpoint)
    return prepare_from_cfg(model, cfg, device)


def _setup(args):
    """(cfg, dataset, protocol, result folder): the config, the benchmark and the checked run manifest."""
    from pysiam.datasets import build_dataset
    from pysiam.protocols import Where, get_protocol
    from pysiam.results.manifest import RunManifest, require_snapshot, write_or_check
    from pysiam.utils.device import resolve_device

    cfg = load_config(args.config, strip_separator(args.opts))
    apply_inference_arguments(cfg, args)
    if args.batch < 1:
        raise ValueError(f"--batch must be >= 1, got {args.batch}")
    options = {"split": args.split} if args.split else {}
    dataset = build_dataset(args.dataset, args.dataset_root, layout=args.layout, videos=args.videos,
                            **options)
    protocol = get_protocol(dataset.protocol)
    if protocol.needs_mask and not cfg.MASK.MASK:
        raise ValueError(f"{dataset.name} is a segmentation benchmark: use a SiamMask config "
                         f"(MASK.MASK True), not {args.config}")
    require_snapshot(args.snapshot, args.random_weights, args.config)
    where = Where(args.output, dataset.name, tracker_name(args, cfg))
    manifest = RunManifest.create(cfg, args.snapshot, device=resolve_device(args.device, cfg).type, protocol={
        "dataset": dataset.name, "protocol": protocol.name, "skip": args.skip, "split": args.split or ""})
    write_or_check(where.dir, manifest, overwrite=args.overwrite)
    return cfg, dataset, protocol, where


def _device(args, cfg, world: int):
    """--device, else the local GPU of this torchrun rank, else cfg.DEVICE / auto."""
    import torch

    from pysiam.utils.device import resolve_device

    device = args.device
    if device is None and world > 1 and torch.cuda.is_available() and "LOCAL_RANK" in os.environ:
        device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
    return resolve_device(device, cfg)


def _progress(args, protocol, where, todo):
    """(progress bar, on_done callback writing a finished video's files and its log line)."""
    from tqdm import tqdm

    bar = tqdm(total=sum(len(v) for v in todo), unit="frame",
               disable=args.no_progress or not sys.stderr.isatty(), dynamic_ncols=True)
    done = [0]

    def on_done(video, res) -> None:
        info = protocol.write(res, video, where)
        done[0] += 1
        spent = sum(res.times)
        fps = (len(res.times) - 1) / max(spent - res.times[0], 1e-9) if len(res.times) > 1 else 0.0
        bar.set_postfix(fps=f"{fps:.1f}")
        tqdm.write(f"({done[0]:3d}/{len(todo)}) {video.name:20s} {spent:6.1f}s {fps:6.1f} fps {info}",
                   file=sys.stderr)
    return bar, on_done


def _run(args) -> int:
    from pysiam.protocols import RunOptions
    from pysiam.runner.sequential import run_videos
    from pysiam.tracker import build_tracker

    cfg, dataset, protocol, where = _setup(args)
    rank, world = parse_shard(args.shard)
    videos = list(dataset)[rank::world]
    todo = [v for v in videos if args.overwrite or not protocol.has_result(where, v)]
    logger.info("%s: %d video(s) in this shard (%d/%d), %d already done, tracker %r",
                dataset.name, len(videos), rank, world, len(videos) - len(todo), where.tracker)
    if not todo:
        return 0
    dev = _device(args, cfg, world)
    model = _load_model(cfg, args, dev)
    bar, on_done = _progress(args, protocol, where, todo)
    if args.batch > 1 and not protocol.batchable:
        logger.warning("--batch: the %s protocol runs one video at a time", protocol.name)
    bar.set_description(f"batch of {args.batch}" if args.batch > 1 else dataset.name)
    run_videos(protocol, lambda: build_tracker(cfg, model, device=dev), todo,
               RunOptions.from_config(cfg, skip=args.skip), batch=args.batch,
               prefetch=int(cfg.INFERENCE.PREFETCH), decode=str(cfg.INFERENCE.DECODE), on_done=on_done,
               on_frame=lambda: bar.update(1), device=dev)
    bar.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
