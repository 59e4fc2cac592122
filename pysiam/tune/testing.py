"""A toy model and a generated benchmark on which the right hyper-parameter is known in advance.

:class:`ColourMatchModel` stands in for a Siamese network (``template`` / ``track`` /
``mask_refine``): the template gives a target colour; in the search crop, every pixel's colour
similarity exp(-|c - target|^2 / sigma2) is averaged over a box the size of the template's
target, centred on each score-map position, and the foreground logit is gain * (mean - 1/2).
It is deterministic, needs no weights and runs in about a millisecond per frame.

:func:`make_distractor_benchmark` writes an OTB- (or VOT-) layout set of PNG frames where the
target changes colour slightly after the first frame while a distractor of exactly the first
frame's colour travels alongside it, about 13 px away: the raw score prefers the distractor, so a
tracker with a small WINDOW_INFLUENCE jumps to it on frame 1 and never comes back (OPE), while a
large window influence keeps the target. Too large a window influence holds the box back from the
moving target: with the toy model, WINDOW_INFLUENCE 0.5 scores best among 0, 0.1, ..., 0.5, 0.7,
0.9 (success AUC 0.855; 0 to 0.4 all lose the target on frame 1: 17 / 21 / 24 = 0.034).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from pysiam.models.siam_model import Template
from pysiam.results.files import atomic_write_text

__all__ = ["ColourMatchModel", "make_toy_model", "make_distractor_benchmark", "toy_config_opts",
           "TARGET_COLOUR", "FADED_COLOUR"]

TARGET_COLOUR = (40, 200, 220)     # BGR, first frame (and the distractor)
FADED_COLOUR = (40, 170, 220)      # BGR, the target from frame 1 on
BACKGROUND = 30

# Config overrides the toy model expects: one anchor per position (ratio 1, scale 8).
toy_config_opts = ["ANCHOR.RATIOS", "[1.0]", "ANCHOR.SCALES", "[8]"]


class ColourMatchModel:
    """Deterministic toy Siamese model (see the module docstring).

    ``delay`` (seconds) is slept in every ``track`` call, to make runs slow on purpose in tests;
    ``calls`` counts the calls of each method.
    """

    def __init__(self, anchor_num: int = 1, stride: int = 8, base_size: int = 8,
                 gain: float = 12.0, sigma2: float = 0.02, delay: float = 0.0, mask: bool = False):
        self.anchor_num, self.stride, self.base_size = anchor_num, stride, base_size
        self.gain, self.sigma2, self.delay = gain, sigma2, delay
        self.target: Optional[np.ndarray] = None
        self.box = 1
        self.calls = {"template": 0, "track": 0, "mask_refine": 0}
        self.mask_head = "toy" if mask else None
        self.refine_head = "toy" if mask else None

    def eval(self) -> ColourMatchModel:
        return self

    def to(self, device: Union[str, torch.device]) -> ColourMatchModel:
        return self

    def _similarity(self, img: torch.Tensor) -> np.ndarray:
        """(1, 3, H, W) 0..255 -> (H, W) colour similarity to the target in [0, 1]."""
        a = img[0].detach().cpu().numpy().astype(np.float32) * np.float32(1 / 255.0)
        d2 = sum((a[c] - np.float32(self.target[c])) ** 2 for c in range(3))
        return np.exp(-d2 / np.float32(self.sigma2))

    def _target(self, z: torch.Tensor):
        c = z.shape[-1] // 2
        centre = z[0, :, c - 15:c + 16, c - 15:c + 16].detach().cpu().numpy().astype(np.float64)
        self.target = centre.mean(axis=(1, 2)) / 255.0
        count = int((self._similarity(z) > 0.5).sum())
        return self.target, max(1, int(round(count ** 0.5)) // 2 * 2 + 1)    # odd side of the target

    def extract_template(self, z: torch.Tensor) -> Template:
        """Per sample: the target colour (centre of the exemplar) and the odd side of its blob."""
        self.calls["template"] += 1
        parts = [self._target(z[i:i + 1]) for i in range(z.shape[0])]
        return Template([torch.tensor(np.stack([t for t, _ in parts]))],
                        torch.tensor([b for _, b in parts], dtype=torch.int64), None)

    def track_with(self, template: Template, x: torch.Tensor, with_mask: bool = True) -> dict:
        self.calls["track"] += 1
        if self.delay:
            time.sleep(self.delay)
        outs, sims = [], []
        for i in range(x.shape[0]):
            self.target = template.features[0][i].numpy()
            self.box = int(template.head[i])
            cls, loc, sim = self._track_one(x[i:i + 1])
            outs.append((cls, loc))
            sims.append(sim)
        return {"cls": torch.cat([c for c, _ in outs]).to(x.device), "loc": torch.cat([l for _, l in outs]).to(x.device),
                "mask": None, "similarity": sims}

    def _track_one(self, x: torch.Tensor):
        n = x.shape[-1]
        sim = self._similarity(x)
        size = self._score_size(n)
        pos = (n - 1) // 2 + (np.arange(size) - size // 2) * self.stride
        half = self.box // 2
        pad = half + 1
        ii = np.zeros((n + 2 * pad + 1, n + 2 * pad + 1))
        ii[1:, 1:] = np.pad(sim, pad).cumsum(0).cumsum(1)
        lo, hi = pos + pad - half, pos + pad + half + 1
        s = (ii[np.ix_(hi, hi)] - ii[np.ix_(lo, hi)] - ii[np.ix_(hi, lo)] + ii[np.ix_(lo, lo)])
        logit = torch.from_numpy((self.gain * (s / self.box ** 2 - 0.5)).astype(np.float32))
        a = self.anchor_num
        cls = torch.cat([torch.zeros(a, size, size), logit.expand(a, size, size)])[None]
        return cls, torch.zeros(1, 4 * a, size, size), sim

    def _score_size(self, n: int) -> int:
        return (n - 127) // self.stride + 1 + self.base_size

    def refine_with(self, out: dict, pos: Union[torch.Tensor, Sequence[int]]) -> torch.Tensor:
        """127 x 127 logits of the colour similarity in the exemplar-sized window at (row, col)."""
        self.calls["mask_refine"] += 1
        positions = pos.tolist() if isinstance(pos, torch.Tensor) else [pos]
        rows = []
        for i, (row, col) in enumerate(positions):
            off = self.base_size // 2
            y0, x0 = (int(row) - off) * self.stride, (int(col) - off) * self.stride
            k = 127
            sim = np.pad(out["similarity"][i], k)
            win = sim[y0 + k:y0 + 2 * k, x0 + k:x0 + 2 * k]
            rows.append(torch.from_numpy((self.gain * (win - 0.5)).astype(np.float32).reshape(1, -1)))
        return torch.cat(rows)


def make_toy_model(delay: float = 0.0, mask: bool = False) -> ColourMatchModel:
    """Picklable model factory for :class:`pysiam.tune.trial.EvalSetup` (worker processes)."""
    return ColourMatchModel(delay=delay, mask=mask)


def _draw(img: np.ndarray, box: Sequence[float], colour: Tuple[int, int, int]) -> None:
    x, y, w, h = (int(round(v)) for v in box)
    img[max(0, y):max(0, y + h), max(0, x):max(0, x + w)] = colour


#: layout -> (frame folder, ground-truth file, frame name pattern, whether a list.txt is written)
_LAYOUT_FILES = {"otb": ("img", "groundtruth_rect.txt", "{:04d}.png", False),
                 "vot": ("color", "groundtruth.txt", "{:08d}.png", True)}


def make_distractor_benchmark(root: Union[str, Path], videos: Optional[Dict[str, int]] = None,
                              size: Tuple[int, int] = (96, 64),
                              target: int = 10, gap: int = 13, speed: float = 1.5,
                              layout: str = "otb") -> Dict[str, np.ndarray]:
    """Target + distractor videos in the OTB layout (<Seq>/img/0001.png, groundtruth_rect.txt)
    or, with ``layout='vot'``, the VOT one (list.txt, <seq>/color/00000001.png, groundtruth.txt).

    Video k: the target (``target`` px square) starts left (even k, moving right) or right (odd
    k, moving left) at ``speed`` px per frame; the distractor rides ``gap`` px above (even k) or
    below (odd k). Returns {video: ground-truth boxes}.
    """
    import cv2

    root = Path(root)
    if layout not in _LAYOUT_FILES:
        raise ValueError(f"layout must be 'otb' or 'vot', not {layout!r}")
    frame_folder, gt_name, frame_name, listed = _LAYOUT_FILES[layout]
    videos = videos or {"RideAbove": 24, "RideBelow": 24}
    w_img, h_img = size
    out = {}
    for k, (name, n) in enumerate(videos.items()):
        direction = 1 if k % 2 == 0 else -1
        x0 = 15.0 if direction > 0 else w_img - 15.0 - target
        y = h_img / 2 - target / 2 + (6 if k % 2 == 0 else -6)
        dy = -gap if k % 2 == 0 else gap
        gt = np.array([[x0 + direction * speed * i, y, target, target] for i in range(n)])
        folder = root / name / frame_folder
        folder.mkdir(parents=True, exist_ok=True)
        for i, box in enumerate(gt):
            img = np.full((h_img, w_img, 3), BACKGROUND, np.uint8)
            _draw(img, [box[0], box[1] + dy, target, target], TARGET_COLOUR)
            _draw(img, box, TARGET_COLOUR if i == 0 else FADED_COLOUR)
            cv2.imwrite(str(folder / frame_name.format(i + 1)), img)
        atomic_write_text(root / name / gt_name,
                          "".join(",".join(f"{v:g}" for v in b) + "\n" for b in gt))
        out[name] = gt
    if listed:
        atomic_write_text(root / "list.txt", "".join(f"{v}\n" for v in videos))
    return out
