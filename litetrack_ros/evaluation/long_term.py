# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Long-term evaluation: does a tracker know the target is gone, and find it again.

``litetrack-eval DATASET --absent-frames N`` turns every sequence of any dataset into one
with an absent segment, as a robot sees it when its camera turns away: the first third
of the sequence, then ``N`` frames of another sequence of the dataset (resized to this
one's frame size; the target is absent), then the sequence again from ``N`` frames
later (the scene went on meanwhile, so the target has moved; with ``--absent-mirror``
mirrored left to right, so that it comes back on the other side of the frame, far from
where it was last seen). Frames the dataset itself
flags as absent (LaSOT's ``full_occlusion.txt``/``out_of_view.txt``, GOT-10k's
``absence.label``) count as absent too; ``--absent-frames 0`` uses those alone.

Every frame after the first is scored (pooled over all sequences):

* ``absent_reported``: share of absent frames the tracker reports as absent (LiteTrack:
  ``Tracker`` lost; an OpenCV tracker: no box);
* ``present_tracked``: share of present frames reported with IoU >= 0.5;
* VOT-LT's tracking precision (mean IoU over the frames with a reported box, 0 where the
  target is absent), recall (mean IoU over the frames with the target present, 0 where
  none is reported) and F-score, at the tracker's own decision, and ``f_max`` over
  thresholds on its confidence (VOT-LT's definition);
* recovery delay of each return (first present frame after an absent run): frames until
  the first one reported with IoU >= 0.5 (``None``: not recovered before the next absence
  or the end), with the distance of the return from where the target was last seen, in
  target sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import math
from pathlib import Path
from time import perf_counter
from typing import Any

import cv2
from litetrack_ros.evaluation.baselines import TrackerAdapter
from litetrack_ros.evaluation.datasets import DatasetError, GOT10K, LASOT, Sequence
from litetrack_ros.evaluation.metrics import iou, valid_boxes
import numpy as np

RESULTS_FILE = 'long_term.json'
TRACKED_IOU = 0.5
# A return counts as recovered in time within this many frames (the bar).
RECOVERY_BUDGET = 40
# Sequences shorter than this keep their frames (no inserted segment).
MIN_FRAMES_AROUND = 10


@dataclass(frozen=True)
class AbsentSequence(Sequence):
    """A sequence whose frames come from ``sources``: (sequence, frame index, mirrored).

    Frames of another size are resized to ``frame_hw``, mirrored ones flipped left to
    right; ``absent`` flags the frames without the target.
    """

    sources: tuple = ()
    absent: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    frame_hw: tuple[int, int] = (0, 0)

    def __len__(self) -> int:
        return len(self.sources)

    def load_frame(self, index: int) -> np.ndarray:
        """Read frame ``index`` (BGR), resized to the host sequence's frame size."""
        sequence, frame, mirrored = self.sources[index]
        image = sequence.load_frame(frame)
        if image.shape[:2] != self.frame_hw:
            image = cv2.resize(image, self.frame_hw[::-1], interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(image[:, ::-1]) if mirrored else image


def flagged_absent(sequence: Sequence) -> np.ndarray:
    """Frames the dataset itself marks absent (LaSOT and GOT-10k flags become NaN rows)."""
    if sequence.layout in (LASOT, GOT10K):
        return ~valid_boxes(sequence.groundtruth)
    return np.zeros(len(sequence), dtype=bool)


def with_absent_segment(sequence: Sequence, other: Sequence, absent_frames: int,
                        mirror: bool = False) -> AbsentSequence:
    """Insert ``absent_frames`` frames of ``other`` after the first third of ``sequence``.

    The sequence resumes ``absent_frames`` frames later than it left (fewer when it is
    too short for that, keeping at least 10 frames after the return), mirrored left to
    right with ``mirror`` (the target comes back on the other side of the frame); a
    sequence too short for any of it keeps its own frames only.
    """
    count = len(sequence)
    first = sequence.load_frame(0)
    own = [(sequence, index, False) for index in range(count)]
    absent = flagged_absent(sequence)
    truth = sequence.groundtruth
    leave = max(MIN_FRAMES_AROUND, count // 3)
    if absent_frames <= 0 or count < leave + 2 * MIN_FRAMES_AROUND:
        sources, flags, boxes = own, absent, truth
    else:
        resume = min(leave + absent_frames, count - MIN_FRAMES_AROUND)
        start = len(other) // 3
        inserted = [(other, (start + i) % len(other), False) for i in range(absent_frames)]
        after = truth[resume:].copy()
        if mirror:
            after[:, 0] = first.shape[1] - after[:, 0] - after[:, 2]
        sources = own[:leave] + inserted + [(sequence, index, mirror)
                                            for index in range(resume, count)]
        flags = np.concatenate((absent[:leave], np.ones(absent_frames, bool), absent[resume:]))
        boxes = np.concatenate((truth[:leave], np.full((absent_frames, 4), np.nan), after))
    return AbsentSequence(name=sequence.name, frame_paths=(), groundtruth=boxes,
                          layout=sequence.layout, path=sequence.path, sources=tuple(sources),
                          absent=flags, frame_hw=first.shape[:2])


def absent_segment_sequences(sequences: list[Sequence], absent_frames: int,
                             mirror: bool = False) -> list[AbsentSequence]:
    """Return each sequence with an absent segment of the next one's frames (module doc)."""
    if absent_frames < 0:
        raise ValueError(f'absent frames must be >= 0, got {absent_frames}')
    if absent_frames and len(sequences) < 2:
        raise DatasetError('--absent-frames needs at least two sequences (the frames shown '
                           'while the target is away come from another one)')
    return [with_absent_segment(sequence, sequences[(i + 1) % len(sequences)], absent_frames,
                                mirror) for i, sequence in enumerate(sequences)]


@dataclass(frozen=True)
class LongTermRun:
    """One tracker on one sequence: per frame its box, whether it reported one, confidence."""

    boxes: np.ndarray  # (N, 4); row 0 the initial box
    reported: np.ndarray  # (N,) bool: the tracker says the target is there
    confidence: np.ndarray  # (N,) float
    times: np.ndarray  # (N,) seconds per call


def run_long_term_sequence(tracker: TrackerAdapter, sequence: AbsentSequence) -> LongTermRun:
    """Initialise on frame 1's box and track; read each frame's absent/present decision."""
    count = len(sequence)
    init_box = sequence.groundtruth[0]
    if not valid_boxes(init_box)[0]:
        raise DatasetError(f'{sequence.name}: the first frame has no valid box')
    seeds = getattr(tracker, 'seeds', None)
    if seeds:  # a random tracker: its first seed, as the usual benchmark's first run
        tracker.set_seed(0)
    boxes = np.full((count, 4), np.nan)
    reported = np.zeros(count, dtype=bool)
    confidence = np.zeros(count)
    times = np.zeros(count)
    for index in range(count):
        image = sequence.load_frame(index)
        start = perf_counter()
        if index == 0:
            tracker.init(image, tuple(float(v) for v in init_box))
            box = tuple(init_box)
        else:
            box = tracker.update(image)
        times[index] = perf_counter() - start
        lost = bool(getattr(tracker, 'last_lost', False))
        if box is not None:
            boxes[index] = box
        reported[index] = box is not None and not lost
        score = getattr(tracker, 'last_confidence', None)
        confidence[index] = float(reported[index]) if score is None or math.isnan(score) \
            else float(score)
    return LongTermRun(boxes, reported, confidence, times)


def returns(absent: np.ndarray) -> list[int]:
    """Return the indices of the first present frame after each run of absent frames."""
    return [i for i in range(1, len(absent)) if absent[i - 1] and not absent[i]]


def recovery(sequence: AbsentSequence, run: LongTermRun, overlaps: np.ndarray) -> list[dict]:
    """Per return: frames until tracked again (None: never) and its distance in target sizes."""
    found = run.reported & (overlaps >= TRACKED_IOU)
    entries = []
    for start in returns(sequence.absent):
        stop = start
        while stop < len(found) and not sequence.absent[stop]:
            stop += 1
        hits = np.flatnonzero(found[start:stop])
        seen = ~sequence.absent[:start] & valid_boxes(sequence.groundtruth[:start])
        before = np.flatnonzero(seen)
        distance = None
        if len(before):
            last, back = sequence.groundtruth[before[-1]], sequence.groundtruth[start]
            size = math.sqrt(max(last[2] * last[3], 1e-9))
            shift = (back[:2] + back[2:] / 2) - (last[:2] + last[2:] / 2)
            distance = float(np.hypot(*shift) / size)
        entries.append({'frame': int(start), 'delay': int(hits[0]) if len(hits) else None,
                        'distance': distance})
    return entries


def vot_lt(overlaps: np.ndarray, reported: np.ndarray, present: np.ndarray) -> tuple[float, float]:
    """VOT-LT tracking precision and recall of one decision per frame."""
    precision = float(overlaps[reported].mean()) if reported.any() else 0.0
    recall = float(np.where(reported, overlaps, 0.0)[present].mean()) if present.any() else 0.0
    return precision, recall


def f_score(precision: float, recall: float) -> float:
    """Harmonic mean of precision and recall (0 when both are 0)."""
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def summarise(pairs: list[tuple[AbsentSequence, LongTermRun]]) -> dict[str, Any]:
    """Return the long-term metrics of one tracker over its sequences (frames pooled)."""
    overlaps, reported, present, confidence, absent, returns_list, per_sequence = \
        [], [], [], [], [], [], {}
    times = []
    for sequence, run in pairs:
        overlap = iou(run.boxes, sequence.groundtruth)
        frames = slice(1, None)  # frame 1 initialises
        is_present = ~sequence.absent & valid_boxes(sequence.groundtruth)
        overlaps.append(overlap[frames])
        reported.append(run.reported[frames])
        present.append(is_present[frames])
        absent.append(sequence.absent[frames])
        confidence.append(run.confidence[frames])
        times.append(run.times[frames])
        entries = recovery(sequence, run, overlap)
        returns_list.extend(entries)
        per_sequence[sequence.name] = {
            'absent_reported': _share(~run.reported[frames], sequence.absent[frames]),
            'present_tracked': _share(run.reported[frames] & (overlap[frames] >= TRACKED_IOU),
                                      is_present[frames]),
            'returns': entries}
    overlap, report, here, gone, score = (np.concatenate(values) for values in
                                          (overlaps, reported, present, absent, confidence))
    precision, recall = vot_lt(overlap, report, here)
    thresholds = np.unique(score)
    f_max = max((f_score(*vot_lt(overlap, score >= tau, here)) for tau in thresholds),
                default=0.0)
    delays = [entry['delay'] for entry in returns_list]
    recovered = [delay for delay in delays if delay is not None]
    seconds = np.concatenate(times)
    return {
        'frames': int(len(overlap)), 'absent_frames': int(gone.sum()),
        'absent_reported': _share(~report, gone),
        'present_tracked': _share(report & (overlap >= TRACKED_IOU), here),
        'precision': precision, 'recall': recall, 'f_score': f_score(precision, recall),
        'f_max': float(f_max),
        'returns': len(delays),
        'recovered_within_budget': sum(delay <= RECOVERY_BUDGET for delay in recovered),
        'never_recovered': len(delays) - len(recovered),
        'mean_recovery_delay': float(np.mean(recovered)) if recovered else None,
        'max_recovery_delay': max(recovered) if recovered else None,
        'median_ms_present': _median_ms(seconds[here]),
        'median_ms_absent': _median_ms(seconds[gone]),
        'sequences': per_sequence,
    }


def _share(hits: np.ndarray, over: np.ndarray) -> float | None:
    return float(hits[over].mean()) if over.any() else None


def _median_ms(seconds: np.ndarray) -> float | None:
    return float(np.median(seconds) * 1000) if len(seconds) else None


def format_long_term(report: dict[str, Any]) -> str:
    """Return a plain-text table of the long-term metrics, one row per tracker."""
    def cell(value: Any, digits: int = 3) -> str:
        if value is None:
            return '-'
        return f'{value:.{digits}f}' if isinstance(value, float) else str(value)

    header = ('tracker', 'absent reported', 'present tracked', 'Pr', 'Re', 'F', 'F max',
              f'recovered <= {RECOVERY_BUDGET}', 'never', 'mean delay', 'ms present',
              'ms absent')
    rows = [header]
    for name, entry in report['trackers'].items():
        rows.append((name, cell(entry['absent_reported']), cell(entry['present_tracked']),
                     cell(entry['precision']), cell(entry['recall']), cell(entry['f_score']),
                     cell(entry['f_max']),
                     f"{entry['recovered_within_budget']}/{entry['returns']}",
                     str(entry['never_recovered']), cell(entry['mean_recovery_delay'], 1),
                     cell(entry['median_ms_present'], 2), cell(entry['median_ms_absent'], 2)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return '\n'.join('  '.join(text.ljust(width) for text, width in zip(row, widths, strict=True))
                     for row in rows)


def evaluate_long_term(trackers: list[TrackerAdapter], sequences: list[Sequence],
                       absent_frames: int, out_dir: Path,
                       settings: dict[str, Any] | None = None,
                       mirror: bool = False) -> dict[str, Any]:
    """Run every tracker on the absent-segment sequences; write ``long_term.json``."""
    built = absent_segment_sequences(sequences, absent_frames, mirror)
    if not any(sequence.absent.any() for sequence in built):
        raise DatasetError('no absent frame: the dataset flags none and --absent-frames is 0 '
                           '(or every sequence is too short for a segment)')
    report: dict[str, Any] = {'absent_frames': absent_frames, 'mirrored_return': mirror,
                              'tracked_iou': TRACKED_IOU,
                              'recovery_budget': RECOVERY_BUDGET, 'trackers': {}}
    for tracker in trackers:
        pairs = [(sequence, run_long_term_sequence(tracker, sequence)) for sequence in built]
        entry = summarise(pairs)
        if settings is not None:
            entry['settings'] = settings.get(tracker.name)
        report['trackers'][tracker.name] = entry
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / RESULTS_FILE).write_text(json.dumps(report, indent=2) + '\n')
    return report
