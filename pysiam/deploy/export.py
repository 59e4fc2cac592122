"""Export a Siamese model to ONNX: template, search (and SiamMask refine) graphs plus a JSON manifest.

    from pysiam.deploy import export_for_config
    manifest = export_for_config(model, cfg, "out/")   # out/model.json + out/*.onnx, validated

Every graph has a dynamic batch axis; the long-term tracker's search graph also a dynamic crop
size (255 and 831 are validated). Each graph is checked with ``onnx.checker`` and compared with
the torch model on random and real crops (``max rel diff`` = max |ONNX - torch| / max |torch|
over each output). The manifest lists each graph's inputs / outputs (names, shapes, dtypes) and
the pytree layouts that rebuild the ``Template`` and the output dict
(:class:`~pysiam.deploy.layout.Layout`); :class:`~pysiam.deploy.ort_model.OrtModel` reads it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from .graphs import RefineGraph, SearchGraph, TemplateGraph, batch_axes, export_onnx
from .layout import Layout

__all__ = ["DEFAULT_OPSET", "FORMAT", "export_template", "export_search", "export_refine", "export_for_config",
           "search_sizes", "model_digest", "config_digest", "versions", "compare", "write_manifest"]

logger = logging.getLogger(__name__)

DEFAULT_OPSET = 18
FORMAT = 1
#: TRACK.TYPE -> the TRACK keys of the search sizes its tracker uses (default: INSTANCE_SIZE)
SEARCH_SIZE_KEYS = {"SiamRPNLTTracker": ("INSTANCE_SIZE", "LOST_INSTANCE_SIZE")}
#: config sections that do not change the network (left out of :func:`config_digest`)
NON_MODEL_SECTIONS = ("TRACK", "INFERENCE", "TRAIN", "DATASET", "TUNE", "TEST", "EVAL", "DEVICE", "CUDA")


def versions() -> Dict[str, str]:
    """Versions that change an export (part of the cache key)."""
    import onnx

    import pysiam
    out = {"pysiam": pysiam.__version__, "torch": torch.__version__, "onnx": onnx.__version__, "format": str(FORMAT)}
    try:
        import onnxruntime
        out["onnxruntime"] = onnxruntime.__version__
    except ImportError:  # pragma: no cover - export without the runtime
        pass
    return out


def model_digest(model: nn.Module) -> str:
    """sha256 of the architecture (module repr) and every parameter / buffer (names, shapes, bytes)."""
    h = hashlib.sha256(repr(model).encode())
    for name, t in model.state_dict().items():
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def config_digest(cfg) -> str:
    """sha256 of the config without the sections that leave the network unchanged."""
    keep = {k: v for k, v in dict(cfg).items() if k not in NON_MODEL_SECTIONS}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()


def search_sizes(cfg) -> List[int]:
    """Search crop sizes the config's tracker uses."""
    keys = SEARCH_SIZE_KEYS.get(cfg.TRACK.TYPE, ("INSTANCE_SIZE",))
    return sorted({int(cfg.TRACK[k]) for k in keys})


def _io(names: Sequence[str], arrays: Sequence[Any], dynamic: Dict[str, Dict[int, str]]) -> List[Dict[str, Any]]:
    rows = []
    for n, a in zip(names, arrays):
        axes = dynamic.get(n, {})
        rows.append({"name": n, "dtype": str(a.dtype).replace("torch.", ""),
                     "shape": [axes.get(i, int(s)) for i, s in enumerate(a.shape)]})
    return rows


def _double(t: Any) -> Any:
    """A batch-2 example from a batch-1 value (dynamo specialises a batch of 1)."""
    if isinstance(t, torch.Tensor) and t.shape[0] == 1:
        return torch.cat([t, t])
    return t


def _entry(kind: str, path: Path, exporter: str, names, args, out_names, outs, dynamic, **layouts) -> Dict[str, Any]:
    return {"kind": kind, "file": path.name, "exporter": exporter, "inputs": _io(names, args, dynamic),
            "outputs": _io(out_names, outs, dynamic), "layouts": {k: v.to_json() for k, v in layouts.items()}}


def export_template(model: nn.Module, z: torch.Tensor, out_dir: Path, opset: int = DEFAULT_OPSET,
                    exporter: str = "auto", name: str = "template") -> Dict[str, Any]:
    """Export ``extract_template`` for crops shaped like ``z``; returns the manifest entry."""
    z = _double(z)
    with torch.no_grad():
        layout = Layout.of(model.extract_template(z), "t_")
        graph = TemplateGraph(model, layout).eval()
        outs = graph(z)
    path = Path(out_dir) / f"{name}.onnx"
    dynamic = batch_axes(["z"] + layout.names)
    used = export_onnx(graph, [z], path, ["z"], layout.names, dynamic, opset, exporter)
    return _entry("template", path, used, ["z"], [z], layout.names, outs, dynamic, template=layout)


def export_search(model: nn.Module, template: Any, x: torch.Tensor, out_dir: Path, with_mask: bool = False,
                  dynamic_size: bool = False, opset: int = DEFAULT_OPSET, exporter: str = "auto",
                  name: str = "search") -> Dict[str, Any]:
    """Export ``track_with(template, x, with_mask)`` with the template tensors as inputs."""
    t_layout = Layout.of(template, "t_")
    tensors = [_double(t) for t in t_layout.pack(template)]
    x = _double(x)
    with torch.no_grad():
        out_layout = Layout.of(model.track_with(t_layout.unpack(tensors), x, with_mask=with_mask))
        graph = SearchGraph(model, t_layout, out_layout, with_mask).eval()
        outs = graph(x, *tensors)
    names = ["x"] + t_layout.names
    dynamic = batch_axes(names + out_layout.names, "x" if dynamic_size else "")
    if dynamic_size:  # the output maps follow the crop size
        for n, t in zip(out_layout.names, outs):
            dynamic[n].update({a: f"{n}_{'hw'[a - 2]}" for a in (2, 3) if t.dim() == 4})
    path = Path(out_dir) / f"{name}.onnx"
    used = export_onnx(graph, [x, *tensors], path, names, out_layout.names, dynamic, opset, exporter,
                       prefer=("dynamo", "torchscript"))
    entry = _entry("search_mask" if with_mask else "search", path, used, names, [x, *tensors],
                   out_layout.names, outs, dynamic, template=t_layout, out=out_layout)
    entry["size"] = None if dynamic_size else int(x.shape[-1])
    return entry


def export_refine(model: nn.Module, out: Dict[str, Any], pos: torch.Tensor, out_dir: Path,
                  opset: int = DEFAULT_OPSET, exporter: str = "auto", name: str = "refine") -> Dict[str, Any]:
    """Export ``refine_with(out, pos)`` (``pos``: (B, 2) int64 rows / cols) for ``out`` like a search output."""
    layout = Layout.of(out)
    tensors = [_double(t) for t in layout.pack(out)]
    pos = _double(pos.to(torch.long))
    graph = RefineGraph(model, layout).eval()
    with torch.no_grad():
        masks = graph(pos, *tensors)
    names = ["pos"] + layout.names
    dynamic = batch_axes(names + ["mask_logits"])
    path = Path(out_dir) / f"{name}.onnx"
    used = export_onnx(graph, [pos, *tensors], path, names, ["mask_logits"], dynamic, opset, exporter)
    return _entry("refine", path, used, names, [pos, *tensors], ["mask_logits"], [masks], dynamic, out=layout)


def compare(session, names: Sequence[str], inputs: Sequence[torch.Tensor], expected: Sequence[torch.Tensor]) -> float:
    """Max over outputs of max |session - expected| / max |expected| (inputs by name; names the
    session lacks, inputs an exporter dropped as unused, are left out)."""
    have = {i.name for i in session.get_inputs()}
    feed = {n: t.detach().cpu().numpy() for n, t in zip(names, inputs) if n in have}
    worst = 0.0
    for got, ref in zip(session.run(None, feed), expected):
        ref = ref.detach().cpu().numpy()
        scale = max(float(np.abs(ref).max()) if ref.size else 0.0, 1e-12)
        worst = max(worst, float(np.abs(got - ref).max()) / scale if ref.size else 0.0)
    return worst


def write_manifest(out_dir: Path, manifest: Dict[str, Any]) -> Path:
    """``out_dir/model.json``, written atomically."""
    path = Path(out_dir) / "model.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, default=str))
    os.replace(tmp, path)
    return path


def export_for_config(model: nn.Module, cfg, out_dir, opset: int = DEFAULT_OPSET, exporter: str = "auto",
                      frames: Optional[Sequence[np.ndarray]] = None, box: Optional[Sequence[float]] = None,
                      report: Callable[[str], None] = print) -> Dict[str, Any]:
    """Export every graph the config's tracker needs into ``out_dir``, validate, write model.json.

    ``frames`` (two BGR frames) and ``box`` give the real crops of the validation (default: a
    generated synthetic video)."""
    from .validate import real_crops, validate_entry

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    sizes = search_sizes(cfg)
    crops = real_crops(cfg, model, sizes, frames, box)
    graphs: Dict[str, Any] = {"template": export_template(model, crops["z"], out_dir, opset, exporter)}
    with torch.no_grad():
        template = model.extract_template(crops["z"])
    x0 = crops[sizes[0]]
    graphs["search"] = export_search(model, template, x0, out_dir, False, len(sizes) > 1, opset, exporter)
    with torch.no_grad():
        plain, masked = (Layout.of(model.track_with(template, x0, with_mask=m)) for m in (False, True))
    mask_adds = masked.names != plain.names
    if mask_adds:
        graphs["search_mask"] = export_search(model, template, x0, out_dir, True, len(sizes) > 1, opset,
                                              exporter, name="search_mask")
    pos = crops.get("pos")
    if pos is not None and _has_refine(model, template, x0, pos):
        with torch.no_grad():
            out = model.track_with(template, x0, with_mask=False)
        graphs["refine"] = export_refine(model, out, pos, out_dir, opset, exporter)
    manifest = {"format": FORMAT, "opset": opset, "versions": versions(), "model_digest": model_digest(model),
                "config_digest": config_digest(cfg), "meta_arc": str(cfg.get("META_ARC", "")),
                "template_size": int(crops["z"].shape[-1]), "search_sizes": sizes, "mask_adds_outputs": mask_adds,
                "graphs": graphs}
    for key, entry in graphs.items():
        for label, diff in validate_entry(model, out_dir, entry, crops, sizes).items():
            report(f"{key:12s} {label:18s} max rel diff {diff:.2e}")
            entry.setdefault("max_rel_diff", {})[label] = diff
    write_manifest(out_dir, manifest)
    return manifest


def _has_refine(model: nn.Module, template: Any, x: torch.Tensor, pos: torch.Tensor) -> bool:
    refine = getattr(model, "refine_with", None)
    if not callable(refine):
        return False
    try:
        with torch.no_grad():
            refine(model.track_with(template, x, with_mask=False), pos)
    except (RuntimeError, NotImplementedError, KeyError, AttributeError):
        return False
    return True
