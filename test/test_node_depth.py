# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The target in 3D through the real node: a generated RGB-D scene with known geometry.

The camera (this process) publishes a colour image, an aligned 16UC1 depth
image and its camera_info per frame: a textured target 0.24 m wide at 2 m in
front of a wall at 3.5 m, with depth noise, holes and flying pixels. The node
tracks with the package's default weights; its 3D detection must sit within
2 % of the true distance and 1 cm laterally (the tracker's box is within a
pixel of the truth here, 3.8 mm at 2 m; the 3D centre must also be the
published 2D box back-projected), and every bad depth input must give an
empty 3D array, a reason in diagnostics and a node that goes on.
"""

import math
from types import SimpleNamespace
import uuid

import cv2
import numpy as np
import pytest
from ros_support import background_process, ros_node, spin_until
from test_node import node_command, ours, set_target, stamp_key

pytestmark = pytest.mark.ros

WIDTH, HEIGHT = 640, 480
FX = FY = 525.0
CX, CY = 319.5, 239.5
# The target's box in colour pixels (edges at integers) and its distance.
BOX = (360, 170, 64, 64)
TARGET_Z, WALL_Z = 2.0, 3.5
OPTICAL_FRAME = 'camera_color_optical_frame'
COLOUR_FRAME = 'camera_color_frame'


def back_project(box) -> np.ndarray:
    """Return a box's centre (index x + w / 2 - 0.5) back-projected at the target's distance."""
    x, y, w, h = box
    return np.array([(x + w / 2 - 0.5 - CX) * TARGET_Z / FX,
                     (y + h / 2 - 0.5 - CY) * TARGET_Z / FY, TARGET_Z])


def colour_frame() -> np.ndarray:
    """Return a smooth textured wall with a high-contrast textured target (static camera)."""
    rng = np.random.default_rng(3)
    wall = cv2.GaussianBlur(rng.integers(60, 160, (HEIGHT, WIDTH, 3)).astype(np.uint8),
                            (0, 0), 6)
    x, y, w, h = BOX
    target = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3)).astype(np.uint8)
    target = cv2.resize(target, (w, h), interpolation=cv2.INTER_NEAREST)
    wall[y:y + h, x:x + w] = target
    cv2.circle(wall, (x + w // 2, y + h // 2), w // 5, (255, 255, 0), -1)
    return np.ascontiguousarray(wall)


def depth_frame(seed: int, size: tuple[int, int] = (WIDTH, HEIGHT)) -> np.ndarray:
    """Millimetres: wall and target with 1 % noise, 10 % holes and flying pixels at the edges."""
    width, height = size
    rng = np.random.default_rng(seed)
    scale_x, scale_y = width / WIDTH, height / HEIGHT
    metres = np.full((height, width), WALL_Z)
    x, y, w, h = BOX
    x0, y0 = round(x * scale_x), round(y * scale_y)
    x1, y1 = round((x + w) * scale_x), round((y + h) * scale_y)
    metres[y0:y1, x0:x1] = TARGET_Z
    metres *= 1.0 + 0.01 * rng.standard_normal(metres.shape)
    edge = np.zeros(metres.shape, bool)
    edge[y0:y1, x0:x0 + 3] = edge[y0:y1, x1 - 3:x1] = True
    metres[edge] = rng.uniform(TARGET_Z, WALL_Z, edge.sum())  # flying pixels between the two
    metres[rng.random(metres.shape) < 0.1] = 0.0
    return np.round(metres * 1000.0).astype(np.uint16)


def image_message(pixels: np.ndarray, encoding: str, stamp_ns: int, frame_id: str):
    from sensor_msgs.msg import Image
    height, width = pixels.shape[:2]
    message = Image(height=height, width=width, encoding=encoding,
                    step=pixels.strides[0])
    message.data = pixels.tobytes()
    message.header.frame_id = frame_id
    message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    return message


def camera_info(stamp_ns: int, k=(FX, 0.0, CX, 0.0, FY, CY, 0.0, 0.0, 1.0)):
    from sensor_msgs.msg import CameraInfo
    message = CameraInfo(width=WIDTH, height=HEIGHT, k=[float(v) for v in k])
    message.header.frame_id = OPTICAL_FRAME
    message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    return message


def test_target_located_in_3d_and_bad_depth_input_explained(tmp_path):
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import PointStamped
    from sensor_msgs.msg import CameraInfo, Image
    from vision_msgs.msg import Detection2DArray, Detection3DArray

    namespace = f'/rgbd_{uuid.uuid4().hex[:8]}'
    colour_topic, depth_topic = f'{namespace}/color/image_raw', f'{namespace}/depth/image_raw'
    arrays_2d: dict[tuple, Detection2DArray] = {}
    arrays_3d: dict[tuple, Detection3DArray] = {}
    points: dict[tuple, PointStamped] = {}
    diagnostics: list[dict] = []
    # The package's default weights; a generous wait for late depth images.
    command = node_command(namespace, colour_topic, image_qos='reliable',
                           depth_topic=depth_topic, depth_timeout=0.5,
                           diagnostics_period=0.2)
    with background_process(command) as tracker, ros_node('rgbd_camera') as node:
        colour_pub = node.create_publisher(Image, colour_topic, 10)
        depth_pub = node.create_publisher(Image, depth_topic, 10)
        info_pub = node.create_publisher(CameraInfo, f'{namespace}/depth/camera_info', 10)
        node.create_subscription(Detection2DArray, f'{namespace}/litetrack/detections',
                                 lambda m: arrays_2d.setdefault(stamp_key(m.header), m), 50)
        node.create_subscription(Detection3DArray, f'{namespace}/litetrack/detections_3d',
                                 lambda m: arrays_3d.setdefault(
                                     (m.header.stamp.sec, m.header.stamp.nanosec), m), 50)
        node.create_subscription(PointStamped, f'{namespace}/litetrack/target_point',
                                 lambda m: points.setdefault(
                                     (m.header.stamp.sec, m.header.stamp.nanosec), m), 50)
        node.create_subscription(DiagnosticArray, '/diagnostics',
                                 lambda m: diagnostics.extend(ours(m, namespace)), 50)
        assert spin_until(node, lambda: all(p.get_subscription_count() > 0 for p in (
            colour_pub, depth_pub, info_pub)), timeout_s=90), tracker.stdout.read(3000)
        colour = colour_frame()
        stamp = [10 ** 12]

        def frame(depth=None, depth_stamp_offset_ns=0, info=None) -> tuple[int, int]:
            """Publish one RGB-D frame; wait for its 3D array; return its stamp key.

            ``info``: None publishes the camera_info first, False publishes none.
            """
            stamp[0] += 100_000_000
            ns = stamp[0]
            if info is not False:
                info_pub.publish(info or camera_info(ns))
            if depth is None:
                depth = image_message(depth_frame(ns % 997), '16UC1', ns, OPTICAL_FRAME)
            depth.header.stamp.sec, depth.header.stamp.nanosec = divmod(
                ns + depth_stamp_offset_ns, 1_000_000_000)
            depth_pub.publish(depth)
            spin_until(node, lambda: False, timeout_s=0.1)  # camera_info and depth go first
            colour_pub.publish(image_message(colour, 'rgb8', ns, COLOUR_FRAME))
            key = divmod(ns, 1_000_000_000)
            assert spin_until(node, lambda: key in arrays_3d, timeout_s=30), \
                tracker.stdout.read(3000)
            return key

        def reason_reported(text: str, key: str) -> bool:
            diagnostics.clear()
            return spin_until(node, lambda: any(text in d.get(key, '') for d in diagnostics),
                              timeout_s=10)

        idle = frame(info=False)
        assert not arrays_3d[idle].detections, 'no target yet: empty 3D array'
        reply = set_target(node, f'{namespace}/litetrack/set_target', *BOX,
                           stamp_ns=stamp[0])
        assert reply.success, reply.message

        failures = {}

        def fail(why: str, key: str = 'last_depth_problem', **kwargs) -> None:
            failures[why] = frame(**kwargs)
            assert reason_reported(why, key), (why, diagnostics[-1:] or 'no diagnostics')

        fail('no camera_info received', info=False)
        tracked = [frame() for _ in range(6)]
        # Depth stamped 10 ms after the colour frame, within the 20 ms tolerance, and a
        # depth image at half resolution (the same view): both located.
        tracked.append(frame(depth_stamp_offset_ns=10_000_000))
        half = image_message(depth_frame(5, (WIDTH // 2, HEIGHT // 2)), '16UC1', 0,
                             OPTICAL_FRAME)
        tracked.append(frame(depth=half))
        fail('depth out of sync', depth_stamp_offset_ns=-400_000_000)
        fail('have depth', depth=image_message(np.zeros((HEIGHT, WIDTH), np.uint16), '16UC1',
                                               0, OPTICAL_FRAME))
        fail('another aspect ratio', depth=image_message(
            np.full((HEIGHT, 848), 2000, np.uint16), '16UC1', 0, OPTICAL_FRAME))
        # Refused in the callback, so the frame has no depth image of its time.
        fail("encoding 'rgb8'", key='last_depth_rejection',
             depth=image_message(colour, 'rgb8', 0, OPTICAL_FRAME))
        fail('not calibrated', info=camera_info(0, k=(0.0,) * 9))
        recovered = frame()
        assert spin_until(node, lambda: diagnostics and diagnostics[-1].get(
            'depth_published') == str(len(tracked) + 1), timeout_s=10), diagnostics[-1:]
        last = diagnostics[-1]
        assert tracker.poll() is None, tracker.stdout.read(3000)

    truth = back_project(BOX)
    for key in tracked + [recovered]:
        (detection_2d,) = arrays_2d[key + (COLOUR_FRAME,)].detections
        array = arrays_3d[key]
        assert array.header.frame_id == OPTICAL_FRAME, "the depth image's optical frame"
        (detection,) = array.detections
        assert detection.id == detection_2d.id == str(reply.track_id)
        assert detection.results[0].hypothesis.score == detection_2d.results[0].hypothesis.score
        centre = detection.bbox.center.position
        found = np.array([centre.x, centre.y, centre.z])
        assert abs(found[2] - TARGET_Z) < 0.02 * TARGET_Z, (key, found)
        assert math.hypot(*(found[:2] - truth[:2])) < 0.01, (key, found, truth)
        box = detection_2d.bbox
        published = back_project((box.center.position.x - box.size_x / 2,
                                  box.center.position.y - box.size_y / 2,
                                  box.size_x, box.size_y))
        np.testing.assert_allclose(found, published, atol=0.001 + abs(found[2] - TARGET_Z))
        assert detection.bbox.size.x == pytest.approx(box.size_x * TARGET_Z / FX, rel=0.02)
        point = points[key]
        assert (point.point.x, point.point.y, point.point.z) == tuple(found)
        assert point.header.frame_id == OPTICAL_FRAME
    for why, key in failures.items():
        assert not arrays_3d[key].detections, why
        assert key not in points, why
        assert arrays_2d[key + (COLOUR_FRAME,)].detections, '2D goes on: ' + why
    assert int(last['depth_missing']) == 6 and int(last['depth_images_rejected']) == 1, last
    assert last['depth'] == f'{namespace}/depth/image_raw'
    assert float(last['target_distance_m']) == pytest.approx(TARGET_Z, rel=0.02)


def test_depth_off_costs_nothing():
    from litetrack_ros.node.depth import TargetDepth
    from litetrack_ros.node.parameters import SPECS
    from vision_msgs.msg import Detection2D, Detection2DArray

    calls = []

    class Node:
        """Only parameters may be read; anything else the node offers is a cost."""

        def get_parameter(self, name):
            return SimpleNamespace(value=SPECS[name].default)

        def __getattr__(self, name):
            calls.append(name)
            raise AssertionError(f'depth off used node.{name}')

    depth = TargetDepth(Node(), reliability_for=calls.append, guard=calls.append,
                        publish=lambda *args: calls.append('publish'))
    depth.configure(max_pixels=640 * 480)
    depth.activate()
    array = Detection2DArray()
    array.detections.append(Detection2D())
    assert depth.publish(array, (640, 480)) is None
    depth.follow_publisher_qos()
    depth.deactivate()
    depth.cleanup()
    assert not depth.enabled and calls == []
    assert depth.diagnostics() == {'depth': 'off'}
