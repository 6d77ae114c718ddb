# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Throw malformed messages, requests and parameters at a running node.

The node must stay alive, keep its memory bounded, count every bad frame and answer
every valid frame that follows.
"""

import struct
import uuid
import zlib

import cv2
import numpy as np
import pytest
from ros_support import (
    background_process,
    process_rss_mb,
    ros_node,
    spin_until,
)
from test_node import node_command, ours, rgb_image, set_target, stamp_key

pytestmark = pytest.mark.ros


def png_claiming(width: int, height: int) -> bytes:
    """Return a small PNG whose header claims another size."""
    png = cv2.imencode('.png', np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack('>I', 13) + b'IHDR' + ihdr + struct.pack('>I', zlib.crc32(b'IHDR' + ihdr))
    return png[:8] + chunk + png[33:]


def malformed_raw(rng: np.random.Generator, stamp_ns: int):
    """Yield Image messages that must all be rejected."""
    from sensor_msgs.msg import Image

    def image(**fields) -> Image:
        message = Image(**{k: v for k, v in fields.items() if k != 'data'})
        message.data = fields.get('data', b'')
        message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 10 ** 9)
        return message

    width, height = 320, 240
    yield image(height=height, width=width, encoding='rgb8', step=width * 3,
                data=bytes(1000))  # truncated
    yield image(height=height, width=width, encoding='rgb8', step=width * 3 - 1,
                data=bytes(height * (width * 3 - 1)))  # step shorter than a row
    yield image(height=height, width=width, encoding='nv12', step=width,
                data=bytes(height * width))  # unknown encoding
    yield image(height=0, width=0, encoding='rgb8', step=0)  # empty
    yield image(height=100_000, width=100_000, encoding='rgb8', step=300_000,
                data=bytes(64))  # absurd claim
    yield image(height=2 ** 31, width=2 ** 31, encoding='mono16', step=2 ** 32,
                data=bytes(8))  # overflowing claim
    yield image(height=5000, width=5000, encoding='mono8', step=5000,
                data=bytes(25_000_000))  # over max_image_pixels (set to 4 Mpx below)
    yield image(height=2, width=2, encoding='rgb8', step=6, data=bytes(12))  # too small
    yield image(height=height, width=width, encoding='32FC1', step=width * 4,
                data=np.full(height * width, np.nan, np.float32).tobytes()[:-4])
    yield image(height=height, width=width, encoding='rgb8', step=width * 3,
                data=rng.integers(0, 255, height * width * 3 + 7, dtype=np.uint8).tobytes())


def malformed_compressed(rng: np.random.Generator, stamp_ns: int):
    """Yield CompressedImage messages that must all be rejected."""
    from sensor_msgs.msg import CompressedImage

    jpeg = cv2.imencode('.jpg', rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))[1]
    jpeg = jpeg.tobytes()
    payloads = [
        b'', b'not an image at all', png_claiming(60_000, 60_000), png_claiming(0, 0),
        jpeg[:300], jpeg.replace(b'\xff\xc0\x00\x11\x08\x00\xf0\x01\x40',
                                 b'\xff\xc0\x00\x11\x08\xff\xff\xff\xff', 1),
        cv2.imencode('.bmp', np.zeros((8, 8, 3), np.uint8))[1].tobytes(),
        b'\xff\xd8' + bytes(5000), b'\x89PNG\r\n\x1a\n' + bytes(3),
        cv2.imencode('.png', np.zeros((2000, 3000), np.uint8))[1].tobytes(),  # odd size
    ]
    for data in payloads:
        message = CompressedImage(format='jpeg')
        message.data = data
        message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 10 ** 9)
        yield message
    depth = CompressedImage(format='16UC1; compressedDepth png')
    depth.data = b'\x00' * 40
    yield depth


def compressed(message):
    """Return the JPEG CompressedImage of an rgb8 Image message."""
    from sensor_msgs.msg import CompressedImage
    pixels = np.frombuffer(bytes(message.data), np.uint8)
    pixels = pixels.reshape(message.height, message.width, 3)
    result = CompressedImage(header=message.header, format='jpeg')
    result.data = cv2.imencode('.jpg', pixels[:, :, ::-1])[1].tobytes()
    return result


@pytest.mark.parametrize('transport', ['raw', 'compressed'])
def test_fuzzed_inputs_never_kill_the_node(tiny_weights, transport):
    from diagnostic_msgs.msg import DiagnosticArray
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import SetParameters
    from sensor_msgs.msg import CompressedImage, Image
    from vision_msgs.msg import Detection2DArray

    namespace = f'/fuzz_{uuid.uuid4().hex[:8]}'
    image_topic = f'{namespace}/image'
    rng = np.random.default_rng(0)
    arrays: dict[tuple, Detection2DArray] = {}
    diagnostics: list[dict] = []
    command = node_command(namespace, image_topic, weights=tiny_weights, image_qos='reliable',
                           input_transport=transport, max_image_pixels=4_000_000)
    with background_process(command) as tracker, ros_node('fuzzer') as node:
        message_type = Image if transport == 'raw' else CompressedImage
        topic = image_topic if transport == 'raw' else image_topic + '/compressed'
        publisher = node.create_publisher(message_type, topic, 10)
        node.create_subscription(Detection2DArray, f'{namespace}/litetrack/detections',
                                 lambda m: arrays.setdefault(stamp_key(m.header), m), 100)
        node.create_subscription(DiagnosticArray, '/diagnostics',
                                 lambda m: diagnostics.extend(ours(m, namespace)), 50)
        assert spin_until(node, lambda: publisher.get_subscription_count() > 0, timeout_s=60)
        stamp = [1_000_000_000]

        def next_stamp() -> int:
            stamp[0] += 10_000_000
            return stamp[0]

        def valid():
            message = rgb_image(320, 240, next_stamp())
            return message if transport == 'raw' else compressed(message)

        first = valid()
        publisher.publish(first)
        assert spin_until(node, lambda: stamp_key(first.header) in arrays, timeout_s=30)
        reply = set_target(node, f'{namespace}/litetrack/set_target', 100, 80, 60, 50)
        assert reply.success, reply.message
        rss_before = process_rss_mb(tracker.pid)

        generate = malformed_raw if transport == 'raw' else malformed_compressed
        bad_stamps, answered, published_bad = set(), [], 0
        rss_rounds = []
        for _round in range(4):
            for bad in generate(rng, next_stamp()):
                bad_stamps.add(stamp_key(bad.header))
                publisher.publish(bad)
                published_bad += 1
                spin_until(node, lambda: False, timeout_s=0.03)
            good = valid()
            publisher.publish(good)
            key = stamp_key(good.header)
            assert spin_until(node, lambda key=key: key in arrays, timeout_s=30), \
                'every valid frame after the bad ones is answered'
            answered.append(key)
            assert tracker.poll() is None, tracker.stdout.read(3000)
            rss_rounds.append(process_rss_mb(tracker.pid))

        # Parameters: values outside the ranges and of the wrong type are refused.
        client = node.create_client(SetParameters, f'{namespace}/litetrack/set_parameters')
        assert spin_until(node, client.service_is_ready, timeout_s=20)
        for name, value in (('lost_threshold', ParameterValue(type=ParameterType.PARAMETER_DOUBLE,
                                                              double_value=7.0)),
                            ('lost_frames', ParameterValue(type=ParameterType.PARAMETER_STRING,
                                                           string_value='many')),
                            ('weights', ParameterValue(type=ParameterType.PARAMETER_STRING,
                                                       string_value='/nowhere'))):
            future = client.call_async(SetParameters.Request(
                parameters=[Parameter(name=name, value=value)]))
            assert spin_until(node, future.done, timeout_s=20)
            assert not future.result().results[0].successful, name

        # Requests: a burst of invalid set_target calls keeps the target.
        for box in [(0, 0, 0, 0), (float('inf'), 5, 10, 10), (5000, 5000, 20, 20)]:
            assert not set_target(node, f'{namespace}/litetrack/set_target', *box).success

        good = valid()
        publisher.publish(good)
        key = stamp_key(good.header)
        assert spin_until(node, lambda: key in arrays, timeout_s=30)

        def accounted() -> int:
            # A bad frame is rejected, or replaced by a newer one before it was looked at.
            last = diagnostics[-1] if diagnostics else {}
            return int(last.get('frames_rejected', 0)) + int(last.get('frames_dropped', 0))

        assert spin_until(node, lambda: accounted() >= published_bad, timeout_s=10), \
            (published_bad, diagnostics[-1:])
        assert int(diagnostics[-1]['frames_rejected']) >= published_bad // 2
        rss_after = process_rss_mb(tracker.pid)
        assert tracker.poll() is None

    assert not bad_stamps & set(arrays), 'nothing is published for a rejected frame'
    (detection,) = arrays[key].detections
    assert detection.id == str(reply.track_id), 'the target survived everything'
    assert diagnostics[-1]['last_rejection'] != 'none'
    # Bad frames are refused from their fields before anything is decoded or
    # buffered: after the first round (the middleware's buffers for the 25 MB
    # message) more bad input costs no more memory.
    assert rss_after - rss_before < 250, (rss_before, rss_rounds, rss_after)
    # A leak persists; the allocator may hold a transient peak for a round (seen once: +73 MB
    # in round 2, back to +27 MB in rounds 3 and 4), so the end is held tight, peaks loosely.
    assert max(rss_rounds[-1], rss_after) - rss_rounds[0] < 60, (rss_rounds, rss_after)
    assert max(rss_rounds) - rss_rounds[0] < 150, (rss_rounds, rss_after)
