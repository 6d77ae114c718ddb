# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""What the node counts and how it reports it on ``/diagnostics``.

``NodeStats`` is written by the image callback and the tracking thread (plain
counters and rolling windows: each update is one assignment or deque append,
safe under the GIL); ``diagnostic_status`` turns a snapshot of it into the
``diagnostic_msgs/DiagnosticStatus`` the node publishes every
``diagnostics_period`` seconds.
"""

from typing import Any, Mapping

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from litetrack_ros.node.stats import LatencyWindow, RateMeter


class NodeStats:
    """Frame counters, rates and latency windows since the last activate."""

    def __init__(self) -> None:
        self.received = 0
        self.rejected = 0
        self.last_rejection = ''
        self.input_rate = RateMeter()
        self.tracking_rate = RateMeter()
        self.latency = LatencyWindow()          # decode to publish
        self.stamp_latency = LatencyWindow()    # image stamp to publish
        self.arrival_latency = LatencyWindow()  # image stamp to the image callback

    def reject(self, reason: str) -> None:
        """Count a frame that cannot be tracked."""
        self.rejected += 1
        self.last_rejection = reason


def milliseconds(window: LatencyWindow, q: float) -> str:
    """Return a latency percentile in ms with one decimal, or 'n/a' before any sample."""
    value = window.percentile(q)
    return f'{value * 1e3:.1f}' if value is not None else 'n/a'


def diagnostic_status(name: str, hardware_id: str, state: str, stats: NodeStats,
                      dropped: int, listening: bool, extra: Mapping[str, Any]
                      ) -> DiagnosticStatus:
    """Build the node's status: level and message from the state, every figure as a value."""
    input_rate = stats.input_rate.rate()
    status = DiagnosticStatus(name=name, hardware_id=hardware_id)
    if listening and input_rate == 0.0:
        status.level, status.message = DiagnosticStatus.WARN, 'no images received'
    elif state in ('lost', 'searching'):
        status.level = DiagnosticStatus.WARN
        status.message = 'target lost' if state == 'lost' else 'target lost, searching'
    else:
        status.level, status.message = DiagnosticStatus.OK, state
    values = {
        'state': state,
        'input_rate_hz': f'{input_rate:.1f}',
        'tracking_rate_hz': f'{stats.tracking_rate.rate():.1f}',
        'frames_received': stats.received,
        'frames_dropped': dropped,
        'frames_rejected': stats.rejected,
        'last_rejection': stats.last_rejection or 'none',
        'latency_p50_ms': milliseconds(stats.latency, 50),
        'latency_p95_ms': milliseconds(stats.latency, 95),
        'arrival_latency_p50_ms': milliseconds(stats.arrival_latency, 50),
        'arrival_latency_p95_ms': milliseconds(stats.arrival_latency, 95),
        'stamp_latency_p50_ms': milliseconds(stats.stamp_latency, 50),
        'stamp_latency_p95_ms': milliseconds(stats.stamp_latency, 95),
        **extra,
    }
    status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
    return status
