"""Learning-rate schedules: pysot's recipe values and the per-group scaling."""
import numpy as np
import pytest
import torch

from pysiam.config import load_config
from pysiam.training.lr import EpochLR, build_lr_schedule, lr_curve


def test_pysot_recipe_warmup_then_log():
    cfg = load_config("siamrpn_r50_l234_dwxcorr_8gpu")
    sched = build_lr_schedule(cfg)
    assert len(sched.lrs) == 20
    # warmup: 0.001 * 5 ** (i / 5), i = 0..4; it never reaches 0.005
    assert np.allclose(sched.lrs[:5], [0.001 * 5 ** (i / 5) for i in range(5)])
    assert sched.lrs[4] == pytest.approx(0.0036239, rel=1e-4)
    # then log-space 0.005 -> 0.0005 over 15 epochs
    assert np.allclose(sched.lrs[5:], np.logspace(np.log10(0.005), np.log10(0.0005), 15))
    assert sched.start_lr == pytest.approx(0.005)


def test_groups_scale_relative_to_initial_lr():
    cfg = load_config("siamrpn_r50_l234_dwxcorr_8gpu")
    sched = build_lr_schedule(cfg)
    w1, w2 = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{"params": [w1], "lr": 0.0005, "initial_lr": 0.0005},   # backbone: x LAYERS_LR 0.1
                           {"params": [w2], "lr": 0.005, "initial_lr": 0.005}], lr=0.005)
    sched.apply(opt, 7)
    assert opt.param_groups[1]["lr"] == pytest.approx(sched.lrs[7])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * sched.lrs[7])
    sched.apply(opt, 99)   # past the end: the last value
    assert opt.param_groups[1]["lr"] == pytest.approx(0.0005)


def test_curves_with_pysot_defaults():
    assert np.allclose(lr_curve("log", 3), [0.03, np.sqrt(0.03 * 5e-4), 5e-4])
    assert np.allclose(lr_curve("step", 4, start_lr=0.1, step=2, mult=0.5), [0.1, 0.1, 0.05, 0.05])
    assert np.allclose(lr_curve("multi-step", 5, start_lr=1.0, steps=[1, 3], mult=0.1), [1, 0.1, 0.1, 0.01, 0.01])
    assert np.allclose(lr_curve("linear", 3, start_lr=0.3, end_lr=0.1), [0.3, 0.2, 0.1])
    assert np.allclose(lr_curve("cos", 2, start_lr=1.0, end_lr=0.0), [1.0, 0.5])
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        lr_curve("exp", 3)


def test_no_warmup_and_bad_warmup_length():
    cfg = load_config(None, ["TRAIN.LR_WARMUP.WARMUP", "False", "TRAIN.EPOCH", "4",
                             "TRAIN.LR.KWARGS.start_lr", "0.01", "TRAIN.LR.KWARGS.end_lr", "0.001"])
    sched = build_lr_schedule(cfg)
    assert np.allclose(sched.lrs, np.logspace(-2, -3, 4)) and sched.factor(0) == 1.0
    cfg = load_config(None, ["TRAIN.EPOCH", "3"])   # warmup 5 epochs > 3
    with pytest.raises(ValueError, match="LR_WARMUP.EPOCH"):
        build_lr_schedule(cfg)
    assert EpochLR([1.0, 0.5], 1.0).state_dict() == {"lrs": [1.0, 0.5], "start_lr": 1.0}
