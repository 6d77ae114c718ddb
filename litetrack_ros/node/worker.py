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

    Tasks posted to ``frames`` run first. ``on_error(error)`` receives whatever a
    step or task raises; the thread goes on.

    At most one thread per worker: when ``stop`` times out on a slow frame and
    ``start`` comes before that frame ends, the same thread carries on instead of a
    second one starting (deactivate/activate cycles never add threads). Whether the
    thread ends or carries on is decided under one lock, so a thread cannot slip out
    between the two.
    """

    def __init__(self, frames: FrameBuffer, step: Callable[[Any], None],
                 on_error: Callable[[Exception], None], name: str = 'litetrack_tracking'
                 ) -> None:
        self._frames = frames
        self._step = step
        self._on_error = on_error
        self._name = name
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        """Whether the thread is alive and not told to stop."""
        with self._lock:
            return (self._thread is not None and self._thread.is_alive()
                    and not self._stop.is_set())

    def start(self) -> None:
        """Start the thread, or let one that was told to stop (still busy) carry on."""
        with self._lock:
            self._stop.clear()
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float | None) -> bool:
        """Tell the thread to stop and wait up to ``timeout_s``; return whether it ended."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return True
            self._stop.set()
        self._frames.wake()
        thread.join(timeout_s)
        return not thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._stop.is_set():
                    self._thread = None  # decided under the lock: start() makes a new one
                    return
            task, message = self._frames.take_next(self._stop)
            try:
                if task is not None:
                    task()
                elif message is not None:
                    self._step(message)
            except Exception as error:  # noqa: B902 - a bad frame must never stop tracking
                self._on_error(error)
