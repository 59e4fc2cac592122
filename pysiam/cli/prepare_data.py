"""Crop a raw tracking dataset into pysot's training layout (``crop511/`` + ``train.json``).

Example::

    python tools/prepare_data.py coco --root data/coco --out training_dataset/coco --workers 8
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from pysiam.data.prepare import SOURCES, PrepareError, PrepareOptions, get_source, prepare

MAX_ERRORS_SHOWN = 20


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="prepare_data",
        description="Crop every target of a raw dataset into 511x511 search and 127x127 template "
                    "patches (pysot's layout) and write OUT/<split>.json (COCO: OUT/train2017.json, as "
                    "pysot names it). Re-running resumes.")
    p.add_argument("source", choices=sorted(SOURCES), help="dataset reader")
    p.add_argument("--root", required=True, help="folder of the raw dataset")
    p.add_argument("--out", required=True,
                   help="output folder (gets crop<instance-size>/ and the JSON index)")
    p.add_argument("--split", default="train", choices=("train", "val"), help="which split to prepare")
    p.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1),
                   help="worker processes (1 = in this process)")
    p.add_argument("--skip-errors", action="store_true",
                   help="skip unreadable images/annotations, count them and list them in "
                        "OUT/<split>_errors.txt instead of stopping at the first one")
    p.add_argument("--limit", type=int, default=None, help="only the first K videos (in name order)")
    p.add_argument("--no-masks", action="store_true", help="do not write mask crops for mask sources")
    p.add_argument("--instance-size", type=int, default=511, help="search crop side in pixels")
    p.add_argument("--exemplar-size", type=int, default=127, help="template crop side in pixels")
    p.add_argument("--context-amount", type=float, default=0.5, help="context added around the box")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.limit is not None and args.limit < 0:
        print("prepare_data: error: --limit must be >= 0", file=sys.stderr)
        return 2
    opts = PrepareOptions(out_dir=args.out, workers=args.workers, skip_errors=args.skip_errors,
                          limit=args.limit, masks=not args.no_masks, context_amount=args.context_amount,
                          exemplar_size=args.exemplar_size, instance_size=args.instance_size)
    try:
        source = get_source(args.source, args.root, args.split)
        summary = prepare(source, opts, progress=not args.no_progress)
    except PrepareError as e:
        print(f"prepare_data: error: {e}", file=sys.stderr)
        if not args.skip_errors:
            print("prepare_data: rerun with --skip-errors to skip and count bad items; "
                  "crops made so far are kept and reused", file=sys.stderr)
        return 1
    for line in summary.lines():
        print(line)
    if summary.errors:
        for message in summary.errors[:MAX_ERRORS_SHOWN]:
            print(f"  {message}")
        if len(summary.errors) > MAX_ERRORS_SHOWN:
            print(f"  ... and {len(summary.errors) - MAX_ERRORS_SHOWN} more")
        print(f"all skipped items are listed in {summary.errors_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
