"""Oracle table of the rotated-box rules on ground-truth masks: how well each rule's box covers the mask.

    python tools/box_oracle.py --root DAVIS --sequences blackswan car-shadow tennis [--every 2] \
        [--methods minarea minmax optimized] [--json oracle.json]

For every mask of <root>/Annotations/<resolution>/<seq>/*.png (all objects together: labels > 0,
255 = void left out) each rule of :func:`pysiam.tracker.mask_to_box` gives a box; the table shows
the mean IoU of the rasterised box with the mask, the share of masks with IoU >= 0.5 / 0.7 / 0.85
(as in the SiamMask paper's oracle table), the mean VOT optimisation cost
(4 * fg outside + bg inside, :func:`pysiam.tracker.mask_box.box_cost`), the share of boxes meeting
the VOT constraints, and the masks per second of each rule (the box only: wall clock, and CPU
time of this process, which other load on the machine does not inflate; set OMP_NUM_THREADS=1 for
a one-core figure). Empty masks are skipped and counted.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from pysiam.cli.common import guarded
from pysiam.datasets.masks import read_label_png
from pysiam.tracker.mask_box import MASK_BOX_METHODS, box_cost, box_iou, mask_to_box
from pysiam.utils.atomic import atomic_write_text

__all__ = ["main", "build_parser", "run"]

THRESHOLDS = (0.5, 0.7, 0.85)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="box_oracle", description=__doc__.split("\n")[0])
    p.add_argument("--root", required=True, help="DAVIS-layout folder: Annotations/<resolution>/<seq>/*.png")
    p.add_argument("--sequences", nargs="+", help="sequence names (default: every folder found)")
    p.add_argument("--resolution", default="480p", help="Annotations sub-folder (default 480p)")
    p.add_argument("--every", type=int, default=1, help="use every N-th mask of a sequence")
    p.add_argument("--methods", nargs="+", default=list(MASK_BOX_METHODS), choices=list(MASK_BOX_METHODS))
    p.add_argument("--json", help="write the numbers here")
    return p


def _mask_files(args) -> Dict[str, List[Path]]:
    base = Path(args.root) / "Annotations" / args.resolution
    if not base.is_dir():
        raise FileNotFoundError(f"no mask folder {base} "
                                f"(expected <root>/Annotations/{args.resolution}/<seq>/*.png)")
    names = args.sequences or sorted(d.name for d in base.iterdir() if d.is_dir())
    if not names:
        raise FileNotFoundError(f"{base} holds no sequence folders")
    files = {}
    for name in names:
        found = sorted((base / name).glob("*.png"))
        if not found:
            raise FileNotFoundError(f"sequence {name!r}: no masks in {base / name}")
        files[name] = found[::args.every]
    return files


def _score(files: Dict[str, List[Path]], methods: Sequence[str]) -> dict:
    stats = {m: {"iou": [], "cost": [], "feasible": [], "seconds": 0.0, "cpu": 0.0, "seq": {}}
             for m in methods}
    skipped = 0
    for seq, paths in files.items():
        for path in paths:
            labels = read_label_png(path)
            mask = (labels > 0) & (labels != 255)
            if not mask.any():
                skipped += 1
                continue
            for m in methods:
                t0, c0 = time.perf_counter(), time.process_time()
                poly = mask_to_box(mask, m)
                stats[m]["seconds"] += time.perf_counter() - t0
                stats[m]["cpu"] += time.process_time() - c0
                c = box_cost(mask, poly)
                iou = box_iou(mask, poly)
                for key, val in (("iou", iou), ("cost", c.cost), ("feasible", c.feasible)):
                    stats[m][key].append(val)
                stats[m]["seq"].setdefault(seq, []).append((iou, c.cost))
    if not any(stats[m]["iou"] for m in methods):
        raise ValueError("every mask is empty: nothing to score")
    out = {}
    for m, st in stats.items():
        iou = np.asarray(st["iou"])
        out[m] = {"masks": len(iou), "mean_iou": float(iou.mean()),
                  "iou_at": {str(t): float((iou >= t).mean()) for t in THRESHOLDS},
                  "mean_cost": float(np.mean(st["cost"])), "feasible": float(np.mean(st["feasible"])),
                  "masks_per_s": len(iou) / st["seconds"] if st["seconds"] > 0 else None,
                  "masks_per_cpu_s": len(iou) / st["cpu"] if st["cpu"] > 0 else None,
                  "per_sequence": {s: {"masks": len(v), "mean_iou": float(np.mean([a for a, _ in v])),
                                       "mean_cost": float(np.mean([b for _, b in v]))}
                                   for s, v in st["seq"].items()}}
    return {"methods": out, "skipped_empty": skipped}


def _table(result: dict) -> str:
    methods = result["methods"]
    head = (["rule", "masks", "mIoU"] + [f"IoU>={t}" for t in THRESHOLDS]
            + ["cost", "feasible", "masks/s", "masks/cpu-s"])
    rows = []
    for m, r in methods.items():
        rates = ["-" if r[k] is None else f"{r[k]:.1f}" for k in ("masks_per_s", "masks_per_cpu_s")]
        rows.append([m, str(r["masks"]), f"{r['mean_iou']:.3f}"]
                    + [f"{r['iou_at'][str(t)]:.3f}" for t in THRESHOLDS]
                    + [f"{r['mean_cost']:.1f}", f"{r['feasible']:.3f}"] + rates)
    seqs = sorted({s for r in methods.values() for s in r["per_sequence"]})
    per = [["sequence"] + [f"mIoU {m}" for m in methods] + [f"cost {m}" for m in methods]]
    for s in seqs:
        per.append([s] + [f"{methods[m]['per_sequence'][s]['mean_iou']:.3f}" for m in methods]
                   + [f"{methods[m]['per_sequence'][s]['mean_cost']:.1f}" for m in methods])
    return _format([head] + rows) + "\n\n" + _format(per)


def _format(rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def run(argv: Sequence[str] | None = None) -> dict:
    """Score the rules, print the tables, write --json; return the numbers."""
    args = build_parser().parse_args(argv)
    if args.every < 1:
        raise ValueError(f"--every must be >= 1, got {args.every}")
    files = _mask_files(args)
    result = _score(files, args.methods)
    result.update(root=str(args.root), sequences=list(files), every=args.every)
    print(_table(result))
    if result["skipped_empty"]:
        print(f"({result['skipped_empty']} empty masks skipped)")
    if args.json:
        atomic_write_text(Path(args.json), json.dumps(result, indent=2) + "\n")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: exit code 0, or 2 with a one-line message on bad input."""
    return guarded("box_oracle", lambda: run(argv))[0]


if __name__ == "__main__":
    sys.exit(main())
