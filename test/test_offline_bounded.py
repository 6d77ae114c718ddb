# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The offline tools on bad input: the node's frame-size guard, clear exits, no hang.

``litetrack-track`` and ``litetrack-eval`` skip an odd-size frame exactly as the node
does (the guard is in the Tracker that ``build_tracker`` makes for every tool), refuse
a FIFO source without blocking, fail (non-zero, one line) on a corrupt video frame and
exit 2 when the first box lies outside the image; dataset images are read with bounded
memory (sizes from the header checked first).
"""

import os
from pathlib import Path
import re
import time

import cv2
from litetrack_ros.cli import track as offline
from litetrack_ros.evaluation import cli as eval_cli
from litetrack_ros.evaluation.baselines import LiteTrackAdapter
from litetrack_ros.evaluation.datasets import DatasetError, load_sequence
from litetrack_ros.images.frame_reader import FrameSourceError, read_image_file
from litetrack_ros.tracking.runtime import build_tracker
import numpy as np
import pytest
from sequences import synthetic_sequence

NUM_FRAMES = 10
HEIGHT, WIDTH = 120, 160
BOX = (40.0, 30.0, 32.0, 24.0)
GLITCH = 5


def write_folder(folder: Path, glitch: bool) -> Path:
    """Frames of a synthetic sequence; frame GLITCH is a 1 x 1 image (``glitch``) or absent.

    Skipping the 1 x 1 frame must give exactly the track of the folder without it.
    """
    folder.mkdir(parents=True)
    sequence = synthetic_sequence(num_frames=NUM_FRAMES, image_size=(HEIGHT, WIDTH))
    for index in range(NUM_FRAMES):
        frame = sequence.frame(index)[:, :, ::-1]
        if index == GLITCH:
            if not glitch:
                continue
            frame = frame[:1, :1]
        assert cv2.imwrite(str(folder / f'{index:08d}.png'), frame)
    return folder


def read_boxes(path: Path) -> np.ndarray:
    return np.array([[float(v) for v in line.split(',')] for line in path.read_text().split()])


def test_track_skips_an_odd_frame_like_the_node(tmp_path, tiny_weights, capsys):
    boxes = {}
    for glitch in (False, True):
        folder = write_folder(tmp_path / f'frames{glitch}', glitch)
        out = tmp_path / f'boxes{glitch}.txt'
        assert offline.main([str(folder), '--box', ','.join(map(str, BOX)),
                             '--weights', str(tiny_weights), '--output-boxes', str(out)]) == 0
        boxes[glitch] = read_boxes(out)
    assert 'frame 5 skipped' in capsys.readouterr().err
    clean, glitched = boxes[False], boxes[True]
    assert len(glitched) == NUM_FRAMES and len(clean) == NUM_FRAMES - 1
    np.testing.assert_array_equal(glitched[GLITCH], glitched[GLITCH - 1])  # previous box
    keep = [i for i in range(NUM_FRAMES) if i != GLITCH]
    np.testing.assert_allclose(glitched[keep], clean, atol=1e-4)  # track unchanged


def test_eval_adapter_skips_an_odd_frame_and_keeps_the_track(tmp_path, tiny_weights):
    results = {}
    for glitch in (False, True):
        folder = write_folder(tmp_path / f'seq{glitch}' / 'img', glitch)
        sequence = synthetic_sequence(num_frames=NUM_FRAMES, image_size=(HEIGHT, WIDTH))
        (folder.parent / 'groundtruth.txt').write_text(''.join(
            ','.join(f'{v:g}' for v in box) + '\n' for index, box in enumerate(sequence.boxes)
            if glitch or index != GLITCH))
        tracker, _ = build_tracker(tiny_weights, device='cpu', precision='fp32')
        adapter = LiteTrackAdapter(tracker)
        loaded = load_sequence(folder.parent)
        boxes = []
        for index in range(len(loaded)):
            image = loaded.load_frame(index)
            if index == 0:
                adapter.init(image, loaded.groundtruth[0])
                boxes.append(tuple(loaded.groundtruth[0]))
            else:
                boxes.append(adapter.update(image))
        results[glitch] = np.array(boxes)
    assert results[True][GLITCH].tolist() == results[True][GLITCH - 1].tolist()
    keep = [i for i in range(NUM_FRAMES) if i != GLITCH]
    np.testing.assert_allclose(results[True][keep], results[False], atol=1e-4)


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if 'error' in line]
    assert len(lines) == 1 and 'Traceback' not in err, err
    return lines[0]


def test_track_refuses_a_fifo_source_without_blocking(tmp_path, tiny_weights, capsys):
    fifo = tmp_path / 'camera.mp4'
    os.mkfifo(fifo)
    start = time.monotonic()
    status = offline.main([str(fifo), '--box', '1,1,5,5', '--weights', str(tiny_weights),
                           '--output-boxes', str(tmp_path / 'b.txt')])
    assert status == 2 and time.monotonic() - start < 10
    assert 'not a regular file' in one_line_error(capsys.readouterr().err)


def corrupt_video(path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, (WIDTH, HEIGHT))
    sequence = synthetic_sequence(num_frames=NUM_FRAMES, image_size=(HEIGHT, WIDTH))
    for index in range(NUM_FRAMES):
        writer.write(np.ascontiguousarray(sequence.frame(index)[:, :, ::-1]))
    writer.release()
    data = bytearray(path.read_bytes())
    starts = [m.start() for m in re.finditer(b'\xff\xd8', bytes(data))]
    data[starts[GLITCH]:starts[GLITCH] + 2000] = bytes(2000)  # frame 5 unreadable
    path.write_bytes(bytes(data))
    return path


def test_track_fails_on_a_corrupt_video_frame(tmp_path, tiny_weights, capsys):
    video = corrupt_video(tmp_path / 'clip.avi')
    status = offline.main([str(video), '--box', ','.join(map(str, BOX)),
                           '--weights', str(tiny_weights),
                           '--output-boxes', str(tmp_path / 'b.txt')])
    assert status not in (0, 2)
    assert 'corrupt or truncated' in one_line_error(capsys.readouterr().err)


def test_eval_exits_2_when_the_first_box_is_outside_the_image(tmp_path, capsys):
    folder = write_folder(tmp_path / 'data' / 'seq' / 'img', glitch=False)
    (folder.parent / 'groundtruth.txt').write_text(
        ''.join(f'{WIDTH + 50},{HEIGHT + 50},10,10\n' for _ in folder.iterdir()))
    status = eval_cli.main([str(tmp_path / 'data'), '--tracker', 'mil', '--out',
                            str(tmp_path / 'out'), '--no-progress'])
    assert status == 2
    assert 'cannot initialise on the first frame' in one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize('name, header', [
    # A PNG header claiming 100000 x 100000 pixels (30 GB decoded) in 33 bytes.
    ('bomb.png', b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' + (100_000).to_bytes(4, 'big') * 2
     + b'\x08\x02\x00\x00\x00\x00\x00\x00\x00'),
    ('fills.jpg', b'\xff\xd8' + b'\xff' * 2_000_000),
])
def test_dataset_images_are_checked_before_decoding(tmp_path, name, header):
    path = tmp_path / name
    path.write_bytes(header)
    start = time.monotonic()
    with pytest.raises(FrameSourceError, match=name):
        read_image_file(path)
    assert time.monotonic() - start < 1
    folder = tmp_path / 'seq' / 'img'
    folder.mkdir(parents=True)
    (folder / '00000001.png').write_bytes(path.read_bytes())
    (folder.parent / 'groundtruth.txt').write_text('1,1,5,5\n')
    with pytest.raises(DatasetError):
        load_sequence(folder.parent).load_frame(0)
