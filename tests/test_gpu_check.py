"""tools/gpu_check.py: the --dry-run end to end on CPU, the budget, timeouts and the targets."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pysiam.cli.gpu_check import REPO, run_command
from pysiam.cli.gpu_check_driver import compare_boxes
from pysiam.cli.gpu_check_summary import TARGETS, summarize, summary_table

SECTIONS = {"meta", "environment", "install", "cuda_tests", "weights", "benchmarks", "test_py", "inference_options",
            "pysot", "summary"}


def _run(out: Path, *extra: str, timeout: float = 150) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "tools/gpu_check.py", "--output", str(out), *extra], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def dry(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check")
    proc = _run(out, "--dry-run")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "gpu_check.json").read_text()), out, proc.stdout


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def test_dry_run_sections_and_files(dry):
    r, out, stdout = dry
    assert SECTIONS <= set(r), sorted(SECTIONS - set(r))
    assert not r.get("errors"), r.get("errors")
    # three files only: $OUT on the device brings back at most 8
    assert sorted(p.name for p in out.iterdir()) == ["gpu_check.json", "gpu_check.log", "gpu_check.txt"]
    assert "targets:" in stdout and stdout.strip().endswith((out / "gpu_check.txt").read_text().strip()[-40:])
    assert r["meta"]["dry_run"] is True and r["meta"]["device"] == "cpu"
    assert 0 < r["meta"]["wall_s"] < r["meta"]["budget_s"]


def test_dry_run_environment_and_skips(dry):
    r = dry[0]
    env = r["environment"]
    assert env["status"] == "ok" and env["torch"] and isinstance(env["cuda_available"], bool)
    assert env["missing"] == [] and env["python"].count(".") == 2
    assert r["install"]["status"] == "skipped" and "dry-run" in r["install"]["reason"]
    tests = r["cuda_tests"]
    assert tests["status"] == "skipped" and "dry-run" in tests["reason"]
    assert "tests/test_tracker_parity.py" in tests["files"]
    assert r["pysot"] == {"status": "skipped", "reason": "no --pysot PATH given"}


def test_dry_run_benchmark_figures(dry):
    r = dry[0]
    configs = r["meta"]["configs"]
    rpn = r["benchmarks"][configs["siamrpn"]]
    f = rpn["infer"]["figures"]
    assert rpn["infer"]["status"] == "ok"
    assert f["tracker"]["fps_median"] > 0 and f["tracker"]["frames"] == 3
    assert f["batched"]["frames_per_s"] > 0 and f["batched"]["batch"] == 2 and f["batched"]["videos"] == 2
    assert f["model"]["search_ms_median"] > 0
    train = rpn["train"]["figures"]["train"]
    assert rpn["train"]["status"] == "ok" and train["samples_per_s"] > 0 and train["batch"] == 2
    for config, sec in r["benchmarks"].items():  # every part: figures, or a recorded reason
        for part, rec in sec.items():
            if isinstance(rec, dict):
                assert rec["status"] == "ok" or rec.get("reason"), (config, part, rec)
                if rec["status"] == "ok":
                    assert rec["figures"], (config, part)


def test_dry_run_test_py_agreement(dry):
    t = dry[0]["test_py"]
    assert t["status"] == "ok", t.get("reason")
    assert t["videos_compared"] == 2 and t["max_box_diff_px"] < 0.05 and t["videos_over_0_05px"] == 0
    for name in ("sequential", "batch2"):
        assert t[name]["status"] == "ok" and t[name]["frames_per_wall_s"] > 0


def test_dry_run_inference_options(dry):
    o = dry[0]["inference_options"]
    assert o["status"] == "ok" and set(o["variants"]) >= {"fold_bn", "cuda_graphs", "amp_bf16"}
    for name in ("fold_bn", "channels_last", "cuda_graphs"):
        v = o["variants"][name]
        assert v["status"] == "ok" and len(v["rel_diff_per_call"]) == 3 and v["within_tolerance"], (name, v)
    assert o["variants"]["cuda_graphs"]["rel_diff_per_call"] == [0.0, 0.0, 0.0]  # dropped on the CPU: exact


def test_dry_run_targets(dry):
    s = dry[0]["summary"]
    assert [t["name"] for t in s["targets"]] == [name for name, *_ in TARGETS]
    for t in s["targets"]:
        assert t["met"] is None and t["reason"]  # a dry run judges nothing
        assert t["value"] is None or _number(t["value"])
    by = {t["name"]: t for t in s["targets"]}
    assert by["batched_frames_per_s"]["value"] > 0
    assert "no --pysot" in by["tracker_fps_vs_pysot"]["reason"]
    n = s["nanotrack_v2"]
    assert n["config"] == "nanotrack_v2"
    assert all(_number(n[k]) for k in ("tracker_fps", "batched_frames_per_s", "train_samples_per_s")) or n["reason"]


def test_exhausted_budget_records_every_step(tmp_path):
    proc = _run(tmp_path, "--dry-run", "--budget-s", "1", timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads((tmp_path / "gpu_check.json").read_text())
    assert r["environment"]["status"] == "skipped" and "budget" in r["environment"]["reason"]
    assert len(r["skipped_steps"]) >= 8 and all("environment" in s for s in r["skipped_steps"])
    assert all(t["met"] is None and t["reason"] for t in r["summary"]["targets"])


def test_run_command_kills_at_limit(tmp_path):
    rec = run_command([sys.executable, "-c", "import time; print('started', flush=True); time.sleep(60)"], 2.0,
                      dict(os.environ), tmp_path / "sleep.log")
    assert rec["status"] == "timeout" and rec["rc"] is None and rec["wall_s"] < 20
    assert "started" in rec["output"]
    ok = run_command([sys.executable, "-c", "print('hi')"], 30.0, dict(os.environ), tmp_path / "hi.log")
    assert ok == {"status": "ok", "rc": 0, "wall_s": ok["wall_s"], "output": "hi"}


def _device_result(tracker_ratio, max_px, batched, pysot_fps, train_ratio):
    return {"meta": {"dry_run": False, "configs": {"siamrpn": "r50", "nanotrack": "nano"}, "pysot_configs": ["r50"],
                     "budget_s": 420, "wall_s": 300},
            "benchmarks": {"r50": {"infer": {"status": "ok", "figures": {"batched": {"frames_per_s": batched}}}},
                           "nano": {"status": "config missing", "reason": "no config 'nano'"}},
            "pysot": {"status": "ok", "r50": {"status": "ok", "tracker_fps_ratio": tracker_ratio,
                                              "boxes": {"max_px": max_px}, "pysot_fps_best": pysot_fps,
                                              "train": {"samples_per_s_ratio": train_ratio}}}}


def test_summary_judges_device_targets():
    s = summarize(_device_result(3.5, 0.01, 2000.0, 150.0, 2.5))
    assert [t["met"] for t in s["targets"]] == [True, True, True, True, True] and s["all_met"] is True
    assert s["targets"][2]["value"] == pytest.approx(2000.0 / 150.0)
    assert s["nanotrack_v2"]["reason"] == "no config 'nano'"
    s = summarize(_device_result(2.9, 0.2, 1400.0, 150.0, None))
    assert [t["met"] for t in s["targets"]] == [False, False, False, False, None] and s["all_met"] is False
    assert s["targets"][4]["reason"].startswith("pysot:")
    r = _device_result(2.9, 0.2, 1400.0, 150.0, None)
    r["summary"] = s
    assert "met=False" in summary_table(r) and "nanotrack_v2" in summary_table(r)


def test_compare_boxes():
    a = [[0, 0, 10, 10], [1, 1, 10, 10], [2, 2, 10, 10]]
    b = [[0, 0, 10, 10], [1.01, 1, 10, 10], [2, 2, 10.2, 10]]
    d = compare_boxes(a, b)
    assert d["max_px"] == pytest.approx(0.2) and d["first_frame_px"] == 0
    assert d["first_frame_over_tol"] == 3 and d["within_tol"] is False


@pytest.mark.skipif(not os.environ.get("PYSIAM_PYSOT"), reason="set PYSIAM_PYSOT to a pysot checkout")
def test_pysot_driver_same_boxes(tmp_path):
    """pysot's tracker and pysiam's, same weights, CPU: the same boxes (needs a pysot checkout)."""
    out = tmp_path / "p.json"
    cmd = [sys.executable, "-m", "pysiam.cli.gpu_check_driver", "pysot", "--pysot", os.environ["PYSIAM_PYSOT"],
           "--config", "siamrpn_alex_dwxcorr", "--device", "cpu", "--frames", "3", "--frame-size", "160", "120",
           "--no-train", "--json", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads(out.read_text())
    assert r["boxes"]["max_px"] < 1e-6 and r["pysot_tracker"]["fps_median"] > 0 and r["tracker_fps_ratio"] > 0
