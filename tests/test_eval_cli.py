"""tools/eval.py end to end on generated benchmarks and hand-written results."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pysiam.datasets import testing as T
from pysiam.results import files as R
from pysiam.cli.eval import run as main

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args):
    return main([str(a) for a in args] + ["--workers", "1"])


def test_ope_end_to_end(tmp_path, capsys):
    attrs = {"Alpha": ["Occlusion"], "Beta": ["Occlusion", "Fast Motion"]}
    gts = T.make_otb_like(tmp_path / "OTB100", videos={"Alpha": 8, "Beta": 6},
                          layout="json", frames=False, attrs=attrs)
    for v, gt in gts.items():
        R.write_ope_result(tmp_path / "res", "OTB100", "Perfect", v, gt)
        R.write_ope_result(tmp_path / "res", "OTB100", "Shifted", v, gt + [3, 4, 0, 0])
    out = run_cli("--dataset", "OTB100", "--dataset-root", tmp_path / "OTB100", "--results", tmp_path / "res",
                  "--json", tmp_path / "s.json", "--plot", tmp_path / "plots", "--show-video-level")
    text = capsys.readouterr().out
    assert "Perfect" in text and "Norm Precision" in text and "Fast Motion" in text and "Alpha" in text
    saved = json.loads((tmp_path / "s.json").read_text())
    assert sorted(saved) == ["Perfect", "Shifted"]
    assert saved["Perfect"]["success_auc"] == pytest.approx(20 / 21)
    assert saved["Perfect"]["precision"] == 1.0 and saved["Shifted"]["precision"] == 1.0
    assert saved["Shifted"]["precision_curve"][4] == 0.0        # 5 px centre error
    assert saved["Shifted"]["success_auc"] < saved["Perfect"]["success_auc"]
    assert saved["Perfect"]["per_attribute"]["Fast Motion"]["num_videos"] == 1
    assert out["Perfect"]["success_auc"] == saved["Perfect"]["success_auc"]
    for name in ("success_OTB100.png", "precision_OTB100.png", "norm_precision_OTB100.png",
                 "success_OTB100_Occlusion.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:4] == b"\x89PNG"
    only = run_cli("--dataset", "OTB100", "--dataset-root", tmp_path / "OTB100", "--results",
                   tmp_path / "res", "--trackers", "Sh*")
    assert list(only) == ["Shifted"]


def _polygon_records(gt):
    return [1] + [list(g) for g in gt[1:]]


def test_vot_end_to_end(tmp_path, capsys):
    gts = T.make_vot(tmp_path / "VOT2018", videos={"ants": 30, "bag": 24}, layout="json", frames=False)
    rng = np.random.default_rng(0)
    for v, gt in gts.items():
        R.write_vot_result(tmp_path / "res", "VOT2018", "Perfect", v, _polygon_records(gt))
        R.write_vot_result(tmp_path / "res", "VOT2018", "Noisy", v, T.vot_records(gt, rng, 0.1, 0.2))
    run_cli("--dataset", "VOT2018", "--dataset-root", tmp_path / "VOT2018", "--results", tmp_path / "res",
            "--eao-interval", "2", "8", "--json", tmp_path / "v.json", "--plot", tmp_path / "plots")
    text = capsys.readouterr().out
    assert "EAO" in text and "occlusion" in text
    saved = json.loads((tmp_path / "v.json").read_text())
    p = saved["Perfect"]
    assert p["accuracy"] == pytest.approx(1.0, abs=1e-6) and p["robustness"] == 0 and p["lost_number"] == 0
    assert p["eao"] == pytest.approx(1.0, abs=1e-6) and p["eao_interval"] == [2, 8]
    assert 0 < saved["Noisy"]["eao"] < 1 and saved["Noisy"]["lost_number"] > 0
    assert (tmp_path / "plots" / "eao_VOT2018.png").is_file()
    assert (tmp_path / "plots" / "eao_curve_VOT2018.png").is_file()
    vot = run_cli("--dataset", "VOT2018", "--dataset-root", tmp_path / "VOT2018", "--results",
                  tmp_path / "res", "--eao-interval", "2", "8", "--eao-window", "vot")
    assert vot["Noisy"]["eao_window"] == "vot"


def test_vot_parallel_equals_serial(tmp_path):
    gts = T.make_vot(tmp_path / "VOT2018", videos={"ants": 40, "bag": 30, "cat": 20}, layout="json", frames=False)
    rng = np.random.default_rng(1)
    for t in ("A", "B"):
        for v, gt in gts.items():
            R.write_vot_result(tmp_path / "res", "VOT2018", t, v, T.vot_records(gt, rng, 0.05, 0.2))
    args = ["--dataset", "VOT2018", "--dataset-root", tmp_path / "VOT2018", "--results", tmp_path / "res",
            "--eao-interval", "3", "20"]
    serial = main([str(a) for a in args] + ["--workers", "1"])
    parallel = main([str(a) for a in args] + ["--workers", "2"])
    for t in ("A", "B"):
        for k in ("accuracy", "robustness", "eao"):
            assert serial[t][k] == parallel[t][k]


def test_vot_image_size_from_a_frame_or_the_option(tmp_path):
    gts = T.make_vot(tmp_path / "VOT2018", videos={"ants": 12}, size=(64, 48), layout="json", frames=True)
    R.write_vot_result(tmp_path / "res", "VOT2018", "P", "ants", _polygon_records(gts["ants"]))
    args = ["--dataset", "VOT2018", "--dataset-root", tmp_path / "VOT2018", "--results", tmp_path / "res"]
    assert run_cli(*args)["P"]["lost_number"] == 0            # size read from the first frame's header
    for f in (tmp_path / "VOT2018" / "ants" / "color").iterdir():
        f.unlink()
    with pytest.raises(FileNotFoundError, match="--image-size"):
        run_cli(*args)
    assert run_cli(*args, "--image-size", 64, 48)["P"]["accuracy"] == pytest.approx(1.0, abs=1e-6)


def test_longterm_end_to_end(tmp_path):
    gts = T.make_vot_lt(tmp_path / "VOT2018-LT", videos={"car1": 30, "group": 25})
    n_visible = {}
    for v, gt in gts.items():
        absent = np.isnan(gt).any(axis=1)
        boxes = [None] + [list(np.where(a, [0, 0, 5, 5], g)) for g, a in zip(gt[1:], absent[1:])]
        conf = [None] + [0.1 if a else 0.9 for a in absent[1:]]
        R.write_longterm_result(tmp_path / "res", "VOT2018-LT", "LT", v, boxes, conf)
        n_visible[v] = int((~absent).sum())
    out = run_cli("--dataset", "VOT2018-LT", "--dataset-root", tmp_path / "VOT2018-LT",
                  "--results", tmp_path / "res", "--plot", tmp_path / "plots")["LT"]
    # at threshold 0.9 exactly the visible frames after the init frame are selected
    assert out["precision"] == pytest.approx(1.0, abs=1e-6)
    assert out["recall"] == pytest.approx(np.mean([(n - 1) / n for n in n_visible.values()]), abs=1e-6)
    assert (tmp_path / "plots" / "precision_recall_VOT2018-LT.png").is_file()


def test_got10k_end_to_end(tmp_path):
    gts = T.make_got10k(tmp_path / "GOT-10k", "val", {"GOT-10k_Val_000001": 8, "GOT-10k_Val_000002": 6})
    for v, gt in gts.items():
        R.write_got10k_result(tmp_path / "res", "GOT-10k", "P", v, gt)
    out = run_cli("--dataset", "GOT-10k", "--dataset-root", tmp_path / "GOT-10k", "--results",
                  tmp_path / "res", "--plot", tmp_path / "plots")["P"]
    assert out["ao"] == pytest.approx(1.0) and out["sr50"] == 1.0 and out["sr75"] == 1.0
    assert out["num_frames"] == (8 - 2) + (6 - 2)           # first frame and the cover-0 frame dropped
    T.make_got10k(tmp_path / "GOT-10k", "test", {"GOT-10k_Test_000001": 4})
    with pytest.raises(ValueError, match="withheld"):
        run_cli("--dataset", "GOT-10k", "--dataset-root", tmp_path / "GOT-10k", "--results",
                tmp_path / "res", "--split", "test")


def test_davis_end_to_end(tmp_path, capsys):
    labels = T.make_davis(tmp_path / "DAVIS", 2017, {"dog": 6, "cat": 5}, objects=2)
    for v, lab in labels.items():
        for t, frame in enumerate(lab):
            R.write_davis_mask(tmp_path / "res", "Oracle", v, f"{t:05d}", frame)
            R.write_davis_mask(tmp_path / "res", "OneObject", v, f"{t:05d}", (frame == 1).astype(np.uint8))
    out = run_cli("--dataset", "DAVIS2017", "--dataset-root", tmp_path / "DAVIS", "--results", tmp_path / "res",
                  "--json", tmp_path / "d.json", "--plot", tmp_path / "plots")
    assert "J&F" in capsys.readouterr().out
    saved = json.loads((tmp_path / "d.json").read_text())
    assert saved["Oracle"]["JF_mean"] == 1.0 and saved["Oracle"]["J_mean"] == 1.0
    assert saved["Oracle"]["F_decay"] == 0.0 and len(saved["Oracle"]["per_object"]) == 4
    one = saved["OneObject"]
    assert one["per_object"]["dog_1"]["J_mean"] == 1.0
    assert one["J_mean"] == pytest.approx(0.5) and one["F_mean"] == pytest.approx(0.5)   # object 2 empty
    assert out["OneObject"]["J_recall"] == pytest.approx(0.5)
    assert (tmp_path / "plots" / "jf_DAVIS2017.png").is_file()


def test_missing_results(tmp_path, capsys):
    gts = T.make_otb_like(tmp_path / "OTB100", videos={"Alpha": 4, "Beta": 4}, layout="json", frames=False)
    R.write_ope_result(tmp_path / "res", "OTB100", "Half", "Alpha", gts["Alpha"])
    with pytest.raises(FileNotFoundError, match="no result for video Beta"):
        run_cli("--dataset", "OTB100", "--dataset-root", tmp_path / "OTB100", "--results", tmp_path / "res")
    out = run_cli("--dataset", "OTB100", "--dataset-root", tmp_path / "OTB100", "--results", tmp_path / "res",
                  "--skip-missing")
    assert out["Half"]["missing_videos"] == ["Beta"] and out["Half"]["success_auc"] == pytest.approx(20 / 21)
    with pytest.raises(FileNotFoundError, match="no results for tracker"):
        run_cli("--dataset", "OTB100", "--dataset-root", tmp_path / "OTB100", "--results", tmp_path / "res",
                "--trackers", "Nope")


def test_tools_eval_script(tmp_path):
    gts = T.make_otb_like(tmp_path / "OTB100", videos={"Alpha": 4}, layout="json", frames=False)
    R.write_ope_result(tmp_path / "res", "OTB100", "P", "Alpha", gts["Alpha"])
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "eval.py"), "--dataset", "OTB100",
                           "--dataset-root", str(tmp_path / "OTB100"), "--results", str(tmp_path / "res"),
                           "--workers", "1"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "0.952" in proc.stdout                             # 20 / 21
