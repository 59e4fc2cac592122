"""One-pass evaluation (OTB, UAV123, LaSOT, NfS, TrackingNet): success, precision, normalised
precision, as pysot computes them.

* IoU of x,y,w,h boxes (right edge x + w), success = fraction of frames with IoU strictly above
  each of the 21 thresholds 0, 0.05, ..., 1; AUC = mean of the 21 values.
* precision = fraction of frames whose centre error (centre x + (w - 1) / 2) is <= 0..50 px,
  reported at 20 px; normalised precision divides centres by the ground-truth w, h, 0..0.5,
  reported at 0.20.
* frames whose ground truth is invalid (w or h not > 0, or NaN) have IoU -1: never a success;
  their centre error is -1: always within precision. Frames that are not `visible` (LaSOT's
  absent flag) are dropped but stay in the denominator.
* dataset numbers are plain means over videos.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

__all__ = ["SUCCESS_THRESHOLDS", "PRECISION_THRESHOLDS", "NORM_PRECISION_THRESHOLDS",
           "box_iou", "success_curve", "precision_curve", "ope_video_scores", "ope_summary"]

SUCCESS_THRESHOLDS = np.arange(0, 1.05, 0.05)
PRECISION_THRESHOLDS = np.arange(0, 51, 1).astype(np.float64)
NORM_PRECISION_THRESHOLDS = np.arange(0, 51, 1) / 100
PRECISION_AT = 20          # index of 20 px / 0.20 in the precision curves


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of matching rows of two N x 4 x,y,w,h arrays (continuous coordinates), in [0, 1]."""
    left = np.maximum(a[:, 0], b[:, 0])
    right = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    top = np.maximum(a[:, 1], b[:, 1])
    bottom = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.maximum(0, right - left) * np.maximum(0, bottom - top)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
    return np.maximum(np.minimum(1, iou), 0)


def _centres(boxes: np.ndarray) -> np.ndarray:
    return np.stack([boxes[:, 0] + (boxes[:, 2] - 1) / 2, boxes[:, 1] + (boxes[:, 3] - 1) / 2], 1)


def success_curve(gt: np.ndarray, pred: np.ndarray, n_frames: int | None = None) -> np.ndarray:
    """Fraction of frames with IoU > t for the 21 thresholds (invalid ground truth: never)."""
    n_frames = len(gt) if n_frames is None else n_frames
    iou = np.full(len(gt), -1.0)
    with np.errstate(invalid="ignore"):
        ok = (gt[:, 2] > 0) & (gt[:, 3] > 0)
    iou[ok] = box_iou(gt[ok], pred[ok])
    with np.errstate(invalid="ignore"):
        return (iou[None, :] > SUCCESS_THRESHOLDS[:, None]).sum(axis=1) / float(n_frames)


def precision_curve(gt_c: np.ndarray, pred_c: np.ndarray, thresholds: np.ndarray,
                    n_frames: int | None = None) -> np.ndarray:
    """Fraction of frames with centre distance <= t (frames whose gt centre is not > 0: always)."""
    n_frames = len(gt_c) if n_frames is None else n_frames
    dist = np.full(len(gt_c), -1.0)
    with np.errstate(invalid="ignore"):
        ok = (gt_c > 0).all(axis=1)
    dist[ok] = np.sqrt(((gt_c[ok] - pred_c[ok]) ** 2).sum(axis=1))
    with np.errstate(invalid="ignore"):
        return (dist[None, :] <= thresholds[:, None]).sum(axis=1) / float(n_frames)


def ope_video_scores(gt: np.ndarray, pred: np.ndarray, visible: np.ndarray | None = None) -> dict:
    """Success, precision and normalised-precision curves of one video."""
    gt = np.asarray(gt, np.float64)[:, :4]
    pred = np.asarray(pred, np.float64)[:, :4]
    if len(gt) != len(pred):
        raise ValueError(f"{len(pred)} result boxes for {len(gt)} ground-truth frames")
    n = len(gt)
    if visible is not None:
        gt, pred = gt[visible], pred[visible]
    gt_c, pred_c = _centres(gt), _centres(pred)
    wh = gt[:, 2:4] + 1e-16
    return {"success": success_curve(gt, pred, n),
            "precision": precision_curve(gt_c, pred_c, PRECISION_THRESHOLDS, n),
            "norm_precision": precision_curve(gt_c / wh, pred_c / wh, NORM_PRECISION_THRESHOLDS, n)}


def ope_summary(per_video: dict[str, dict], videos: Iterable[str] | None = None) -> dict:
    """Dataset numbers (plain means over the given videos) from `ope_video_scores` results."""
    names = [v for v in (videos if videos is not None else per_video) if v in per_video]
    if not names:
        return {}
    succ = np.mean([per_video[v]["success"] for v in names], axis=0)
    prec = np.mean([per_video[v]["precision"] for v in names], axis=0)
    norm = np.mean([per_video[v]["norm_precision"] for v in names], axis=0)
    return {"success_auc": float(np.mean(succ)), "precision": float(prec[PRECISION_AT]),
            "norm_precision": float(norm[PRECISION_AT]), "num_videos": len(names),
            "success_curve": succ.tolist(), "precision_curve": prec.tolist(),
            "norm_precision_curve": norm.tolist()}
