"""Inference options for a :class:`~pysiam.models.SiamModel`: speed at a stated cost in precision.

    opts = InferenceOptions.from_cfg(cfg)             # the INFERENCE section (all off = exact fp32)
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
  computed with Winograd F(4x4, 3x3) on float32 CPU tensors (:mod:`pysiam.models.winograd`):
  4x fewer multiplications for rounding-level changes (we measured about 1.5e-6 on the ResNet-50
  configs). Implies ``fold_bn``; combine it with NCHW (not ``channels_last``). On CUDA and under
  autocast the converted layers run the ordinary convolution.
* ``cuda_graphs``: on CUDA, the search pass is captured once per input shape and replayed (the
  template features are copied into static buffers, so re-initialisation needs no re-capture).
  Ignored on other devices.

With every option off :func:`prepare_for_inference` returns the model unchanged, so the default
path stays bit-exact with pysot.
"""
from __future__ import annotations

import contextlib
import copy
import logging
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type

import torch
from torch import nn

from .backbone.resnet import BasicBlock, Bottleneck, ResNet
from .siam_model import StatefulTracking, Template
from .winograd import convert_to_winograd

__all__ = ["InferenceOptions", "InferenceModel", "prepare_for_inference", "prepare_from_cfg", "fold_batchnorm",
           "fuse_conv_bn", "register_conv_bn_pairs", "apply_threads", "autocast_context",
           "StaticGraph", "compile_for_inference", "AMP_DTYPES", "OUTPUT_TOLERANCE"]

logger = logging.getLogger(__name__)

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
COMPILE_MODES = ("", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")

#: stated output tolerance of each option (relative to the largest |fp32 output|), see module doc
OUTPUT_TOLERANCE = {"exact": 0.0, "fold_bn": 1e-5, "channels_last": 1e-5, "compile": 1e-5, "winograd": 5e-5,
                    "cuda_graphs": 0.0, "bf16": 5e-2, "fp16": 1e-2}


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

    @classmethod
    def from_cfg(cls, cfg) -> "InferenceOptions":
        """Options from the config's INFERENCE section (absent section: defaults)."""
        node = getattr(cfg, "INFERENCE", None)
        if node is None:
            return cls()
        return cls(fold_bn=bool(node.get("FOLD_BN", False)), channels_last=bool(node.get("CHANNELS_LAST", False)),
                   amp=str(node.get("AMP", "")), compile=node.get("COMPILE", ""),
                   cuda_graphs=bool(node.get("CUDA_GRAPHS", False)), threads=int(node.get("THREADS", 0)),
                   winograd=bool(node.get("WINOGRAD", False)))

    @property
    def changes_model(self) -> bool:
        """Whether :func:`prepare_for_inference` does anything to the model."""
        return bool(self.fold_bn or self.channels_last or self.amp or self.compile or self.cuda_graphs
                    or self.winograd)

    def tolerance(self) -> float:
        """The largest stated relative output difference of the chosen options."""
        keys = [k for k, on in (("fold_bn", self.fold_bn), ("channels_last", self.channels_last),
                                ("compile", bool(self.compile)), ("winograd", self.winograd),
                                (self.amp, bool(self.amp))) if on]
        return max([OUTPUT_TOLERANCE[k] for k in keys], default=0.0)

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


# -- BatchNorm folding ------------------------------------------------------------------------

#: module class -> (conv attribute, bn attribute) pairs whose forward computes bn(conv(x)) only
_NAMED_CONV_BN: Dict[Type[nn.Module], Tuple[Tuple[str, str], ...]] = {
    ResNet: (("conv1", "bn1"),),
    BasicBlock: (("conv1", "bn1"), ("conv2", "bn2")),
    Bottleneck: (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3")),
}


def register_conv_bn_pairs(cls: Type[nn.Module], pairs: Sequence[Tuple[str, str]]) -> None:
    """Declare that ``cls.forward`` uses ``bn(conv(x))`` (and conv's output nowhere else) for
    each (conv attribute, bn attribute) pair, so :func:`fold_batchnorm` may fold them.
    ``nn.Sequential`` runs of Conv2d -> BatchNorm2d are found without registration."""
    _NAMED_CONV_BN[cls] = tuple((str(c), str(b)) for c, b in pairs)


def _foldable(conv: nn.Module, bn: nn.Module) -> bool:
    return (type(conv) is nn.Conv2d and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats
            and bn.running_mean is not None and conv.out_channels == bn.num_features)


@torch.no_grad()
def fuse_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """One Conv2d computing ``bn(conv(x))`` with ``bn`` in eval mode (folded in float64)."""
    if bn.training:
        raise RuntimeError("fold BatchNorm only in eval mode (call model.eval() first)")
    dtype, device = conv.weight.dtype, conv.weight.device
    scale = torch.rsqrt(bn.running_var.double() + bn.eps)
    if bn.affine:
        scale = scale * bn.weight.double()
    bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)
    bias = (bias - bn.running_mean.double()) * scale
    if bn.affine:
        bias = bias + bn.bias.double()
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                      padding=conv.padding, dilation=conv.dilation, groups=conv.groups, bias=True,
                      padding_mode=conv.padding_mode, device=device, dtype=dtype)
    fused.weight.copy_((conv.weight.double() * scale.view(-1, 1, 1, 1)).to(dtype))
    fused.bias.copy_(bias.to(dtype))
    return fused


def fold_batchnorm(model: nn.Module, inplace: bool = False) -> nn.Module:
    """Fold eval-mode BatchNorm2d layers into the convolutions before them.

    Handles Conv2d -> BatchNorm2d runs inside ``nn.Sequential`` and the named pairs of the
    registered modules (pysiam's ResNet blocks); the BatchNorm becomes ``nn.Identity``. Returns
    the folded model (a deep copy unless ``inplace``). Training-mode models are refused.
    """
    if model.training:
        raise RuntimeError("fold_batchnorm needs an eval-mode model (call model.eval() first)")
    if not inplace:
        model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for a, b in zip(names, names[1:]):
                conv, bn = module._modules[a], module._modules[b]
                if _foldable(conv, bn):
                    module._modules[a] = fuse_conv_bn(conv, bn)
                    module._modules[b] = nn.Identity()
        for cls, pairs in _NAMED_CONV_BN.items():
            if type(module) is cls:
                for a, b in pairs:
                    conv, bn = getattr(module, a, None), getattr(module, b, None)
                    if conv is not None and bn is not None and _foldable(conv, bn):
                        setattr(module, a, fuse_conv_bn(conv, bn))
                        setattr(module, b, nn.Identity())
    return model


# -- small helpers ----------------------------------------------------------------------------

def apply_threads(options: InferenceOptions) -> None:
    """``torch.set_num_threads(options.threads)`` when it is set (> 0); a process-wide setting."""
    if options.threads > 0:
        torch.set_num_threads(int(options.threads))


def autocast_context(options: InferenceOptions, device: torch.device, cache_enabled: bool = True):
    """``torch.autocast`` for ``options.amp`` on ``device``, else a no-op context.

    ``cache_enabled=False`` for code captured in CUDA graphs (autocast's cast-weight cache must
    not outlive a capture)."""
    if not options.amp:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=AMP_DTYPES[options.amp],
                          cache_enabled=cache_enabled)


def _flatten(obj: Any, out: List[torch.Tensor]) -> Any:
    """Tensors of a nested list/tuple/dict/Template in order, and a spec to rebuild it."""
    if isinstance(obj, torch.Tensor):
        out.append(obj)
        return ("t",)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return ("c", obj)
    if isinstance(obj, Template):
        return ("T", [_flatten(v, out) for v in (obj.features, obj.rpn, obj.mask)])
    if isinstance(obj, dict):
        return ("d", [(k, _flatten(v, out)) for k, v in obj.items()])
    if isinstance(obj, (list, tuple)):
        return ("l" if isinstance(obj, list) else "u", [_flatten(v, out) for v in obj])
    raise TypeError(f"cannot flatten {type(obj).__name__}")


def _unflatten(spec: Any, tensors: List[torch.Tensor], pos: List[int]) -> Any:
    kind = spec[0]
    if kind == "t":
        pos[0] += 1
        return tensors[pos[0] - 1]
    if kind == "c":
        return spec[1]
    if kind == "T":
        return Template(*(_unflatten(s, tensors, pos) for s in spec[1]))
    if kind == "d":
        return {k: _unflatten(s, tensors, pos) for k, s in spec[1]}
    items = [_unflatten(s, tensors, pos) for s in spec[1]]
    return items if kind == "l" else tuple(items)


def _cuda_capture(fn: Callable[..., Any], static_inputs: List[torch.Tensor]):
    """Warm ``fn`` up on a side stream, capture it into a CUDA graph; (replay, static outputs)."""
    stream = torch.cuda.Stream(device=static_inputs[0].device)
    stream.wait_stream(torch.cuda.current_stream(static_inputs[0].device))
    with torch.cuda.stream(stream):
        for _ in range(2):
            fn(*static_inputs)
    torch.cuda.current_stream(static_inputs[0].device).wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        outputs = fn(*static_inputs)
    return graph.replay, outputs


class StaticGraph:
    """Replays ``fn(*args)`` from static input buffers, one capture per input signature.

    ``fn`` takes nested arguments (tensors in lists / tuples / dicts / :class:`Template`);
    each call copies the tensors into the buffers of its signature (shapes, dtypes, strides and
    the non-tensor values) and replays. The returned tensors are the static outputs: they are
    overwritten by the next call. ``capture(fn, inputs) -> (replay, outputs)`` defaults to a
    CUDA graph capture; tests pass a CPU stand-in.
    """

    def __init__(self, fn: Callable[..., Any], capture: Optional[Callable] = None):
        self.fn = fn
        self.capture = capture or _cuda_capture
        self._graphs: Dict[Any, Tuple[Any, List[torch.Tensor], Callable, Any]] = {}

    def __len__(self) -> int:
        return len(self._graphs)

    def __call__(self, *args: Any) -> Any:
        with torch.inference_mode():  # buffers, captures and copies all as inference tensors
            return self._call(args)

    def _call(self, args: Tuple[Any, ...]) -> Any:
        tensors: List[torch.Tensor] = []
        spec = _flatten(list(args), tensors)
        key = (repr(spec), tuple((tuple(t.shape), t.dtype, t.stride(), str(t.device)) for t in tensors))
        entry = self._graphs.get(key)
        if entry is None:
            static = [t.clone(memory_format=torch.preserve_format) for t in tensors]

            def run(*flat):
                return self.fn(*_unflatten(spec, list(flat), [0]))

            replay, outputs = self.capture(run, static)
            entry = (spec, static, replay, outputs)
            self._graphs[key] = entry
        else:
            for buf, t in zip(entry[1], tensors):
                if buf.data_ptr() != t.data_ptr():
                    buf.copy_(t, non_blocking=True)
            entry[2]()
        return entry[3]


# -- torch.compile ----------------------------------------------------------------------------

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


class _CompiledOrEager:
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


# -- the wrapper ------------------------------------------------------------------------------

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

    # parts the trackers look at
    @property
    def backbone(self):
        return self.model.backbone

    @property
    def neck(self):
        return self.model.neck

    @property
    def rpn_head(self):
        return self.model.rpn_head

    @property
    def mask_head(self):
        return self.model.mask_head

    @property
    def refine_head(self):
        return self.model.refine_head

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
            self._compiled[name] = _CompiledOrEager(getattr(self.model, name), self.options)
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
    options = InferenceOptions.from_cfg(cfg)
    apply_threads(options)
    if options.changes_model:
        logger.info("inference options: %s", {k: v for k, v in options.as_dict().items() if v})
    return prepare_for_inference(model, options, device)
