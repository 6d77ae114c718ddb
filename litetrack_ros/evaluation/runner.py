# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Run trackers over sequences, store results in the toolkits' text formats, resume.

Result files (boxes ``x,y,w,h`` one line per frame, frame 1 = the initial box;
``nan`` where the tracker reported failure; times in seconds, one per frame):

* OTB / LaSOT / simple: ``<out>/<tracker>/<seq>.txt`` and ``<seq>_time.txt``;
* GOT-10k:              ``<out>/<tracker>/<seq>/<seq>_001.txt`` and ``<seq>_time.txt``;
* a random tracker (MIL) has one such set per seed under ``<out>/<tracker>/seed<N>/``.

``<out>/<tracker>/settings.json`` records what the tracker ran with (see
``settings.py``); it is written before any result.  A sequence whose result
files are complete (one row per frame to run) is loaded instead of rerun, so
an interrupted evaluation continues where it stopped, but only when the stored
settings equal the tracker's: otherwise the run stops with a
:class:`SettingsMismatchError` before anything runs (``overwrite`` deletes
the old results instead).  Files are written atomically, so a killed run
never leaves a truncated file that would pass for complete.
"""

from dataclasses import dataclass
import os
from pathlib import Path
import shutil
from time import perf_counter
from typing import Callable, Iterable
from typing import Sequence as SequenceOf

from litetrack_ros.evaluation.baselines import TrackerAdapter
from litetrack_ros.evaluation.datasets import DatasetError, GOT10K, read_boxes, Sequence
from litetrack_ros.evaluation.metrics import valid_boxes
from litetrack_ros.evaluation.settings import (
    read_settings,
    settings_differences,
    SETTINGS_FILE,
    SettingsMismatchError,
    tracker_settings,
    write_settings,
)
from litetrack_ros.tracking.geometry import validate_box
import numpy as np
from tqdm import tqdm


def median_fps(results: Iterable['SequenceResult']) -> float:
    """Return 1 / the median ``update`` time over frames 2..N of all ``results`` together.

    A median, not frames over total time, so that a few slow frames (first
    calls, a busy machine) do not set the figure.
    """
    times = [result.times[1:] for result in results]
    seconds = float(np.median(np.concatenate(times))) if sum(map(len, times)) else 0.0
    return 1.0 / seconds if seconds > 0 else float('nan')


@dataclass(frozen=True)
class SequenceResult:
    """Output of one tracker on one sequence (with one seed, for random trackers)."""

    tracker: str
    sequence: str
    boxes: np.ndarray  # (N, 4) xywh; row 0 is the initial box, NaN rows = no output
    times: np.ndarray  # (N,) seconds; times[0] is the initialisation
    resumed: bool = False  # loaded from an earlier run instead of computed
    seed: int | None = None  # None: a deterministic tracker

    @property
    def tracked_frames(self) -> int:
        """Frames after the initial one."""
        return max(0, len(self.times) - 1)

    @property
    def tracking_time(self) -> float:
        """Seconds spent in ``update`` (initialisation excluded)."""
        return float(np.sum(self.times[1:]))

    @property
    def fps(self) -> float:
        """1 / median seconds per ``update`` call (image decoding excluded)."""
        return median_fps([self])


def tracker_seeds(tracker: TrackerAdapter) -> tuple[int | None, ...]:
    """Return the seeds to run ``tracker`` with; ``(None,)`` for a deterministic one."""
    seeds = getattr(tracker, 'seeds', None)
    return tuple(seeds) if seeds else (None,)


def result_paths(out_dir: Path, tracker: str, sequence: Sequence,
                 seed: int | None = None) -> tuple[Path, Path]:
    """Return the (boxes, times) file paths of one tracker on one sequence (with one seed)."""
    folder = Path(out_dir) / tracker
    if seed is not None:
        folder = folder / f'seed{seed}'
    if sequence.layout == GOT10K:
        folder = folder / sequence.name
        return folder / f'{sequence.name}_001.txt', folder / f'{sequence.name}_time.txt'
    return folder / f'{sequence.name}.txt', folder / f'{sequence.name}_time.txt'


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + '.partial')
    partial.write_text(text)
    os.replace(partial, path)


def save_result(result: SequenceResult, box_path: Path, time_path: Path) -> None:
    """Write boxes (``%.3f``, comma separated) and per-frame times (one per line)."""
    box_lines = [','.join(f'{value:.3f}' for value in row) for row in result.boxes]
    time_lines = [f'{seconds:.6f}' for seconds in result.times]
    # Boxes last: their file is what marks the sequence as done.
    _write_atomically(time_path, '\n'.join(time_lines) + '\n')
    _write_atomically(box_path, '\n'.join(box_lines) + '\n')


def load_result(tracker: str, sequence: Sequence, box_path: Path, time_path: Path,
                expected_frames: int, seed: int | None = None) -> SequenceResult | None:
    """Load a stored result, or None when it is missing, unreadable or incomplete."""
    if not (box_path.is_file() and time_path.is_file()):
        return None
    try:
        boxes = read_boxes(box_path)
        times = np.array([float(line) for line in time_path.read_text().split()])
    except (DatasetError, ValueError):
        return None
    if len(boxes) != expected_frames or len(times) != expected_frames:
        return None
    return SequenceResult(tracker, sequence.name, boxes, times, resumed=True, seed=seed)


def frames_to_run(sequence: Sequence, max_frames: int | None) -> int:
    """Return how many frames of ``sequence`` a run covers (``max_frames`` caps it)."""
    return len(sequence) if max_frames is None else min(len(sequence), max_frames)


def run_sequence(tracker: TrackerAdapter, sequence: Sequence, max_frames: int | None = None,
                 on_frame: Callable[[], object] | None = None,
                 seed: int | None = None) -> SequenceResult:
    """Initialise ``tracker`` on frame 1's ground truth and track the following frames.

    Only the tracker calls are timed, not the image decoding.  ``on_frame`` is
    called after every frame (progress reporting).  ``seed`` goes to the
    tracker's ``set_seed`` before ``init`` (random trackers only).
    """
    count = frames_to_run(sequence, max_frames)
    init_box = sequence.groundtruth[0]
    if not valid_boxes(init_box)[0]:
        raise DatasetError(f'{sequence.name}: the first frame has no valid ground-truth box '
                           f'({init_box.tolist()}), cannot initialise')
    if seed is not None:
        tracker.set_seed(seed)
    boxes = np.full((count, 4), np.nan)
    times = np.zeros(count)
    for index in range(count):
        image = sequence.load_frame(index)
        start = perf_counter()
        if index == 0:
            try:  # the same check as Tracker.initialize, for every tracker
                validate_box(init_box, image.shape)
            except ValueError as error:  # e.g. a first box outside the image
                raise DatasetError(f'{sequence.name}: cannot initialise on the first frame '
                                   f'({image.shape[1]} x {image.shape[0]}): {error}') from None
            tracker.init(image, tuple(float(value) for value in init_box))
            box = init_box
        else:
            box = tracker.update(image)
        times[index] = perf_counter() - start
        if box is not None:
            boxes[index] = box
        if on_frame is not None:
            on_frame()
    return SequenceResult(tracker.name, sequence.name, boxes, times, seed=seed)


def check_tracker_name(name: str) -> None:
    """Raise ValueError unless ``name`` can be a folder under the output folder.

    It becomes ``<out>/<name>/`` (which ``overwrite`` may delete): no paths.
    """
    if not name or name in ('.', '..') or '/' in name or '\\' in name:
        raise ValueError(f'tracker name {name!r} cannot be a folder name: use letters, '
                         'digits, dots, dashes (name=...)')


def prepare_output(trackers: SequenceOf[TrackerAdapter], out_dir: Path,
                   overwrite: bool = False) -> None:
    """Check every tracker's stored settings, then write the current ones.

    A tracker folder that holds anything (results, or only settings) must have
    the same settings as the tracker (:func:`settings_differences`), or
    :class:`SettingsMismatchError` names the differing fields of every such
    tracker before anything is changed; with ``overwrite`` those folders are
    deleted instead.
    """
    conflicts = []
    for tracker in trackers:
        folder = out_dir / tracker.name
        settings = tracker_settings(tracker)
        if folder.is_dir() and any(folder.iterdir()):
            stored = read_settings(folder)
            if stored is None:
                differences = [f'no readable {SETTINGS_FILE} (made by an older litetrack-eval?)']
            else:
                differences = settings_differences(stored, settings)
            if differences:
                conflicts.append((tracker, folder, differences))
    if conflicts and not overwrite:
        lines = [f'{folder} holds results of other settings than tracker {tracker.name!r}: '
                 + '; '.join(differences) for tracker, folder, differences in conflicts]
        raise SettingsMismatchError(
            '\n'.join(lines) + '\nTo keep them, give the tracker another name (name=...) or '
            'use another --out; to delete them and rerun, pass --overwrite.')
    for _, folder, _ in conflicts:
        shutil.rmtree(folder)
    for tracker in trackers:
        write_settings(out_dir / tracker.name, tracker_settings(tracker))


def run_trackers(trackers: SequenceOf[TrackerAdapter], sequences: Iterable[Sequence],
                 out_dir: Path | str, max_frames: int | None = None, resume: bool = True,
                 progress: bool = True, overwrite: bool = False, prepared: bool = False,
                 ) -> dict[str, dict[str, tuple[SequenceResult, ...]]]:
    """Run every tracker on every sequence (once per seed), saving each result when done.

    Returns ``results[tracker_name][sequence_name]``: one ``SequenceResult``
    per seed (one for a deterministic tracker).  With ``resume``, sequences that
    already have complete result files under ``out_dir`` are loaded, not rerun.
    ``prepared``: :func:`prepare_output` has been called already (by the process
    that shares the sequences out, see ``ranks.py``).

    Raises:
        SettingsMismatchError: results stored under a tracker's name were made
            with other settings (and ``overwrite`` is false); see
            :func:`prepare_output`.
        ValueError: repeated or unusable tracker names, ``max_frames`` < 1.

    """
    names = [tracker.name for tracker in trackers]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f'tracker names must be unique, repeated: {", ".join(duplicates)} '
                         '(give one a name=... option)')
    for name in names:
        check_tracker_name(name)
    if max_frames is not None and max_frames < 1:
        raise ValueError(f'max_frames must be at least 1, got {max_frames}')
    out_dir = Path(out_dir)
    sequences = list(sequences)
    if not prepared:
        prepare_output(trackers, out_dir, overwrite)

    done: dict[tuple[str, str, int | None], SequenceResult] = {}
    pending: list[tuple[TrackerAdapter, Sequence, int | None, Path, Path]] = []
    for tracker in trackers:
        for seed in tracker_seeds(tracker):
            for sequence in sequences:
                box_path, time_path = result_paths(out_dir, tracker.name, sequence, seed)
                stored = load_result(tracker.name, sequence, box_path, time_path,
                                     frames_to_run(sequence, max_frames), seed) if resume else None
                if stored is not None:
                    done[tracker.name, sequence.name, seed] = stored
                else:
                    pending.append((tracker, sequence, seed, box_path, time_path))

    total = sum(frames_to_run(sequence, max_frames) for _, sequence, *_ in pending)
    with tqdm(total=total, unit='frame', disable=not progress or total == 0,
              dynamic_ncols=True) as bar:
        for tracker, sequence, seed, box_path, time_path in pending:
            label = '' if seed is None else f' seed {seed}'
            bar.set_description(f'{tracker.name} {sequence.name}{label}')
            result = run_sequence(tracker, sequence, max_frames, on_frame=lambda: bar.update(),
                                  seed=seed)
            save_result(result, box_path, time_path)
            done[tracker.name, sequence.name, seed] = result

    # Keep the order the trackers, seeds and sequences were given in, run or resumed.
    return {tracker.name: {sequence.name: tuple(done[tracker.name, sequence.name, seed]
                                                for seed in tracker_seeds(tracker))
                           for sequence in sequences}
            for tracker in trackers}
