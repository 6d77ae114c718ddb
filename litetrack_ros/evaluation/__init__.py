# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Offline evaluation of LiteTrack against OpenCV trackers on tracking datasets.

Typical use from Python (the ``litetrack-eval`` command wraps the same steps)::

    from litetrack_ros.evaluation import (
        build_report, create_tracker, discover_sequences, format_table, run_trackers)

    sequences = discover_sequences('data/sequences')
    trackers = [create_tracker('mil'), create_tracker('litetrack', weights='w.safetensors')]
    results = run_trackers(trackers, sequences, 'eval_output')
    settings = {tracker.name: tracker_settings(tracker) for tracker in trackers}
    print(format_table(build_report(results, sequences, settings)))
"""

from litetrack_ros.evaluation.baselines import (
    LiteTrackAdapter,
    OpenCVTracker,
    TrackerAdapter,
    TrackerSetupError,
    create_tracker,
    litetrack_tracker,
    mil_tracker,
    nano_tracker,
    vit_tracker,
)
from litetrack_ros.evaluation.datasets import (
    DatasetError,
    Sequence,
    discover_sequences,
    load_sequence,
    read_boxes,
)
from litetrack_ros.evaluation.metrics import (
    TrackingMetrics,
    aggregate,
    center_error,
    evaluate_sequence,
    iou,
    normalized_center_error,
    precision_curve,
    success_curve,
)
from litetrack_ros.evaluation.report import (
    build_report,
    format_table,
    plot_precision,
    plot_success,
    write_json,
)
from litetrack_ros.evaluation.runner import (
    SequenceResult,
    median_fps,
    run_sequence,
    run_trackers,
)
from litetrack_ros.evaluation.settings import (
    SettingsMismatchError,
    file_sha256,
    settings_differences,
    tracker_settings,
)

__all__ = [
    'DatasetError',
    'LiteTrackAdapter',
    'OpenCVTracker',
    'Sequence',
    'SequenceResult',
    'SettingsMismatchError',
    'TrackerAdapter',
    'TrackerSetupError',
    'TrackingMetrics',
    'aggregate',
    'build_report',
    'center_error',
    'create_tracker',
    'discover_sequences',
    'evaluate_sequence',
    'file_sha256',
    'format_table',
    'iou',
    'litetrack_tracker',
    'load_sequence',
    'median_fps',
    'mil_tracker',
    'nano_tracker',
    'normalized_center_error',
    'plot_precision',
    'plot_success',
    'precision_curve',
    'read_boxes',
    'run_sequence',
    'run_trackers',
    'settings_differences',
    'success_curve',
    'tracker_settings',
    'vit_tracker',
    'write_json',
]
