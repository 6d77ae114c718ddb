# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Run trackers over sequences, store results in the toolkits' text formats, resume.

Result files (boxes ``x,y,w,h`` one line per frame, frame 1 = the initial box;
``nan`` where the tracker reported failure; times in seconds, one per frame):

* OTB / LaSOT / simple: ``<out>/<tracker>/<seq>.txt`` and ``<seq>_time.txt``;
* GOT-10k:              ``<out>/<tracker>/<seq>/<seq>_001.txt`` and ``<seq>_time.txt``.

A sequence whose result files are complete (one row per frame to run) is
loaded instead of rerun, so an interrupted evaluation continues where it
stopped.  Files are written atomically, so a killed run never leaves a
truncated file that would pass for complete.
"""

from dataclasses import dataclass
import os
from pathlib import Path
import time
from typing import Callable, Iterable
from typing import Sequence as SequenceOf

from litetrack_ros.evaluation.baselines import TrackerAdapter
from litetrack_ros.evaluation.datasets import DatasetError, GOT10K, read_boxes, Sequence
from litetrack_ros.evaluation.metrics import valid_boxes
import numpy as np
from tqdm import tqdm


@dataclass(frozen=True)
class SequenceResult:
    """Output of one tracker on one sequence."""

    tracker: str
    sequence: str
    boxes: np.ndarray  # (N, 4) xywh; row 0 is the initial box, NaN rows = no output
    times: np.ndarray  # (N,) seconds; times[0] is the initialisation
    resumed: bool = False  # loaded from an earlier run instead of computed

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
        """Tracked frames per second of ``update`` time (image decoding excluded)."""
        seconds = self.tracking_time
        return self.tracked_frames / seconds if seconds > 0 else float('nan')


def result_paths(out_dir: Path, tracker: str, sequence: Sequence) -> tuple[Path, Path]:
    """Return the (boxes, times) file paths of one tracker on one sequence."""
    folder = Path(out_dir) / tracker
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
                expected_frames: int) -> SequenceResult | None:
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
    return SequenceResult(tracker, sequence.name, boxes, times, resumed=True)


def frames_to_run(sequence: Sequence, max_frames: int | None) -> int:
    """Return how many frames of ``sequence`` a run covers (``max_frames`` caps it)."""
    return len(sequence) if max_frames is None else min(len(sequence), max_frames)


def run_sequence(tracker: TrackerAdapter, sequence: Sequence, max_frames: int | None = None,
                 on_frame: Callable[[], object] | None = None) -> SequenceResult:
    """Initialise ``tracker`` on frame 1's ground truth and track the following frames.

    Only the tracker calls are timed, not the image decoding.  ``on_frame`` is
    called after every frame (progress reporting).
    """
    count = frames_to_run(sequence, max_frames)
    init_box = sequence.groundtruth[0]
    if not valid_boxes(init_box)[0]:
        raise DatasetError(f'{sequence.name}: the first frame has no valid ground-truth box '
                           f'({init_box.tolist()}), cannot initialise')
    boxes = np.full((count, 4), np.nan)
    times = np.zeros(count)
    for index in range(count):
        image = sequence.load_frame(index)
        start = time.perf_counter()
        if index == 0:
            tracker.init(image, tuple(float(value) for value in init_box))
            box = init_box
        else:
            box = tracker.update(image)
        times[index] = time.perf_counter() - start
        if box is not None:
            boxes[index] = box
        if on_frame is not None:
            on_frame()
    return SequenceResult(tracker.name, sequence.name, boxes, times)


def run_trackers(trackers: SequenceOf[TrackerAdapter], sequences: Iterable[Sequence],
                 out_dir: Path | str, max_frames: int | None = None, resume: bool = True,
                 progress: bool = True) -> dict[str, dict[str, SequenceResult]]:
    """Run every tracker on every sequence, saving each result as soon as it is done.

    Returns ``results[tracker_name][sequence_name]``.  With ``resume``, sequences
    that already have complete result files under ``out_dir`` are loaded, not rerun.
    """
    names = [tracker.name for tracker in trackers]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f'tracker names must be unique, repeated: {", ".join(duplicates)} '
                         '(give one a name=... option)')
    if max_frames is not None and max_frames < 1:
        raise ValueError(f'max_frames must be at least 1, got {max_frames}')
    out_dir = Path(out_dir)
    sequences = list(sequences)

    results: dict[str, dict[str, SequenceResult]] = {name: {} for name in names}
    pending: list[tuple[TrackerAdapter, Sequence, Path, Path]] = []
    for tracker in trackers:
        for sequence in sequences:
            box_path, time_path = result_paths(out_dir, tracker.name, sequence)
            stored = load_result(tracker.name, sequence, box_path, time_path,
                                 frames_to_run(sequence, max_frames)) if resume else None
            if stored is not None:
                results[tracker.name][sequence.name] = stored
            else:
                pending.append((tracker, sequence, box_path, time_path))

    total = sum(frames_to_run(sequence, max_frames) for _, sequence, _, _ in pending)
    with tqdm(total=total, unit='frame', disable=not progress or total == 0,
              dynamic_ncols=True) as bar:
        for tracker, sequence, box_path, time_path in pending:
            bar.set_description(f'{tracker.name} {sequence.name}')
            result = run_sequence(tracker, sequence, max_frames, on_frame=lambda: bar.update())
            save_result(result, box_path, time_path)
            results[tracker.name][sequence.name] = result

    # Keep the order the sequences were given in, whether run or resumed.
    return {name: {sequence.name: per_sequence[sequence.name] for sequence in sequences}
            for name, per_sequence in results.items()}
