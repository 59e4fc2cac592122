"""Distributed helpers: torchrun's environment, DDP, and fall-backs for a single process.

``torchrun --nproc_per_node N tools/train.py ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; :func:`init_distributed` reads them and starts the process group (NCCL on GPUs,
gloo on CPU). Without them everything runs as one process and the helpers below do nothing.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, Optional

import torch
import torch.distributed as dist

__all__ = ["DistInfo", "init_distributed", "is_distributed", "get_rank", "get_world_size",
           "is_main_process", "barrier", "all_reduce_mean", "broadcast_object", "cleanup_distributed",
           "select_device"]


@dataclass(frozen=True)
class DistInfo:
    """Rank, world size, local rank (GPU index on this machine) and the device of this process."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    owns_group: bool = False   # True when init_distributed started the process group


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def get_rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def get_world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    return get_rank() == 0


def select_device(cfg, local_rank: int = 0) -> torch.device:
    """``cfg.DEVICE`` if set, else ``cuda:<local_rank>`` when ``cfg.CUDA`` and a GPU exist, else CPU."""
    want = str(cfg.DEVICE or "")
    if want:
        dev = torch.device(want)
        if dev.type == "cuda" and dev.index is None:
            dev = torch.device("cuda", local_rank)
        return dev
    if cfg.CUDA and torch.cuda.is_available():
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def init_distributed(cfg, backend: Optional[str] = None) -> DistInfo:
    """Start the process group when torchrun's variables say WORLD_SIZE > 1; pick the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = select_device(cfg, local_rank)
    owns = False
    if world > 1 and not is_distributed():
        backend = backend or str(cfg.TRAIN.DIST_BACKEND or "") or (
            "nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
        owns = True
    if is_distributed():
        rank, world = dist.get_rank(), dist.get_world_size()
    return DistInfo(rank, world, local_rank, device, owns)


def cleanup_distributed(info: Optional[DistInfo] = None) -> None:
    """End the process group (only the one :func:`init_distributed` started, when ``info`` is given)."""
    if is_distributed() and (info is None or info.owns_group):
        dist.destroy_process_group()


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def all_reduce_mean(values: Dict[str, float], device: torch.device) -> Dict[str, float]:
    """The mean over processes of each value (the values themselves in a single process)."""
    if not is_distributed() or not values:
        return dict(values)
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    t /= get_world_size()
    return dict(zip(keys, t.tolist()))


def broadcast_object(obj, src: int = 0):
    """``obj`` of process ``src`` on every process."""
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]
