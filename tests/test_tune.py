"""Hyper-parameter search: spaces, the known-best search on a generated benchmark, reports, CLI."""
import json
import logging

import numpy as np
import pytest
import yaml

from pysiam.datasets import build_dataset
from pysiam.config import load_config
from pysiam.eval import evaluate
from pysiam.tune import (EvalSetup, SpaceError, halton, load_space, resolve_metric, run_search,
                         sample_unit, select_videos, space_from_dict)
from pysiam.tune.report import override_opts
from pysiam.tune.testing import ColourMatchModel, make_distractor_benchmark, toy_config_opts
from pysiam.tune.trial import trial_slug

WI = "TRACK.WINDOW_INFLUENCE"
FRAMES = 24


@pytest.fixture(scope="module")
def distractor_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("distractor")
    make_distractor_benchmark(root)
    return root


def _setup(root, **kw):
    cfg = load_config(None, toy_config_opts + ["DEVICE", "cpu"])
    return EvalSetup(cfg, build_dataset("OTB100", root), ColourMatchModel, "success_auc", **kw)


# ------------------------------------------------------------------------------------- spaces
def test_halton_first_points_by_hand():
    # radical inverses of 1, 2, 3 in bases 2 and 3
    assert np.allclose(halton(3, 2), [[1 / 2, 1 / 3], [1 / 4, 2 / 3], [3 / 4, 1 / 9]])


def test_sampled_trials_are_prefix_stable_and_in_range():
    for method in ("sobol", "halton", "random"):
        a = sample_unit(method, 8, 3, seed=5)
        b = sample_unit(method, 16, 3, seed=5)
        assert np.array_equal(a, b[:8]) and (b >= 0).all() and (b < 1).all()
    space = space_from_dict({"method": "sobol", "trials": 16, "round": 3,
                             "params": {"PENALTY_K": {"low": 0.0, "high": 0.5},
                                        "LR": {"range": [0.2, 0.4]}}})
    trials = space.trial_list()
    assert len(trials) == 16 and trials[0].name == "t0000"
    for t in trials:
        assert 0.0 <= t.params["TRACK.PENALTY_K"] <= 0.5 and 0.2 <= t.params["TRACK.LR"] <= 0.4
        assert round(t.params["TRACK.LR"], 3) == t.params["TRACK.LR"]
    more = space.with_overrides(trials=20).trial_list()
    assert [t.params for t in more[:16]] == [t.params for t in trials]


def test_grid_values_aliases_and_subsets():
    space = space_from_dict({"method": "grid", "params": {
        "WINDOW_INFLUENCE": {"low": 0.2, "high": 0.4, "step": 0.1},
        "MASK_THRESHOLD": [0.15, 0.3],
        "TRACK.INSTANCE_SIZE": {"values": [255, 287]}}})
    assert space.keys == [WI, "TRACK.MASK_THERSHOLD", "TRACK.INSTANCE_SIZE"]
    assert space.params[0].values == (0.2, 0.3, 0.4)
    trials = space.trial_list()
    assert len(trials) == space.grid_size == 12
    assert trials[0].params == {WI: 0.2, "TRACK.MASK_THERSHOLD": 0.15, "TRACK.INSTANCE_SIZE": 255}
    part = space.with_overrides(trials=5).trial_list()
    part7 = space.with_overrides(trials=7).trial_list()
    assert len(part) == 5 and [t.params for t in part7[:5]] == [t.params for t in part]
    # a sampler over a discrete list repeats settings: each is kept once
    few = space_from_dict({"method": "random", "trials": 50, "params": {"LR": [0.3, 0.4]}})
    assert sorted(t.params["TRACK.LR"] for t in few.trial_list()) == [0.3, 0.4]


def test_space_errors_name_file_and_key(tmp_path):
    cfg = load_config()
    bad = tmp_path / "space.yaml"
    bad.write_text("method: grid\nparams:\n  WINDOW_INFLUENSE: [0.1, 0.2]\n")
    with pytest.raises(SpaceError, match=r"space\.yaml: params\.WINDOW_INFLUENSE: unknown config "
                       r"key TRACK\.WINDOW_INFLUENSE \(nearest valid key: TRACK\.WINDOW_INFLUENCE\)"):
        load_space(bad, cfg)
    bad.write_text("method: grid\nparams:\n  LR: {low: 0.1, high: 0.5}\n")
    with pytest.raises(SpaceError, match="a grid needs discrete parameters.*TRACK.LR is continuous"):
        load_space(bad, cfg)
    bad.write_text("params:\n  LR: {low: 0.5, high: 0.1}\n")
    with pytest.raises(SpaceError, match=r"params\.LR: high \(0\.1\) is below low"):
        load_space(bad, cfg)
    with pytest.raises(FileNotFoundError, match="shipped spaces: .*siamrpn_vot"):
        load_space(tmp_path / "nope.yaml", cfg)


def test_shipped_spaces_load():
    cfg = load_config("siammask_r50_l3")
    for name in ("siamrpn_vot", "siamrpn_otb", "siammask_vot", "siammask_davis", "grid_coarse"):
        space = load_space(name, cfg)
        assert space.trial_list()
    assert load_space("grid_coarse", cfg).grid_size == 6 * 7 * 5


def test_metric_names_and_validation_split(tmp_path):
    assert resolve_metric("vot", None) == "eao" and resolve_metric("ope", "AUC") == "success_auc"
    assert resolve_metric("davis", "j&f") == "JF_mean"
    with pytest.raises(ValueError, match="not reported for the ope protocol"):
        resolve_metric("ope", "eao")
    names = [f"v{i}" for i in range(10)]
    chosen, text = select_videos(names, fraction=0.3, seed=1)
    assert len(chosen) == 3 and chosen == select_videos(names, fraction=0.3, seed=1)[0]
    assert "3 of 10" in text and select_videos(names) == (sorted(names), "")
    lst = tmp_path / "val.txt"
    lst.write_text("# validation\nv2\n\nv7  # comment\n")
    assert select_videos(names, videos_file=lst)[0] == ["v2", "v7"]
    lst.write_text("v2\nv99\n")
    with pytest.raises(KeyError, match=r"val\.txt:2: no video 'v99'"):
        select_videos(names, videos_file=lst)
    with pytest.raises(ValueError, match="only one of"):
        select_videos(names, val_videos=["v1"], fraction=0.5)


# ------------------------------------------------------------------------- the known-best search
def test_search_finds_the_window_influence_that_beats_the_distractor(distractor_set, tmp_path,
                                                                      one_thread):
    """The distractor has the template's exact colour, the target a faded one: with a small
    window influence the tracker jumps to the distractor on frame 1 and only the init frame
    succeeds; 0.5 keeps the target; 0.9 holds the box back from the moving target."""
    space = space_from_dict({"method": "grid", "params": {"WINDOW_INFLUENCE": [0.0, 0.2, 0.5, 0.9],
                                                          "LR": [0.3, 0.45]}})
    out = tmp_path / "search"
    setup = _setup(distractor_set, save_results=str(out / "results"), opts=toy_config_opts,
                   config_ref="siamrpn_r50_l234_dwxcorr")
    res = run_search(setup, space, out)
    recs = list(res.records.values())
    assert len(recs) == 8 and len(res.evaluated) == 8
    assert res.best["params"][WI] == 0.5
    by_wi = {}
    for r in recs:
        by_wi.setdefault(r["params"][WI], []).append(r["score"])
    assert min(by_wi[0.5]) > max(max(by_wi[0.0]), max(by_wi[0.2]), max(by_wi[0.9])) + 0.3
    # lost on frame 1: only the init frame succeeds, for the 17 thresholds below its IoU
    # 9.5^2 / (2 * 100 - 9.5^2) = 0.822 (the init box is the ground truth shifted by 0.5 px)
    assert by_wi[0.0] == pytest.approx([17 / 21 / FRAMES] * 2, abs=1e-12)

    # the in-memory score equals tools/eval.py's on the saved pysot-layout results
    scored = evaluate(build_dataset("OTB100", distractor_set), out / "results")
    best_slug = trial_slug(res.best["params"])
    assert scored[best_slug]["success_auc"] == res.best["score"]
    assert len(scored) == 8

    # best.yaml: _BASE_ + the search's overrides + the best values; loads as a config
    text = (out / "best.yaml").read_text()
    assert "NOT a fair evaluation" in text
    data = yaml.safe_load(text)
    assert data["_BASE_"] == "siamrpn_r50_l234_dwxcorr" and data["ANCHOR"]["RATIOS"] == [1.0]
    cfg = load_config(out / "best.yaml")
    assert cfg.TRACK.WINDOW_INFLUENCE == 0.5 and cfg.TRACK.LR == res.best["params"]["TRACK.LR"]
    assert cfg.BACKBONE.TYPE == load_config("siamrpn_r50_l234_dwxcorr").BACKBONE.TYPE
    best = json.loads((out / "best.json").read_text())
    assert best["opts"] == toy_config_opts + [WI, "0.5", "TRACK.LR", repr(res.best["params"]["TRACK.LR"])]
    rows = (out / "trials.csv").read_text().splitlines()
    assert len(rows) == 9 and rows[1].startswith("1,") and rows[0].startswith("rank,trial,score,")
    assert (out / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_override_opts_trial_values_win():
    assert override_opts({"TRACK.LR": 0.3}, ["TRACK.LR", "0.5", "DEVICE", "cpu"]) == \
        ["TRACK.LR", "0.3", "DEVICE", "cpu"]


def test_setup_change_in_the_same_folder_is_an_error(distractor_set, tmp_path, one_thread):
    space = space_from_dict({"method": "grid", "params": {"WINDOW_INFLUENCE": [0.5]}})
    run_search(_setup(distractor_set), space, tmp_path, plot=False)
    other = _setup(distractor_set)
    other.metric = "precision"
    with pytest.raises(ValueError, match="different set-up \\(metric differ"):
        run_search(other, space, tmp_path, plot=False)


# ---------------------------------------------------------------------------------------- CLI
def test_cli_end_to_end(distractor_set, tmp_path, monkeypatch, capsys, caplog, one_thread):
    from pysiam.cli import tune as tune_cli

    made = []

    def fake_load_model(cfg, snapshot, trust=False):
        made.append(snapshot)
        return ColourMatchModel()

    monkeypatch.setattr(tune_cli, "load_model", fake_load_model)
    space = tmp_path / "wi.yaml"
    space.write_text("method: grid\nparams:\n  WINDOW_INFLUENCE: [0.1, 0.5]\n")

    def argv(out, *extra):
        return ["--config", "siamrpn_r50_l234_dwxcorr", "--dataset", "OTB100", "--dataset-root",
                str(distractor_set), "--space", str(space), "--output", str(out), "--no-plot",
                *extra, *toy_config_opts, "DEVICE", "cpu"]

    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="pysiam.tune"):
        assert tune_cli.main(argv(out, "--val-videos", "RideAbove", "--")) == 0
    printed = capsys.readouterr().out
    assert "TRACK.WINDOW_INFLUENCE 0.5" in printed and "not a fair" not in printed
    assert not any("not a fair evaluation" in r.message for r in caplog.records)
    assert (out / "videos.txt").read_text() == "RideAbove\n"
    assert (out / "heldout.txt").read_text() == "RideBelow\n"
    assert load_config(out / "best.yaml").TRACK.WINDOW_INFLUENCE == 0.5
    assert made == [""]

    # no validation split: the caveat is logged and printed
    caplog.clear()
    out2 = tmp_path / "out2"
    with caplog.at_level(logging.WARNING, logger="pysiam.tune"):
        assert tune_cli.main(argv(out2)) == 0
    assert any("not a fair evaluation" in r.message for r in caplog.records)
    assert "not a fair evaluation" in capsys.readouterr().out
    assert not (out2 / "heldout.txt").exists()

    # a rerun evaluates nothing (no model is even built); --report-only rewrites the reports
    assert tune_cli.main(argv(out2)) == 0
    assert made == ["", ""]
    (out2 / "best.yaml").unlink()
    assert tune_cli.main(argv(out2, "--report-only")) == 0
    assert load_config(out2 / "best.yaml").TRACK.WINDOW_INFLUENCE == 0.5
    assert made == ["", ""]

    # clear errors
    assert tune_cli.main(argv(tmp_path / "out3", "--metric", "eao")) == 2
    assert "not reported for the ope protocol" in capsys.readouterr().err
    assert "not a fair evaluation" in tune_cli.build_parser().format_help()


def test_worker_models_get_the_configs_inference_options():
    from pysiam.cli.tune import load_model
    from pysiam.inference.winograd import WinogradConv2d
    plain = load_model(load_config("siamrpn_alex_dwxcorr"), "")
    fast = load_model(load_config("siamrpn_alex_dwxcorr", ["INFERENCE.WINOGRAD", "True"]), "")
    assert not any(isinstance(m, WinogradConv2d) for m in plain.modules())
    assert sum(isinstance(m, WinogradConv2d) for m in fast.modules()) == 7
