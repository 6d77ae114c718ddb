# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``litetrack_node``: run the ``litetrack`` node in a single-threaded executor.

One executor thread for the light callbacks (images, services, timers);
tracking has its own thread (``litetrack_ros.node.worker``).

Exit status, so that ``ros2 launch`` (``on_exit``, ``respawn``) and supervisors
can react: 0 after SIGINT/SIGTERM, the ``shutdown`` lifecycle transition or the
parent's exit (``parent_watch``); 1 when the ``autostart`` configure or activate
failed (the log says why); 2 for a parameter given at start that cannot be
declared (out of range, wrong type), with one line naming it.
"""

import gc
import sys

from litetrack_ros.node.interrupts import signals_interrupt, SPIN_SLICE_S
from litetrack_ros.node.lifecycle_node import LiteTrackNode
from litetrack_ros.node.parent_watch import ParentWatch
from litetrack_ros.node.transport import use_large_frame_profile
import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions

EXIT_OK, EXIT_START_FAILED, EXIT_BAD_PARAMETER = 0, 1, 2


def describe_parameter_error(error: ParameterException) -> str:
    """One line naming the parameter and why rclpy refused it."""
    message, *names = error.args or (str(error),)
    return f'parameter {names[0]}: {message}' if names else str(message)


def main(args: list[str] | None = None) -> int:
    """Run the node until SIGINT/SIGTERM, shutdown or the parent's exit."""
    profile = use_large_frame_profile()
    parent = ParentWatch()
    # Own signal handling: rclpy's SIGTERM handler did not wake an executor created
    # after the signal (a node terminated during start-up then never exited). The
    # executor spins in short slices so that Python sees the signal promptly.
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    # The executor is made before the handlers are in
    # place: a signal raised inside its constructor (right after a failed autostart
    # configure, when a supervisor stops the node) left a half-made executor whose
    # finaliser printed a traceback at exit (rclpy jazzy).
    executor = SingleThreadedExecutor()
    with signals_interrupt():
        return _run(executor, parent, profile)


def _run(executor: SingleThreadedExecutor, parent: ParentWatch, profile: str | None) -> int:
    """Make the node and spin it; clean up whatever way it ends."""
    node = None
    status = EXIT_OK
    try:
        node = LiteTrackNode()
        if profile:
            node.get_logger().info(f'Fast DDS profile for large frames: {profile}')
        if node.start_failed:
            node.get_logger().error('autostart failed: exiting (status 1)')
            return EXIT_START_FAILED
        executor.add_node(node)
        while rclpy.ok() and not node.shut_down:
            executor.spin_once(timeout_sec=SPIN_SLICE_S)
            if parent.orphaned():
                node.get_logger().warning('the process that started this node has exited '
                                          '(ros2/launch#666): shutting down')
                break
    except ParameterException as error:
        print(f'litetrack_node: error: {describe_parameter_error(error)}', file=sys.stderr,
              flush=True)
        status = EXIT_BAD_PARAMETER
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.shutdown_tracking()
        executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
        # configure froze the network's objects (gc.freeze); collecting them now
        # finalises the middleware's handles, so the node leaves the graph at once
        # instead of after the discovery lease (15-20 s in `ros2 node list`).
        gc.unfreeze()
        gc.collect()
    return status


if __name__ == '__main__':
    raise SystemExit(main())
