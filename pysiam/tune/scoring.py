"""Score protocol outputs in memory with each benchmark's own metric.

The numbers equal what ``tools/eval.py`` computes from the result files that ``tools/test.py``
would write for the same run: VOT regions are rounded to the 4 decimals of pysot's files and
long-term confidences to 6, exactly as a write / read round trip does.

Default metric per protocol: OPE success AUC, VOT EAO, long-term F-score, GOT-10k AO, DAVIS J&F.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from pysiam.eval.davis import davis_sequence_scores, davis_summary
from pysiam.eval.got10k import got10k_summary, got10k_video_ious
from pysiam.eval.ope import PRECISION_AT, ope_summary, ope_video_scores
from pysiam.eval.vot import longterm_summary, longterm_video_scores, vot_summary, vot_video_scores

__all__ = ["METRICS", "METRIC_ALIASES", "resolve_metric", "vot_arrays", "video_scores",
           "summarize"]

# Metrics a search can optimise, per protocol; the first is the default.
METRICS: Dict[str, Tuple[str, ...]] = {
    "ope": ("success_auc", "precision", "norm_precision"),
    "vot": ("eao", "accuracy", "robustness", "lost_number"),
    "vot-lt": ("f_score", "precision", "recall"),
    "got10k": ("ao", "sr50", "sr75"),
    "davis": ("JF_mean", "J_mean", "F_mean"),
}
METRIC_ALIASES = {"auc": "success_auc", "success": "success_auc", "jf": "JF_mean",
                  "j&f": "JF_mean", "j": "J_mean", "f": "F_mean", "f1": "f_score"}


def resolve_metric(protocol: str, name: str | None) -> str:
    """The metric to optimise: ``name`` (or an alias) checked against the protocol, else its default."""
    known = METRICS[protocol]
    if not name:
        return known[0]
    m = METRIC_ALIASES.get(name.lower(), name)
    if m not in known:
        low = {k.lower(): k for k in known}
        m = low.get(m.lower(), m)
    if m not in known:
        raise ValueError(f"metric {name!r} is not reported for the {protocol} protocol; "
                         f"choose one of {', '.join(known)}")
    return m


def vot_arrays(records: list) -> Tuple[np.ndarray, np.ndarray]:
    """VOT records (ints 0/1/2 or regions) as (codes, regions), as read back from a result file."""
    def region(r) -> List[float]:
        return [float(f"{float(v):.4f}") for v in np.asarray(r, dtype=np.float64).reshape(-1)]

    parsed = [int(r) if isinstance(r, (int, np.integer)) else region(r) for r in records]
    width = max([len(p) for p in parsed if isinstance(p, list)], default=4)
    codes = np.full(len(parsed), -1, np.int64)
    regions = np.full((len(parsed), width), np.nan)
    for i, p in enumerate(parsed):
        if isinstance(p, int):
            codes[i] = p
            continue
        if len(p) == 4 and width > 4:
            x, y, w, h = p
            p = [x, y, x + w, y, x + w, y + h, x, y + h]
        if len(p) < width:
            p = p + p[-2:] * ((width - len(p)) // 2)
        regions[i] = p
    return codes, regions


def video_scores(protocol: str, video, result, gt_masks=None):
    """Per-video statistics (the inputs of the dataset summary) from one protocol result."""
    if protocol == "ope":
        return ope_video_scores(video.gt, np.asarray(result.boxes, np.float64), video.visible)
    if protocol == "vot":
        return vot_video_scores([vot_arrays(result.records)], video.gt, video.image_size, video.tags)
    if protocol == "vot-lt":
        boxes = np.asarray(result.boxes, np.float64)
        codes = np.full(len(boxes), -1, np.int64)
        codes[0] = 1
        regions = boxes.copy()
        regions[0] = np.nan
        conf = np.array([np.nan] + [float(f"{s:.6f}") for s in result.scores[1:]])
        return longterm_video_scores(codes, regions, conf, video.gt, video.image_size)
    if protocol == "got10k":
        return got10k_video_ious([np.asarray(result.boxes, np.float64)], video.gt, video.image_size,
                                 video.visible)
    if protocol == "davis":
        n = len(gt_masks)
        binary = video.meta.get("year") == 2016
        return davis_sequence_scores(gt_masks, result.labels[1:n - 1], binary, where=video.name)
    raise ValueError(f"unknown protocol {protocol!r}")


def _scalars(d: dict) -> Dict[str, float]:
    return {k: float(v) for k, v in d.items()
            if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)}


def summarize(protocol: str, per_video: dict, eao_interval=None,
              eao_window: str = "pysot") -> Tuple[Dict[str, float], Dict[str, dict]]:
    """(dataset numbers, small per-video numbers) from the per-video statistics."""
    if protocol == "ope":
        s = ope_summary(per_video)
        pv = {v: {"success_auc": float(np.mean(r["success"])),
                  "precision": float(r["precision"][PRECISION_AT])} for v, r in sorted(per_video.items())}
        return _scalars(s), pv
    if protocol == "vot":
        s = vot_summary(per_video, eao_interval, eao_window)
        pv = {v: {"lost_number": float(np.mean(r["failures"]))} for v, r in sorted(per_video.items())}
        return _scalars(s), pv
    if protocol == "vot-lt":
        s = longterm_summary(per_video)
        return _scalars(s), s["per_video"]
    if protocol == "got10k":
        s = got10k_summary(per_video)
        return _scalars(s), s["per_video"]
    if protocol == "davis":
        s = davis_summary(per_video)
        return _scalars(s), s["per_object"]
    raise ValueError(f"unknown protocol {protocol!r}")
