# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``litetrack-track``: a folder and a box in, a boxes file and an annotated video out (no ROS)."""

from pathlib import Path
import re
import subprocess
import sys

import cv2
from litetrack_ros.cli import track as offline
import numpy as np
import pytest
from sequences import count_video_frames, synthetic_sequence

NUM_FRAMES = 12
HEIGHT, WIDTH = 120, 160
FIRST_BOX = (40.0, 30.0, 32.0, 24.0)
BOX_TEXT = ','.join(f'{v:g}' for v in FIRST_BOX)


@pytest.fixture(scope='module')
def frames_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp('frames')
    sequence = synthetic_sequence(num_frames=NUM_FRAMES, image_size=(HEIGHT, WIDTH))
    for index in range(NUM_FRAMES):
        assert cv2.imwrite(str(folder / f'frame{index}.png'), sequence.frame(index)[:, :, ::-1])
    return folder


def read_boxes(path: Path) -> np.ndarray:
    lines = path.read_text().splitlines()
    assert all(re.fullmatch(r'[-0-9.]+(,[-0-9.]+){3}', line) for line in lines), lines
    return np.array([[float(v) for v in line.split(',')] for line in lines])


def test_boxes_file_has_one_line_per_frame_and_the_video_reads_back(
        tmp_path, frames_folder, tiny_weights, capsys):
    boxes_file, video = tmp_path / 'out' / 'boxes.txt', tmp_path / 'out' / 'track.mp4'
    status = offline.main([str(frames_folder), '--box', BOX_TEXT, '--weights', str(tiny_weights),
                           '--output-boxes', str(boxes_file), '--output-video', str(video)])
    assert status == 0, capsys.readouterr().err

    boxes = read_boxes(boxes_file)
    assert boxes.shape == (NUM_FRAMES, 4)
    np.testing.assert_allclose(boxes[0], FIRST_BOX, atol=0.01)
    # Every tracked box is a real box inside the frame (the tracker clips to it).
    assert (boxes[:, 2:] > 0).all()
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 0] + boxes[:, 2] <= WIDTH + 0.01).all()
    assert (boxes[:, 1] >= 0).all() and (boxes[:, 1] + boxes[:, 3] <= HEIGHT + 0.01).all()
    assert count_video_frames(video) == (NUM_FRAMES, (HEIGHT, WIDTH))
    assert f'{NUM_FRAMES} frames' in capsys.readouterr().out


def test_max_frames_stops_early_and_avi_is_mjpg(tmp_path, frames_folder, tiny_weights):
    boxes_file, video = tmp_path / 'boxes.txt', tmp_path / 'track.avi'
    assert offline.main([str(frames_folder), '--box', BOX_TEXT, '--weights', str(tiny_weights),
                         '--max-frames', '5', '--output-boxes', str(boxes_file),
                         '--output-video', str(video)]) == 0
    assert read_boxes(boxes_file).shape == (5, 4)
    assert count_video_frames(video)[0] == 5


def test_malformed_box_exits_2_with_a_clear_message(tmp_path, frames_folder):
    # The real command line: argument handling, message and exit status.
    result = subprocess.run(
        [sys.executable, '-m', 'litetrack_ros.cli.track', str(frames_folder), '--box', '1,2,3',
         '--output-boxes', str(tmp_path / 'boxes.txt')],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2
    assert "--box must be four comma-separated numbers x,y,w,h, got '1,2,3'" in result.stderr
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'boxes.txt').exists()


@pytest.mark.parametrize('box, complaint', [
    ('10,10,0,5', 'width and height must be positive'),
    ('10,nan,5,5', 'finite'),
    ('500,400,10,10', 'does not fit the first frame (160 x 120)'),
])
def test_unusable_boxes_exit_2_and_write_nothing(tmp_path, frames_folder, tiny_weights, capsys,
                                                 box, complaint):
    boxes_file = tmp_path / 'boxes.txt'
    status = offline.main([str(frames_folder), '--box', box, '--weights', str(tiny_weights),
                           '--output-boxes', str(boxes_file)])
    assert status == 2
    assert complaint in capsys.readouterr().err
    assert not boxes_file.exists()


def test_missing_source_and_missing_weights_exit_2(tmp_path, frames_folder, capsys):
    assert offline.main([str(tmp_path / 'nothing'), '--box', BOX_TEXT]) == 2
    assert 'no such video file or image folder' in capsys.readouterr().err
    assert offline.main([str(frames_folder), '--box', BOX_TEXT,
                         '--weights', str(tmp_path / 'missing.safetensors')]) == 2
    assert 'does not exist' in capsys.readouterr().err


def test_no_weights_warns_in_one_line_and_labels_untrained(tmp_path, frames_folder, capsys,
                                                           monkeypatch):
    monkeypatch.setattr(offline, 'default_weights_folders', lambda: [tmp_path / 'empty'])
    boxes_file = tmp_path / 'boxes.txt'
    status = offline.main([str(frames_folder), '--box', BOX_TEXT, '--max-frames', '2',
                           '--output-boxes', str(boxes_file)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    warnings = [line for line in captured.err.splitlines() if 'UNTRAINED' in line]
    assert len(warnings) == 1 and 'litetrack-convert' in warnings[0]
    assert 'UNTRAINED' in captured.out
    assert read_boxes(boxes_file).shape == (2, 4)


@pytest.mark.skipif(not re.search(r'GUI:\s*NONE', cv2.getBuildInformation()),
                    reason='this OpenCV build can open windows')
def test_show_without_gui_support_says_why(frames_folder, tiny_weights, capsys):
    status = offline.main([str(frames_folder), '--box', BOX_TEXT, '--show',
                           '--weights', str(tiny_weights)])
    assert status == 2
    assert 'needs OpenCV with GUI support' in capsys.readouterr().err
