"""Which pairs each training process reads in an epoch.

An epoch has ``iters = pairs_per_epoch // (batch_size * world_size)`` iterations; at iteration
``k`` process ``r`` reads pairs ``k * B * W + r * B .. + B - 1`` of the epoch (B = batch size,
W = world size), passed to the dataset as global indices ``epoch * pairs_per_epoch + i``.
The pairs themselves are already in random order (:func:`pysiam.data.train_dataset.epoch_plan`),
so the split is plain and the union over processes is the same for any world size.
"""
from __future__ import annotations

from typing import Iterator

from torch.utils.data import Sampler

__all__ = ["EpochSampler"]


class EpochSampler(Sampler):
    """Global pair indices of one epoch for one process, optionally starting at a given iteration."""

    def __init__(self, pairs_per_epoch: int, batch_size: int, rank: int = 0, world_size: int = 1,
                 epoch: int = 0, start_iter: int = 0):
        if batch_size < 1 or world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"bad sampler set-up: batch {batch_size}, rank {rank}, world {world_size}")
        self.pairs_per_epoch = int(pairs_per_epoch)
        self.batch_size, self.rank, self.world_size = int(batch_size), int(rank), int(world_size)
        self.iters_per_epoch = self.pairs_per_epoch // (self.batch_size * self.world_size)
        if self.iters_per_epoch < 1:
            raise ValueError(f"an epoch of {pairs_per_epoch} pairs is smaller than one batch of "
                             f"{batch_size} x {world_size} processes (raise DATASET.VIDEOS_PER_EPOCH)")
        self.set_epoch(epoch, start_iter)

    def set_epoch(self, epoch: int, start_iter: int = 0) -> None:
        """Read epoch ``epoch`` from iteration ``start_iter`` on (for resuming mid-epoch)."""
        self.epoch, self.start_iter = int(epoch), int(start_iter)

    def __iter__(self) -> Iterator[int]:
        base = self.epoch * self.pairs_per_epoch
        step = self.batch_size * self.world_size
        for it in range(self.start_iter, self.iters_per_epoch):
            first = base + it * step + self.rank * self.batch_size
            yield from range(first, first + self.batch_size)

    def __len__(self) -> int:
        return max(0, self.iters_per_epoch - self.start_iter) * self.batch_size
