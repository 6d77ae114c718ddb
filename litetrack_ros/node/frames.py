# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The frames between the executor and the tracking thread.

The image callback (executor thread) offers each accepted message; the
tracking thread takes the newest one, so a slow network skips stale frames
(counted as dropped) instead of queueing them. A short ring buffer keeps the
last frames for ``set_target`` requests that name an older stamp.

Example::

    frames = FrameBuffer(capacity=30)
    frames.offer(message)                  # executor thread
    message = frames.take_newest(stop)     # tracking thread; None when stopped
"""

from collections import deque
import threading
from typing import Any

from litetrack_ros.node.stamps import stamp_to_ns


class FrameBuffer:
    """The newest untracked message plus a ring buffer of recent ones (thread-safe)."""

    def __init__(self, capacity: int) -> None:
        self._ready = threading.Condition()
        self._recent: deque = deque(maxlen=int(capacity))
        self._newest: Any = None
        self.dropped = 0  # frames replaced before the tracking thread took them

    def offer(self, message: Any) -> None:
        """Keep ``message`` as the newest frame and wake the tracking thread."""
        with self._ready:
            if self._newest is not None:
                self.dropped += 1
            self._newest = message
            self._recent.append(message)
            self._ready.notify()

    def take_newest(self, stop: threading.Event, poll_s: float = 0.5) -> Any:
        """Wait for a frame not yet taken and return it; None once ``stop`` is set."""
        with self._ready:
            while self._newest is None and not stop.is_set():
                self._ready.wait(timeout=poll_s)
            message, self._newest = self._newest, None
        return None if stop.is_set() else message

    def wake(self) -> None:
        """Wake a waiting ``take_newest`` (to see its stop event)."""
        with self._ready:
            self._ready.notify_all()

    def find(self, stamp: Any) -> Any:
        """Return the buffered message with this stamp (zero: the newest), else None."""
        wanted = stamp_to_ns(stamp)
        with self._ready:
            if wanted == 0:
                return self._recent[-1] if self._recent else None
            for message in reversed(self._recent):
                if stamp_to_ns(message.header.stamp) == wanted:
                    return message
        return None

    def drop_pending(self) -> None:
        """Forget the frame not yet tracked (the ring buffer is kept)."""
        with self._ready:
            self._newest = None

    def clear(self) -> None:
        """Forget every frame."""
        with self._ready:
            self._recent.clear()
            self._newest = None
