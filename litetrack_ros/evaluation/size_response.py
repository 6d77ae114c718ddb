# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""How far a tracker corrects a wrong box size in one frame (``litetrack-eval --size-response``).

A tracker cuts each search region around its previous box, so a size error feeds the
next frame. This measures the network's answer to such an error: on sampled frames of
a dataset the search region is cut around the true box with its sides scaled by ``s``
(centre kept), and the reported box is compared with the truth:

* ``median_ratio[s]``: median of ``sqrt(area_reported / area_true)``; 1 at every ``s``
  means the size is found from the image alone, ``s`` means the error is kept;
* ``kept``: the least-squares slope of ``log ratio`` against ``log s``, the share of a
  size error (in log) that survives one frame (0: corrected at once, 1: kept);
* ``noise``: at ``s = 1``, the standard deviation over frames of ``log(w_reported /
  w_true)`` and of the same for ``h``, averaged: the per-frame size noise that the
  kept share integrates into drift.

The tracker runs as configured (window, penalty, size update rate); give the tracker
spec ``size_update_rate=1,scale_penalty_k=0,score_weighted_size_update=0`` to measure
the network alone. Frames are sampled evenly from frame 2 on; the template is the
first frame's, as in tracking.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
import math
from typing import Any, Iterable
from typing import Sequence as SequenceOf

from litetrack_ros.evaluation.datasets import Sequence
import numpy as np

DEFAULT_SCALES = (0.5, 0.7, 1.0, 1.4, 2.0)
DEFAULT_FRAMES_PER_SEQUENCE = 25


@dataclass(frozen=True)
class SizeResponse:
    """Result of :func:`measure_size_response` (see the module docstring)."""

    scales: tuple[float, ...]
    median_ratio: tuple[float, ...]
    kept: float
    noise: float
    frames: int

    def as_dict(self) -> dict[str, Any]:
        """Plain containers, for JSON."""
        return asdict(self)


def _scaled_about_centre(box: np.ndarray, scale: float) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in box)
    return (x + w * (1 - scale) / 2, y + h * (1 - scale) / 2, w * scale, h * scale)


def check_scales(scales: SequenceOf[float]) -> tuple[float, ...]:
    """Return the scales as floats; raise ValueError unless all are positive and 1 is one."""
    scales = tuple(float(s) for s in scales)
    if not scales or min(scales) <= 0 or 1.0 not in scales:
        raise ValueError(f'scales must be positive and include 1, got {scales}')
    return scales


def sample_frames(length: int, count: int) -> list[int]:
    """Up to ``count`` evenly spaced frame indices from 1 to ``length - 1`` (0 initialises)."""
    if length < 2 or count < 1:
        return []
    return sorted({round(float(i)) for i in np.linspace(1, length - 1, min(count, length - 1))})


def measure_size_response(tracker: Any, sequences: Iterable[Sequence],
                          scales: SequenceOf[float] = DEFAULT_SCALES,
                          frames_per_sequence: int = DEFAULT_FRAMES_PER_SEQUENCE
                          ) -> SizeResponse:
    """Measure a tracker's size response (module docstring).

    Args:
        tracker: object with ``init(bgr, box)`` and ``predict_at(bgr, box) ->
            (box, confidence)``, as :class:`litetrack_ros.evaluation.baselines.LiteTrackAdapter`
            (BGR frames, as the sequences load them).
        sequences: annotated sequences; frames without a true box are skipped.
        scales: factors applied to the true box's sides; must include 1.
        frames_per_sequence: frames sampled per sequence.

    Raises:
        ValueError: a scale is not positive, 1 is missing, or no frame had a true box.

    """
    scales = check_scales(scales)
    log_ratio: dict[float, list[float]] = {s: [] for s in scales}
    log_w: list[float] = []
    log_h: list[float] = []
    for sequence in sequences:
        truth = sequence.groundtruth
        if len(sequence) < 2 or not np.all(np.isfinite(truth[0])):
            continue
        tracker.init(sequence.load_frame(0), tuple(truth[0]))
        for index in sample_frames(len(sequence), frames_per_sequence):
            box = truth[index]
            if not np.all(np.isfinite(box)) or min(box[2], box[3]) < 2:
                continue
            image = sequence.load_frame(index)
            for scale in scales:
                found, _ = tracker.predict_at(image, _scaled_about_centre(box, scale))
                w, h = float(found[2]) / box[2], float(found[3]) / box[3]
                log_ratio[scale].append(0.5 * math.log(w * h))
                if scale == 1.0:
                    log_w.append(math.log(w))
                    log_h.append(math.log(h))
    frames = len(log_w)
    if frames == 0:
        raise ValueError('no frame with a true box to measure the size response on')
    xs = np.concatenate([np.full(len(log_ratio[s]), math.log(s)) for s in scales])
    ys = np.concatenate([np.asarray(log_ratio[s]) for s in scales])
    spread = float(np.sum((xs - xs.mean()) ** 2))
    kept = float(np.sum((xs - xs.mean()) * (ys - ys.mean())) / spread) if spread else float('nan')
    return SizeResponse(
        scales=scales,
        median_ratio=tuple(float(math.exp(np.median(log_ratio[s]))) for s in scales),
        kept=kept,
        noise=float((np.std(log_w) + np.std(log_h)) / 2),
        frames=frames,
    )


def format_size_response(responses: dict[str, SizeResponse]) -> str:
    """Format a table: per tracker the median ratio per scale, the kept share and noise."""
    if not responses:
        return ''
    scales = next(iter(responses.values())).scales
    width = max(len('tracker'), *(len(name) for name in responses))
    header = [f'{"tracker":<{width}}', *(f's={s:g}'.rjust(7) for s in scales),
              '   kept', '  noise', ' frames']
    lines = [' '.join(header), '-' * len(' '.join(header))]
    for name, response in responses.items():
        cells = [f'{name:<{width}}', *(f'{r:7.2f}' for r in response.median_ratio),
                 f'{response.kept:7.2f}', f'{response.noise:7.3f}', f'{response.frames:7d}']
        lines.append(' '.join(cells))
    return '\n'.join(lines)
