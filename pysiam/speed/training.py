"""Speed of the training side: a training step on labelled random pairs, and the data loader."""
from __future__ import annotations

import logging
import statistics
import time
from typing import Any, Dict, Sequence

from .timing import timed

__all__ = ["bench_train", "bench_data", "labelled_pair_batch"]

logger = logging.getLogger("pysiam.benchmark")

def labelled_pair_batch(cfg, batch: int, device, n: int):
    """A batch of random crops labelled by the head family's training target, as the training set
    labels them (a centred target box of random size per pair; every fifth pair negative), with an
    ``n`` x ``n`` score map."""
    import numpy as np
    import torch

    from pysiam.families import build_family

    c = cfg.clone()
    c.defrost()
    c.TRAIN.OUTPUT_SIZE = n   # the network's own map at the training sizes
    target = build_family(c).training_target(c)
    rng = np.random.default_rng(0)
    e, s = int(cfg.TRAIN.EXEMPLAR_SIZE), int(cfg.TRAIN.SEARCH_SIZE)
    rows = []
    for i in range(batch):
        w, h = rng.uniform(0.25, 0.6, size=2) * e
        box = [s / 2 - w / 2, s / 2 - h / 2, s / 2 + w / 2, s / 2 + h / 2]
        rows.append(target.labels(box, neg=i % 5 == 4, rng=rng))
    out = {k: torch.from_numpy(np.stack([r[k] for r in rows])) for k in rows[0]}
    g = torch.Generator().manual_seed(0)
    out["template"] = torch.rand(batch, 3, e, e, generator=g) * 255
    out["search"] = torch.rand(batch, 3, s, s, generator=g) * 255
    if cfg.MASK.MASK:
        cls = out["label_cls"].reshape(batch, -1, n, n)
        out["label_mask"] = torch.where(torch.rand(batch, 1, s, s, generator=g) > 0.5, 1.0, -1.0)
        out["label_mask_weight"] = (cls.max(1, keepdim=True).values == 1).float()
    return {k: v.to(device) for k, v in out.items()}


def bench_train(cfg, device, batch: int, steps: int, warmup: int = 1) -> Dict[str, Any]:
    """Training samples/s: forward, the family's losses, backward and SGD step on labelled random pairs."""
    import torch

    from pysiam.families import build_family
    from pysiam.models import build_model
    from pysiam.training.forward import TrainingModel
    from pysiam.training.losses import total_loss
    from pysiam.training.optim import apply_trainable, build_optimizer, set_train_modes
    from pysiam.training.settings import TrainSettings

    torch.manual_seed(0)
    settings = TrainSettings.from_config(cfg)
    family = build_family(cfg)
    model = build_model(cfg).to(device)
    method = f"pysiam.training {family.name} losses and optimizer (stage {settings.stage}, epoch 0 trainable parts)"
    try:
        apply_trainable(model, settings.trainable, 0)
        set_train_modes(model, settings.trainable, 0)
        optimizer = build_optimizer(model, settings.trainable)
    except ValueError as e:   # e.g. BACKBONE.TRAIN_LAYERS that this backbone does not have
        logger.warning("training benchmark: %s; every parameter is trained", e)
        model.requires_grad_(True).train()
        optimizer = torch.optim.SGD(model.parameters(), lr=settings.trainable.base_lr, momentum=0.9)
        method = f"pysiam.training {family.name} losses (stage {settings.stage}), all parameters, plain SGD"
    train_model = TrainingModel(model, family.training_losses(), settings.stage, stride=settings.mask_stride,
                                mask_window=settings.mask_window)
    weights = settings.weights.for_stage(settings.stage)
    with torch.no_grad():  # the score-map side of this network at the training sizes
        e, sx = settings.mask_window, int(cfg.TRAIN.SEARCH_SIZE)
        n = model(torch.zeros(1, 3, e, e, device=device), torch.zeros(1, 3, sx, sx, device=device),
                  with_mask=False)["cls"].shape[-1]
    data = labelled_pair_batch(cfg, batch, device, n)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = total_loss(train_model(data)[0], weights)
        loss.backward()
        optimizer.step()

    times = timed(step, device, steps, warmup)
    med = statistics.median(times)
    return {"samples_per_s": batch / med, "step_ms_median": 1000 * med, "batch": batch,
            "steps": len(times), "method": method}


def bench_data(cfg, batch: int, batches: int, frames: int, size: Sequence[int]) -> Dict[str, Any]:
    """Samples/s of the training DataLoader over a few generated videos (DATASET.SYNTHETIC)."""
    import torch
    from torch.utils.data import DataLoader

    from pysiam.data.train_dataset import build_train_dataset

    c = cfg.clone()
    c.defrost()
    c.DATASET.NAMES = ["SYNTHETIC"]
    c.DATASET.SYNTHETIC.NUM_VIDEOS = 4
    c.DATASET.SYNTHETIC.WORKERS = 1
    c.DATASET.SYNTHETIC.KWARGS.n_frames = max(4, int(frames))
    c.DATASET.SYNTHETIC.KWARGS.width = int(size[0])
    c.DATASET.SYNTHETIC.KWARGS.height = int(size[1])
    c.DATASET.VIDEOS_PER_EPOCH = batch * (batches + 1)
    dataset = build_train_dataset(c)
    workers = int(c.TRAIN.NUM_WORKERS)
    loader = DataLoader(dataset, batch_size=batch, num_workers=workers, drop_last=True,
                        persistent_workers=False, pin_memory=torch.cuda.is_available())
    it = iter(loader)
    next(it)  # worker start-up and the first batch are not counted
    tic = time.perf_counter()
    n = 0
    for b in it:
        n += int(b["search"].shape[0])
    wall = time.perf_counter() - tic
    return {"samples_per_s": n / max(wall, 1e-9), "samples": n, "batch": batch, "workers": workers}
