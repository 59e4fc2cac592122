"""Hyper-parameter search: a killed search continues without repeating trials; shards; workers."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pysiam.datasets import build_dataset
from pysiam.config import load_config
from pysiam.tune import EvalSetup, run_search, space_from_dict
from pysiam.tune.testing import ColourMatchModel, make_distractor_benchmark, make_toy_model, toy_config_opts

WI = "TRACK.WINDOW_INFLUENCE"
GRID = {"method": "grid", "params": {"WINDOW_INFLUENCE": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]}}
VIDEOS = 2


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("distractor")
    make_distractor_benchmark(root)
    return root


def _setup(root, factory=ColourMatchModel):
    cfg = load_config(None, toy_config_opts + ["DEVICE", "cpu"])
    return EvalSetup(cfg, build_dataset("OTB100", root), factory, "success_auc")


def _lines(folder):
    """Every parsable record line of every table file (a cut line is skipped)."""
    out = []
    for name in sorted(os.listdir(folder)):
        if name.startswith("trials") and name.endswith(".jsonl"):
            for line in open(folder / name):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


SCRIPT = """
import functools, json, sys
import torch
from pysiam.datasets import build_dataset
from pysiam.config import load_config
from pysiam.tune import EvalSetup, run_search, space_from_dict
from pysiam.tune.testing import make_toy_model, toy_config_opts
torch.set_num_threads(1)
root, out, space = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
cfg = load_config(None, toy_config_opts + ["DEVICE", "cpu"])
setup = EvalSetup(cfg, build_dataset("OTB100", root), functools.partial(make_toy_model, delay=0.02),
                  "success_auc")
run_search(setup, space_from_dict(space), out, plot=False)
"""


def test_killed_search_continues_without_repeating_trials(data, tmp_path, one_thread):
    out = tmp_path / "search"
    table = out / "trials.jsonl"
    # slow trials (20 ms per frame, about 1 s each) in a subprocess, killed after 2 are recorded
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(data), str(out), json.dumps(GRID)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 90
    try:
        while time.time() < deadline and proc.poll() is None:
            if table.is_file() and len(table.read_text().splitlines()) >= 2:
                break
            time.sleep(0.02)
        assert proc.poll() is None, \
            f"search ended before it was killed: {proc.stderr.read().decode()[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    before = {r["key"]: r for r in _lines(out)}
    assert 2 <= len(before) < 6
    # a kill in the middle of a write leaves a cut line: it is ignored and the next line starts fresh
    with open(table, "a") as f:
        f.write('{"trial": "t0005", "key": "{\\"TRACK.WIN')

    model = ColourMatchModel()
    res = run_search(_setup(data), space_from_dict(GRID), out, model=model, plot=False)
    all_keys = {t.key for t in res.trials}
    assert set(res.evaluated) == all_keys - set(before)           # only the unfinished ones
    assert set(res.skipped) == set(before)
    assert model.calls["track"] == VIDEOS * 23 * len(res.evaluated)  # evaluations counted
    assert model.calls["template"] == VIDEOS                       # templates cached across trials
    keys = [r["key"] for r in _lines(out)]
    assert sorted(keys) == sorted(all_keys)                        # each trial exactly once
    for k, r in before.items():                                    # recorded results kept
        assert res.records[k]["score"] == r["score"]
    assert res.best["params"][WI] == 0.5

    # a third run has nothing to do
    again = ColourMatchModel()
    res = run_search(_setup(data), space_from_dict(GRID), out, model=again, plot=False)
    assert res.evaluated == [] and again.calls["template"] == 0


class ExplodingModel(ColourMatchModel):
    """Fails in the n-th track call (an injected crash in the middle of a trial)."""

    def __init__(self, fail_at):
        super().__init__()
        self.fail_at = fail_at

    def track_with(self, template, x, with_mask=True):
        if self.calls["track"] + 1 == self.fail_at:
            raise RuntimeError("injected failure")
        return super().track_with(template, x, with_mask)


def test_crash_and_trial_limit_keep_finished_trials(data, tmp_path, one_thread):
    space = space_from_dict(GRID)
    per_trial = VIDEOS * 23                  # track calls per trial: 2 videos x 23 frames
    with pytest.raises(RuntimeError, match="injected failure"):
        run_search(_setup(data), space, tmp_path, model=ExplodingModel(2 * per_trial + 5), plot=False)
    assert [r["params"][WI] for r in _lines(tmp_path)] == [0.0, 0.1]
    model = ColourMatchModel()
    res = run_search(_setup(data), space, tmp_path, model=model, max_trials=1, plot=False)
    assert [res.records[k]["params"][WI] for k in res.evaluated] == [0.2]
    res = run_search(_setup(data), space, tmp_path, model=model, plot=False)
    assert len(res.evaluated) == 3 and model.calls["track"] == VIDEOS * 23 * 4
    assert len(_lines(tmp_path)) == 6 and res.best["params"][WI] == 0.5


def test_shards_split_the_trials_and_merge(data, tmp_path, one_thread):
    space = space_from_dict(GRID)
    r0 = run_search(_setup(data), space, tmp_path, shard=(0, 2), model=ColourMatchModel(), plot=False)
    assert [t.index for t in r0.trials if t.key in r0.evaluated] == [0, 2, 4]
    r1 = run_search(_setup(data), space, tmp_path, shard=(1, 2), model=ColourMatchModel(), plot=False)
    assert [t.index for t in r1.trials if t.key in r1.evaluated] == [1, 3, 5]
    assert sorted(os.listdir(tmp_path)) == ["best.json", "best.yaml", "search.json", "trials.csv",
                                            "trials.shard0of2.jsonl", "trials.shard1of2.jsonl"]
    assert r1.best["params"][WI] == 0.5 and len(r1.records) == 6
    # one process over the same folder: everything is done already
    r = run_search(_setup(data), space, tmp_path, model=ColourMatchModel(), plot=False)
    assert r.evaluated == [] and len(r.skipped) == 6


def test_worker_processes_match_one_process(data, tmp_path, one_thread):
    space = space_from_dict({"method": "grid", "params": {"WINDOW_INFLUENCE": [0.1, 0.5, 0.9]}})
    one = run_search(_setup(data, make_toy_model), space, tmp_path / "one", plot=False)
    two = run_search(_setup(data, make_toy_model), space, tmp_path / "two", workers=2, plot=False)
    assert sorted(two.evaluated) == sorted(one.evaluated)
    for k, r in one.records.items():
        assert two.records[k]["score"] == r["score"]
        assert two.records[k]["per_video"] == r["per_video"]
    assert len({r["pid"] for r in two.records.values()} - {os.getpid()}) >= 1
