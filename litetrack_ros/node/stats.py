# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Small rolling statistics for diagnostics: event rates and latency percentiles."""

from collections import deque
import time

import numpy as np


class RateMeter:
    """Events per second over a sliding time window."""

    def __init__(self, window_s: float = 2.0) -> None:
        self._window_s = window_s
        self._times: deque[float] = deque()

    def tick(self, now: float | None = None) -> None:
        """Record one event."""
        self._times.append(time.monotonic() if now is None else now)

    def rate(self, now: float | None = None) -> float:
        """Events per second in the window ending now."""
        now = time.monotonic() if now is None else now
        while self._times and now - self._times[0] > self._window_s:
            self._times.popleft()
        return len(self._times) / self._window_s


class LatencyWindow:
    """The last N latencies, for median and tail percentiles."""

    def __init__(self, size: int = 200) -> None:
        self._values: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        """Record one latency."""
        self._values.append(seconds)

    def percentile(self, q: float) -> float | None:
        """Return the q-th percentile in seconds, or None before the first sample."""
        if not self._values:
            return None
        return float(np.percentile(np.fromiter(self._values, float), q))
