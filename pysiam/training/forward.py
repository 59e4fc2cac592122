"""The training forward pass: a batch of labelled pairs in, a dict of named losses out.

:class:`TrainingModel` wraps a :class:`pysiam.models.SiamModel` (it is what DDP wraps) and
calls its parts; it does not weight the losses (see :func:`pysiam.training.losses.total_loss`).
The box losses are the head family's (``build_family(cfg).training_losses()``: name -> function of
(outputs, batch)), so the same pass trains anchor (SiamRPN) and point (SiamBAN, NanoTrack) heads.

Stages (``TRAIN.STAGE``):

* ``rpn``: the family's classification and localisation losses (SiamRPN++, SiamBAN, NanoTrack);
* ``mask``: plus SiamMask's mask loss on the positive positions: the 63x63 mask of such a
  position, bilinearly upsampled to 127x127, against the 127x127 window of the search-crop mask
  centred on the position (:func:`mask_windows_at`);
* ``refine``: the mask loss of the refine module's 127x127 output at the positive positions,
  the rest of the network frozen (SiamMask's second stage).

A position's mask covers an exemplar-sized window of the search crop (127 pixels in pysot's
and SiamMask's configs) centred on the position's anchor centre, the window the tracker pastes
the mask back into; predictions of another size are resized to it bilinearly.
"""
from __future__ import annotations

from typing import Dict, Mapping, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .losses import LossFn, mask_iou_stats, mask_soft_margin
from .settings import STAGES, resolve_stage

__all__ = ["TrainingModel", "mask_windows_at", "STAGES", "resolve_stage"]


def _check_label_size(cls: torch.Tensor, label_cls: torch.Tensor) -> None:
    if cls.shape[-1] != label_cls.shape[-1]:
        raise ValueError(f"the network's score map is {cls.shape[-1]}x{cls.shape[-1]} but the labels are "
                         f"{label_cls.shape[-1]}x{label_cls.shape[-1]}: set TRAIN.OUTPUT_SIZE {cls.shape[-1]}")


def mask_windows_at(label_mask: torch.Tensor, batch: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
                    grid: int, window: int = 127, stride: int = 8) -> torch.Tensor:
    """Label windows (N, window*window) of the search masks (B, 1, S, S) at N grid positions.

    Window (r, c) is centred on ``S // 2 + (r - grid // 2) * stride`` (rows; columns likewise);
    pixels outside the crop get label 0 (no gradient in the soft-margin loss, as SiamMask's
    zero padding).
    """
    size = label_mask.shape[-1]
    first = size // 2 - (grid // 2) * stride - window // 2   # top-left of window (0, 0)
    pad = max(0, -first, first + (grid - 1) * stride + window - size)
    padded = F.pad(label_mask[:, 0], [pad, pad, pad, pad])
    offs = torch.arange(window, device=label_mask.device)
    r = (first + pad + rows * stride).unsqueeze(1) + offs  # (N, window)
    c = (first + pad + cols * stride).unsqueeze(1) + offs
    out = padded[batch[:, None, None], r[:, :, None], c[:, None, :]]
    return out.reshape(out.shape[0], -1)


class TrainingModel(nn.Module):
    """Losses of a batch for one training stage; ``forward(batch) -> (losses, metrics)``."""

    def __init__(self, model: nn.Module, losses: Mapping[str, LossFn], stage: str = "rpn", stride: int = 8,
                 mask_window: int = 127):
        super().__init__()
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
        self.model = model
        self.box_losses = dict(losses)
        self.stage = stage
        self.stride = int(stride)
        self.mask_window = int(mask_window)  # TRAIN.EXEMPLAR_SIZE

    def forward(self, batch: Dict[str, torch.Tensor]) -> Tuple[Dict[str, torch.Tensor], Dict[str, torch.Tensor]]:
        out = self.model(batch["template"], batch["search"], with_mask=self.stage == "mask")
        losses: Dict[str, torch.Tensor] = {}
        metrics: Dict[str, torch.Tensor] = {}
        if self.stage != "refine":
            _check_label_size(out["cls"], batch["label_cls"])
            for name, fn in self.box_losses.items():
                losses[name] = fn(out, batch)
        if self.stage in ("mask", "refine"):
            pred, label = self._mask_pairs(out, batch)
            losses["mask"] = mask_soft_margin(pred, label)
            metrics.update(mask_iou_stats(pred.detach(), label))
            metrics["mask_positions"] = torch.tensor(float(label.shape[0]))
        return losses, metrics

    def _mask_pairs(self, out, batch) -> Tuple[torch.Tensor, torch.Tensor]:
        """(predicted logits, labels), both (N, window * window), at the N positive positions."""
        corr = out["mask_corr_feature"]
        grid = corr.shape[-1]
        weight = batch["label_mask_weight"][:, 0]
        if weight.shape[-1] != grid:
            raise ValueError(f"mask labels are {weight.shape[-1]}x{weight.shape[-1]} but the network's "
                             f"score map is {grid}x{grid} (check TRAIN.OUTPUT_SIZE)")
        b, r, c = torch.nonzero(weight > 0, as_tuple=True)
        win = self.mask_window
        label = mask_windows_at(batch["label_mask"], b, r, c, grid, win, self.stride)
        if self.stage == "mask":
            pred = out["mask"][b, :, r, c].float()
        else:
            refine = self.model.refine_head
            feats = out["refine_features"]
            padding = refine.centred_padding([f.shape[-1] for f in feats], grid)
            pred = refine.forward_positions(feats, corr, b, r, c, padding).float()
        side = int(round(pred.shape[1] ** 0.5))
        if side != win:  # SiamMask: 63x63 upsampled bilinearly (corners aligned) to 127x127
            pred = F.interpolate(pred.view(-1, 1, side, side), size=(win, win), mode="bilinear",
                                 align_corners=True)
        return pred.reshape(pred.shape[0], -1), label
