"""Checkpoints are unpickled safely: only numpy scalars/dtypes beyond torch's own types, unless trusted."""
import argparse
import builtins
import os
import pickle
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from pysiam.models.checkpoint import SAFE_GLOBALS, CheckpointError, load_checkpoint, read_state_dict


class _System:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


class _Exec:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return builtins.exec, (f"open({str(self.path)!r}, 'w').write('x')",)


def _write(path, payload, fmt):
    obj = {"state_dict": {"w": torch.zeros(2)}, "x": payload}
    if fmt == "zip":
        torch.save(obj, path)
    elif fmt == "legacy":
        torch.save(obj, path, _use_new_zipfile_serialization=False)
    else:  # a plain pickle, protocol 4
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=4)


@pytest.mark.parametrize("fmt", ["zip", "legacy", "pickle"])
@pytest.mark.parametrize("kind,name", [(_System, "system"), (_Exec, "exec")])
def test_malicious_reduce_runs_nothing_and_names_the_global(tmp_path, fmt, kind, name):
    marker = tmp_path / "PWNED"
    path = tmp_path / f"evil_{fmt}.pth"
    _write(path, kind(marker), fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note about pickle protocol 4
        with pytest.raises(CheckpointError, match=rf"evil_{fmt}\.pth: refusing to unpickle global\(s\) \S*{name}"):
            read_state_dict(path)
        with pytest.raises(ValueError, match="--trust-checkpoint"):
            load_checkpoint(nn.Linear(2, 1), path)
    assert not marker.exists()


def test_numpy_scalars_load_without_trust_and_safe_list_stays_local(tmp_path):
    path = tmp_path / "pysot_style.pth"
    state = {"weight": torch.ones(1, 2), "bias": torch.zeros(1)}
    torch.save({"epoch": np.int64(3), "best": np.float64(0.25), "state_dict": state,
                "dtype": np.dtype("float32")}, path)
    model = nn.Linear(2, 1)
    report = load_checkpoint(model, path)
    assert report.complete and report.extra["best"] == 0.25 and report.extra["epoch"] == 3
    assert torch.equal(model.weight, state["weight"])
    names = {getattr(g, "__name__", None) for g in torch.serialization.get_safe_globals()}
    assert "scalar" not in names and not any(g in torch.serialization.get_safe_globals() for g in SAFE_GLOBALS)


def test_other_globals_need_trust(tmp_path, caplog):
    path = tmp_path / "old.pth"
    model = nn.Linear(2, 1)
    torch.save({"state_dict": model.state_dict(), "args": argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(CheckpointError, match=r"old\.pth: refusing to unpickle global\(s\) argparse\.Namespace"):
        load_checkpoint(model, path)
    report = load_checkpoint(model, path, trust=True)
    assert report.complete and report.extra["args"].lr == 0.1
    assert "runs any code" in caplog.text
    with pytest.warns(DeprecationWarning, match="trust=True"):
        load_checkpoint(model, path, allow_pickle=True)


def test_ignore_unexpected_prefixes(tmp_path):
    model = nn.Sequential(nn.Linear(2, 1))
    state = {**model.state_dict(), "neck.w": torch.zeros(1), "other.w": torch.zeros(1)}
    with pytest.raises(CheckpointError, match="other.w"):
        load_checkpoint(model, state, ignore_unexpected=("neck.",))
    report = load_checkpoint(model, {k: v for k, v in state.items() if k != "other.w"}, ignore_unexpected=("neck.",))
    assert report.complete and report.ignored == ["neck.w"]
