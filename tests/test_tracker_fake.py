"""A deterministic fake Siamese model for tracker tests, and checks of the fake itself.

``FakeSiamModel`` has the functional model interface the trackers use (``extract_template``,
``track_with``, ``refine_with``; batches are handled one sample at a time) and pysot's stateful
one (``template``, ``track``, ``mask_refine``, which pysot's trackers call), and computes its outputs as a fixed function of the input crops, in float64
numpy, so that pysot's tracker classes (run outside this repository) and pysiam's trackers see
bit-identical network outputs whenever they feed bit-identical crops. The reference files in
``tests/data/tracker`` were produced by running pysot's trackers with this very class (see
``test_tracker_parity.py`` for the recipe); changing anything here invalidates them.

How it works: the template gives a target colour (mean of the central 63x63 of the exemplar
crop). For a search crop with an S x S score map, the crop is average-pooled to S x S cells
(adaptive bins); each cell's 3x3 neighbourhood colours, its colour similarity to the target and a
constant form a 29-value feature, and fixed seeded linear maps of it give the class logits (the
foreground logit also gets ``gain * similarity``, so cells of the target's colour score high) and
the box deltas (tanh-bounded). The mask logits at a position compare the 127x127 exemplar-sized
window of the search crop at that position, pooled to 64x64 cells, with the colour of the window's
border (cells unlike the border are foreground), enlarged back by nearest-neighbour indexing.
"""
from __future__ import annotations

import numpy as np
import torch

EXEMPLAR = 127
STRIDE = 8


def adaptive_mean(img: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``img`` (C, H, W) over n x n adaptive bins, as float64 (exact integral-image sums)."""
    c, h, w = img.shape
    ii = np.zeros((c, h + 1, w + 1))
    ii[:, 1:, 1:] = img.astype(np.float64).cumsum(1).cumsum(2)
    k = np.arange(n)
    r0, r1 = (k * h) // n, -((-(k + 1) * h) // n)
    c0, c1 = (k * w) // n, -((-(k + 1) * w) // n)
    s = (ii[:, r1[:, None], c1[None, :]] - ii[:, r0[:, None], c1[None, :]]
         - ii[:, r1[:, None], c0[None, :]] + ii[:, r0[:, None], c0[None, :]])
    return s / ((r1 - r0)[:, None] * (c1 - c0)[None, :])


class FakeSiamModel:
    """Deterministic stand-in for a SiamRPN / SiamMask model (outputs on the input's device)."""

    def __init__(self, anchor_num: int = 5, base_size: int = 8, seed: int = 0, gain: float = 9.0,
                 bias: float = -2.0, mask: bool = False):
        rng = np.random.RandomState(seed)
        self.anchor_num, self.base_size = anchor_num, base_size
        self.gain, self.bias = gain, bias
        self.w_cls = rng.normal(0.0, 0.3, size=(2 * anchor_num, 29))
        self.w_loc = rng.normal(0.0, 0.5, size=(4 * anchor_num, 29))
        self.loc_scale = np.repeat([0.25, 0.25, 0.15, 0.15], anchor_num)
        self.target = None
        self.search = None
        self.device = torch.device("cpu")
        self.calls = {"template": 0, "track": 0, "mask_refine": 0}
        if mask:  # pysot's SiamMaskTracker checks that these attributes exist
            self.mask_head = "fake"
            self.refine_head = "fake"

    def eval(self):
        return self

    def to(self, device):
        return self

    @staticmethod
    def _numpy(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().numpy()[0].astype(np.float64)

    def template(self, z: torch.Tensor) -> None:
        self.calls["template"] += 1
        zz = self._numpy(z)
        assert zz.shape == (3, EXEMPLAR, EXEMPLAR), zz.shape
        self.target = zz[:, 32:95, 32:95].mean(axis=(1, 2)) / 255.0

    def _similarity(self, colours: np.ndarray) -> np.ndarray:
        d2 = ((colours - self.target[:, None, None]) ** 2).sum(0)
        return np.exp(-d2 / 0.02)

    def track(self, x: torch.Tensor) -> dict:
        self.calls["track"] += 1
        xx = self._numpy(x)
        n = xx.shape[-1]
        size = (n - EXEMPLAR) // STRIDE + 1 + self.base_size
        g = adaptive_mean(xx, size) / 255.0
        sim = self._similarity(g)
        gp = np.pad(g, ((0, 0), (1, 1), (1, 1)), mode="edge")
        feats = [2.0 * gp[:, i:i + size, j:j + size] - 1.0 for i in range(3) for j in range(3)]
        f = np.concatenate(feats + [sim[None], np.ones((1, size, size))], 0)  # 29 x S x S
        cls = np.einsum("kf,fij->kij", self.w_cls, f)
        a = self.anchor_num
        cls[a:] += self.gain * sim[None] + self.bias
        loc = np.tanh(np.einsum("kf,fij->kij", self.w_loc, f)) * self.loc_scale[:, None, None]
        self.search, self.device = xx, x.device
        dev = x.device
        return {"cls": torch.from_numpy(cls[None].astype(np.float32)).to(dev),
                "loc": torch.from_numpy(loc[None].astype(np.float32)).to(dev),
                "mask": None}

    def mask_refine(self, pos) -> torch.Tensor:
        self.calls["mask_refine"] += 1
        row, col = int(pos[0]), int(pos[1])
        half = self.base_size // 2
        pad = half * STRIDE
        x = np.pad(self.search, ((0, 0), (pad, pad), (pad, pad)))
        y0, x0 = pad + (row - half) * STRIDE, pad + (col - half) * STRIDE
        win = x[:, y0:y0 + EXEMPLAR, x0:x0 + EXEMPLAR]
        assert win.shape == (3, EXEMPLAR, EXEMPLAR), (win.shape, pos)
        cells = adaptive_mean(win, 64) / 255.0
        k = np.arange(64)
        edge = np.minimum(np.minimum(k[:, None], k[None, :]), np.minimum(63 - k[:, None], 63 - k[None, :]))
        ring = cells[:, edge < 6].mean(axis=1)  # colour of the window's border
        d2 = ((cells - ring[:, None, None]) ** 2).sum(0)
        logits = 60.0 * d2 - 4.0  # foreground: cells that differ from the border colour
        idx = (np.arange(EXEMPLAR) * 64) // EXEMPLAR
        logits = logits[idx[:, None], idx[None, :]]
        return torch.from_numpy(logits.reshape(1, -1).astype(np.float32)).to(self.device)


class _FunctionalFake:
    """The functional batch API on top of the stateful fake (one sample at a time inside)."""

    def extract_template(self, z):
        from pysiam.models import Template

        targets = []
        for i in range(z.shape[0]):
            self.template(z[i:i + 1])
            targets.append(torch.from_numpy(self.target))
        return Template([torch.stack(targets)], None, None)

    def track_with(self, template, x, with_mask=True):
        outs, searches = [], []
        for i in range(x.shape[0]):
            self.target = template.features[0][i].numpy()
            outs.append(self.track(x[i:i + 1]))
            searches.append(self.search)
        return {"cls": torch.cat([o["cls"] for o in outs]), "loc": torch.cat([o["loc"] for o in outs]),
                "mask": None, "searches": searches}

    def refine_with(self, out, pos):
        if isinstance(pos, torch.Tensor):
            pos = pos.tolist()
        else:
            pos = [pos]
        rows = []
        for i, (r, c) in enumerate(pos):
            self.search = out["searches"][i]
            rows.append(self.mask_refine((r, c)))
        return torch.cat(rows)


FakeSiamModel.extract_template = _FunctionalFake.extract_template
FakeSiamModel.track_with = _FunctionalFake.track_with
FakeSiamModel.refine_with = _FunctionalFake.refine_with


def occlude(img: np.ndarray, idx: int, start: int = 60, stop: int = 75) -> np.ndarray:
    """The long-term parity case: frames start..stop-1 of the sequence become a uniform dark image."""
    if start <= idx < stop:
        return np.full_like(img, (40, 70, 30))
    return img


# ------------------------------------------------------------------------------------------------
# Checks of the fake model itself
# ------------------------------------------------------------------------------------------------

def test_adaptive_mean_matches_block_means():
    img = np.arange(2 * 6 * 6, dtype=np.float64).reshape(2, 6, 6)
    out = adaptive_mean(img, 3)
    ref = img.reshape(2, 3, 2, 3, 2).mean(axis=(2, 4))
    assert np.allclose(out, ref)
    # uneven bins overlap like torch's adaptive average pooling
    img = np.random.RandomState(0).randint(0, 256, (3, 255, 255)).astype(np.float64)
    t = torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(img)[None], 25)[0].numpy()
    assert np.allclose(adaptive_mean(img, 25), t, atol=1e-9)


def test_fake_model_shapes_and_determinism():
    rs = np.random.RandomState(1)
    z = torch.from_numpy(rs.randint(0, 256, (1, 3, 127, 127)).astype(np.float32))
    x = torch.from_numpy(rs.randint(0, 256, (1, 3, 255, 255)).astype(np.float32))
    outs = []
    for _ in range(2):
        m = FakeSiamModel(mask=True)
        m.template(z)
        o = m.track(x)
        outs.append((o["cls"], o["loc"], m.mask_refine((3, 20))))
    assert outs[0][0].shape == (1, 10, 25, 25) and outs[0][1].shape == (1, 20, 25, 25)
    assert outs[0][2].shape == (1, 127 * 127)
    for a, b in zip(*outs):
        assert torch.equal(a, b)
    alex = FakeSiamModel(base_size=0)
    alex.template(z)
    assert alex.track(torch.zeros(1, 3, 287, 287))["cls"].shape == (1, 10, 21, 21)
