"""tools/benchmark.py: every part runs on generated data and reports positive figures."""
from __future__ import annotations

import json

import pytest

from pysiam.cli import benchmark

TINY = ["--config", "siamrpn_alex_dwxcorr", "--device", "cpu", "--frames", "3", "--frame-size", "96", "72",
        "--batch", "2", "--repeats", "2", "--warmup", "0", "--train-batch", "2", "--train-steps", "1",
        "--data-batches", "1"]
OPTS = ["TRACK.INSTANCE_SIZE", "143", "TRAIN.SEARCH_SIZE", "143", "TRAIN.NUM_WORKERS", "0",
        "TRAIN.BASE_SIZE", "0", "TRAIN.OUTPUT_SIZE", "3"]


def test_benchmark_reports_every_part(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert benchmark.main(TINY + ["--json", str(out), "--fold-bn", "--channels-last"] + OPTS) == 0
    res = json.loads(out.read_text())
    printed = capsys.readouterr().out
    assert "tracker (single stream)" in printed and '"batched"' in printed
    assert res["options"]["fold_bn"] and res["options"]["channels_last"] and res["device"] == "cpu"
    assert res["tracker"]["frames"] == 2 and res["tracker"]["fps_median"] > 0
    b = res["batched"]
    assert b["videos"] == 2 and b["frames"] == 6 and b["mean_forward_batch"] == 2.0
    assert b["frames_per_s"] > 0 and b["sequential_frames_per_s"] > 0
    assert res["model"]["search_size"] == 143 and res["model"]["search_ms_median"] > 0
    assert res["train"]["samples_per_s"] > 0 and res["train"]["batch"] == 2
    assert "pysiam.training" in res["train"]["method"]
    assert res["data"]["samples_per_s"] > 0 and res["data"]["samples"] == 2


def test_benchmark_rejects_unknown_parts(capsys):
    assert benchmark.main(TINY + ["--only", "tracker,speed"]) == 2
    assert "unknown part" in capsys.readouterr().err


def test_a_failing_part_is_reported_and_sets_the_exit_code(tmp_path):
    out = tmp_path / "b.json"
    # the training set refuses a score-map size that does not match its crop sizes
    argv = TINY + ["--only", "data", "--json", str(out), "TRAIN.SEARCH_SIZE", "159", "TRAIN.NUM_WORKERS", "0"]
    assert benchmark.main(argv) == 1
    assert "OUTPUT_SIZE" in json.loads(out.read_text())["data"]["error"]


@pytest.mark.parametrize("argv", [["--amp", "int8"]])
def test_benchmark_flag_validation(argv):
    with pytest.raises(SystemExit):
        benchmark.build_parser().parse_args(["--config", "x"] + argv)
