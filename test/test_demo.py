# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The demo end to end: video_source, the node and the recorder as separate ROS processes.

Short runs of the generated video at a small size; the tiny checkpoint keeps
tracking fast, the untrained run is kept to a few frames.
"""

import csv
import json
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import time

import cv2
import pytest
from sequences import count_video_frames

pytestmark = pytest.mark.ros

DEMO = [sys.executable, '-m', 'litetrack_ros.ros_tools.demo']
FRAMES = 25
# The demo records one pass of the looping video, numbered by content, so frames
# missed while DDS was matching do not count; within the pass only DDS itself
# could drop a frame of a local reliable topic.
MAX_LOST_FRAMES = 2
STAMP = re.compile(r'\d+\.\d{9}')


def run_demo(tmp_path: Path, *args: str, timeout_s: float = 85) -> subprocess.CompletedProcess:
    # From tmp_path: `-m` must import the installed package, not a source tree.
    return subprocess.run([*DEMO, '--output', str(tmp_path / 'out'), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout_s)


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain text (children left behind)."""
    found = []
    for cmdline in Path('/proc').glob('[0-9]*/cmdline'):
        try:
            command = cmdline.read_bytes().replace(b'\0', b' ').decode(errors='replace')
        except OSError:
            continue
        if text in command and 'pytest' not in command:
            found.append(command)
    return found


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline='') as file:
        return list(csv.DictReader(file))


def test_short_run_writes_video_csv_plot_and_summary(tmp_path, tiny_weights):
    started = time.monotonic()
    result = run_demo(tmp_path, '--frames', str(FRAMES), '--size', '320x240', '--rate', '15',
                      '--weights', str(tiny_weights))
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.monotonic() - started < 90
    out = tmp_path / 'out'
    assert not processes_mentioning(str(tmp_path)), 'the demo left its children running'

    summary = json.loads((out / 'summary.json').read_text())
    received = summary['frames']
    assert summary['video_frames'] == FRAMES
    assert FRAMES - MAX_LOST_FRAMES <= received <= FRAMES
    assert summary['weights'] == str(tiny_weights) and not summary['untrained']
    assert summary['device'] == 'cpu'

    # One CSV row and one video frame per frame received, from frame 0, stamps in order.
    rows = read_csv(out / 'detections.csv')
    assert len(rows) == received
    frame_numbers = [int(row['frame']) for row in rows]
    assert frame_numbers[0] == 0 and frame_numbers[-1] < FRAMES
    assert frame_numbers == sorted(set(frame_numbers))
    assert all(STAMP.fullmatch(row['stamp']) for row in rows)
    stamps = [int(row['stamp'].replace('.', '')) for row in rows]
    assert stamps == sorted(set(stamps))
    assert count_video_frames(out / 'annotated.mp4') == (received, (240, 320))

    # The target was set on frame 0 (on a later one only if the node missed it).
    initial = frame_numbers.index(summary['initial_frame'])
    assert initial <= MAX_LOST_FRAMES
    assert rows[initial]['status'] == 'initial'
    groundtruth = (out / 'scene_groundtruth.txt').read_text().splitlines()
    assert summary['initial_box'] == pytest.approx(
        [float(v) for v in groundtruth[summary['initial_frame']].split(',')], abs=0.01)
    after = rows[initial + 1:]
    tracked = [row for row in after if row['status'] == 'tracked']
    assert tracked, 'the tiny network scores above the lost threshold: expected detections'
    for row in tracked:
        assert 0.0 <= float(row['score']) <= 1.0
        assert float(row['w']) > 0 and float(row['h']) > 0
        assert row['track_id'] == summary['track_id']
        assert 0.0 < float(row['latency_ms']) < 30_000
    for row in after:
        if row['status'] != 'tracked':
            assert row['x'] == row['score'] == ''
    assert summary['tracked_fraction'] == pytest.approx(len(tracked) / len(after))
    assert summary['median_latency_ms'] > 0
    assert 0.0 <= summary['mean_iou'] <= 1.0

    plot = cv2.imread(str(out / 'plot.png'))
    assert plot is not None and plot.shape[0] > 200 and plot.shape[1] > 300
    assert 'tracked' in result.stdout and 'median' in result.stdout
    assert 'UNTRAINED' not in result.stdout


def test_without_weights_runs_untrained_and_says_so(tmp_path):
    empty = tmp_path / 'no_weights'
    empty.mkdir()
    result = run_demo(tmp_path, '--frames', '6', '--size', '160x128', '--rate', '4',
                      '--weights', str(empty))
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((tmp_path / 'out' / 'summary.json').read_text())
    # An empty --weights folder falls back to the package's weights/, as the node
    # would; only where that has none is the network untrained.
    from ament_index_python.packages import get_package_share_directory
    from litetrack_ros.tracking.runtime import find_checkpoint
    installed = find_checkpoint(Path(get_package_share_directory('litetrack_ros')) / 'weights')
    if installed is not None:
        assert summary['weights'] == str(installed) and not summary['untrained']
        return
    assert summary['untrained'] and summary['weights'] == 'UNTRAINED'
    notice = [line for line in result.stdout.splitlines() if 'no LiteTrack checkpoint' in line]
    assert len(notice) == 1 and 'github.com/TsingWei/LiteTrack' in notice[0]
    title = next(line for line in result.stdout.splitlines() if line.startswith('LiteTrack'))
    assert 'UNTRAINED network' in title
    node_log = (tmp_path / 'out' / 'logs' / 'litetrack_node.log').read_text()
    assert 'UNTRAINED' in node_log


def _interruptible() -> None:
    # Ctrl-C as a terminal gives it: a shell that ran this suite in the background
    # (``make test &``) passes SIGINT on ignored, and then the demo never sees it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_interrupt_stops_the_children_and_keeps_what_was_recorded(tmp_path, tiny_weights):
    demo = subprocess.Popen(
        [*DEMO, '--output', str(tmp_path / 'out'), '--frames', '60', '--size', '160x128',
         '--rate', '10', '--weights', str(tiny_weights)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_interruptible)
    try:
        lines = []
        for line in demo.stdout:
            lines.append(line)
            if 'target set on frame' in line:
                break
        assert any('target set' in line for line in lines), ''.join(lines)
        time.sleep(1.0)
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 130, ''.join(lines) + output
    assert not processes_mentioning(str(tmp_path)), 'children survived Ctrl-C'
    summary = json.loads((tmp_path / 'out' / 'summary.json').read_text())
    assert summary['interrupted'] and 0 < summary['frames'] < 60
    assert len(read_csv(tmp_path / 'out' / 'detections.csv')) == summary['frames']


def test_other_source_needs_a_box(tmp_path):
    result = run_demo(tmp_path, '--source', os.fspath(tmp_path), timeout_s=60)
    assert result.returncode == 2
    assert '--source needs --box' in result.stderr
    assert not (tmp_path / 'out' / 'logs').exists(), 'nothing may start before the checks'
