"""The three ONNX graphs of a Siamese model and how one is exported.

* template: crop ``z`` (B, 3, E, E) -> the template tensors (the flattened :class:`Template`);
* search: crop ``x`` (B, 3, S, S) and the template tensors -> the ``track_with`` outputs (one
  graph with ``with_mask=False``, the trackers' pass, and for mask models one with the mask);
* refine (SiamMask): the search outputs and positions ``pos`` (B, 2) int64 -> mask logits.

No template-dependent value is a constant of the search graph: the correlation kernels are
inputs. Graph I/O are flat tensor lists described by :class:`~pysiam.deploy.layout.Layout`.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import torch
from torch import nn

from .layout import Layout
from .xcorr import export_friendly

__all__ = ["TemplateGraph", "SearchGraph", "RefineGraph", "export_onnx", "batch_axes", "EXPORTERS", "MAX_BATCH"]

logger = logging.getLogger(__name__)

#: largest batch the dynamic batch axis admits
MAX_BATCH = 1024


class TemplateGraph(nn.Module):
    """``extract_template(z)`` as a flat tuple of tensors."""

    def __init__(self, model: nn.Module, layout: Layout):
        super().__init__()
        self.model, self.layout = model, layout

    def forward(self, *inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return tuple(self.layout.pack(self.model.extract_template(inputs[0])))


class SearchGraph(nn.Module):
    """``track_with(template, x, with_mask)`` with the template given as its flat tensors."""

    def __init__(self, model: nn.Module, template: Layout, out: Layout, with_mask: bool):
        super().__init__()
        self.model, self.template, self.out, self.with_mask = model, template, out, with_mask

    def forward(self, *inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        t = self.template.unpack(list(inputs[1:]))
        return tuple(self.out.pack(self.model.track_with(t, inputs[0], with_mask=self.with_mask)))


class RefineGraph(nn.Module):
    """``refine_with(out, pos)`` with ``out`` given as its flat tensors, ``pos`` (B, 2) int64."""

    def __init__(self, model: nn.Module, out: Layout):
        super().__init__()
        self.model, self.out = model, out

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model.refine_with(self.out.unpack(list(inputs[1:])), inputs[0])


def _torchscript(module, args, path, names, out_names, dynamic, opset) -> None:
    axes = {n: dict(d) for n, d in dynamic.items() if d}
    torch.onnx.export(module, tuple(args), str(path), dynamo=False, input_names=list(names),
                      output_names=list(out_names), dynamic_axes=axes, opset_version=opset,
                      do_constant_folding=True)


def _dynamo(module, args, path, names, out_names, dynamic, opset) -> None:
    dims: Dict[str, Any] = {}

    def dim(name: str, size: int):
        if name not in dims:
            dims[name] = torch.export.Dim(name, min=1, max=MAX_BATCH) if name == "batch" else \
                torch.export.Dim(name, min=min(size, 64), max=4096)
        return dims[name]
    shapes = tuple({axis: dim(label, a.shape[axis]) for axis, label in dynamic.get(n, {}).items()}
                   for n, a in zip(names, args))
    program = torch.onnx.export(module, tuple(args), dynamo=True, input_names=list(names),
                                output_names=list(out_names), dynamic_shapes=(shapes,),
                                opset_version=opset, verbose=False, optimize=True)
    program.save(str(path))


#: exporter name -> function(module, args, path, input names, output names, dynamic axes, opset)
EXPORTERS = {"torchscript": _torchscript, "dynamo": _dynamo}


def export_onnx(module: nn.Module, args: Sequence[torch.Tensor], path: Path, names: Sequence[str],
                out_names: Sequence[str], dynamic: Dict[str, Dict[int, str]], opset: int,
                exporter: str = "auto", prefer: Sequence[str] = ("torchscript", "dynamo")) -> str:
    """Export ``module(*args)`` to ``path`` and check it with ``onnx.checker``; returns the
    exporter used. ``auto``: the exporters of ``prefer`` in turn until one works (TorchScript's
    is fast but cannot export convolutions whose kernels have a dynamic batch: the search graphs
    prefer dynamo). Examples need batch >= 2 (dynamo specialises a batch of 1)."""
    import onnx

    order = list(prefer) if exporter == "auto" else [exporter]
    if any(name not in EXPORTERS for name in order):
        raise ValueError(f"unknown exporter {exporter!r}; known: auto, {', '.join(EXPORTERS)}")
    errors: List[str] = []
    for name in order:
        try:
            with export_friendly(), torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                EXPORTERS[name](module, args, path, names, out_names, dynamic, opset)
            onnx.checker.check_model(str(path), full_check=True)
            return name
        except Exception as e:  # noqa: BLE001 - try the next exporter, report all if none works
            errors.append(f"{name}: {type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}")
            logger.info("ONNX exporter %s failed for %s: %s", name, path.name, errors[-1])
    raise RuntimeError(f"could not export {path.name}: " + " | ".join(errors))


def batch_axes(names: Sequence[str], first_spatial: str = "") -> Dict[str, Dict[int, str]]:
    """Dynamic axes: dim 0 'batch' of every name; dims 2, 3 of ``first_spatial`` when given."""
    axes = {n: {0: "batch"} for n in names}
    if first_spatial:
        axes[first_spatial].update({2: "search_h", 3: "search_w"})
    return axes
