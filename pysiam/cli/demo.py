"""Track one or several targets through a video, a folder of frames or a webcam; write an annotated video.

    python tools/demo.py --config siamrpn_alex_dwxcorr --snapshot model.pth \\
        --input demo/bag.avi --init 292,128,146,132 --output demo_out [KEY VALUE ...]

Without ``--init`` the box is selected interactively (cv2.selectROI) when a display exists.
Writes ``<output>/<name>.mp4`` (or ``.avi`` when the mp4v codec is unavailable) with the box, or
for SiamMask the mask overlay and rotated box, and ``<output>/<name>.txt`` with one line
``x,y,w,h,score`` per frame (the first line is the initial box with score ``nan``). Several
targets: repeat ``--init`` (or separate boxes with ``;``: ``--init "10,10,40,30;90,20,30,30"``);
they are tracked together with one batched network pass per frame
(:class:`pysiam.runner.multi.MultiTracker`), every box is drawn and target k (from 1) gets
``<output>/<name>_<k>.txt``.
Works headless; ``--no-video`` skips the video. The inference flags of tools/test.py (``--winograd``,
``--fold-bn``, ``--amp`` ...) apply here too.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import cv2
import numpy as np

from pysiam.cli.common import guarded, setup_logging, strip_separator
from pysiam.cli.inference_args import add_inference_arguments, apply_inference_arguments
from pysiam.config import ConfigError, load_config
from pysiam.inference import prepare_from_cfg
from pysiam.runner.multi import MultiTracker
from pysiam.tracker import build_tracker
from pysiam.utils.device import resolve_device
from pysiam.utils.video import FrameSource, VideoSink
from pysiam.utils.atomic import atomic_write_text

logger = logging.getLogger("pysiam.demo")

BOX_COLOR = (0, 255, 0)
MASK_COLOR = (0, 0, 255)
POLY_COLOR = (0, 255, 255)


class DemoError(RuntimeError):
    """A user-facing problem (bad input, no box, unwritable output)."""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description="Tracking demo, one or several targets "
                                 "(SiamRPN, SiamMask, long-term, NanoTrack, SiamBAN).")
    ap.add_argument("--config", required=True, help="shipped config name or YAML path")
    ap.add_argument("--snapshot", default="", help="model weights (without: random weights, with a warning)")
    ap.add_argument("--trust-checkpoint", action="store_true",
                    help="UNSAFE: unpickle any object in the snapshot (runs code from the file)")
    ap.add_argument("--input", "--video", "--video_name", dest="input", default="0",
                    help="video file, folder of frames, or webcam index (default 0)")
    ap.add_argument("--init", action="append", default=None, help="initial box x,y,w,h in the first frame "
                    "(default: select it interactively; needs a display); repeat it, or separate boxes "
                    "with ';', to track several targets at once")
    ap.add_argument("--output", default="demo_output", help="output folder (default ./demo_output)")
    ap.add_argument("--no-video", action="store_true", help="write only the results file")
    ap.add_argument("--device", default=None, help="torch device ('cpu', 'cuda', 'cuda:1'; default: cfg.DEVICE / auto)")
    ap.add_argument("--fps", type=float, default=None, help="frame rate of the written video "
                    "(default: the input's, else 25)")
    ap.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    ap.add_argument("--show", action="store_true", help="also display the frames while tracking")
    add_inference_arguments(ap)
    ap.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides as KEY VALUE pairs")
    return ap


def parse_box(text: str) -> List[float]:
    """'x,y,w,h' (commas and/or spaces) -> 4 floats with w, h > 0."""
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        box = [float(p) for p in parts]
    except ValueError:
        box = []
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0 or not all(np.isfinite(box)):
        raise DemoError(f"--init must be x,y,w,h with w, h > 0, got {text!r}")
    return box


def parse_boxes(inits: Any) -> List[List[float]]:
    """``--init`` values (a string, a list of them, or None), each 'box' or 'box;box;...' -> boxes."""
    if inits is None:
        return []
    texts = [inits] if isinstance(inits, str) else list(inits)
    return [parse_box(t) for text in texts for t in text.split(";") if t.strip()]


def gui_available() -> bool:
    """Whether OpenCV can open windows here (a GUI backend and, on Linux, a display)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    for line in cv2.getBuildInformation().splitlines():
        if line.strip().startswith("GUI:"):
            return "NONE" not in line.upper()
    return True


def select_box(frame: np.ndarray, title: str) -> List[float]:
    """Let the user draw the initial box on ``frame`` (cv2.selectROI)."""
    if not gui_available():
        raise DemoError("no --init box given and no display for interactive selection "
                        "(headless machine or opencv-python-headless): pass --init x,y,w,h")
    try:
        x, y, w, h = cv2.selectROI(title, frame, False, False)
    except cv2.error as e:
        raise DemoError(f"interactive box selection failed ({e}); pass --init x,y,w,h") from None
    if w <= 0 or h <= 0:
        raise DemoError("no box selected")
    return [float(x), float(y), float(w), float(h)]


def load_model(cfg, snapshot: str, trust: bool = False):
    """The model of ``cfg`` with the snapshot's weights (random weights without one, with a warning)."""
    from pysiam.models import CheckpointError, build_and_load

    if snapshot and not Path(snapshot).is_file():
        raise DemoError(f"snapshot not found: {snapshot}")
    if not snapshot:
        logger.warning("no --snapshot given: the model has RANDOM weights, so the boxes are meaningless")
    try:
        return build_and_load(cfg, snapshot, trust=trust)
    except CheckpointError as e:
        raise DemoError(str(e)) from None


def draw(frame: np.ndarray, out: Dict[str, Any], score_text: bool = True) -> np.ndarray:
    """Annotate a frame with the tracker's output (box, or mask overlay + rotated box)."""
    img = frame.copy()
    if "mask_binary" in out:
        m = out["mask_binary"].astype(bool)
        overlay = img.copy()
        overlay[m] = MASK_COLOR
        img = cv2.addWeighted(img, 0.65, overlay, 0.35, 0)
        poly = np.round(np.asarray(out["polygon"], dtype=np.float64)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [poly], True, POLY_COLOR, 2)
    else:
        x, y, w, h = (int(round(v)) for v in out["bbox"])
        cv2.rectangle(img, (x, y), (x + w, y + h), BOX_COLOR, 2)
    if score_text and out.get("best_score") is not None:
        cv2.putText(img, f"{out['best_score']:.3f}", (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, BOX_COLOR, 2)
    return img


def draw_all(frame: np.ndarray, outs: Sequence[Dict[str, Any]]) -> np.ndarray:
    """:func:`draw` for one target; several: every target's box (or mask), labelled 1, 2, ..."""
    if len(outs) == 1:
        return draw(frame, outs[0])
    img = frame
    for k, out in enumerate(outs, start=1):
        img = draw(img, out, score_text=False)
        x, y = (int(round(v)) for v in out["bbox"][:2])
        cv2.putText(img, str(k), (x + 2, max(y - 4, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, BOX_COLOR, 1)
    return img


def write_results(path: Path, rows: Sequence[Sequence[float]]) -> None:
    """One 'x,y,w,h,score' line per frame, written to a temporary file then renamed."""
    text = "".join(",".join(f"{v:.4f}" for v in r[:4]) + f",{r[4]:.6f}\n" for r in rows)
    atomic_write_text(path, text)


def start_targets(tracker, multi: Optional[MultiTracker], frame: np.ndarray,
                  boxes: Sequence[Sequence[float]]) -> List[Dict[str, Any]]:
    """Start ``tracker`` on the one box, or ``multi`` on several; the first frame's outputs."""
    if multi is not None:
        multi.init(frame, boxes)
    else:
        tracker.init(frame, boxes[0])
    return [{"bbox": list(box), "best_score": None} for box in boxes]


def write_target_results(out_dir: Path, name: str, rows: Sequence[Sequence[Sequence[float]]]) -> Any:
    """Per target :func:`write_results`: ``<name>.txt`` for one, ``<name>_<k>.txt`` (k from 1)
    for several; the path, or the paths joined by ', '."""
    names = [f"{name}.txt"] if len(rows) == 1 else [f"{name}_{k}.txt" for k in range(1, len(rows) + 1)]
    for file_name, target_rows in zip(names, rows):
        write_results(out_dir / file_name, target_rows)
    return out_dir / names[0] if len(names) == 1 else ", ".join(str(out_dir / n) for n in names)


def _trackers(args: argparse.Namespace, cfg, several: bool):
    """(one tracker, a MultiTracker over the same model when there are several targets)."""
    model = load_model(cfg, args.snapshot, trust=args.trust_checkpoint)
    model = prepare_from_cfg(model, cfg, resolve_device(args.device or None, cfg))
    tracker = build_tracker(cfg, model, device=args.device or None)
    multi = MultiTracker(lambda: build_tracker(cfg, model, device=args.device or None)) if several else None
    return tracker, multi


def _show(name: str, vis) -> bool:
    """Show a frame when a screen is there; False when the user asked to stop (q / Esc)."""
    cv2.imshow(name, vis)
    return not (cv2.waitKey(1) & 0xFF in (ord("q"), 27))


def _track_frames(args, source, tracker, multi, init_boxes, out_dir: Path):
    """Track every frame; (per-target rows of x,y,w,h,score, tracking seconds, the video sink)."""
    from tqdm import tqdm

    total = source.count
    if args.max_frames is not None:
        total = min(total, args.max_frames) if total else args.max_frames
    sink: Optional[VideoSink] = None
    rows: List[List[List[float]]] = [[] for _ in range(max(1, len(init_boxes)))]  # per target
    track_time = 0.0
    show = args.show and gui_available()
    bar = tqdm(total=total, unit="frame", desc=source.name, dynamic_ncols=True)
    try:
        for idx, frame in enumerate(source):
            if args.max_frames is not None and idx >= args.max_frames:
                break
            if idx == 0:
                boxes = init_boxes or [select_box(frame, source.name)]
            tic = time.perf_counter()         # the interactive selection is not timed
            if idx == 0:
                outs = start_targets(tracker, multi, frame, boxes)
                track_time += time.perf_counter() - tic
                for r, box in zip(rows, boxes):
                    r.append(list(box) + [float("nan")])
                if not args.no_video:
                    sink = VideoSink(out_dir / source.name, args.fps or source.fps or 25.0,
                                     (frame.shape[1], frame.shape[0]))
            else:
                outs = multi.track(frame) if multi is not None else [tracker.track(frame)]
                track_time += time.perf_counter() - tic
                for r, out in zip(rows, outs):
                    r.append(list(out["bbox"]) + [float(out["best_score"])])
            vis = draw_all(frame, outs) if (sink is not None or show) else None
            if sink is not None:
                sink.write(vis)
            if show and not _show(source.name, vis):
                break
            bar.update(1)
            bar.set_postfix(fps=f"{len(rows[0]) / max(track_time, 1e-9):.1f}", refresh=False)
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    finally:
        bar.close()
    return rows, track_time, sink


def run_demo(args: argparse.Namespace) -> Dict[str, Any]:
    """Run the demo for parsed arguments; returns the output paths, frame count and speed."""
    try:
        cfg = load_config(args.config, args.opts)
    except ConfigError as e:
        raise DemoError(str(e)) from None
    if args.device:
        cfg.DEVICE = args.device
    apply_inference_arguments(cfg, args)
    source = FrameSource(args.input)
    init_boxes = parse_boxes(args.init)
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    tracker, multi = _trackers(args, cfg, len(init_boxes) > 1)
    rows, track_time, sink = _track_frames(args, source, tracker, multi, init_boxes, out_dir)
    if not rows[0]:
        raise DemoError(f"no frame read from {source.describe}")
    results = write_target_results(out_dir, source.name, rows)
    video = sink.close() if sink is not None else None
    return {"frames": len(rows[0]), "results": results, "video": video, "targets": len(rows),
            "fps": len(rows[0]) / max(track_time, 1e-9), "device": str(tracker.device)}


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    args.opts = strip_separator(args.opts)
    setup_logging()
    code, summary = guarded("demo", lambda: run_demo(args), extra=(DemoError,))
    if code:
        return code
    print(f"tracked {summary['frames']} frames at {summary['fps']:.1f} FPS on {summary['device']}; "
          f"results: {summary['results']}" + (f"; video: {summary['video']}" if summary["video"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
