# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""select_target, run as its own process, sends the right SetTarget request.

A SetTarget server in the test process records what arrives over DDS and
answers as each test needs.
"""

import re
import subprocess
import sys
import time
import uuid

import pytest
from ros_support import background_process, ros_node, spin_until

pytestmark = pytest.mark.ros

SELECT_TARGET = [sys.executable, '-m', 'litetrack_ros.ros_tools.select_target']


def unique_service() -> str:
    return f'/litetrack_{uuid.uuid4().hex[:8]}/set_target'


def run_against_server(args: list[str], service: str, *, success: bool, message: str,
                       track_id: int) -> tuple[list, int, str]:
    """Run select_target with a server answering as given; return (requests, exit, output)."""
    from litetrack_ros.srv import SetTarget

    requests: list[SetTarget.Request] = []

    def answer(request: SetTarget.Request, response: SetTarget.Response) -> SetTarget.Response:
        requests.append(request)
        response.success, response.message, response.track_id = success, message, track_id
        return response

    with ros_node('set_target_test_server') as node:
        node.create_service(SetTarget, service, answer)
        with background_process([*SELECT_TARGET, *args, '--service', service]) as process:
            assert spin_until(node, lambda: process.poll() is not None, timeout_s=20), \
                'select_target did not finish'
            return requests, process.returncode, process.stdout.read()


def run_select_target(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SELECT_TARGET, *args], capture_output=True, text=True, timeout=30)


def test_accepted_box_is_sent_as_center_and_size_with_exact_stamp():
    service = unique_service()
    requests, returncode, output = run_against_server(
        ['10', '20', '30', '40', '--stamp', '1712345678.000000500'], service,
        success=True, message='tracking target 3', track_id=3)

    assert returncode == 0, output
    (request,) = requests
    bbox = request.bbox
    assert (bbox.center.position.x, bbox.center.position.y) == (25.0, 40.0)
    assert (bbox.size_x, bbox.size_y) == (30.0, 40.0)
    assert (request.stamp.sec, request.stamp.nanosec) == (1712345678, 500)
    assert 'success: true' in output
    assert 'message: tracking target 3' in output
    assert 'track_id: 3' in output


def test_refusal_exits_1_and_prints_the_reason():
    service = unique_service()
    requests, returncode, output = run_against_server(
        ['-5', '0', '20', '10.5'], service,
        success=False, message='no buffered frame with that stamp', track_id=0)

    assert returncode == 1, output
    (request,) = requests
    # A box may start left of the image; the node decides what to do with it.
    assert (request.bbox.center.position.x, request.bbox.center.position.y) == (5.0, 5.25)
    assert (request.stamp.sec, request.stamp.nanosec) == (0, 0)  # newest frame
    assert 'success: false' in output
    assert 'message: no buffered frame with that stamp' in output


def test_missing_service_exits_2_quickly():
    service = unique_service()
    started = time.monotonic()
    result = run_select_target('1', '2', '3', '4', '--service', service, '--timeout', '0.5')
    assert result.returncode == 2
    assert time.monotonic() - started < 10
    assert f'service {service} is not available after 0.5 s' in result.stderr


@pytest.mark.parametrize('args, complaint', [
    (['1', '2', '0', '4'], 'positive width and height'),
    (['1', '2', '3'], 'give the box as X Y W H'),
    (['1', '2', '3', '4', '--stamp', '12.1234567891'], 'is not SEC.NANOSEC'),
    (['1', '2', '3', '4', '--stamp', '-1.5'], 'is not SEC.NANOSEC'),
])
def test_bad_command_lines_exit_2_with_a_usage_message(args, complaint):
    result = run_select_target(*args, '--service', unique_service())
    assert result.returncode == 2
    assert complaint in result.stderr


def test_gui_without_gui_support_says_why():
    import cv2
    if not re.search(r'GUI:\s*NONE', cv2.getBuildInformation()):
        pytest.skip('this OpenCV can open windows; the test must not open one')
    result = run_select_target('--gui', '--service', unique_service())
    assert result.returncode == 2
    assert 'no GUI support' in result.stderr and 'select_target X Y W H' in result.stderr


def test_stamp_text_is_parsed_exactly():
    from litetrack_ros.ros_tools.select_target import parse_stamp

    assert parse_stamp('1712345678.000000500') == (1712345678, 500)
    assert parse_stamp('1712345678.123456789') == (1712345678, 123456789)
    assert parse_stamp('12.5') == (12, 500_000_000)
    assert parse_stamp('7') == (7, 0)
    with pytest.raises(ValueError, match='at most 9 digits'):
        parse_stamp('1.0000000001')
