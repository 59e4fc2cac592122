"""Anchor labels of a training pair (pysot's recipe; its defaults: TRAIN.THR_HIGH 0.6, THR_LOW 0.3,
POS_NUM 16, TOTAL_NUM 64, NEG_NUM 16).

For a positive pair every anchor of the ``output_size`` x ``output_size`` grid (centred on the
search crop centre) gets its regression target ``(dx, dy, log dw, log dh)`` relative to the target
box; anchors with IoU > ``thr_high`` are positive, IoU < ``thr_low`` negative. At most ``pos_num``
positives and ``total_num - pos_num`` negatives are kept (random subsets), the rest are ignored
(label -1). Regression weights are ``1 / #positives`` on the kept positives.

For a negative pair (template and search show different targets) only negatives are labelled:
``neg_num`` of them, drawn from the 7x7 grid window around the cell onto which the search target
projects. pysot projects with ``ceil(offset / stride + 0.5)`` cells from the centre, which puts a
centred target one cell right of and below the middle; ``neg_centre="nearest"`` rounds instead.
"""
from __future__ import annotations

import math
from typing import Dict, Sequence, Tuple

import numpy as np

from pysiam.utils.anchors import anchor_grid

from .train_sources import DatasetError

__all__ = ["AnchorTarget", "box_iou", "NEG_CENTRE_MODES"]

NEG_CENTRE_MODES = ("pysot", "nearest")
_NEG_HALF_WINDOW = 3  # the negative window is 7x7 cells


def box_iou(boxes: np.ndarray, target: Sequence[float]) -> np.ndarray:
    """IoU of corner boxes ``boxes`` (..., 4) with one corner box ``target`` (no +1 on sizes)."""
    x1 = np.maximum(boxes[..., 0], target[0])
    y1 = np.maximum(boxes[..., 1], target[1])
    x2 = np.minimum(boxes[..., 2], target[2])
    y2 = np.minimum(boxes[..., 3], target[3])
    inter = np.maximum(0.0, x2 - x1) * np.maximum(0.0, y2 - y1)
    area = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    t_area = (target[2] - target[0]) * (target[3] - target[1])
    return inter / (area + t_area - inter)


def _keep_at_most(where: Tuple[np.ndarray, ...], keep: int,
                  rng: np.random.Generator) -> Tuple[Tuple[np.ndarray, ...], int]:
    """A random subset of at most ``keep`` of the index tuple ``where``, and its size."""
    num = where[0].shape[0]
    if num <= keep:
        return where, num
    pick = rng.permutation(num)[:keep]
    return tuple(w[pick] for w in where), keep


class AnchorTarget:
    """Classification labels, regression targets and weights for one search crop."""

    def __init__(self, stride: int, ratios: Sequence[float], scales: Sequence[float], search_size: int,
                 output_size: int, thr_high: float = 0.6, thr_low: float = 0.3, pos_num: int = 16,
                 neg_num: int = 16, total_num: int = 64, neg_centre: str = "pysot"):
        if neg_centre not in NEG_CENTRE_MODES:
            raise ValueError(f"neg_centre must be one of {NEG_CENTRE_MODES}, got {neg_centre!r}")
        self.stride = int(stride)
        self.search_size = int(search_size)
        self.output_size = int(output_size)
        self.thr_high, self.thr_low = float(thr_high), float(thr_low)
        self.pos_num, self.neg_num, self.total_num = int(pos_num), int(neg_num), int(total_num)
        self.neg_centre = neg_centre
        grid = anchor_grid(stride, ratios, scales, output_size, centre=search_size // 2)
        self.centres = np.moveaxis(grid, -1, 0)  # (4, A, S, S): cx, cy, w, h
        cx, cy, w, h = self.centres
        self.corners = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)  # (A, S, S, 4)
        self.anchor_num = grid.shape[0]

    @classmethod
    def from_config(cls, cfg) -> "AnchorTarget":
        """From ``cfg.ANCHOR`` and ``cfg.TRAIN`` (sizes, thresholds, sample counts), after pysot's
        check (SEARCH - EXEMPLAR) / ANCHOR.STRIDE + 1 + BASE_SIZE == OUTPUT_SIZE."""
        t = cfg.TRAIN
        want = (t.SEARCH_SIZE - t.EXEMPLAR_SIZE) / cfg.ANCHOR.STRIDE + 1 + t.BASE_SIZE
        if want != t.OUTPUT_SIZE:
            raise DatasetError(f"TRAIN.OUTPUT_SIZE {t.OUTPUT_SIZE} does not match (SEARCH_SIZE - EXEMPLAR_SIZE) "
                               f"/ ANCHOR.STRIDE + 1 + BASE_SIZE = {want}")
        return cls(cfg.ANCHOR.STRIDE, cfg.ANCHOR.RATIOS, cfg.ANCHOR.SCALES, t.SEARCH_SIZE, t.OUTPUT_SIZE,
                   t.THR_HIGH, t.THR_LOW, t.POS_NUM, t.NEG_NUM, t.TOTAL_NUM,
                   t.NEG_WINDOW_CENTRE)

    def negative_window_centre(self, target: Sequence[float]) -> Tuple[int, int]:
        """Grid cell (col, row) around which a negative pair's labels are drawn."""
        tcx = (target[0] + target[2]) / 2
        tcy = (target[1] + target[3]) / 2
        half = self.search_size // 2
        if self.neg_centre == "pysot":
            off = [int(math.ceil((t - half) / self.stride + 0.5)) for t in (tcx, tcy)]
        else:
            off = [int(math.floor((t - half) / self.stride + 0.5)) for t in (tcx, tcy)]
        return self.output_size // 2 + off[0], self.output_size // 2 + off[1]

    def __call__(self, target: Sequence[float], neg: bool, rng: np.random.Generator
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(cls, delta, delta_weight, overlap)`` for the corner box ``target`` in search-crop pixels.

        Shapes: cls (A, S, S) int64 in {-1, 0, 1}; delta (4, A, S, S); delta_weight and overlap
        (A, S, S) float32.
        """
        a, s = self.anchor_num, self.output_size
        cls = np.full((a, s, s), -1, dtype=np.int64)
        delta = np.zeros((4, a, s, s), dtype=np.float32)
        delta_weight = np.zeros((a, s, s), dtype=np.float32)

        if neg:
            col, row = self.negative_window_centre(target)
            window = np.zeros((a, s, s), dtype=bool)
            window[:, max(0, row - _NEG_HALF_WINDOW):min(s, row + _NEG_HALF_WINDOW + 1),
                   max(0, col - _NEG_HALF_WINDOW):min(s, col + _NEG_HALF_WINDOW + 1)] = True
            picked, _ = _keep_at_most(np.where(window), self.neg_num, rng)
            cls[picked] = 0
            return cls, delta, delta_weight, np.zeros((a, s, s), dtype=np.float32)

        tx1, ty1, tx2, ty2 = (float(v) for v in target)
        tcx, tcy, tw, th = (tx1 + tx2) / 2, (ty1 + ty2) / 2, tx2 - tx1, ty2 - ty1
        cx, cy, w, h = self.centres
        delta[0] = (tcx - cx) / w
        delta[1] = (tcy - cy) / h
        delta[2] = np.log(tw / w)
        delta[3] = np.log(th / h)

        overlap = box_iou(self.corners, (tx1, ty1, tx2, ty2)).astype(np.float32)
        pos, pos_num = _keep_at_most(np.where(overlap > self.thr_high), self.pos_num, rng)
        negs, _ = _keep_at_most(np.where(overlap < self.thr_low), self.total_num - self.pos_num, rng)
        cls[pos] = 1
        delta_weight[pos] = 1.0 / (pos_num + 1e-6)
        cls[negs] = 0
        return cls, delta, delta_weight, overlap

    def labels(self, target: Sequence[float], neg: bool, rng: np.random.Generator) -> Dict[str, np.ndarray]:
        """The batch entries of one search crop: ``label_cls`` (A, S, S), ``label_loc`` (4, A, S, S),
        ``label_loc_weight`` (A, S, S)."""
        cls, delta, delta_weight, _ = self(target, neg, rng)
        return {"label_cls": cls, "label_loc": delta, "label_loc_weight": delta_weight}
