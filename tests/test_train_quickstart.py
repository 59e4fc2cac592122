"""The quickstart's plumbing (tiny data, seconds-long trainings): folders, test/eval, summary.json.

The real quickstart (python tools/quickstart.py, a few minutes) is what checks the AUC figures.
"""
import json

import torch

from pysiam.cli.quickstart import main


def test_quickstart_smoke_writes_summary_and_plots(tmp_path):
    before = torch.get_num_threads()
    try:
        rc = main(["--output", str(tmp_path), "--smoke", "--threads", "1", "--no-progress"])
    finally:
        torch.set_num_threads(before)
    assert rc in (0, 1)   # tiny training: the AUC check itself is not meaningful here
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary) >= {"trained", "untrained", "siammask", "check", "seconds", "checkpoints"}
    for key in ("trained", "untrained", "siammask"):
        assert 0.0 <= summary[key]["success_auc"] <= 1.0 and 0.0 <= summary[key]["precision"] <= 1.0
    assert summary["check"]["passed"] == (rc == 0)
    assert (tmp_path / "plots" / "success_SYNTH.png").is_file()
    assert (tmp_path / "siamrpn" / "snapshot" / "checkpoint_e1.pth").is_file()
    assert (tmp_path / "siammask" / "snapshot" / "checkpoint_e1.pth").is_file()
    for name in ("siamrpn", "siamrpn_untrained", "siammask"):
        assert (tmp_path / "results" / "SYNTH" / name / "SYNTH_0000.txt").is_file()
    # a rerun reuses everything that is complete
    rc2 = main(["--output", str(tmp_path), "--smoke", "--threads", "1", "--no-progress"])
    torch.set_num_threads(before)
    again = json.loads((tmp_path / "summary.json").read_text())
    assert rc2 == rc and again["trained"] == summary["trained"]
    assert again["seconds"]["train SiamRPN"] < summary["seconds"]["train SiamRPN"] + 5


def test_quickstart_point_family_smoke(tmp_path):
    before = torch.get_num_threads()
    try:
        rc = main(["--output", str(tmp_path), "--smoke", "--family", "point", "--threads", "1", "--no-progress"])
    finally:
        torch.set_num_threads(before)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["family"] == "point" and summary["model"] == "nanotrack" and "siammask" not in summary
    assert summary["check"]["passed"] == (rc == 0)
    assert 0.0 <= summary["trained"]["success_auc"] <= 1.0
    assert (tmp_path / "nanotrack" / "snapshot" / "checkpoint_e1.pth").is_file()
    for name in ("nanotrack", "nanotrack_untrained"):
        assert (tmp_path / "results" / "SYNTH" / name / "SYNTH_0000.txt").is_file()
