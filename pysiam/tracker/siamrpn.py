"""SiamRPN / SiamRPN++ tracker (pysot's ``SiamRPNTracker``); with the point family it is also
NanoTrack's ``NanoTracker`` and SiamBAN's tracker (the same selection and update rules)."""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from .base import SiameseTracker

__all__ = ["SiamRPNTracker"]


class SiamRPNTracker(SiameseTracker):
    """Per frame: search crop of side round(s_x) around the last centre, best anchor after the
    scale / aspect penalty and the cosine window, centre moved to it, size smoothed by
    ``penalty * score * lr``, then clipped to the frame.

    ``track`` returns ``{'bbox': [x, y, w, h], 'best_score': float, 'best_idx': int}`` (the
    chosen candidate's flat index over (prior, row, col)).
    """

    def locate(self, img, req: Dict[str, Any], score: np.ndarray, boxes: np.ndarray,
               outputs: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        s = self._search_end(req, score, boxes, outputs)
        best, penalty = self._select(s, self.params.window_influence)
        cx, cy, width, height, best_score = self._proposal(s, best, penalty)
        cx, cy, width, height = self._clip(img, cx, cy, width, height)
        self._set_state(cx, cy, width, height)
        return {"s": s, "best": best, "score": best_score}
