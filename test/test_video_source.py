# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""video_source publishes folders as sensor_msgs/Image; the frame reader behind it.

The ROS tests run video_source as its own process and check the messages that
arrive over DDS: pixels, encoding, frame_id, stamps, count and exit status.
"""

from pathlib import Path
import subprocess
import sys
import time
import uuid

import cv2
from litetrack_ros.images.frame_reader import (
    FOLDER_FPS,
    FrameSourceError,
    is_camera,
    open_frames,
    source_fps,
)
import numpy as np
import pytest
from ros_support import background_process, ros_node, spin_until

# Natural order is f1, f2, f3, f10 (plain string order would put f10 second).
FRAME_NAMES = ('f10.png', 'f2.png', 'f1.png', 'f3.png')
NATURAL_ORDER = ('f1.png', 'f2.png', 'f3.png', 'f10.png')
WIDTH, HEIGHT = 6, 4
VIDEO_SOURCE = [sys.executable, '-m', 'litetrack_ros.ros_tools.video_source']


def frame_rgb(name: str) -> np.ndarray:
    """Return a frame whose every pixel tells which file it came from and where it sits."""
    number = int(name[1:-4])
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.stack([np.full((HEIGHT, WIDTH), 20 * number), rows * 40, cols * 40],
                    axis=2).astype(np.uint8)


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / 'img'
    folder.mkdir()
    for name in FRAME_NAMES:
        assert cv2.imwrite(str(folder / name), frame_rgb(name)[:, :, ::-1])
    (folder / 'notes.txt').write_text('not an image; skipped')
    return folder


def unique_topic() -> str:
    return f'/video_{uuid.uuid4().hex[:8]}'


def stamp_ns(message) -> int:
    return message.header.stamp.sec * 1_000_000_000 + message.header.stamp.nanosec


def receive_from_video_source(args: list[str], topic: str,
                              expected: int) -> tuple[list, int, str]:
    """Run video_source until it exits; return (messages received, exit code, output)."""
    from sensor_msgs.msg import Image

    received: list[Image] = []
    # Subscribe before the publisher starts, so discovery is done by its first frame.
    with ros_node('video_listener') as node:
        node.create_subscription(Image, topic, received.append, 10)
        with background_process([*VIDEO_SOURCE, *args]) as process:
            assert spin_until(node, lambda: process.poll() is not None, timeout_s=20), \
                'video_source did not finish'
            output = process.stdout.read()
        spin_until(node, lambda: len(received) >= expected, timeout_s=2)
        spin_until(node, lambda: False, timeout_s=0.2)  # nothing more may arrive
    return received, process.returncode, output


def test_folder_frames_come_in_natural_name_order_as_bgr(image_folder):
    frames = list(open_frames(image_folder))
    assert [index for index, _ in frames] == [0, 1, 2, 3]
    for (_, frame), name in zip(frames, NATURAL_ORDER, strict=True):
        np.testing.assert_array_equal(frame, frame_rgb(name)[:, :, ::-1])
    assert source_fps(image_folder) == FOLDER_FPS


def test_missing_source_is_refused_when_opened(tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(FileNotFoundError, match='nowhere'):
        open_frames(missing)
    with pytest.raises(FileNotFoundError):
        source_fps(str(missing))


def test_folder_without_images_is_refused(tmp_path):
    (tmp_path / 'readme.txt').write_text('no frames here')
    with pytest.raises(FrameSourceError, match='no images'):
        open_frames(tmp_path)


def test_unreadable_image_is_named_after_the_good_frames(image_folder):
    (image_folder / 'f11.png').write_bytes(b'not a png')
    frames = open_frames(image_folder)
    assert len([next(frames) for _ in NATURAL_ORDER]) == 4
    with pytest.raises(FrameSourceError, match='f11.png'):
        next(frames)


def test_video_file_frames_and_fps(tmp_path):
    path = tmp_path / 'clip.avi'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 12.0, (32, 24))
    assert writer.isOpened()
    colours_bgr = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    for colour in colours_bgr:
        writer.write(np.full((24, 32, 3), colour, np.uint8))
    writer.release()

    assert source_fps(path) == pytest.approx(12.0)
    frames = list(open_frames(path))
    assert [index for index, _ in frames] == [0, 1, 2]
    for (_, frame), colour in zip(frames, colours_bgr, strict=True):
        assert frame.shape == (24, 32, 3)
        np.testing.assert_allclose(frame.reshape(-1, 3).mean(axis=0), colour, atol=8)


def test_camera_indices_are_told_from_paths(image_folder):
    assert is_camera(0) and is_camera('2')
    assert not is_camera(image_folder) and not is_camera('clip.mp4')


@pytest.mark.ros
def test_publishes_folder_with_stamps_frame_id_and_max_frames(image_folder):
    topic = unique_topic()
    rate_hz = 10.0
    before_ns = time.time_ns()
    received, returncode, output = receive_from_video_source(
        [image_folder, '--topic', topic, '--max-frames', '3', '--rate', str(rate_hz),
         '--frame-id', 'test_camera', '--start-delay', '4'], topic, expected=3)

    assert returncode == 0, output
    assert len(received) == 3, output
    for message, name in zip(received, NATURAL_ORDER[:3], strict=True):
        assert message.encoding == 'rgb8'
        assert message.header.frame_id == 'test_camera'
        assert (message.height, message.width, message.step) == (HEIGHT, WIDTH, WIDTH * 3)
        assert message.is_bigendian == 0
        pixels = np.frombuffer(message.data, np.uint8).reshape(HEIGHT, WIDTH, 3)
        np.testing.assert_array_equal(pixels, frame_rgb(name))
    stamps = [stamp_ns(message) for message in received]
    assert stamps == sorted(set(stamps)), 'stamps must strictly increase'
    # Real capture times from the node clock, paced by --rate (not all at once).
    assert before_ns < stamps[0] < time.time_ns()
    assert stamps[-1] - stamps[0] >= 1e9 / rate_hz


@pytest.mark.ros
def test_loops_in_bgr8_on_a_remapped_topic(image_folder):
    topic = unique_topic()
    received, returncode, output = receive_from_video_source(
        [image_folder, '--loop', '--max-frames', '6', '--rate', '30', '--encoding', 'bgr8',
         '--start-delay', '4', '--ros-args', '-r', f'image:={topic}'], topic, expected=6)

    assert returncode == 0, output
    assert len(received) == 6, output
    expected_names = NATURAL_ORDER + NATURAL_ORDER[:2]
    for message, name in zip(received, expected_names, strict=True):
        assert message.encoding == 'bgr8'
        assert message.header.frame_id == 'camera'
        pixels = np.frombuffer(message.data, np.uint8).reshape(HEIGHT, WIDTH, 3)
        np.testing.assert_array_equal(pixels, frame_rgb(name)[:, :, ::-1])


@pytest.mark.ros
def test_missing_folder_exits_2_and_says_so(tmp_path):
    missing = tmp_path / 'no_such_folder'
    result = subprocess.run([*VIDEO_SOURCE, str(missing)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2
    assert 'no such video file or image folder' in result.stderr
    assert str(missing) in result.stderr


@pytest.mark.ros
def test_library_node_with_sensor_data_qos_is_best_effort(image_folder):
    from litetrack_ros.ros_tools.video_source import VideoSourceNode, VideoSourceOptions
    import rclpy
    from rclpy.qos import ReliabilityPolicy

    topic = unique_topic()
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        with pytest.raises(FileNotFoundError):
            VideoSourceNode(VideoSourceOptions(image_folder / 'missing'), context=context)
        node = VideoSourceNode(VideoSourceOptions(image_folder, topic=topic, qos='sensor_data',
                                                  rate=100.0, max_frames=2, start_delay=0.0),
                               context=context)
        try:
            (info,) = node.get_publishers_info_by_topic(topic)
            assert info.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT
            assert spin_until(node, node.done.done, timeout_s=5)
            assert node.done.result() == 2 and node.error is None
        finally:
            node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
