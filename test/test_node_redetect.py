# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The node when the target leaves and comes back elsewhere, over real ROS 2.

Frames of the generated leave-and-return scene (``test_redetect.py``: 10 frames with
the target, 20 without, then the target back 5 target sizes away) go to the node one
at a time, each waiting for its detection array, with the project's default weights
(which score the empty background far below the target).
"""

import uuid

from conftest import REPO_ROOT
import pytest
from ros_support import background_process, ros_node, spin_until
from test_node import box_iou, node_command, ours, rgb_message, set_target, stamp_key
from test_redetect import leave_and_return_scene, RETURN_BOX

pytestmark = pytest.mark.ros
WEIGHTS = REPO_ROOT / 'weights' / 'litetrack_default_s.safetensors'
PERIOD_NS = 100_000_000
PRESENCE = {'lost_threshold': 0.5, 'lost_frames': 2, 'redetect_threshold': 0.6}


def detection_array(stamp_ns, boxes):
    """Build a detector's output from (x, y, w, h, class_id, score) per box."""
    from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose
    array = Detection2DArray()
    array.header.stamp.sec, array.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    for x, y, w, h, class_id, score in boxes:
        detection = Detection2D()
        detection.bbox.center.position.x, detection.bbox.center.position.y = x + w / 2, y + h / 2
        detection.bbox.size_x, detection.bbox.size_y = float(w), float(h)
        hypothesis = ObjectHypothesisWithPose()
        hypothesis.hypothesis.class_id, hypothesis.hypothesis.score = class_id, score
        detection.results.append(hypothesis)
        array.detections.append(detection)
    return array


class Wire:
    """The observer's side: publishes frames (and detections), collects the node's output."""

    def __init__(self, node, namespace):
        from diagnostic_msgs.msg import DiagnosticArray
        from sensor_msgs.msg import Image
        from vision_msgs.msg import Detection2DArray
        self.node, self.namespace = node, namespace
        self.images = node.create_publisher(Image, f'{namespace}/image', 10)
        self.detector = node.create_publisher(Detection2DArray, f'{namespace}/detector', 10)
        self.arrays = {}
        self.diagnostics = []
        node.create_subscription(Detection2DArray, f'{namespace}/litetrack/detections',
                                 lambda m: self.arrays.setdefault(stamp_key(m.header), m), 50)
        node.create_subscription(DiagnosticArray, '/diagnostics',
                                 lambda m: self.diagnostics.extend(ours(m, namespace)), 50)

    def wait_for_detector(self):
        """Publish arrays (stamped far from any frame) until the node says it got one."""
        def received():
            self.detector.publish(detection_array(10 ** 12, []))
            return any(d.get('detection_arrays_received', '0') != '0'
                       for d in self.diagnostics)
        assert spin_until(self.node, received, timeout_s=30), 'the node hears no detector'

    def send(self, frame, stamp_ns, detections=None):
        """Publish (detections first, then) a frame; return the node's array for it."""
        message = rgb_message(frame, stamp_ns)
        key = stamp_key(message.header)
        for _ in range(5):  # a frame published before the node's reader matched is lost
            if detections is not None:
                self.detector.publish(detection_array(stamp_ns, detections))
                spin_until(self.node, lambda: False, timeout_s=0.05)
            self.images.publish(message)
            if spin_until(self.node, lambda: key in self.arrays, timeout_s=6):
                return self.arrays[key]
        raise AssertionError(f'no detection array for frame {stamp_ns}')


def boxes_of(array):
    return [(d.bbox.center.position.x - d.bbox.size_x / 2,
             d.bbox.center.position.y - d.bbox.size_y / 2, d.bbox.size_x, d.bbox.size_y)
            for d in array.detections]


def test_absent_reported_as_empty_arrays_then_found_again_by_the_global_search():
    namespace = f'/cam_{uuid.uuid4().hex[:8]}'
    frames, truth = leave_and_return_scene()
    command = node_command(namespace, f'{namespace}/image', weights=WEIGHTS,
                           redetect_tiles=4, cpu_threads=1, **PRESENCE)
    with background_process(command) as process, ros_node('observer') as node:
        wire = Wire(node, namespace)
        wire.send(frames[0], PERIOD_NS)  # buffered, no target yet: empty
        reply = set_target(node, f'{namespace}/litetrack/set_target', *truth[0],
                           stamp_ns=PERIOD_NS)
        assert reply.success, reply.message
        arrays = [wire.send(frames[index], (index + 1) * PERIOD_NS) for index in range(1, 30)]
        # Away: the diagnostics say so (published once a second).

        def searching():
            return any(d.get('state') == 'searching' for d in wire.diagnostics[-2:])
        assert spin_until(node, searching, timeout_s=5)
        arrays += [wire.send(frames[index], (index + 1) * PERIOD_NS)
                   for index in range(30, len(frames))]
        process.terminate()
        log = process.communicate(timeout=20)[0]
    for array, box in zip(arrays[:9], truth[1:10], strict=True):
        (found,) = boxes_of(array)
        assert box_iou(found, box) > 0.5
    # Lost on the second missed frame: from then on, while away, empty arrays.
    assert all(not array.detections for array in arrays[10:29])
    back = [i for i, array in enumerate(arrays[29:]) if array.detections]
    assert back and back[0] <= 3, [len(a.detections) for a in arrays[29:]]
    for array, box in zip(arrays[29 + back[0]:], truth[30 + back[0]:], strict=True):
        (found,) = boxes_of(array)
        assert box_iou(found, box) > 0.5
    assert 'target lost at frame 11 (confidence' in log and 'searching' in log, log[-3000:]
    assert 'target recovered at frame' in log


def test_detector_boxes_start_the_track_and_find_it_again():
    namespace = f'/cam_{uuid.uuid4().hex[:8]}'
    frames, truth = leave_and_return_scene()
    command = node_command(namespace, f'{namespace}/image', weights=WEIGHTS, redetect_tiles=0,
                           detections_topic=f'{namespace}/detector', detection_classes='cup',
                           start_on_detection='best', cpu_threads=1, **PRESENCE)
    background = (150, 170, 40, 36)
    with background_process(command) as process, ros_node('observer') as node:
        wire = Wire(node, namespace)
        wire.wait_for_detector()
        x, y, w, h = truth[0]
        start = [(*background, 'cup', 0.3), (x - 2, y + 1, w + 3, h - 2, 'cup', 0.9),
                 (*background, 'person', 0.99)]
        first = wire.send(frames[0], PERIOD_NS, start)
        assert not first.detections  # started on this frame, tracked from the next
        arrays = [wire.send(frame, (index + 1) * PERIOD_NS)
                  for index, frame in enumerate(frames[1:30], start=1)]
        # The return, 5 target sizes away: beyond the local search (no global search here).
        wrong = [wire.send(frames[index], (index + 1) * PERIOD_NS,
                           [(*truth[index][:2], 40, 36, 'person', 0.9)])
                 for index in range(30, 33)]
        rx, ry = truth[33][:2]
        found = [wire.send(frames[index], (index + 1) * PERIOD_NS,
                           [(*background, 'cup', 0.8), (rx + 4, ry - 3, 46, 30, 'cup', 0.6)])
                 for index in range(33, 36)]
        process.terminate()
        log = process.communicate(timeout=20)[0]
    assert "started tracking id 1 on the best 'cup' detection (score 0.90)" in log, log[-3000:]
    for array, box in zip(arrays[:9], truth[1:10], strict=True):
        (detection,) = array.detections
        assert detection.id == '1' and box_iou(boxes_of(array)[0], box) > 0.5
    assert all(not array.detections for array in arrays[10:] + wrong)  # a person is no cup
    for array, box in zip(found, truth[33:36], strict=True):
        (found_box,) = boxes_of(array)
        assert box_iou(found_box, box) > 0.5
    assert RETURN_BOX[0] > 200 and 'target recovered at frame 33' in log
