"""Test-time hyper-parameter search (TRACK.PENALTY_K, WINDOW_INFLUENCE, LR, mask threshold, ...).

    from pysiam.tune import EvalSetup, load_space, run_search
    setup = EvalSetup(cfg, dataset, model_factory, metric="eao")
    result = run_search(setup, load_space("siamrpn_vot", cfg), "tune/VOT2018/model")
    result.best["params"]        # also written: best.yaml, best.json, trials.csv, scores.png

Each trial runs the tracker over every tuning video with one setting and scores the outputs in
memory with the benchmark's own metric (EAO for VOT, success AUC for OTB-like sets, J&F for
DAVIS, ...). Finished trials are appended to an fsync'd JSON-lines table, so a killed search
continues where it stopped; trials can be spread over worker processes and over shards.

Caveat: tuning on a benchmark's test videos and reporting the best score on those same videos
is not a fair evaluation - the setting is fitted to them, and the number is optimistic. Tune on a
validation split (other videos, or a subset of the benchmark, evaluating on the rest) whenever
the result is meant to be compared with other trackers.
"""
from pysiam.tune.report import best_yaml_text, override_opts, plot_scores, write_reports
from pysiam.tune.scoring import METRICS, resolve_metric
from pysiam.tune.search import TEST_SET_WARNING, SearchResult, run_search, write_search_reports
from pysiam.tune.space import (Param, SearchSpace, SpaceError, Trial, default_space, halton,
                               load_space, sample_unit, space_from_dict, trial_key)
from pysiam.tune.split import read_video_list, select_videos
from pysiam.tune.table import TrialTable, read_records
from pysiam.tune.trial import EvalSetup, TrialEvaluator, trial_config

__all__ = ["EvalSetup", "TrialEvaluator", "trial_config", "run_search", "write_search_reports",
           "SearchResult", "SearchSpace", "Param", "Trial", "SpaceError", "load_space",
           "space_from_dict", "default_space", "halton", "sample_unit", "trial_key",
           "TrialTable", "read_records", "select_videos", "read_video_list", "METRICS",
           "resolve_metric", "write_reports", "best_yaml_text", "override_opts", "plot_scores",
           "TEST_SET_WARNING"]
