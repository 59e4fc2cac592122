"""Score tracker results against a benchmark and print the tables.

    python tools/eval.py --dataset OTB100 --dataset-root testing_dataset/OTB100 \
        --results results [--trackers SiamRPN++ 'siam*'] [--json scores.json] [--plot plots/]

Results are read in pysot's layout (see pysiam.results.files); only the ground truth
is needed (plus the image size for VOT / GOT-10k, read from one frame header or --image-size).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from pysiam.datasets import build_dataset
from pysiam.cli.common import add_dataset_arguments, guarded
from pysiam.results.files import atomic_write_text
from pysiam.eval.plots import plot_results
from pysiam.eval.runner import evaluate
from pysiam.eval.tables import attribute_table, summary_table, video_table
from pysiam.protocols import get_protocol

__all__ = ["main", "build_parser"]

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eval", description=__doc__.split("\n")[0])
    add_dataset_arguments(p)
    p.add_argument("--results", required=True, help="results folder (<results>/<DATASET>/<tracker>/...)")
    p.add_argument("--trackers", nargs="+", help="tracker names or glob patterns (default: all found)")
    p.add_argument("--json", help="write the numbers here, one object per tracker")
    p.add_argument("--vot-workspace", metavar="WS",
                   help="score what the vot-toolkit stored in workspace WS instead (pysiam.vot.analysis;"
                        " with --json, --trackers; --dataset / --dataset-root / --results not needed)")
    p.add_argument("--plot", help="write success / precision / EAO plots (PNG) into this folder")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                   help="processes scoring trackers x videos in parallel")
    p.add_argument("--eao-window", choices=("pysot", "vot"), default="pysot",
                   help="EAO averaging indices: pysot's low-1..high-1 or the VOT toolkit's low..high")
    p.add_argument("--eao-interval", type=int, nargs=2, metavar=("LOW", "HIGH"),
                   help="override the dataset year's EAO interval")
    p.add_argument("--image-size", type=int, nargs=2, metavar=("W", "H"),
                   help="image size of every video, when frames are not at hand")
    p.add_argument("--show-video-level", action="store_true", help="also print per-video numbers")
    p.add_argument("--skip-missing", action="store_true",
                   help="leave out videos without results instead of stopping")
    return p


def _clean(obj):
    """JSON-safe copy: NaN / inf become null."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: exit code 0, or 2 with a one-line message on bad input."""
    return guarded("eval", lambda: run(argv))[0]


def run(argv: list[str] | None = None) -> dict:
    """Score, print the tables, write --json / --plot; return the numbers per tracker."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a == "--vot-workspace" or a.startswith("--vot-workspace=") for a in argv):
        from pysiam.vot.analysis import workspace_cli
        return workspace_cli(argv)
    args = build_parser().parse_args(argv)
    options = {"split": args.split} if args.split else {}
    dataset = build_dataset(args.dataset, args.dataset_root, layout=args.layout,
                            image_size=tuple(args.image_size) if args.image_size else None,
                            videos=args.videos, **options)
    results = evaluate(dataset, args.results, args.trackers, workers=args.workers,
                       eao_window=args.eao_window,
                       eao_interval=tuple(args.eao_interval) if args.eao_interval else None,
                       skip_missing=args.skip_missing)
    protocol = get_protocol(dataset.protocol)
    print(summary_table(results, protocol.columns, f"{dataset.name} ({len(dataset)} videos)"))
    group = "attribute" if dataset.attributes else "tag"
    for key in protocol.attribute_keys:
        table = attribute_table(results, key, f"{dataset.name} per {group}: {key}")
        if table:
            print(table)
    if args.show_video_level and protocol.video_columns:
        table = video_table(results, protocol.video_columns, f"{dataset.name} per video")
        if table:
            print(table)
    for t, r in results.items():
        if r.get("missing_videos"):
            print(f"{t}: no results for {len(r['missing_videos'])} video(s): "
                  f"{', '.join(r['missing_videos'][:5])}", file=sys.stderr)
    if args.json:
        atomic_write_text(args.json, json.dumps(_clean(results), indent=1) + "\n")
        print(f"numbers written to {args.json}")
    if args.plot:
        paths = plot_results(results, protocol.name, dataset.name, Path(args.plot))
        print(f"{len(paths)} plot(s) written to {args.plot}")
    return results


if __name__ == "__main__":
    sys.exit(main())
