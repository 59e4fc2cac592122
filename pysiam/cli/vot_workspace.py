"""Build a vot-toolkit workspace from a dataset pysiam reads (see pysiam.vot.workspace).

    python tools/vot_workspace.py --dataset DAVIS2017 --dataset-root data/DAVIS --workspace ws \
        [--videos blackswan] [--max-frames 60] [--anchor-spacing 50] [--eao-interval 115 755] \
        [--unsupervised] [--supervised] [--tracker-name pysiam_mask --config siammask_r50_l3 --snapshot m.pth]
    vot evaluate --workspace ws pysiam_mask && vot analysis --workspace ws pysiam_mask
"""
from __future__ import annotations

import argparse
from typing import List, Optional

from pysiam.cli.common import add_dataset_arguments, guarded

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vot_workspace", description=__doc__.split("\n")[0])
    add_dataset_arguments(p)
    p.add_argument("--workspace", required=True, help="workspace folder to create or extend")
    p.add_argument("--max-frames", type=int, help="cut every sequence to its first N frames")
    p.add_argument("--anchor-spacing", type=int, default=50,
                   help="frames between anchors when the source has no anchor.value")
    p.add_argument("--object-id", type=int, help="DAVIS object id (default: the first object)")
    p.add_argument("--copy", action="store_true", help="copy frames instead of symlinking them")
    p.add_argument("--eao-interval", type=int, nargs=2, default=(115, 755), metavar=("LOW", "HIGH"))
    p.add_argument("--unsupervised", action="store_true", help="also an unsupervised experiment")
    p.add_argument("--supervised", action="store_true",
                   help="also a supervised (reset, VOT2013-2019) experiment")
    p.add_argument("--tracker-name", help="add a trackers.ini entry under this name")
    p.add_argument("--config", help="tracker config (with --tracker-name)")
    p.add_argument("--snapshot", default="", help="tracker weights (with --tracker-name)")
    return p


def run(argv: Optional[List[str]] = None) -> str:
    from pysiam.vot.workspace import build_workspace, write_trackers_ini

    args = build_parser().parse_args(argv)
    options = {"split": args.split, "layout": args.layout} if args.split else {"layout": args.layout}
    ws = build_workspace(args.dataset, args.dataset_root, args.workspace, videos=args.videos,
                         max_frames=args.max_frames, anchor_spacing=args.anchor_spacing,
                         object_id=args.object_id, copy=args.copy, low=args.eao_interval[0],
                         high=args.eao_interval[1], unsupervised=args.unsupervised,
                         supervised=args.supervised, **options)
    if args.tracker_name:
        write_trackers_ini(ws, args.tracker_name, args.config or "", args.snapshot)
    print(ws)
    return str(ws)


def main(argv: Optional[List[str]] = None) -> int:
    """Exit code 0, or 2 with a one-line message on bad input."""
    return guarded("vot_workspace", lambda: run(argv))[0]


if __name__ == "__main__":
    raise SystemExit(main())
