"""Training losses of SiamRPN / SiamMask / SiamBAN / NanoTrack; the weights are applied in one
place, :func:`total_loss` (weights from :class:`pysiam.training.settings.LossWeights`).

Each head family names its losses (:func:`anchor_losses`, :func:`point_losses`: name -> function
of (head outputs, batch)); the training forward pass calls them and knows nothing of anchors.

* classification (:func:`select_cross_entropy`): ``0.5 * NLL(positive anchors) + 0.5 * NLL(negative
  anchors)``, each the mean over its anchors of the whole batch (an empty set contributes 0);
* anchor localisation (:func:`weighted_l1`): ``|pred - target|`` summed over (dx, dy, log dw, log dh),
  weighted per anchor (``1 / #positives`` of its pair), summed, divided by the batch size;
* point localisation (:func:`select_iou_loss`): the IoU loss of the (l, t, r, b) distances at the
  positive points of the whole batch, averaged over them (:func:`iou_loss`). hqucv/siamban and
  NanoTrack train with its ``linear_iou`` form ``1 - IoU`` where ``IoU = (I + 1) / (U + 1)``
  (``iou_loss(kind="linear_iou")``, the default here); ``kind="iou"`` gives ``-log IoU``
  (UnitBox / FCOS), ``kind="giou"`` ``1 - GIoU``;
* mask (:func:`mask_soft_margin`): SiamMask's logistic loss ``mean(log(1 + exp(-y * x)))`` over the
  pixels of the positive positions' masks, labels ``y`` in {-1, +1} (0 = no gradient); the label
  windows are cut by :func:`pysiam.training.forward.mask_windows_at`.
"""
from __future__ import annotations

from typing import Callable, Dict, Mapping

import torch
import torch.nn.functional as F

__all__ = ["log_softmax_cls", "select_cross_entropy", "weighted_l1", "iou_loss", "select_iou_loss",
           "mask_soft_margin", "mask_iou_stats", "total_loss", "anchor_losses", "point_losses",
           "LossFn", "IOU_KINDS"]

#: a family's loss: (head outputs, batch) -> scalar
LossFn = Callable[[Mapping[str, torch.Tensor], Mapping[str, torch.Tensor]], torch.Tensor]
IOU_KINDS = ("linear_iou", "iou", "giou")


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


def iou_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "linear_iou") -> torch.Tensor:
    """Mean IoU loss of (N, 4) distance boxes (l, t, r, b) from the same points (see the module docstring)."""
    if kind not in IOU_KINDS:
        raise ValueError(f"IoU loss kind must be one of {IOU_KINDS}, got {kind!r}")
    if pred.numel() == 0:
        return pred.sum() * 0.0
    pl, pt, pr, pb = pred.unbind(1)
    tl, tt, tr, tb = target.unbind(1)
    pred_area = (pl + pr) * (pt + pb)
    target_area = (tl + tr) * (tt + tb)
    inter = (torch.min(pl, tl) + torch.min(pr, tr)) * (torch.min(pt, tt) + torch.min(pb, tb))
    union = pred_area + target_area - inter
    iou = (inter + 1.0) / (union + 1.0)
    if kind == "linear_iou":
        return (1.0 - iou).mean()
    if kind == "iou":
        return (-torch.log(iou)).mean()
    hull = (torch.max(pl, tl) + torch.max(pr, tr)) * (torch.max(pt, tt) + torch.max(pb, tb)) + 1e-7
    return (1.0 - (iou - (hull - union) / hull)).mean()


def select_iou_loss(pred_loc: torch.Tensor, label_loc: torch.Tensor, label_cls: torch.Tensor,
                    kind: str = "linear_iou") -> torch.Tensor:
    """IoU loss at the positive points; ``pred_loc`` / ``label_loc`` (B, 4, S, S), ``label_cls`` (B, S, S)."""
    pos = label_cls.reshape(-1) == 1
    pred = pred_loc.permute(0, 2, 3, 1).reshape(-1, 4)[pos]
    target = label_loc.permute(0, 2, 3, 1).reshape(-1, 4)[pos]
    return iou_loss(pred, target, kind)


def _cls_loss(out: Mapping[str, torch.Tensor], batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    return select_cross_entropy(log_softmax_cls(out["cls"].float()), batch["label_cls"])


def _l1_loc_loss(out: Mapping[str, torch.Tensor], batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    return weighted_l1(out["loc"].float(), batch["label_loc"], batch["label_loc_weight"])


def _iou_loc_loss(out: Mapping[str, torch.Tensor], batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    return select_iou_loss(out["loc"].float(), batch["label_loc"], batch["label_cls"])


def anchor_losses() -> Dict[str, LossFn]:
    """The anchor family's losses: balanced cross-entropy ``cls``, weighted L1 ``loc``."""
    return {"cls": _cls_loss, "loc": _l1_loc_loss}


def point_losses() -> Dict[str, LossFn]:
    """The point family's losses: balanced cross-entropy ``cls``, IoU ``loc`` at the positive points."""
    return {"cls": _cls_loss, "loc": _iou_loc_loss}


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


def total_loss(losses: Mapping[str, torch.Tensor], weights: Mapping[str, float]) -> torch.Tensor:
    """``sum(weights[k] * losses[k])`` over the weighted names; every weighted loss must be present."""
    missing = [k for k in weights if k not in losses]
    if missing:
        raise KeyError(f"losses {missing} have weights but were not computed (got {sorted(losses)})")
    return sum(float(w) * losses[k] for k, w in weights.items())
