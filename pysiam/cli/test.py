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
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from pysiam.config import ConfigError, load_config

logger = logging.getLogger("pysiam.test")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="test", description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="shipped config name, YAML path or pysot experiment folder")
    p.add_argument("--snapshot", default="", help="model weights (pysot or SiamMask layout); "
                   "without: random weights, with a warning")
    p.add_argument("--dataset", required=True, help="benchmark name, e.g. OTB100, VOT2018, DAVIS2016")
    p.add_argument("--dataset-root", required=True, help="dataset folder (native layout or pysot JSON)")
    p.add_argument("--output", default="results", help="results folder (default ./results)")
    p.add_argument("--name", default=None, help="tracker name in the results tree "
                   "(default: the snapshot's file name without extension, else the config's)")
    p.add_argument("--videos", nargs="+", help="run only these videos")
    p.add_argument("--device", default=None, help="torch device (default: cfg.DEVICE / auto)")
    p.add_argument("--shard", default=None, help="i/N: run every N-th video starting at i "
                   "(default: RANK/WORLD_SIZE under torchrun, else 0/1)")
    p.add_argument("--overwrite", action="store_true", help="rerun videos that already have results")
    p.add_argument("--skip", type=int, default=5, help="VOT: frames skipped after a failure (default 5)")
    p.add_argument("--split", default=None, help="dataset split (GOT-10k val/test, DAVIS val, ...)")
    p.add_argument("--layout", choices=("auto", "json", "native"), default="auto")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
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


def tracker_name(args) -> str:
    if args.name:
        return args.name
    if args.snapshot:
        return Path(args.snapshot).name.split(".")[0]
    return Path(str(args.config)).stem


def result_done(protocol: str, output: str, dataset: str, tracker: str, video) -> bool:
    """Whether a video's result files are all there (the last file written is checked)."""
    from pysiam.benchmarks import results_io as rio

    if protocol == "vot":
        return rio.vot_result_path(output, dataset, tracker, video.name).is_file()
    if protocol == "vot-lt":
        return rio.longterm_result_paths(output, dataset, tracker, video.name)[1].is_file()
    if protocol == "got10k":
        return rio.got10k_result_path(output, dataset, tracker, video.name).is_file()
    if protocol == "davis":
        d = rio.davis_result_dir(output, tracker, video.name, dataset)
        return all((d / f"{Path(p).stem}.png").is_file() for p in video.img_paths)
    return rio.ope_result_path(output, dataset, tracker, video.name).is_file()


def run_video(protocol: str, tracker, make_tracker, cfg, video, output: str, dataset: str,
              name: str, skip: int, on_frame=None) -> Tuple[str, List[float]]:
    """Run one video under the dataset's protocol and write its results; return (summary, times)."""
    from pysiam.benchmarks import results_io as rio
    from pysiam.runner import protocols as P

    if protocol == "vot":
        res = P.run_vot(tracker, video, skip=skip, use_polygon=bool(cfg.MASK.MASK), on_frame=on_frame)
        rio.write_vot_result(output, dataset, name, video.name, res.records)
        return f"lost {res.failures}", res.times
    if protocol == "davis":
        res = P.run_vos(make_tracker, video, threshold=float(cfg.TRACK.MASK_THERSHOLD), on_frame=on_frame)
        for path, labels in zip(video.img_paths, res.labels):
            rio.write_davis_mask(output, name, video.name, Path(path).stem, labels, dataset=dataset)
        return f"{len(res.object_ids)} object(s)", res.times
    res = P.run_ope(tracker, video, on_frame=on_frame)
    if protocol == "vot-lt":
        rio.write_longterm_result(output, dataset, name, video.name, [None] + res.boxes[1:],
                                  res.scores, res.times)
    elif protocol == "got10k":
        rio.write_got10k_result(output, dataset, name, video.name, res.boxes, res.times)
    else:
        rio.write_ope_result(output, dataset, name, video.name, res.boxes)
    return "", res.times


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except (ConfigError, FileNotFoundError, KeyError, ValueError, OSError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"test: error: {msg}", file=sys.stderr)
        return 2


def _run(args) -> int:
    import torch
    from tqdm import tqdm

    from pysiam.benchmarks import build_dataset
    from pysiam.models import build_model, load_checkpoint
    from pysiam.tracker import build_tracker

    cfg = load_config(args.config, args.opts)
    rank, world = parse_shard(args.shard)
    options = {"split": args.split} if args.split else {}
    dataset = build_dataset(args.dataset, args.dataset_root, layout=args.layout, videos=args.videos,
                            **options)
    protocol = dataset.protocol
    if protocol == "davis" and not cfg.MASK.MASK:
        raise ValueError(f"{dataset.name} is a segmentation benchmark: use a SiamMask config "
                         f"(MASK.MASK True), not {args.config}")
    name = tracker_name(args)

    videos = list(dataset)[rank::world]
    todo = [v for v in videos
            if args.overwrite or not result_done(protocol, args.output, dataset.name, name, v)]
    logger.info("%s: %d video(s) in this shard (%d/%d), %d already done, tracker %r",
                dataset.name, len(videos), rank, world, len(videos) - len(todo), name)
    if not todo:
        return 0

    device = args.device
    if device is None and world > 1 and torch.cuda.is_available() and "LOCAL_RANK" in os.environ:
        device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
    model = build_model(cfg)
    if args.snapshot:
        load_checkpoint(model, args.snapshot)
    else:
        logger.warning("no --snapshot given: the model has random weights")
    model.eval()

    def make_tracker():
        return build_tracker(cfg, model, device=device)

    tracker = make_tracker()
    total = sum(len(v) for v in todo)
    bar = tqdm(total=total, unit="frame", disable=args.no_progress or not sys.stderr.isatty(),
               dynamic_ncols=True)
    with torch.inference_mode():
        for i, video in enumerate(todo, 1):
            bar.set_description(video.name)
            info, times = run_video(protocol, tracker, make_tracker, cfg, video, args.output,
                                    dataset.name, name, args.skip, on_frame=lambda: bar.update(1))
            spent = sum(times)
            fps = (len(times) - 1) / max(spent - times[0], 1e-9) if len(times) > 1 else 0.0
            bar.set_postfix(fps=f"{fps:.1f}")
            tqdm.write(f"({i:3d}/{len(todo)}) {video.name:20s} {spent:6.1f}s {fps:6.1f} fps {info}",
                       file=sys.stderr)
    bar.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
