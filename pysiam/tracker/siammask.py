"""SiamMask tracker: SiamRPN tracking plus a per-frame mask and rotated box (pysot semantics)."""
from __future__ import annotations

import math
from typing import Any, Dict, Optional

import numpy as np
import torch

from ..utils.bbox import center_to_xywh
from .mask import mask_window, paste_mask
from .mask_box import mask_to_box
from .siamrpn import SiamRPNTracker

__all__ = ["SiamMaskTracker"]


class SiamMaskTracker(SiamRPNTracker):
    """The box is tracked exactly as :class:`SiamRPNTracker`; the mask never feeds back.

    The mask comes from the refine module at the best anchor's (row, col)
    (``model.refine_with`` on this frame's network outputs),
    or, for a model whose ``refine_head`` is None, from the mask head's 63x63 output at that
    position. It is pasted into the frame around the search crop of this frame (centre before
    the update). ``track`` adds to SiamRPN's output:

    - ``mask``: float32 H x W probabilities in the frame (0 outside the pasted window),
    - ``mask_binary``: uint8 H x W, ``mask > TRACK.MASK_THERSHOLD``,
    - ``polygon``: 8 values, the rotated box of the binary mask by ``TRACK.MASK_BOX`` (default
      'minarea': the minimum-area rectangle of the largest contour, pysot) when that contour's
      area exceeds 100 px, else the corners of the (updated) box.
    """

    def __init__(self, model, params=None, family=None, device=None):
        super().__init__(model, params, family, device)
        # a model whose refine_head is None (MASK on, REFINE off) gives its mask head's output
        self._use_refine = getattr(model, "refine_head", "unknown") is not None
        if self._use_refine and not callable(getattr(model, "refine_with", None)):
            raise TypeError(f"SiamMaskTracker needs a model with a mask branch: {type(model).__name__} "
                            f"has no refine_with() (MASK.MASK / REFINE.REFINE off in the config?)")
        if not self._use_refine and getattr(model, "mask_head", None) is None:
            raise TypeError("SiamMaskTracker needs a model with a mask head (MASK.MASK is off)")

    @property
    def network_kwargs(self) -> Dict[str, Any]:
        """The mask head's 3969-channel output is needed only without a refine module."""
        return {"with_mask": not self._use_refine}

    @property
    def needs_refine(self) -> bool:  # type: ignore[override]
        """True when the mask comes from the refine module (a batched engine computes it)."""
        return self._use_refine

    def _mask_logits(self, outputs: Optional[Dict[str, Any]], row: int, col: int) -> torch.Tensor:
        if self._use_refine:
            with torch.no_grad():
                return self.model.refine_with(outputs, (row, col))[0]
        raw = None if outputs is None else outputs.get("mask")
        if raw is None:
            raise RuntimeError("the model returned no 'mask' output and has no refine head")
        return raw[0, :, row, col]

    def _mask_probs(self, logits: torch.Tensor) -> np.ndarray:
        k = self.params.mask_output_size if self._use_refine else math.isqrt(logits.numel())
        if logits.numel() != k * k:
            raise ValueError(f"mask output has {logits.numel()} values, expected {k}x{k} "
                             f"(TRACK.MASK_OUTPUT_SIZE {self.params.mask_output_size})")
        return logits.float().sigmoid().reshape(k, k).cpu().numpy()

    def locate(self, img, req, score, boxes, outputs=None) -> Dict[str, Any]:
        located = super().locate(img, req, score, boxes, outputs)
        size = located["s"]["size"]
        _, row, col = np.unravel_index(located["best"], (self.family.priors_per_cell, size, size))
        located["pos"] = (int(row), int(col))
        return located

    def finish(self, img, req: Dict[str, Any], located: Dict[str, Any],
               mask_logits: Optional[torch.Tensor] = None) -> Dict[str, Any]:
        """Segment the located target; ``mask_logits`` (127*127 refine logits at
        ``located['pos']``) is computed here when not given."""
        p = self.params
        cx0, cy0 = req["center"]
        crop = located["s"]["crop_size"]
        crop_box = [cx0 - crop / 2, cy0 - crop / 2, crop, crop]
        row, col = located["pos"]
        if mask_logits is None:
            mask_logits = self._mask_logits(located["s"]["outputs"], row, col)
        mask = self._mask_probs(mask_logits)
        window = mask_window(crop_box, row, col, p.instance_size, p.exemplar_size, self.family.stride, p.base_size)
        height, width = img.shape[:2]
        prob = paste_mask(mask, window, (width, height))
        binary = (prob > p.mask_threshold).astype(np.uint8)
        polygon = mask_to_box(binary, p.mask_box, prior=center_to_xywh(self.center_pos, self.size))
        return {"bbox": self._box(*self.center_pos, *self.size), "best_score": located["score"],
                "best_idx": located["best"], "mask": prob, "mask_binary": binary, "polygon": polygon}
