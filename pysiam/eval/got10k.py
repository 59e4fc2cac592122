"""GOT-10k protocol: average overlap (AO) and success rates (SR) at 0.5 and 0.75.

As the GOT-10k toolkit: the first frame is not scored; boxes are bounded by the image as that
toolkit does it (x, y clamped into [0, W] x [0, H], then w, h limited to W - x, H - y);
frames whose target is not visible (cover 0) are dropped; the IoUs of all frames of all videos
(and runs) are pooled, so long videos weigh more.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["bounded_box_iou", "got10k_video_ious", "got10k_summary", "GOT_THRESHOLDS"]

GOT_THRESHOLDS = np.linspace(0, 1, 101)


def _clip(boxes: np.ndarray, size: Sequence[float]) -> np.ndarray:
    b = boxes.copy()
    b[:, 0] = np.clip(b[:, 0], 0, size[0])
    b[:, 1] = np.clip(b[:, 1], 0, size[1])
    b[:, 2] = np.clip(b[:, 2], 0, size[0] - b[:, 0])
    b[:, 3] = np.clip(b[:, 3], 0, size[1] - b[:, 1])
    return b


def bounded_box_iou(a: np.ndarray, b: np.ndarray, size: Sequence[float] | None = None) -> np.ndarray:
    """IoU of x,y,w,h rows after bounding both boxes by the image (width, height)."""
    if size is not None:
        a, b = _clip(a, size), _clip(b, size)
    x1 = np.maximum(a[:, 0], b[:, 0])
    y1 = np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return np.clip(inter / (union + np.finfo(float).eps), 0.0, 1.0)


def got10k_video_ious(runs: list[np.ndarray], gt: np.ndarray, size: Sequence[float] | None,
                      visible: Sequence[bool] | np.ndarray | None = None) -> np.ndarray:
    """Pooled IoUs of frames 1.. of every run of one video (visible frames only)."""
    out = []
    for boxes in runs:
        if len(boxes) != len(gt):
            raise ValueError(f"{len(boxes)} result boxes for {len(gt)} ground-truth frames")
        iou = bounded_box_iou(boxes[1:, :4].astype(float), gt[1:, :4].astype(float), size)
        if visible is not None:
            iou = iou[np.asarray(visible, bool)[1:]]
        out.append(iou)
    return np.concatenate(out) if out else np.zeros(0)


def got10k_summary(per_video: dict[str, np.ndarray]) -> dict:
    """AO, SR0.5, SR0.75 over the pooled IoUs, the success curve and per-video AO."""
    ious = np.concatenate([per_video[v] for v in sorted(per_video)])
    curve = (ious[:, None] > GOT_THRESHOLDS[None, :]).mean(axis=0) if len(ious) else GOT_THRESHOLDS * 0
    return {"ao": float(ious.mean()) if len(ious) else float("nan"),
            "sr50": float((ious > 0.5).mean()) if len(ious) else float("nan"),
            "sr75": float((ious > 0.75).mean()) if len(ious) else float("nan"),
            "num_videos": len(per_video), "num_frames": int(len(ious)),
            "success_curve": curve.tolist(),
            "per_video": {v: {"ao": float(per_video[v].mean()) if len(per_video[v]) else float("nan")}
                          for v in sorted(per_video)}}
