"""The training set: template / search pairs with the head family's labels (and masks), pysot's recipe.

Epoch plan (:func:`epoch_plan`): every source contributes ``num_use`` videos (its videos shuffled,
repeated as needed; ``-1`` = each once); the pool of all sources is shuffled and repeated until
``videos_per_epoch`` entries (``<= 0``: the pool once). Each entry becomes one pair:

* with probability ``DATASET.NEG`` a negative pair: the template from the planned video, the
  search from a random target of a random source;
* otherwise a positive pair from one track (:meth:`PairSource.positive_pair`);
* with probability ``DATASET.GRAY`` both crops are turned gray;
* both crops are augmented (:class:`Augmentation`), the search labels come from the head family's
  training target (``build_family(cfg).training_target(cfg)``: :class:`~pysiam.data.anchor_target.
  AnchorTarget` or :class:`~pysiam.data.point_target.PointTarget`), any object whose
  ``labels(box, neg, rng)`` gives the ``label_*`` entries with ``label_cls`` first-class (P, S, S)
  or (S, S); SiamMask training also gets the search-crop mask (+1 / -1) and a weight per
  score-map position (1 where a prior is positive, for sources with masks, positive pairs).

Reproducibility: sample ``i`` of epoch ``e`` draws all its randomness from
``default_rng([seed, e, i])`` and the plan from ``default_rng([seed, e])``, so a pair never depends
on the number of workers or processes, or on which ones ran before it. Indices passed to
``__getitem__`` are global: ``e * pairs_per_epoch + i`` (see :mod:`pysiam.data.sampler`).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from torch.utils.data import Dataset

from pysiam.families import build_family

from .augmentation import Augmentation
from .train_sources import DatasetError, PairSource, build_source

__all__ = ["PairDataset", "epoch_plan", "build_train_dataset", "DatasetError"]

logger = logging.getLogger(__name__)


def _repeat_shuffled(items: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` entries: shuffled copies of ``items`` concatenated, truncated."""
    if count <= 0 or len(items) == 0:
        return items[:0]
    reps = -(-count // len(items))
    return np.concatenate([rng.permutation(items) for _ in range(reps)])[:count]


def epoch_plan(sizes: Sequence[int], num_use: Sequence[int], videos_per_epoch: int,
               rng: np.random.Generator) -> np.ndarray:
    """(N, 2) int array of (source, video) for one epoch; see the module docstring."""
    pool = []
    for s, (n, use) in enumerate(zip(sizes, num_use)):
        use = n if use == -1 else use
        videos = _repeat_shuffled(np.arange(n), use, rng)
        pool.append(np.stack([np.full(len(videos), s), videos], axis=1))
    pool_arr = np.concatenate(pool) if pool else np.zeros((0, 2), dtype=np.int64)
    total = videos_per_epoch if videos_per_epoch > 0 else len(pool_arr)
    if len(pool_arr) == 0:
        raise DatasetError("the training sources hold no videos")
    return _repeat_shuffled(pool_arr, total, rng).astype(np.int64)


class PairDataset(Dataset):
    """Training pairs from several :class:`PairSource` objects; one item = one labelled pair."""

    def __init__(self, sources: Sequence[PairSource], target: Any,
                 template_aug: Augmentation, search_aug: Augmentation, exemplar_size: int,
                 search_size: int, neg: float = 0.2, gray: float = 0.0, videos_per_epoch: int = 600000,
                 seed: int = 0, with_mask: bool = False):
        if not sources:
            raise DatasetError("no training sources (DATASET.NAMES is empty)")
        self.sources: List[PairSource] = list(sources)
        self.target = target
        self.template_aug, self.search_aug = template_aug, search_aug
        self.exemplar_size, self.search_size = int(exemplar_size), int(search_size)
        self.neg, self.gray = float(neg), float(gray)
        self.seed = int(seed)
        self.with_mask = bool(with_mask)
        total_use = sum(s.num_use for s in self.sources)
        self.pairs_per_epoch = int(videos_per_epoch) if videos_per_epoch > 0 else total_use
        self._plan_epoch: Optional[int] = None
        self._plan: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return self.pairs_per_epoch

    def plan(self, epoch: int) -> np.ndarray:
        """The (source, video) list of ``epoch`` (cached for the current epoch)."""
        if self._plan_epoch != epoch:
            rng = np.random.default_rng([self.seed, epoch])
            self._plan = epoch_plan([len(s) for s in self.sources], [s.num_use for s in self.sources],
                                    self.pairs_per_epoch, rng)
            self._plan_epoch = epoch
        return self._plan

    def __getitem__(self, index: int) -> Dict[str, np.ndarray]:
        epoch, i = divmod(int(index), self.pairs_per_epoch)
        source_id, video = (int(v) for v in self.plan(epoch)[i])
        return self.make_pair(source_id, video, np.random.default_rng([self.seed, epoch, i]))

    def make_pair(self, source_id: int, video: int, rng: np.random.Generator) -> Dict[str, np.ndarray]:
        """One labelled pair whose template comes from ``video`` of source ``source_id``."""
        source = self.sources[source_id]
        gray = bool(self.gray) and self.gray > rng.random()
        neg = bool(self.neg) and self.neg > rng.random()
        if neg:
            t_ref = source.random_target(rng, video)
            s_source = self.sources[int(rng.integers(len(self.sources)))]
            s_ref = s_source.random_target(rng)
        else:
            t_ref, s_ref = source.positive_pair(video, rng)
            s_source = source
        use_mask = self.with_mask and s_source.has_masks and not neg
        t_patch = source.load(t_ref)
        s_patch = s_source.load(s_ref, with_mask=use_mask)

        template, t_box, _ = self.template_aug(t_patch, self.exemplar_size, rng, gray=gray)
        search, s_box, mask = self.search_aug(s_patch, self.search_size, rng, gray=gray, with_mask=use_mask)
        labels = self.target.labels(s_box, neg, rng)
        out = {
            "template": np.ascontiguousarray(template.transpose(2, 0, 1), dtype=np.float32),
            "search": np.ascontiguousarray(search.transpose(2, 0, 1), dtype=np.float32),
            **labels,
            "bbox": np.asarray(s_box, dtype=np.float32),
            "template_bbox": np.asarray(t_box, dtype=np.float32),
            "neg": np.int64(neg),
        }
        if self.with_mask:
            cls = labels["label_cls"]
            cls = cls.reshape((-1,) + cls.shape[-2:])   # (P, S, S)
            if use_mask:
                out["label_mask"] = np.where(mask > 0.5, 1.0, -1.0).astype(np.float32)[None]
                out["label_mask_weight"] = (cls.max(axis=0, keepdims=True) == 1).astype(np.float32)
            else:
                out["label_mask"] = -np.ones((1, self.search_size, self.search_size), dtype=np.float32)
                out["label_mask_weight"] = np.zeros((1,) + cls.shape[1:], dtype=np.float32)
        return out


def build_train_dataset(cfg, sources: Optional[Sequence[PairSource]] = None) -> PairDataset:
    """The training set of ``cfg`` (sources from ``DATASET.NAMES`` unless given)."""
    target = build_family(cfg).training_target(cfg)   # checks TRAIN.OUTPUT_SIZE first
    if sources is None:
        sources = [build_source(name, cfg) for name in cfg.DATASET.NAMES]
    for s in sources:
        logger.info("training source %s: %d videos, %d per epoch, frame range %d%s", s.name, len(s),
                    s.num_use, s.frame_range, ", with masks" if s.has_masks else "")
    return PairDataset(
        sources, target,
        Augmentation.from_config(cfg.DATASET.TEMPLATE), Augmentation.from_config(cfg.DATASET.SEARCH),
        cfg.TRAIN.EXEMPLAR_SIZE, cfg.TRAIN.SEARCH_SIZE, neg=cfg.DATASET.NEG, gray=cfg.DATASET.GRAY,
        videos_per_epoch=cfg.DATASET.VIDEOS_PER_EPOCH, seed=cfg.TRAIN.SEED,
        with_mask=bool(cfg.MASK.MASK))
