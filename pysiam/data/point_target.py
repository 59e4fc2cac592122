"""Point labels of a training pair for the anchor-free heads (SiamBAN / NanoTrack's recipe).

The ``output_size`` x ``output_size`` points sit at ``search_size // 2 + o + stride * k``
(o = -(S // 2) * stride, columns for x, rows for y), the layout of
:func:`pysiam.families.point.point_grid` shifted to search-crop pixels. For a target box with
centre (cx, cy) and size (w, h), the normalised ellipse distance of a point is
``e(a, b) = ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2``. As in hqucv/siamban and NanoTrack
(``datasets/point_target.py``, checked against both):

* positive pair: points with ``e(w / 4, h / 4) < 1`` (inside the ellipse whose semi-axes are half
  the box's half sizes) are positive, at most ``pos_num`` of them (a random subset); points with
  ``e(w / 2, h / 2) > 1`` (outside the ellipse inscribed in the box) are negative, at most
  ``total_num - pos_num``; the ring between the two ellipses is ignored (label -1). Every point
  gets its regression target ``(l, t, r, b) = (x - x1, y - y1, x2 - x, y2 - y)`` in pixels
  (only the positives' targets are used by the loss, and they are all positive);
* negative pair (template and search show different objects): only the points inside the small
  ellipse ``e(w / 4, h / 4) < 1`` around the search-crop object are labelled, negative, at most
  ``neg_num`` of them; every other point is ignored and the regression targets are 0.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import numpy as np

from pysiam.families.point import PointFamily, point_grid

from .anchor_target import _keep_at_most
from .train_sources import DatasetError

__all__ = ["PointTarget"]


class PointTarget:
    """Classification labels and (l, t, r, b) regression targets for one search crop."""

    def __init__(self, stride: int, search_size: int, output_size: int, pos_num: int = 16,
                 neg_num: int = 16, total_num: int = 64):
        self.stride = int(stride)
        self.search_size = int(search_size)
        self.output_size = int(output_size)
        self.pos_num, self.neg_num, self.total_num = int(pos_num), int(neg_num), int(total_num)
        s = self.output_size
        xy = point_grid(self.stride, s) + np.float32(self.search_size // 2)
        self.points = xy.T.reshape(2, s, s)   # (2, S, S): x, y in search-crop pixels

    @classmethod
    def from_config(cls, cfg) -> "PointTarget":
        """From ``cfg.POINT.STRIDE`` and ``cfg.TRAIN`` (sizes, sample counts); TRAIN.OUTPUT_SIZE
        must be the score-map side the point family gives for TRAIN.SEARCH_SIZE."""
        t = cfg.TRAIN
        want = PointFamily.from_config(cfg).score_size(int(t.SEARCH_SIZE))
        if int(t.OUTPUT_SIZE) != want:
            raise DatasetError(f"TRAIN.OUTPUT_SIZE {t.OUTPUT_SIZE} does not match the {want}x{want} score map "
                               f"of the point head for TRAIN.SEARCH_SIZE {t.SEARCH_SIZE} (TRACK.OUTPUT_SIZE "
                               f"when TRACK.INSTANCE_SIZE equals it, else (SEARCH - EXEMPLAR) / POINT.STRIDE "
                               f"+ 1 + BASE_SIZE)")
        return cls(cfg.POINT.STRIDE, t.SEARCH_SIZE, t.OUTPUT_SIZE, t.POS_NUM, t.NEG_NUM, t.TOTAL_NUM)

    def ellipse(self, target: Sequence[float], shrink: float) -> np.ndarray:
        """(S, S) normalised distance of every point to the ellipse of semi-axes (w / shrink, h / shrink)."""
        x1, y1, x2, y2 = (float(v) for v in target)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        a, b = max((x2 - x1) / shrink, 1e-6), max((y2 - y1) / shrink, 1e-6)
        return np.square((self.points[0] - cx) / a) + np.square((self.points[1] - cy) / b)

    def __call__(self, target: Sequence[float], neg: bool, rng: np.random.Generator
                 ) -> Tuple[np.ndarray, np.ndarray]:
        """``(cls, ltrb)`` for the corner box ``target`` in search-crop pixels: cls (S, S) int64 in
        {-1, 0, 1}, ltrb (4, S, S) float32."""
        s = self.output_size
        cls = np.full((s, s), -1, dtype=np.int64)
        ltrb = np.zeros((4, s, s), dtype=np.float32)
        inner = self.ellipse(target, 4.0) < 1
        if neg:
            picked, _ = _keep_at_most(np.where(inner), self.neg_num, rng)
            cls[picked] = 0
            return cls, ltrb
        x1, y1, x2, y2 = (float(v) for v in target)
        px, py = self.points
        ltrb[0], ltrb[1], ltrb[2], ltrb[3] = px - x1, py - y1, x2 - px, y2 - py
        pos, _ = _keep_at_most(np.where(inner), self.pos_num, rng)
        negs, _ = _keep_at_most(np.where(self.ellipse(target, 2.0) > 1), self.total_num - self.pos_num, rng)
        cls[pos] = 1
        cls[negs] = 0
        return cls, ltrb

    def labels(self, target: Sequence[float], neg: bool, rng: np.random.Generator) -> Dict[str, np.ndarray]:
        """The batch entries of one search crop: ``label_cls`` (S, S), ``label_loc`` (4, S, S)."""
        cls, ltrb = self(target, neg, rng)
        return {"label_cls": cls, "label_loc": ltrb}
