"""tools/prepare_data.py behaviour: resuming, bad inputs with and without --skip-errors, workers."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pysiam.cli.prepare_data import main as prepare_main
from pysiam.data.prepare import PrepareError
from test_prepare_fixtures import crop_files, expected_files, make_otb_layout, run, write_lines

REPO = Path(__file__).resolve().parent.parent


def mtimes(out: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in (out / "crop511").rglob("*") if p.is_file()}


def test_resume_skips_complete_videos_and_redoes_missing_crops(tmp_path):
    make_otb_layout(tmp_path / "raw")
    out = tmp_path / "out"
    first, index = run("otb", tmp_path / "raw", out)
    assert first.counts["crops_written"] == 4 and first.counts["videos_complete"] == 0
    text, before = (out / "train.json").read_text(), mtimes(out)

    again, _ = run("otb", tmp_path / "raw", out)
    assert again.counts["crops_written"] == 0 and again.counts["videos_complete"] == 2
    assert mtimes(out) == before and (out / "train.json").read_text() == text

    lost = out / "crop511/seqB/000001.00.x.jpg"
    lost.unlink()
    third, _ = run("otb", tmp_path / "raw", out)
    assert third.counts["crops_written"] == 1 and third.counts["videos_complete"] == 1
    assert lost.is_file()
    changed = {p for p, t in mtimes(out).items() if before.get(p) != t}
    assert {p.name for p in changed} == {"000001.00.x.jpg", "000001.00.z.jpg", "000001.00.m.png"}
    assert (out / "train.json").read_text() == text
    assert crop_files(out) == expected_files(index, masks=True)


@pytest.mark.parametrize("content, reason", [
    (b"this is not an image", "cannot decode"),
    (None, "truncated"),   # the first half of a real JPEG
])
def test_bad_jpeg_is_named_and_can_be_skipped(tmp_path, capsys, content, reason):
    make_otb_layout(tmp_path / "raw")
    bad = tmp_path / "raw/seqA/img/0002.jpg"
    bad.write_bytes(content if content is not None else bad.read_bytes()[: bad.stat().st_size // 2])
    args = ["otb", "--root", str(tmp_path / "raw"), "--out", str(tmp_path / "out"), "--workers", "1",
            "--no-progress"]

    with pytest.raises(PrepareError, match=reason) as err:
        run("otb", tmp_path / "raw", tmp_path / "out")
    assert str(bad) in str(err.value)
    assert prepare_main(args) == 1
    stderr = capsys.readouterr().err
    assert str(bad) in stderr and "--skip-errors" in stderr
    assert not (tmp_path / "out/train.json").exists()

    assert prepare_main(args + ["--skip-errors"]) == 0
    stdout = capsys.readouterr().out
    assert "1 bad images" in stdout and str(bad) in stdout
    index = json.loads((tmp_path / "out/train.json").read_text())
    assert index["seqA"] == {"00": {"000000": [10, 8, 40, 28]}}      # frame 1 left out
    assert set(index["seqB"]["00"]) == {"000000", "000001"}
    assert str(bad) in (tmp_path / "out/train_errors.txt").read_text()
    assert crop_files(tmp_path / "out") == expected_files(index, masks=True)


def test_bad_annotation_line_is_named(tmp_path, capsys):
    make_otb_layout(tmp_path / "raw")
    write_lines(tmp_path / "raw/seqB/groundtruth_rect.txt", ["10,8,30,20", "12,9,x,22", "0,0,0,0"])
    with pytest.raises(PrepareError, match=r"seqB/groundtruth_rect.txt:2: cannot parse"):
        run("otb", tmp_path / "raw", tmp_path / "out")
    summary, index = run("otb", tmp_path / "raw", tmp_path / "out", skip_errors=True)
    assert list(index) == ["seqA"] and summary.counts["bad_annotations"] == 1


def test_workers_and_limit(tmp_path):
    make_otb_layout(tmp_path / "raw", videos=("v1", "v2", "v3"), masks=False)
    _, serial = run("otb", tmp_path / "raw", tmp_path / "serial")
    _, parallel = run("otb", tmp_path / "raw", tmp_path / "parallel", workers=2)
    assert parallel == serial and crop_files(tmp_path / "parallel") == crop_files(tmp_path / "serial")
    _, limited = run("otb", tmp_path / "raw", tmp_path / "limited", limit=2)
    assert list(limited) == ["v1", "v2"]


def test_tool_script_runs(tmp_path):
    make_otb_layout(tmp_path / "raw", videos=("only",), masks=False)
    proc = subprocess.run([sys.executable, str(REPO / "tools/prepare_data.py"), "synthetic", "--root",
                           str(tmp_path / "raw"), "--out", str(tmp_path / "out"), "--workers", "1",
                           "--split", "val"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout and (tmp_path / "out/val.json").is_file()
    bad = subprocess.run([sys.executable, str(REPO / "tools/prepare_data.py"), "nosuch", "--root", ".",
                          "--out", "."], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
