# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Offline evaluation of LiteTrack against OpenCV trackers on tracking datasets.

Typical use from Python (the ``litetrack-eval`` command wraps the same steps)::

    from litetrack_ros.evaluation import (
        build_report, create_tracker, discover_sequences, format_table, run_trackers)

    sequences = discover_sequences('data/sequences')
    trackers = [create_tracker('mil'), create_tracker('litetrack', weights='w.safetensors')]
    results = run_trackers(trackers, sequences, 'eval_output')
    print(format_table(build_report(results, sequences)))
"""

from litetrack_ros.evaluation.baselines import (
    create_tracker,
    litetrack_tracker,
    LiteTrackAdapter,
    mil_tracker,
    nano_tracker,
    OpenCVTracker,
    TrackerAdapter,
    TrackerSetupError,
    vit_tracker,
)
from litetrack_ros.evaluation.datasets import (
    DatasetError,
    discover_sequences,
    load_sequence,
    read_boxes,
    Sequence,
)
from litetrack_ros.evaluation.metrics import (
    aggregate,
    center_error,
    evaluate_sequence,
    iou,
    normalized_center_error,
    precision_curve,
    success_curve,
    TrackingMetrics,
)
from litetrack_ros.evaluation.report import (
    build_report,
    format_table,
    plot_precision,
    plot_success,
    write_json,
)
from litetrack_ros.evaluation.runner import run_sequence, run_trackers, SequenceResult

__all__ = [
    'DatasetError',
    'LiteTrackAdapter',
    'OpenCVTracker',
    'Sequence',
    'SequenceResult',
    'TrackerAdapter',
    'TrackerSetupError',
    'TrackingMetrics',
    'aggregate',
    'build_report',
    'center_error',
    'create_tracker',
    'discover_sequences',
    'evaluate_sequence',
    'format_table',
    'iou',
    'litetrack_tracker',
    'load_sequence',
    'mil_tracker',
    'nano_tracker',
    'normalized_center_error',
    'plot_precision',
    'plot_success',
    'precision_curve',
    'read_boxes',
    'run_sequence',
    'run_trackers',
    'success_curve',
    'vit_tracker',
    'write_json',
]
