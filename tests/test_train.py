"""Training loop: one-iteration smoke tests, exact resume, two-process DDP on CPU, SiamMask stages."""
import json
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from pysiam.config import get_cfg
from pysiam.models import build_model
from pysiam.models.checkpoint import read_state_dict
from pysiam.training.trainer import train


# tiny models run fastest on one thread (and do not stall when the CPU is shared): conftest's one_thread
pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_cfg(out_dir, **overrides):
    """A very small SiamRPN (MobileNetV2 x0.25 up to layer3, 63/127 crops, 9x9 map) on synthetic data."""
    cfg = get_cfg()
    cfg.BACKBONE.TYPE = "mobilenetv2"
    cfg.BACKBONE.KWARGS.width_mult = 0.25
    cfg.BACKBONE.KWARGS.used_layers = [3]
    cfg.BACKBONE.TRAIN_LAYERS = ["layer2", "layer3"]
    cfg.BACKBONE.TRAIN_EPOCH = 1
    cfg.BACKBONE.LAYERS_LR = 0.5
    cfg.ADJUST.TYPE = "AdjustAllLayer"
    cfg.ADJUST.KWARGS.in_channels = [8]
    cfg.ADJUST.KWARGS.out_channels = [16]
    cfg.ADJUST.KWARGS.crop_below = 8
    cfg.RPN.TYPE = "DepthwiseRPN"
    cfg.RPN.KWARGS.anchor_num = 5
    cfg.RPN.KWARGS.in_channels = 16
    cfg.RPN.KWARGS.out_channels = 16
    cfg.ANCHOR.SCALES = [4]
    t = cfg.TRAIN
    t.EXEMPLAR_SIZE, t.SEARCH_SIZE, t.BASE_SIZE, t.OUTPUT_SIZE = 63, 127, 0, 9
    t.EPOCH, t.BATCH_SIZE, t.NUM_WORKERS, t.PRINT_FREQ, t.IMAGE_FREQ = 3, 4, 0, 1, 1
    t.BASE_LR = 0.01
    t.LR.KWARGS.start_lr, t.LR.KWARGS.end_lr = 0.01, 0.001
    t.LR_WARMUP.EPOCH = 1
    t.LR_WARMUP.KWARGS.start_lr, t.LR_WARMUP.KWARGS.end_lr, t.LR_WARMUP.KWARGS.step = 0.005, 0.01, 1
    t.OUTPUT_DIR = str(out_dir)
    d = cfg.DATASET
    d.NAMES = ["SYNTHETIC"]
    d.VIDEOS_PER_EPOCH = 8
    d.SEARCH.SHIFT = 16
    d.SYNTHETIC.NUM_VIDEOS = 3
    d.SYNTHETIC.WORKERS = 1
    d.SYNTHETIC.KWARGS.n_frames = 6
    d.SYNTHETIC.KWARGS.width = 96
    d.SYNTHETIC.KWARGS.height = 72
    cfg.TRACK.EXEMPLAR_SIZE, cfg.TRACK.INSTANCE_SIZE, cfg.TRACK.BASE_SIZE = 63, 127, 0
    cfg.DEVICE = "cpu"
    for key, value in overrides.items():
        node = cfg
        *parents, leaf = key.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
    return cfg


def _state(path):
    return read_state_dict(path)[0]


def test_one_epoch_smoke_writes_the_run_folder(tmp_path):
    cfg = tiny_cfg(tmp_path / "run", **{"TRAIN.EPOCH": 1, "TRAIN.LR_WARMUP.WARMUP": False})
    res = train(cfg, progress=False)
    run = tmp_path / "run"
    assert res.iterations == 2 and res.checkpoint == run / "snapshot" / "checkpoint_e1.pth"
    assert (run / "config.yaml").read_text().count("OUTPUT_DIR") == 1
    env = json.loads((run / "env.json").read_text())
    assert env["starts"][0]["versions"]["torch"] == torch.__version__
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert {"loss/cls", "loss/loc", "loss/total", "lr/rpn_head", "grad_norm"} <= set(rows[0])
    assert rows[0]["loss/total"] == pytest.approx(rows[0]["loss/cls"] + 1.2 * rows[0]["loss/loc"], rel=1e-5)
    assert list((run / "logs").glob("events.out.tfevents.*"))
    ckpt = torch.load(res.checkpoint, weights_only=True)
    assert ckpt["epoch"] == 1 and ckpt["stage"] == "rpn" and "optimizer" in ckpt and "rng" in ckpt
    # the snapshot loads into a freshly built model, as tools/test.py would
    model = build_model(cfg)
    model.load_state_dict(ckpt["state_dict"])


def test_backbone_frozen_until_train_epoch_then_momentum_kept(tmp_path):
    cfg = tiny_cfg(tmp_path / "run", **{"TRAIN.EPOCH": 2, "TRAIN.LR_WARMUP.WARMUP": False})
    torch.manual_seed(cfg.TRAIN.SEED)
    init = build_model(cfg).state_dict()
    train(cfg, progress=False, stop_after_epoch=1)
    e1 = _state(tmp_path / "run" / "snapshot" / "checkpoint_e1.pth")
    ck1 = torch.load(tmp_path / "run" / "snapshot" / "checkpoint_e1.pth", weights_only=True)
    # epoch 1: backbone untouched (weights and BatchNorm statistics), heads trained
    assert all(torch.equal(init[k], e1[k]) for k in init if k.startswith("backbone."))
    assert not torch.equal(init["rpn_head.cls.head.3.weight"], e1["rpn_head.cls.head.3.weight"])
    groups = {g["name"]: g for g in ck1["optimizer"]["param_groups"]}
    assert set(groups) == {"backbone", "neck", "rpn_head"}
    assert not any(i in ck1["optimizer"]["state"] for i in groups["backbone"]["params"])
    head_ids = groups["rpn_head"]["params"]
    train(cfg, resume=True, progress=False)
    ck2 = torch.load(tmp_path / "run" / "snapshot" / "checkpoint_e2.pth", weights_only=True)
    e2 = ck2["state_dict"]
    assert not torch.equal(e1["backbone.layer3.0.conv.0.weight"], e2["backbone.layer3.0.conv.0.weight"])
    assert torch.equal(e1["backbone.layer0.0.weight"], e2["backbone.layer0.0.weight"])   # not in TRAIN_LAYERS
    # the unfreeze did not drop the heads' momentum: 2 more steps of it, not a restart
    state = ck2["optimizer"]["state"]
    assert all(i in state for i in groups["backbone"]["params"][:1]) and head_ids[0] in state
    g2 = {g["name"]: g for g in ck2["optimizer"]["param_groups"]}
    assert g2["backbone"]["lr"] == pytest.approx(0.5 * g2["rpn_head"]["lr"])


def test_resume_matches_uninterrupted_run(tmp_path):
    straight = train(tiny_cfg(tmp_path / "a"), progress=False)
    cfg_b = tiny_cfg(tmp_path / "b")
    first = train(cfg_b, progress=False, stop_after_epoch=2)
    assert first.epochs == 2 and first.checkpoint.name == "checkpoint_e2.pth"
    resumed = train(cfg_b, resume=True, progress=False)
    assert resumed.epochs == 3 and resumed.iterations == straight.iterations == 6
    a = _state(straight.checkpoint)
    b = _state(resumed.checkpoint)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-6, rtol=1e-5), k
    env = json.loads((tmp_path / "b" / "env.json").read_text())
    assert env["starts"][1]["resumed_from"].endswith("checkpoint_e2.pth")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world, port, out_dir, result_dir):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    cfg = tiny_cfg(out_dir, **{"TRAIN.EPOCH": 2, "TRAIN.LR_WARMUP.WARMUP": False,
                               "DATASET.VIDEOS_PER_EPOCH": 16})
    res = train(cfg, progress=False)
    torch.save({"state": res.model.state_dict(), "iterations": res.iterations}, os.path.join(result_dir, f"rank{rank}.pt"))


def test_two_process_ddp_on_cpu_keeps_ranks_identical(tmp_path):
    world = 2
    # fork: the children start at once, without importing torch again
    mp.start_processes(_ddp_worker, args=(world, _free_port(), str(tmp_path / "run"), str(tmp_path)),
                       nprocs=world, join=True, start_method="fork")
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    # 16 pairs per epoch over 2 processes x batch 4: 2 iterations per epoch
    assert r0["iterations"] == r1["iterations"] == 4
    for k, v in r0["state"].items():
        if v.is_floating_point() and "running" not in k:   # BatchNorm statistics stay per process
            assert torch.equal(v, r1["state"][k]), k
    ckpt = _state(tmp_path / "run" / "snapshot" / "checkpoint_e2.pth")
    assert torch.equal(ckpt["rpn_head.cls.head.3.weight"], r0["state"]["rpn_head.cls.head.3.weight"])


def siammask_cfg(out_dir, stage):
    """SiamMask with a ResNet-50 cut after layer2 (refine inputs stem / layer1 / layer2), 63/127 crops."""
    cfg = tiny_cfg(out_dir, **{"TRAIN.EPOCH": 1, "TRAIN.LR_WARMUP.WARMUP": False, "TRAIN.BATCH_SIZE": 2,
                               "DATASET.VIDEOS_PER_EPOCH": 2, "DATASET.NEG": 0.0, "TRAIN.STAGE": stage,
                               "TRAIN.MASK_WEIGHT": 36})
    cfg.BACKBONE.TYPE = "resnet50"
    cfg.BACKBONE.KWARGS = type(cfg.BACKBONE.KWARGS)({"used_layers": [0, 1, 2, 2]}, new_allowed=True)
    cfg.BACKBONE.TRAIN_LAYERS = ["layer2"]
    cfg.BACKBONE.TRAIN_EPOCH = 0
    cfg.ADJUST.KWARGS.in_channels = [512]
    cfg.ADJUST.KWARGS.out_channels = [256]
    cfg.RPN.KWARGS.in_channels = 256
    cfg.MASK.MASK = True
    cfg.MASK.KWARGS.in_channels = 256
    cfg.MASK.KWARGS.hidden = 256
    cfg.MASK.KWARGS.out_channels = 3969
    cfg.REFINE.REFINE = True
    cfg.TRACK.TYPE = "SiamMaskTracker"
    return cfg


def test_siammask_mask_then_refine_stage_one_iteration(tmp_path):
    mask_run = train(siammask_cfg(tmp_path / "mask", "mask"), progress=False)
    rows = [json.loads(line) for line in (tmp_path / "mask" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["metric/mask_positions"] > 0 and 0 < rows[-1]["loss/mask"] < 10
    assert rows[-1]["loss/total"] == pytest.approx(
        rows[-1]["loss/cls"] + 1.2 * rows[-1]["loss/loc"] + 36 * rows[-1]["loss/mask"], rel=1e-5)
    before = _state(mask_run.checkpoint)

    cfg = siammask_cfg(tmp_path / "refine", "refine")
    cfg.TRAIN.PRETRAINED = str(mask_run.checkpoint)
    refine_run = train(cfg, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "refine" / "metrics.jsonl").read_text().splitlines()]
    assert set(k for k in rows[-1] if k.startswith("loss/")) == {"loss/mask", "loss/total"}
    assert rows[-1]["loss/total"] == pytest.approx(36 * rows[-1]["loss/mask"], rel=1e-5)
    after = _state(refine_run.checkpoint)
    frozen = [k for k in before if k.split(".")[0] in ("backbone", "neck", "rpn_head")]
    assert frozen and all(torch.equal(before[k], after[k]) for k in frozen)   # weights and BN statistics
    assert not torch.equal(before["refine_head.post2.weight"], after["refine_head.post2.weight"])
    assert not torch.equal(before["mask_head.conv_search.0.weight"], after["mask_head.conv_search.0.weight"])


def test_cli_train_main_with_overrides(tmp_path, capsys):
    from pysiam.cli.train import main
    cfg = tiny_cfg(tmp_path / "run", **{"TRAIN.EPOCH": 1, "TRAIN.LR_WARMUP.WARMUP": False})
    path = tmp_path / "tiny.yaml"
    path.write_text(cfg.dump())
    assert main(["--config", str(path), "--no-progress", "TRAIN.BASE_LR", "0.02"]) == 0
    saved = (tmp_path / "run" / "config.yaml").read_text()
    assert "BASE_LR: 0.02" in saved
    assert main(["--config", str(path), "TRAIN.NO_SUCH_KEY", "1"]) == 2
    assert "unknown config key TRAIN.NO_SUCH_KEY" in capsys.readouterr().err


def test_unfreeze_keeps_momentum_unless_reference_behaviour(tmp_path):
    from pysiam.training.distributed import DistInfo
    from pysiam.training.forward import TrainingModel
    from pysiam.training.losses import anchor_losses
    from pysiam.training.lr import build_lr_schedule
    from pysiam.training.optim import build_optimizer
    from pysiam.training.settings import TrainableSettings
    from pysiam.training.trainer import begin_epoch
    for reset in (False, True):
        cfg = tiny_cfg(tmp_path, **{"TRAIN.UNFREEZE_RESET_MOMENTUM": reset})
        model = build_model(cfg)
        trainable = TrainableSettings.from_config(cfg)
        opt = build_optimizer(model, trainable)
        head = model.rpn_head.cls.head[3].weight
        opt.state[head]["momentum_buffer"] = torch.ones_like(head)
        dist = DistInfo(0, 1, 0, torch.device("cpu"))
        begin_epoch(1, model, TrainingModel(model, anchor_losses()), opt, build_lr_schedule(cfg), trainable,
                    dist, None)
        assert (head in opt.state) is not reset
        assert model.backbone.layer3[0].conv[0].weight.requires_grad
        assert model.backbone.layer3.training and not model.backbone.layer0.training


def test_bf16_autocast_one_epoch(tmp_path):
    res = train(tiny_cfg(tmp_path, **{"TRAIN.EPOCH": 1, "TRAIN.LR_WARMUP.WARMUP": False, "TRAIN.AMP": "bf16"}),
                progress=False)
    assert res.iterations == 2 and all(torch.isfinite(torch.tensor(v)) for v in res.last.values())
    assert res.model.rpn_head.cls.head[3].weight.dtype == torch.float32
