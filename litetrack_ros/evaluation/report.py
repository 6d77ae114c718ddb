# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Turn tracking results into metrics: a JSON report, a terminal table, plots.

A random tracker run with several seeds is scored per seed, then reported as
the mean over seeds (under the usual keys, so ``auc`` is always the figure to
read) with the sample standard deviation over seeds as ``<key>_std`` and
each seed's figures under ``runs``; the table prints ``mean+-std``.

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
from litetrack_ros.evaluation.runner import median_fps, SequenceResult
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
import numpy as np

# results[tracker][sequence]: one SequenceResult per seed (one for deterministic trackers).
Results = Mapping[str, Mapping[str, tuple[SequenceResult, ...]]]

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


def _fps_entries(results: Iterable[SequenceResult]) -> dict[str, float]:
    fps = median_fps(results)
    return {'fps': fps, 'update_ms_median': 1000.0 / fps}


def _curves(metrics: TrackingMetrics) -> dict[str, list[float | None]]:
    return {
        'success_curve': [_finite_or_none(float(v)) for v in metrics.success],
        'precision_curve': [_finite_or_none(float(v)) for v in metrics.precision],
        'norm_precision_curve': [_finite_or_none(float(v)) for v in metrics.norm_precision],
    }


def _mean_and_spread(summaries: list[dict[str, float | int]], seeded: bool
                     ) -> dict[str, float | int]:
    """Mean of every metric over seeds, and its sample standard deviation as ``<key>_std``."""
    if not seeded:
        return dict(summaries[0])
    combined: dict[str, float | int] = {}
    for key in summaries[0]:
        if key == 'num_frames':  # the same for every seed
            combined[key] = summaries[0][key]
            continue
        values = np.array([summary[key] for summary in summaries], dtype=float)
        combined[key] = float(np.mean(values))
        combined[f'{key}_std'] = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
    return combined


def _tracker_entry(per_sequence: Mapping[str, tuple[SequenceResult, ...]],
                   sequences: list[Sequence]) -> dict:
    scored = [sequence for sequence in sequences if sequence.name in per_sequence]
    seeds = [result.seed for result in per_sequence[scored[0].name]] if scored else [None]
    seeded = seeds != [None]
    # metrics[run][sequence name]
    metrics = [{sequence.name: evaluate_sequence(per_sequence[sequence.name][run].boxes,
                                                 sequence.groundtruth)
                for sequence in scored} for run in range(len(seeds))]
    overall_runs = [aggregate(list(run.values())) for run in metrics]
    all_results = [result for results in per_sequence.values() for result in results]

    sequence_entries = {}
    for sequence in scored:
        summaries = [run[sequence.name].summary() for run in metrics]
        entry = _clean({**_mean_and_spread(summaries, seeded),
                        **_fps_entries(per_sequence[sequence.name])})
        if seeded:
            entry['runs'] = [_clean({'seed': seed, **summary, 'fps': result.fps})
                             for seed, summary, result in zip(
                                 seeds, summaries, per_sequence[sequence.name], strict=True)]
        sequence_entries[sequence.name] = entry

    summaries = [overall.summary() for overall in overall_runs]
    overall_entry = {
        **_clean({**_mean_and_spread(summaries, seeded), **_fps_entries(all_results)}),
        # Sequences that count: those with at least one scored frame.
        'num_sequences': sum(m.num_frames > 0 for m in metrics[0].values()),
    }
    if seeded:
        overall_entry['seeds'] = seeds
        overall_entry['runs'] = [_clean({'seed': seed, **summary})
                                 for seed, summary in zip(seeds, summaries, strict=True)]
    # The curves of a seeded tracker: the mean over seeds (as its AUC is).
    curves = [_curves(overall) for overall in overall_runs]
    overall_entry.update({key: _mean_curve([curve[key] for curve in curves])
                          for key in curves[0]})
    return {'overall': overall_entry, 'sequences': sequence_entries}


def _mean_curve(curves: list[list[float | None]]) -> list[float | None]:
    values = np.array([[np.nan if v is None else v for v in curve] for curve in curves])
    return [_finite_or_none(float(v)) for v in values.mean(axis=0)]


def build_report(results: Results, sequences: Iterable[Sequence],
                 settings: Mapping[str, dict] | None = None) -> dict:
    """Score every tracker on every sequence and aggregate (see ``metrics.aggregate``).

    ``settings`` (tracker name -> ``settings.tracker_settings``) is stored
    with each tracker.  Returns a JSON-ready dict::

        {'protocol': {...}, 'sequences': [names],
         'trackers': {name: {'settings': {...},
                             'overall': {auc, precision_20, ..., fps, update_ms_median,
                                         num_sequences, curves[, <key>_std, seeds, runs]},
                             'sequences': {seq: {auc, ..., fps[, <key>_std, runs]}}}}}
    """
    sequences = list(sequences)
    trackers = {}
    for tracker, per_sequence in results.items():
        entry = _tracker_entry(per_sequence, sequences)
        trackers[tracker] = {'settings': dict((settings or {}).get(tracker, {})), **entry}
    return {
        'protocol': {
            'scored_frames': 'frames 2..N (frame 1 initialises), absent ground truth skipped',
            'success': 'fraction of frames with IoU > threshold (a perfect overlap succeeds '
                       'at every threshold); AUC = mean over the thresholds',
            'precision': 'fraction of frames with center error <= threshold (pixels)',
            'norm_precision': 'center error / ground-truth size (LaSOT) <= threshold',
            'aggregate': 'curves, AUC, precisions and mIoU averaged over sequences; '
                         'AO and SR pooled over frames (GOT-10k)',
            'fps': '1 / update_ms_median: the median time of one update() call over frames '
                   '2..N (image decoding excluded); overall: the median over every frame of '
                   'every sequence (and seed)',
            'seeds': 'random trackers run once per seed: metrics are the mean over seeds, '
                     '<key>_std the sample standard deviation over seeds, runs the per-seed '
                     'figures',
            'settings': 'what each tracker ran with (settings.json beside its results); '
                        "*_sha256 = first 16 hex digits of the file's SHA-256",
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


def _format_cell(values: Mapping, key: str, template: str) -> str:
    value, spread = values.get(key), values.get(f'{key}_std')
    if value is None:
        return '-'
    text = template.format(value)
    return text if spread is None else f'{text}+-{template.format(spread)}'


def format_table(report: dict, per_sequence: bool = False) -> str:
    """Render the overall metrics (and optionally every sequence) as a text table.

    Seeded trackers show ``mean+-std`` over their seeds.
    """
    header = ['tracker'] + [title for _, title, _ in TABLE_COLUMNS]
    rows = []
    for tracker, entry in report['trackers'].items():
        label = tracker
        if entry['overall'].get('seeds'):
            label += f' ({len(entry["overall"]["seeds"])} seeds)'
        rows.append([label] + [_format_cell(entry['overall'], key, template)
                               for key, _, template in TABLE_COLUMNS])
        if per_sequence:
            for sequence, values in entry['sequences'].items():
                rows.append([f'  {sequence}'] + [_format_cell(values, key, template)
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
