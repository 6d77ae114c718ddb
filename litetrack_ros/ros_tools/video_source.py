# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Publish a video file, an image folder or a camera as ``sensor_msgs/Image``.

Usage::

    video_source SOURCE [--topic image] [--encoding rgb8|bgr8] [--frame-id camera]
                 [--rate HZ] [--loop] [--max-frames N] [--qos reliable|sensor_data]
                 [--start-delay 1.0] [--ros-args -r image:=/camera/image_raw]

SOURCE is a video file, a folder of images (played in natural name order) or
a camera index. Each frame is stamped with the node clock's ``now()`` when it
is read. The process exits 0 at the end of a non-looping source, 1 when a
frame cannot be read and 2 when the source is missing or cannot be opened.

QoS: ``reliable`` (the default) reaches every subscriber, reliable or
best-effort, such as the tracking node (best-effort ``sensor_data``) as well
as tools subscribing with the default reliable profile. ``sensor_data``
(best-effort, depth 5) never resends a lost frame, which keeps latency low on
lossy links, but reliable subscribers then receive nothing.
"""

import argparse
from dataclasses import dataclass
import sys

import cv2
from litetrack_ros.images.frame_reader import (
    FOLDER_FPS,
    FrameSource,
    FrameSourceError,
    is_camera,
    open_frames,
    source_fps,
)
from litetrack_ros.images.image_codec import encode_image
from litetrack_ros.node.interrupts import signals_interrupt, SPIN_SLICE_S
from litetrack_ros.node.transport import use_large_frame_profile
import numpy as np
import rclpy
from rclpy.duration import Duration
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    qos_profile_sensor_data,
    QoSProfile,
    ReliabilityPolicy,
)
from rclpy.signals import SignalHandlerOptions
from rclpy.task import Future
from rclpy.utilities import remove_ros_args
from sensor_msgs.msg import Image

ENCODINGS = ('rgb8', 'bgr8')
QOS_CHOICES = ('reliable', 'sensor_data')
# Long enough for a subscriber that starts with us to be discovered (DDS
# discovery on one machine takes well under a second).
DEFAULT_START_DELAY_S = 1.0
# How long the last frames may take to be acknowledged before the node exits:
# long enough to resend a frame lost on the way, short because Fast DDS only
# collects acknowledgements with its heartbeat (every few seconds), so a full
# wait would add seconds to every exit although the frames arrived long ago.
DELIVERY_TIMEOUT = Duration(seconds=0.5)

EXIT_OK = 0
EXIT_READ_ERROR = 1
EXIT_BAD_SOURCE = 2


@dataclass(frozen=True)
class VideoSourceOptions:
    """What to publish, where and how fast."""

    source: FrameSource
    topic: str = 'image'
    encoding: str = 'rgb8'
    frame_id: str = 'camera'
    rate: float | None = None  # Hz; None: the source's own rate (a camera: as delivered)
    loop: bool = False
    max_frames: int | None = None
    qos: str = 'reliable'
    start_delay: float = DEFAULT_START_DELAY_S


def image_qos(name: str) -> QoSProfile:
    """Return the publisher QoS for ``reliable`` or ``sensor_data``."""
    if name == 'sensor_data':
        return qos_profile_sensor_data
    if name == 'reliable':
        # Keep-last 5 like sensor_data: a slow reliable reader gets the newest
        # frames instead of making the history (and memory) grow.
        return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5,
                          reliability=ReliabilityPolicy.RELIABLE,
                          durability=DurabilityPolicy.VOLATILE)
    raise ValueError(f'unknown QoS {name!r}; use one of {", ".join(QOS_CHOICES)}')


class VideoSourceNode(Node):
    """Publish the frames of one source on a timer until it ends.

    ``done`` completes when the source is exhausted (or ``max_frames`` were
    published, or a frame could not be read: then ``error`` says why), so a
    caller can ``rclpy.spin_until_future_complete(node, node.done)``.
    Raises FileNotFoundError or FrameSourceError when the source cannot be
    opened, before any ROS entity is created.
    """

    def __init__(self, options: VideoSourceOptions, *, node_name: str = 'video_source',
                 **node_kwargs) -> None:
        if options.encoding not in ENCODINGS:
            raise ValueError(f'unknown encoding {options.encoding!r}; '
                             f'use one of {", ".join(ENCODINGS)}')
        if options.rate is not None and not options.rate > 0:
            raise ValueError(f'rate must be positive, got {options.rate}')
        frames = open_frames(options.source)
        camera = is_camera(options.source)
        rate = options.rate or source_fps(options.source) or (None if camera else FOLDER_FPS)
        super().__init__(node_name, **node_kwargs)
        self.options = options
        self.done = Future()
        self.error: str | None = None
        self.frames_published = 0
        self._frames = frames
        self._frames_this_pass = 0
        self._source_name = f'camera {options.source}' if camera else str(options.source)
        # A camera paces itself: its read() blocks until the next frame, so a
        # zero period publishes every frame as it comes without going stale.
        self._period_s = 1.0 / rate if rate else 0.0
        self._publisher = self.create_publisher(Image, options.topic, image_qos(options.qos))
        self._frame_timer = None
        self._start_timer = None
        if options.start_delay > 0:
            self._start_timer = self.create_timer(options.start_delay, self._start)
        else:
            self._start()

    @property
    def topic_name(self) -> str:
        """Return the fully resolved topic, remappings applied."""
        return self._publisher.topic_name

    def wait_for_delivery(self, timeout: Duration = DELIVERY_TIMEOUT) -> bool:
        """Give reliable subscribers time to acknowledge (or get resent) the last frames."""
        return self._publisher.wait_for_all_acked(timeout)

    def _start(self) -> None:
        if self._start_timer is not None:
            self.destroy_timer(self._start_timer)
            self._start_timer = None
        rate = f'{1.0 / self._period_s:g} Hz' if self._period_s else "the camera's rate"
        self.get_logger().info(
            f'publishing {self._source_name} on {self.topic_name} as {self.options.encoding} '
            f'at {rate}, QoS {self.options.qos}')
        if self._publisher.get_subscription_count() == 0:
            self.get_logger().info('no subscriber yet: frames published before one connects '
                                   'are lost (see --start-delay)')
        self._frame_timer = self.create_timer(self._period_s, self._publish_next_frame)

    def destroy_node(self) -> None:
        """Release the video file or camera along with the node."""
        close = getattr(self._frames, 'close', None)
        if close is not None:
            close()
        super().destroy_node()

    def _publish_next_frame(self) -> None:
        try:
            frame_bgr = self._next_frame()
        except (FrameSourceError, OSError) as error:  # OSError: the folder went away
            self.error = str(error)
            self.get_logger().error(self.error)
            self._finish()
            return
        if frame_bgr is None:
            self._finish()
            return
        # Stamp right after the read: for a camera that is the capture time.
        stamp = self.get_clock().now()
        self._publisher.publish(self._to_message(frame_bgr, stamp.to_msg()))
        self.frames_published += 1
        max_frames = self.options.max_frames
        if max_frames is not None and self.frames_published >= max_frames:
            self._finish()

    def _next_frame(self) -> np.ndarray | None:
        """Return the next BGR frame, starting over when looping; None at the end."""
        item = next(self._frames, None)
        if item is not None:
            self._frames_this_pass += 1
            return item[1]
        # An empty pass would loop forever without publishing; end instead.
        if not self.options.loop or self._frames_this_pass == 0:
            return None
        self._frames = open_frames(self.options.source)
        self._frames_this_pass = 0
        return self._next_frame()

    def _to_message(self, frame_bgr: np.ndarray, stamp) -> Image:
        if self.options.encoding == 'rgb8':
            frame = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        else:
            frame = frame_bgr
        message = Image()
        message.header.stamp = stamp
        message.header.frame_id = self.options.frame_id
        message.height, message.width, message.step, message.data = encode_image(
            frame, self.options.encoding)
        message.encoding = self.options.encoding
        message.is_bigendian = 0
        return message

    def _finish(self) -> None:
        if self._frame_timer is not None:
            self.destroy_timer(self._frame_timer)
            self._frame_timer = None
        if not self.done.done():
            self.get_logger().info(f'published {self.frames_published} frames; done')
            self.done.set_result(self.frames_published)


def positive_float(text: str) -> float:
    """Parse a number > 0 for argparse."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f'must be positive, got {text}')
    return value


def non_negative_float(text: str) -> float:
    """Parse a number >= 0 for argparse."""
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f'must not be negative, got {text}')
    return value


def positive_int(text: str) -> int:
    """Parse an integer > 0 for argparse."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f'must be positive, got {text}')
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (ROS arguments are removed before it)."""
    parser = argparse.ArgumentParser(
        prog='video_source',
        description='Publish a video file, image folder or camera as sensor_msgs/Image.')
    parser.add_argument('source', help='video file, folder of images (natural name order) '
                                       'or camera index')
    parser.add_argument('--topic', default='image',
                        help='topic to publish on (default: %(default)s; also remappable)')
    parser.add_argument('--encoding', choices=ENCODINGS, default='rgb8',
                        help='image encoding (default: %(default)s)')
    parser.add_argument('--frame-id', default='camera',
                        help='header.frame_id (default: %(default)s)')
    parser.add_argument('--rate', type=positive_float,
                        help="frames per second (default: the video's fps, 30 for a folder, "
                             'as delivered for a camera)')
    parser.add_argument('--loop', action='store_true',
                        help='start over at the end of a video or folder')
    parser.add_argument('--max-frames', type=positive_int, metavar='N',
                        help='stop after publishing N frames')
    parser.add_argument('--qos', choices=QOS_CHOICES, default='reliable',
                        help='reliable reaches reliable and best-effort subscribers; '
                             'sensor_data (best-effort) only best-effort ones '
                             '(default: %(default)s)')
    parser.add_argument('--start-delay', type=non_negative_float,
                        default=DEFAULT_START_DELAY_S, metavar='SECONDS',
                        help='wait before the first frame so subscribers can connect '
                             '(default: %(default)s)')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the video_source node; ``argv`` excludes the program name."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(remove_ros_args(['video_source', *argv])[1:])
    options = VideoSourceOptions(
        source=args.source, topic=args.topic, encoding=args.encoding, frame_id=args.frame_id,
        rate=args.rate, loop=args.loop, max_frames=args.max_frames, qos=args.qos,
        start_delay=args.start_delay)

    use_large_frame_profile()
    rclpy.init(args=['video_source', *argv], signal_handler_options=SignalHandlerOptions.NO)
    with signals_interrupt():
        return _run(options)


def _run(options: VideoSourceOptions) -> int:
    """Publish until the source is exhausted or a signal arrives."""
    node = None
    executor = SingleThreadedExecutor()
    try:
        try:
            node = VideoSourceNode(options)
        except (FileNotFoundError, FrameSourceError) as error:
            print(f'video_source: error: {error}', file=sys.stderr, flush=True)
            return EXIT_BAD_SOURCE
        executor.add_node(node)
        while not node.done.done():  # short slices: a signal is seen promptly
            executor.spin_once(timeout_sec=SPIN_SLICE_S)
        node.wait_for_delivery()
        return EXIT_READ_ERROR if node.error else EXIT_OK
    except (KeyboardInterrupt, ExternalShutdownException):
        return EXIT_OK
    finally:
        executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    sys.exit(main())
