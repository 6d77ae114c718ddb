# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Training in several processes with torch.distributed (``torchrun``, DDP).

``torchrun`` starts one process per GPU (or per CPU share) and tells each its
place through the environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``/``MASTER_PORT``); :func:`init_distributed` reads it and joins the
process group: nccl for CUDA, gloo for CPU.  Without those variables the run is
one process and nothing here changes it.

How a global step is shared (:class:`RankBatches`): optimiser step ``s`` uses the
pairs ``s * B .. (s + 1) * B - 1`` of the deterministic :class:`PairDataset`
(``B`` = ``--batch-size``, the recipe's effective batch), cut into micro-batches of
``m`` pairs (``--micro-batch``); rank ``r`` runs micro-batches ``r, r + W, r + 2W...``
and accumulates their gradients (``no_sync`` for all but the last), DDP averages
over the ranks.  So every optimiser step sees the same pairs and the same
gradient whatever the world size ``W``: a run resumes with another ``W``, and two
processes equal one process with the same micro-batch.  The learning rate is the
recipe's, unchanged, because the effective batch is (to change ``B``, scale the
learning rate linearly with it).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ContextManager, Iterator

from litetrack_ros.evaluation.ranks import RankError, torchrun_place
from litetrack_ros.model.head import HeadOutput
from litetrack_ros.model.litetrack import LiteTrack
import torch
from torch import distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Sampler


class DistributedSetupError(Exception):
    """The environment or the batch arguments do not make a valid distributed run."""


@dataclass(frozen=True)
class Place:
    """Where this process stands: rank among ``world_size``, its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device('cpu')

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes checkpoints, logs and evaluations."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether a process group is (to be) joined."""
        return self.world_size > 1


def process_device(requested: str, local_rank: int, world_size: int) -> torch.device:
    """Return this process's device: ``cuda:LOCAL_RANK`` for a CUDA run of several processes."""
    device = torch.device(requested)
    if device.type == 'cuda' and world_size > 1:
        if local_rank >= torch.cuda.device_count():
            raise DistributedSetupError(f'LOCAL_RANK {local_rank} but only '
                                        f'{torch.cuda.device_count()} CUDA device(s) here')
        device = torch.device('cuda', local_rank)
    if device.type == 'cuda':
        torch.cuda.set_device(device)
    return device


def init_distributed(requested_device: str, timeout_minutes: float = 60.0) -> Place:
    """Join torchrun's process group (nccl on CUDA, gloo on CPU); one process without it.

    ``timeout_minutes`` bounds how long ranks wait for each other, which includes
    rank 0's periodic evaluation while the others wait at a barrier.
    """
    try:
        rank, world, local = torchrun_place()
    except RankError as error:
        raise DistributedSetupError(str(error)) from error
    device = process_device(requested_device, local, world)
    if world > 1 and not dist.is_initialized():
        backend = 'nccl' if device.type == 'cuda' else 'gloo'
        dist.init_process_group(backend, timeout=timedelta(minutes=timeout_minutes),
                                **({'device_id': device} if backend == 'nccl' else {}))
    return Place(rank, world, local, device)


def shut_down(place: Place) -> None:
    """Leave the process group (no-op in one process)."""
    if place.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(place: Place) -> None:
    """Wait for every rank (no-op in one process)."""
    if place.distributed:
        dist.barrier()


def micro_batch_plan(batch_size: int, micro_batch: int | None, world_size: int) -> tuple[int, int]:
    """Return ``(micro_batch, accumulation_steps)`` that keep the effective batch ``batch_size``.

    Default micro-batch: ``batch_size / world_size`` (no accumulation).
    """
    if micro_batch is None:
        if batch_size % world_size:
            raise DistributedSetupError(
                f'--batch-size {batch_size} is not a multiple of the {world_size} processes; '
                'pick a --batch-size or --micro-batch that is')
        micro_batch = batch_size // world_size
    if micro_batch < 1 or batch_size % (micro_batch * world_size):
        raise DistributedSetupError(
            f'--batch-size {batch_size} must be a multiple of --micro-batch {micro_batch} x '
            f"{world_size} process(es), so that every optimiser step sees the recipe's batch")
    return micro_batch, batch_size // (micro_batch * world_size)


class RankBatches(Sampler[list[int]]):
    """This rank's micro-batches of dataset indices, from optimiser step ``start`` on.

    Step ``s`` owns indices ``s * batch .. (s + 1) * batch - 1``, cut into
    ``batch / micro`` micro-batches; rank ``r`` takes micro-batches ``r, r + W, ...``
    (``W`` = world size).  The pairs a step sees do not depend on ``W``.
    """

    def __init__(self, batch_size: int, micro_batch: int, rank: int, world_size: int,
                 start_step: int, steps: int) -> None:
        self.batch_size = batch_size
        self.micro_batch = micro_batch
        self.rank = rank
        self.world_size = world_size
        self.start_step = start_step
        self.steps = steps

    def __iter__(self) -> Iterator[list[int]]:
        slots = self.batch_size // self.micro_batch
        for step in range(self.start_step, self.steps):
            for slot in range(self.rank, slots, self.world_size):
                first = step * self.batch_size + slot * self.micro_batch
                yield list(range(first, first + self.micro_batch))

    def __len__(self) -> int:
        per_step = self.batch_size // self.micro_batch // self.world_size
        return max(0, self.steps - self.start_step) * per_step


class TrainStep(nn.Module):
    """The student and the distiller's trainable parts as one module, for DDP.

    DDP synchronises gradients of what runs through its ``forward``; the student
    is called through its methods (or through the distiller), so this module's
    forward is that call.  The teacher stays outside (frozen, in every rank).
    """

    def __init__(self, model: LiteTrack, distiller: nn.Module | None = None) -> None:
        super().__init__()
        self.model = model
        self.distiller = distiller

    def forward(self, batch: dict[str, torch.Tensor],
                step: int) -> tuple[HeadOutput, torch.Tensor | None]:
        """Return the student's maps and the distillation loss (None without a teacher)."""
        if self.distiller is None:
            state = self.model.encode_template(batch['template'], batch['template_box'])
            return self.model.track_search(state, batch['search']), None
        return self.distiller(self.model, batch, step)


def wrap(step_module: TrainStep, place: Place) -> nn.Module:
    """Wrap in DistributedDataParallel when several processes train (else unchanged)."""
    if not place.distributed:
        return step_module
    # Some parameters get no gradient: LiteTrack keeps the pre-trained ViT's cls_token
    # and pos_embed (resampled into the crops' embeddings), and the compress distiller
    # replaces whole student stages by the teacher's in some steps (the same ones in
    # every rank: same seed).  DDP must look for them after each forward.
    device_ids = [place.device.index] if place.device.type == 'cuda' else None
    return DistributedDataParallel(step_module, device_ids=device_ids,
                                   find_unused_parameters=True)


def no_sync(module: nn.Module, last: bool) -> ContextManager[Any]:
    """Skip DDP's gradient all-reduce on all but the last micro-batch of a step."""
    if isinstance(module, DistributedDataParallel) and not last:
        return module.no_sync()
    return nullcontext()


def mean_over_ranks(values: dict[str, float], place: Place) -> dict[str, float]:
    """Average logged numbers over the ranks (unchanged in one process)."""
    if not place.distributed or not values:
        return values
    names = sorted(values)
    tensor = torch.tensor([values[name] for name in names], dtype=torch.float64,
                          device=place.device if place.device.type == 'cuda' else 'cpu')
    dist.all_reduce(tensor)
    tensor /= place.world_size
    return dict(zip(names, tensor.tolist(), strict=True))
