"""A model with inference options applied, and the one step every tool uses to apply them.

    opts = InferenceOptions.from_config(cfg)            # the INFERENCE section (all off = exact fp32)
    model = prepare_for_inference(model, opts, device)  # same interface: extract_template/track_with/...
    model = prepare_from_cfg(model, cfg, device)        # the same from cfg.INFERENCE (+ threads)

See :mod:`pysiam.inference.options` for what each option costs.
"""
from __future__ import annotations

import copy
import logging
from typing import Any, Callable, Dict, Optional

import torch
from torch import nn

from pysiam.models.siam_model import StatefulTracking, Template

from .compiled import CompiledOrEager
from .fold import fold_batchnorm
from .graphs import StaticGraph
from .options import InferenceOptions, autocast_context
from .threads import apply_threads
from .winograd import convert_to_winograd

__all__ = ["InferenceModel", "prepare_for_inference", "prepare_from_cfg"]

logger = logging.getLogger(__name__)


class InferenceModel(StatefulTracking, nn.Module):
    """A :class:`SiamModel` with inference options applied; same methods as the model
    (``extract_template``, ``track_with``, ``refine_with``, ``template``, ``track``,
    ``mask_refine``). Inputs are converted to the model's memory format; with ``amp`` the
    outputs may be bf16/fp16 (the trackers cast scores to float32)."""

    def __init__(self, model: nn.Module, options: InferenceOptions, device: Optional[torch.device] = None,
                 graph_capture: Optional[Callable] = None):
        super().__init__()
        self.options = options
        self.model = model
        self._device_hint = None if device is None else torch.device(device)
        self._compiled: Dict[str, Callable] = {}
        self._graph: Optional[StaticGraph] = None
        self._graph_capture = graph_capture
        self._template: Optional[Template] = None
        self._last: Optional[Dict[str, Any]] = None

    def __getattr__(self, name: str) -> Any:
        """Anything else (``backbone``, ``head``, ``mask_head``, ``refine_head``, ``family``, ...)
        is the wrapped model's."""
        try:
            return super().__getattr__(name)
        except AttributeError:
            model = self.__dict__.get("_modules", {}).get("model")
            if model is None:
                raise
            return getattr(model, name)

    def _device(self) -> torch.device:
        for p in self.model.parameters():
            return p.device
        return self._device_hint or torch.device("cpu")

    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        if self.options.channels_last and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def _ctx(self):
        return autocast_context(self.options, self._device())

    def _fn(self, name: str) -> Callable:
        """The model's method ``name``, compiled when asked (lazily, after .to(device))."""
        if not self.options.compile:
            return getattr(self.model, name)
        if name not in self._compiled:
            self._compiled[name] = CompiledOrEager(getattr(self.model, name), self.options)
        return self._compiled[name]

    def _use_graph(self, x: torch.Tensor) -> bool:
        return self.options.cuda_graphs and (x.device.type == "cuda" or self._graph_capture is not None)

    # functional API
    def extract_template(self, z: torch.Tensor) -> Template:
        with self._ctx():
            return self._fn("extract_template")(self._prep(z))

    def track_with(self, template: Template, x: torch.Tensor, with_mask: bool = True) -> Dict[str, Any]:
        x = self._prep(x)
        if self._use_graph(x):
            if self._graph is None:
                track = self._fn("track_with")

                def search(t, xx, wm):
                    with autocast_context(self.options, self._device(), cache_enabled=False):
                        return track(t, xx, with_mask=wm)
                self._graph = StaticGraph(search, self._graph_capture)
            return self._graph(template, x, bool(with_mask))
        with self._ctx():
            return self._fn("track_with")(template, x, with_mask=with_mask)

    def refine_with(self, out: Dict[str, Any], pos) -> torch.Tensor:
        with self._ctx():
            return self.model.refine_with(out, pos)


def prepare_for_inference(model: nn.Module, options: InferenceOptions,
                          device: Optional[torch.device] = None) -> nn.Module:
    """``model`` (eval mode, on ``device`` when given) with ``options`` applied.

    All options off: the model itself, untouched apart from eval()/to(device). Otherwise an
    :class:`InferenceModel` around a folded / NHWC copy (the original model is not modified).
    ``cuda_graphs`` is dropped on non-CUDA devices.
    """
    model.eval()
    if options.backend == "onnxruntime":  # ONNX graphs exported on first use (pysiam.deploy)
        from pysiam.deploy.ort_model import OrtModel
        return OrtModel.cached(model.cpu(), options.threads)
    if device is not None:
        model.to(device)
    if not options.changes_model:
        return model
    if options.fold_bn or options.winograd:
        model = fold_batchnorm(model)
    elif options.channels_last:
        model = copy.deepcopy(model)
    if options.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if options.winograd:
        convert_to_winograd(model)
    dev = torch.device(device) if device is not None else next(iter(model.parameters())).device
    if options.cuda_graphs and (dev.type != "cuda" or options.compile == "reduce-overhead"):
        # graphs need CUDA; compile's 'reduce-overhead' mode already replays CUDA graphs
        options = InferenceOptions(**{**options.as_dict(), "cuda_graphs": False})
    return InferenceModel(model, options, dev).eval()


def prepare_from_cfg(model: nn.Module, cfg, device: Optional[torch.device] = None) -> nn.Module:
    """:func:`prepare_for_inference` with the options of ``cfg.INFERENCE`` (``THREADS`` applied
    to the process too): what the tools call between loading the weights and building a tracker."""
    options = InferenceOptions.from_config(cfg)
    apply_threads(options, model)  # INFERENCE.THREADS, else pysiam's default for this model
    if options.changes_model:
        logger.info("inference options: %s", {k: v for k, v in options.as_dict().items() if v})
    if options.backend == "onnxruntime":  # export folder / cache from cfg.INFERENCE (pysiam.deploy)
        from pysiam.deploy.ort_model import ort_model_from_cfg
        return ort_model_from_cfg(model.eval(), cfg, options.threads, device)
    return prepare_for_inference(model, options, device)
