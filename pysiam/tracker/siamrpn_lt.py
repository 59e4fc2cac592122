"""Long-term SiamRPN tracker: enlarged re-detection search while the target is lost (pysot semantics)."""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from .base import SiameseTracker

__all__ = ["SiamRPNLTTracker"]

# Cosine-window weight during re-detection (pysot's constant): nearly flat, any position may win.
LOST_WINDOW_INFLUENCE = 0.001


class SiamRPNLTTracker(SiameseTracker):
    """SiamRPN with a lost state.

    A frame whose best score is below ``TRACK.CONFIDENCE_LOW`` keeps the previous state and
    switches to the lost state; while lost, the search crop uses ``TRACK.LOST_INSTANCE_SIZE``
    (a larger score map) and an almost flat window; a score above ``TRACK.CONFIDENCE_HIGH``
    switches back. The kept state is not clipped (only the returned box is), as in pysot.
    ``longterm_state`` tells whether the next frame is searched in the lost mode.
    """

    def _on_init(self) -> None:
        self.longterm_state = False

    def _instance_size(self) -> int:
        p = self.params
        return p.lost_instance_size if getattr(self, "longterm_state", False) else p.instance_size

    def locate(self, img, req: Dict[str, Any], score: np.ndarray, boxes: np.ndarray,
               outputs: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        p = self.params
        lost = getattr(self, "longterm_state", False)  # unchanged since begin_track
        s = self._search_end(req, score, boxes, outputs)
        best, penalty = self._select(s, LOST_WINDOW_INFLUENCE if lost else p.window_influence)
        cx, cy, width, height, best_score = self._proposal(s, best, penalty)
        if best_score < p.confidence_low:  # keep the previous state
            cx, cy = self.center_pos
            width, height = self.size
        self._set_state(cx, cy, width, height)
        box = self._box(*self._clip(img, cx, cy, width, height))
        if best_score < p.confidence_low:
            self.longterm_state = True
        elif best_score > p.confidence_high:
            self.longterm_state = False
        return {"s": s, "best": best, "score": best_score, "bbox": box}

    def finish(self, img, req, located, mask_logits=None) -> Dict[str, Any]:
        return {"bbox": located["bbox"], "best_score": located["score"], "best_idx": located["best"]}
