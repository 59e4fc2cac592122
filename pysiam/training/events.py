"""One metric store fanned out to a JSON-lines file, TensorBoard and the console / progress bar.

Only the main process writes (the others get a :class:`MetricLogger` with ``enabled=False``).
TensorBoard is optional: without the ``tensorboard`` package the scalars still go to
``metrics.jsonl``.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence

import cv2
import numpy as np

__all__ = ["MetricLogger", "pair_grid"]

logger = logging.getLogger(__name__)


class MetricLogger:
    """``log(step, scalars)`` -> metrics.jsonl + TensorBoard; ``log_image(step, name, image)``."""

    def __init__(self, run_dir: Optional[Path], log_dir: Optional[Path] = None, enabled: bool = True):
        self.enabled = enabled and run_dir is not None
        self._jsonl = None
        self._tb = None
        if not self.enabled:
            return
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        self._jsonl = open(run_dir / "metrics.jsonl", "a", buffering=1)
        try:
            from torch.utils.tensorboard import SummaryWriter
            self._tb = SummaryWriter(str(log_dir or run_dir / "logs"))
        except ImportError:  # pragma: no cover - tensorboard missing
            logger.warning("tensorboard is not installed: metrics go to metrics.jsonl only")

    def log(self, step: int, scalars: Mapping[str, float], **fields) -> None:
        """One JSON line ``{"step": .., "time": .., **fields, **scalars}`` and one TB scalar each."""
        if not self.enabled:
            return
        row = {"step": int(step), "time": round(time.time(), 3), **fields}
        row.update({k: float(v) for k, v in scalars.items()})
        self._jsonl.write(json.dumps(row) + "\n")
        if self._tb is not None:
            for k, v in scalars.items():
                self._tb.add_scalar(k, float(v), int(step))

    def log_image(self, step: int, name: str, image_bgr: np.ndarray) -> None:
        """An HxWx3 uint8 BGR image to TensorBoard."""
        if self.enabled and self._tb is not None:
            self._tb.add_image(name, np.ascontiguousarray(image_bgr[..., ::-1]), int(step), dataformats="HWC")

    def flush(self) -> None:
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None


def _draw(img_chw: np.ndarray, box: Sequence[float], colour) -> np.ndarray:
    img = np.clip(img_chw.transpose(1, 2, 0), 0, 255).astype(np.uint8).copy()
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    cv2.rectangle(img, (x1, y1), (x2, y2), colour, 1)
    return img


def pair_grid(batch: Dict[str, "np.ndarray"], n: int = 8) -> np.ndarray:
    """Rows of (template, search) crops of the first ``n`` pairs with their boxes drawn (BGR uint8).

    Positive pairs' boxes are green, negative pairs' red; the template is padded to the search size.
    """
    rows = []
    count = min(n, len(batch["search"]))
    for i in range(count):
        neg = bool(batch["neg"][i]) if "neg" in batch else False
        colour = (0, 0, 255) if neg else (0, 255, 0)
        search = _draw(np.asarray(batch["search"][i]), batch["bbox"][i], colour)
        template = _draw(np.asarray(batch["template"][i]), batch["template_bbox"][i], (0, 255, 0))
        canvas = np.zeros_like(search)
        canvas[:template.shape[0], :template.shape[1]] = template
        rows.append(np.hstack([canvas, search]))
    return np.vstack(rows) if rows else np.zeros((1, 1, 3), np.uint8)
