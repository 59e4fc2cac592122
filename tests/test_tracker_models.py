"""End-to-end: the trackers around real pysiam networks (random weights, CPU, a few frames)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pysiam.config import load_config
from pysiam.tracker import SiamMaskTracker, SiamRPNTracker, build_tracker

models = pytest.importorskip("pysiam.models")


def _frames(n=3, h=120, w=160):
    rs = np.random.RandomState(0)
    base = rs.randint(0, 256, (h, w, 3)).astype(np.uint8)
    return [np.roll(base, 2 * i, axis=1) for i in range(n)]


def _check(out, h, w):
    assert len(out["bbox"]) == 4 and all(np.isfinite(out["bbox"]))
    cx, cy = out["bbox"][0] + out["bbox"][2] / 2, out["bbox"][1] + out["bbox"][3] / 2
    assert 0 <= cx <= w and 0 <= cy <= h and 10 <= out["bbox"][2] <= w and 10 <= out["bbox"][3] <= h
    assert 0.0 <= out["best_score"] <= 1.0


def test_siamrpn_alex_real_model():
    cfg = load_config("siamrpn_alex_dwxcorr", ["DEVICE", "cpu"])
    torch.manual_seed(0)
    model = models.build_model(cfg)
    tracker = build_tracker(cfg, model)
    assert type(tracker) is SiamRPNTracker and tracker.score_size == 21
    assert not model.training and tracker.network_kwargs == {"with_mask": False}
    frames = _frames()
    tracker.init(frames[0], [60, 40, 30, 30])
    for f in frames[1:]:
        _check(tracker.track(f), *f.shape[:2])


def test_siammask_real_model_one_frame():
    cfg = load_config("siammask_r50_l3", ["DEVICE", "cpu"])
    torch.manual_seed(0)
    model = models.build_model(cfg)
    tracker = build_tracker(cfg, model)
    assert type(tracker) is SiamMaskTracker and tracker._use_refine
    frames = _frames(2)
    tracker.init(frames[0], [60, 40, 30, 30])
    out = tracker.track(frames[1])
    _check(out, 120, 160)
    assert out["mask"].shape == (120, 160) and len(out["polygon"]) == 8
