# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tell a running tracking node what to track, through its ``set_target`` service.

Usage::

    select_target X Y W H [--service /litetrack/set_target] [--stamp SEC.NANOSEC]
                  [--timeout 5]
    select_target --gui [--image-topic image] [--service /litetrack/set_target]

``X Y`` is the box's top-left corner and ``W H`` its size, in pixels of the
image; the service takes a center and a size, converted here. ``--stamp`` is
the header stamp of the frame the box belongs to (``sec.nanosec`` with the
nanoseconds as nine digits, e.g. ``1712345678.000000500``); without it the
node uses its newest frame.

``--gui`` (desktop only) shows the newest frame of ``--image-topic``; press
SPACE to freeze it and drag a box, ENTER to send it with that frame's stamp.

The response is printed. Exit status: 0 the node accepted the target, 1 it
refused (or nothing was sent), 2 the service did not answer within
``--timeout`` seconds or the command line is wrong.
"""

import argparse
import re
import sys

from litetrack_ros.images.gui import GuiUnavailableError, open_window
from litetrack_ros.node.stamps import format_stamp
from litetrack_ros.node.transport import use_large_frame_profile
from litetrack_ros.srv import SetTarget
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rclpy.utilities import remove_ros_args
from vision_msgs.msg import BoundingBox2D

DEFAULT_SERVICE = '/litetrack/set_target'
DEFAULT_TIMEOUT_S = 5.0
WINDOW = 'select_target'

EXIT_ACCEPTED = 0
EXIT_REFUSED = 1
EXIT_UNAVAILABLE = 2

_STAMP_PATTERN = re.compile(r'(\d+)(?:\.(\d{0,9}))?')


class ServiceUnavailableError(RuntimeError):
    """The service was not there, or did not answer, in time."""


def parse_stamp(text: str) -> tuple[int, int]:
    """Parse ``SEC[.FRACTION]`` exactly into ``(sec, nanosec)``.

    The fraction is decimal: ``'12.5'`` is 12 s 500000000 ns and
    ``'12.000000500'`` is 12 s 500 ns. Parsed as text, not as a float, because
    the node matches stamps to the nanosecond and a float cannot hold one
    of today's stamps that precisely.
    """
    match = _STAMP_PATTERN.fullmatch(text.strip())
    if match is None:
        raise ValueError(f'stamp {text!r} is not SEC.NANOSEC (e.g. 1712345678.000000500; '
                         'at most 9 digits after the point)')
    seconds, fraction = match.groups()
    return int(seconds), int((fraction or '').ljust(9, '0'))


def corner_box_to_bbox(x: float, y: float, width: float, height: float) -> BoundingBox2D:
    """Convert a top-left corner + size box to the center + size of BoundingBox2D."""
    bbox = BoundingBox2D()
    bbox.center.position.x = float(x + width / 2.0)
    bbox.center.position.y = float(y + height / 2.0)
    bbox.size_x = float(width)
    bbox.size_y = float(height)
    return bbox


def make_request(box_xywh: tuple[float, float, float, float],
                 stamp: tuple[int, int] = (0, 0)) -> SetTarget.Request:
    """Build a SetTarget request for a top-left ``(x, y, w, h)`` box."""
    request = SetTarget.Request()
    request.bbox = corner_box_to_bbox(*box_xywh)
    request.stamp.sec, request.stamp.nanosec = stamp
    return request


def call_set_target(node: Node, service: str, request: SetTarget.Request,
                    timeout_s: float) -> SetTarget.Response:
    """Call the service and wait for the answer, spinning ``node``.

    Raises ServiceUnavailableError when the service does not appear, or does
    not answer, within ``timeout_s`` seconds (each).
    """
    client = node.create_client(SetTarget, service)
    try:
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise ServiceUnavailableError(
                f'service {client.service_name} is not available after {timeout_s:g} s '
                '(is the tracking node running? is the name right? see --service)')
        future = client.call_async(request)
        rclpy.spin_until_future_complete(node, future, timeout_sec=timeout_s)
        if not future.done():
            client.remove_pending_request(future)
            raise ServiceUnavailableError(
                f'service {client.service_name} did not answer within {timeout_s:g} s')
        return future.result()
    finally:
        node.destroy_client(client)


def format_response(response: SetTarget.Response) -> str:
    """Render the response one field per line, like ``ros2 service call``."""
    return (f'success: {str(response.success).lower()}\n'
            f'message: {response.message}\n'
            f'track_id: {response.track_id}')


def send_target(node: Node, service: str, request: SetTarget.Request,
                timeout_s: float) -> int:
    """Send a request, print the answer and return the exit status."""
    bbox = request.bbox
    print(f'requesting center=({bbox.center.position.x:g}, {bbox.center.position.y:g}) '
          f'size=({bbox.size_x:g}, {bbox.size_y:g}) '
          f'stamp={format_stamp(request.stamp)} from {service}', flush=True)
    try:
        response = call_set_target(node, service, request, timeout_s)
    except ServiceUnavailableError as error:
        print(f'select_target: error: {error}', file=sys.stderr, flush=True)
        return EXIT_UNAVAILABLE
    print(format_response(response), flush=True)
    return EXIT_ACCEPTED if response.success else EXIT_REFUSED


def require_gui():
    """Return cv2 once a window is known to open here (else GuiUnavailableError)."""
    import cv2
    open_window(WINDOW, instead='give the box on the command line: select_target X Y W H')
    return cv2


def run_gui(node: Node, image_topic: str, service: str, timeout_s: float) -> int:
    """Show the newest frame, let the user draw a box, send it; return the exit status."""
    cv2 = require_gui()
    from litetrack_ros.images.image_codec import decode_message, ImageDecodeError
    from sensor_msgs.msg import CompressedImage, Image

    compressed = image_topic.rstrip('/').endswith('/compressed')
    newest = []

    def keep_newest(message) -> None:
        newest[:] = [message]

    # Best-effort subscriptions receive from reliable and best-effort publishers.
    node.create_subscription(CompressedImage if compressed else Image, image_topic,
                             keep_newest, qos_profile_sensor_data)
    print(f'showing {image_topic}: SPACE freezes the frame to drag a box (ENTER sends it, '
          'c cancels), q or ESC quits', flush=True)
    shown_message, shown_bgr, last_error = None, None, None
    try:
        while rclpy.ok():
            rclpy.spin_once(node, timeout_sec=0.02)
            if newest and newest[0] is not shown_message:
                message = newest[0]
                try:
                    rgb = decode_message(message)
                except ImageDecodeError as error:
                    if str(error) != last_error:
                        print(f'select_target: cannot show frame: {error}', file=sys.stderr)
                        last_error = str(error)
                else:
                    shown_message, shown_bgr = message, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
                    cv2.imshow(WINDOW, shown_bgr)
            key = cv2.waitKey(1) & 0xFF
            if key in (ord('q'), 27) or cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                print('no box sent', flush=True)
                return EXIT_REFUSED
            if key in (ord(' '), ord('s')) and shown_message is not None:
                x, y, w, h = cv2.selectROI(WINDOW, shown_bgr, showCrosshair=True,
                                           fromCenter=False)
                if w > 0 and h > 0:
                    stamp = (shown_message.header.stamp.sec, shown_message.header.stamp.nanosec)
                    return send_target(node, service, make_request((x, y, w, h), stamp),
                                       timeout_s)
    finally:
        cv2.destroyAllWindows()
    return EXIT_REFUSED


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (ROS arguments are removed before it)."""
    parser = argparse.ArgumentParser(
        prog='select_target',
        description='Select the target of a litetrack node: give a box (top-left corner and '
                    'size in pixels) or draw it with --gui.')
    for name, meaning in (('x', 'left edge'), ('y', 'top edge'), ('w', 'width'),
                          ('h', 'height')):
        parser.add_argument(name, type=float, nargs='?', help=f'box {meaning} in pixels')
    parser.add_argument('--service', default=DEFAULT_SERVICE,
                        help='SetTarget service of the node (default: %(default)s)')
    parser.add_argument('--stamp', default='0', metavar='SEC.NANOSEC',
                        help='stamp of the frame the box was drawn on '
                             '(default: 0, the newest frame)')
    parser.add_argument('--timeout', type=float, default=DEFAULT_TIMEOUT_S, metavar='SECONDS',
                        help='how long to wait for the service, and then for its answer '
                             '(default: %(default)s)')
    parser.add_argument('--gui', action='store_true',
                        help='draw the box on the newest frame of --image-topic (needs a '
                             'desktop and OpenCV with GUI support)')
    parser.add_argument('--image-topic', default='image',
                        help='image topic shown by --gui; a name ending in /compressed is '
                             'read as CompressedImage (default: %(default)s)')
    return parser


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Parse and check the arguments; exits 2 with a usage message when they are wrong."""
    parser = build_parser()
    args = parser.parse_args(argv)
    box = (args.x, args.y, args.w, args.h)
    if args.gui:
        if any(value is not None for value in box):
            parser.error('give either X Y W H or --gui, not both')
        if args.stamp != '0':
            parser.error('--gui sends the stamp of the frame shown; do not give --stamp')
    else:
        if any(value is None for value in box):
            parser.error('give the box as X Y W H (or use --gui)')
        if not (args.w > 0 and args.h > 0):
            parser.error(f'the box needs a positive width and height, got {args.w:g} x '
                         f'{args.h:g}')
    try:
        args.stamp = parse_stamp(args.stamp)
    except ValueError as error:
        parser.error(str(error))
    if not args.timeout > 0:
        parser.error(f'--timeout must be positive, got {args.timeout:g}')
    return args


def main(argv: list[str] | None = None) -> int:
    """Run select_target; ``argv`` excludes the program name."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_arguments(remove_ros_args(['select_target', *argv])[1:])
    use_large_frame_profile()  # --gui receives camera frames
    rclpy.init(args=['select_target', *argv])
    node = rclpy.create_node('select_target')
    try:
        if args.gui:
            try:
                return run_gui(node, args.image_topic, args.service, args.timeout)
            except GuiUnavailableError as error:
                print(f'select_target: error: {error}', file=sys.stderr, flush=True)
                return EXIT_UNAVAILABLE
        request = make_request((args.x, args.y, args.w, args.h), args.stamp)
        return send_target(node, args.service, request, args.timeout)
    except (KeyboardInterrupt, ExternalShutdownException):
        return EXIT_REFUSED
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    sys.exit(main())
