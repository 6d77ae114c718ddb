# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers for tests that talk to other processes over real ROS 2."""

from collections.abc import Callable, Iterator
import contextlib
import os
from pathlib import Path
import subprocess
import sys
import time

FIXTURES = Path(__file__).resolve().parent / 'fixtures'


@contextlib.contextmanager
def ros_node(name: str) -> Iterator['rclpy.node.Node']:  # noqa: F821
    """Yield a node in its own rclpy context, shut down afterwards."""
    import rclpy
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node(name, context=context)
    try:
        yield node
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)


def spin_until(node, condition: Callable[[], bool], timeout_s: float) -> bool:
    """Spin the node until the condition holds or the timeout passes."""
    import rclpy
    executor = rclpy.executors.SingleThreadedExecutor(context=node.context)
    executor.add_node(node)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if condition():
                return True
            executor.spin_once(timeout_sec=0.05)
        return condition()
    finally:
        executor.remove_node(node)


@contextlib.contextmanager
def background_process(args: list[str], **kwargs) -> Iterator[subprocess.Popen]:
    """Run a process for the duration of the block, stopping it afterwards."""
    process = subprocess.Popen([str(a) for a in args], env=dict(os.environ),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, **kwargs)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def python_fixture(name: str, *args: str) -> list[str]:
    """Command line that runs a fixture script with this interpreter."""
    return [sys.executable, str(FIXTURES / name), *args]
