"""OPE success / precision / normalised precision: hand-derived cases and published results."""
import json
from pathlib import Path

import numpy as np
import pytest

from pysiam.datasets import build_dataset
from pysiam.results.files import read_boxes
from pysiam.eval import evaluate
from pysiam.eval.ope import box_iou, ope_summary, ope_video_scores

DATA = Path(__file__).parent / "data" / "eval"


def test_box_iou_by_hand():
    a = np.array([[0.0, 0, 10, 10], [0, 0, 10, 10]])
    b = np.array([[5.0, 5, 10, 10], [20, 20, 5, 5]])
    np.testing.assert_allclose(box_iou(a, b), [25 / 175, 0.0])


def test_perfect_tracker_scores_20_of_21_thresholds():
    gt = np.array([[10.0, 10, 20, 30]] * 5)
    s = ope_video_scores(gt, gt)
    assert s["success"][-1] == 0.0 and (s["success"][:-1] == 1).all()   # IoU 1 is not > 1
    summary = ope_summary({"v": s})
    assert summary["success_auc"] == pytest.approx(20 / 21)
    assert summary["precision"] == 1.0 and summary["norm_precision"] == 1.0


def test_invalid_ground_truth_fails_success_but_passes_precision():
    gt = np.array([[10.0, 10, 20, 30], [0, 0, 0, 0], [np.nan] * 4, [10, 10, 20, 30]])
    pred = np.array([[10.0, 10, 20, 30], [50, 50, 20, 20], [50, 50, 20, 20], [10, 10, 20, 30]])
    s = ope_video_scores(gt, pred)
    assert s["success"][0] == 0.5            # 2 of 4 frames have IoU > 0
    assert s["precision"][20] == 1.0         # invalid frames count as within 20 px
    assert s["precision"][0] == 1.0


def test_centre_error_threshold_and_normalised_precision():
    gt = np.array([[0.0, 0, 10, 10]] * 2)
    pred = gt + [3, 4, 0, 0]                 # centre error 5 px, 0.5 of the gt size
    s = ope_video_scores(gt, pred)
    assert s["precision"][4] == 0.0 and s["precision"][5] == 1.0 and s["precision"][20] == 1.0
    assert s["norm_precision"][20] == 0.0 and s["norm_precision"][49] == 0.0
    assert s["norm_precision"][50] == 1.0


def test_invisible_frames_stay_in_the_denominator():
    gt = np.array([[0.0, 0, 10, 10]] * 4)
    s = ope_video_scores(gt, gt, visible=np.array([1, 1, 0, 1], bool))
    assert s["success"][0] == 0.75 and s["precision"][20] == 0.75


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="3 result boxes for 2"):
        ope_video_scores(np.zeros((2, 4)), np.zeros((3, 4)))


def test_mmtracking_fixture(shared_data):
    """mmtracking's test expects success 67.524, precision 50.0, norm precision 70.0 (x100)."""
    base = shared_data / "reference" / "mmtracking_sot_fixture" / "TRAIN_0"
    per_video = {}
    for v in ("video-1", "video-2"):
        gt = read_boxes(base / v / "gt_for_eval.txt")
        pred = read_boxes(base / v / "track_results.txt")     # x1,y1,x2,y2
        pred[:, 2:] -= pred[:, :2]
        per_video[v] = ope_video_scores(gt, pred)
    s = ope_summary(per_video)
    assert round(s["success_auc"] * 100, 3) == 67.524
    assert round(s["precision"] * 100, 3) == 50.0
    assert round(s["norm_precision"] * 100, 3) == 70.0


def test_otb100_published_results_match_pysot(shared_data):
    """SiamRPN++ / SiamBAN raw OTB100 results scored from the pysot JSON alone; reference numbers
    from pysot's own OPEBenchmark (tests/data/eval/otb100_pysot_reference.json)."""
    ref = json.loads((DATA / "otb100_pysot_reference.json").read_text())["trackers"]
    ds = build_dataset("OTB100", shared_data / "reference" / "OTB100_pysot_gt")
    out = evaluate(ds, shared_data / "reference" / "OTB100_results")
    assert sorted(out) == ["SiamBAN", "SiamRPN++"]
    for t in out:
        for k in ("success_auc", "precision", "norm_precision"):
            assert out[t][k] == pytest.approx(ref[t][k], abs=1e-12)
        for v, auc in ref[t]["per_video_auc"].items():
            assert out[t]["per_video"][v]["success_auc"] == pytest.approx(auc, abs=1e-12)
    assert round(out["SiamRPN++"]["success_auc"], 3) == 0.696
    assert round(out["SiamBAN"]["success_auc"], 3) == 0.696
    assert round(out["SiamBAN"]["precision"], 3) == 0.910
    assert round(out["SiamRPN++"]["precision"], 3) == 0.905
    assert out["SiamRPN++"]["per_attribute"]["Occlusion"]["num_videos"] == 49
