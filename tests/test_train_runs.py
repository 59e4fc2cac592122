"""Trustworthy training runs: used folders refused, resumes checked, bad checkpoints skipped,
stale temporaries cleaned, flags anywhere, one-line errors for missing files."""
import json
import logging

import pytest
import torch

from pysiam.cli.train import build_parser, main
from pysiam.training.resume import config_differences
from pysiam.training.trainer import train
from test_train import tiny_cfg   # noqa: E402  (tests/ is on sys.path under pytest)


# tiny models run fastest on one thread (and do not stall when the CPU is shared): conftest's one_thread
pytestmark = pytest.mark.usefixtures("one_thread")


def _one_epoch_cfg(run, **kw):
    return tiny_cfg(run, **{"TRAIN.EPOCH": 2, "TRAIN.LR_WARMUP.WARMUP": False, "DATASET.VIDEOS_PER_EPOCH": 4, **kw})


def _err_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "nothing on stderr"
    return err[-1]


def test_used_run_folder_is_refused_unless_resume_or_overwrite(tmp_path, capsys):
    run = tmp_path / "run"
    cfg = _one_epoch_cfg(run)
    path = tmp_path / "c.yaml"
    path.write_text(cfg.dump())
    assert main(["--config", str(path), "--no-progress", "TRAIN.EPOCH", "1"]) == 0
    ckpt = run / "snapshot" / "checkpoint_e1.pth"
    before = ckpt.read_bytes()
    assert main(["--config", str(path), "--no-progress", "TRAIN.EPOCH", "1"]) == 2
    line = _err_line(capsys)
    assert str(run) in line and "--resume" in line and "--overwrite" in line and "checkpoint_e1.pth" in line
    assert ckpt.read_bytes() == before
    # --overwrite replaces the run: one start in env.json, metrics from step 1 only
    assert main(["--config", str(path), "--no-progress", "--overwrite", "TRAIN.EPOCH", "1"]) == 0
    assert len(json.loads((run / "env.json").read_text())["starts"]) == 1
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1]


def test_resume_refuses_another_config_and_leaves_the_run_alone(tmp_path, capsys):
    run = tmp_path / "run"
    cfg = _one_epoch_cfg(run)
    train(cfg, progress=False, stop_after_epoch=1)
    saved = (run / "config.yaml").read_text()
    path = tmp_path / "c.yaml"
    path.write_text(cfg.dump())
    argv = ["--config", str(path), "--resume", "--no-progress"]
    assert main(argv + ["TRAIN.BASE_LR", "0.02", "ANCHOR.SCALES", "[8]"]) == 2
    line = _err_line(capsys)
    assert "TRAIN.BASE_LR: 0.01 -> 0.02" in line and "ANCHOR.SCALES: [4] -> [8]" in line
    assert (run / "config.yaml").read_text() == saved          # written only after a resume succeeds
    assert len(json.loads((run / "env.json").read_text())["starts"]) == 1
    # bookkeeping keys may change; the flag after the overrides is still a flag
    assert main(["--config", str(path), "--no-progress", "TRAIN.PRINT_FREQ", "5", "--resume"]) == 0
    starts = json.loads((run / "env.json").read_text())["starts"]
    assert len(starts) == 2 and starts[1]["resumed_from"].endswith("checkpoint_e1.pth")
    assert "PRINT_FREQ: 5" in (run / "config.yaml").read_text()


def test_config_differences_ignore_bookkeeping_keys():
    a = tiny_cfg("x")
    b = tiny_cfg("y", **{"TRAIN.NUM_WORKERS": 3, "DATASET.SYNTHETIC.WORKERS": 2, "TRAIN.MOMENTUM": 0.8})
    assert config_differences(a.dump(), b.dump()) == ["TRAIN.MOMENTUM: 0.9 -> 0.8"]


def test_unreadable_newest_checkpoint_falls_back_with_a_warning(tmp_path, caplog):
    run = tmp_path / "run"
    cfg = _one_epoch_cfg(run, **{"TRAIN.EPOCH": 3})
    train(cfg, progress=False, stop_after_epoch=2)
    bad = run / "snapshot" / "checkpoint_e2.pth"
    bad.write_bytes(bad.read_bytes()[:1000])     # a torn write
    with caplog.at_level(logging.WARNING, logger="pysiam.training.resume"):
        res = train(cfg, resume=True, progress=False)
    assert any("checkpoint_e2.pth" in r.getMessage() and "checkpoint_e1.pth" in r.getMessage()
               for r in caplog.records)
    assert res.epochs == 3 and res.iterations == 3
    starts = json.loads((run / "env.json").read_text())["starts"]
    assert starts[-1]["resumed_from"].endswith("checkpoint_e1.pth")
    assert torch.load(bad, weights_only=True)["epoch"] == 2     # retrained and rewritten


def test_stale_temporaries_are_removed_at_start(tmp_path):
    run = tmp_path / "run"
    (run / "snapshot").mkdir(parents=True)
    stale = [run / ".config.yaml.999999999.tmp.yaml", run / "snapshot" / ".checkpoint_e1.pth.999999999.tmp.pth"]
    for p in stale:
        p.write_text("half written")
    train(_one_epoch_cfg(run, **{"TRAIN.EPOCH": 1}), progress=False)
    assert not any(p.exists() for p in stale)
    assert not list(run.rglob("*.tmp*"))


def test_flags_parse_anywhere():
    args = build_parser().parse_intermixed_args(["--config", "c", "TRAIN.EPOCH", "2", "--resume", "TRAIN.AMP", "bf16"])
    assert args.resume and args.opts == ["TRAIN.EPOCH", "2", "TRAIN.AMP", "bf16"]
    with pytest.raises(SystemExit):
        build_parser().parse_intermixed_args(["--config", "c", "--resume", "--overwrite"])


def test_readme_command_errors_name_the_missing_files(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)   # no pretrained_models/ or training_dataset/ here
    argv = ["--config", "siamrpn_r50_l234_dwxcorr_8gpu", "--no-progress", "TRAIN.OUTPUT_DIR", str(tmp_path / "r"),
            "DEVICE", "cpu"]
    assert main(argv) == 2
    line = _err_line(capsys)
    assert "pretrained_models/resnet50.model" in line and "BACKBONE.PRETRAINED ''" in line
    assert main(argv + ["BACKBONE.PRETRAINED", "''"]) == 2
    line = _err_line(capsys)
    assert "train.json" in line and "prepare" in line
