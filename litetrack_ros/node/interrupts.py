# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""SIGINT and SIGTERM as ``KeyboardInterrupt``, for the executables' spin loops.

rclpy's own handlers (``SignalHandlerOptions.ALL``) left a second SIGINT (the
terminal's and ``ros2 launch``'s arrive together on Ctrl-C) to the default
action: the process died by the signal, which launch reports as an error. With
these, every SIGINT/SIGTERM raises ``KeyboardInterrupt`` in the main thread; the
executables end cleanly and their launcher (``scripts/entry_point.in``) turns one
that arrives during the clean-up into a quiet exit status 130.

Use with ``rclpy.init(..., signal_handler_options=SignalHandlerOptions.NO)`` and
spin in short slices (``SPIN_SLICE_S``), so that Python sees a signal promptly.
"""

from collections.abc import Iterator
import contextlib
import signal
from typing import Any

# Longest wait of one executor slice (how soon a signal is seen).
SPIN_SLICE_S = 0.2
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Make SIGINT and SIGTERM raise KeyboardInterrupt for the duration of the block.

    Afterwards SIGINT still raises KeyboardInterrupt (Python's default) and
    SIGTERM terminates.
    """
    for signum in SIGNALS:
        signal.signal(signum, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
