# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The litetrack node over real ROS 2, each party in its own process."""

import math
from pathlib import Path
import subprocess
import time
import uuid

import cv2
import numpy as np
import pytest
from ros_support import (
    background_process,
    installed_executable,
    process_rss_mb,
    ros_args,
    ros_node,
    spin_until,
    write_tiny_checkpoint,
)
from sequences import load_sequence, SEQUENCES_DIR, synthetic_sequence

pytestmark = pytest.mark.ros


@pytest.fixture
def namespace() -> str:
    return f'/cam_{uuid.uuid4().hex[:8]}'


def node_command(namespace: str, image_topic: str, **parameters) -> list[str]:
    parameters = {'lost_threshold': 0.0, **parameters}
    return [str(installed_executable('litetrack_node'))] + ros_args(
        namespace, parameters, {'image': image_topic})


def frames_folder(tmp_path: Path) -> Path:
    """Return the real 'bag' frames when ../shared is there, else generated ones."""
    if load_sequence('bag') is not None:
        return SEQUENCES_DIR / 'bag' / 'img'
    folder = tmp_path / 'frames'
    folder.mkdir()
    sequence = synthetic_sequence(num_frames=40, image_size=(360, 480))
    for index in range(len(sequence)):
        cv2.imwrite(str(folder / f'{index:05d}.png'), sequence.frame(index)[:, :, ::-1])
    return folder


def rgb_image(width: int, height: int, stamp_ns: int, frame_id: str = 'camera'):
    from sensor_msgs.msg import Image
    rng = np.random.default_rng(stamp_ns % 1000)
    pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    message = Image(height=height, width=width, encoding='rgb8', step=width * 3)
    message.data = pixels.tobytes()
    message.header.frame_id = frame_id
    message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    return message


def set_target(node, service: str, x: float, y: float, w: float, h: float,
               stamp_ns: int = 0, timeout_s: float = 30.0):
    from litetrack_ros.srv import SetTarget
    client = node.create_client(SetTarget, service)
    assert spin_until(node, client.service_is_ready, timeout_s=timeout_s), f'no {service}'
    request = SetTarget.Request()
    request.bbox.center.position.x = float(x + w / 2)
    request.bbox.center.position.y = float(y + h / 2)
    request.bbox.size_x, request.bbox.size_y = float(w), float(h)
    request.stamp.sec, request.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    future = client.call_async(request)
    assert spin_until(node, future.done, timeout_s=timeout_s)
    node.destroy_client(client)
    return future.result()


def call_trigger(node, service: str):
    from std_srvs.srv import Trigger
    client = node.create_client(Trigger, service)
    assert spin_until(node, client.service_is_ready, timeout_s=20)
    future = client.call_async(Trigger.Request())
    assert spin_until(node, future.done, timeout_s=20)
    node.destroy_client(client)
    return future.result()


def stamp_key(header) -> tuple[int, int, str]:
    return header.stamp.sec, header.stamp.nanosec, header.frame_id


def test_video_frames_tracked_with_image_stamps_and_reset(tmp_path, namespace, tiny_weights):
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    image_topic = f'{namespace}/image'
    source = [str(installed_executable('video_source')), str(frames_folder(tmp_path)),
              '--rate', '15', '--loop', '--frame-id', 'bag_camera'] + ros_args(
                  remappings={'image': image_topic})
    images: dict[tuple, Image] = {}
    arrays: list[Detection2DArray] = []
    diagnostics: list[dict] = []
    with background_process(source), \
            background_process(node_command(namespace, image_topic, weights=tiny_weights)) \
            as tracker, ros_node('observer') as node:
        node.create_subscription(Image, image_topic,
                                 lambda m: images.setdefault(stamp_key(m.header), m), 50)
        node.create_subscription(Detection2DArray, f'{namespace}/litetrack/detections',
                                 arrays.append, 50)
        node.create_subscription(DiagnosticArray, '/diagnostics',
                                 lambda m: diagnostics.extend(ours(m, namespace)), 50)
        assert spin_until(node, lambda: len(arrays) >= 3, timeout_s=60), tracker.stdout.read(3000)
        assert all(not a.detections for a in arrays), 'no target yet: arrays must be empty'
        # The stamps below are looked up among the images this observer received, so it
        # must receive them first: its reader can match the camera's writer seconds after
        # the node's (seen without ../shared: no image in the first 5 s, then all of them).
        assert spin_until(node, lambda: len(images) >= 3, timeout_s=30), \
            'the observer received no image from the video source'

        first = set_target(node, f'{namespace}/litetrack/set_target', 100, 80, 60, 70)
        assert first.success, first.message
        second = set_target(node, f'{namespace}/litetrack/set_target', 120, 90, 50, 50)
        assert second.success and second.track_id == first.track_id + 1
        arrays.clear()
        assert spin_until(node, lambda: len(arrays) >= 10, timeout_s=60)
        tracked = list(arrays)

        assert call_trigger(node, f'{namespace}/litetrack/reset').success
        arrays.clear()
        assert spin_until(node, lambda: len(arrays) >= 5, timeout_s=30)
        after_reset = arrays[2:]  # the first may have been in flight during the reset
        # image_qos auto: video_source publishes reliably, so the node subscribes
        # reliably once it has seen it (within the 2 s recheck).
        assert spin_until(node, lambda: any(d['image_reliability'] == 'reliable'
                                            for d in diagnostics), timeout_s=15)
        assert tracker.poll() is None

    for array in tracked:
        assert stamp_key(array.header) in images, 'detections must carry the image stamp'
        assert array.header.frame_id == 'bag_camera'
        (detection,) = array.detections
        assert detection.id == str(second.track_id)
        assert stamp_key(detection.header) == stamp_key(array.header)
        score = detection.results[0].hypothesis.score
        assert 0.0 <= score <= 1.0
        assert detection.results[0].hypothesis.class_id == 'target'
        assert detection.bbox.size_x >= 10 and detection.bbox.size_y >= 10
    assert after_reset and all(not a.detections for a in after_reset)


def rgb_message(frame: np.ndarray, stamp_ns: int, frame_id: str = 'camera'):
    from sensor_msgs.msg import Image
    height, width = frame.shape[:2]
    message = Image(height=height, width=width, encoding='rgb8', step=width * 3)
    message.data = frame.tobytes()
    message.header.frame_id = frame_id
    message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    return message


def box_iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def test_lighttrack_weights_track_real_frames(namespace, tmp_path):
    # LightTrack-M converted at test time from the teacher's OpenVINO IR (never stored).
    from diagnostic_msgs.msg import DiagnosticArray
    from litetrack_ros.cli import convert
    from vision_msgs.msg import Detection2DArray

    sequence = load_sequence('bag')
    ir_folder = SEQUENCES_DIR.parent / 'teachers' / 'lighttrack_m_openvino'
    if sequence is None or not (ir_folder / 'head.xml').is_file():
        pytest.skip('shared/data (bag, lighttrack_m_openvino) not available')
    weights = tmp_path / 'lighttrack_m.safetensors'
    assert convert.main([str(ir_folder), str(weights)]) == 0

    image_topic = f'{namespace}/image'
    arrays: dict[int, Detection2DArray] = {}
    diagnostics: list[dict] = []
    frames = 25
    with background_process(node_command(namespace, image_topic, weights=weights,
                                         image_qos='reliable')) as tracker, \
            ros_node('bag_camera') as node:
        publisher = node.create_publisher(type(rgb_message(sequence.frame(0), 0)),
                                          image_topic, 10)
        node.create_subscription(
            Detection2DArray, f'{namespace}/litetrack/detections',
            lambda m: arrays.setdefault(m.header.stamp.sec * 10**9 + m.header.stamp.nanosec, m),
            50)
        node.create_subscription(DiagnosticArray, '/diagnostics',
                                 lambda m: diagnostics.extend(ours(m, namespace)), 50)
        assert spin_until(node, lambda: publisher.get_subscription_count() > 0, timeout_s=60)

        def stamp(index: int) -> int:
            return 1_000_000_000 + index * 100_000_000

        publisher.publish(rgb_message(sequence.frame(0), stamp(0), 'bag_camera'))
        assert spin_until(node, lambda: stamp(0) in arrays, timeout_s=60), \
            tracker.stdout.read(3000) if tracker.poll() is not None else 'no array'
        reply = set_target(node, f'{namespace}/litetrack/set_target', *sequence.boxes[0],
                           stamp_ns=stamp(0))
        assert reply.success, reply.message
        for index in range(1, frames):  # one at a time: the node tracks the newest frame
            publisher.publish(rgb_message(sequence.frame(index), stamp(index), 'bag_camera'))
            assert spin_until(node, lambda index=index: stamp(index) in arrays, timeout_s=30)
        assert spin_until(node, lambda: bool(diagnostics), timeout_s=15)
        assert tracker.poll() is None

    assert not arrays[stamp(0)].detections
    assert diagnostics[-1]['variant'] == 'LightTrack-M'
    overlaps = []
    for index in range(1, frames):
        array = arrays[stamp(index)]
        assert array.header.frame_id == 'bag_camera'
        (detection,) = array.detections
        assert detection.id == str(reply.track_id)
        assert detection.results[0].hypothesis.score > 0.5
        size_x, size_y = detection.bbox.size_x, detection.bbox.size_y
        box = (detection.bbox.center.position.x - size_x / 2,
               detection.bbox.center.position.y - size_y / 2, size_x, size_y)
        overlaps.append(box_iou(box, sequence.boxes[index]))
    assert min(overlaps) > 0.5 and np.mean(overlaps) > 0.7, overlaps


def ours(array, namespace: str) -> list[dict]:
    """Return the key/values of the diagnostics of the node in this namespace."""
    return [{kv.key: kv.value for kv in status.values} for status in array.status
            if status.name.startswith(f'{namespace}/litetrack')]


def test_auto_image_qos_receives_a_best_effort_camera(namespace, tiny_weights):
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    image_topic = f'{namespace}/image'
    arrays: list[Detection2DArray] = []
    diagnostics: list[dict] = []
    with background_process(node_command(namespace, image_topic, weights=tiny_weights)), \
            ros_node('best_effort_camera') as node:
        publisher = node.create_publisher(Image, image_topic, qos_profile_sensor_data)
        node.create_subscription(Detection2DArray, f'{namespace}/litetrack/detections',
                                 arrays.append, 50)
        node.create_subscription(DiagnosticArray, '/diagnostics',
                                 lambda m: diagnostics.extend(ours(m, namespace)), 50)
        node.create_timer(0.1, lambda: publisher.publish(stamped(rgb_image(160, 120, 0))))
        assert spin_until(node, lambda: len(arrays) >= 5 and diagnostics, timeout_s=60)
    assert diagnostics[-1]['image_reliability'] == 'best_effort'


def test_bad_input_leaves_node_alive_and_tracking(namespace, tiny_weights):
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    image_topic = f'{namespace}/image'
    arrays: dict[tuple, Detection2DArray] = {}
    with background_process(node_command(namespace, image_topic, weights=tiny_weights,
                                         image_qos='reliable')) as tracker, \
            ros_node('bad_publisher') as node:
        publisher = node.create_publisher(Image, image_topic, 10)
        node.create_subscription(Detection2DArray, f'{namespace}/litetrack/detections',
                                 lambda m: arrays.setdefault(stamp_key(m.header), m), 50)
        assert spin_until(node, lambda: publisher.get_subscription_count() > 0, timeout_s=60)
        stamp = [1_000_000_000]

        def publish(message) -> None:
            publisher.publish(message)
            spin_until(node, lambda: False, timeout_s=0.15)

        def next_stamp() -> int:
            stamp[0] += 50_000_000
            return stamp[0]

        publish(rgb_image(320, 240, next_stamp()))
        assert spin_until(node, lambda: len(arrays) >= 1, timeout_s=30)
        reply = set_target(node, f'{namespace}/litetrack/set_target', 100, 80, 60, 50)
        assert reply.success, reply.message

        truncated = rgb_image(320, 240, next_stamp())
        truncated.data = truncated.data[:1000]
        unknown = rgb_image(64, 48, next_stamp())
        unknown.encoding = 'yuv_weird'
        empty = Image(encoding='rgb8')
        empty.header.stamp.sec = 7
        huge_claim = Image(height=100_000, width=100_000, encoding='rgb8', step=300_000)
        huge_claim.data = bytes(16)
        bad_stamps = set()
        for bad in (truncated, unknown, empty, huge_claim):
            bad_stamps.add(stamp_key(bad.header))
            publish(bad)
        large = rgb_image(3000, 2000, next_stamp())
        publish(large)

        service = f'{namespace}/litetrack/set_target'
        for box in [(0, 0, 0, 0), (10, 10, -5, 20), (math.nan, 5, 10, 10), (5000, 5000, 20, 20)]:
            refused = set_target(node, service, *box)
            assert not refused.success and refused.message, box
        wrong_stamp = set_target(node, service, 10, 10, 20, 20, stamp_ns=123)
        assert not wrong_stamp.success and 'stamp' in wrong_stamp.message

        # One valid frame at a time: the node tracks only the newest frame, so a
        # burst (e.g. behind the slow 3000x2000 one on a loaded machine) would be
        # skipped by design rather than lost.
        wanted = set()
        for _ in range(5):
            valid = rgb_image(320, 240, next_stamp())
            publish(valid)
            key = stamp_key(valid.header)
            wanted.add(key)
            assert spin_until(node, lambda key=key: key in arrays, timeout_s=30), \
                'a detection array for every valid frame after the bad ones'
        assert tracker.poll() is None, tracker.stdout.read(3000)

    assert not bad_stamps & set(arrays), 'nothing published for rejected frames'
    # A frame far from the stream's size is a glitch: skipped, the track kept.
    assert stamp_key(large.header) not in arrays
    for key in wanted:
        (detection,) = arrays[key].detections  # the refused requests kept the target
        assert detection.id == str(reply.track_id)


@pytest.mark.slow
def test_fast_camera_slow_model_drops_stale_frames(namespace, tmp_path):
    from diagnostic_msgs.msg import DiagnosticArray
    from litetrack_ros.tracking import runtime
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    image_topic = f'{namespace}/image'
    # A random network as wide and deep as LiteTrack-B4: well over 1/60 s per
    # frame on a CPU, so frames arrive faster than they can be tracked.
    weights = write_tiny_checkpoint(tmp_path / 'b4_like.safetensors', embed_dim=768, depth=4,
                                    search_size=256)
    command = node_command(namespace, image_topic, weights=weights)
    latencies: list[float] = []
    diagnostics: list[DiagnosticArray] = []
    memory: dict[str, float] = {}
    with background_process(command) as tracker, ros_node('fast_camera') as node:
        # Best effort, as camera drivers publish: the node's latency is under test
        # here, not the throughput of reliable DDS on two saturated cores.
        from rclpy.qos import qos_profile_sensor_data
        publisher = node.create_publisher(Image, image_topic, qos_profile_sensor_data)

        def on_detections(array: Detection2DArray, info: dict | None = None) -> None:
            # The middleware's reception time where rclpy gives it (Iron and later):
            # this process is busy publishing at 60 Hz, and its own scheduling
            # delays are not the node's latency.
            received_ns = (info or {}).get('received_timestamp') or time.time_ns()
            sent_ns = array.header.stamp.sec * 10**9 + array.header.stamp.nanosec
            latencies.append((received_ns - sent_ns) * 1e-9)

        import rclpy.subscription
        with_info = hasattr(rclpy.subscription, 'MessageInfo')
        node.create_subscription(
            Detection2DArray, f'{namespace}/litetrack/detections',
            (lambda a, i: on_detections(a, i)) if with_info else on_detections, 50)
        node.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append, 50)
        assert spin_until(node, lambda: publisher.get_subscription_count() > 0, timeout_s=90)
        frame = rgb_image(640, 480, 0)
        node.create_timer(1 / 60, lambda: publisher.publish(stamped(frame)))
        spin_until(node, lambda: bool(latencies), timeout_s=30)
        assert set_target(node, f'{namespace}/litetrack/set_target', 280, 200, 80, 80).success
        started = time.monotonic()
        spin_until(node, lambda: time.monotonic() - started > 10, timeout_s=15)
        memory['after_10s'] = process_rss_mb(tracker.pid)
        latencies.clear()
        spin_until(node, lambda: time.monotonic() - started > 60, timeout_s=55)
        memory['after_60s'] = process_rss_mb(tracker.pid)
        assert tracker.poll() is None

    node_diagnostics = [d for d in diagnostics if d.status and namespace in d.status[0].name]
    values = {kv.key: kv.value for kv in node_diagnostics[-1].status[0].values}
    assert int(values['frames_dropped']) > 0, values
    # auto precision follows the CPU (bf16 where native, for wide networks like this
    # width-768 one); nothing compiled unless asked.
    assert values['precision'] == runtime.resolve_precision('auto', 'cpu')
    assert values['compile'] == 'off'
    assert float(values['tracking_rate_hz']) < float(values['input_rate_hz'])
    # Queued frames would make the latency grow by ~the processing time every
    # frame (tens of seconds over this run); dropping stale frames keeps it flat.
    assert len(latencies) > 20
    fifth = len(latencies) // 5
    first, last = np.median(latencies[:fifth]), np.median(latencies[-fifth:])
    assert np.median(latencies) < 1.0, latencies
    assert last < 2 * first + 0.5, ('latency grew', first, last)
    assert np.percentile(latencies, 95) < 3.0, latencies
    assert memory['after_60s'] - memory['after_10s'] < 40, memory


def stamped(message):
    from builtin_interfaces.msg import Time
    now = time.time()
    message.header.stamp = Time(sec=int(now), nanosec=int((now % 1) * 1e9))
    return message


def test_lifecycle_driven_from_another_process(namespace, tiny_weights):
    from lifecycle_msgs.msg import State, Transition
    from lifecycle_msgs.srv import ChangeState, GetState
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    image_topic = f'{namespace}/image'
    base = f'{namespace}/litetrack'
    arrays: list[Detection2DArray] = []
    command = node_command(namespace, image_topic, weights=tiny_weights, autostart=False,
                           image_qos='reliable')
    with background_process(command), ros_node('lifecycle_manager') as node:
        change = node.create_client(ChangeState, f'{base}/change_state')
        get = node.create_client(GetState, f'{base}/get_state')
        publisher = node.create_publisher(Image, image_topic, 10)
        node.create_subscription(Detection2DArray, f'{base}/detections', arrays.append, 50)
        node.create_timer(0.1, lambda: publisher.publish(stamped(rgb_image(160, 120, 0))))
        assert spin_until(node, lambda: change.service_is_ready() and get.service_is_ready(),
                          timeout_s=60)

        def state() -> int:
            future = get.call_async(GetState.Request())
            assert spin_until(node, future.done, timeout_s=20)
            return future.result().current_state.id

        def transition(transition_id: int) -> bool:
            future = change.call_async(ChangeState.Request(
                transition=Transition(id=transition_id)))
            assert spin_until(node, future.done, timeout_s=60)
            return future.result().success

        assert state() == State.PRIMARY_STATE_UNCONFIGURED
        assert transition(Transition.TRANSITION_CONFIGURE)
        assert state() == State.PRIMARY_STATE_INACTIVE
        spin_until(node, lambda: False, timeout_s=1.0)
        assert not arrays, 'inactive: nothing published'

        assert transition(Transition.TRANSITION_ACTIVATE)
        assert state() == State.PRIMARY_STATE_ACTIVE
        assert spin_until(node, lambda: len(arrays) >= 3, timeout_s=30)

        assert transition(Transition.TRANSITION_DEACTIVATE)
        assert state() == State.PRIMARY_STATE_INACTIVE
        spin_until(node, lambda: False, timeout_s=0.5)
        arrays.clear()
        spin_until(node, lambda: False, timeout_s=1.0)
        assert not arrays, 'deactivated: nothing published'

        assert transition(Transition.TRANSITION_CLEANUP)
        assert state() == State.PRIMARY_STATE_UNCONFIGURED


def configure_failure_log(command: list, log_path) -> str:
    """Run a node expected to fail its autostart configure; return its log.

    The node exits with status 1 (so that ros2 launch and supervisors notice),
    after one clear error line, without a traceback.
    """
    with open(log_path, 'w') as log, \
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT) as tracker:
        try:
            status = tracker.wait(timeout=90)
        except subprocess.TimeoutExpired:
            tracker.kill()
            tracker.wait()
            pytest.fail('a failed autostart configure left the node running')
    output = log_path.read_text()
    assert status == 1, output
    assert 'configure failed' in output and 'Traceback' not in output
    return output


def test_configure_fails_with_a_pointer_to_weights(namespace, tmp_path):
    command = node_command(namespace, 'image', weights=str(tmp_path / 'missing.pth.tar'))
    output = configure_failure_log(command, tmp_path / 'node.log')
    assert 'does not exist' in output and 'litetrack-convert' in output


def test_configure_refuses_a_misspelt_choice(namespace, tiny_weights, tmp_path):
    command = node_command(namespace, 'image', weights=str(tiny_weights), image_qos='relaible')
    output = configure_failure_log(command, tmp_path / 'node.log')
    assert "image_qos must be one of auto, sensor_data, reliable; got 'relaible'" in output
