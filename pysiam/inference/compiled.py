"""``torch.compile`` for inference, with a fallback to eager execution when compiling fails."""
from __future__ import annotations

import logging
from typing import Callable, Optional

import torch

from .options import InferenceOptions

__all__ = ["compile_for_inference", "CompiledOrEager"]

logger = logging.getLogger(__name__)

#: inductor settings per compile mode (torch.compile takes a mode or options, not both)
_MODE_OPTIONS = {"default": {}, "reduce-overhead": {"triton.cudagraphs": True},
                 "max-autotune": {"max_autotune": True, "triton.cudagraphs": True},
                 "max-autotune-no-cudagraphs": {"max_autotune": True}}


def compile_for_inference(fn: Callable, options: InferenceOptions) -> Callable:
    """``torch.compile(fn)`` for inference: static shapes; with inductor, weights frozen as
    constants (BatchNorm folded, oneDNN weights pre-packed on CPU)."""
    if options.compile_backend == "inductor":
        inductor = {**_MODE_OPTIONS[options.compile], "freezing": True}
        return torch.compile(fn, backend="inductor", dynamic=False, options=inductor)
    return torch.compile(fn, backend=options.compile_backend, dynamic=False)


class CompiledOrEager:
    """A compiled function that falls back to eager execution (with a warning) when compiling
    fails, e.g. without a C++ compiler for inductor's CPU code."""

    def __init__(self, fn: Callable, options: InferenceOptions):
        self.eager = fn
        self.compiled: Optional[Callable] = compile_for_inference(fn, options)

    def __call__(self, *args, **kwargs):
        if self.compiled is not None:
            try:
                return self.compiled(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - any backend failure: run eagerly from now on
                logger.warning("torch.compile failed (%s: %s); running eagerly",
                               type(e).__name__, str(e).splitlines()[0][:200])
                self.compiled = None
        return self.eager(*args, **kwargs)
