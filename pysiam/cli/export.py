"""Export a config's network to ONNX: template, search (and SiamMask refine) graphs + model.json.

    python tools/export.py --config siamrpn_alex_dwxcorr --snapshot model.pth --output out/ [KEY VALUE ...]

Each graph is checked with ``onnx.checker`` and compared with the torch model on random crops
(batch 1 and 3) and on real crops (``--video``, a video file or a frame folder, with ``--box``
x,y,w,h of its first frame; default: a generated synthetic video); the max relative
differences are printed and kept in model.json. Use the folder with ``INFERENCE.BACKEND
onnxruntime INFERENCE.EXPORT_DIR out/`` (without EXPORT_DIR the backend exports on first use
into a cache). Needs ``pip install pysiam[deploy]``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from pysiam.cli.common import guarded, setup_logging, strip_separator
from pysiam.config import load_config


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="export", description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="shipped config name, YAML path or pysot experiment folder")
    p.add_argument("--snapshot", default="", help="model weights (default: random weights, with a warning)")
    p.add_argument("--output", required=True, help="folder for model.json and the .onnx graphs")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default: pysiam.deploy.DEFAULT_OPSET)")
    p.add_argument("--exporter", choices=("auto", "dynamo", "torchscript"), default="auto",
                   help="torch.onnx exporter (auto: TorchScript's where it works, dynamo's elsewhere)")
    p.add_argument("--video", default="", help="real frames for the check: a video file or a folder of frames")
    p.add_argument("--box", default="", help="x,y,w,h of the target in the first --video frame")
    p.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides as KEY VALUE pairs")
    return p


def _frames(video: str, box: str):
    """Two frames of ``video`` and the box, or (None, None) for the default synthetic video."""
    if not video:
        return None, None
    if not box:
        raise ValueError("--video needs --box x,y,w,h (the target in its first frame)")
    try:
        values = [float(v) for v in box.split(",")]
    except ValueError:
        raise ValueError(f"--box must be x,y,w,h numbers, got {box!r}") from None
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
        raise ValueError(f"--box must be x,y,w,h with w, h > 0, got {box!r}")
    from pysiam.utils.video import open_frames

    frames = []
    for frame in open_frames(video):
        frames.append(frame)
        if len(frames) == 2:
            break
    if not frames:
        raise ValueError(f"--video {video}: no frames")
    return frames, values


def run(args) -> Path:
    from pysiam.cli.demo import load_model
    from pysiam.deploy import DEFAULT_OPSET, export_for_config

    cfg = load_config(args.config, strip_separator(args.opts))
    frames, box = _frames(args.video, args.box)
    model = load_model(cfg, args.snapshot).eval()
    out = Path(args.output)
    manifest = export_for_config(model, cfg, out, args.opset or DEFAULT_OPSET, args.exporter, frames, box)
    worst = max((d for g in manifest["graphs"].values() for d in g.get("max_rel_diff", {}).values()), default=0.0)
    print(f"exported {', '.join(manifest['graphs'])} to {out} (max rel diff vs torch {worst:.2e})")
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    setup_logging()
    args = build_parser().parse_args(argv)
    code, _ = guarded("export", lambda: run(args))
    return code


if __name__ == "__main__":
    sys.exit(main())
