# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""A detector's arrays as re-acquisition candidates (litetrack_ros.node.detector_candidates)."""

import math
import time

import pytest

pytestmark = pytest.mark.ros


def array(stamp_ns, boxes):
    """Return a Detection2DArray of ``(x, y, w, h, class_id, score)`` boxes."""
    from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose
    message = Detection2DArray()
    message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 10 ** 9)
    for x, y, w, h, class_id, score in boxes:
        detection = Detection2D()
        detection.bbox.center.position.x, detection.bbox.center.position.y = x + w / 2, y + h / 2
        detection.bbox.size_x, detection.bbox.size_y = w, h
        hypothesis = ObjectHypothesisWithPose()
        hypothesis.hypothesis.class_id, hypothesis.hypothesis.score = class_id, score
        detection.results.append(hypothesis)
        message.detections.append(detection)
    return message


def test_wanted_classes_and_valid_boxes_only():
    from litetrack_ros.node.detector_candidates import candidates_from, parse_classes
    message = array(0, [(10, 20, 30, 40, 'person', 0.9), (0, 0, 5, 5, 'dog', 0.8),
                        (0, 0, 0, 5, 'person', 0.7), (math.nan, 0, 5, 5, 'person', 0.6)])
    found = candidates_from(message, parse_classes(' person , '))
    assert [(c.box_xywh, c.class_id, c.score) for c in found] == \
        [((10.0, 20.0, 30.0, 40.0), 'person', pytest.approx(0.9))]
    assert len(candidates_from(message, frozenset())) == 2  # every class


def test_an_array_of_many_boxes_costs_a_bounded_read():
    from litetrack_ros.node.detector_candidates import (
        candidates_from,
        DetectorCandidates,
        MAX_DETECTIONS,
    )
    message = array(0, [(i % 600, 10, 8, 8, 'person', 0.5) for i in range(20 * MAX_DETECTIONS)])
    started = time.monotonic()
    found = candidates_from(message, frozenset())
    assert len(found) == MAX_DETECTIONS and found[0].box_xywh[0] == 0.0
    assert time.monotonic() - started < 2.0
    kept = DetectorCandidates()
    kept.on_detections(message)
    assert len(kept.for_frame(message.header.stamp, 0.1)) == MAX_DETECTIONS


def test_the_array_closest_in_stamp_within_the_age_limit():
    from builtin_interfaces.msg import Time
    from litetrack_ros.node.detector_candidates import DetectorCandidates
    kept = DetectorCandidates()
    kept.on_detections(array(1_000_000_000, [(1, 1, 4, 4, 'a', 0.5)]))
    kept.on_detections(array(2_000_000_000, [(2, 2, 4, 4, 'a', 0.5)]))
    assert [c.box_xywh[0] for c in kept.for_frame(Time(sec=2, nanosec=100_000_000), 0.5)] == [2.0]
    assert kept.for_frame(Time(sec=5), 0.5) == []
    assert kept.received == 2
