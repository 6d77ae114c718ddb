# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""``litetrack-pseudo-label``: training pairs from unlabelled video, labelled by a teacher.

A teacher tracker (any ``litetrack-eval --tracker`` spec) follows one object from a given
box in short horizons.  A horizon becomes a training segment only when

* the teacher stays confident on every frame (``--min-confidence``; trackers that report
  no score, such as OpenCV's, must at least not report a failure), and
* a forward-backward check agrees: tracking back from the horizon's last box to its first
  frame lands within ``--min-iou`` IoU of the start box.

Accepted horizons chain (the next starts from the last accepted box); the first rejected
one ends the chain, because the teacher's box can no longer be trusted.  Teachers drift
on long sequences, hence short horizons.  Segments are written in the simple layout
(``OUT/<name>_<start>/img/*.jpg`` + ``groundtruth.txt``) for ``litetrack-train --data
simple=OUT``, with ``OUT/pseudo_labels.json`` describing every horizon.

Example::

    litetrack-pseudo-label robot_run.mp4 --box 210,80,64,90 --out data/pseudo \\
        --tracker litetrack:weights=B9.pth.tar --horizon 30
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
import json
import math
from pathlib import Path
import sys
from typing import Iterator, Sequence

import cv2
from litetrack_ros.images.frame_reader import FrameSourceError, open_frames
import numpy as np

PROG = 'litetrack-pseudo-label'
Box = tuple[float, float, float, float]


def iou_xywh(a: Sequence[float], b: Sequence[float]) -> float:
    """Return the IoU of two (x, y, w, h) boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(width, 0.0) * max(height, 0.0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Horizon:
    """One checked horizon: frames ``start`` .. ``start + len(boxes) - 1``."""

    start: int
    boxes: list[Box]
    min_confidence: float  # nan when the tracker reports no score
    backward_iou: float
    accepted: bool
    reason: str


def _track(tracker, frames: Sequence[np.ndarray], box: Sequence[float],
           min_confidence: float) -> tuple[list[Box] | None, float, str]:
    """Track from ``box`` on frames[0]; None with a reason once the teacher is not sure."""
    tracker.init(frames[0], box)
    boxes: list[Box] = [tuple(float(v) for v in box)]
    lowest = math.nan
    for index, frame in enumerate(frames[1:], start=1):
        found = tracker.update(frame)
        if found is None:
            return None, lowest, f'teacher lost the target at frame +{index}'
        confidence = getattr(tracker, 'last_confidence', math.nan)
        if not math.isnan(confidence):
            lowest = confidence if math.isnan(lowest) else min(lowest, confidence)
            if confidence < min_confidence:
                return None, lowest, f'confidence {confidence:.2f} at frame +{index}'
        if not all(math.isfinite(v) for v in found) or found[2] <= 0 or found[3] <= 0:
            return None, lowest, f'degenerate box at frame +{index}'
        boxes.append(tuple(float(v) for v in found))
    return boxes, lowest, ''


def check_horizon(tracker, frames: Sequence[np.ndarray], box: Sequence[float], start: int,
                  min_confidence: float = 0.5, min_iou: float = 0.7) -> Horizon:
    """Track forward over ``frames`` from ``box``, then back; accept when both agree."""
    forward, lowest, reason = _track(tracker, frames, box, min_confidence)
    if forward is None:
        return Horizon(start, [], lowest, math.nan, False, reason)
    backward, back_lowest, reason = _track(tracker, frames[::-1], forward[-1], min_confidence)
    if backward is None:
        return Horizon(start, forward, lowest, math.nan, False, 'backward: ' + reason)
    if not math.isnan(back_lowest):
        lowest = back_lowest if math.isnan(lowest) else min(lowest, back_lowest)
    agreement = iou_xywh(backward[-1], box)
    if agreement < min_iou:
        return Horizon(start, forward, lowest, agreement, False,
                       f'forward-backward IoU {agreement:.2f} < {min_iou}')
    return Horizon(start, forward, lowest, agreement, True, '')


def horizons(frames: Iterator[tuple[int, np.ndarray]], length: int,
             start: int = 0) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Yield (first index, frames) of consecutive horizons that share their end frames."""
    window: list[np.ndarray] = []
    first = start
    for index, frame in frames:
        if index < start:
            continue
        window.append(frame)
        if len(window) == length:
            yield first, window
            first, window = index, [frame]
    if len(window) > 1:
        yield first, window


def write_segment(folder: Path, frames: Sequence[np.ndarray], boxes: Sequence[Box]) -> None:
    """Write frames and boxes in the simple layout (img/ + groundtruth.txt)."""
    (folder / 'img').mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        if not cv2.imwrite(str(folder / 'img' / f'{index + 1:08d}.jpg'), frame):
            raise OSError(f'cannot write {folder / "img"}')
    (folder / 'groundtruth.txt').write_text(
        ''.join(','.join(f'{v:.2f}' for v in box) + '\n' for box in boxes))


def pseudo_label(frames: Iterator[tuple[int, np.ndarray]], box: Sequence[float], tracker,
                 out: Path, name: str, horizon: int = 30, start: int = 0,
                 min_confidence: float = 0.5, min_iou: float = 0.7,
                 max_segments: int | None = None) -> list[Horizon]:
    """Label a video from ``box`` on frame ``start``; returns every checked horizon.

    Accepted horizons are written to ``out/<name>_<start:06d>/``.
    """
    if horizon < 2:
        raise ValueError(f'horizon must be at least 2 frames, got {horizon}')
    checked: list[Horizon] = []
    current = tuple(float(v) for v in box)
    limit = max_segments if max_segments is not None else math.inf
    for first, window in horizons(frames, horizon, start):
        result = check_horizon(tracker, window, current, first, min_confidence, min_iou)
        checked.append(result)
        if not result.accepted:
            break
        write_segment(out / f'{name}_{first:06d}', window, result.boxes)
        current = result.boxes[-1]
        if sum(h.accepted for h in checked) >= limit:
            break
    return checked


def parse_box(text: str) -> Box:
    """Parse ``x,y,w,h`` (pixels) with positive w and h."""
    try:
        values = tuple(float(v) for v in text.split(','))
    except ValueError:
        values = ()
    if len(values) != 4 or not all(map(math.isfinite, values)) or min(values[2:]) <= 0:
        raise argparse.ArgumentTypeError(f'expected x,y,w,h with w, h > 0, got {text!r}')
    return values  # type: ignore[return-value]


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('video', help='video file or image folder')
    parser.add_argument('--box', type=parse_box, required=True,
                        help='x,y,w,h of the object on the --start frame (pixels)')
    parser.add_argument('--start', type=int, default=0, help='frame of --box (0)')
    parser.add_argument('--out', type=Path, required=True, help='output folder (simple layout)')
    parser.add_argument('--tracker', default='litetrack',
                        help='teacher, as litetrack-eval --tracker (litetrack:weights=PATH, '
                             'vit:net=PATH, nano:backbone=..,head=..; default: litetrack)')
    parser.add_argument('--horizon', type=int, default=30, help='frames per segment (30)')
    parser.add_argument('--min-confidence', type=float, default=0.5,
                        help='lowest teacher score allowed in a segment (0.5)')
    parser.add_argument('--min-iou', type=float, default=0.7,
                        help='forward-backward IoU needed to keep a segment (0.7)')
    parser.add_argument('--max-segments', type=int, default=None)
    parser.add_argument('--name', default=None, help='segment name prefix (the video name)')
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``litetrack-pseudo-label``; returns the exit status."""
    args = build_parser().parse_args(argv)
    # The evaluation tools are imported on use, as litetrack-train's eval hook does.
    from litetrack_ros.evaluation import baselines  # noqa: PLC0415
    from litetrack_ros.evaluation.cli import parse_tracker_spec, UsageError  # noqa: PLC0415
    try:
        if args.horizon < 2:
            raise ValueError(f'--horizon must be at least 2, got {args.horizon}')
        kind, options = parse_tracker_spec(args.tracker)
        tracker = baselines.create_tracker(kind, **options)
        frames = open_frames(args.video)
    except (baselines.TrackerSetupError, UsageError, ValueError, FileNotFoundError,
            FrameSourceError) as error:
        print(f'{PROG}: error: {error}', file=sys.stderr)
        return 2
    name = args.name or Path(args.video).stem
    args.out.mkdir(parents=True, exist_ok=True)
    checked = pseudo_label(frames, args.box, tracker, args.out, name, args.horizon, args.start,
                           args.min_confidence, args.min_iou, args.max_segments)
    summary = {'video': str(args.video), 'tracker': args.tracker, 'horizon': args.horizon,
               'min_confidence': args.min_confidence, 'min_iou': args.min_iou,
               'horizons': [{**asdict(h), 'boxes': len(h.boxes)} for h in checked]}
    (args.out / 'pseudo_labels.json').write_text(json.dumps(summary, indent=1) + '\n')
    accepted = [h for h in checked if h.accepted]
    frames_kept = sum(len(h.boxes) for h in accepted)
    ending = f'; stopped at frame {checked[-1].start}: {checked[-1].reason}' \
        if checked and not checked[-1].accepted else ''
    print(f'{PROG}: {len(accepted)} segment(s), {frames_kept} frames in {args.out}{ending}',
          file=sys.stderr)
    return 0 if accepted else 1


if __name__ == '__main__':
    sys.exit(main())
