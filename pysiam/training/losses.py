"""Training losses of SiamRPN / SiamMask; the weights are applied in one place, :func:`total_loss`.

* classification (:func:`select_cross_entropy`): ``0.5 * NLL(positive anchors) + 0.5 * NLL(negative
  anchors)``, each the mean over its anchors of the whole batch (an empty set contributes 0);
* localisation (:func:`weighted_l1`): ``|pred - target|`` summed over (dx, dy, log dw, log dh),
  weighted per anchor (``1 / #positives`` of its pair), summed, divided by the batch size;
* mask (:func:`mask_soft_margin`): SiamMask's logistic loss ``mean(log(1 + exp(-y * x)))`` over the
  pixels of the positive positions' masks, labels ``y`` in {-1, +1} (0 = no gradient); the label
  windows are cut by :func:`pysiam.training.forward.mask_windows_at`.
"""
from __future__ import annotations

from typing import Dict, Mapping

import torch
import torch.nn.functional as F

__all__ = ["log_softmax_cls", "select_cross_entropy", "weighted_l1", "mask_soft_margin",
           "mask_iou_stats", "total_loss", "loss_weights"]


def log_softmax_cls(cls: torch.Tensor) -> torch.Tensor:
    """(B, 2A, H, W) class-major logits -> (B, A, H, W, 2) log-probabilities, class last."""
    b, a2, h, w = cls.shape
    return F.log_softmax(cls.view(b, 2, a2 // 2, h, w).permute(0, 2, 3, 4, 1), dim=4)


def _nll_on(log_probs: torch.Tensor, labels: torch.Tensor, select: torch.Tensor) -> torch.Tensor:
    if select.numel() == 0:
        return log_probs.sum() * 0.0
    return F.nll_loss(log_probs[select], labels[select])


def select_cross_entropy(log_probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Balanced anchor classification loss; ``log_probs`` (..., 2), ``labels`` (...) in {-1, 0, 1}."""
    log_probs = log_probs.reshape(-1, 2)
    labels = labels.reshape(-1).long()
    pos = torch.nonzero(labels == 1).squeeze(1)
    neg = torch.nonzero(labels == 0).squeeze(1)
    return 0.5 * _nll_on(log_probs, labels, pos) + 0.5 * _nll_on(log_probs, labels, neg)


def weighted_l1(pred_loc: torch.Tensor, label_loc: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Box regression loss; ``pred_loc`` (B, 4A, H, W), ``label_loc`` (B, 4, A, H, W), ``weight`` (B, A, H, W)."""
    b, _, h, w = pred_loc.shape
    diff = (pred_loc.view(b, 4, -1, h, w) - label_loc).abs().sum(dim=1)
    return (diff * weight).sum() / b


def mask_soft_margin(pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """SiamMask's mask loss: ``soft_margin_loss`` of logits ``pred`` against labels in {-1, 0, +1}."""
    if pred.numel() == 0:
        return pred.sum() * 0.0
    return F.soft_margin_loss(pred, label)


@torch.no_grad()
def mask_iou_stats(pred: torch.Tensor, label: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Mean IoU of ``pred >= 0`` with ``label == 1`` per row, and the fractions above 0.5 and 0.7."""
    if pred.numel() == 0:
        z = pred.new_zeros(())
        return {"mask_iou": z, "mask_iou_at_5": z, "mask_iou_at_7": z}
    p, t = pred >= 0, label == 1
    inter = (p & t).sum(1).float()
    union = (p | t).sum(1).float().clamp(min=1)
    iou = inter / union
    return {"mask_iou": iou.mean(), "mask_iou_at_5": (iou > 0.5).float().mean(),
            "mask_iou_at_7": (iou > 0.7).float().mean()}


def loss_weights(cfg, stage: str) -> Dict[str, float]:
    """Weights of the named losses: TRAIN.CLS_WEIGHT / LOC_WEIGHT / MASK_WEIGHT; the refine stage
    trains the mask only (SiamMask's [0, 0, MASK_WEIGHT])."""
    if stage == "refine":
        return {"mask": float(cfg.TRAIN.MASK_WEIGHT)}
    weights = {"cls": float(cfg.TRAIN.CLS_WEIGHT), "loc": float(cfg.TRAIN.LOC_WEIGHT)}
    if stage == "mask":
        weights["mask"] = float(cfg.TRAIN.MASK_WEIGHT)
    return weights


def total_loss(losses: Mapping[str, torch.Tensor], weights: Mapping[str, float]) -> torch.Tensor:
    """``sum(weights[k] * losses[k])`` over the weighted names; every weighted loss must be present."""
    missing = [k for k in weights if k not in losses]
    if missing:
        raise KeyError(f"losses {missing} have weights but were not computed (got {sorted(losses)})")
    return sum(float(w) * losses[k] for k, w in weights.items())
