"""SiamRPN / SiamRPN++ tracker (pysot's ``SiamRPNTracker`` semantics)."""
from __future__ import annotations

from typing import Any, Dict

import numpy as np

from .base import SiameseTracker, check_image

__all__ = ["SiamRPNTracker"]


class SiamRPNTracker(SiameseTracker):
    """Per frame: search crop of side round(s_x) around the last centre, best anchor after the
    scale / aspect penalty and the cosine window, centre moved to it, size smoothed by
    ``penalty * score * lr``, then clipped to the frame.

    ``track`` returns ``{'bbox': [x, y, w, h], 'best_score': float}``.
    """

    def _step(self, img: np.ndarray):
        s = self._search(img, self.params.instance_size)
        best, penalty = self._select(s, self.params.window_influence)
        cx, cy, width, height, score = self._proposal(s, best, penalty)
        cx, cy, width, height = self._clip(img, cx, cy, width, height)
        self._set_state(cx, cy, width, height)
        return s, best, score

    def track(self, img: np.ndarray) -> Dict[str, Any]:
        """Locate the target in the next frame (BGR uint8) and update the state."""
        img = check_image(img)
        _, _, score = self._step(img)
        return {"bbox": self._box(*self.center_pos, *self.size), "best_score": score}
