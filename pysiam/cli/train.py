"""``tools/train.py --config C [--resume] [KEY VALUE ...]``: train a tracker.

One process on CPU or one GPU::

    python tools/train.py --config siamrpn_r50_l234_dwxcorr_8gpu TRAIN.BATCH_SIZE 16

Several GPUs / machines with torchrun (rank and world size from the environment)::

    torchrun --nproc_per_node 8 tools/train.py --config siamrpn_r50_l234_dwxcorr_8gpu

``--resume`` continues the run in ``TRAIN.OUTPUT_DIR`` from its newest checkpoint. Trailing
``KEY VALUE`` pairs override the config (e.g. ``TRAIN.AMP bf16 TRAIN.EPOCH 10``).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import List, Optional

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="train.py", description="Train a Siamese tracker (SiamRPN++ / SiamMask).")
    p.add_argument("--config", "--cfg", required=True,
                   help="YAML file, pysot experiment folder or name of a shipped config")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in TRAIN.OUTPUT_DIR from its newest checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--local_rank", "--local-rank", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE config overrides")
    return p


def _setup_logging(rank: int) -> None:
    logging.basicConfig(level=logging.INFO if rank == 0 else logging.WARNING,
                        format=f"%(asctime)s [rank {rank}] %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from pysiam.config import ConfigError, load_config
    from pysiam.training.trainer import train

    rank = int(os.environ.get("RANK", "0"))
    _setup_logging(rank)
    try:
        cfg = load_config(args.config, args.opts)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    cfg.freeze()
    result = train(cfg, resume=args.resume, config_name=str(args.config),
                   argv=sys.argv if argv is None else ["train.py"] + list(argv),
                   progress=not args.no_progress)
    if rank == 0:
        logging.getLogger("pysiam.train").info("done: %d epochs, %d iterations in %.0f s; checkpoint %s",
                                               result.epochs, result.iterations, result.seconds, result.checkpoint)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
