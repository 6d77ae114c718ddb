# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Depth images matched to colour frames by stamp, bounded, waiting only when it may pay."""

import threading
import time

from litetrack_ros.node.depth_buffer import DepthBuffer
import pytest

MS = 1_000_000


def test_nearest_stamp_within_the_tolerance_is_matched():
    depth = DepthBuffer(capacity=4)
    for stamp in (100, 133, 166):
        depth.offer(stamp * MS, f'depth {stamp}')
    assert depth.match(140 * MS, 20 * MS) == ('depth 133', '')
    assert depth.match(160 * MS, 20 * MS) == ('depth 166', '')
    message, reason = depth.match(200 * MS, 20 * MS)
    assert message is None
    assert reason == ('no depth image within 20 ms of the frame (nearest 34.0 ms before it): '
                      'depth out of sync')


def test_only_the_last_messages_are_kept():
    depth = DepthBuffer(capacity=2)
    for stamp in (100, 133, 166):
        depth.offer(stamp * MS, stamp)
    assert depth.match(100 * MS, 5 * MS)[0] is None
    assert depth.match(133 * MS, 5 * MS)[0] == 133


def test_nothing_received_says_so():
    assert DepthBuffer(4).match(0, 20 * MS, wait_s=1.0) == (None, 'no depth image received yet')


def test_a_late_depth_image_is_waited_for():
    depth = DepthBuffer(capacity=4)
    depth.offer(100 * MS, 'old')
    timer = threading.Timer(0.05, depth.offer, (133 * MS, 'late'))
    timer.start()
    try:
        assert depth.match(133 * MS, 5 * MS, wait_s=5.0) == ('late', '')
    finally:
        timer.join()


def test_no_wait_when_a_newer_image_is_there_or_the_stream_is_silent(monkeypatch):
    depth = DepthBuffer(capacity=4)
    depth.offer(200 * MS, 'newer')
    started = time.monotonic()
    assert depth.match(100 * MS, 5 * MS, wait_s=5.0)[0] is None
    assert time.monotonic() - started < 1.0  # a newer image: the frame's will not come
    silent = DepthBuffer(capacity=4)
    silent.offer(100 * MS, 'old')
    monkeypatch.setattr('litetrack_ros.node.depth_buffer.ALIVE_S', 0.0)
    started = time.monotonic()
    assert silent.match(200 * MS, 5 * MS, wait_s=5.0)[0] is None
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize('wait_s', [0.0, 0.1])
def test_waiting_is_bounded(wait_s):
    depth = DepthBuffer(capacity=4)
    depth.offer(100 * MS, 'old')
    started = time.monotonic()
    message, reason = depth.match(200 * MS, 5 * MS, wait_s=wait_s)
    assert message is None and 'out of sync' in reason
    assert wait_s <= time.monotonic() - started < wait_s + 1.0
