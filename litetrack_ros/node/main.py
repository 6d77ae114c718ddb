# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``litetrack_node``: run the ``litetrack`` node in a single-threaded executor.

One executor thread for the light callbacks (images, services, timers);
tracking has its own thread (``litetrack_ros.node.worker``).
"""

import signal
from typing import Any

from litetrack_ros.node.lifecycle_node import LiteTrackNode
from litetrack_ros.node.transport import use_large_frame_profile
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions

# Longest wait of one executor slice (how soon a signal is seen).
SPIN_SLICE_S = 0.2


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(args: list[str] | None = None) -> int:
    """Run the node until SIGINT/SIGTERM or shutdown."""
    profile = use_large_frame_profile()
    # Own signal handling: rclpy's SIGTERM handler did not wake an executor created
    # after the signal (a node terminated during start-up then never exited). The
    # executor spins in short slices so that Python sees the signal promptly.
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    # The executor is made before the handlers are in
    # place: a signal raised inside its constructor (right after a failed autostart
    # configure, when a supervisor stops the node) left a half-made executor whose
    # finaliser printed a traceback at exit (rclpy jazzy).
    executor = SingleThreadedExecutor()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    node = None
    try:
        node = LiteTrackNode()
        if profile:
            node.get_logger().info(f'Fast DDS profile for large frames: {profile}')
        executor.add_node(node)
        while rclpy.ok():
            executor.spin_once(timeout_sec=SPIN_SLICE_S)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        if node is not None:
            node.shutdown_tracking()
        executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
