"""Helpers that ``tools/gpu_check.py`` runs as subprocesses (each prints one JSON object).

    python -m pysiam.cli.gpu_check_driver weights --config C --out W.pth [--seed 0]
    python -m pysiam.cli.gpu_check_driver pysot --pysot PATH --config C --device cuda --json R.json
        [--frames 60] [--frame-size 640 360] [--train-batch 32] [--train-steps 5] [--no-train]

``weights``: seeded random weights of a config with calibrated BatchNorm statistics, so that
separate processes track with the same network and the boxes stay sane. ``pysot``: imports
pysot from a checkout at PATH (never part of pysiam), builds pysot's model for
``experiments/<config>/config.yaml``, loads the very same weights into pysiam's model, and on
one generated video times both trackers (pysot as its tools/test.py runs it, with autograd on,
and under ``no_grad``) and compares their boxes (on CUDA also with TF32 convolutions off); then
times a training step of each (pysot: its ``ModelBuilder.forward`` losses and the epoch-0
trainable parts of its train.py, with its cudnn settings and with torch's defaults). Shims,
applied only here and listed in the output: ``np.float`` etc. (removed in NumPy 1.24),
``cv2.__version__`` (pysot reads the major version from ``[-5]``), and on CPU ``Tensor.cuda``
as a no-op (pysot's training forward calls it).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from pysiam.cli.common import print_json
from pysiam.speed.timing import timed


def calibrate_bn(model, exemplar: int, search: int, passes: int = 2, batch: int = 2, seed: int = 0) -> None:
    """Set every BatchNorm's running statistics from a few random template / search passes.

    With untrained weights and the default statistics (mean 0, var 1) activations grow through a
    deep backbone until the box deltas overflow ``exp``; calibrated statistics keep the outputs,
    hence the tracked boxes, in a sane range. Uses only ``model.template`` / ``model.track``.
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    old = [m.momentum for m in norms]
    g = torch.Generator().manual_seed(seed)
    dev = next(model.parameters()).device
    model.train()
    with torch.no_grad():
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the passes
        for _ in range(passes):
            model.template((torch.rand(batch, 3, exemplar, exemplar, generator=g) * 255).to(dev))
            model.track((torch.rand(batch, 3, search, search, generator=g) * 255).to(dev))
    for m, mom in zip(norms, old):
        m.momentum = mom
    model.eval()


def make_weights(config: str, out: str, seed: int = 0) -> Dict[str, Any]:
    """Save seeded random weights of ``config``'s model, BatchNorm statistics calibrated, to ``out``."""
    from pysiam.config import load_config
    from pysiam.models import build_model, save_checkpoint

    cfg = load_config(config)
    torch.manual_seed(seed)
    model = build_model(cfg)
    calibrate_bn(model, int(cfg.TRACK.EXEMPLAR_SIZE), int(cfg.TRACK.INSTANCE_SIZE), seed=seed)
    save_checkpoint(out, model)
    return {"weights": out, "parameters": sum(p.numel() for p in model.parameters()), "seed": seed,
            "batchnorm": "statistics calibrated on random crops"}


def apply_shims(device: torch.device) -> List[str]:
    """Make pysot importable on NumPy 2 / OpenCV 4.10+ (and on CPU); what was changed."""
    import cv2

    done = []
    for name, value in (("float", float), ("int", int), ("bool", bool)):
        if name not in np.__dict__:
            setattr(np, name, value)
            done.append(f"np.{name} = {value.__name__}")
    if cv2.__version__[-5] != "4" and cv2.__version__.startswith("4."):
        cv2.__version__ = "4.9.0"
        done.append("cv2.__version__ = '4.9.0' (pysot reads [-5])")
    if device.type != "cuda":
        torch.Tensor.cuda = lambda self, *a, **k: self  # type: ignore[assignment]
        done.append("torch.Tensor.cuda = no-op (CPU run)")
    return done


def _track(tracker, frames, box, grad: bool) -> Dict[str, Any]:
    """Per-frame times (init excluded) and boxes of one tracker over ``frames``."""
    times, boxes = [], []
    with torch.set_grad_enabled(grad):
        tracker.init(frames[0], box)
        for img in frames[1:]:
            tic = time.perf_counter()
            out = tracker.track(img)  # the box is read back on the host: no sync needed
            times.append(time.perf_counter() - tic)
            boxes.append([float(v) for v in out["bbox"]])
    med = statistics.median(times)
    return {"fps_median": 1.0 / med, "ms_median": 1000 * med, "frames": len(times), "boxes": boxes}


def compare_boxes(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], tol: float = 0.05) -> Dict[str, Any]:
    """Max abs difference of two box lists (px), first frame over ``tol``."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        d = np.where(x == y, 0.0, np.abs(x - y)).max(axis=1)  # equal infinities count as equal
    d = np.where(np.isnan(d), np.inf, d)
    over = np.nonzero(d > tol)[0]
    return {"max_px": float(d.max()), "first_frame_px": float(d[0]), "median_px": float(np.median(d)),
            "first_frame_over_tol": int(over[0]) + 1 if over.size else None, "tol_px": tol,
            "within_tol": bool(d.max() <= tol)}


def _strict_fp32(pysot, ours, frames, box) -> Dict[str, Any]:
    """Both trackers with ``cudnn.allow_tf32`` off: FPS and the box difference."""
    old = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        p, o = _track(pysot, frames, box, grad=False), _track(ours, frames, box, grad=False)
    finally:
        torch.backends.cudnn.allow_tf32 = old
    return {"boxes_no_tf32": compare_boxes(o["boxes"], p["boxes"]),
            "no_tf32_fps": {"pysot": p["fps_median"], "pysiam": o["fps_median"]}}


def _pysot_batch(pcfg, batch: int, n: int, device: torch.device) -> Dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    e, s, a = int(pcfg.TRAIN.EXEMPLAR_SIZE), int(pcfg.TRAIN.SEARCH_SIZE), int(pcfg.ANCHOR.ANCHOR_NUM)
    label_cls = torch.randint(-1, 2, (batch, a, n, n), generator=g)
    pos = (label_cls == 1).float()
    data = {"template": torch.rand(batch, 3, e, e, generator=g) * 255,
            "search": torch.rand(batch, 3, s, s, generator=g) * 255, "label_cls": label_cls,
            "label_loc": torch.randn(batch, 4, a, n, n, generator=g) * 0.1,
            "label_loc_weight": pos / pos.sum((1, 2, 3), keepdim=True).clamp(min=1)}
    return {k: v.to(device) for k, v in data.items()}


def _pysot_optimizer(model, pcfg):
    """SGD over the parts pysot's train.py trains at epoch 0 (frozen backbone before TRAIN_EPOCH)."""
    from torch import nn

    for p in model.backbone.parameters():
        p.requires_grad = False
    for m in model.backbone.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
    if pcfg.BACKBONE.TRAIN_EPOCH <= 0:
        for layer in pcfg.BACKBONE.TRAIN_LAYERS:
            for p in getattr(model.backbone, layer).parameters():
                p.requires_grad = True
    base = float(pcfg.TRAIN.BASE_LR)
    groups = [{"params": [p for p in model.backbone.parameters() if p.requires_grad],
               "lr": float(pcfg.BACKBONE.LAYERS_LR) * base}]
    for part in ("neck", "rpn_head"):
        if hasattr(model, part):
            groups.append({"params": list(getattr(model, part).parameters()), "lr": base})
    return torch.optim.SGD([g for g in groups if g["params"]], momentum=float(pcfg.TRAIN.MOMENTUM),
                           weight_decay=float(pcfg.TRAIN.WEIGHT_DECAY))


def pysot_train(builder, pcfg, device: torch.device, batch: int, steps: int, deterministic: bool) -> Dict[str, Any]:
    """Samples/s of pysot's training step (forward with its losses, backward, clip, SGD)."""
    from torch.nn.utils import clip_grad_norm_

    old = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = deterministic, False
    try:
        torch.manual_seed(0)
        model = builder().to(device).train()
        optimizer = _pysot_optimizer(model, pcfg)
        e, s = int(pcfg.TRAIN.EXEMPLAR_SIZE), int(pcfg.TRAIN.SEARCH_SIZE)
        with torch.no_grad():
            model.template(torch.zeros(1, 3, e, e, device=device))
            n = int(model.track(torch.zeros(1, 3, s, s, device=device))["cls"].shape[-1])
        data = _pysot_batch(pcfg, batch, n, device)

        def step():
            optimizer.zero_grad()
            loss = model(data)["total_loss"]
            loss.backward()
            clip_grad_norm_(model.parameters(), float(pcfg.TRAIN.GRAD_CLIP))
            optimizer.step()

        med = statistics.median(timed(step, device, steps, 1))
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = old
    return {"samples_per_s": batch / med, "step_ms_median": 1000 * med, "batch": batch, "steps": steps,
            "cudnn_deterministic": deterministic}


def _import_pysot(root: Path, config: str, device: torch.device):
    exp = root / "experiments" / config / "config.yaml"
    if not (root / "pysot" / "__init__.py").is_file():
        raise FileNotFoundError(f"--pysot {root}: no pysot/__init__.py there")
    if not exp.is_file():
        raise FileNotFoundError(f"pysot has no experiment config {exp}")
    sys.path.insert(0, str(root))
    from pysot.core.config import cfg as pcfg
    from pysot.models.model_builder import ModelBuilder
    from pysot.tracker.tracker_builder import build_tracker as pysot_tracker

    pcfg.merge_from_file(str(exp))
    pcfg.CUDA = device.type == "cuda"
    return pcfg, ModelBuilder, pysot_tracker


def run_pysot(args) -> Dict[str, Any]:
    """pysot's and pysiam's tracker and training speed on one device, with the same weights."""
    from pysiam.speed import bench_train, generated_videos
    from pysiam.config import load_config
    from pysiam.models import build_model, load_checkpoint
    from pysiam.tracker import build_tracker

    device = torch.device(args.device)
    shims = apply_shims(device)
    pcfg, builder, pysot_tracker = _import_pysot(Path(args.pysot), args.config, device)
    torch.manual_seed(0)
    pmodel = builder().to(device)
    calibrate_bn(pmodel, int(pcfg.TRACK.EXEMPLAR_SIZE), int(pcfg.TRACK.INSTANCE_SIZE))
    cfg = load_config(args.config)
    smodel = build_model(cfg)
    report = load_checkpoint(smodel, {k: v.detach().cpu() for k, v in pmodel.state_dict().items()})
    _, frames, box = generated_videos(1, args.frames, args.frame_size)[0]
    res: Dict[str, Any] = {"config": args.config, "device": str(device), "shims": shims,
                           "weights": f"pysot ModelBuilder, torch.manual_seed(0), BatchNorm statistics calibrated "
                                      f"on random crops; {len(report.loaded)} tensors loaded into pysiam",
                           "frames": len(frames) - 1, "frame_size": list(args.frame_size)}
    pysot_grad = _track(pysot_tracker(pmodel), frames, box, grad=True)
    pysot_nograd = _track(pysot_tracker(pmodel), frames, box, grad=False)
    ours = _track(build_tracker(cfg, smodel, device=device), frames, box, grad=False)
    res["boxes"] = compare_boxes(ours["boxes"], pysot_nograd["boxes"])
    res["boxes"]["last_box_pysiam"] = ours["boxes"][-1]
    res["boxes"]["pysot_grad_vs_no_grad_max_px"] = compare_boxes(pysot_grad["boxes"], pysot_nograd["boxes"])["max_px"]
    for key, r in (("pysot_tracker", pysot_grad), ("pysot_tracker_no_grad", pysot_nograd), ("pysiam_tracker", ours)):
        res[key] = {k: v for k, v in r.items() if k != "boxes"}
    if device.type == "cuda":  # cudnn convolutions run in TF32 by default: the strict float32 path too
        res.update(_strict_fp32(pysot_tracker(pmodel), build_tracker(cfg, smodel, device=device), frames, box))
    best = max(pysot_grad["fps_median"], pysot_nograd["fps_median"])
    res["pysot_fps_best"] = best
    res["tracker_fps_ratio"] = ours["fps_median"] / best
    if args.no_train:
        res["train"] = {"status": "skipped", "reason": "--no-train"}
    elif pcfg.MASK.MASK:
        res["train"] = {"status": "skipped", "reason": "pysot's ModelBuilder.forward has no mask loss (TODO there)"}
    else:
        res["train"] = _train_both(builder, pcfg, cfg, device, args, bench_train)
    return res


def _train_both(builder, pcfg, cfg, device, args, bench_train) -> Dict[str, Any]:
    batch = args.train_batch or int(cfg.TRAIN.BATCH_SIZE)
    out: Dict[str, Any] = {"batch": batch}
    runs = {"pysot_as_shipped": lambda: pysot_train(builder, pcfg, device, batch, args.train_steps, True),
            "pysot_default_cudnn": lambda: pysot_train(builder, pcfg, device, batch, args.train_steps, False),
            "pysiam": lambda: bench_train(cfg, device, batch, args.train_steps, warmup=1)}
    for name, run in runs.items():
        try:
            out[name] = run()
        except Exception as e:  # noqa: BLE001 - one failing side is recorded, the tracker figures stay
            out[name] = {"error": f"{type(e).__name__}: {e}"}
    pysot = [out[k]["samples_per_s"] for k in ("pysot_as_shipped", "pysot_default_cudnn") if "error" not in out[k]]
    if pysot and "error" not in out["pysiam"]:
        out["pysot_samples_per_s_best"] = max(pysot)
        out["samples_per_s_ratio"] = out["pysiam"]["samples_per_s"] / max(pysot)
    else:
        out.update(status="failed", reason="; ".join(f"{k}: {v['error']}" for k, v in out.items()
                                                     if isinstance(v, dict) and "error" in v))
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gpu_check_driver", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("weights", help="seeded random weights of a config")
    w.add_argument("--config", required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--seed", type=int, default=0)
    r = sub.add_parser("pysot", help="pysot vs pysiam on one device")
    r.add_argument("--pysot", required=True, help="pysot checkout (holds pysot/ and experiments/)")
    r.add_argument("--config", required=True, help="experiment name, the same in pysot and pysiam")
    r.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    r.add_argument("--frames", type=int, default=60)
    r.add_argument("--frame-size", type=int, nargs=2, default=(640, 360))
    r.add_argument("--train-batch", type=int, default=0, help="default: pysiam's TRAIN.BATCH_SIZE")
    r.add_argument("--train-steps", type=int, default=5)
    r.add_argument("--no-train", action="store_true")
    for q in (w, r):
        q.add_argument("--json", default=None, help="also write the JSON here")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    result = make_weights(args.config, args.out, args.seed) if args.cmd == "weights" else run_pysot(args)
    print_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
