"""The targets of the device check and its summary table (see :mod:`pysiam.cli.gpu_check`).

Targets (on one H200, SiamRPN++ r50, exact float32 path, pysot with the same weights on the
same GPU): single-stream tracker FPS >= 3x pysot's with boxes within 0.05 px; batched engine over
32 videos >= 10x pysot's frames/s and >= 1,500 frames/s; training samples/s >= 2x pysot's.
NanoTrack V2: figures only. Each target has ``value`` (a number or None), ``met`` (True, False,
or None when not judged) and ``reason`` whenever it was not judged.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

TARGETS = (  # name, threshold, comparison, what
    ("tracker_fps_vs_pysot", 3.0, ">=", "single-stream tracker FPS / pysot's (same process, same weights)"),
    ("boxes_vs_pysot_max_px", 0.05, "<=", "max box difference to pysot over the video (px)"),
    ("batched_fps_vs_pysot", 10.0, ">=", "batched engine frames/s / pysot's single-stream FPS"),
    ("batched_frames_per_s", 1500.0, ">=", "batched engine frames/s over the generated videos"),
    ("train_samples_per_s_vs_pysot", 2.0, ">=", "training samples/s / pysot's (same process)"),
)


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0 else None


def _values(r: Dict[str, Any]) -> Dict[str, Any]:
    meta = r.get("meta", {})
    rpn = _get(r, "benchmarks", meta.get("configs", {}).get("siamrpn", "")) or {}
    pcfg = (meta.get("pysot_configs") or [""])[0]
    ps = _get(r, "pysot", pcfg) or {}
    batched = _get(rpn, "infer", "figures", "batched", "frames_per_s")
    return {"tracker_fps_vs_pysot": ps.get("tracker_fps_ratio"),
            "boxes_vs_pysot_max_px": _get(ps, "boxes", "max_px"),
            "batched_fps_vs_pysot": _ratio(batched, ps.get("pysot_fps_best")),
            "batched_frames_per_s": batched,
            "train_samples_per_s_vs_pysot": _get(ps, "train", "samples_per_s_ratio")}


def _why_missing(r: Dict[str, Any], name: str) -> str:
    meta = r.get("meta", {})
    if "pysot" in name or "boxes" in name:
        ps = r.get("pysot", {})
        if ps.get("reason"):
            return f"pysot: {ps['reason']}"
        one = _get(ps, (meta.get("pysot_configs") or [""])[0]) or {}
        return f"pysot: {one.get('reason') or _get(one, 'train', 'reason') or 'no figure'}"
    sec = _get(r, "benchmarks", meta.get("configs", {}).get("siamrpn", ""), "infer") or {}
    return f"benchmark: {sec.get('reason') or 'no figure'}"


def summarize(r: Dict[str, Any]) -> Dict[str, Any]:
    """Targets and the NanoTrack V2 figures of a result dict."""
    dry = bool(_get(r, "meta", "dry_run"))
    values = _values(r)
    targets: List[Dict[str, Any]] = []
    for name, threshold, op, what in TARGETS:
        v = values[name]
        t: Dict[str, Any] = {"name": name, "what": what, "value": v, "threshold": threshold, "op": op, "met": None}
        if v is None:
            t["reason"] = _why_missing(r, name)
        elif dry:
            t["reason"] = "dry-run: CPU, tiny sizes and small configs; not a reading of the target"
        else:
            t["met"] = bool(v >= threshold if op == ">=" else v <= threshold)
        targets.append(t)
    nano_cfg = _get(r, "meta", "configs", "nanotrack") or ""
    nano = _get(r, "benchmarks", nano_cfg) or {}
    figures = {"tracker_fps": _get(nano, "infer", "figures", "tracker", "fps_median"),
               "batched_frames_per_s": _get(nano, "infer", "figures", "batched", "frames_per_s"),
               "train_samples_per_s": _get(nano, "train", "figures", "train", "samples_per_s")}
    nanotrack = {"config": nano_cfg, **figures}
    if any(v is None for v in figures.values()):
        nanotrack["reason"] = nano.get("reason") or _get(nano, "infer", "reason") or _get(nano, "train", "reason") \
            or "not run (budget)"
    judged = [t["met"] for t in targets if t["met"] is not None]
    return {"targets": targets, "nanotrack_v2": nanotrack,
            "all_met": (all(judged) and len(judged) == len(targets)) if judged else None}


def _fmt(v: Any, digits: int = 1) -> str:
    return f"{v:.{digits}f}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def _section_notes(r: Dict[str, Any]) -> List[tuple]:
    rows = []
    env = r.get("environment", {})
    rows.append(("environment", env.get("status"), f"torch {env.get('torch')}, CUDA {env.get('cuda_available')}, "
                 f"{env.get('device_name', 'no GPU')} cc {env.get('capability')}, cudnn {env.get('cudnn')}"))
    for key in ("install", "cuda_tests"):
        s = r.get(key, {})
        rows.append((key, s.get("status"), s.get("reason") or str(s.get("counts", ""))))
    for cfg, sec in r.get("benchmarks", {}).items():
        for part, rec in sec.items():
            if not isinstance(rec, dict):
                continue
            f = rec.get("figures", {})
            note = rec.get("reason") or ", ".join(x for x in (
                f"tracker {_fmt(_get(f, 'tracker', 'fps_median'))} fps" if _get(f, "tracker", "fps_median") else "",
                f"batched {_fmt(_get(f, 'batched', 'frames_per_s'))} f/s (seq "
                f"{_fmt(_get(f, 'batched', 'sequential_frames_per_s'))})" if _get(f, "batched", "frames_per_s") else "",
                f"train {_fmt(_get(f, 'train', 'samples_per_s'))} samples/s (batch {_get(f, 'train', 'batch')})"
                if _get(f, "train", "samples_per_s") else "") if x)
            rows.append((f"{cfg} {part}", rec.get("status"), note))
    t = r.get("test_py", {})
    rows.append(("test_py", t.get("status"), t.get("reason") or f"max box diff {_fmt(t.get('max_box_diff_px'), 4)} "
                 f"px, wall speed-up x{_fmt(t.get('speedup_wall'), 2)}"))
    o = r.get("inference_options", {})
    if o:
        worst = {k: max(v["rel_diff_per_call"]) for k, v in o.get("variants", {}).items() if "rel_diff_per_call" in v}
        rows.append(("inference_options", o.get("status"), o.get("reason") or
                     ", ".join(f"{k} {v:.1e}" for k, v in worst.items()) +
                     f"; over tolerance or failed: {o.get('over_tolerance_or_failed')}"))
    for cfg, p in r.get("pysot", {}).items():
        if isinstance(p, dict):
            rows.append((f"pysot {cfg}", p.get("status"), p.get("reason") or
                         f"pysot {_fmt(p.get('pysot_fps_best'))} fps, pysiam "
                         f"{_fmt(_get(p, 'pysiam_tracker', 'fps_median'))} fps, boxes max "
                         f"{_fmt(_get(p, 'boxes', 'max_px'), 4)} px (no TF32: "
                         f"{_fmt(_get(p, 'boxes_no_tf32', 'max_px'), 4)}), train x"
                         f"{_fmt(_get(p, 'train', 'samples_per_s_ratio'), 2)}"))
    if "reason" in r.get("pysot", {}):
        rows.append(("pysot", r["pysot"].get("status"), r["pysot"]["reason"]))
    return rows


def summary_table(r: Dict[str, Any]) -> str:
    """The sections and targets as aligned text (printed last by the check)."""
    meta = r.get("meta", {})
    head = f"gpu_check ({'dry-run' if meta.get('dry_run') else 'device'}) wall {_fmt(meta.get('wall_s'))} s " \
           f"of budget {_fmt(meta.get('budget_s'), 0)} s"
    lines = [head, "-" * len(head)]
    lines += [f"{a:<38} {str(b):<14} {c}" for a, b, c in _section_notes(r)]
    lines += [f"error: {e}" for e in r.get("errors", [])]
    s = r.get("summary", {})
    lines.append("targets:")
    for t in s.get("targets", []):
        lines.append(f"  {t['name']:<30} {_fmt(t['value'], 3):>10} {t['op']} {t['threshold']:<7} "
                     f"met={t['met']}" + (f"  ({t['reason']})" if t.get("reason") else ""))
    n = s.get("nanotrack_v2", {})
    if n:
        lines.append(f"  nanotrack_v2: tracker {_fmt(n.get('tracker_fps'))} fps, batched "
                     f"{_fmt(n.get('batched_frames_per_s'))} f/s, train {_fmt(n.get('train_samples_per_s'))} samples/s"
                     + (f"  ({n['reason']})" if n.get("reason") else ""))
    return "\n".join(lines)
