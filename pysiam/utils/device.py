"""Choosing the torch device from an explicit argument or the config (``DEVICE``, ``CUDA``)."""
from __future__ import annotations

from typing import Any, Optional, Union

import torch

DeviceLike = Union[str, torch.device, None]


def resolve_device(device: DeviceLike = None, cfg: Any = None) -> torch.device:
    """The device to run on.

    Order: an explicit ``device`` ('cpu', 'cuda', 'cuda:1', a torch.device), then ``cfg.DEVICE``;
    when both are empty, CUDA if ``cfg.CUDA`` (default True) allows it and a GPU exists, else CPU.
    Asking for CUDA explicitly on a machine without it is an error.
    """
    spec = device
    if spec in (None, "") and cfg is not None:
        spec = getattr(cfg, "DEVICE", "") or None
    if spec in (None, ""):
        want_cuda = bool(getattr(cfg, "CUDA", True)) if cfg is not None else True
        return torch.device("cuda" if want_cuda and torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(spec)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"invalid device {spec!r}: {e}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {spec!r} requested but CUDA is not available (use 'cpu' or '')")
    return dev


def model_device(model: Any) -> Optional[torch.device]:
    """Device of a module's first parameter or buffer (None for objects without any)."""
    for getter in ("parameters", "buffers"):
        fn = getattr(model, getter, None)
        if fn is None:
            continue
        for t in fn():
            return t.device
    return None
