# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The target in 3D: an aligned depth image and its camera_info in, 3D detections out.

Off unless ``depth_topic`` is set (then nothing is subscribed, published or
computed). On: ``TargetDepth`` subscribes to the depth image and its
camera_info, keeps the last depth messages whose fields passed the checks
(``DepthBuffer``; the callback copies nothing), and, for each tracked frame,
takes the depth image nearest to the frame's stamp within
``depth_tolerance``, reads the median depth of the box's inner region and
back-projects the box (``litetrack_ros.tracking.depth``). It publishes, with
the colour image's stamp and in the depth image's (the camera's optical)
frame:

* ``~/detections_3d`` (``vision_msgs/Detection3DArray``): one detection with
  the 2D detection's id and hypothesis; empty while idle or lost and when no
  depth can be had for the frame;
* ``~/target_point`` (``geometry_msgs/PointStamped``): the centre; nothing
  when there is no 3D detection.

Every frame with a target but no 3D position is counted and its reason named
in diagnostics (``depth_missing``, ``last_depth_problem``), as are depth
messages refused by the field checks (``depth_images_rejected``,
``last_depth_rejection``); the node goes on either way.
"""

import time
from typing import Any, Callable

from geometry_msgs.msg import PointStamped
from litetrack_ros.images.depth_image import check_depth_message, depth_message
from litetrack_ros.images.image_codec import ImageDecodeError
from litetrack_ros.node.depth_buffer import DepthBuffer
from litetrack_ros.node.diagnostics import milliseconds
from litetrack_ros.node.stamps import stamp_to_ns
from litetrack_ros.node.stats import LatencyWindow
from litetrack_ros.tracking.depth import (
    DepthSettings,
    DepthUnavailable,
    Intrinsics,
    locate_target,
    TargetPosition,
)
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo, Image
from vision_msgs.msg import (
    Detection2D,
    Detection2DArray,
    Detection3D,
    Detection3DArray,
    ObjectHypothesisWithPose,
)

# Depth messages kept for stamp matching: a third of a second at 30 Hz.
BUFFER_SIZE = 10
WARNING_PERIOD_S = 5.0


def camera_info_topic(depth_topic: str) -> str:
    """Return image_transport's camera_info topic next to an image topic."""
    parent = depth_topic.rsplit('/', 1)[0] if '/' in depth_topic else ''
    return f'{parent}/camera_info' if parent else 'camera_info'


class DepthStats:
    """What the depth input counted since the last activate."""

    def __init__(self) -> None:
        self.received = 0       # depth messages
        self.rejected = 0       # depth messages refused by the field checks
        self.published = 0      # frames with a 3D detection
        self.missing = 0        # frames with a target but no 3D detection
        self.last_rejection = ''  # why the last refused depth message was refused
        self.last_problem = ''    # why the last frame with a target had no 3D detection
        self.distance: float | None = None
        self.latency = LatencyWindow()  # 2D published to 3D published, waiting included


class TargetDepth:
    """The node's depth input and 3D outputs (see the module docstring).

    ``reliability_for(topic)`` gives the subscription reliability for a
    topic (the node's ``image_qos`` rule), ``guard(callback)`` wraps a
    callback so that no exception escapes, ``publish(publisher, message)``
    publishes unless the node is shutting down.
    """

    def __init__(self, node: Any, reliability_for: Callable[[str], Any],
                 guard: Callable[[Callable[..., None]], Callable[..., None]],
                 publish: Callable[[Any, Any], None]) -> None:
        self._node = node
        self._reliability_for = reliability_for
        self._guard = guard
        self._publish_on = publish
        self._buffer = DepthBuffer(BUFFER_SIZE)
        self.stats = DepthStats()
        self.topic = self.info_topic = ''
        self._settings = DepthSettings()
        self._tolerance_ns = 0
        self._wait_s = 0.0
        self._max_pixels = 0
        self._camera: tuple[Intrinsics | None, str] = (None, '')
        self._detections_pub = self._point_pub = None
        self._depth_sub = self._info_sub = None
        self._reliability: dict[str, Any] = {}

    @property
    def enabled(self) -> bool:
        """Whether a depth topic is configured."""
        return bool(self.topic)

    # ---------------------------------------------------------------- lifecycle

    def configure(self, max_pixels: int) -> None:
        """Read the parameters; with a depth topic, create the publishers."""
        param = self._node.get_parameter
        topic = str(param('depth_topic').value).strip()
        if not topic:
            self.topic = ''
            return
        self._settings = DepthSettings(region=float(param('depth_region').value),
                                       min_valid=float(param('depth_min_valid').value))
        self._tolerance_ns = int(round(float(param('depth_tolerance').value) * 1e9))
        self._wait_s = float(param('depth_timeout').value)
        self._max_pixels = int(max_pixels)
        self.topic = self._node.resolve_topic_name(topic)
        info = str(param('depth_info_topic').value).strip() or camera_info_topic(topic)
        self.info_topic = self._node.resolve_topic_name(info)
        self._detections_pub = self._node.create_lifecycle_publisher(
            Detection3DArray, '~/detections_3d', 10)
        self._point_pub = self._node.create_lifecycle_publisher(
            PointStamped, '~/target_point', 10)
        self._node.get_logger().info(
            f'depth from {self.topic} (camera_info {self.info_topic}), stamps matched within '
            f'{self._tolerance_ns / 1e6:g} ms')

    def activate(self) -> None:
        """Subscribe to the depth image and its camera_info."""
        self.stats = DepthStats()
        if self.enabled:
            self._subscribe()

    def follow_publisher_qos(self) -> None:
        """Resubscribe a topic whose publishers' reliability changed."""
        if self._depth_sub is None:
            return
        if any(self._reliability_for(topic) != reliability
               for topic, reliability in self._reliability.items()):
            self.deactivate()
            self._subscribe()

    def deactivate(self) -> None:
        """Unsubscribe and forget the buffered depth images."""
        for name in ('_depth_sub', '_info_sub'):
            subscription = getattr(self, name)
            if subscription is not None:
                self._node.destroy_subscription(subscription)
                setattr(self, name, None)
        self._buffer.clear()

    def cleanup(self) -> None:
        """Destroy the publishers."""
        for name in ('_detections_pub', '_point_pub'):
            publisher = getattr(self, name)
            if publisher is not None:
                self._node.destroy_lifecycle_publisher(publisher)
                setattr(self, name, None)
        self._camera = (None, '')

    def _subscribe(self) -> None:
        self._reliability = {topic: self._reliability_for(topic)
                             for topic in (self.topic, self.info_topic)}
        self._depth_sub = self._node.create_subscription(
            Image, self.topic, self._guard(self._on_depth),
            QoSProfile(depth=5, reliability=self._reliability[self.topic]))
        self._info_sub = self._node.create_subscription(
            CameraInfo, self.info_topic, self._guard(self._on_camera_info),
            QoSProfile(depth=1, reliability=self._reliability[self.info_topic]))

    # ---------------------------------------------------------------- callbacks

    def _on_depth(self, message: Image) -> None:
        """Check the fields (no copy) and buffer the message."""
        self.stats.received += 1
        try:
            check_depth_message(message, self._max_pixels)
        except ImageDecodeError as error:
            self.stats.rejected += 1
            self.stats.last_rejection = str(error)
            self._node.get_logger().warning(f'depth image rejected: {error}',
                                            throttle_duration_sec=WARNING_PERIOD_S)
            return
        self._buffer.offer(stamp_to_ns(message.header.stamp), message)

    def _on_camera_info(self, message: CameraInfo) -> None:
        """Keep the intrinsics, or why there are none."""
        roi = message.roi
        try:
            intrinsics = Intrinsics.from_camera_info(
                message.k, message.width, message.height, message.binning_x,
                message.binning_y, (roi.x_offset, roi.y_offset, roi.width, roi.height))
        except DepthUnavailable as error:
            self._camera = (None, f'{self.info_topic}: {error}')
            return
        self._camera = (intrinsics, '')

    def _problem(self, reason: str) -> None:
        self.stats.last_problem = reason
        self._node.get_logger().warning(f'no 3D position: {reason}',
                                        throttle_duration_sec=WARNING_PERIOD_S)

    # ---------------------------------------------------------------- per frame

    def publish(self, detections: Detection2DArray, colour_size: tuple[int, int]
                ) -> float | None:
        """Publish the 3D outputs of a frame's detections; return the distance (m) or None.

        ``colour_size`` is the colour image's ``(width, height)``. Runs in the
        tracking thread; may wait up to ``depth_timeout`` for the frame's depth.
        """
        if not self.enabled:
            return None
        started = time.monotonic()
        header = detections.header
        array = Detection3DArray()
        array.header.stamp, array.header.frame_id = header.stamp, header.frame_id
        if not detections.detections:
            self.stats.distance = None
            self._publish(self._detections_pub, array)
            return None
        detection = detections.detections[0]
        try:
            position, frame_id = self._locate(detection, colour_size, stamp_to_ns(header.stamp))
        except (DepthUnavailable, ImageDecodeError) as error:
            self.stats.missing += 1
            self.stats.distance = None
            self._problem(str(error))
            self._publish(self._detections_pub, array)
            return None
        array.header.frame_id = frame_id or header.frame_id
        array.detections.append(detection_3d(array.header, detection, position))
        point = PointStamped(header=array.header)
        point.point.x, point.point.y, point.point.z = position.x, position.y, position.z
        self._publish(self._detections_pub, array)
        self._publish(self._point_pub, point)
        self.stats.published += 1
        self.stats.distance = position.z
        self.stats.latency.add(time.monotonic() - started)
        return position.z

    def _locate(self, detection: Detection2D, colour_size: tuple[int, int],
                stamp_ns: int) -> tuple[TargetPosition, str]:
        intrinsics, reason = self._camera
        if intrinsics is None:
            raise DepthUnavailable(reason or f'no camera_info received on {self.info_topic}')
        message, reason = self._buffer.match(stamp_ns, self._tolerance_ns, self._wait_s)
        if message is None:
            raise DepthUnavailable(f'{reason} ({self.topic})')
        depth = depth_message(message, self._max_pixels)
        box = detection.bbox
        w, h = float(box.size_x), float(box.size_y)
        xywh = (float(box.center.position.x) - w / 2.0, float(box.center.position.y) - h / 2.0,
                w, h)
        position = locate_target(xywh, colour_size, depth, intrinsics, self._settings)
        return position, message.header.frame_id

    def _publish(self, publisher: Any, message: Any) -> None:
        if publisher is not None:
            self._publish_on(publisher, message)

    def diagnostics(self) -> dict[str, Any]:
        """Return the depth input's diagnostic values (only ``depth: off`` when off)."""
        if not self.enabled:
            return {'depth': 'off'}
        stats = self.stats
        return {
            'depth': self.topic,
            'depth_images_received': stats.received,
            'depth_images_rejected': stats.rejected,
            'last_depth_rejection': stats.last_rejection or 'none',
            'depth_published': stats.published,
            'depth_missing': stats.missing,
            'last_depth_problem': stats.last_problem or 'none',
            'depth_latency_p50_ms': milliseconds(stats.latency, 50),
            'depth_latency_p95_ms': milliseconds(stats.latency, 95),
            'target_distance_m': 'n/a' if stats.distance is None else f'{stats.distance:.3f}',
        }


def detection_3d(header: Any, detection: Detection2D, position: TargetPosition) -> Detection3D:
    """Return the 3D detection: the 2D one's id and hypotheses, the box in metres."""
    result = Detection3D(header=header, id=detection.id)
    set_pose(result.bbox.center, position)
    size = result.bbox.size
    size.x, size.y, size.z = position.size_x, position.size_y, position.size_z
    for hypothesis in detection.results:
        copied = ObjectHypothesisWithPose()
        copied.hypothesis.class_id = hypothesis.hypothesis.class_id
        copied.hypothesis.score = hypothesis.hypothesis.score
        set_pose(copied.pose.pose, position)
        result.results.append(copied)
    return result


def set_pose(pose: Any, position: TargetPosition) -> None:
    """Put a geometry_msgs/Pose at the target's centre, unrotated."""
    pose.position.x, pose.position.y, pose.position.z = position.x, position.y, position.z
    pose.orientation.w = 1.0
