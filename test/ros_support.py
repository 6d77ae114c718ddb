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


def installed_executable(name: str) -> Path:
    """Path of an executable the package installs into lib/litetrack_ros."""
    from ament_index_python.packages import get_package_prefix
    return Path(get_package_prefix('litetrack_ros')) / 'lib' / 'litetrack_ros' / name


def ros_args(namespace: str = '', parameters: dict | None = None,
             remappings: dict | None = None) -> list[str]:
    """Build a ``--ros-args`` command-line tail."""
    args = ['--ros-args']
    if namespace:
        args += ['-r', f'__ns:={namespace}']
    for key, value in (remappings or {}).items():
        args += ['-r', f'{key}:={value}']
    for key, value in (parameters or {}).items():
        if isinstance(value, bool):
            value = str(value).lower()
        args += ['-p', f'{key}:={value}']
    return args


def write_tiny_checkpoint(path: Path, embed_dim: int = 64, depth: int = 2,
                          search_size: int = 128) -> Path:
    """Save a small random LiteTrack as safetensors (fast enough for node tests)."""
    from litetrack_ros.model import LiteTrack, ModelConfig
    from litetrack_ros.model.checkpoint import save_safetensors
    import torch
    torch.manual_seed(0)
    config = ModelConfig(depth=depth, num_interaction=1, embed_dim=embed_dim, num_heads=4,
                         search_size=search_size, head_channels=32)
    save_safetensors(LiteTrack(config), path, config)
    return path


def process_rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (Linux)."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f'no VmRSS for pid {pid}')
