"""Multistart protocol and its analysis (vot-toolkit 0.7.4 definitions), on hand-checked
synthetic sequences; region overlaps against values the toolkit computed (tests/data)."""
import json
from pathlib import Path

import numpy as np
import pytest

from pysiam.vot.analysis import score_workspace
from pysiam.vot.multistart import (anchor_runs, default_anchors, eao_partial, init_box,
                                   multistart_done, multistart_job, read_multistart_runs, run_dir,
                                   run_frames, score_run, score_sequence, summarize,
                                   write_multistart_result)
from pysiam.vot.regions import (INIT, format_region, is_empty, mask_region, parse_region, polygon,
                                rectangle, region_overlap, special, write_trajectory)

DATA = Path(__file__).parent / "data"
SIZE = (20, 20)
GT = rectangle(0, 0, 10, 10)
GOOD, HALF, BAD = rectangle(0, 0, 10, 10), rectangle(0, 0, 10, 5), rectangle(15, 15, 3, 3)
I = special(INIT)


def test_overlaps_equal_the_toolkit():
    ref = json.loads((DATA / "vot_toolkit_overlaps.json").read_text())
    size = tuple(ref["size"])
    for c in ref["cases"]:
        a, b = parse_region(c["a"]), parse_region(c["b"])
        assert region_overlap(a, b, size) == pytest.approx(c["bounded"], abs=1e-12), c
        assert region_overlap(a, b, None) == pytest.approx(c["unbounded"], abs=1e-12), c
        assert (is_empty(a), is_empty(b)) == (c["a_empty"], c["b_empty"]), c


def test_mask_overlaps_with_boxes_and_polygons():
    m = np.zeros((10, 10))
    m[2:6, 2:6] = 255
    gt = mask_region(m, optimize=True)
    assert region_overlap(rectangle(2, 2, 4, 2), gt, (10, 10)) == 0.5      # 8 of 16 pixels
    assert region_overlap(polygon([2, 2, 5, 2, 5, 5, 2, 5]), gt, (10, 10)) == 1.0
    assert region_overlap(special(INIT), gt, (10, 10)) == 0.0
    assert region_overlap(mask_region(np.zeros((3, 3)), optimize=True), special(0), None) == 1.0


def test_anchors():
    assert anchor_runs([1, 0, 0, -1, 0, 1]) == [(0, False), (5, False), (3, True)]
    assert default_anchors(10, 4) == [1, 0, 0, 0, 1, 0, 0, 0, -1, -1]
    assert run_frames(3, True, 10) == [3, 2, 1, 0] and run_frames(7, False, 10) == [7, 8, 9]
    with pytest.raises(ValueError, match="no anchor"):
        anchor_runs([0, 0])


def test_failure_is_ten_frames_at_or_below_threshold_and_counts_the_init_frame():
    gt = [GT] * 15
    ov, progress = score_run([I, GOOD, GOOD] + [BAD] * 12, gt, SIZE)
    assert ov[:4] == [0.0, 1.0, 1.0, 0.0] and progress == 3
    _, progress = score_run([I] + [BAD] * 9 + [GOOD] * 5, gt, SIZE)   # init frame is frame 1 of 10
    assert progress == 0
    gt_gap = [GT] * 5 + [special(0)] + [GT] * 9                         # an empty ground truth
    _, progress = score_run([I, GOOD, GOOD] + [BAD] * 12, gt_gap, SIZE)  # resets the count
    assert progress == 15


def _runs():
    # 6 frames; forward run from 0 fails (grace 2) at frame 3, backward run from 5 succeeds
    return {(0, False): [I, GOOD, HALF, BAD, BAD, GOOD], (5, True): [I, GOOD, GOOD, HALF, GOOD, GOOD]}


def test_sequence_scores_by_hand():
    s = score_sequence(_runs(), [GT] * 6, SIZE, high=8, grace=2)
    assert (s.progress, s.total, s.length) == (9, 12, 6)
    assert s.accuracy == pytest.approx(6 / 9) and s.robustness == pytest.approx(0.75)
    assert s.curve == pytest.approx([0, 1, 0.875, 2 / 3, 0.625, 0.6, 0.3, 0.25])
    assert s.active == [0, 2, 2, 2, 2, 2, 1, 1]
    assert summarize({"a": s}, 2, 8)["eao"] == pytest.approx(3.31666666 / 6)


def test_dataset_summary_pools_curves_and_weights_accuracy_by_progress():
    s1 = score_sequence(_runs(), [GT] * 6, SIZE, high=8, grace=2)
    s2 = score_sequence({(0, False): [I, GOOD, GOOD]}, [GT] * 3, SIZE, high=8, grace=2)
    out = summarize({"a": s1, "b": s2}, 2, 8)
    assert out["eao_curve"][1:3] == pytest.approx([1.0, 2.75 / 3])
    assert out["eao"] == pytest.approx((2.75 / 3 + 2 / 3 + 0.625 + 0.6 + 0.3 + 0.25) / 6)
    assert out["accuracy"] == pytest.approx(8 / 12) and out["robustness"] == pytest.approx(7.5 / 9)


def test_eao_partial_counts_a_failed_run_past_its_end():
    curve, active = eao_partial([[0, 0.5, 0.0]], [False], 5)
    assert curve == pytest.approx([0, 0.5, 0.25, 0.25, 0.5 / 3]) and active == [0, 1, 1, 1, 1]


def test_init_boxes():
    assert init_box(rectangle(2, 3, 4, 2)) == pytest.approx([2.5, 3.5, 4, 2])
    m = np.zeros((8, 8), np.uint8)
    m[3:5, 2:6] = 1
    assert init_box(mask_region(m, optimize=True)) == pytest.approx([2.5, 3.5, 4, 2])
    with pytest.raises(ValueError, match="empty mask"):
        init_box(mask_region(np.zeros((3, 3)), optimize=True))


class FakeTracker:
    """Reports a fixed box; records what it was asked."""

    def __init__(self):
        self.calls = []

    def init(self, img, box):
        self.calls.append(("init", int(img[0, 0, 0]), [float(v) for v in box]))

    def track(self, img):
        self.calls.append(("track", int(img[0, 0, 0])))
        return {"bbox": [0, 0, 10, 10], "best_score": 1.0}


def _drive():
    try:
        from pysiam.protocols import drive
    except ImportError:
        from pysiam.runner.protocols import drive
    return drive


def test_job_runs_forward_and_backward_and_round_trips_files(tmp_path):
    drive = _drive()
    gt = [rectangle(2, 3, 4, 2)] * 5
    tracker = FakeTracker()
    anchors = [(0, False), (3, True)]
    res = drive(multistart_job(gt, lambda i: np.full((20, 20, 3), i, np.uint8), anchors), tracker)
    frames = [c[1] for c in tracker.calls]
    assert frames == [0, 1, 2, 3, 4, 3, 2, 1, 0]
    assert tracker.calls[0][2] == pytest.approx([2.5, 3.5, 4, 2])
    assert [len(r.regions) for r in res.runs] == [5, 4]
    assert format_region(res.runs[1].regions[0]) == "1"
    assert format_region(res.runs[1].regions[1]) == "0.0,0.0,10.0,10.0"
    folder = run_dir(tmp_path, "SYNTH", "fake", "v")
    assert not multistart_done(folder, "v", anchors)
    write_multistart_result(folder, "v", res)
    assert multistart_done(folder, "v", anchors)
    assert sorted(p.name for p in folder.iterdir()) == [
        "v_00000000.txt", "v_00000000_time.value", "v_00000003.txt", "v_00000003_time.value"]
    runs = read_multistart_runs(folder, "v", anchors)
    direct = score_sequence({(r.anchor, r.reverse): r.regions for r in res.runs}, gt, SIZE, 8)
    again = score_sequence(runs, gt, SIZE, 8)
    assert (again.accuracy, again.robustness, again.curve) == (direct.accuracy, direct.robustness, direct.curve)


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    seq = ws / "sequences" / "s"
    seq.mkdir(parents=True)
    (ws / "sequences" / "list.txt").write_text("s\n")
    (seq / "sequence").write_text("channels.color=color/%08d.jpg\nlength=6\nwidth=20\nheight=20\n")
    (seq / "groundtruth.txt").write_text("0,0,10,10\n" * 6)
    (seq / "anchor.value").write_text("1\n0\n0\n0\n0\n-1\n")
    (ws / "stack.yaml").write_text(
        "experiments:\n  baseline:\n    type: multistart\n    analyses:\n"
        "      - {type: multistart_eao_score, low: 2, high: 8, grace: 2}\n"
        "      - {type: multistart_average_ar, grace: 2}\n"
        "  unsupervised:\n    type: unsupervised\n    analyses:\n      - {type: average_accuracy, burnin: 2}\n"
        "  reset:\n    type: supervised\n    analyses:\n      - {type: supervised_average_ar, burnin: 1}\n"
        "      - {type: supervised_eao_score, low: 1, high: 5}\n  other:\n    type: something\n")
    (ws / "config.yaml").write_text("registry:\n- .\nstack: stack.yaml\nsequences: sequences\n")
    res = ws / "results" / "T"
    for (a, _), traj in _runs().items():
        write_trajectory(res / "baseline" / "s" / f"s_{a:08d}.txt", traj)
    write_trajectory(res / "unsupervised" / "s" / "s_001.txt", [I, GOOD, HALF, BAD, GOOD, GOOD])
    # reset protocol: failure at 2, frame 3 skipped, re-initialised at 4
    write_trajectory(res / "reset" / "s" / "s_001.txt", [I, GOOD, special(2), special(0), I, HALF])
    return ws


def test_score_workspace(tmp_path):
    ws = _workspace(tmp_path)
    out = score_workspace(ws)
    base = out["baseline"]
    assert base["eao"] == pytest.approx(3.31666666 / 6)
    assert base["accuracy"] == pytest.approx(6 / 9) and base["robustness"] == pytest.approx(0.75)
    assert base["s"]["progress"] == 9
    assert out["unsupervised"]["accuracy"] == pytest.approx((0.5 + 0 + 1 + 1) / 4)  # burnin 2
    reset = out["reset"]                               # burnin 1: frames 1 and 5 count
    assert reset["accuracy"] == pytest.approx(0.75) and reset["robustness"] == 1.0
    assert reset["ar_robustness"] == pytest.approx(np.exp(-30 / 6))
    # fragments [0, 1] (failed) and [0, 0.5] (to the end): curve [0, 0.75]
    assert reset["eao_curve"] == pytest.approx([0.0, 0.75]) and reset["eao"] == pytest.approx(0.75)
    assert "not scored" in out["other"]["skipped"]
    from pysiam.cli.eval import run
    numbers = run(["--vot-workspace", str(ws), "--json", str(tmp_path / "o.json")])
    assert json.loads((tmp_path / "o.json").read_text())["T"]["baseline"]["eao"] == numbers["T"]["baseline"]["eao"]


def test_multistart_protocol_object(tmp_path):
    """The Protocol object for the registry: run, write, resume check, read, score, summarise."""
    import cv2

    from pysiam.datasets import Video
    from pysiam.protocols.base import RunOptions, ScoreOptions, Where
    from pysiam.vot.protocol import MultistartProtocol

    paths = []
    for i in range(8):
        paths.append(str(tmp_path / f"{i:08d}.jpg"))
        cv2.imwrite(paths[-1], np.full((20, 20, 3), i, np.uint8))
    video = Video("v", paths, np.tile([0.0, 0.0, 10.0, 10.0], (8, 1)))
    proto = MultistartProtocol(anchor_spacing=3)             # anchors 0, 3 forward; 6, 7 backward
    where = Where(tmp_path / "res", "SYNTH", "fake")
    assert not proto.has_result(where, video)
    result = proto.run(FakeTracker, video, RunOptions())
    assert [(r.anchor, r.reverse, len(r.regions)) for r in result.runs] == [
        (0, False, 8), (3, False, 5), (6, True, 7), (7, True, 8)]
    proto.write(result, video, where)
    assert proto.has_result(where, video)
    stats = proto.score(video, proto.read(where, video))
    same = proto.score(video, proto.scorable(result))
    assert stats.overlaps == same.overlaps and stats.progress == 28 == same.progress
    out = proto.summarize({"v": stats}, None, ScoreOptions(eao_interval=(2, 8)))
    # the fake box is the ground truth: every tracked frame overlaps 1, init frames 0
    assert out["robustness"] == 1.0 and out["accuracy"] == pytest.approx(24 / 28)
    assert out["eao"] == pytest.approx(1.0) and out["per_video"]["v"]["progress"] == 28
