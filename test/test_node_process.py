# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The node as a process that launch files and supervisors start and stop.

Exit statuses (1: autostart failed, 2: a bad ``-p`` at start), the ``shutdown``
transition, exiting when orphaned (ros2/launch#666), lifecycle-state rules (no
``set_target`` while inactive, diagnostics still published), and quiet Ctrl-C of
the installed executables. Leaving ``ros2 node list`` promptly: test_ros_cli.py.
"""

import os
from pathlib import Path
import signal
import subprocess
import sys
import time
import uuid

import pytest
from ros_support import (
    background_process,
    installed_executable,
    ros_args,
    ros_node,
    spin_until,
)

pytestmark = pytest.mark.ros


@pytest.fixture
def namespace() -> str:
    return f'/proc_{uuid.uuid4().hex[:8]}'


def node_command(namespace: str, **parameters) -> list[str]:
    return [str(installed_executable('litetrack_node'))] + ros_args(namespace, parameters)


def run_to_exit(command: list[str], timeout_s: float = 90) -> tuple[int, str]:
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=timeout_s)
    return result.returncode, result.stdout


def node_in_graph(node, namespace: str) -> bool:
    return ('litetrack', namespace) in node.get_node_names_and_namespaces()


@pytest.mark.parametrize('value, words', [
    ('-1', ['lost_frames', 'Invalid parameter value (-1)']),        # out of range
    ('many', ['lost_frames', "expecting type 'INTEGER'"]),          # wrong type
])
def test_a_bad_parameter_at_start_exits_2_with_one_line(namespace, value, words):
    command = [str(installed_executable('litetrack_node')), '--ros-args',
               '-p', f'lost_frames:={value}', '-p', 'autostart:=false',
               '-r', f'__ns:={namespace}']
    status, output = run_to_exit(command)
    assert status == 2, output
    assert 'Traceback' not in output
    errors = [line for line in output.splitlines() if line.startswith('litetrack_node: error:')]
    assert len(errors) == 1, output
    for word in words:
        assert word in errors[0], errors[0]


def test_a_misspelt_variant_names_the_choices(namespace, tiny_weights):
    status, output = run_to_exit(node_command(namespace, weights=tiny_weights, variant='b6'))
    assert status == 1, output
    assert "invalid variant 'b6'" in output and 'B6' in output and 'LightTrack-M' in output
    assert 'Traceback' not in output


def test_shutdown_transition_ends_the_process(namespace, tiny_weights):
    from lifecycle_msgs.msg import Transition
    from lifecycle_msgs.srv import ChangeState
    with background_process(node_command(namespace, weights=tiny_weights, autostart=False)) \
            as tracker, ros_node('shutdown_caller') as node:
        change = node.create_client(ChangeState, f'{namespace}/litetrack/change_state')
        assert spin_until(node, change.service_is_ready, timeout_s=60)
        future = change.call_async(ChangeState.Request(
            transition=Transition(id=Transition.TRANSITION_UNCONFIGURED_SHUTDOWN)))
        assert spin_until(node, future.done, timeout_s=30) and future.result().success
        assert tracker.wait(timeout=30) == 0


def test_inactive_node_refuses_set_target_and_still_reports(namespace, tiny_weights):
    from diagnostic_msgs.msg import DiagnosticArray
    from lifecycle_msgs.msg import Transition
    from lifecycle_msgs.srv import ChangeState
    from litetrack_ros.srv import SetTarget
    base = f'{namespace}/litetrack'
    statuses = []
    with background_process(node_command(namespace, weights=tiny_weights, autostart=False,
                                         diagnostics_period=0.2)), \
            ros_node('inactive_checker') as node:
        node.create_subscription(
            DiagnosticArray, '/diagnostics',
            lambda m: statuses.extend(s for s in m.status if s.name.startswith(base)), 10)
        change = node.create_client(ChangeState, f'{base}/change_state')
        assert spin_until(node, change.service_is_ready, timeout_s=60)
        future = change.call_async(ChangeState.Request(
            transition=Transition(id=Transition.TRANSITION_CONFIGURE)))
        assert spin_until(node, future.done, timeout_s=60) and future.result().success

        client = node.create_client(SetTarget, f'{base}/set_target')
        assert spin_until(node, client.service_is_ready, timeout_s=30)
        request = SetTarget.Request()
        request.bbox.size_x = request.bbox.size_y = 20.0
        reply = client.call_async(request)
        assert spin_until(node, reply.done, timeout_s=30)
        assert not reply.result().success
        assert 'not active' in reply.result().message

        assert spin_until(node, lambda: bool(statuses), timeout_s=30), 'no diagnostics'
        values = {kv.key: kv.value for kv in statuses[-1].values}
        assert values['lifecycle'] == 'inactive'


def test_orphaned_node_shuts_down(namespace, tiny_weights):
    """A parent that dies without stopping the node (ros2/launch#666) does not orphan it."""
    parent_code = ('import subprocess, sys, time\n'
                   'child = subprocess.Popen(sys.argv[1:])\n'
                   'print(child.pid, flush=True)\n'
                   'time.sleep(600)\n')
    command = [sys.executable, '-c', parent_code] + node_command(namespace, weights=tiny_weights)
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as parent, \
            ros_node('orphan_watcher') as node:
        child = int(parent.stdout.readline())
        try:
            assert spin_until(node, lambda: node_in_graph(node, namespace), timeout_s=60)
            parent.kill()  # SIGKILL: the parent cannot pass anything on
            parent.wait()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and process_alive(child):
                time.sleep(0.2)
            assert not process_alive(child), 'the orphaned node kept running'
        finally:
            if process_alive(child):
                os.kill(child, signal.SIGKILL)


def process_alive(pid: int) -> bool:
    """Tell whether a process runs (a zombie waiting for its reaper counts as ended)."""
    try:
        state = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ('Z', 'X')


@pytest.mark.parametrize('delay_s', [0.3, 6.0], ids=['while-importing', 'running'])
def test_ctrl_c_of_video_source_is_quiet(tmp_path, delay_s):
    """SIGINT twice (the terminal's and launch's) during imports or while publishing."""
    import cv2
    import numpy as np
    for index in range(3):
        pixels = np.full((48, 64, 3), index * 40, np.uint8)
        cv2.imwrite(str(tmp_path / f'{index:03d}.png'), pixels)
    command = [str(installed_executable('video_source')), str(tmp_path), '--loop',
               '--rate', '10', '--topic', f'/quiet_{uuid.uuid4().hex[:8]}/image']
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as source:
        time.sleep(delay_s)
        source.send_signal(signal.SIGINT)
        time.sleep(0.05)
        if source.poll() is None:
            source.send_signal(signal.SIGINT)
        output, _ = source.communicate(timeout=30)
    # 130 from the entry point's handler; -SIGINT when the signal came before Python
    # installed its handler or after rclpy restored the default one: quiet either way.
    assert source.returncode in (0, 130, -signal.SIGINT), output
    assert 'Traceback' not in output and 'KeyboardInterrupt' not in output, output
