"""The training loop: one process on CPU / one GPU, or one process per GPU under torchrun (DDP).

Reads top to bottom: set-up, then per epoch a few named steps (:func:`begin_epoch`: trainable
parts, backbone unfreeze, learning rate, DDP wrapper, BatchNorm modes), the iterations, and a
checkpoint. ``resume=True`` continues from the newest checkpoint of the run (or
``TRAIN.RESUME``): weights, optimizer (momentum), scaler, epoch and random states come back, and
the data of every epoch is a pure function of (seed, epoch), so the continued run matches an
uninterrupted one. The config is read once, into :class:`~pysiam.training.settings.TrainSettings`
and the builders (model, family, data, schedule); the box losses and labels are the head family's.

A run folder that already holds a run is refused unless ``resume`` or ``overwrite``; a resume
checks that the checkpoint's config matches, and falls back from an unreadable newest checkpoint
to the one before (:mod:`pysiam.training.resume`); ``config.yaml`` / ``env.json`` are written once
the start (or resume) succeeded.
"""
from __future__ import annotations

import logging
import math
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from pysiam.data.sampler import EpochSampler
from pysiam.data.train_dataset import build_train_dataset
from pysiam.families import build_family
from pysiam.models import build_model, load_checkpoint

from .checkpoint import apply_training_state, checkpoint_path, latest_checkpoint, save_training_checkpoint
from .distributed import DistInfo, all_reduce_mean, barrier, cleanup_distributed, init_distributed
from .events import MetricLogger, pair_grid
from .forward import TrainingModel
from .losses import total_loss
from .lr import EpochLR, build_lr_schedule
from .optim import apply_trainable, build_optimizer, set_train_modes
from .resume import check_same_run, find_resume_checkpoint, prepare_run_dir
from .run_dir import inside_run_dir, resolve_run_dir, write_run_info
from .settings import TrainableSettings, TrainSettings

__all__ = ["train", "TrainResult", "seed_everything", "amp_settings"]

logger = logging.getLogger(__name__)

_MAX_VALID_LOSS = 1e4   # pysot skips steps whose loss is not finite or above this
_CPU_KEYS = ("bbox", "template_bbox", "neg")


@dataclass
class TrainResult:
    """What a finished (or already complete) run reports."""

    run_dir: Path
    checkpoint: Optional[Path]
    epochs: int                    # epochs done
    iterations: int
    last: Dict[str, float] = field(default_factory=dict)   # means over the last logged window
    seconds: float = 0.0
    model: Optional[nn.Module] = None                       # the trained network (this process's copy)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


def amp_settings(amp: str, device: torch.device):
    """(autocast dtype or None, GradScaler) for ``TrainSettings.amp`` ('none', 'bf16', 'fp16')."""
    dtype = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]
    scaler = torch.amp.GradScaler(device.type, enabled=dtype is torch.float16)
    return dtype, scaler


def _check_weight_files(s: TrainSettings) -> None:
    """The weight files the start needs exist (one-line errors saying what to do)."""
    if s.backbone_pretrained and not Path(s.backbone_pretrained).is_file():
        raise FileNotFoundError(f"BACKBONE.PRETRAINED: ImageNet weights not found: {s.backbone_pretrained} "
                                f"(download them there, see the README's training section, or pass "
                                f"BACKBONE.PRETRAINED '' to train the backbone from scratch)")
    if s.pretrained and not Path(s.pretrained).is_file():
        raise FileNotFoundError(f"TRAIN.PRETRAINED: weights not found: {s.pretrained} (train the previous "
                                f"stage first, or pass TRAIN.PRETRAINED '')")


def _load_initial_weights(model: nn.Module, path: str) -> None:
    """TRAIN.PRETRAINED: whole-model weights to start from (e.g. the previous SiamMask stage)."""
    if path:
        report = load_checkpoint(model, path, strict=False)
        logger.info("initial weights: %s", report)


def _worker_init(_: int) -> None:
    """Data workers: one OpenCV / torch thread each (the pairs are independent of workers anyway)."""
    import cv2
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def _to_device(batch: Dict[str, torch.Tensor], device: torch.device) -> Dict[str, torch.Tensor]:
    return {k: (v if k in _CPU_KEYS else v.to(device, non_blocking=True)) for k, v in batch.items()}


# -- the scheduled events, one named step each ----------------------------------------------------
def begin_epoch(epoch: int, model: nn.Module, train_model: TrainingModel, optimizer, schedule: EpochLR,
                trainable: TrainableSettings, dist: DistInfo, wrapped: Optional[nn.Module]) -> nn.Module:
    """Trainable parts, backbone unfreeze, learning rate, the (DDP) wrapper and BatchNorm modes."""
    unfreeze_now = trainable.unfreezes_at(epoch)
    apply_trainable(model, trainable, epoch)
    if unfreeze_now:
        logger.info("epoch %d: backbone layers %s start training (lr x %g)", epoch + 1,
                    list(trainable.train_layers), trainable.layers_lr)
        if trainable.reset_momentum:
            optimizer.state.clear()   # pysot's optimizer rebuild: momentum starts from zero
    schedule.apply(optimizer, epoch)
    if dist.world_size > 1 and (wrapped is None or unfreeze_now):
        # DDP records which parameters need gradients when it is built: rebuild when that changes
        device_ids = [dist.device.index] if dist.device.type == "cuda" else None
        wrapped = DistributedDataParallel(train_model, device_ids=device_ids, find_unused_parameters=True)
    elif wrapped is None:
        wrapped = train_model
    set_train_modes(model, trainable, epoch)
    return wrapped


def optimizer_step(total: torch.Tensor, optimizer, scaler, params: Sequence[torch.nn.Parameter],
                   grad_clip: float, valid: bool) -> float:
    """Backward, unscale, clip, step; the step is skipped (gradients dropped) when not ``valid``.

    Returns the gradient norm before clipping. Every process runs the backward pass (DDP
    averages gradients there), so the skip decision, made on averaged values, is the same everywhere.
    """
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(total).backward()
    scaler.unscale_(optimizer)
    with_grad = [p for p in params if p.grad is not None]
    norm = torch.nn.utils.clip_grad_norm_(with_grad, grad_clip if grad_clip > 0 else float("inf"))
    norm = float(norm)
    if valid and math.isfinite(norm):
        scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    return norm


class _Window:
    """Running means of logged values over the last print period."""

    def __init__(self):
        self.sums: Dict[str, float] = {}
        self.count = 0

    def add(self, values: Dict[str, float]) -> None:
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v)
        self.count += 1

    def means(self) -> Dict[str, float]:
        return {k: v / max(self.count, 1) for k, v in self.sums.items()}

    def reset(self) -> None:
        self.sums, self.count = {}, 0


def _build_loader(cfg, s: TrainSettings, dist: DistInfo):
    dataset = build_train_dataset(cfg)
    sampler = EpochSampler(len(dataset), s.batch_size, dist.rank, dist.world_size)
    loader = DataLoader(dataset, batch_size=s.batch_size, sampler=sampler, drop_last=True,
                        num_workers=s.workers, pin_memory=dist.device.type == "cuda",
                        persistent_workers=s.workers > 0, worker_init_fn=_worker_init if s.workers > 0 else None)
    return loader, sampler


@dataclass
class _Loop:
    """What the iterations of an epoch need (built once in :func:`train`)."""

    settings: TrainSettings
    loader: DataLoader
    optimizer: torch.optim.Optimizer
    scaler: Any
    weights: Dict[str, float]
    device: torch.device
    autocast: Any
    events: MetricLogger
    bar: Any
    main: bool
    window: _Window = field(default_factory=_Window)
    step: int = 0
    last: Dict[str, float] = field(default_factory=dict)


def run_epoch(loop: _Loop, wrapped: nn.Module, epoch: int) -> None:
    """The iterations of one epoch: forward, weighted loss, step, logging."""
    s = loop.settings
    params = [p for g in loop.optimizer.param_groups for p in g["params"]]
    iters = len(loop.loader)
    t_iter = time.time()
    for it, batch in enumerate(loop.loader):
        data_time = time.time() - t_iter
        with loop.autocast:
            losses, metrics = wrapped(_to_device(batch, loop.device))
        total = total_loss(losses, loop.weights)
        values = {f"loss/{k}": float(v.detach()) for k, v in losses.items()}
        values["loss/total"] = float(total.detach())
        values.update({f"metric/{k}": float(v) for k, v in metrics.items()})
        values = all_reduce_mean(values, loop.device)   # the same numbers (and decision) everywhere
        valid = math.isfinite(values["loss/total"]) and values["loss/total"] < _MAX_VALID_LOSS
        grad_norm = optimizer_step(total, loop.optimizer, loop.scaler, params, s.grad_clip, valid)
        loop.step += 1
        values.update({"grad_norm": grad_norm, "time/data": data_time, "time/batch": time.time() - t_iter,
                       "skipped": float(not valid)})
        loop.window.add(values)
        if loop.main and (loop.step % s.print_freq == 0 or it == iters - 1):
            loop.last = loop.window.means()
            lrs = {f"lr/{g.get('name', i)}": g["lr"] for i, g in enumerate(loop.optimizer.param_groups)}
            loop.events.log(loop.step, {**loop.last, **lrs}, epoch=epoch + 1)
            loop.window.reset()
        if loop.main and s.image_freq > 0 and (loop.step - 1) % s.image_freq == 0:
            loop.events.log_image(loop.step, "pairs", pair_grid({k: v.numpy() for k, v in batch.items()}))
        if loop.bar is not None:
            loop.bar.update(1)
            loop.bar.set_postfix(epoch=epoch + 1, loss=f"{values['loss/total']:.3f}",
                                 lr=f"{loop.optimizer.param_groups[-1]['lr']:.2e}", refresh=False)
        t_iter = time.time()


def _start(cfg, s: TrainSettings, run_dir: Path, snapshot_dir: Path, resume: bool, overwrite: bool,
           dist: DistInfo):
    """Run-folder checks, the checkpoint to resume from (checked), the model, optimizer and scaler."""
    prepare_run_dir(run_dir, snapshot_dir, inside_run_dir(run_dir, s.log_dir), resume or bool(s.resume),
                    overwrite, main=dist.rank == 0)
    barrier()
    point = find_resume_checkpoint(snapshot_dir, s.resume, resume)
    if point is not None:
        check_same_run(point, cfg)
    else:
        _check_weight_files(s)
    seed_everything(s.seed)
    model = build_model(cfg, load_backbone_weights=point is None).to(dist.device)
    if point is None:
        _load_initial_weights(model, s.pretrained)
    if s.stage == "refine" and not (s.pretrained or point):
        logger.warning("TRAIN.STAGE refine without TRAIN.PRETRAINED: the frozen backbone, neck and RPN "
                       "keep their initial weights")
    optimizer = build_optimizer(model, s.trainable)
    amp_dtype, scaler = amp_settings(s.amp, dist.device)
    start_epoch = s.start_epoch
    if point is not None:
        apply_training_state(point.path, point.state, point.extra, model, optimizer, scaler,
                             restore_random=dist.rank == 0)
        start_epoch = int(point.extra["epoch"])
        logger.info("resumed from %s at epoch %d", point.path, start_epoch)
    return point, model, optimizer, amp_dtype, scaler, start_epoch


def _run_epochs(cfg, s: TrainSettings, epochs: range, model: nn.Module, train_model, optimizer, schedule, scaler,
                loop: "_Loop", sampler, dist, snapshot_dir: Path, ckpt: Optional[Path]) -> Optional[Path]:
    """Train ``epochs``, a checkpoint after each (rank 0); the last checkpoint written (or ``ckpt``)."""
    wrapped: Optional[nn.Module] = None
    main = dist.rank == 0
    try:
        for epoch in epochs:
            wrapped = begin_epoch(epoch, model, train_model, optimizer, schedule, s.trainable, dist, wrapped)
            sampler.set_epoch(epoch)
            run_epoch(loop, wrapped, epoch)
            if main:
                ckpt = save_training_checkpoint(checkpoint_path(snapshot_dir, epoch + 1), model, optimizer,
                                                epoch + 1, cfg, scheduler=schedule, scaler=scaler, stage=s.stage)
                loop.events.flush()
            barrier()
    finally:
        if loop.bar is not None:
            loop.bar.close()
        loop.events.close()
    return ckpt


def train(cfg, resume: bool = False, config_name: str = "", argv: Optional[Sequence[str]] = None,
          progress: bool = True, stop_after_epoch: Optional[int] = None, overwrite: bool = False) -> TrainResult:
    """Train the model of ``cfg``; see the module docstring.

    ``stop_after_epoch`` ends the run early after that epoch's checkpoint (the schedule still
    spans ``TRAIN.EPOCH``), as an interruption would; ``resume=True`` then continues it.
    ``overwrite=True`` replaces a previous run in the run folder (refused otherwise).
    """
    t_start = time.time()
    s = TrainSettings.from_config(cfg)
    family = build_family(cfg)
    dist = init_distributed(cfg)
    main = dist.rank == 0
    run_dir = resolve_run_dir(cfg, config_name)
    snapshot_dir = inside_run_dir(run_dir, s.snapshot_dir)

    # -- where to start, model, optimizer, schedule ------------------------------------------------
    point, model, optimizer, amp_dtype, scaler, start_epoch = _start(cfg, s, run_dir, snapshot_dir, resume,
                                                                     overwrite, dist)
    train_model = TrainingModel(model, family.training_losses(), s.stage, stride=s.mask_stride,
                                mask_window=s.mask_window)
    schedule = build_lr_schedule(cfg)
    if not main:
        seed_everything(s.seed + 1000 * dist.rank + start_epoch)

    # -- data and logging ----------------------------------------------------------------------------
    loader, sampler = _build_loader(cfg, s, dist)
    if main:   # only now that the start (or resume) succeeded
        write_run_info(run_dir, cfg, argv, dist.world_size, str(point.path) if point else None)
    iters = sampler.iters_per_epoch
    last_epoch = s.epochs if stop_after_epoch is None else min(s.epochs, int(stop_after_epoch))
    bar = None
    if main and progress:
        from tqdm import tqdm
        bar = tqdm(total=s.epochs * iters, initial=start_epoch * iters, unit="it", dynamic_ncols=True,
                   desc=f"train {s.stage}")
    loop = _Loop(s, loader, optimizer, scaler, s.weights.for_stage(s.stage), dist.device,
                 torch.autocast(dist.device.type, dtype=amp_dtype) if amp_dtype is not None else nullcontext(),
                 MetricLogger(run_dir, inside_run_dir(run_dir, s.log_dir), enabled=main), bar, main,
                 step=start_epoch * iters)
    logger.info("training %s (%s family) for epochs %d..%d, %d iterations of %d x %d pairs each, on %s",
                s.stage, family.name, start_epoch + 1, s.epochs, iters, s.batch_size, dist.world_size, dist.device)

    ckpt = _run_epochs(cfg, s, range(start_epoch, last_epoch), model, train_model, optimizer, schedule,
                       scaler, loop, sampler, dist, snapshot_dir, point.path if point else None)
    result = TrainResult(run_dir, ckpt or latest_checkpoint(snapshot_dir), max(start_epoch, last_epoch),
                         loop.step, loop.last, time.time() - t_start, model)
    cleanup_distributed(dist)
    return result
