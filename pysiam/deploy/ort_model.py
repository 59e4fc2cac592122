"""An ONNX Runtime model with the torch model's functional API (``extract_template``,
``track_with``, ``refine_with``, and pysot's ``template`` / ``track`` / ``mask_refine``).

    model = prepare_from_cfg(torch_model, cfg)     # with cfg.INFERENCE.BACKEND = "onnxruntime"
    tracker = build_tracker(cfg, model)            # unchanged trackers

Graphs come from a folder written by ``tools/export.py`` or, by default, from a cache folder
(``INFERENCE.EXPORT_CACHE``, default ``~/.cache/pysiam/onnx``) keyed by the config digest,
the weights digest, the opset and the versions of pysiam / torch / onnx / onnxruntime: a graph
missing there is exported on first use, for the input shapes of that call, and checked against
the torch model on those inputs. Other attributes (``backbone``, heads, ``family`` ...) are the
torch model's. Inputs and outputs are CPU torch tensors (the CUDA provider is used when this
onnxruntime build has it).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from pysiam.models import StatefulTracking

from .export import DEFAULT_OPSET, FORMAT, compare, export_refine, export_search, export_template, model_digest, versions
from .layout import Layout
from .runtime import available_providers, make_session

__all__ = ["OrtModel", "ort_model_from_cfg", "default_cache_root", "cache_key"]

logger = logging.getLogger(__name__)

#: largest max-relative difference accepted when a graph exported on first use is checked
FIRST_USE_TOLERANCE = 1e-3


def default_cache_root() -> Path:
    """``$XDG_CACHE_HOME/pysiam/onnx`` (``~/.cache/pysiam/onnx``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pysiam" / "onnx"


def cache_key(model: nn.Module, config_digest: str = "", opset: int = DEFAULT_OPSET, exporter: str = "auto") -> str:
    """Folder name of a model's exports: digest of weights, config, opset, exporter and versions."""
    parts = {"model": model_digest(model), "config": config_digest, "opset": opset, "exporter": exporter,
             "versions": versions()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def _fits(entry: Dict[str, Any], kind: str, shape: Sequence[int]) -> bool:
    if entry["kind"] != kind:
        return False
    want = entry["inputs"][0]["shape"]
    return len(want) == len(shape) and all(isinstance(w, str) or int(w) == s for w, s in zip(want, shape))


class OrtModel(StatefulTracking):
    """See the module docstring. ``directory``: an export folder (or a cache folder);
    ``export_missing``: export graphs that it lacks on first use."""

    def __init__(self, model: nn.Module, directory, threads: int = 0, providers: Optional[Sequence[str]] = None,
                 opset: int = DEFAULT_OPSET, exporter: str = "auto", export_missing: bool = True,
                 spinning: bool = False):
        self.model = model.eval()
        self.directory = Path(directory)
        if int(threads) <= 0:
            from pysiam.inference.threads import recommended_threads
            threads = recommended_threads(model)
        self.threads, self.providers, self.spinning = int(threads), providers, spinning
        self.opset, self.exporter, self.export_missing = opset, exporter, export_missing
        self._sessions: Dict[str, Any] = {}
        self._layouts: Dict[str, Dict[str, Layout]] = {}
        self._inputs: Dict[str, set] = {}
        self._keys: Dict[tuple, str] = {}    # (kind, input shape) -> graph key
        self._feeds: Dict[str, tuple] = {}   # graph key -> (template, its numpy feed)
        self._template = None
        self._last = None
        path = self.directory / "model.json"
        self.manifest = json.loads(path.read_text()) if path.is_file() else {"format": FORMAT, "graphs": {}}

    def __getattr__(self, name: str) -> Any:
        model = self.__dict__.get("model")
        if model is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(model, name)

    # module-like no-ops the trackers call
    def eval(self) -> "OrtModel":
        return self

    def to(self, *args, **kwargs) -> "OrtModel":
        """The graphs run where their provider runs; tensors are exchanged on the CPU."""
        return self

    # -- graphs --------------------------------------------------------------------------------
    def _lookup(self, kind: str, shape: Sequence[int]) -> Optional[str]:
        for key, entry in self.manifest["graphs"].items():
            if _fits(entry, kind, shape):
                return key
        return None

    def _session(self, key: str):
        if key not in self._sessions:
            entry = self.manifest["graphs"][key]
            self._sessions[key] = make_session(self.directory / entry["file"], self.threads, self.providers,
                                               self.spinning)
            self._layouts[key] = {k: Layout.from_json(v) for k, v in entry["layouts"].items()}
            self._inputs[key] = {i.name for i in self._sessions[key].get_inputs()}  # exporters drop unused ones
        return self._sessions[key]

    def _graph(self, kind: str, shape: Sequence[int], export) -> str:
        key = self._lookup(kind, shape)
        if key is None:
            if not self.export_missing:
                raise KeyError(f"{self.directory}: no {kind} graph for inputs of shape {tuple(shape)}")
            key = self._export(kind, shape, export)
        self._session(key)
        return key

    def _export(self, kind: str, shape: Sequence[int], export) -> str:
        """Export into a private folder, then move the graph in and merge the manifest."""
        self.directory.mkdir(parents=True, exist_ok=True)
        key = f"{kind}_{'x'.join(str(s) for s in shape[1:])}"
        tmp = Path(tempfile.mkdtemp(dir=self.directory, prefix=".export-"))
        try:
            logger.info("exporting the %s graph for %s to %s", kind, tuple(shape), self.directory)
            entry = export(tmp, key)
            os.replace(tmp / entry["file"], self.directory / entry["file"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        path = self.directory / "model.json"
        current = json.loads(path.read_text()) if path.is_file() else {"format": FORMAT, "graphs": {}}
        current["graphs"][key] = entry
        current.setdefault("opset", self.opset)
        if "mask_adds_outputs" in self.manifest:
            current["mask_adds_outputs"] = self.manifest["mask_adds_outputs"]
        current.setdefault("versions", versions())
        from .export import write_manifest
        write_manifest(self.directory, current)
        self.manifest = current
        return key

    def _check(self, key: str, feed: Dict[str, torch.Tensor], expected) -> None:
        expected = [expected] if isinstance(expected, torch.Tensor) else list(expected)
        diff = compare(self._sessions[key], list(feed), list(feed.values()), expected)
        logger.info("%s: max rel diff vs torch on first use %.2e", key, diff)
        if diff > FIRST_USE_TOLERANCE:
            raise RuntimeError(f"exported {key} graph differs from the torch model by {diff:.2e} (relative)")

    def _run(self, key: str, feed: Dict[str, np.ndarray]) -> List[torch.Tensor]:
        names = self._inputs[key]
        feed = {k: v for k, v in feed.items() if k in names}
        return [torch.from_numpy(a) for a in self._sessions[key].run(None, feed)]

    # -- functional API ------------------------------------------------------------------------
    def extract_template(self, z: torch.Tensor):
        """Template tensors of crops ``z`` (B, 3, E, E), rebuilt into the torch model's Template."""
        z = z.detach().cpu().float().contiguous()
        fresh = self._lookup("template", z.shape) is None
        key = self._graph("template", z.shape, lambda d, name: export_template(
            self.model, z, d, self.opset, self.exporter, name=name))
        outs = self._run(key, {"z": z.numpy()})
        if fresh:
            from .graphs import TemplateGraph
            with torch.no_grad():
                self._check(key, {"z": z}, TemplateGraph(self.model, self._layouts[key]["template"])(z))
        return self._layouts[key]["template"].unpack(outs)

    def track_with(self, template: Any, x: torch.Tensor, with_mask: bool = True) -> Dict[str, Any]:
        """``track_with`` of the torch model: a dict of CPU tensors (``mask`` only with ``with_mask``
        on mask models)."""
        x = x.detach().cpu().float().contiguous()
        kind = self._search_kind(template, x, with_mask)
        key = self._keys.get((kind, tuple(x.shape)))
        if key is None:  # first call for this input shape: find (or export) the graph
            fresh = self._lookup(kind, x.shape) is None
            key = self._graph(kind, x.shape, lambda d, name: export_search(
                self.model, template, x, d, kind == "search_mask", False, self.opset, self.exporter, name=name))
            self._keys[(kind, tuple(x.shape))] = key
            if fresh:
                self._check_search(key, kind, template, x)
        feed = self._template_feed(key, template)
        feed["x"] = x.numpy()
        return self._layouts[key]["out"].unpack(self._run(key, feed))

    def _template_feed(self, key: str, template: Any) -> Dict[str, np.ndarray]:
        """The template tensors as numpy arrays by input name (kept for the last template seen:
        trackers pass the same one every frame)."""
        cached = self._feeds.get(key)
        if cached is None or cached[0] is not template:
            layout = self._layouts[key]["template"]
            arrays = [t.detach().cpu().contiguous().numpy() for t in layout.pack(template)]
            names = self._inputs[key]
            cached = (template, {n: a for n, a in zip(layout.names, arrays) if n in names})
            self._feeds[key] = cached
        return dict(cached[1])

    def _check_search(self, key: str, kind: str, template: Any, x: torch.Tensor) -> None:
        from .graphs import SearchGraph

        layouts = self._layouts[key]
        tensors = layouts["template"].pack(template)
        with torch.no_grad():
            graph = SearchGraph(self.model, layouts["template"], layouts["out"], kind == "search_mask")
            self._check(key, dict(zip(["x"] + layouts["template"].names, [x, *tensors])), graph(x, *tensors))

    def _search_kind(self, template: Any, x: torch.Tensor, with_mask: bool) -> str:
        """'search_mask' when ``with_mask`` adds outputs (a mask head; asked of the torch model
        once and kept in the manifest), else 'search'."""
        if not with_mask:
            return "search"
        if self._lookup("search_mask", x.shape) is not None:
            return "search_mask"
        adds = self.manifest.get("mask_adds_outputs")
        if adds is None:
            with torch.no_grad():
                names = [Layout.of(self.model.track_with(template, x, with_mask=m)).names for m in (False, True)]
            adds = self.manifest["mask_adds_outputs"] = names[0] != names[1]
        return "search_mask" if adds else "search"

    def refine_with(self, out: Dict[str, Any], pos) -> torch.Tensor:
        """Refined mask logits (B, 127*127) at ``pos`` = (row, col) or a (B, 2) LongTensor."""
        layout = Layout.of(out)
        tensors = [t.detach().cpu().contiguous() for t in layout.pack(out)]
        batch = tensors[0].shape[0]
        if isinstance(pos, torch.Tensor) and pos.dim() == 2:
            pos_t = pos.detach().cpu().to(torch.long).contiguous()
        else:
            pos_t = torch.tensor([[int(pos[0]), int(pos[1])]] * batch, dtype=torch.long)
        fresh = self._lookup("refine", pos_t.shape) is None
        key = self._graph("refine", pos_t.shape, lambda d, name: export_refine(
            self.model, out, pos_t, d, self.opset, self.exporter, name=name))
        feed = {n: t.numpy() for n, t in zip(layout.names, tensors)}
        feed["pos"] = pos_t.numpy()
        masks = self._run(key, feed)[0]
        if fresh:
            with torch.no_grad():
                self._check(key, {"pos": pos_t, **dict(zip(layout.names, tensors))}, self.model.refine_with(out, pos_t))
        return masks

    @classmethod
    def cached(cls, model: nn.Module, threads: int = 0, cache_root: Optional[Path] = None, config_digest: str = "",
               opset: int = DEFAULT_OPSET, exporter: str = "auto", **kwargs) -> "OrtModel":
        """An OrtModel on the cache folder of ``model`` (exports made on first use)."""
        root = Path(cache_root) if cache_root else default_cache_root()
        return cls(model, root / cache_key(model, config_digest, opset, exporter), threads, opset=opset,
                   exporter=exporter, **kwargs)


def ort_model_from_cfg(model: nn.Module, cfg, threads: int = 0, device=None) -> OrtModel:
    """The OrtModel of ``cfg.INFERENCE`` (EXPORT_DIR: an export folder; else EXPORT_CACHE or the
    default cache, keyed with the config digest)."""
    from .export import config_digest

    node = cfg.INFERENCE
    if device is not None and torch.device(device).type != "cpu":
        logger.info("onnxruntime backend: graphs run on %s; the torch model stays on the CPU",
                    "CUDA" if "CUDAExecutionProvider" in available_providers() else "the CPU")
    model = model.cpu().eval()
    export_dir = str(node.get("EXPORT_DIR", "") or "")
    if export_dir:
        if not (Path(export_dir) / "model.json").is_file():
            raise FileNotFoundError(f"INFERENCE.EXPORT_DIR {export_dir}: no model.json (run tools/export.py)")
        ort_model = OrtModel(model, export_dir, threads)
        if ort_model.manifest.get("model_digest") not in (None, model_digest(model)):
            raise ValueError(f"INFERENCE.EXPORT_DIR {export_dir} was exported from other weights than the "
                             f"loaded model (model_digest differs): export again or drop EXPORT_DIR")
        return ort_model
    return OrtModel.cached(model, threads, str(node.get("EXPORT_CACHE", "") or "") or None, config_digest(cfg))

