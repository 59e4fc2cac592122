"""DAVIS J / F: hand-derived cases and the published per-frame values."""
import json

import numpy as np
import pytest

from pysiam.datasets import build_dataset
from pysiam.eval import evaluate
from pysiam.eval.davis import (boundary_f, boundary_map, davis_sequence_scores, davis_summary, disk,
                               object_statistics, region_similarity)


def square(h=6, w=6, r0=1, c0=1, size=3):
    m = np.zeros((h, w), bool)
    m[r0:r0 + size, c0:c0 + size] = True
    return m


def test_region_similarity():
    a, b = square(), square(c0=2)
    assert region_similarity(a, b) == pytest.approx(6 / 12)
    assert region_similarity(np.zeros((4, 4)), np.zeros((4, 4))) == 1.0
    assert region_similarity(a, np.zeros_like(a)) == 0.0


def test_boundary_map_by_hand():
    # 3x3 square at rows/cols 1..3 of a 6x6 image: its own right column and bottom row (5 px)
    # and the pixels above / left of it including the corner (7 px): 12 boundary pixels.
    b = boundary_map(square())
    want = {(1, 3), (2, 3), (3, 3), (3, 1), (3, 2), (0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (2, 0), (3, 0)}
    assert {tuple(p) for p in np.argwhere(b)} == want
    assert not boundary_map(np.ones((4, 4), bool)).any()      # image borders are not boundaries


def test_disk():
    assert disk(1).tolist() == [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    assert disk(2).sum() == 13


def test_boundary_f_cases():
    empty = np.zeros((30, 40), bool)
    a = np.zeros((30, 40), bool)
    a[10:20, 10:25] = True
    assert boundary_f(empty, empty) == 1.0
    assert boundary_f(a, empty) == 0.0 and boundary_f(empty, a) == 0.0
    assert boundary_f(a, a) == 1.0
    shifted = np.roll(a, 1, axis=1)          # tolerance ceil(0.008 * 50) = 1 px
    assert boundary_f(a, shifted) == 1.0 and region_similarity(a, shifted) < 1
    assert boundary_f(a, np.roll(a, 4, axis=1)) < 1


def test_statistics_decay_bins():
    # 8 frames: bins from round(linspace(1, 8, 5) + 1e-10) - 1 = 0, 2, 4, 5, 7 (inclusive ends)
    v = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    s = object_statistics(v)
    assert s["mean"] == pytest.approx(0.55)
    assert s["recall"] == pytest.approx(0.5)                    # 0.5 is not > 0.5
    assert s["decay"] == pytest.approx(0.8 - 0.3)               # [.9 .8 .7] vs [.4 .3 .2]


def test_sequence_objects_void_and_missing_labels():
    gt = [np.zeros((6, 6), np.uint8) for _ in range(4)]
    for g in gt:
        g[0:2, 0:2] = 1
        g[3:5, 3:5] = 2
        g[5, 5] = 255                      # void: background
    res = [np.where(g == 255, 0, g).astype(np.uint8) for g in gt[1:-1]]
    res[1] = (res[1] == 1).astype(np.uint8)      # object 2 missing in the second scored frame
    s = davis_sequence_scores(gt, res)
    assert s["J"].shape == (2, 2)
    assert s["J"][0].tolist() == [1.0, 1.0] and s["J"][1].tolist() == [1.0, 0.0]
    assert s["F"][1].tolist() == [1.0, 0.0]
    summary = davis_summary({"seq": s})
    assert summary["num_objects"] == 2
    assert summary["J_mean"] == pytest.approx((1 + 0.5) / 2)
    assert summary["JF_mean"] == pytest.approx((summary["J_mean"] + summary["F_mean"]) / 2)
    with pytest.raises(ValueError, match="label 3"):
        davis_sequence_scores(gt, [np.full((6, 6), 3, np.uint8)] * 2)


def test_published_davis2016_per_frame(shared_data):
    """osvos / siammask / stm on blackswan and car-shadow: every per-frame J and F equals the
    published value (3 d.p.) of DAVIS2016_raw_eval."""
    ref_dir = shared_data / "reference"
    ds = build_dataset("DAVIS2016", shared_data / "DAVIS", videos=["blackswan", "car-shadow"])
    out = evaluate(ds, ref_dir / "DAVIS2016_results")
    assert sorted(out) == ["osvos", "siammask", "stm"]
    for tracker, res in out.items():
        ref = json.loads((ref_dir / "DAVIS2016_raw_eval" / f"{tracker}_davis.json").read_text())
        for seq in ("blackswan", "car-shadow"):
            for m in ("J", "F"):
                ours = np.round(np.array(res["per_frame"][seq][m][0]), 3)
                np.testing.assert_array_equal(ours, np.array(ref[seq][m], float), err_msg=f"{tracker} {seq} {m}")


def test_published_davis2017_per_object(shared_data):
    ref_dir = shared_data / "reference"
    ds = build_dataset("DAVIS2017", shared_data / "DAVIS", videos=["blackswan", "car-shadow"])
    res = evaluate(ds, ref_dir / "DAVIS2017_results")["osvos"]
    ref = json.loads((ref_dir / "DAVIS2017_raw_eval" / "osvos_davis.json").read_text())
    for obj in ("blackswan_1", "car-shadow_1"):
        assert round(res["per_object"][obj]["J_mean"], 4) == float(ref[obj]["J"])
        assert round(res["per_object"][obj]["F_mean"], 4) == float(ref[obj]["F"])
