"""Inference options (the INFERENCE config section) for a :class:`~pysiam.models.SiamModel`: speed at a stated cost in precision.

    opts = InferenceOptions.from_config(cfg)             # the INFERENCE section (all off = exact fp32)
    model = prepare_for_inference(model, opts, device)  # same interface: template/track/track_with/...

Options and what they cost (``OUTPUT_TOLERANCE``: max |cls/loc difference| / max |fp32 output|;
on the shipped configs with random weights and random BN statistics on CPU we measured about
1.2e-6 for fold_bn / channels_last, 1.8e-3 for fp16 and 1.7e-2 for bf16; the tests check them):

* ``fold_bn``: every Conv2d directly followed by an eval-mode BatchNorm2d becomes one conv with
  a bias (weights folded in float64). Rounding-level changes only.
* ``channels_last``: NHWC weights and inputs (oneDNN / cuDNN run NHWC convolutions without
  layout reorders). Rounding-level changes (other summation order).
* ``amp``: ``'bf16'`` or ``'fp16'`` autocast (bf16 is fast on CPUs with AMX / AVX512-BF16; fp16
  is meant for GPUs); outputs are cast back to float32 by the trackers.
* ``compile``: ``torch.compile`` of the search and template passes (mode name, '' = off); with
  inductor the weights are frozen (BN folded, conv + ReLU fused, oneDNN weights pre-packed on
  CPU). Compiling takes tens of seconds on a CPU (once per input shape); it pays on long runs.
* ``winograd``: every 3x3 stride-1 convolution with at least 256 input and output channels is
  computed with Winograd F(4x4, 3x3) on float32 CPU tensors (:mod:`pysiam.inference.winograd`):
  4x fewer multiplications for rounding-level changes (we measured about 1.5e-6 on the ResNet-50
  configs). Implies ``fold_bn``; combine it with NCHW (not ``channels_last``). On CUDA and under
  autocast the converted layers run the ordinary convolution.
* ``backend``: ``'torch'`` (default) or ``'onnxruntime'``: the network runs as ONNX graphs in
  ONNX Runtime (:mod:`pysiam.deploy`; exported on first use into a cache folder); rounding-level
  changes (we measured <= 2e-6). The torch-side options above do not apply to it.
* ``cuda_graphs``: on CUDA, the search pass is captured once per input shape and replayed (the
  template features are copied into static buffers, so re-initialisation needs no re-capture).
  Ignored on other devices.

With every option off :func:`prepare_for_inference` returns the model unchanged, so the default
path stays bit-exact with pysot.
"""
from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from typing import Any, Dict

import torch

__all__ = ["InferenceOptions", "BACKENDS", "AMP_DTYPES", "COMPILE_MODES", "OUTPUT_TOLERANCE", "autocast_context"]

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
#: INFERENCE.BACKEND values: torch, or ONNX Runtime on graphs exported by pysiam.deploy
BACKENDS = ("torch", "onnxruntime")
COMPILE_MODES = ("", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")

#: stated output tolerance of each option (relative to the largest |fp32 output|), see module doc
OUTPUT_TOLERANCE = {"exact": 0.0, "fold_bn": 1e-5, "channels_last": 1e-5, "compile": 1e-5, "winograd": 5e-5,
                    "cuda_graphs": 0.0, "bf16": 5e-2, "fp16": 1e-2, "onnxruntime": 1e-4}


@dataclass(frozen=True)
class InferenceOptions:
    """What :func:`prepare_for_inference` does; see the module docstring. Defaults: exact fp32."""

    fold_bn: bool = False
    channels_last: bool = False
    amp: str = ""
    compile: str = ""
    cuda_graphs: bool = False
    threads: int = 0
    winograd: bool = False
    compile_backend: str = "inductor"
    backend: str = "torch"

    def __post_init__(self):
        amp = (self.amp or "").lower()
        if amp in ("none", "fp32", "false", "0"):
            amp = ""
        if amp not in ("",) + tuple(AMP_DTYPES):
            raise ValueError(f"INFERENCE.AMP must be '', 'bf16' or 'fp16', got {self.amp!r}")
        object.__setattr__(self, "amp", amp)
        mode = self.compile
        if mode is True or (isinstance(mode, str) and mode.lower() in ("true", "1", "on")):
            mode = "default"
        elif mode in (False, None) or (isinstance(mode, str) and mode.lower() in ("false", "0", "off")):
            mode = ""
        if mode not in COMPILE_MODES:
            raise ValueError(f"INFERENCE.COMPILE must be one of {COMPILE_MODES} (or True/False), got {self.compile!r}")
        object.__setattr__(self, "compile", mode)
        if int(self.threads) < 0:
            raise ValueError(f"INFERENCE.THREADS must be >= 0, got {self.threads}")
        backend = str(self.backend or "torch").lower()
        if backend not in BACKENDS:
            raise ValueError(f"INFERENCE.BACKEND must be one of {BACKENDS}, got {self.backend!r}")
        object.__setattr__(self, "backend", backend)

    @classmethod
    def from_config(cls, cfg) -> "InferenceOptions":
        """Options from the config's INFERENCE section (absent section: defaults)."""
        node = getattr(cfg, "INFERENCE", None)
        if node is None:
            return cls()
        return cls(fold_bn=bool(node.get("FOLD_BN", False)), channels_last=bool(node.get("CHANNELS_LAST", False)),
                   amp=str(node.get("AMP", "")), compile=node.get("COMPILE", ""),
                   cuda_graphs=bool(node.get("CUDA_GRAPHS", False)), threads=int(node.get("THREADS", 0)),
                   winograd=bool(node.get("WINOGRAD", False)), backend=str(node.get("BACKEND", "torch")))

    @property
    def changes_model(self) -> bool:
        """Whether :func:`prepare_for_inference` does anything to the model."""
        return bool(self.fold_bn or self.channels_last or self.amp or self.compile or self.cuda_graphs
                    or self.winograd or self.backend != "torch")

    def tolerance(self) -> float:
        """The largest stated relative output difference of the chosen options."""
        keys = [k for k, on in (("fold_bn", self.fold_bn), ("channels_last", self.channels_last),
                                ("compile", bool(self.compile)), ("winograd", self.winograd),
                                (self.amp, bool(self.amp)), (self.backend, self.backend != "torch")) if on]
        return max([OUTPUT_TOLERANCE[k] for k in keys], default=0.0)

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def autocast_context(options: InferenceOptions, device: torch.device, cache_enabled: bool = True):
    """``torch.autocast`` for ``options.amp`` on ``device``, else a no-op context.

    ``cache_enabled=False`` for code captured in CUDA graphs (autocast's cast-weight cache must
    not outlive a capture)."""
    if not options.amp:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=AMP_DTYPES[options.amp],
                          cache_enabled=cache_enabled)
