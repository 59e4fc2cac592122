"""Write the procedural synthetic benchmark in OTB layout (see pysiam.data.synthetic).

    python tools/make_synthetic.py --out data/SYNTH --videos 40 --frames 100 [--size 320x240]
        [--seed 0] [--workers 2] [--preset default|easy] [--set occlusion_prob=1 n_distractors=0]
        [--preview sheet.png]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import fields, replace
from typing import Sequence

import cv2

from pysiam.data.synthetic import (PRESETS, SynthParams, contact_sheet, generate_video, preset,
                                   write_otb_layout)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size must look like 320x240, got {text!r}") from None
    return w, h


def _overrides(items: Sequence[str]) -> dict:
    """Parse KEY=VALUE pairs into SynthParams fields, cast to the field's type."""
    types = {f.name: type(getattr(SynthParams(), f.name)) for f in fields(SynthParams)}
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in types:
            raise SystemExit(f"--set {item!r}: expected KEY=VALUE with KEY one of {sorted(types)}")
        try:
            out[key] = types[key](value)
        except ValueError:
            raise SystemExit(f"--set {item!r}: {value!r} is not a valid {types[key].__name__}") from None
    return out


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description="Generate pysiam's synthetic tracking benchmark (OTB layout).")
    ap.add_argument("--out", required=True, help="output folder (resumable: complete videos are kept)")
    ap.add_argument("--videos", type=int, default=40, help="number of videos")
    ap.add_argument("--frames", type=int, default=None, help="frames per video (preset default: 100)")
    ap.add_argument("--size", type=_size, default=None, help="frame size WxH (default 320x240)")
    ap.add_argument("--seed", type=int, default=None, help="base seed (default 0)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes")
    ap.add_argument("--name", default="SYNTH", help="dataset name: <out>/<name>.json, videos <name>_0000")
    ap.add_argument("--preset", default="default", choices=sorted(PRESETS), help="difficulty preset")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override SynthParams fields")
    ap.add_argument("--preview", default=None, help="also save a contact sheet of the first video (PNG)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.videos < 1:
        raise SystemExit("--videos must be >= 1")
    params = preset(args.preset, **_overrides(args.set))
    if args.frames is not None:
        params = replace(params, n_frames=args.frames)
    if args.size is not None:
        params = replace(params, width=args.size[0], height=args.size[1])
    if args.seed is not None:
        params = replace(params, seed=args.seed)
    start = time.time()
    json_path = write_otb_layout(args.out, args.videos, params, name=args.name, workers=args.workers,
                                 progress=True)
    print(f"wrote {args.videos} videos of {params.n_frames} frames ({params.width}x{params.height}) "
          f"to {args.out} in {time.time() - start:.1f} s; index {json_path}")
    if args.preview:
        if not cv2.imwrite(args.preview, contact_sheet(generate_video(0, params))):
            raise SystemExit(f"could not write preview {args.preview}")
        print(f"preview: {args.preview}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
