"""``tools/train.py --config C [--resume | --overwrite] [KEY VALUE ...]``: train a tracker.

One process on CPU or one GPU::

    python tools/train.py --config siamrpn_r50_l234_dwxcorr_8gpu TRAIN.BATCH_SIZE 16

Several GPUs / machines with torchrun (rank and world size from the environment)::

    torchrun --nproc_per_node 8 tools/train.py --config siamrpn_r50_l234_dwxcorr_8gpu

``--resume`` continues the run in ``TRAIN.OUTPUT_DIR`` from its newest readable checkpoint (the
checkpoint's config must match); a folder that already holds a run is refused without
``--resume`` or ``--overwrite`` (which replaces it). ``KEY VALUE`` pairs override the config (e.g.
``TRAIN.AMP bf16 TRAIN.EPOCH 10``); flags may come before or after them. A user error (missing
file, bad key, used folder, other config) is one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import List, Optional

from pysiam.cli.common import strip_separator

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="train.py", description="Train a Siamese tracker (SiamRPN++ / SiamMask / "
                                "SiamBAN / NanoTrack).")
    p.add_argument("--config", "--cfg", required=True,
                   help="YAML file, pysot experiment folder or name of a shipped config")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true",
                      help="continue the run in TRAIN.OUTPUT_DIR from its newest checkpoint")
    mode.add_argument("--overwrite", action="store_true",
                      help="replace the run already in TRAIN.OUTPUT_DIR (its checkpoints, logs, metrics)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--local_rank", "--local-rank", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("opts", nargs="*", metavar="KEY VALUE", help="config overrides")
    return p


def _setup_logging(rank: int) -> None:
    logging.basicConfig(level=logging.INFO if rank == 0 else logging.WARNING,
                        format=f"%(asctime)s [rank {rank}] %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_intermixed_args(argv)   # flags anywhere, also after KEY VALUE
    from pysiam.cli.common import guarded
    from pysiam.config import load_config
    from pysiam.training.trainer import train

    rank = int(os.environ.get("RANK", "0"))
    _setup_logging(rank)

    def run():
        cfg = load_config(args.config, strip_separator(args.opts))
        cfg.freeze()
        return train(cfg, resume=args.resume, overwrite=args.overwrite, config_name=str(args.config),
                     argv=sys.argv if argv is None else ["train.py"] + list(argv),
                     progress=not args.no_progress)

    code, result = guarded("train.py", run)
    if code:
        return code
    if rank == 0:
        logging.getLogger("pysiam.train").info("done: %d epochs, %d iterations in %.0f s; checkpoint %s",
                                               result.epochs, result.iterations, result.seconds, result.checkpoint)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
