# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Per-message work and memory are bounded: header checks, decodes, the ring buffer, threads.

No ROS needed: the node's pieces (image checks, FrameBuffer, TrackingWorker) are driven
directly with message-like objects, as the executor and the tracking thread do.
"""

import threading
import time
from types import SimpleNamespace

import cv2
from litetrack_ros.images.image_codec import (
    check_message,
    decode_compressed,
    decode_image,
    ImageDecodeError,
    MAX_JPEG_SCANS,
)
from litetrack_ros.node.frames import FrameBuffer
from litetrack_ros.node.worker import TrackingWorker
import numpy as np
import pytest


def compressed(data: bytes, stamp: int = 0):
    return SimpleNamespace(format='jpeg', data=data,
                           header=SimpleNamespace(stamp=SimpleNamespace(sec=stamp, nanosec=0)))


def raw(height: int, width: int, step: int, stamp: int = 0):
    return SimpleNamespace(encoding='rgb8', height=height, width=width, step=step,
                           is_bigendian=0, data=bytes(height * step),
                           header=SimpleNamespace(stamp=SimpleNamespace(sec=stamp, nanosec=0)))


def jpeg(progressive: bool = False) -> bytes:
    image = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    ok, data = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])
    assert ok
    return data.tobytes()


@pytest.mark.parametrize('payload', [
    b'\xff' * 4_000_000,  # fill bytes: one Python step per byte before
    b'\xff\xfe\x00\x02' * 1_000_000,  # a million empty comment segments
])
def test_jpeg_header_walk_is_bounded_whatever_the_payload(payload):
    message = compressed(b'\xff\xd8' + payload + jpeg()[2:])
    start = time.perf_counter()
    with pytest.raises(ImageDecodeError, match='segments before its frame header'):
        check_message(message)
    assert time.perf_counter() - start < 0.05


def test_jpeg_with_too_many_scans_is_refused_before_decoding():
    data = jpeg(progressive=True)
    scans = [i for i in range(len(data) - 1) if data[i:i + 2] == b'\xff\xda']
    assert 1 < len(scans) <= MAX_JPEG_SCANS
    assert decode_compressed('jpeg', data).shape == (64, 64, 3)  # a real one decodes
    last_scan = data[scans[-1]:-2]  # up to EOI
    crafted = data[:-2] + last_scan * 500 + b'\xff\xd9'
    assert len(crafted) < 400_000
    start = time.perf_counter()
    with pytest.raises(ImageDecodeError, match='scans'):
        decode_compressed('jpeg', crafted)
    assert time.perf_counter() - start < 0.5


def test_raw_frame_memory_is_bounded_by_pixels_whatever_the_step():
    big_step = raw(1, 1, 60_000_000)  # 1 pixel carrying 60 MB
    with pytest.raises(ImageDecodeError, match='padding this large'):
        check_message(big_step, max_pixels=4096 * 4096)
    with pytest.raises(ImageDecodeError, match='padding this large'):
        decode_image('rgb8', 1, 1, 60_000_000, False, big_step.data, max_pixels=4096 * 4096)
    padded = raw(4, 4, 64)  # ordinary row padding is fine
    assert check_message(padded) == (4, 4)
    assert decode_image('rgb8', 4, 4, 64, False, padded.data).shape == (4, 4, 3)


def test_ring_buffer_keeps_a_byte_budget_and_the_newest_frame():
    frames = FrameBuffer(capacity=30, max_bytes=1_000_000)
    for stamp in range(1, 31):
        frames.offer(raw(100, 100, 1000, stamp))  # 100 KB each
    assert len(frames) == 10 and frames.buffered_bytes == 1_000_000
    assert frames.find(SimpleNamespace(sec=21, nanosec=0)) is not None
    assert frames.find(SimpleNamespace(sec=20, nanosec=0)) is None
    frames.offer(raw(100, 100, 30_000, 99))  # larger than the budget alone: still kept
    newest = frames.find(SimpleNamespace(sec=0, nanosec=0))
    assert len(frames) == 1 and newest.header.stamp.sec == 99


def test_posted_tasks_run_before_frames_and_the_newest_replaces_a_pending_one():
    frames = FrameBuffer(capacity=5)
    frames.offer(raw(2, 2, 6, 1))
    frames.post(lambda: 'old')
    frames.post(lambda: 'new')
    stop = threading.Event()
    task, message = frames.take_next(stop)
    assert message is None and task() == 'new' and frames.tasks_replaced == 1
    task, message = frames.take_next(stop)
    assert task is None and message.header.stamp.sec == 1
    frames.post(lambda: None)
    frames.cancel_task()
    stop.set()
    assert frames.take_next(stop) == (None, None)


def wait_for(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


def test_deactivate_timing_out_on_a_slow_frame_never_adds_threads():
    """Stop times out on a slow frame and start comes before it ends: still one thread."""
    frames = FrameBuffer(capacity=5)
    release = threading.Event()
    started, finished = [], []

    def slow_step(message):
        started.append(message)
        release.wait(5)
        finished.append(message)

    worker = TrackingWorker(frames, slow_step, lambda error: None, name='bounded_test_worker')

    def ours():
        return [t for t in threading.enumerate() if t.name == 'bounded_test_worker']

    worker.start()
    for cycle in range(5):
        frames.offer(raw(2, 2, 6, cycle))
        assert wait_for(lambda cycle=cycle: len(started) > cycle)
        assert not worker.stop(timeout_s=0.05)  # deactivate times out on the slow frame
        worker.start()  # activate again before that frame ends
        assert len(ours()) == 1
        release.set()
        assert wait_for(lambda cycle=cycle: len(finished) > cycle)
        release.clear()
    assert len(ours()) == 1 and worker.running
    frames.offer(raw(2, 2, 6, 99))  # the carried-on thread still tracks
    assert wait_for(lambda: len(started) == 6)
    release.set()
    assert worker.stop(timeout_s=5)
    assert wait_for(lambda: not ours())


def test_depth_buffer_keeps_a_byte_budget_too():
    from litetrack_ros.node.depth_buffer import DepthBuffer
    depth = DepthBuffer(capacity=10, max_bytes=250_000)
    for stamp in range(10):
        depth.offer(stamp, raw(100, 100, 1000, stamp))  # 100 KB each
    found, _ = depth.match(9, 0)
    assert found is not None and depth.match(7, 0)[0] is None  # only the two newest fit


def test_set_target_task_runs_off_the_executor_and_respects_reset():
    """The task decodes and initialises; a reset (or newer request) before it runs wins."""
    from litetrack_ros.node.targets import set_target_task

    class FakeTracker:
        initialized = None

        def initialize(self, image, box):
            self.initialized = (image.shape, tuple(box))

    rejected = []
    node = SimpleNamespace(_max_pixels=4096 * 4096, _tracker_lock=threading.Lock(),
                           _tracker=FakeTracker(), _pending_id=1, _tracked_id=0,
                           _last_result='old', _reject=rejected.append)
    message = raw(48, 64, 64 * 3)
    set_target_task(node, message, (5, 5, 20, 20), 1)()
    assert node._tracker.initialized == ((48, 64, 3), (5, 5, 20, 20))
    assert node._tracked_id == 1 and node._pending_id == 0 and node._last_result is None

    node._tracker, node._pending_id = FakeTracker(), 0  # reset came before the task ran
    set_target_task(node, message, (5, 5, 20, 20), 2)()
    assert node._tracker.initialized is None and node._tracked_id == 1

    node._pending_id = 3
    broken = raw(48, 64, 64 * 3)
    broken.data = bytes(10)  # fails to decode in the tracking thread: counted, target kept
    set_target_task(node, broken, (5, 5, 20, 20), 3)()
    assert node._tracker.initialized is None and rejected and 'set_target frame' in rejected[0]
