# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The package with the real ``ros2 launch`` and ``ros2`` CLI, as a user on a robot runs it.

The tools are not on any package index: ``make setup-ros-tools MIRROR=...``
installs them into the venvs from source snapshots (README, Development).
Without them every test here skips. Each launch runs in its own process group,
as in a terminal: Ctrl-C is SIGINT to the whole group, ``docker stop`` or
systemd is SIGTERM to ``ros2 launch`` alone; afterwards no process of the group
may be left (no orphans).
"""

from collections.abc import Iterator
import contextlib
import importlib
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import pytest
import yaml

ROS2 = Path(sys.prefix) / 'bin' / 'ros2'
TOOLS = ('launch', 'launch_ros', 'ros2cli', 'ros2launch', 'rosidl_runtime_py',
         'composition_interfaces')
# The README's literal commands (section "On a ROS 2 robot" and "Services").
README_SET_TARGET = [
    'service', 'call', '/litetrack/set_target', 'litetrack_ros/srv/SetTarget',
    '{bbox: {center: {position: {x: 260.0, y: 200.0}}, size_x: 80.0, size_y: 120.0}, '
    'stamp: {sec: 0, nanosec: 0}}']
README_SELECT_TARGET = ['run', 'litetrack_ros', 'select_target', '220', '140', '80', '120',
                        '--service', '/litetrack/set_target']


def importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def tools_missing() -> str:
    missing = [name for name in TOOLS if not importable(name)]
    if missing or not ROS2.exists():
        return (f'the real ROS 2 tools are not installed ({", ".join(missing) or "ros2"}): '
                'make setup-ros-tools MIRROR=...')
    return ''


pytestmark = [pytest.mark.ros, pytest.mark.skipif(bool(tools_missing()), reason=tools_missing())]


def ros2(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess:
    """Run the ros2 CLI; retry while its view of the graph lacks the node (jazzy's daemon lags)."""
    deadline = time.monotonic() + 30
    while True:
        result = subprocess.run([str(ROS2), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, timeout=timeout_s)
        if 'Node not found' not in result.stdout or time.monotonic() > deadline:
            return result
        time.sleep(1.0)


def group_members(group: int) -> list[int]:
    """Live processes of a process group (orphans keep their group)."""
    members = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] not in ('Z', 'X'):
            members.append(int(stat.parent.name))
    return members


class Launch:
    """``ros2 launch`` in its own process group, its output in a file."""

    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process, self.log = process, log

    def output(self) -> str:
        """Return what the launch printed so far."""
        return self.log.read_text(errors='replace')

    def wait_for(self, text: str, timeout_s: float = 90) -> None:
        """Wait until the launch printed ``text`` (fail if it ends first)."""
        deadline = time.monotonic() + timeout_s
        while text not in self.output():
            assert self.process.poll() is None, f'launch ended early:\n{self.output()}'
            assert time.monotonic() < deadline, f'no {text!r} in:\n{self.output()}'
            time.sleep(0.2)

    def stop(self, signum: int, whole_group: bool) -> int:
        """Send a signal like a terminal (whole group) or a supervisor; return the status."""
        if whole_group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        status = self.process.wait(timeout=60)
        deadline = time.monotonic() + 30
        while group_members(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not group_members(self.process.pid), f'orphans left:\n{self.output()}'
        return status


@contextlib.contextmanager
def ros2_launch(tmp_path: Path, *args: str) -> Iterator[Launch]:
    log = tmp_path / f'launch_{time.monotonic_ns()}.log'
    with open(log, 'w') as out:
        process = subprocess.Popen([str(ROS2), 'launch', 'litetrack_ros', *args], stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield Launch(process, log)
    finally:
        for member in group_members(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGKILL)
        process.wait(timeout=30)


def write_params(path: Path, **values) -> Path:
    path.write_text(yaml.safe_dump({'/**': {'ros__parameters': values}}))
    return path


def write_frames(folder: Path, count: int = 5) -> Path:
    import cv2
    import numpy as np
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(count):
        cv2.imwrite(str(folder / f'{index:03d}.png'),
                    rng.integers(0, 255, (360, 480, 3), dtype=np.uint8))
    return folder


def param(node: str, name: str) -> str:
    result = ros2('param', 'get', node, name)
    assert result.returncode == 0, result.stdout
    return result.stdout.strip()


def wait_for_nodes(names: set[str], timeout_s: float = 90, daemon: bool = False) -> set[str]:
    """Poll ``ros2 node list`` until it shows every name; return what it showed last."""
    deadline = time.monotonic() + timeout_s
    while True:
        listed = set(ros2('node', 'list', *([] if daemon else ['--no-daemon'])).stdout.split())
        if names <= listed or time.monotonic() > deadline:
            return listed
        time.sleep(1.0)


@pytest.fixture(scope='module', autouse=True)
def stop_ros2_daemon() -> Iterator[None]:
    """Stop this run's ros2 daemon at the end (the CLI starts one per domain)."""
    yield
    ros2('daemon', 'stop')


@contextlib.contextmanager
def camera(frames: Path) -> Iterator[subprocess.Popen]:
    """``ros2 run litetrack_ros video_source`` in its own group, stopped like Ctrl-C."""
    process = subprocess.Popen([str(ROS2), 'run', 'litetrack_ros', 'video_source', str(frames),
                                '--loop', '--rate', '10'], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGINT)  # ros2 run waits for its child to get it too
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize('launch_file, arguments, message', [
    ('litetrack.launch.py', ['use_rviz:=maybe'],
     "launch argument use_rviz must be true or false, got 'maybe'"),
    ('demo.launch.py', ['use_rviz:=maybe'],
     "launch argument use_rviz must be true or false, got 'maybe'"),
    ('litetrack.launch.py', ['params_file:=/nonexistent/litetrack.yaml'],
     "params_file '/nonexistent/litetrack.yaml' does not exist"),
])
def test_bad_arguments_end_the_launch_before_anything_starts(tmp_path, launch_file, arguments,
                                                             message):
    with ros2_launch(tmp_path, launch_file, *arguments) as launch:
        status = launch.process.wait(timeout=60)
        assert status != 0 and message in launch.output(), launch.output()
        assert 'process started' not in launch.output()


def test_malformed_params_file_is_named(tmp_path):
    broken = tmp_path / 'broken.yaml'
    broken.write_text('/**:\n  ros__parameters: {weights: [\n')
    with ros2_launch(tmp_path, 'litetrack.launch.py', f'params_file:={broken}') as launch:
        assert launch.process.wait(timeout=60) != 0
        assert f'params_file {broken} is not valid YAML' in launch.output()
        assert 'process started' not in launch.output()


@pytest.mark.slow
def test_failed_configure_ends_the_launch_with_status_1(tmp_path):
    params = write_params(tmp_path / 'bad.yaml', weights=str(tmp_path / 'missing.pth.tar'))
    with ros2_launch(tmp_path, 'litetrack.launch.py', f'params_file:={params}') as launch:
        assert launch.process.wait(timeout=120) == 1, launch.output()
        output = launch.output()
        assert 'configure failed' in output and 'missing.pth.tar does not exist' in output
        assert not group_members(launch.process.pid)


@pytest.mark.slow
def test_params_file_namespace_and_sigterm(tmp_path, tiny_weights):
    """A params_file's weights are used (empty launch arguments do not override them)."""
    params = write_params(tmp_path / 'robot.yaml', weights=str(tiny_weights), device='cpu',
                          variant='auto', lost_frames=7)
    node = '/front/litetrack'
    with ros2_launch(tmp_path, 'litetrack.launch.py', 'namespace:=front',
                     'image:=/front/camera/image_raw', f'params_file:={params}',
                     'use_rviz:=true') as launch:
        launch.wait_for('litetrack_node')
        launch.wait_for(f'weights {tiny_weights}')
        assert 'rviz2 is not installed: going on without RViz' in launch.output()
        assert param(node, 'weights') == f'String value is: {tiny_weights}'
        assert param(node, 'lost_frames') == 'Integer value is: 7'
        assert param(node, 'device') == 'String value is: cpu'
        assert 'active [3]' in ros2('lifecycle', 'get', node).stdout
        subscription = '/front/camera/image_raw: sensor_msgs/msg/Image'
        deadline = time.monotonic() + 30  # a fresh CLI node discovers the graph first
        while subscription not in (info := ros2('node', 'info', node).stdout):
            assert time.monotonic() < deadline, info
            time.sleep(1.0)
        # docker stop / systemd: SIGTERM to ros2 launch alone (ros2/launch#666)
        launch.stop(signal.SIGTERM, whole_group=False)
    assert 'Traceback' not in launch.output()


@pytest.mark.slow
def test_readme_commands_on_a_launched_node_and_ctrl_c(tmp_path, tiny_weights):
    frames = write_frames(tmp_path / 'frames')
    with ros2_launch(tmp_path, 'litetrack.launch.py', f'weights:={tiny_weights}',
                     'device:=cpu') as launch:
        with camera(frames):
            launch.wait_for(f'weights {tiny_weights}')
            # the node only knows frames once the camera's publisher connected
            deadline = time.monotonic() + 60
            while True:
                result = ros2(*README_SET_TARGET)
                if 'success=True' in result.stdout or time.monotonic() > deadline:
                    break
                time.sleep(1.0)
            assert 'success=True' in result.stdout, result.stdout
            assert 'track_id=1' in result.stdout
            selected = ros2(*README_SELECT_TARGET)
            assert selected.returncode == 0 and 'tracking id 2' in selected.stdout, \
                selected.stdout
            echoed = ros2('topic', 'echo', '--once', '/litetrack/detections',
                          'vision_msgs/msg/Detection2DArray')
            assert "id: '2'" in echoed.stdout, echoed.stdout
            reset = ros2('service', 'call', '/litetrack/reset', 'std_srvs/srv/Trigger')
            assert 'success=True' in reset.stdout
        assert launch.stop(signal.SIGINT, whole_group=True) == 0
    output = launch.output()
    assert 'Traceback' not in output and 'KeyboardInterrupt' not in output, output


@pytest.mark.slow
def test_demo_without_rviz2_runs_and_ctrl_c_leaves_nothing(tmp_path, tiny_weights):
    """demo.launch.py with its default use_rviz:=true on a machine without rviz2."""
    frames = write_frames(tmp_path / 'frames')
    with ros2_launch(tmp_path, 'demo.launch.py', f'source:={frames}', 'rate:=10',
                     f'weights:={tiny_weights}') as launch:
        launch.wait_for('rviz2 is not installed')
        launch.wait_for(f'weights {tiny_weights}', timeout_s=120)  # configured
        nodes = wait_for_nodes({'/litetrack', '/video_source'})
        assert {'/litetrack', '/video_source'} <= nodes, nodes
        assert launch.stop(signal.SIGINT, whole_group=True) == 0
    output = launch.output()
    assert 'Traceback' not in output and 'KeyboardInterrupt' not in output, output


@pytest.mark.slow
def test_node_leaves_ros2_node_list_at_once_after_ctrl_c():
    """Measured with gc.freeze() and no gc.unfreeze() at exit: 20.4 s; with it: 0.6 s."""
    from ros_support import installed_executable
    command = [str(installed_executable('litetrack_node')), '--ros-args', '-r', '__ns:=/gone',
               '-p', 'allow_untrained:=true']  # the package's default weights
    with subprocess.Popen(command, stdout=subprocess.DEVNULL,
                          stderr=subprocess.STDOUT) as tracker:
        # the daemon (what `ros2 node list` asks) has seen the node running
        assert '/gone/litetrack' in wait_for_nodes({'/gone/litetrack'}, daemon=True)
        time.sleep(3.0)  # configured (gc.freeze), as a node that ran a while
        tracker.send_signal(signal.SIGINT)
        assert tracker.wait(timeout=30) == 0
    exited = time.monotonic()
    while '/gone/litetrack' in ros2('node', 'list').stdout.split():  # through the daemon
        assert time.monotonic() - exited < 5.0, 'still in ros2 node list 5 s after exiting'
        time.sleep(0.3)
