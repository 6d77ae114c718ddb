# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The tracking thread: takes the newest frame and hands it to the node's step.

A plain Python thread rather than an executor callback: on 2 cores rclpy's
MultiThreadedExecutor lost a fifth of the frames and had p95 latencies of
hundreds of milliseconds with a 5 ms network, because its threads contend for
the GIL with the tracking callback; a dedicated thread that holds the GIL only
between torch kernels does not (measured with ``latency_bench``).
"""

import threading
from typing import Any, Callable

from litetrack_ros.node.frames import FrameBuffer


class TrackingWorker:
    """Run ``step(message)`` on the newest frame of ``frames`` until stopped.

    ``on_error(error)`` receives whatever ``step`` raises; the thread goes on.
    """

    def __init__(self, frames: FrameBuffer, step: Callable[[Any], None],
                 on_error: Callable[[Exception], None], name: str = 'litetrack_tracking'
                 ) -> None:
        self._frames = frames
        self._step = step
        self._on_error = on_error
        self._name = name
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread; one still running is told to stop (it ends after its frame)."""
        self.stop(timeout_s=0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(self._stop,), name=self._name,
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float | None) -> bool:
        """Tell the thread to stop and wait up to ``timeout_s``; return whether it ended."""
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        self._stop.set()
        self._frames.wake()
        thread.join(timeout_s)
        return not thread.is_alive()

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            message = self._frames.take_newest(stop)
            if message is None:
                continue
            try:
                self._step(message)
            except Exception as error:  # noqa: B902 - a bad frame must never stop tracking
                self._on_error(error)
