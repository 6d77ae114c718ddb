# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The frame-size guard: odd frames are skipped, genuine resolution changes followed."""

from litetrack_ros.model import LiteTrack, ModelConfig
from litetrack_ros.tracking.frame_guard import FrameSizeGuard
from litetrack_ros.tracking.tracker import Tracker
import numpy as np
import pytest
from sequences import synthetic_sequence
import torch


def test_a_single_odd_frame_is_skipped_and_the_stream_size_kept():
    guard = FrameSizeGuard(confirm_frames=3)
    assert guard.check(480, 640) is None
    reason = guard.check(2000, 3000)
    assert reason is not None and '3000 x 2000' in reason and '640 x 480' in reason
    assert guard.size_hw == (480, 640)
    assert guard.check(480, 640) is None
    assert guard.check(2000, 3000) is not None, 'the count restarts after a normal frame'


def test_a_resolution_change_that_persists_is_followed():
    guard = FrameSizeGuard(confirm_frames=3)
    guard.check(480, 640)
    assert guard.check(720, 1280) is not None
    assert guard.check(720, 1280) is not None
    assert guard.check(720, 1280) is None
    assert guard.size_hw == (720, 1280)
    assert guard.check(480, 640) is not None, 'the old size is now the odd one'


def test_tiny_frames_are_never_tracked():
    guard = FrameSizeGuard(confirm_frames=1)
    guard.check(480, 640)
    for _ in range(5):
        assert 'too small' in guard.check(2, 2)
    assert guard.size_hw == (480, 640)


def test_reset_to_the_frame_a_target_was_set_on():
    guard = FrameSizeGuard()
    guard.check(480, 640)
    guard.reset((240, 320))
    assert guard.check(240, 320) is None and guard.check(480, 640) is not None
    with pytest.raises(ValueError):
        FrameSizeGuard(confirm_frames=0)


def test_guarded_tracker_survives_an_odd_frame_unchanged():
    """With the guard in front, a glitch frame leaves the track and the boxes as without it."""
    sequence = synthetic_sequence(num_frames=12, image_size=(240, 320))

    def run(glitch: bool) -> list:
        torch.manual_seed(0)
        net = LiteTrack(ModelConfig(depth=2, num_interaction=1, embed_dim=32, num_heads=2,
                                    template_size=32, search_size=64, head_channels=16))
        tracker = Tracker(net)
        guard = FrameSizeGuard()
        tracker.initialize(sequence.frame(0), sequence.boxes[0])
        guard.reset(sequence.frame(0).shape[:2])
        boxes = []
        for index in range(1, len(sequence)):
            if glitch and index == 5:
                odd = np.zeros((3000, 4000, 3), np.uint8)
                assert guard.check(*odd.shape[:2]) is not None
            frame = sequence.frame(index)
            assert guard.check(*frame.shape[:2]) is None
            boxes.append(tracker.track(frame).box_xywh)
        return boxes

    assert run(glitch=True) == run(glitch=False)
