"""Speed benchmark of a config on a device: tracker, batched engine, model, training, data loading.

    python tools/benchmark.py --config siamrpn_r50_l234_dwxcorr [--device cpu] [--snapshot S]
        [--frames 30] [--batch 8] [--only tracker,batched,model,train,data] [--json out.json]
        [--fold-bn] [--channels-last] [--winograd] [--amp bf16] [--compile] [--cuda-graphs] [--threads N]
        [KEY VALUE ...]

Figures (printed as a table, then as JSON; ``--json`` also writes the JSON to a file):

* ``tracker``: single-stream tracker FPS = 1 / median per-frame time of ``tracker.track`` (the
  first frame, the initialisation, is excluded), on a generated video;
* ``batched``: frames/s of the batched engine (:mod:`pysiam.runner.batched`, ``--batch``
  videos in lockstep, OPE) and of the sequential runner on the same generated videos;
* ``model``: median latency of the search pass ``track_with`` (template cached), batch 1;
* ``train``: training samples/s of forward + backward + SGD step (pysiam.training's losses and
  optimizer; random pair batches with the training set's labels);
* ``data``: samples/s of the training data loader over generated (synthetic) videos.

Frames and videos are generated (pysiam.data.synthetic), so it runs anywhere; without
``--snapshot`` the weights are random (speed does not depend on them). Timings on CUDA
synchronise the device around each measured call.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from pysiam.cli.common import guarded, setup_logging
from pysiam.cli.inference_args import add_inference_arguments, apply_inference_arguments
from pysiam.config import load_config

logger = logging.getLogger("pysiam.benchmark")

PARTS = ("tracker", "batched", "model", "train", "data")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmark", description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="shipped config name, YAML path or pysot experiment folder")
    p.add_argument("--snapshot", default="", help="model weights (default: random weights)")
    p.add_argument("--device", default=None, help="torch device (default: cfg.DEVICE / auto)")
    p.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {PARTS}")
    p.add_argument("--frames", type=int, default=30, help="frames per generated video (default 30)")
    p.add_argument("--frame-size", type=int, nargs=2, default=(640, 360), metavar=("W", "H"),
                   help="generated frame size (default 640 360)")
    p.add_argument("--batch", type=int, default=8, help="videos in lockstep for the batched engine")
    p.add_argument("--repeats", type=int, default=20, help="timed model passes (default 20)")
    p.add_argument("--warmup", type=int, default=2, help="untimed passes before timing (default 2)")
    p.add_argument("--train-batch", type=int, default=0, help="pairs per training step "
                   "(default: TRAIN.BATCH_SIZE on GPU, 4 on CPU)")
    p.add_argument("--train-steps", type=int, default=3, help="timed training steps (default 3)")
    p.add_argument("--data-batches", type=int, default=4, help="timed data-loader batches (default 4)")
    p.add_argument("--no-sequential", action="store_true",
                   help="batched part: skip the sequential run on the same videos")
    p.add_argument("--rounds", type=int, default=1, help="batched part: alternating batched / "
                   "sequential rounds (ABBA...; default 1)")
    p.add_argument("--json", default=None, help="also write the JSON result to this file")
    add_inference_arguments(p)
    p.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides as KEY VALUE pairs")
    return p


# -- helpers ------------------------------------------------------------------------------------

def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], Any], device, repeats: int, warmup: int) -> List[float]:
    for _ in range(max(0, warmup)):
        fn()
    _sync(device)
    times = []
    for _ in range(max(1, repeats)):
        tic = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - tic)
    return times


def generated_videos(count: int, frames: int, size: Sequence[int], seed: int = 7):
    """``count`` generated (name, frames list, first box) videos of ``frames`` frames."""
    from pysiam.data.synthetic import SynthParams, generate_video

    params = SynthParams(width=int(size[0]), height=int(size[1]), n_frames=max(2, int(frames)), seed=seed)
    out = []
    for i in range(count):
        v = generate_video(i, params)
        out.append((f"gen{i:03d}", v.frames, [float(x) for x in v.boxes[0]]))
    return out


# -- the parts -----------------------------------------------------------------------------------

def bench_model(model, cfg, device, repeats: int, warmup: int) -> Dict[str, Any]:
    """Median latency of the search pass (batch 1, template cached) and of the template pass."""
    import torch

    g = torch.Generator().manual_seed(0)
    e, s = int(cfg.TRACK.EXEMPLAR_SIZE), int(cfg.TRACK.INSTANCE_SIZE)
    z = (torch.rand(1, 3, e, e, generator=g) * 255).to(device)
    x = (torch.rand(1, 3, s, s, generator=g) * 255).to(device)
    kw = {"with_mask": False} if cfg.MASK.MASK else {}
    with torch.inference_mode():
        template = model.extract_template(z)
        t_search = _timed(lambda: model.track_with(template, x, **kw), device, repeats, warmup)
        t_template = _timed(lambda: model.extract_template(z), device, max(1, repeats // 4), 1)
    med = statistics.median(t_search)
    return {"search_ms_median": 1000 * med, "search_ms_min": 1000 * min(t_search),
            "template_ms_median": 1000 * statistics.median(t_template), "passes": len(t_search),
            "search_size": s, "search_per_s": 1.0 / med}


def bench_tracker(cfg, model, device, videos) -> Dict[str, Any]:
    """Single-stream tracker FPS on the first generated video: 1 / median frame time (init excluded)."""
    import torch

    from pysiam.tracker import build_tracker

    name, frames, box = videos[0]
    tracker = build_tracker(cfg, model, device=device)
    times = []
    with torch.inference_mode():
        tracker.init(frames[0], box)
        for img in frames[1:]:
            tic = time.perf_counter()
            tracker.track(img)
            times.append(time.perf_counter() - tic)
    med = statistics.median(times)
    return {"fps_median": 1.0 / med, "ms_median": 1000 * med, "fps_mean": len(times) / sum(times),
            "frames": len(times), "video": name, "frame_size": list(frames[0].shape[1::-1])}


def bench_batched(cfg, model, device, videos, batch: int, sequential: bool = True,
                  rounds: int = 1) -> Dict[str, Any]:
    """Frames/s of the batched engine over all generated videos (OPE), and of the sequential runner.

    With ``rounds`` > 1 the two alternate (batched, sequential, sequential, batched, ...) and the
    rates come from the summed times, so that a drifting machine speed affects both alike."""
    from pysiam.datasets.video import Video
    from pysiam.protocols import get_protocol
    from pysiam.runner.batched import BatchedEngine, ope_job
    from pysiam.runner.sequential import run_sequential
    from pysiam.tracker import build_tracker

    def video_of(name, frames, box):
        gt = np.tile(np.asarray(box, dtype=np.float64), (len(frames), 1))
        return Video(name, [], gt, init_rect=box, image_size=frames[0].shape[1::-1])

    vids = [(video_of(*v), v[1]) for v in videos]
    total = sum(len(f) for _, f in vids)
    make_tracker = lambda: build_tracker(cfg, model, device=device)  # noqa: E731
    engine = BatchedEngine(make_tracker, batch)
    frames_of = {v.name: f for v, f in vids}

    def run_batched_once() -> float:
        tic = time.perf_counter()
        engine.run((v, ope_job(v, frames)) for v, frames in vids)
        return time.perf_counter() - tic

    def run_sequential_once() -> float:
        tic = time.perf_counter()
        run_sequential(get_protocol("ope"), make_tracker, [v for v, _ in vids],
                       frames_of=lambda v: iter(frames_of[v.name]))
        return time.perf_counter() - tic

    walls = {"batched": 0.0, "sequential": 0.0}
    order = ["batched", "sequential"] if sequential else ["batched"]
    for r in range(max(1, rounds)):
        for kind in (order if r % 2 == 0 else order[::-1]):
            walls[kind] += run_batched_once() if kind == "batched" else run_sequential_once()
    n = max(1, rounds)
    out = {"videos": len(vids), "batch": batch, "frames": total, "rounds": n,
           "frames_per_s": n * total / walls["batched"], "steps": engine.steps // n,
           "mean_forward_batch": float(np.mean(engine.forward_batches)) if engine.forward_batches else 0.0}
    if sequential:
        out["sequential_frames_per_s"] = n * total / walls["sequential"]
        out["speedup"] = walls["sequential"] / walls["batched"]
    return out


def _labelled_pair_batch(cfg, batch: int, device, n: int):
    """A batch of random crops labelled by the head family's training target, as the training set
    labels them (a centred target box of random size per pair; every fifth pair negative), with an
    ``n`` x ``n`` score map."""
    import numpy as np
    import torch

    from pysiam.families import build_family

    c = cfg.clone()
    c.defrost()
    c.TRAIN.OUTPUT_SIZE = n   # the network's own map at the training sizes
    target = build_family(c).training_target(c)
    rng = np.random.default_rng(0)
    e, s = int(cfg.TRAIN.EXEMPLAR_SIZE), int(cfg.TRAIN.SEARCH_SIZE)
    rows = []
    for i in range(batch):
        w, h = rng.uniform(0.25, 0.6, size=2) * e
        box = [s / 2 - w / 2, s / 2 - h / 2, s / 2 + w / 2, s / 2 + h / 2]
        rows.append(target.labels(box, neg=i % 5 == 4, rng=rng))
    out = {k: torch.from_numpy(np.stack([r[k] for r in rows])) for k in rows[0]}
    g = torch.Generator().manual_seed(0)
    out["template"] = torch.rand(batch, 3, e, e, generator=g) * 255
    out["search"] = torch.rand(batch, 3, s, s, generator=g) * 255
    if cfg.MASK.MASK:
        cls = out["label_cls"].reshape(batch, -1, n, n)
        out["label_mask"] = torch.where(torch.rand(batch, 1, s, s, generator=g) > 0.5, 1.0, -1.0)
        out["label_mask_weight"] = (cls.max(1, keepdim=True).values == 1).float()
    return {k: v.to(device) for k, v in out.items()}


def bench_train(cfg, device, batch: int, steps: int, warmup: int = 1) -> Dict[str, Any]:
    """Training samples/s: forward, the family's losses, backward and SGD step on labelled random pairs."""
    import torch

    from pysiam.families import build_family
    from pysiam.models import build_model
    from pysiam.training.forward import TrainingModel
    from pysiam.training.losses import total_loss
    from pysiam.training.optim import apply_trainable, build_optimizer, set_train_modes
    from pysiam.training.settings import TrainSettings

    torch.manual_seed(0)
    settings = TrainSettings.from_config(cfg)
    family = build_family(cfg)
    model = build_model(cfg).to(device)
    method = f"pysiam.training {family.name} losses and optimizer (stage {settings.stage}, epoch 0 trainable parts)"
    try:
        apply_trainable(model, settings.trainable, 0)
        set_train_modes(model, settings.trainable, 0)
        optimizer = build_optimizer(model, settings.trainable)
    except ValueError as e:   # e.g. BACKBONE.TRAIN_LAYERS that this backbone does not have
        logger.warning("training benchmark: %s; every parameter is trained", e)
        model.requires_grad_(True).train()
        optimizer = torch.optim.SGD(model.parameters(), lr=settings.trainable.base_lr, momentum=0.9)
        method = f"pysiam.training {family.name} losses (stage {settings.stage}), all parameters, plain SGD"
    train_model = TrainingModel(model, family.training_losses(), settings.stage, stride=settings.mask_stride,
                                mask_window=settings.mask_window)
    weights = settings.weights.for_stage(settings.stage)
    with torch.no_grad():  # the score-map side of this network at the training sizes
        e, sx = settings.mask_window, int(cfg.TRAIN.SEARCH_SIZE)
        n = model(torch.zeros(1, 3, e, e, device=device), torch.zeros(1, 3, sx, sx, device=device),
                  with_mask=False)["cls"].shape[-1]
    data = _labelled_pair_batch(cfg, batch, device, n)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = total_loss(train_model(data)[0], weights)
        loss.backward()
        optimizer.step()

    times = _timed(step, device, steps, warmup)
    med = statistics.median(times)
    return {"samples_per_s": batch / med, "step_ms_median": 1000 * med, "batch": batch,
            "steps": len(times), "method": method}


def bench_data(cfg, batch: int, batches: int, frames: int, size: Sequence[int]) -> Dict[str, Any]:
    """Samples/s of the training DataLoader over a few generated videos (DATASET.SYNTHETIC)."""
    import torch
    from torch.utils.data import DataLoader

    from pysiam.data.train_dataset import build_train_dataset

    c = cfg.clone()
    c.defrost()
    c.DATASET.NAMES = ["SYNTHETIC"]
    c.DATASET.SYNTHETIC.NUM_VIDEOS = 4
    c.DATASET.SYNTHETIC.WORKERS = 1
    c.DATASET.SYNTHETIC.KWARGS.n_frames = max(4, int(frames))
    c.DATASET.SYNTHETIC.KWARGS.width = int(size[0])
    c.DATASET.SYNTHETIC.KWARGS.height = int(size[1])
    c.DATASET.VIDEOS_PER_EPOCH = batch * (batches + 1)
    dataset = build_train_dataset(c)
    workers = int(c.TRAIN.NUM_WORKERS)
    loader = DataLoader(dataset, batch_size=batch, num_workers=workers, drop_last=True,
                        persistent_workers=False, pin_memory=torch.cuda.is_available())
    it = iter(loader)
    next(it)  # worker start-up and the first batch are not counted
    tic = time.perf_counter()
    n = 0
    for b in it:
        n += int(b["search"].shape[0])
    wall = time.perf_counter() - tic
    return {"samples_per_s": n / max(wall, 1e-9), "samples": n, "batch": batch, "workers": workers}


# -- main ----------------------------------------------------------------------------------------

def run_benchmark(args) -> Dict[str, Any]:
    """Run the requested parts; the result dict that is printed."""
    import torch

    from pysiam.inference import InferenceOptions, apply_threads, prepare_for_inference
    from pysiam.models import build_and_load
    from pysiam.utils.device import resolve_device

    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ValueError(f"--only: unknown part(s) {unknown}; choose from {PARTS}")
    cfg = load_config(args.config, args.opts)
    apply_inference_arguments(cfg, args)
    device = resolve_device(args.device, cfg)
    options = InferenceOptions.from_config(cfg)
    apply_threads(options)
    result: Dict[str, Any] = {
        "config": str(args.config), "device": str(device), "torch": torch.__version__,
        "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "snapshot": args.snapshot or None, "options": options.as_dict(),
        "tolerance": options.tolerance(),
    }
    if device.type == "cuda":
        result["gpu"] = torch.cuda.get_device_name(device)
    model = None
    if any(p in parts for p in ("tracker", "batched", "model")):
        torch.manual_seed(0)
        model = prepare_for_inference(build_and_load(cfg, args.snapshot), options, device)
    videos = None
    if any(p in parts for p in ("tracker", "batched")):
        count = max(1, args.batch) if "batched" in parts else 1
        videos = generated_videos(count, args.frames, args.frame_size)
    for part in PARTS:
        if part not in parts:
            continue
        logger.info("benchmark: %s ...", part)
        try:
            result[part] = _run_part(part, args, cfg, model, device, videos)
        except Exception as e:  # one failing part (e.g. a config the training set refuses) is reported
            logger.warning("benchmark: %s failed: %s", part, e)
            result[part] = {"error": f"{type(e).__name__}: {e}"}
    return result


def _run_part(part: str, args, cfg, model, device, videos) -> Dict[str, Any]:
    if part == "model":
        return bench_model(model, cfg, device, args.repeats, args.warmup)
    if part == "tracker":
        return bench_tracker(cfg, model, device, videos)
    if part == "batched":
        return bench_batched(cfg, model, device, videos, max(1, args.batch), sequential=not args.no_sequential,
                             rounds=args.rounds)
    batch = args.train_batch or (int(cfg.TRAIN.BATCH_SIZE) if device.type == "cuda" else 4)
    if part == "train":
        return bench_train(cfg, device, batch, args.train_steps, warmup=min(1, args.warmup))
    return bench_data(cfg, batch, args.data_batches, args.frames, args.frame_size)


def format_table(result: Dict[str, Any]) -> str:
    """The figures as an aligned text table."""
    rows = []

    def add(what, value, unit, note=""):
        rows.append((what, f"{value:.2f}" if isinstance(value, float) else str(value), unit, note))

    for part in PARTS:
        if "error" in result.get(part, {}):
            add(part, "failed", "", result[part]["error"])
    if "tracker" in result and "error" not in result["tracker"]:
        t = result["tracker"]
        add("tracker (single stream)", t["fps_median"], "frames/s", f"median of {t['frames']} frames")
    if "batched" in result and "error" not in result["batched"]:
        b = result["batched"]
        add(f"batched engine (batch {b['batch']})", b["frames_per_s"], "frames/s", f"{b['videos']} videos")
        if "sequential_frames_per_s" in b:
            add("sequential runner", b["sequential_frames_per_s"], "frames/s",
                f"batched speed-up x{b['speedup']:.2f}")
    if "model" in result and "error" not in result["model"]:
        m = result["model"]
        add("model search pass", m["search_ms_median"], "ms", f"batch 1, {m['search_size']}px")
        add("model template pass", m["template_ms_median"], "ms")
    if "train" in result and "error" not in result["train"]:
        t = result["train"]
        add("training step", t["samples_per_s"], "samples/s", f"batch {t['batch']}, {t['method']}")
    if "data" in result and "error" not in result["data"]:
        d = result["data"]
        add("data loader", d["samples_per_s"], "samples/s", f"{d['workers']} worker(s)")
    head = f"{result['config']} on {result['device']} ({result['threads']} threads), options: " + \
        (", ".join(f"{k}={v}" for k, v in result["options"].items() if v and k != "compile_backend") or "exact fp32")
    width = max([len(r[0]) for r in rows] + [10])
    lines = [head, "-" * len(head)]
    lines += [f"{r[0]:<{width}}  {r[1]:>10}  {r[2]:<9}  {r[3]}".rstrip() for r in rows]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    code, result = guarded("benchmark", lambda: run_benchmark(args), extra=(RuntimeError,))
    if code:
        return code
    print(format_table(result))
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.json:
        from pysiam.results.files import atomic_write_text
        atomic_write_text(args.json, text + "\n")
    return 1 if any("error" in v for v in result.values() if isinstance(v, dict)) else 0


if __name__ == "__main__":
    sys.exit(main())
