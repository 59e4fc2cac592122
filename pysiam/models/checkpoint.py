"""Checkpoint reading, loading, saving and conversion.

* :func:`load_checkpoint` loads whole-model weights: a bare state dict or one under
  ``'state_dict'`` / ``'model'``, keys optionally prefixed ``module.`` (DDP). Checkpoints of the
  original SiamMask repository (``SiamMask_VOT.pth``, ``SiamMask_DAVIS.pth``) are recognised by
  their key prefixes and renamed to pysot's layout (:data:`SIAMMASK_PREFIXES`).
* :func:`load_pretrained_backbone` loads ImageNet weights (torchvision or pysot naming) into a
  backbone, converting torchvision's 1x1 shortcut convs to the atrous ResNet's 3x3 ones.
* :func:`save_checkpoint` writes ``{'state_dict': ..., **extra}`` atomically.

Files are read with ``torch.load(weights_only=True)``; an old pickle that needs more falls back
to a full unpickle with a warning (only load files you trust), unless ``allow_pickle=False``.
"""
from __future__ import annotations

import logging
import os
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple, Union

import torch
from torch import nn

from pysiam.utils.atomic import atomic_path

__all__ = ["CheckpointError", "LoadReport", "read_state_dict", "load_checkpoint", "save_checkpoint",
           "convert_siammask_state_dict", "is_siammask_original", "load_pretrained_backbone",
           "SIAMMASK_PREFIXES", "atrous_shortcut_from_1x1"]

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

#: key-prefix renaming from the original SiamMask ``Custom`` model to pysot's ``siammask_r50_l3``
SIAMMASK_PREFIXES: Tuple[Tuple[str, str], ...] = (
    ("features.features.", "backbone."),
    ("features.downsample.", "neck.downsample."),
    ("rpn_model.", "rpn_head."),
    ("mask_model.mask.", "mask_head."),
    ("refine_model.", "refine_head."),
)
_DDP_PREFIX = "module."
_NBT = "num_batches_tracked"


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, or does not fit the model; the message says why."""


@dataclass
class LoadReport:
    """What :func:`load_checkpoint` / :func:`load_pretrained_backbone` did."""

    source: str
    loaded: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)       # model keys the file lacks (not num_batches_tracked)
    unexpected: List[str] = field(default_factory=list)    # file keys the model lacks
    converted: List[str] = field(default_factory=list)     # conversions applied, in words
    extra: Dict[str, Any] = field(default_factory=dict)    # other top-level entries (epoch, cfg, ...)

    @property
    def complete(self) -> bool:
        """True when every model key was loaded and no file key was left over."""
        return not self.missing and not self.unexpected

    def __str__(self) -> str:
        parts = [f"{self.source}: loaded {len(self.loaded)} keys"]
        if self.converted:
            parts.append("converted: " + "; ".join(self.converted))
        if self.missing:
            parts.append(f"missing {len(self.missing)}: {_preview(self.missing)}")
        if self.unexpected:
            parts.append(f"unexpected {len(self.unexpected)}: {_preview(self.unexpected)}")
        return ", ".join(parts)


def _preview(keys: List[str], n: int = 8) -> str:
    return ", ".join(keys[:n]) + (f", ... ({len(keys) - n} more)" if len(keys) > n else "")


# -- reading ---------------------------------------------------------------------------------
def _torch_load(path: Path, allow_pickle: bool) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - the restricted unpickler raises many kinds
        needs_pickle = isinstance(e, pickle.UnpicklingError) and "weights only" in str(e).lower()
        if not (allow_pickle and needs_pickle):
            raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: "
                                  f"{_first_line(e)})") from None
        first_error = e
    warnings.warn(f"{path}: cannot be read with torch.load(weights_only=True) "
                  f"({_first_line(first_error)}); falling back to a full unpickle - only do this "
                  f"for files you trust", stacklevel=4)
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - any failure means "not a checkpoint"
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: "
                              f"{_first_line(e)})") from None


def _first_line(e: BaseException) -> str:
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
    telling = [ln for ln in lines if "Unsupported global" in ln]  # the useful part of torch's message
    text = telling or lines
    return text[0][:200] if text else ""


def _strip_prefix(state: Mapping[str, Any], prefix: str) -> Dict[str, Any]:
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix):]: v for k, v in state.items()}
    return {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in state.items()}


def _unwrap_checkpoint(obj: Any, source: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, Any]]:
    """(state dict with 'module.' stripped, the other top-level entries)."""
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{source}: not a checkpoint: expected a dict of tensors, got "
                              f"{type(obj).__name__}")
    extra: Dict[str, Any] = {}
    for wrapper in ("state_dict", "model"):
        if isinstance(obj.get(wrapper), Mapping):
            extra = {k: v for k, v in obj.items() if k != wrapper}
            obj = obj[wrapper]
            break
    if not obj:
        raise CheckpointError(f"{source}: not a checkpoint: the state dict is empty")
    for k, v in obj.items():
        if not isinstance(k, str) or not isinstance(v, torch.Tensor):
            raise CheckpointError(f"{source}: not a checkpoint: entry {k!r} is a {type(v).__name__}, "
                                  f"not a tensor (and there is no 'state_dict' or 'model' entry)")
    return _strip_prefix(obj, _DDP_PREFIX), extra


def _state_from(path: Any, allow_pickle: bool) -> Tuple[str, Dict[str, torch.Tensor], Dict[str, Any]]:
    """(source name, state dict, extra entries) of a checkpoint file or an already loaded dict."""
    if isinstance(path, Mapping):
        return ("<state dict>",) + _unwrap_checkpoint(path, "<state dict>")
    return (str(path),) + read_state_dict(path, allow_pickle)


def read_state_dict(path: PathLike, allow_pickle: bool = True) -> Tuple[Dict[str, torch.Tensor], Dict[str, Any]]:
    """Read a checkpoint file: (state dict on CPU without 'module.' prefixes, other top-level entries)."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint file not found: {p}")
    return _unwrap_checkpoint(_torch_load(p, allow_pickle), str(p))


# -- SiamMask conversion ---------------------------------------------------------------------
def is_siammask_original(state: Mapping[str, Any]) -> bool:
    """True for a state dict in the original SiamMask repository's layout."""
    return any(k.startswith(("features.features.", "rpn_model.", "mask_model.", "refine_model."))
               for k in state)


def convert_siammask_state_dict(state: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Rename the original SiamMask layout to pysot's/pysiam's ``siammask_r50_l3`` layout.

    A pure rename of the leading prefix (:data:`SIAMMASK_PREFIXES`); shapes do not change. A key
    matching no prefix raises :class:`CheckpointError`.
    """
    out: Dict[str, torch.Tensor] = {}
    for key, value in _strip_prefix(state, _DDP_PREFIX).items():
        for old, new in SIAMMASK_PREFIXES:
            if key.startswith(old):
                out[new + key[len(old):]] = value
                break
        else:
            raise CheckpointError(f"SiamMask conversion: key {key!r} has none of the known prefixes "
                                  f"{[o for o, _ in SIAMMASK_PREFIXES]}")
    return out


# -- loading ---------------------------------------------------------------------------------
def _bare(model: nn.Module) -> nn.Module:
    return model.module if isinstance(getattr(model, "module", None), nn.Module) else model


def _match(model: nn.Module, state: Dict[str, torch.Tensor], source: str,
           report: LoadReport) -> Dict[str, torch.Tensor]:
    """Fill the report's key lists; raise on shape mismatches; return the loadable subset."""
    own = model.state_dict()
    bad = [f"{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}"
           for k, v in state.items() if k in own and v.shape != own[k].shape]
    if bad:
        raise CheckpointError(f"{source}: shape mismatch for {len(bad)} key(s): {_preview(bad, 5)}")
    report.loaded = [k for k in state if k in own]
    report.unexpected = [k for k in state if k not in own]
    report.missing = [k for k in own if k not in state and not k.endswith(_NBT)]
    if not report.loaded:
        raise CheckpointError(f"{source}: no key of the file matches the model (file keys like "
                              f"{_preview(list(state), 3)}; model keys like {_preview(list(own), 3)})")
    return {k: state[k] for k in report.loaded}


def load_checkpoint(model: nn.Module, path: Union[PathLike, Mapping[str, Any]], strict: bool = True,
                    allow_pickle: bool = True) -> LoadReport:
    """Load whole-model weights into ``model`` (a DDP wrapper is looked through).

    ``path`` is a file or an already loaded checkpoint dict. Missing ``num_batches_tracked``
    buffers are ignored. ``strict=True`` raises :class:`CheckpointError` on any other missing
    or unexpected key; ``strict=False`` loads the matching keys and logs the rest. Shape
    mismatches always raise. Returns a :class:`LoadReport`.
    """
    model = _bare(model)
    source, state, extra = _state_from(path, allow_pickle)
    report = LoadReport(source=source, extra=extra)
    if is_siammask_original(state):
        state = convert_siammask_state_dict(state)
        report.converted.append("original SiamMask key layout renamed to pysot's")
    subset = _match(model, state, source, report)
    if strict and not report.complete:
        problems = [f"missing {len(report.missing)}: {_preview(report.missing)}" if report.missing else "",
                    f"unexpected {len(report.unexpected)}: {_preview(report.unexpected)}" if report.unexpected else ""]
        raise CheckpointError(f"{source}: checkpoint does not fit the model (strict): "
                              + ", ".join(p for p in problems if p))
    model.load_state_dict(subset, strict=False)
    (logger.info if report.complete else logger.warning)("%s", report)
    return report


def atrous_shortcut_from_1x1(weight: torch.Tensor, kernel_size: int = 3) -> torch.Tensor:
    """Embed a 1x1 conv kernel (O, I, 1, 1) at the centre of a zero (O, I, k, k) kernel.

    For the dilated stages (stride 1, padding = dilation) the result computes exactly what the 1x1
    conv did. For layer2's strided, unpadded 3x3 shortcut the centre tap reads input pixel
    ``2*i + 1`` instead of ``2*i``: the shortcut then samples the same pixels as the block's main
    strided 3x3 conv, whose centre is also ``2*i + 1``.
    """
    if weight.dim() != 4 or weight.shape[2:] != (1, 1):
        raise ValueError(f"expected a 1x1 conv kernel, got shape {tuple(weight.shape)}")
    out = weight.new_zeros(weight.shape[0], weight.shape[1], kernel_size, kernel_size)
    c = kernel_size // 2
    out[:, :, c, c] = weight[:, :, 0, 0]
    return out


def load_pretrained_backbone(backbone: nn.Module, path: Union[PathLike, Mapping[str, Any]],
                             allow_pickle: bool = True) -> LoadReport:
    """Load ImageNet weights into ``backbone`` by name (torchvision or pysot naming).

    Accepts a bare state dict or a wrapped one, with ``module.``, ``backbone.`` (a whole-model
    checkpoint) or without a prefix; pysot's legacy AlexNet files without the ``features.``
    prefix are matched too. Shortcut convs stored as 1x1 (torchvision's ResNet) where the model
    has 3x3 ones are converted with :func:`atrous_shortcut_from_1x1`. Keys the backbone lacks
    (``fc.*``, stages not built) are reported as unexpected, not errors; shape mismatches raise.
    """
    backbone = _bare(backbone)
    source, state, extra = _state_from(path, allow_pickle)
    report = LoadReport(source=source, extra=extra)
    own = backbone.state_dict()
    if any(k.startswith("backbone.") for k in state):
        state = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
        report.converted.append("took the 'backbone.' entries of a whole-model checkpoint")
    if not any(k in own for k in state) and any(("features." + k) in own for k in state):
        state = {"features." + k: v for k, v in state.items()}
        report.converted.append("added the 'features.' prefix")
    n_conv = 0
    for k, v in list(state.items()):
        target = own.get(k)
        if (target is not None and k.endswith("downsample.0.weight") and v.dim() == 4
                and v.shape[2:] == (1, 1) and target.shape[2:] != (1, 1)
                and v.shape[:2] == target.shape[:2]):
            state[k] = atrous_shortcut_from_1x1(v, target.shape[2])
            n_conv += 1
    if n_conv:
        report.converted.append(f"{n_conv} 1x1 shortcut conv(s) embedded at the centre of 3x3 kernels")
    subset = _match(backbone, state, source, report)
    backbone.load_state_dict(subset, strict=False)
    logger.info("backbone weights %s", report)
    return report


# -- saving ----------------------------------------------------------------------------------
def save_checkpoint(path: PathLike, model_or_state: Union[nn.Module, Mapping[str, torch.Tensor]],
                    **extra: Any) -> Path:
    """Write ``{'state_dict': ..., **extra}`` to ``path`` atomically (temporary file + rename).

    A model (or DDP wrapper) is saved through its state dict, without the ``module.`` prefix.
    Keep ``extra`` to plain types and tensors (e.g. ``epoch=3``, ``optimizer=opt.state_dict()``,
    ``cfg=cfg.dump()``) so the file stays loadable with ``weights_only=True``.
    """
    if "state_dict" in extra:
        raise ValueError("pass the weights as model_or_state, not as state_dict=")
    state = _bare(model_or_state).state_dict() if isinstance(model_or_state, nn.Module) else dict(model_or_state)
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save({"state_dict": state, **extra}, tmp)
    return path
