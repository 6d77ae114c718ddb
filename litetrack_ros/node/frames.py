# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The frames between the executor and the tracking thread.

The image callback (executor thread) offers each accepted message; the
tracking thread takes the newest one, so a slow network skips stale frames
(counted as dropped) instead of queueing them. A short ring buffer keeps the
last frames for ``set_target`` requests that name an older stamp; it is bounded
by a count and by bytes (the newest frame is always kept).

Work that must not run in the executor (``set_target``'s decode and template
encoding) is posted as a task: the tracking thread runs it before its next
frame; a newer task replaces one not yet started.

Example::

    frames = FrameBuffer(capacity=30)
    frames.offer(message)                  # executor thread
    frames.post(task)                      # executor thread (a service)
    task, message = frames.take_next(stop)  # tracking thread; (None, None) when stopped
"""

from collections import deque
import threading
from typing import Any, Callable

from litetrack_ros.node.stamps import stamp_to_ns

# Bytes of image data the ring buffer keeps at most (besides its count).
MAX_BUFFERED_BYTES = 256 << 20


def message_bytes(message: Any) -> int:
    """Bytes of a message's image data (what keeping it costs)."""
    data = getattr(message, 'data', b'')
    try:
        return memoryview(data).nbytes
    except TypeError:
        return len(data)


class FrameBuffer:
    """The newest untracked message plus a ring buffer of recent ones (thread-safe)."""

    def __init__(self, capacity: int, max_bytes: int = MAX_BUFFERED_BYTES) -> None:
        self._ready = threading.Condition()
        self._recent: deque = deque()
        self._capacity = int(capacity)
        self._max_bytes = int(max_bytes)
        self._bytes = 0
        self._newest: Any = None
        self._task: Callable[[], None] | None = None
        self.dropped = 0  # frames replaced before the tracking thread took them
        self.tasks_replaced = 0  # tasks replaced by a newer one before they ran

    @property
    def buffered_bytes(self) -> int:
        """Bytes of image data in the ring buffer."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._recent)

    def offer(self, message: Any) -> None:
        """Keep ``message`` as the newest frame and wake the tracking thread."""
        size = message_bytes(message)
        with self._ready:
            if self._newest is not None:
                self.dropped += 1
            self._newest = message
            self._recent.append((message, size))
            self._bytes += size
            while len(self._recent) > 1 and (len(self._recent) > self._capacity
                                             or self._bytes > self._max_bytes):
                self._bytes -= self._recent.popleft()[1]
            self._ready.notify()

    def post(self, task: Callable[[], None]) -> None:
        """Have the tracking thread run ``task`` before its next frame (replaces a pending one)."""
        with self._ready:
            if self._task is not None:
                self.tasks_replaced += 1
            self._task = task
            self._ready.notify()

    def cancel_task(self) -> None:
        """Forget a task not yet started."""
        with self._ready:
            self._task = None

    def take_next(self, stop: threading.Event, poll_s: float = 0.5
                  ) -> tuple[Callable[[], None] | None, Any]:
        """Wait for a task or a frame not yet taken: ``(task, None)`` or ``(None, message)``.

        Tasks come first; ``(None, None)`` once ``stop`` is set.
        """
        with self._ready:
            while self._newest is None and self._task is None and not stop.is_set():
                self._ready.wait(timeout=poll_s)
            if stop.is_set():
                return None, None
            if self._task is not None:
                task, self._task = self._task, None
                return task, None
            message, self._newest = self._newest, None
        return None, message

    def wake(self) -> None:
        """Wake a waiting ``take_next`` (to see its stop event)."""
        with self._ready:
            self._ready.notify_all()

    def find(self, stamp: Any) -> Any:
        """Return the buffered message with this stamp (zero: the newest), else None."""
        wanted = stamp_to_ns(stamp)
        with self._ready:
            if wanted == 0:
                return self._recent[-1][0] if self._recent else None
            for message, _ in reversed(self._recent):
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
            self._bytes = 0
            self._newest = self._task = None
