# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The depth images between the executor and the tracking thread, matched by stamp.

The depth callback (executor thread) offers each depth message whose fields
passed the checks; the tracking thread asks for the one nearest to a colour
frame's stamp, within a tolerance. A driver may publish the depth image of a
frame a little after the colour image, so the tracking thread may wait, at
most ``wait_s`` and only while the stream is alive and nothing newer than the
frame has arrived yet; everything else answers at once. Only ``capacity``
messages are kept (the oldest go first), so memory stays bounded whatever the
rates.

Example::

    depth = DepthBuffer(capacity=8)
    depth.offer(stamp_ns, message)                      # executor thread
    message, reason = depth.match(stamp_ns, 20_000_000, wait_s=0.05)  # tracking thread
"""

from collections import deque
import threading
import time
from typing import Any

from litetrack_ros.node.frames import MAX_BUFFERED_BYTES, message_bytes

# A stream silent for this long is dead: the tracking thread no longer waits for it.
ALIVE_S = 1.0


class DepthBuffer:
    """The last ``capacity`` depth messages with their stamps (thread-safe)."""

    def __init__(self, capacity: int, max_bytes: int = MAX_BUFFERED_BYTES) -> None:
        self._arrived = threading.Condition()
        self._messages: deque[tuple[int, Any]] = deque(maxlen=int(capacity))
        self._max_bytes = int(max_bytes)
        self._last_arrival = -float('inf')

    def offer(self, stamp_ns: int, message: Any) -> None:
        """Keep a depth message and wake a waiting ``match`` (oldest out past the byte budget)."""
        with self._arrived:
            self._messages.append((int(stamp_ns), message))
            while len(self._messages) > 1 and sum(
                    message_bytes(kept) for _, kept in self._messages) > self._max_bytes:
                self._messages.popleft()
            self._last_arrival = time.monotonic()
            self._arrived.notify_all()

    def clear(self) -> None:
        """Forget every message."""
        with self._arrived:
            self._messages.clear()

    def match(self, stamp_ns: int, tolerance_ns: int, wait_s: float = 0.0) -> tuple[Any, str]:
        """Return ``(message, '')`` nearest to ``stamp_ns`` within tolerance, else ``(None, why)``.

        Waits up to ``wait_s`` for a later message while one may still come:
        none newer than ``stamp_ns + tolerance_ns`` is buffered and the stream
        delivered within the last second.
        """
        deadline = time.monotonic() + wait_s
        with self._arrived:
            while True:
                found, newest = self._nearest(stamp_ns, tolerance_ns)
                if found is not None:
                    return found, ''
                now = time.monotonic()
                may_come = (newest is None or newest < stamp_ns + tolerance_ns) and \
                    now - self._last_arrival < ALIVE_S
                if not may_come or now >= deadline:
                    return None, self._why_not(stamp_ns, tolerance_ns)
                self._arrived.wait(timeout=deadline - now)

    def _nearest(self, stamp_ns: int, tolerance_ns: int) -> tuple[Any, int | None]:
        best, best_gap, newest = None, None, None
        for stamp, message in self._messages:
            newest = stamp if newest is None else max(newest, stamp)
            gap = abs(stamp - stamp_ns)
            if gap <= tolerance_ns and (best_gap is None or gap < best_gap):
                best, best_gap = message, gap
        return best, newest

    def _why_not(self, stamp_ns: int, tolerance_ns: int) -> str:
        if not self._messages:
            if self._last_arrival == -float('inf'):
                return 'no depth image received yet'
            return 'no depth image buffered'
        gaps = [stamp - stamp_ns for stamp, _ in self._messages]
        nearest = min(gaps, key=abs)
        side = 'after' if nearest > 0 else 'before'
        return (f'no depth image within {tolerance_ns / 1e6:g} ms of the frame (nearest '
                f'{abs(nearest) / 1e6:.1f} ms {side} it): depth out of sync')
