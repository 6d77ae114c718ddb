# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Turn tracking results into metrics: a JSON report, a terminal table, plots.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot), so this
works headless and never touches a global backend setting.
"""

import json
import math
from pathlib import Path
from typing import Iterable, Mapping

from litetrack_ros.evaluation.datasets import Sequence
from litetrack_ros.evaluation.metrics import (
    aggregate,
    evaluate_sequence,
    NORM_PRECISION_THRESHOLDS,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
    TrackingMetrics,
)
from litetrack_ros.evaluation.runner import SequenceResult
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
import numpy as np

Results = Mapping[str, Mapping[str, SequenceResult]]

# (JSON key, table header, format) of the scalar columns of the table.
TABLE_COLUMNS = (
    ('auc', 'AUC', '{:.3f}'),
    ('precision_20', 'P@20', '{:.3f}'),
    ('norm_precision_20', 'NP@0.2', '{:.3f}'),
    ('mean_iou', 'mIoU', '{:.3f}'),
    ('ao', 'AO', '{:.3f}'),
    ('sr_50', 'SR0.5', '{:.3f}'),
    ('sr_75', 'SR0.75', '{:.3f}'),
    ('fps', 'fps', '{:.1f}'),
    ('num_frames', 'frames', '{:d}'),
)


def _finite_or_none(value: float | int) -> float | int | None:
    # JSON has no NaN: an undefined metric (no scored frame) becomes null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _clean(summary: Mapping[str, float | int]) -> dict[str, float | int | None]:
    return {key: _finite_or_none(value) for key, value in summary.items()}


def _curves(metrics: TrackingMetrics) -> dict[str, list[float | None]]:
    return {
        'success_curve': [_finite_or_none(float(v)) for v in metrics.success],
        'precision_curve': [_finite_or_none(float(v)) for v in metrics.precision],
        'norm_precision_curve': [_finite_or_none(float(v)) for v in metrics.norm_precision],
    }


def _fps(results: Iterable[SequenceResult]) -> float:
    results = list(results)
    frames = sum(result.tracked_frames for result in results)
    seconds = sum(result.tracking_time for result in results)
    return frames / seconds if seconds > 0 else float('nan')


def build_report(results: Results, sequences: Iterable[Sequence]) -> dict:
    """Score every tracker on every sequence and aggregate (see ``metrics.aggregate``).

    Returns a JSON-ready dict::

        {'protocol': {...}, 'sequences': [names],
         'trackers': {name: {'overall': {auc, precision_20, ..., fps, curves},
                             'sequences': {seq: {auc, ..., fps}}}}}
    """
    sequences = list(sequences)
    trackers = {}
    for tracker, per_sequence in results.items():
        sequence_metrics = {}
        sequence_entries = {}
        for sequence in sequences:
            if sequence.name not in per_sequence:
                continue
            result = per_sequence[sequence.name]
            metrics = evaluate_sequence(result.boxes, sequence.groundtruth)
            sequence_metrics[sequence.name] = metrics
            sequence_entries[sequence.name] = _clean({**metrics.summary(), 'fps': result.fps})
        overall = aggregate(list(sequence_metrics.values()))
        trackers[tracker] = {
            'overall': {
                **_clean({**overall.summary(), 'fps': _fps(per_sequence.values())}),
                # Sequences that count: those with at least one scored frame.
                'num_sequences': sum(m.num_frames > 0 for m in sequence_metrics.values()),
                **_curves(overall),
            },
            'sequences': sequence_entries,
        }
    return {
        'protocol': {
            'scored_frames': 'frames 2..N (frame 1 initialises), absent ground truth skipped',
            'success': 'fraction of frames with IoU > threshold (a perfect overlap succeeds '
                       'at every threshold); AUC = mean over the thresholds',
            'precision': 'fraction of frames with center error <= threshold (pixels)',
            'norm_precision': 'center error / ground-truth size (LaSOT) <= threshold',
            'aggregate': 'curves, AUC, precisions and mIoU averaged over sequences; '
                         'AO and SR pooled over frames (GOT-10k)',
            'fps': 'tracked frames / seconds in the tracker (image decoding excluded)',
            'success_thresholds': SUCCESS_THRESHOLDS.round(4).tolist(),
            'precision_thresholds': PRECISION_THRESHOLDS.tolist(),
            'norm_precision_thresholds': NORM_PRECISION_THRESHOLDS.round(4).tolist(),
        },
        'sequences': [sequence.name for sequence in sequences],
        'trackers': trackers,
    }


def write_json(report: dict, path: Path | str) -> None:
    """Write the report as strict JSON (undefined metrics are null)."""
    Path(path).write_text(json.dumps(report, indent=2, allow_nan=False) + '\n')


def _format_cell(value, template: str) -> str:
    return '-' if value is None else template.format(value)


def format_table(report: dict, per_sequence: bool = False) -> str:
    """Render the overall metrics (and optionally every sequence) as a text table."""
    header = ['tracker'] + [title for _, title, _ in TABLE_COLUMNS]
    rows = []
    for tracker, entry in report['trackers'].items():
        rows.append([tracker] + [_format_cell(entry['overall'].get(key), template)
                                 for key, _, template in TABLE_COLUMNS])
        if per_sequence:
            for sequence, values in entry['sequences'].items():
                rows.append([f'  {sequence}'] + [_format_cell(values.get(key), template)
                                                 for key, _, template in TABLE_COLUMNS])
    widths = [max(len(row[column]) for row in [header] + rows) for column in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return '  '.join([first] + rest)

    separator = '  '.join('-' * width for width in widths)
    return '\n'.join([line(header), separator] + [line(row) for row in rows])


def _plot(report: dict, path: Path | str, curve_key: str, thresholds: np.ndarray,
          score_key: str, score_label: str, title: str, xlabel: str) -> None:
    figure = Figure(figsize=(6.0, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    entries = [(name, entry['overall']) for name, entry in report['trackers'].items()]
    # Best tracker first in the legend, as in the OTB plots.
    entries.sort(key=lambda item: -(item[1].get(score_key) or 0.0))
    for name, overall in entries:
        curve = np.array([np.nan if v is None else v for v in overall[curve_key]], dtype=float)
        score = overall.get(score_key)
        label = f'{name} [{score_label} {score:.3f}]' if score is not None else f'{name} [n/a]'
        axes.plot(thresholds, curve, linewidth=2, label=label)
    count = len(report.get('sequences', []))
    plural = '' if count == 1 else 's'
    axes.set_title(f'{title} ({count} sequence{plural})')
    axes.set_xlabel(xlabel)
    axes.set_ylabel('fraction of frames')
    axes.set_xlim(thresholds[0], thresholds[-1])
    axes.set_ylim(0.0, 1.02)
    axes.grid(True, alpha=0.3)
    if entries:
        axes.legend(loc='lower left' if curve_key == 'success_curve' else 'lower right',
                    fontsize='small')
    figure.tight_layout()
    figure.savefig(str(path), format='png')


def plot_success(report: dict, path: Path | str) -> None:
    """Success plot (fraction of frames with IoU above each threshold), AUC in the legend."""
    _plot(report, path, 'success_curve', SUCCESS_THRESHOLDS, 'auc', 'AUC',
          'Success plot', 'overlap (IoU) threshold')


def plot_precision(report: dict, path: Path | str) -> None:
    """Precision plot (center error within each pixel threshold), P@20 in the legend."""
    _plot(report, path, 'precision_curve', PRECISION_THRESHOLDS, 'precision_20', 'P@20',
          'Precision plot', 'center error threshold (pixels)')
