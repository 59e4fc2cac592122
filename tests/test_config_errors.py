"""Config errors point at the file and line that set the key: the full key path is looked up
(TRACK.LR is not TRAIN.LR), keys of a _BASE_ file are blamed on that file, and a missing _BASE_
names the file that refers to it."""
import re

import pytest

from pysiam.config import ConfigError, load_config


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def _error(path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def test_the_full_key_path_gives_the_line(tmp_path):
    # TRAIN.EPOCH on line 2 must not be blamed for the unknown TRACK.EPOCH on line 4
    path = _write(tmp_path, "c.yaml", "TRAIN:\n  EPOCH: 3\nTRACK:\n  EPOCH: 5\n")
    assert _error(path).startswith(f"{path.resolve()}, line 4: unknown config key TRACK.EPOCH")
    # a type error of TRACK.LR (line 5), with TRAIN.LR (a section) first in the file
    path = _write(tmp_path, "d.yaml", "TRAIN:\n  LR:\n    TYPE: log\nTRACK:\n  LR: fast\n")
    msg = _error(path)
    assert msg.startswith(f"{path.resolve()}, line 5: ") and "TRACK.LR" in msg
    path = _write(tmp_path, "e.yaml", "TRACK:\n  PENALTY_K: 0.1\n  WINDOW_INFLUENCE:\n    A: 1\n")
    assert "e.yaml, line 3: " in _error(path)


def test_keys_from_a_base_file_are_blamed_on_it(tmp_path):
    base = _write(tmp_path, "base.yaml", "TRACK:\n  LR: 0.3\n  PENALTY_KK: 0.1\n")
    child = _write(tmp_path, "child.yaml", "# my run\n_BASE_: base.yaml\nTRACK:\n  WINDOW_INFLUENCE: 0.4\n")
    msg = _error(child)
    assert msg.startswith(f"{base.resolve()}, line 3: unknown config key TRACK.PENALTY_KK")
    assert "nearest valid key: TRACK.PENALTY_K" in msg
    # the child's own bad value is the child's line, even though the base sets the key too
    base.write_text("TRACK:\n  LR: 0.3\n")
    child.write_text("_BASE_: base.yaml\nTRACK:\n  LR: quick\n")
    msg = _error(child)
    assert msg.startswith(f"{child.resolve()}, line 3: ") and "TRACK.LR" in msg
    child.write_text("_BASE_: base.yaml\nTRACK:\n  LR: 0.25\n")
    assert load_config(child).TRACK.LR == 0.25


def test_missing_base_names_the_file_that_refers_to_it(tmp_path):
    child = _write(tmp_path, "child.yaml", "# comment\n_BASE_: nothere.yaml\nTRACK:\n  LR: 0.2\n")
    msg = _error(child)
    assert msg.startswith(f"{child.resolve()}, line 2: _BASE_ 'nothere.yaml' not found (looked for "
                          f"{tmp_path.resolve() / 'nothere.yaml'} and a shipped config)")
    # one level down: the middle file is named, not the one given on the command line
    mid = _write(tmp_path, "mid.yaml", "_BASE_: [siamrpn_r50_l234_dwxcorr, gone.yaml]\n")
    top = _write(tmp_path, "top.yaml", "_BASE_: mid.yaml\n")
    assert re.match(re.escape(f"{mid.resolve()}, line 1: _BASE_ 'gone.yaml' not found"), _error(top))
    # a shipped config by name still resolves, with a near-miss suggestion when misspelt
    _write(tmp_path, "ok.yaml", "_BASE_: siamrpn_r50_l234_dwxcorr\nTRACK:\n  LR: 0.2\n")
    assert load_config(tmp_path / "ok.yaml").TRACK.LR == 0.2
    _write(tmp_path, "typo.yaml", "_BASE_: siamrpn_r50_l234_dwxcor\n")
    assert "did you mean siamrpn_r50_l234_dwxcorr" in _error(tmp_path / "typo.yaml")


def test_override_and_section_errors_still_name_the_key(tmp_path):
    path = _write(tmp_path, "s.yaml", "TRACK: 3\n")
    assert _error(path).startswith(f"{path.resolve()}, line 1: config key TRACK is a section, got 3")
    with pytest.raises(ConfigError, match=r"unknown config key TRACK\.LRR \(nearest valid key: TRACK\.LR\)"):
        load_config("siamrpn_r50_l234_dwxcorr", ["TRACK.LRR", "0.1"])
