"""VOT accuracy / robustness / EAO and long-term P/R/F: hand-derived cases and pysot references."""
import json
from pathlib import Path

import numpy as np
import pytest

from pysiam.datasets import build_dataset
from pysiam.results.files import read_boxes, read_vot_records, write_longterm_result, write_vot_result
from pysiam.eval import evaluate
from pysiam.eval.vot import (burn_in_mask, eao_from_curve, longterm_summary, longterm_video_scores,
                             run_overlaps, vot_summary, vot_video_scores)

DATA = Path(__file__).parent / "data" / "eval"
GT = [0.0, 0, 9, 9]      # 10 x 10 raster pixels
FULL = [0.0, 0, 9, 9]    # overlap 1
HALF = [0.0, 0, 4, 9]    # 5 x 10 pixels: overlap 0.5
SIZE = (100, 100)


def run(records):
    """(codes, regions) from a list of ints and boxes."""
    codes = np.array([r if isinstance(r, int) else -1 for r in records])
    regions = np.array([[np.nan] * 4 if isinstance(r, int) else r for r in records], float)
    return codes, regions


# V1: no failure, overlaps 1, .5, 1, .5, 1 after the init frame.
V1 = [1, FULL, HALF, FULL, HALF, FULL]
# V2: failure at frame 2, re-initialised at frame 7, then .5, .5.
V2 = [1, FULL, 2, 0, 0, 0, 0, 1, HALF, HALF]


def scores(burn_in=10):
    return {"v1": vot_video_scores([run(V1)], np.array([GT] * 6), SIZE, {}, burn_in),
            "v2": vot_video_scores([run(V2)], np.array([GT] * 10), SIZE, {}, burn_in)}


def test_burn_in_and_special_frames():
    assert burn_in_mask(np.array([1, -1, -1, 2, 0, 1, -1, -1]), 2).tolist() == \
        [True, True, False, False, False, True, True, False]
    acc, eao = run_overlaps(*run(V2), np.array([GT] * 10), SIZE, burn_in=2)
    assert np.isnan(acc[:9]).all() and acc[9] == 0.5          # only frame 9 is scored
    np.testing.assert_array_equal(np.isnan(eao), [1, 0, 1, 1, 1, 1, 1, 1, 0, 0])
    assert eao[1] == 1.0 and eao[8] == 0.5


def test_accuracy_robustness_by_hand():
    s = vot_summary(scores(burn_in=2), None)
    # scored frames: v1 frames 2..5 (.5, 1, .5, 1), v2 frame 9 (.5) -> 3.5 / 5
    assert s["accuracy"] == pytest.approx(3.5 / 5)
    assert s["lost_number"] == 1.0
    assert s["robustness"] == pytest.approx(1 / 16 * 100)     # 1 failure in 16 frames


def test_eao_by_hand():
    # segments: v1 [., 1, .5, 1, .5, 1] (6 long); v2 [0, 1, 0 ...] failed -> zero-padded to 10;
    # v2 [0, .5, .5] (3 long). Phi(1) = (1 + 1 + .5) / 3, Phi(2) = (.75 + .5 + .5) / 3,
    # Phi(3) = (5/6 + 1/3) / 2, Phi(4) = (.75 + .25) / 2, Phi(5) = (.8 + .2) / 2, Phi(N>5) = 1/N.
    s = vot_summary(scores(), (2, 4))
    want = [1, 2.5 / 3, 1.75 / 3, (5 / 6 + 1 / 3) / 2, 0.5, 0.5, 1 / 6, 1 / 7, 1 / 8, 1 / 9]
    np.testing.assert_allclose(s["eao_curve"], want)
    assert s["eao"] == pytest.approx((2.5 / 3 + 1.75 / 3 + 7 / 12) / 3)       # indices 1..3
    s_vot = vot_summary(scores(), (2, 4), window="vot")
    assert s_vot["eao"] == pytest.approx((1.75 / 3 + 7 / 12 + 0.5) / 3)        # indices 2..4


def test_eao_window_beyond_curve_is_nan():
    assert np.isnan(eao_from_curve(np.ones(5), (10, 20)))
    with pytest.raises(ValueError):
        eao_from_curve(np.ones(5), (1, 2), window="other")


def test_tags_weight_segments():
    tags = {"occlusion": np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1])}
    s2 = vot_video_scores([run(V2)], np.array([GT] * 10), SIZE, tags)
    # the failed segment spans frames 0..7 (up to and including the re-initialisation, as pysot
    # cuts it): 1 occluded frame of 8; the last segment (frames 7..9) is fully occluded
    assert s2["weights"]["occlusion"] == [pytest.approx(1 / 8), pytest.approx(1.0)]
    assert s2["tag_failures"]["occlusion"] == 0


def test_multiple_runs_average_overlaps_and_failures():
    v = vot_video_scores([run(V2), run([1] + [FULL] * 9)], np.array([GT] * 10), SIZE, {}, burn_in=2)
    assert v["failures"] == [1, 0]
    assert v["overlaps"][9] == pytest.approx(0.75)            # (0.5 + 1) / 2
    assert vot_summary({"v": v}, None)["lost_number"] == 0.5


def test_matches_pysot_toolkit(tmp_path):
    """Synthetic VOT set (4 videos, 2 trackers, polygons and boxes) scored by pysot's
    AccuracyRobustnessBenchmark / EAOBenchmark (interval 20..110), stored in
    tests/data/eval/vot_pysot_reference.json."""
    ref = json.loads((DATA / "vot_pysot_reference.json").read_text())
    (tmp_path / "VOT2018.json").write_text(json.dumps(ref["dataset"]))
    for tracker, videos in ref["results"].items():
        for video, records in videos.items():
            write_vot_result(tmp_path / "res", "VOT2018", tracker, video, records)
    ds = build_dataset("VOT2018", tmp_path, image_size=tuple(ref["image_size"]))
    out = evaluate(ds, tmp_path / "res", eao_interval=tuple(ref["eao_interval"]))
    for tracker, want in ref["reference"].items():
        got = out[tracker]
        assert got["accuracy"] == pytest.approx(want["accuracy"], abs=1e-12)
        assert got["robustness"] == pytest.approx(want["robustness"], abs=1e-12)
        assert got["lost_number"] == want["lost_number"]
        assert got["eao"] == pytest.approx(want["eao"]["all"], abs=1e-7)   # pysot's curve is float32
        for tag, eao in want["eao"].items():
            if tag != "all":
                assert got["per_attribute"][tag]["eao"] == pytest.approx(eao, abs=1e-7)


def test_mmtracking_fixture_reading_and_robustness(shared_data):
    """mmtracking's VOT fixture: x1,y1,x2,y2 results with 1/2/0 codes; 3 failures in 50 frames
    give robustness 6.0 as in mmtracking's test (its accuracy / EAO definitions differ)."""
    from PIL import Image

    base = shared_data / "reference" / "mmtracking_sot_fixture" / "TRAIN_0"
    per_video = {}
    for v in ("video-1", "video-2"):
        gt = read_boxes(base / v / "vot2018_gt_for_eval.txt", None)
        codes, regions = read_vot_records(base / v / "vot2018_track_results.txt")
        regions[:, 2:4] -= regions[:, 0:2]
        assert gt.shape == (25, 8) and codes[0] == 1
        per_video[v] = vot_video_scores([(codes, regions)], gt, Image.open(base / v / "00000001.jpg").size, {})
    s = vot_summary(per_video, (1, 3))
    assert s["lost_number"] == 3 and s["robustness"] == pytest.approx(6.0)
    assert 0 < s["accuracy"] < 1 and 0 < s["eao"] < 1


def test_longterm_by_hand():
    # frame 0 is the init line; frames 1..3 overlap 1, .5, 0 with confidences .9, .6, .2.
    records = [1, FULL, HALF, [50.0, 50, 9, 9]]
    codes, regions = run(records)
    v = longterm_video_scores(codes, regions, np.array([np.nan, 0.9, 0.6, 0.2]),
                              np.array([GT] * 4), SIZE)
    s = longterm_summary({"v": v})
    # threshold .9: P 1, R 1/4, F .4; .6: P .75, R .375, F .5; .2: P .5, R .375, F 3/7
    assert s["f_score"] == pytest.approx(0.5)
    assert s["precision"] == pytest.approx(0.75) and s["recall"] == pytest.approx(0.375)


def test_longterm_absent_frames_count_in_precision_not_recall():
    codes, regions = run([1, FULL, FULL, FULL])
    gt = np.array([GT, GT, [np.nan] * 4, GT])
    v = longterm_video_scores(codes, regions, np.array([np.nan, 0.9, 0.8, 0.7]), gt, SIZE)
    assert v["num_visible"] == 3
    s = longterm_summary({"v": v})
    # threshold .9: P 1, R 1/3, F .5; .8: P .5 (the absent frame scores 0), R 1/3, F .4;
    # .7: P 2/3, R 2/3, F 2/3 (recall divides by the 3 visible frames)
    assert s["precision"] == pytest.approx(2 / 3) and s["recall"] == pytest.approx(2 / 3)
    assert s["f_score"] == pytest.approx(2 / 3)


def test_longterm_matches_pysot_toolkit(tmp_path):
    """pysot's F1Benchmark on a synthetic long-term set (tests/data/eval/vot_lt_pysot_reference.json)."""
    ref = json.loads((DATA / "vot_lt_pysot_reference.json").read_text())
    meta = {k: {**v, "gt_rect": [[np.nan if x is None else x for x in r] for r in v["gt_rect"]]}
            for k, v in ref["dataset"].items()}
    (tmp_path / "VOT2018-LT.json").write_text(json.dumps(meta))
    for video, r in ref["results"].items():
        write_longterm_result(tmp_path / "res", "VOT2018-LT", "LT", video, r["boxes"], r["confidence"])
    ds = build_dataset("VOT2018-LT", tmp_path, image_size=tuple(ref["image_size"]))
    got = evaluate(ds, tmp_path / "res")["LT"]
    for k in ("precision", "recall", "f_score"):
        assert got[k] == pytest.approx(ref["reference"][k], abs=1e-12)
