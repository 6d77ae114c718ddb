# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The demo's report: detections CSV, plot, summary (printed and as JSON)."""

import csv
import json
import math
from pathlib import Path

from litetrack_ros.node.stamps import format_stamp
from litetrack_ros.ros_tools.demo.recorder import FrameRecord, Recorder
from litetrack_ros.ros_tools.demo.scene import SourcePlan, WeightsPlan
import numpy as np

CSV_COLUMNS = ('stamp', 'frame', 'x', 'y', 'w', 'h', 'score', 'track_id', 'latency_ms',
               'status')


# ---------------------------------------------------------------------- results


def write_csv(path: Path, frames: list[FrameRecord]) -> None:
    """One row per frame received; box, score and id empty without a detection."""
    def number(value: float | None, digits: int) -> str:
        return '' if value is None else f'{value:.{digits}f}'

    with open(path, 'w', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for record in frames:
            box = record.box or (None,) * 4
            writer.writerow([format_stamp(record.stamp_ns), record.index,
                             *(number(v, 2) for v in box), number(record.score, 4),
                             record.track_id, number(record.latency_ms, 1), record.status()])


def write_plot(path: Path, frames: list[FrameRecord], title: str,
               initial_position: int | None) -> None:
    """Confidence and latency against time since the first frame (headless Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    start = frames[0].stamp_ns if frames else 0
    seconds = np.array([(r.stamp_ns - start) / 1e9 for r in frames])
    scored = [i for i, r in enumerate(frames) if r.score is not None]
    after_initial = [initial_position is None or i > initial_position
                     for i in range(len(frames))]
    timed = [i for i, r in enumerate(frames) if r.latency_ms is not None and after_initial[i]]
    figure = Figure(figsize=(9, 5.5))
    FigureCanvasAgg(figure)
    confidence_axes, latency_axes = figure.subplots(2, 1, sharex=True)
    confidence_axes.plot(seconds[scored], [frames[i].score for i in scored], '.-',
                         color='tab:green', label='confidence')
    missing = [i for i, r in enumerate(frames) if r.score is None and after_initial[i]]
    confidence_axes.plot(seconds[missing], np.zeros(len(missing)), 'x', color='tab:red',
                         label='no detection / skipped')
    confidence_axes.set_ylim(-0.05, 1.05)
    confidence_axes.set_ylabel('confidence')
    confidence_axes.legend(loc='best', fontsize='small')
    latencies = [frames[i].latency_ms for i in timed]
    latency_axes.plot(seconds[timed], latencies, '.-', color='tab:blue', label='latency')
    if latencies:
        latency_axes.axhline(float(np.median(latencies)), color='tab:blue', linestyle='--',
                             linewidth=1, label=f'median {np.median(latencies):.0f} ms')
        latency_axes.legend(loc='best', fontsize='small')
    latency_axes.set_ylabel('latency (ms)\nstamp -> detection')
    latency_axes.set_xlabel('time since the first frame (s)')
    for axes in (confidence_axes, latency_axes):
        axes.grid(alpha=0.3)
        if initial_position is not None:
            axes.axvline(seconds[initial_position], color='grey', linewidth=1, linestyle=':')
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def mean_iou(after: list[FrameRecord], groundtruth: np.ndarray) -> float | None:
    """Mean IoU of the frames after the initial one; frames without a detection count 0."""
    from litetrack_ros.evaluation.metrics import iou

    after = [r for r in after if r.index < len(groundtruth)]
    if not after:
        return None
    predicted = np.array([r.box if r.box is not None else (np.nan,) * 4 for r in after])
    return float(np.mean(iou(predicted, groundtruth[[r.index for r in after]])))


def weights_label(recorder: Recorder, plan: WeightsPlan) -> str:
    """Name what the node ran: its checkpoint, or UNTRAINED."""
    reported = recorder.node_report.values.get('weights')
    if reported:
        return reported
    return 'UNTRAINED' if plan.path is None else str(plan.path)


def tracking_rate(recorder: Recorder) -> float | None:
    """Frames per second the node tracked after the initial frame (stamps' time base)."""
    processed = [r for r in recorder.frames_after_initial() if r.processed]
    if not processed:
        return None
    seconds = (processed[-1].stamp_ns - recorder.initial.stamp_ns) / 1e9
    return len(processed) / seconds if seconds > 0 else None


def build_summary(recorder: Recorder, source: SourcePlan, weights: WeightsPlan,
                  device: str, outputs: dict[str, str], interrupted: bool) -> dict:
    """Compute the numbers of the run, for summary.json and the printed summary."""
    frames, after = recorder.frames, recorder.frames_after_initial()
    latencies = [r.latency_ms for r in after if r.latency_ms is not None]
    tracked = sum(r.box is not None for r in after)
    values = recorder.node_report.values
    label = weights_label(recorder, weights)
    return {
        'source': source.description,
        'rate_hz': source.rate_hz,
        'frames': len(frames),
        # Frames in the pass recorded (not for a camera); those that did not arrive are
        # missing in between.
        'video_frames': source.num_frames,
        'initial_frame': recorder.initial.index if recorder.initial else None,
        'initial_box': list(recorder.initial_box) if recorder.initial_box else None,
        'track_id': recorder.track_id or None,
        'frames_after_initial': len(after),
        'tracked_frames': tracked,
        'tracked_fraction': tracked / len(after) if after else 0.0,
        'no_detection_frames': sum(r.status() == 'no detection' for r in after),
        'skipped_frames': sum(r.status() == 'skipped' for r in after),
        'tracking_rate_hz': tracking_rate(recorder),
        'median_latency_ms': float(np.median(latencies)) if latencies else None,
        'p95_latency_ms': float(np.percentile(latencies, 95)) if latencies else None,
        'mean_iou': (mean_iou(after, source.groundtruth)
                     if source.groundtruth is not None and after else None),
        'device': values.get('device', device),
        'precision': values.get('precision'),
        'variant': values.get('variant'),
        'weights': label,
        'untrained': label == 'UNTRAINED',
        'interrupted': interrupted,
        'outputs': outputs,
    }


def format_summary(summary: dict, output: Path) -> str:
    """Format the summary printed at the end of the demo."""
    untrained = summary['untrained']
    warning = ' -- UNTRAINED network: its boxes are meaningless' if untrained else ''
    lines = ['LiteTrack ROS 2 demo' + warning]
    rate = f' at {summary["rate_hz"]:g} Hz' if summary['rate_hz'] else ''
    of_video = f' of {summary["video_frames"]}' if summary['video_frames'] else ''
    lines.append(f'  frames    {summary["frames"]}{of_video} received from {summary["source"]}'
                 f'{rate}' + (' (interrupted)' if summary['interrupted'] else ''))
    if summary['initial_frame'] is None:
        lines.append('  target    never set')
    else:
        lines.append(f'  tracked   {summary["tracked_fraction"]:.1%} of the '
                     f'{summary["frames_after_initial"]} frames after the initial one '
                     f'(frame {summary["initial_frame"]}); {summary["no_detection_frames"]} '
                     f'without detection, {summary["skipped_frames"]} skipped while busy')
    skipped_share = summary['skipped_frames'] / max(1, summary['frames_after_initial'])
    if skipped_share > 0.25 and summary['tracking_rate_hz'] and summary['rate_hz']:
        follow = max(1, math.floor(summary['tracking_rate_hz']))
        lines.append(f'  note      the node tracked {summary["tracking_rate_hz"]:.1f} frames/s, '
                     f'slower than the {summary["rate_hz"]:g} Hz published, so it skipped to '
                     f'the newest frame; --rate {follow} lets it follow')
    if summary['median_latency_ms'] is not None:
        lines.append(f'  latency   median {summary["median_latency_ms"]:.0f} ms, p95 '
                     f'{summary["p95_latency_ms"]:.0f} ms (image stamp -> detection received)')
    if summary['mean_iou'] is not None:
        lines.append(f'  accuracy  mean IoU {summary["mean_iou"]:.3f} against the generated '
                     'ground truth')
    variant = summary['variant'] or ''
    network = variant if variant.startswith('LightTrack') else \
        f'LiteTrack-{variant}' if variant else 'LiteTrack'
    precision = f' ({summary["precision"]})' if summary['precision'] else ''
    lines.append(f'  device    {summary["device"]}{precision}, {network}, weights '
                 f'{summary["weights"]}')
    lines.append(f'  output    {output}: {", ".join(summary["outputs"].values())}')
    return '\n'.join(lines)


def write_results(recorder: Recorder, source: SourcePlan, weights: WeightsPlan,
                  device: str, output: Path, interrupted: bool) -> dict:
    """Write the CSV, the plot and summary.json; return the summary."""
    outputs = {'video': recorder.video.path.name, 'detections': 'detections.csv',
               'plot': 'plot.png', 'summary': 'summary.json'}
    write_csv(output / outputs['detections'], recorder.frames)
    summary = build_summary(recorder, source, weights, device, outputs, interrupted)
    title = f'LiteTrack demo: {source.description}, weights ' + (
        'UNTRAINED' if summary['untrained'] else Path(summary['weights']).name)
    write_plot(output / outputs['plot'], recorder.frames, title, recorder.initial_position)
    (output / outputs['summary']).write_text(json.dumps(summary, indent=2) + '\n')
    return summary
