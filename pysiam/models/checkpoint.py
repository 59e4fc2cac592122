"""Checkpoint reading, loading, saving and conversion.

* :func:`load_checkpoint` loads whole-model weights: a bare state dict or one under
  ``'state_dict'`` / ``'model'``, keys optionally prefixed ``module.`` (DDP). Checkpoints of the
  original SiamMask repository (``SiamMask_VOT.pth``, ``SiamMask_DAVIS.pth``) are recognised by
  their key prefixes and renamed to pysot's layout (:data:`SIAMMASK_PREFIXES`).
* :func:`load_pretrained_backbone` loads ImageNet weights (torchvision or pysot naming) into a
  backbone, converting torchvision's 1x1 shortcut convs to the atrous ResNet's 3x3 ones.
* :func:`save_checkpoint` writes ``{'state_dict': ..., **extra}`` atomically.

Files are read SAFELY (:mod:`pysiam.models.safe_load`): ``torch.load(weights_only=True)`` with
an allow-list (:data:`SAFE_GLOBALS`, a ``torch.serialization.safe_globals`` context, never
registered globally) of the harmless globals that real checkpoints carry: numpy's scalar
constructor and dtype classes (NanoTrack's and pysot's training checkpoints pickle numpy
scalars). A file that needs any other global (a class, ``os.system``, ``builtins.exec``, ...)
raises :class:`CheckpointError` naming the file and the global, and nothing of it runs. ``trust=True`` (the CLIs' ``--trust-checkpoint``)
does a full unpickle instead: UNSAFE, it runs whatever code the file contains; only for files
from a source you trust.

``load_checkpoint(..., ignore_unexpected=("neck.",))`` drops file keys under the given prefixes
before matching (listed in ``LoadReport.ignored``): NanoTrack's checkpoints carry the weights of
a neck that NanoTrack builds but never applies.
"""
from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from pysiam.utils.atomic import atomic_path

from .safe_load import SAFE_GLOBALS, UnsafePickleError, safe_torch_load

__all__ = ["CheckpointError", "LoadReport", "SAFE_GLOBALS", "read_state_dict", "load_checkpoint", "save_checkpoint",
           "check_finite_state",
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


class CheckpointError(ValueError, RuntimeError):
    """A checkpoint file is missing, unreadable, unsafe to unpickle, or does not fit the model; the
    message says why. A ValueError (bad user input); also a RuntimeError for older callers."""


@dataclass
class LoadReport:
    """What :func:`load_checkpoint` / :func:`load_pretrained_backbone` did."""

    source: str
    loaded: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)       # model keys the file lacks (not num_batches_tracked)
    unexpected: List[str] = field(default_factory=list)    # file keys the model lacks
    ignored: List[str] = field(default_factory=list)       # file keys dropped by ignore_unexpected
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
        if self.ignored:
            parts.append(f"ignored {len(self.ignored)}: {_preview(self.ignored)}")
        return ", ".join(parts)


def _preview(keys: List[str], n: int = 8) -> str:
    return ", ".join(keys[:n]) + (f", ... ({len(keys) - n} more)" if len(keys) > n else "")


# -- reading ---------------------------------------------------------------------------------
def _torch_load(path: Path, trust: bool) -> Any:
    if trust:
        logger.warning("%s: full unpickle (trust=True): this runs any code the file contains", path)
    try:
        if trust:
            return torch.load(path, map_location="cpu", weights_only=False)
        return safe_torch_load(path)
    except UnsafePickleError as e:
        raise CheckpointError(str(e)) from None
    except Exception as e:  # noqa: BLE001 - any other failure means "not a checkpoint"
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


def _state_from(path: Any, trust: bool) -> Tuple[str, Dict[str, torch.Tensor], Dict[str, Any]]:
    """(source name, state dict, extra entries) of a checkpoint file or an already loaded dict."""
    if isinstance(path, Mapping):
        return ("<state dict>",) + _unwrap_checkpoint(path, "<state dict>")
    return (str(path),) + read_state_dict(path, trust=trust)


def _trusted(trust: bool, allow_pickle: Optional[bool]) -> bool:
    """``trust``, or the deprecated ``allow_pickle=True`` spelling of it."""
    if allow_pickle:
        warnings.warn("allow_pickle=True is deprecated: pass trust=True (unsafe: runs code from the "
                      "file)", DeprecationWarning, stacklevel=3)
    return bool(trust or allow_pickle)


def read_state_dict(path: PathLike, allow_pickle: Optional[bool] = None, *,
                    trust: bool = False) -> Tuple[Dict[str, torch.Tensor], Dict[str, Any]]:
    """Read a checkpoint file safely: (state dict on CPU without 'module.' prefixes, other
    top-level entries). ``trust=True`` allows a full, UNSAFE unpickle (``allow_pickle=True`` is
    its deprecated spelling; ``allow_pickle=False`` changes nothing)."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint file not found: {p}")
    return _unwrap_checkpoint(_torch_load(p, _trusted(trust, allow_pickle)), str(p))


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


def check_finite_state(state_dict: Mapping[str, Any], path: Any) -> None:
    """Raise :class:`CheckpointError` naming ``path`` and the first floating-point tensor holding
    NaN or inf (a corrupt file or a diverged training run tracks nothing but gives no error)."""
    for key, value in state_dict.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not value.is_meta:
            bad = int((~torch.isfinite(value)).sum())
            if bad:
                raise CheckpointError(f"{path}: weight {key} holds {bad} NaN/inf value(s) of "
                                      f"{value.numel()}: the checkpoint is corrupt or its training diverged")


def load_checkpoint(model: nn.Module, path: Union[PathLike, Mapping[str, Any]], strict: bool = True,
                    allow_pickle: Optional[bool] = None, *, trust: bool = False,
                    ignore_unexpected: Sequence[str] = ()) -> LoadReport:
    """Load whole-model weights into ``model`` (a DDP wrapper is looked through).

    ``path`` is a file or an already loaded checkpoint dict. Missing ``num_batches_tracked``
    buffers are ignored. ``strict=True`` raises :class:`CheckpointError` on any other missing
    or unexpected key; ``strict=False`` loads the matching keys and logs the rest. Shape
    mismatches always raise. File keys that start with a prefix in ``ignore_unexpected`` and that
    the model lacks are dropped (``report.ignored``), e.g. ``("neck.",)`` for NanoTrack's unused
    neck. Files are unpickled safely unless ``trust=True`` (UNSAFE, see the module docstring;
    ``allow_pickle=True`` is its deprecated spelling). Returns a :class:`LoadReport`.
    """
    model = _bare(model)
    source, state, extra = _state_from(path, _trusted(trust, allow_pickle))
    report = LoadReport(source=source, extra=extra)
    if ignore_unexpected:
        own = model.state_dict()
        report.ignored = [k for k in state if k not in own and k.startswith(tuple(ignore_unexpected))]
        state = {k: v for k, v in state.items() if k not in set(report.ignored)}
    if is_siammask_original(state):
        state = convert_siammask_state_dict(state)
        report.converted.append("original SiamMask key layout renamed to pysot's")
    subset = _match(model, state, source, report)
    check_finite_state(subset, source)
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
                             allow_pickle: Optional[bool] = None, *, trust: bool = False) -> LoadReport:
    """Load ImageNet weights into ``backbone`` by name (torchvision or pysot naming).

    Accepts a bare state dict or a wrapped one, with ``module.``, ``backbone.`` (a whole-model
    checkpoint) or without a prefix; pysot's legacy AlexNet files without the ``features.``
    prefix are matched too. Shortcut convs stored as 1x1 (torchvision's ResNet) where the model
    has 3x3 ones are converted with :func:`atrous_shortcut_from_1x1`. Keys the backbone lacks
    (``fc.*``, stages not built) are reported as unexpected, not errors; shape mismatches raise.
    """
    backbone = _bare(backbone)
    source, state, extra = _state_from(path, _trusted(trust, allow_pickle))
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
