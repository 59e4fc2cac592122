"""Search the tracker's test-time hyper-parameters on a benchmark.

    python tools/tune.py --config siamrpn_r50_l234_dwxcorr --snapshot model.pth \\
        --dataset VOT2018 --dataset-root data/VOT2018 [--space siamrpn_vot] [--trials 64] \\
        [--val-fraction 0.3 | --val-videos a b | --videos-file val.txt] [--workers 4] [KEY VALUE ...]

Searches TRACK.PENALTY_K, WINDOW_INFLUENCE, LR (and the mask threshold for SiamMask) or whatever
the --space YAML lists (see pysiam/configs/tune_spaces/), by grid, random, Sobol or Halton
sampling, scoring each trial with the dataset's own metric (EAO, success AUC, J&F, ...).
Every finished trial is appended to <output>/trials.jsonl at once; rerunning the same command
continues where it stopped. Results: trials.csv (ranked), best.yaml (_BASE_ + best values: use it
as --config of tools/test.py), best.json, scores.png (score against each parameter).

Parallel: --workers N processes on this machine (one model each, GPUs used round-robin), and
--shard i/N (or torchrun's RANK / WORLD_SIZE) across machines sharing the output folder.

CAVEAT: tuning on a benchmark's test videos and reporting the best score found on them is not a
fair evaluation (the setting is fitted to those very videos). Tune on a validation split
(--val-videos, --videos-file, or --val-fraction with the rest listed in heldout.txt for the
final evaluation) or on another benchmark. A split that holds no video out counts as none.
"""
from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from pysiam.cli.common import add_dataset_arguments, guarded, setup_logging, strip_separator
from pysiam.cli.inference_args import add_inference_arguments, apply_inference_arguments
from pysiam.config import config_path, load_config

__all__ = ["main", "build_parser", "load_model"]

logger = logging.getLogger("pysiam.tune")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tune", description=__doc__.split("\n")[0],
        epilog="Tuning on the test set is not a fair evaluation: use --val-videos / --videos-file / "
               "--val-fraction and report numbers on videos the search did not see.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True,
                   help="shipped config name, YAML path or pysot experiment folder")
    p.add_argument("--snapshot", default="", help="model weights (without: random weights, with a warning)")
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="UNSAFE: unpickle any object in the snapshot (runs code from the file)")
    add_dataset_arguments(p, videos=False)
    p.add_argument("--space", default=None, help="search space YAML (path or shipped name, e.g. "
                   "siamrpn_vot); default: PENALTY_K [0, 0.5], WINDOW_INFLUENCE / LR [0.1, 0.8] "
                   "(+ MASK_THRESHOLD [0.1, 0.5] for SiamMask), Sobol")
    p.add_argument("--trials", type=int, default=None, help="number of sampled trials (grid: cut a "
                   "seeded subset of the grid); overrides the space file")
    p.add_argument("--method", choices=("grid", "random", "sobol", "halton"), default=None,
                   help="sampling method (overrides the space file)")
    p.add_argument("--seed", type=int, default=None, help="sampling seed (overrides the space file)")
    p.add_argument("--metric", default=None, help="metric to optimise (default: EAO for VOT, success "
                   "AUC for OPE sets, F-score for long-term, AO for GOT-10k, J&F for DAVIS)")
    p.add_argument("--output", default=None, help="search folder (default tune/<DATASET>/<name>)")
    p.add_argument("--name", default=None,
                   help="name of the search folder (default: snapshot or config name)")
    split = p.add_argument_group("validation split (tune on these videos only)")
    split.add_argument("--val-videos", nargs="+", help="video names to tune on")
    split.add_argument("--videos-file", help="text file with the video names to tune on, one per line")
    split.add_argument("--val-fraction", type=float, help="tune on this random fraction of the videos")
    split.add_argument("--val-seed", type=int, default=0, help="seed of --val-fraction (default 0)")
    par = p.add_argument_group("parallelism")
    par.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    par.add_argument("--device", default=None, help="torch device(s) for the workers, comma separated "
                     "(default: cfg.DEVICE; with several workers and GPUs: all GPUs round-robin)")
    par.add_argument("--shard", default=None, help="i/N: run trials i, i+N, ... (default: RANK/WORLD_SIZE "
                     "under torchrun, else 0/1)")
    p.add_argument("--max-trials", type=int, default=None, help="stop after this many new trials")
    p.add_argument("--save-results", action="store_true", help="also write every trial's raw results "
                   "in pysot's layout under <output>/results/<DATASET>/<setting>/")
    p.add_argument("--skip", type=int, default=5, help="VOT: frames skipped after a failure (default 5)")
    p.add_argument("--eao-window", choices=("pysot", "vot"), default="pysot",
                   help="EAO averaging indices: pysot's low-1..high-1 or the VOT toolkit's low..high")
    p.add_argument("--frame-cache-mb", type=float, default=512.0,
                   help="decoded frames kept in memory per worker across trials (default 512)")
    p.add_argument("--template-cache", type=int, default=256,
                   help="template features kept per worker across trials (0: off; default 256)")
    p.add_argument("--report-only", action="store_true",
                   help="only rewrite trials.csv / best.yaml / scores.png from the recorded trials")
    p.add_argument("--no-plot", action="store_true", help="do not write scores.png")
    add_inference_arguments(p)
    p.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides as KEY VALUE pairs "
                   "(fixed for every trial; written into best.yaml); after --val-videos put '--' "
                   "before them")
    return p


def load_model(cfg, snapshot: str, trust: bool = False):
    """Build the model of ``cfg``, load ``snapshot`` and apply the config's INFERENCE options
    (e.g. ``INFERENCE.WINOGRAD True``); picklable through functools.partial."""
    from pysiam.inference import prepare_from_cfg
    from pysiam.models import build_and_load

    return prepare_from_cfg(build_and_load(cfg, snapshot, trust=trust), cfg)


def _config_ref(config: str) -> str:
    """How best.yaml's _BASE_ names the config: a shipped name as is, a file by absolute path."""
    p = Path(config)
    if p.is_file() or p.is_dir():
        return str(config_path(config).resolve())
    return config


def _devices(arg: Optional[str], workers: int) -> Optional[List[str]]:
    import torch

    if arg:
        return [d.strip() for d in arg.split(",") if d.strip()]
    if "LOCAL_RANK" in os.environ and torch.cuda.is_available():
        return [f"cuda:{int(os.environ['LOCAL_RANK'])}"]
    if workers > 1 and torch.cuda.is_available():
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    code, result = guarded("tune", lambda: _run(args))
    return code or result


def _tuning_set(args, cfg):
    """(the whole dataset, the tuning videos as a Dataset, their names, the split's description)."""
    from pysiam.datasets import Dataset, build_dataset
    from pysiam.protocols import get_protocol
    from pysiam.tune import select_videos

    options = {"split": args.split} if args.split else {}
    full = build_dataset(args.dataset, args.dataset_root, layout=args.layout, **options)
    if get_protocol(full.protocol).needs_mask and not cfg.MASK.MASK:
        raise ValueError(f"{full.name} is a segmentation benchmark: use a SiamMask config "
                         f"(MASK.MASK True), not {args.config}")
    chosen, split_text = select_videos(full.names, args.val_videos, args.videos_file,
                                       args.val_fraction, args.val_seed)
    dataset = Dataset(full.name, full.root, {n: full.videos[n] for n in chosen}, full.protocol,
                      eao_interval=full.eao_interval, meta=full.meta)
    return full, dataset, chosen, split_text


def _write_split(folder: Path, full, chosen, split_text: str) -> None:
    """videos.txt and heldout.txt of the search folder, and the fairness warning."""
    from pysiam.tune import TEST_SET_WARNING
    from pysiam.utils.atomic import atomic_write_text

    atomic_write_text(folder / "videos.txt", "".join(f"{v}\n" for v in chosen))
    heldout = [v for v in full.names if v not in set(chosen)]
    if heldout:
        atomic_write_text(folder / "heldout.txt", "".join(f"{v}\n" for v in heldout))
    elif (folder / "heldout.txt").is_file():
        (folder / "heldout.txt").unlink()  # left by an earlier split of this folder
    if not split_text or not heldout:
        logger.warning(TEST_SET_WARNING)
    else:
        logger.info("%s; %d held-out video(s) listed in %s", split_text, len(heldout),
                    folder / "heldout.txt")


def _print_best(best, metric: str, setup, dataset, folder: Path, split_text: str) -> None:
    from pysiam.tune.report import format_opts, override_opts

    opts = override_opts(best["params"], setup.opts)
    score = best["score"] if best["score"] is not None else float("nan")
    print(f"best {metric} = {score:.4f} ({best.get('trial', '?')}) on {len(dataset)} "
          f"{dataset.name} video(s)")
    print(f"  config:    {folder / 'best.yaml'}")
    print(f"  overrides: {format_opts(opts)}")
    if not split_text:
        print("  note: tuned on the test videos themselves - not a fair evaluation")


def _run(args) -> int:
    from pysiam.cli.test import parse_shard
    from pysiam.results.manifest import default_tracker_name
    from pysiam.tune import (EvalSetup, default_space, load_space, resolve_metric, run_search,
                             write_search_reports)

    args.opts = strip_separator(args.opts)  # '--val-videos a b -- KEY VALUE'
    cfg = load_config(args.config, args.opts)
    apply_inference_arguments(cfg, args)
    shard = parse_shard(args.shard)
    space = load_space(args.space, cfg) if args.space else default_space(cfg)
    space = space.with_overrides(args.method, args.trials, args.seed)
    full, dataset, chosen, split_text = _tuning_set(args, cfg)
    metric = resolve_metric(dataset.protocol, args.metric)
    folder = Path(args.output or Path("tune") / full.name /
                  (args.name or default_tracker_name(args.config, args.snapshot, cfg)))
    folder.mkdir(parents=True, exist_ok=True)
    _write_split(folder, full, chosen, split_text)
    setup = EvalSetup(cfg=cfg, dataset=dataset,
                      model_factory=functools.partial(load_model, cfg, args.snapshot, args.trust_checkpoint),
                      metric=metric, skip=args.skip, eao_window=args.eao_window,
                      save_results=str(folder / "results") if args.save_results else None,
                      frame_cache_mb=args.frame_cache_mb, template_cache=args.template_cache,
                      config_ref=_config_ref(args.config), opts=list(args.opts or []),
                      snapshot=str(Path(args.snapshot).resolve()) if args.snapshot else "",
                      validation=split_text)
    if args.report_only:
        best = write_search_reports(folder, setup, space, plot=not args.no_plot)
    else:
        if not args.snapshot:
            logger.warning("no --snapshot given: the model has random weights")
        best = run_search(setup, space, folder, shard=shard, workers=args.workers,
                          devices=_devices(args.device, args.workers),
                          max_trials=args.max_trials, plot=not args.no_plot).best
    if best is None:
        print(f"no finished trials in {folder}")
        return 0
    _print_best(best, metric, setup, dataset, folder, split_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
