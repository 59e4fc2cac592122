"""Training checkpoints: self-describing, written atomically, enough to resume exactly.

``<SNAPSHOT_DIR>/checkpoint_e<N>.pth`` is written after epoch N (pysot's name) and holds
``state_dict`` (the model, loadable by ``tools/test.py`` like any pysot snapshot), ``optimizer``,
``scaler`` (fp16), ``scheduler`` (the per-epoch learning rates), ``epoch`` (= N, the epochs done),
``rng`` (Python / NumPy / torch generator states of rank 0), ``cfg`` (the merged config as YAML),
``stage`` and ``git``. Everything is plain types and tensors, so ``torch.load(weights_only=True)``
reads it.
"""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from pysiam.models.checkpoint import load_checkpoint, read_state_dict, save_checkpoint

__all__ = ["checkpoint_path", "latest_checkpoint", "checkpoints_newest_first", "save_training_checkpoint", "load_training_checkpoint",
           "apply_training_state", "capture_rng", "restore_rng"]

_NAME = re.compile(r"^checkpoint_e(\d+)\.pth$")


def checkpoint_path(snapshot_dir, epoch: int) -> Path:
    return Path(snapshot_dir) / f"checkpoint_e{int(epoch)}.pth"


def checkpoints_newest_first(snapshot_dir) -> List[Path]:
    """The ``checkpoint_e<N>.pth`` files of ``snapshot_dir``, largest N first."""
    d = Path(snapshot_dir)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in d.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def latest_checkpoint(snapshot_dir) -> Optional[Path]:
    """The ``checkpoint_e<N>.pth`` with the largest N in ``snapshot_dir`` (None if there is none)."""
    found = checkpoints_newest_first(snapshot_dir)
    return found[0] if found else None


def capture_rng() -> Dict[str, Any]:
    """Generator states of Python, NumPy (legacy global) and torch (CPU, and CUDA when present)."""
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {"key": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng`."""
    if "python" in state:
        py = state["python"]
        random.setstate((py[0], tuple(py[1]), py[2]))
    if "numpy" in state:
        n = state["numpy"]
        np.random.set_state(("MT19937", n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                             n["cached_gaussian"]))
    if "torch" in state:
        torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_training_checkpoint(path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, epoch: int,
                             cfg=None, scheduler=None, scaler=None, **extra: Any) -> Path:
    """Write the training state after ``epoch`` epochs to ``path`` (temporary file + rename)."""
    state = dict(optimizer=optimizer.state_dict(), epoch=int(epoch), rng=capture_rng(), **extra)
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if scaler is not None and scaler.is_enabled():
        state["scaler"] = scaler.state_dict()
    if cfg is not None:
        state["cfg"] = cfg.dump()
    return save_checkpoint(path, model, **state)


def load_training_checkpoint(path, model: torch.nn.Module, optimizer: Optional[torch.optim.Optimizer] = None,
                             scaler=None, restore_random: bool = True) -> Dict[str, Any]:
    """Load a checkpoint written by :func:`save_training_checkpoint` into ``model`` / ``optimizer``.

    Returns the other entries (``epoch``, ``cfg``, ...). The model must match exactly.
    """
    state, extra = read_state_dict(path, allow_pickle=False)
    apply_training_state(path, state, extra, model, optimizer, scaler, restore_random)
    return extra


def apply_training_state(path, state: Dict[str, torch.Tensor], extra: Dict[str, Any], model: torch.nn.Module,
                         optimizer: Optional[torch.optim.Optimizer] = None, scaler=None,
                         restore_random: bool = True) -> None:
    """Put an already read checkpoint (``state``, ``extra`` of ``path``) into model / optimizer / scaler."""
    load_checkpoint(model, {"state_dict": state}, strict=True)
    if optimizer is not None:
        if "optimizer" not in extra:
            raise ValueError(f"{path}: no optimizer state: not a training checkpoint (use TRAIN.PRETRAINED "
                             f"to start from weights only)")
        optimizer.load_state_dict(extra["optimizer"])
    if scaler is not None and "scaler" in extra:
        scaler.load_state_dict(extra["scaler"])
    if restore_random and "rng" in extra:
        restore_rng(extra["rng"])
