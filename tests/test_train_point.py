"""Training the anchor-free (point) family: the loss falls on generated pairs, the run folder and
checkpoint are the point head's. (The quickstart, ``--family point``, checks the benchmark AUC.)"""
import json

import numpy as np
import pytest
import torch

from pysiam.config import load_config
from pysiam.families import build_family
from pysiam.models import build_model
from pysiam.training.forward import TrainingModel
from pysiam.training.trainer import train


# tiny models run fastest on one thread (and do not stall when the CPU is shared): conftest's one_thread
pytestmark = pytest.mark.usefixtures("one_thread")


def _cfg(out_dir, *extra):
    return load_config("quickstart_nanotrack", [
        "TRAIN.OUTPUT_DIR", str(out_dir), "DEVICE", "cpu", "TRAIN.NUM_WORKERS", "0", "TRAIN.BATCH_SIZE", "8",
        "TRAIN.EPOCH", "4", "DATASET.VIDEOS_PER_EPOCH", "96", "TRAIN.PRINT_FREQ", "1", "TRAIN.IMAGE_FREQ", "0",
        "TRAIN.LR_WARMUP.WARMUP", "False", "DATASET.SYNTHETIC.NUM_VIDEOS", "6", "DATASET.SYNTHETIC.WORKERS", "1",
        "DATASET.SYNTHETIC.KWARGS.n_frames", "12", "DATASET.SYNTHETIC.KWARGS.width", "160",
        "DATASET.SYNTHETIC.KWARGS.height", "120", "DATASET.SYNTHETIC.FRAME_RANGE", "12", *extra])


def test_point_family_loss_falls_on_synthetic_pairs(tmp_path):
    res = train(_cfg(tmp_path / "run"), progress=False)
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == res.iterations == 48
    total = np.array([r["loss/total"] for r in rows])
    cls = np.array([r["loss/cls"] for r in rows])
    assert np.isfinite(total).all() and not any(r["skipped"] for r in rows)
    assert rows[0]["loss/total"] == pytest.approx(rows[0]["loss/cls"] + rows[0]["loss/loc"], rel=1e-5)   # LOC_WEIGHT 1
    assert total[-8:].mean() < 0.8 * total[:8].mean()
    assert cls[-8:].mean() < 0.6 * cls[:8].mean()
    assert 0 <= rows[-1]["loss/loc"] <= 1   # linear IoU loss
    ckpt = torch.load(res.checkpoint, weights_only=True)
    assert {g["name"] for g in ckpt["optimizer"]["param_groups"]} == {"backbone", "ban_head"}
    assert any(k.startswith("ban_head.") for k in ckpt["state_dict"])
    build_model(_cfg(tmp_path)).load_state_dict(ckpt["state_dict"])


def test_label_map_size_mismatch_is_reported():
    cfg = _cfg("unused")
    model = build_model(cfg)
    tm = TrainingModel(model, build_family(cfg).training_losses())
    batch = {"template": torch.zeros(1, 3, 63, 63), "search": torch.zeros(1, 3, 127, 127),
             "label_cls": torch.zeros(1, 16, 16, dtype=torch.long), "label_loc": torch.zeros(1, 4, 16, 16)}
    with pytest.raises(ValueError, match="score map is 15x15 but the labels are 16x16: set TRAIN.OUTPUT_SIZE 15"):
        tm(batch)
    batch.update(label_cls=torch.zeros(1, 15, 15, dtype=torch.long), label_loc=torch.ones(1, 4, 15, 15))
    losses, _ = tm(batch)
    assert set(losses) == {"cls", "loc"} and losses["loc"].item() == 0.0   # no positive point


def test_training_benchmark_labels_pairs_through_the_family():
    from pysiam.speed import bench_train, labelled_pair_batch as _labelled_pair_batch
    cfg = _cfg("unused")
    batch = _labelled_pair_batch(cfg, 5, torch.device("cpu"), 15)
    assert batch["label_cls"].shape == (5, 15, 15) and batch["label_loc"].shape == (5, 4, 15, 15)
    assert (batch["label_cls"][:4] == 1).flatten(1).any(1).all() and not (batch["label_cls"][4] == 1).any()
    res = bench_train(cfg, torch.device("cpu"), batch=2, steps=1, warmup=0)
    assert res["samples_per_s"] > 0 and "point losses and optimizer" in res["method"]
