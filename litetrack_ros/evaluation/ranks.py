# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Sharing work between processes: torchrun's ranks, and sequences split over shards.

``litetrack-eval --workers N`` runs its sequences in N local processes;
under ``torchrun`` (``RANK``/``WORLD_SIZE`` set, one or several machines) each rank
runs its share and rank 0 gathers the results (torch.distributed, gloo) and
writes ``results.json``.  Either way the split is deterministic
(:func:`split_sequences`), every result file is written by the process that ran
it, and the report is built once from all results in the dataset's order, so it
equals a one-process run's (timings aside).  The training side
(``train/distributed.py``) reads the same environment through
:func:`torchrun_place`.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
import multiprocessing
import os
from pathlib import Path
from typing import Callable
from typing import Sequence as SequenceOf

from litetrack_ros.evaluation.baselines import TrackerAdapter
from litetrack_ros.evaluation.datasets import Sequence
from litetrack_ros.evaluation.runner import prepare_output, run_trackers, SequenceResult
from litetrack_ros.evaluation.settings import SettingsMismatchError

Results = dict[str, dict[str, tuple[SequenceResult, ...]]]
TrackerFactory = Callable[[], list[TrackerAdapter]]


class RankError(Exception):
    """torchrun's environment variables do not describe a valid process."""


def torchrun_place(environ: dict[str, str] | None = None) -> tuple[int, int, int]:
    """Return ``(rank, world_size, local_rank)`` from torchrun's variables (0, 1, 0 without)."""
    environ = os.environ if environ is None else environ
    try:
        rank = int(environ.get('RANK', '0'))
        world = int(environ.get('WORLD_SIZE', '1'))
        local = int(environ.get('LOCAL_RANK', str(rank)))
    except ValueError as error:
        raise RankError(f'bad torchrun environment: {error}') from error
    if world < 1 or not 0 <= rank < world or local < 0:
        raise RankError(f'bad torchrun environment: RANK={rank}, WORLD_SIZE={world}, '
                        f'LOCAL_RANK={local}')
    return rank, world, local


def use_local_gpu(local_rank: int) -> None:
    """Make ``cuda`` mean this rank's GPU (``cuda:LOCAL_RANK``), when there is one."""
    import torch  # noqa: PLC0415 - only under torchrun

    if torch.cuda.is_available() and local_rank < torch.cuda.device_count():
        torch.cuda.set_device(local_rank)


def split_sequences(sequences: SequenceOf[Sequence], shards: int) -> list[list[Sequence]]:
    """Split ``sequences`` into ``shards`` lists of about equal frame counts.

    Longest first, each to the shard with the fewest frames so far (ties: the
    lower shard); every shard keeps the dataset's order.  Deterministic: it
    depends only on the names and lengths.
    """
    if shards < 1:
        raise ValueError(f'shards must be at least 1, got {shards}')
    loads = [0] * shards
    owner: dict[str, int] = {}
    for sequence in sorted(sequences, key=lambda s: (-len(s), s.name)):
        shard = min(range(shards), key=lambda i: (loads[i], i))
        owner[sequence.name] = shard
        loads[shard] += len(sequence)
    return [[s for s in sequences if owner[s.name] == shard] for shard in range(shards)]


def merge_results(parts: list[Results], trackers: SequenceOf[str],
                  sequences: SequenceOf[Sequence]) -> Results:
    """Join the shards' results in the trackers' and the dataset's order."""
    found: dict[tuple[str, str], tuple[SequenceResult, ...]] = {}
    for part in parts:
        for tracker, per_sequence in part.items():
            for name, runs in per_sequence.items():
                found[tracker, name] = runs
    return {tracker: {s.name: found[tracker, s.name] for s in sequences} for tracker in trackers}


def _run_shard(make_trackers: TrackerFactory, sequences: list[Sequence], out_dir: Path,
               max_frames: int | None, resume: bool, progress: bool, threads: int) -> Results:
    """Run in a worker process: build the trackers there, run its sequences."""
    import torch  # noqa: PLC0415 - only the workers need it here

    torch.set_num_threads(threads)
    return run_trackers(make_trackers(), sequences, out_dir, max_frames=max_frames,
                        resume=resume, progress=progress, prepared=True)


def run_in_workers(trackers: SequenceOf[TrackerAdapter], make_trackers: TrackerFactory,
                   sequences: SequenceOf[Sequence], out_dir: Path, workers: int,
                   max_frames: int | None = None, resume: bool = True, progress: bool = True,
                   overwrite: bool = False) -> Results:
    """Run the sequences in ``workers`` local processes (each builds its own trackers).

    ``trackers`` (built here) set the output folder up once; ``make_trackers``
    (picklable) builds the same trackers in each worker.  Each worker gets an
    equal share of the CPU threads.
    """
    prepare_output(trackers, out_dir, overwrite)
    parts = [part for part in split_sequences(sequences, workers) if part]
    threads = max(1, (os.cpu_count() or 1) // len(parts)) if parts else 1
    context = multiprocessing.get_context('spawn')  # no fork of a process holding torch threads
    with ProcessPoolExecutor(max_workers=max(1, len(parts)), mp_context=context) as pool:
        futures = [pool.submit(_run_shard, make_trackers, part, out_dir, max_frames, resume,
                               progress and index == 0, threads)
                   for index, part in enumerate(parts)]
        results = [future.result() for future in futures]
    return merge_results(results, [t.name for t in trackers], sequences)


def run_as_rank(trackers: SequenceOf[TrackerAdapter], sequences: SequenceOf[Sequence],
                out_dir: Path, rank: int, world_size: int, max_frames: int | None = None,
                resume: bool = True, progress: bool = True, overwrite: bool = False,
                timeout_minutes: float = 600.0) -> Results | None:
    """Run this torchrun rank's share; rank 0 returns everyone's results, the others None.

    Rank 0 checks and prepares the output folder (a settings mismatch stops every
    rank with the same error); the results travel to rank 0 over gloo.
    """
    from torch import distributed as dist  # noqa: PLC0415 - only under torchrun

    own_group = not dist.is_initialized()
    if own_group:
        dist.init_process_group('gloo', timeout=timedelta(minutes=timeout_minutes))
    try:
        error = [None]
        if rank == 0:
            try:
                prepare_output(trackers, out_dir, overwrite)
            except SettingsMismatchError as mismatch:
                error = [str(mismatch)]
        dist.broadcast_object_list(error, src=0)
        if error[0] is not None:
            raise SettingsMismatchError(error[0])
        part = split_sequences(sequences, world_size)[rank]
        mine = run_trackers(trackers, part, out_dir, max_frames=max_frames, resume=resume,
                            progress=progress and rank == 0, prepared=True)
        gathered: list[Results | None] = [None] * world_size
        dist.gather_object(mine, gathered if rank == 0 else None, dst=0)
    finally:
        if own_group:
            dist.destroy_process_group()
    if rank != 0:
        return None
    return merge_results([p for p in gathered if p is not None], [t.name for t in trackers],
                         sequences)
