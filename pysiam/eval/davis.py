"""DAVIS semi-supervised evaluation (region J and boundary F), as davis2017-evaluation does it.

* the first and last frames are not scored; void (255) in the ground truth is background;
* objects are the labels 1..K with K the largest label of the first ground-truth frame
  (DAVIS 2016: any non-zero pixel is the one object); an object missing from a result mask is
  an empty mask; a result label above K is an error;
* J = |A and B| / |A or B|, 1 when both are empty;
* F: boundary pixels are those that differ from their right, lower or lower-right neighbour
  (the last row / column compare only along the border, the corner never); each boundary is
  dilated with a disk of radius ceil(0.008 x image diagonal) and matched against the other;
  F = 2PR / (P + R); both boundaries empty: 1; only one empty: 0;
* per object: mean, recall (fraction of frames > 0.5), decay (mean of the first of 4 bins
  minus mean of the last, bins from round(linspace(1, N, 5) + 1e-10) - 1, inclusive ends);
  dataset numbers average over objects; J&F = (J mean + F mean) / 2.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

__all__ = ["region_similarity", "boundary_map", "boundary_f", "disk", "object_statistics",
           "split_objects", "davis_sequence_scores", "davis_summary"]


def region_similarity(gt: np.ndarray, res: np.ndarray) -> float:
    """J of two binary masks."""
    gt, res = gt.astype(bool), res.astype(bool)
    union = np.count_nonzero(gt | res)
    return 1.0 if union == 0 else np.count_nonzero(gt & res) / union


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """Pixels that differ from the right, lower or lower-right neighbour (borders compare only
    along themselves; the bottom-right corner is never a boundary)."""
    m = mask.astype(bool)
    right = np.zeros_like(m)
    down = np.zeros_like(m)
    diag = np.zeros_like(m)
    right[:, :-1] = m[:, 1:]
    down[:-1, :] = m[1:, :]
    diag[:-1, :-1] = m[1:, 1:]
    b = (m ^ right) | (m ^ down) | (m ^ diag)
    b[-1, :] = m[-1, :] ^ right[-1, :]
    b[:, -1] = m[:, -1] ^ down[:, -1]
    b[-1, -1] = False
    return b


def disk(radius: int) -> np.ndarray:
    """Binary disk: offsets (dx, dy) with dx^2 + dy^2 <= radius^2."""
    r = np.arange(-radius, radius + 1)
    return (r[None, :] ** 2 + r[:, None] ** 2 <= radius ** 2).astype(np.uint8)


def boundary_f(gt: np.ndarray, res: np.ndarray, bound_th: float = 0.008) -> float:
    """Boundary F-measure of two binary masks."""
    import cv2

    radius = bound_th if bound_th >= 1 else math.ceil(bound_th * math.hypot(*gt.shape[:2]))
    kernel = disk(int(radius))
    gt_b, res_b = boundary_map(gt), boundary_map(res)
    n_gt, n_res = int(gt_b.sum()), int(res_b.sum())
    if n_gt == 0 and n_res == 0:
        return 1.0
    if n_gt == 0 or n_res == 0:
        return 0.0
    # dilate only around the boundaries (the rest of the image stays 0 either way)
    r = int(radius)
    rows = np.flatnonzero((gt_b | res_b).any(axis=1))
    cols = np.flatnonzero((gt_b | res_b).any(axis=0))
    win = (slice(max(rows[0] - r, 0), rows[-1] + r + 1), slice(max(cols[0] - r, 0), cols[-1] + r + 1))
    gt_b, res_b = gt_b[win], res_b[win]
    gt_dil = cv2.dilate(gt_b.astype(np.uint8), kernel) > 0
    res_dil = cv2.dilate(res_b.astype(np.uint8), kernel) > 0
    precision = np.count_nonzero(res_b & gt_dil) / n_res
    recall = np.count_nonzero(gt_b & res_dil) / n_gt
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def object_statistics(values: np.ndarray) -> dict:
    """Mean, recall (> 0.5) and decay over 4 bins of one object's per-frame values."""
    values = np.asarray(values, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = float(np.nanmean(values))
        recall = float(np.nanmean(values > 0.5))
        ids = (np.round(np.linspace(1, len(values), 5) + 1e-10) - 1).astype(np.int64)
        bins = [values[ids[i]:ids[i + 1] + 1] for i in range(4)]
        decay = float(np.nanmean(bins[0]) - np.nanmean(bins[3]))
    return {"mean": mean, "recall": recall, "decay": decay}


def split_objects(labels: np.ndarray, num_objects: int, binary: bool = False) -> np.ndarray:
    """K x H x W boolean masks of objects 1..K (binary: any non-zero pixel is object 1)."""
    if binary:
        return (labels > 0)[None]
    return labels[None] == np.arange(1, num_objects + 1)[:, None, None]


def davis_sequence_scores(gt_masks: list[np.ndarray], res_masks: list[np.ndarray],
                          binary: bool = False, where: str = "") -> dict:
    """Per-object per-frame J and F of one sequence. Masks are label arrays of every frame
    (gt) and of the scored frames 1..T-2 (results, same order)."""
    first = gt_masks[0].copy()
    first[first == 255] = 0
    k = 1 if binary else int(first.max())
    gts = gt_masks[1:-1]
    if len(res_masks) != len(gts):
        raise ValueError(f"{where}: {len(res_masks)} result masks for {len(gts)} scored frames")
    j = np.zeros((k, len(gts)))
    f = np.zeros((k, len(gts)))
    for t, (g, r) in enumerate(zip(gts, res_masks)):
        if g.shape != r.shape:
            raise ValueError(f"{where}: frame {t + 1}: result {r.shape} vs annotation {g.shape}")
        g = g.copy()
        g[g == 255] = 0
        if not binary and r.max(initial=0) > k:
            raise ValueError(f"{where}: frame {t + 1}: result label {int(r.max())} but only "
                             f"{k} object(s) in the first annotation")
        go, ro = split_objects(g, k, binary), split_objects(r, k, binary)
        for o in range(k):
            j[o, t] = region_similarity(go[o], ro[o])
            f[o, t] = boundary_f(go[o], ro[o])
    return {"J": j, "F": f}


def davis_summary(per_sequence: dict[str, dict]) -> dict:
    """Dataset numbers over all objects of all sequences, and per-object means."""
    stats = {"J": [], "F": []}
    per_object = {}
    for seq in sorted(per_sequence):
        for o in range(per_sequence[seq]["J"].shape[0]):
            name = f"{seq}_{o + 1}"
            entry = {}
            for m in ("J", "F"):
                s = object_statistics(per_sequence[seq][m][o])
                stats[m].append(s)
                entry[f"{m}_mean"] = s["mean"]
            per_object[name] = entry
    out = {}
    for m in ("J", "F"):
        for key in ("mean", "recall", "decay"):
            out[f"{m}_{key}"] = float(np.mean([s[key] for s in stats[m]])) if stats[m] else float("nan")
    out["JF_mean"] = (out["J_mean"] + out["F_mean"]) / 2
    out["num_objects"] = len(per_object)
    out["per_object"] = per_object
    return out
