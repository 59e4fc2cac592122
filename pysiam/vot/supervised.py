"""Scores of the toolkit's (0.7.4) ``supervised`` experiment (VOT2013-2019 reset protocol) from
stored trajectories (codes: 1 initialisation, 2 failure, 0 skipped frames).

Per sequence (averaged over its repetitions): accuracy = mean overlap of the frames that are
not skipped, not failures and not within ``burnin`` frames of an initialisation; failures =
the number of failure codes. Dataset: both weighted by sequence length; the AR plot's
robustness is exp(-failures / mean length * sensitivity). EAO: every run is cut into fragments
from an initialisation to the next failure (failed) or the end (successful); curve[j] is the
weighted mean over fragments of the mean overlap of frames 1..j (a failed fragment counts at
every j, zeros past its end; a successful one only within its length), in single precision as
the toolkit; the score is the mean of curve[low : high + 1].
"""
from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import numpy as np

from pysiam.vot.regions import FAILURE, INIT, UNKNOWN, Region, region_overlaps

__all__ = ["run_accuracy", "run_fragments", "supervised_eao_curve", "supervised_summary"]


def _code(r: Region, code: int) -> bool:
    return r.kind == "special" and r.code == code


def run_accuracy(traj: Sequence[Region], gt: Sequence[Region], size, burnin: int = 10) -> float:
    """Mean overlap of one run's counted frames (0 when none counts)."""
    overlaps = np.asarray(region_overlaps(traj, gt, size))
    keep = np.ones(len(overlaps), dtype=bool)
    for i, r in enumerate(traj):
        if _code(r, UNKNOWN) or _code(r, FAILURE):
            keep[i] = False
        elif _code(r, INIT):
            keep[i:i + burnin] = False
    return float(np.mean(overlaps[keep])) if keep.any() else 0.0


def run_fragments(traj: Sequence[Region], gt: Sequence[Region], size) -> List[Tuple[List[float], bool]]:
    """(overlaps, successful) of each initialisation-to-failure fragment of one run."""
    overlaps = region_overlaps(traj, gt, size)
    fails = [i for i, r in enumerate(traj) if _code(r, FAILURE)]
    inits = [i for i, r in enumerate(traj) if _code(r, INIT)]
    if not fails:
        return [(overlaps, True)]
    out = [(overlaps[s:f], False) for s, f in zip(inits, fails)]
    if len(inits) > len(fails):
        out.append((overlaps[inits[-1]:], True))
    return out


def supervised_eao_curve(fragments: Sequence[Tuple[List[float], bool]]) -> np.ndarray:
    """The pooled EAO curve of all fragments (unit weights), float32 as the toolkit."""
    n, width = len(fragments), max(len(o) for o, _ in fragments)
    ov = np.zeros((n, width), dtype=np.float32)
    mask = np.zeros((n, width), dtype=np.float32)
    weights = np.ones((n, 1), dtype=np.float32)
    for i, (o, ok) in enumerate(fragments):
        ov[i, :len(o)] = np.array(o)
        mask[i, :len(o) if ok else width] = 1
    means = ov.copy()
    for j in range(1, width):
        means[:, j] = np.mean(ov[:, 1:j + 1], axis=1)
    return np.sum(weights * means * mask, axis=0) / np.asarray(
        np.sum(mask * weights, axis=0).tolist())


def supervised_summary(per_seq: Dict[str, Tuple[float, float, int]], fragments, low: int,
                       high: int, sensitivity: float = 30.0) -> Dict[str, float]:
    """Dataset numbers from per-sequence (accuracy, failures, length) and all EAO fragments."""
    total = sum(n for _, _, n in per_seq.values())
    acc = sum(a * n for a, _, n in per_seq.values()) / total
    fails = sum(f * n for _, f, n in per_seq.values()) / total
    length = total / len(per_seq)
    curve = supervised_eao_curve(fragments)
    return {"accuracy": acc, "robustness": fails, "failures": fails,
            "ar_robustness": math.exp(-(fails / length) * sensitivity),
            "eao": float(np.mean(curve[low:high + 1])), "eao_curve": [float(v) for v in curve]}
