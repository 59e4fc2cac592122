"""Checking exported graphs against the torch model on random and real crops."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np
import torch
from torch import nn

from .graphs import RefineGraph, SearchGraph, TemplateGraph
from .layout import Layout
from .runtime import make_session

__all__ = ["real_crops", "validate_entry", "default_frames", "teacher_forced_box_diff"]


def default_frames():
    """Two frames and the first box of a generated synthetic video (the validation's real crops)."""
    from pysiam.data.synthetic import generate_video, preset

    video = generate_video(0, preset("default", n_frames=2))
    return video.frames, [float(v) for v in video.boxes[0]]


def real_crops(cfg, model: nn.Module, sizes: Sequence[int], frames=None, box=None) -> Dict[Any, torch.Tensor]:
    """The tracker's template crop ``z`` of frame 0 at ``box`` (TRACK.CONTEXT_AMOUNT context), the
    search crops of frame 1 around the same box (one per size, keyed by size) and ``pos`` (1, 2),
    the centre of the score map (the smallest map the search pass returns)."""
    from pysiam.tracker import get_subwindow
    from pysiam.tracker.scoring import context_size

    if frames is None:
        frames, box = default_frames()
    x0, y0, w, h = (float(v) for v in box)
    centre = (x0 + (w - 1) / 2, y0 + (h - 1) / 2)
    exemplar = int(cfg.TRACK.EXEMPLAR_SIZE)
    s_z = context_size((w, h), float(cfg.TRACK.CONTEXT_AMOUNT))
    mean0, mean1 = (np.mean(f, axis=(0, 1)) for f in (frames[0], frames[-1]))
    crops: Dict[Any, torch.Tensor] = {"z": get_subwindow(frames[0], centre, exemplar, max(round(s_z), 1), mean0)}
    for size in sizes:
        crops[size] = get_subwindow(frames[-1], centre, int(size), max(round(s_z * size / exemplar), 1), mean1)
    with torch.no_grad():
        out = model.track_with(model.extract_template(crops["z"]), crops[sizes[0]], with_mask=False)
    maps = [t for t in Layout.of(out).pack(out) if t.dim() == 4]
    side = min(t.shape[-1] for t in maps)
    crops["pos"] = torch.tensor([[side // 2, side // 2]], dtype=torch.long)
    return crops


def _random_like(t: torch.Tensor, batch: int, gen: torch.Generator) -> torch.Tensor:
    return torch.rand((batch,) + tuple(t.shape[1:]), generator=gen) * 255.0


def _cases(model, entry, crops, sizes) -> List[tuple]:
    """(label, graph module, inputs) for the entry's random (batch 1 and 3) and real checks."""
    gen = torch.Generator().manual_seed(0)
    kind, layouts = entry["kind"], {k: Layout.from_json(v) for k, v in entry["layouts"].items()}
    z = crops["z"]
    if kind == "template":
        graph = TemplateGraph(model, layouts["template"])
        return [(f"random b{b}", graph, [_random_like(z, b, gen)]) for b in (1, 3)] + [("real", graph, [z])]
    t_layout = layouts.get("template")
    cases = []
    if kind in ("search", "search_mask"):
        graph = SearchGraph(model, t_layout, layouts["out"], kind == "search_mask")
        run_sizes = sizes if entry.get("size") is None else [entry["size"]]
        for b in (1, 3):
            zr = _random_like(z, b, gen)
            xr = _random_like(crops[run_sizes[0]], b, gen)
            cases.append((f"random b{b}", graph, [xr, *t_layout.pack(model.extract_template(zr))]))
        template = t_layout.pack(model.extract_template(z))
        cases += [(f"real {s}", graph, [crops[s], *template]) for s in run_sizes]
        return cases
    if kind == "refine":
        graph = RefineGraph(model, layouts["out"])
        x = crops[sizes[0]]
        for label, zz, xx in (("random b3", _random_like(z, 3, gen), _random_like(x, 3, gen)), ("real", z, x)):
            out = model.track_with(model.extract_template(zz), xx, with_mask=False)
            pos = crops["pos"].repeat(xx.shape[0], 1)
            cases.append((label, graph, [pos, *layouts["out"].pack(out)]))
        return cases
    raise ValueError(f"unknown graph kind {kind!r}")


def validate_entry(model: nn.Module, out_dir: Path, entry: Dict[str, Any], crops: Dict[Any, torch.Tensor],
                   sizes: Sequence[int], threads: int = 0) -> Dict[str, float]:
    """{check label: max relative difference} of one exported graph against the torch model."""
    from .export import compare

    session = make_session(Path(out_dir) / entry["file"], threads=threads)
    names = [row["name"] for row in entry["inputs"]]
    out: Dict[str, float] = {}
    with torch.no_grad():
        for label, graph, inputs in _cases(model, entry, crops, sizes):
            expected = graph(*inputs)
            expected = [expected] if isinstance(expected, torch.Tensor) else list(expected)
            out[label] = compare(session, names, inputs, expected)
    return out


def teacher_forced_box_diff(reference: Any, other: Any, frames: Sequence[np.ndarray], box: Sequence[float]) -> float:
    """Max |box difference| (px) of tracker ``other`` against ``reference`` when ``other`` starts
    every frame from the reference's state (free runs amplify rounding from frame to frame)."""
    reference.init(frames[0], box)
    other.init(frames[0], box)
    worst = 0.0
    for frame in frames[1:]:
        other.center_pos, other.size = reference.center_pos.copy(), reference.size.copy()
        a, b = reference.track(frame)["bbox"], other.track(frame)["bbox"]
        worst = max(worst, float(np.abs(np.asarray(a) - np.asarray(b)).max()))
    return worst
