"""Per-epoch learning-rate schedules of pysot (``TRAIN.LR`` and ``TRAIN.LR_WARMUP``).

A schedule is a plain array of one learning rate per epoch: the warmup curve over
``LR_WARMUP.EPOCH`` epochs, then the main curve over the remaining epochs. Each optimizer
parameter group keeps its own ``initial_lr`` (e.g. ``BASE_LR * LAYERS_LR`` for the backbone) and
runs at ``initial_lr * curve[epoch] / curve_start``, where ``curve_start`` is the main curve's
first value, as in pysot. pysot's recipe (warmup step 0.001 -> 0.005 over 5 epochs, then log
0.005 -> 0.0005 over 15) gives ``0.001 * 5 ** (i / 5)`` for i < 5: the warmup never reaches 0.005.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch

__all__ = ["LR_CURVES", "lr_curve", "EpochLR", "build_lr_schedule"]


def _log(epochs: int, start_lr: float = 0.03, end_lr: float = 5e-4, **_) -> np.ndarray:
    return np.logspace(math.log10(start_lr), math.log10(end_lr), epochs)


def _step(epochs: int, start_lr: Optional[float] = 0.01, end_lr: Optional[float] = None, step: int = 10,
          mult: float = 0.1, **_) -> np.ndarray:
    if end_lr is not None:
        if start_lr is None:
            start_lr = end_lr / (mult ** (epochs // step))
        else:  # warmup: geometric steps from start_lr towards end_lr (end_lr itself is not reached)
            mult = math.pow(end_lr / start_lr, 1.0 / (epochs // step))
    return start_lr * (mult ** (np.arange(epochs) // step))


def _multi_step(epochs: int, start_lr: Optional[float] = 0.01, end_lr: Optional[float] = None,
                steps: Sequence[int] = (10, 20, 30, 40), mult: float = 0.5, **_) -> np.ndarray:
    if end_lr is not None:
        if start_lr is None:
            start_lr = end_lr / (mult ** len(steps))
        else:
            mult = math.pow(end_lr / start_lr, 1.0 / len(steps))
    out = np.empty(epochs)
    lr = start_lr
    for i in range(epochs):
        if i in steps:
            lr *= mult
        out[i] = lr
    return out


def _linear(epochs: int, start_lr: float = 0.01, end_lr: float = 0.005, **_) -> np.ndarray:
    return np.linspace(start_lr, end_lr, epochs)


def _cos(epochs: int, start_lr: float = 0.01, end_lr: float = 0.005, **_) -> np.ndarray:
    i = np.arange(epochs, dtype=np.float64)
    return end_lr + (start_lr - end_lr) * (1.0 + np.cos(i * np.pi / epochs)) * 0.5


#: ``TRAIN.LR.TYPE`` -> curve(epochs, **KWARGS); defaults of the keyword arguments are pysot's
LR_CURVES: Dict[str, Callable[..., np.ndarray]] = {
    "log": _log, "step": _step, "multi-step": _multi_step, "linear": _linear, "cos": _cos,
}


def lr_curve(kind: str, epochs: int, **kwargs) -> np.ndarray:
    """One learning rate per epoch for a curve of type ``kind``."""
    if kind not in LR_CURVES:
        raise ValueError(f"unknown learning-rate schedule {kind!r}; known: {', '.join(LR_CURVES)}")
    return np.asarray(LR_CURVES[kind](int(epochs), **kwargs), dtype=np.float64)


class EpochLR:
    """Learning rate per epoch, applied to every parameter group relative to its ``initial_lr``."""

    def __init__(self, lrs: Sequence[float], start_lr: float):
        self.lrs = np.asarray(lrs, dtype=np.float64)
        if self.lrs.size == 0:
            raise ValueError("empty learning-rate schedule (TRAIN.EPOCH is 0?)")
        self.start_lr = float(start_lr)

    def lr(self, epoch: int) -> float:
        """The schedule's value at ``epoch`` (the last value beyond the end)."""
        return float(self.lrs[min(max(epoch, 0), len(self.lrs) - 1)])

    def factor(self, epoch: int) -> float:
        return self.lr(epoch) / self.start_lr

    def apply(self, optimizer: torch.optim.Optimizer, epoch: int) -> None:
        """Set every group's ``lr`` to ``initial_lr * factor(epoch)``."""
        f = self.factor(epoch)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = group["initial_lr"] * f

    def state_dict(self) -> dict:
        return {"lrs": self.lrs.tolist(), "start_lr": self.start_lr}

    def __repr__(self) -> str:
        return f"EpochLR({', '.join(f'{v:.6g}' for v in self.lrs)})"


def _kwargs(node) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dict(node.KWARGS).items()}


def build_lr_schedule(cfg, epochs: Optional[int] = None) -> EpochLR:
    """The schedule of ``cfg.TRAIN`` over ``epochs`` (default ``TRAIN.EPOCH``) epochs."""
    t = cfg.TRAIN
    epochs = int(t.EPOCH if epochs is None else epochs)
    if t.LR_WARMUP.WARMUP:
        warm = int(t.LR_WARMUP.EPOCH)
        if not 0 <= warm <= epochs:
            raise ValueError(f"TRAIN.LR_WARMUP.EPOCH {warm} must lie in [0, TRAIN.EPOCH = {epochs}]")
        head = lr_curve(t.LR_WARMUP.TYPE, warm, **_kwargs(t.LR_WARMUP)) if warm else np.zeros(0)
        main = lr_curve(t.LR.TYPE, epochs - warm, **_kwargs(t.LR))
        start = main[0] if main.size else lr_curve(t.LR.TYPE, 1, **_kwargs(t.LR))[0]
        return EpochLR(np.concatenate([head, main]), start)
    main = lr_curve(t.LR.TYPE, epochs, **_kwargs(t.LR))
    return EpochLR(main, main[0])
