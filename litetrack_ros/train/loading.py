# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Data loading for training: worker processes, pinned memory, and what it costs.

A pair is decoded (two JPEGs), cropped and jittered on the CPU; at LiteTrack's
sizes that is slower than a GPU's step (LiteTrack's issue #23: 28.7 frames/s on
4 GPUs, loading-bound), so the loader runs ``--workers`` processes per training
process, pins its batches for an asynchronous copy to the GPU, and the trainer
records how long each step waited for data (:class:`Throughput`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import time
from typing import Iterator

from litetrack_ros.train.data import collate
import torch
from torch.utils.data import DataLoader, Dataset, Sampler


def make_loader(dataset: Dataset, batches: Sampler[list[int]], workers: int,
                device: torch.device) -> DataLoader:
    """Return a loader over the given micro-batches of ``dataset``.

    With ``workers`` > 0 the pairs are made in that many processes that stay up
    (4 batches in flight each); on CUDA the batches are pinned so that the copy
    to the GPU overlaps the step.
    """
    return DataLoader(dataset, batch_sampler=batches, num_workers=workers, collate_fn=collate,
                      pin_memory=device.type == 'cuda', persistent_workers=workers > 0,
                      prefetch_factor=4 if workers > 0 else None)


@dataclass
class Throughput:
    """Pairs trained and seconds spent waiting for data, since the last :meth:`take`."""

    pairs: int = 0
    wait: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def timed_next(self, batches: Iterator[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """Return the next batch, counting the wait for it and its pairs."""
        start = time.perf_counter()
        batch = next(batches)
        self.wait += time.perf_counter() - start
        self.pairs += len(next(iter(batch.values())))
        return batch

    def take(self) -> dict[str, float]:
        """Return ``pairs_per_s`` and ``data_wait`` (share of the time) and start again."""
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        figures = {'pairs_per_s': self.pairs / elapsed, 'data_wait': self.wait / elapsed}
        self.pairs, self.wait, self.started = 0, 0.0, time.perf_counter()
        return figures


def measure_loading(loader: DataLoader, batches: int) -> dict[str, float]:
    """Time ``batches`` batches of ``loader`` alone (no training): pairs/s and ms per pair.

    The first batch (worker start-up) is not counted.
    """
    iterator = iter(loader)
    next(iterator)
    pairs, start = 0, time.perf_counter()
    for _ in range(batches):
        batch = next(iterator)
        pairs += len(next(iter(batch.values())))
    seconds = time.perf_counter() - start
    return {'pairs': float(pairs), 'seconds': seconds, 'pairs_per_s': pairs / seconds,
            'ms_per_pair': 1000 * seconds / pairs}
