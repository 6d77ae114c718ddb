# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``latency_bench``: measure the node's stamp-to-detection latency over real ROS 2.

Every party runs in its own process, as on a robot: the ``litetrack`` node, a
camera publishing frames of a real sequence (``../shared/data/sequences/bag``
when present, else a generated scene) resized to 640x480, optional service
clients calling ``set_target``/``reset`` in a loop, and this process, which sets
the target on the first frame, records every ``~/detections`` message (and,
when asked, subscribes to ``~/debug_image`` like RViz would) and prints for each
scenario::

    rate  qos  debug  clients  depth  frames  answered  detected  p50 p95 p99 max  service p95/max

``answered``: share of the camera's frames for which a Detection2DArray with
their stamp arrived; ``detected``: share with a detection in it; latencies
(ms) are from the image stamp (the camera's clock when it published) to the
middleware's reception of the detections here (same machine, same clock).

With ``--depth on`` the camera also publishes an aligned 16UC1 depth image
(the target's box at 1.5 m before a wall at 3 m) and its camera_info, the node
gets ``depth_topic``, and a second line per scenario gives the 3D outputs:
the share of frames with a ``~/detections_3d`` array and with a 3D detection,
its latency from the stamp, and the latency *added* by depth: per frame, the
3D array's arrival minus the 2D array's (p50/p95/max, ms).

Examples::

    latency_bench                                  # 10 and 30 Hz, both QoS, debug on/off
    latency_bench --rates 10,30,60 --clients 0,4 --duration 30 --json latency.json
    latency_bench --rates 30 --qos reliable --debug off --depth off,on
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
import itertools
import json
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable
import uuid

import cv2
from litetrack_ros.node.transport import use_large_frame_profile
import numpy as np

FRAME_SIZE = (640, 480)


def default_frames() -> str:
    """Return the real 'bag' sequence of ../shared (seen from the repository or build/), or ''."""
    for base in (Path.cwd().parent, Path.cwd().parent.parent):
        bag = base / 'shared' / 'data' / 'sequences' / 'bag'
        if (bag / 'img').is_dir():
            return str(bag)
    return ''


@dataclass(frozen=True)
class Scenario:
    """One measured setting."""

    rate: float
    qos: str
    debug: bool
    clients: int
    depth: bool = False


@dataclass
class Outcome:
    """What one scenario measured (latencies in ms)."""

    scenario: Scenario
    frames: int
    answered: float
    detected: float
    p50: float
    p95: float
    p99: float
    maximum: float
    service_p95: float
    service_max: float
    service_calls: int
    node: dict  # the node's last /diagnostics values (processing latency, drops, ...)
    depth: dict | None = None  # with depth: the 3D outputs' figures (see depth_row)

    def row(self) -> str:
        """One table row."""
        s = self.scenario
        service = (f'{self.service_p95:7.0f} / {self.service_max:.0f} ({self.service_calls})'
                   if self.service_calls else '-')
        return (f'{s.rate:4g} Hz  {s.qos:11s}  {"on " if s.debug else "off"}  {s.clients:2d}  '
                f'{"on " if s.depth else "off"}  '
                f'{self.frames:6d}  {self.answered:7.1%}  {self.detected:7.1%}  '
                f'{self.p50:6.1f}  {self.p95:6.1f}  {self.p99:6.1f}  {self.maximum:7.1f}  '
                f'{service}'
                f'  | node: processing p50 {self.node.get("latency_p50_ms", "?")} '
                f'p95 {self.node.get("latency_p95_ms", "?")}, stamp->callback p50 '
                f'{self.node.get("arrival_latency_p50_ms", "?")} p95 '
                f'{self.node.get("arrival_latency_p95_ms", "?")}, stamp->publish p50 '
                f'{self.node.get("stamp_latency_p50_ms", "?")} p95 '
                f'{self.node.get("stamp_latency_p95_ms", "?")}, dropped '
                f'{self.node.get("frames_dropped", "?")}, rejected '
                f'{self.node.get("frames_rejected", "?")}' + self.depth_row())

    def depth_row(self) -> str:
        """Return the 3D outputs' line (empty without depth)."""
        if not self.depth:
            return ''
        d = self.depth
        return (f'\n    depth: answered {d["answered"]:.1%}, located {d["located"]:.1%}, '
                f'stamp->3D p50 {d["p50"]:.1f} p95 {d["p95"]:.1f} ms; added by depth p50 '
                f'{d["added_p50"]:.2f} p95 {d["added_p95"]:.2f} max {d["added_max"]:.2f} ms'
                f' | node: depth step p50 {self.node.get("depth_latency_p50_ms", "?")} p95 '
                f'{self.node.get("depth_latency_p95_ms", "?")} ms, missing '
                f'{self.node.get("depth_missing", "?")}')


HEADER = ('rate     qos          debug cl  depth frames  answered detected    p50     p95     p99'
          '      max  service p95 / max ms (calls)')
# The depth scene: the target's box at TARGET_MM before a wall at WALL_MM; a 640x480
# pinhole camera.
TARGET_MM, WALL_MM = 1500, 3000
CAMERA_K = (525.0, 0.0, 319.5, 0.0, 525.0, 239.5, 0.0, 0.0, 1.0)


# ----------------------------------------------------------------------------- frames


def load_frames(folder: Path | None, count: int) -> tuple[list[np.ndarray], list[tuple]]:
    """Return RGB frames resized to 640x480 and each frame's box (x, y, w, h)."""
    from litetrack_ros.images.frame_reader import list_images  # noqa: PLC0415

    width, height = FRAME_SIZE
    if folder is not None and (folder / 'img').is_dir():
        paths = list_images(folder / 'img')[:count]
        frames = [cv2.imread(str(p)) for p in paths]
        scale = np.array([width / frames[0].shape[1], height / frames[0].shape[0]] * 2)
        truth = np.loadtxt(folder / 'groundtruth.txt', delimiter=',', ndmin=2)[:len(frames)]
        frames = [cv2.cvtColor(cv2.resize(f, FRAME_SIZE, interpolation=cv2.INTER_LINEAR),
                               cv2.COLOR_BGR2RGB) for f in frames]
        return frames, [tuple(float(v) for v in row[:4] * scale) for row in truth]
    from litetrack_ros.images import scenes  # noqa: PLC0415
    scene = scenes.random_scene(np.random.SeedSequence(7), count, (height, width))
    rendered = [scene.render(i) for i in range(count)]
    return [r.image for r in rendered], [tuple(float(v) for v in r.box_xywh) for r in rendered]


def depth_frame(box: tuple) -> np.ndarray:
    """Return a 16UC1 depth image: the box at TARGET_MM before a wall at WALL_MM."""
    width, height = FRAME_SIZE
    depth = np.full((height, width), WALL_MM, np.uint16)
    x, y, w, h = (int(round(v)) for v in box)
    depth[max(0, y):max(0, y + h), max(0, x):max(0, x + w)] = TARGET_MM
    return depth


# ----------------------------------------------------------------------------- roles


def run_camera(args: argparse.Namespace) -> int:
    """Publish the frames at a fixed rate, writing 'index stamp_ns' per frame."""
    import rclpy  # noqa: PLC0415
    from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: PLC0415
    from sensor_msgs.msg import CameraInfo, Image  # noqa: PLC0415

    frames, boxes = load_frames(Path(args.frames) if args.frames else None, args.count)
    rclpy.init()
    node = rclpy.create_node(f'latency_camera_{os.getpid()}')
    reliability = (ReliabilityPolicy.RELIABLE if args.qos == 'reliable'
                   else ReliabilityPolicy.BEST_EFFORT)
    qos = QoSProfile(depth=5, reliability=reliability)
    publisher = node.create_publisher(Image, args.topic, qos)
    messages = [_image(frame, 'rgb8', 'camera') for frame in frames]
    # With --depth-topic: an aligned depth image and camera_info with each frame's stamp.
    depth_messages, depth_publisher, info_publisher = [], None, None
    info = CameraInfo(width=FRAME_SIZE[0], height=FRAME_SIZE[1], k=list(CAMERA_K))
    if args.depth_topic:
        depth_publisher = node.create_publisher(Image, args.depth_topic, qos)
        info_publisher = node.create_publisher(
            CameraInfo, args.depth_topic.rsplit('/', 1)[0] + '/camera_info', qos)
        depth_messages = [_image(depth_frame(box), '16UC1', 'camera_optical')
                          for box in boxes]
    log = open(args.stamps, 'w', buffering=1)
    go = Path(args.stamps + '.go')  # the observer creates it once the target is set
    period = 1.0 / args.rate
    sequence = itertools.count()
    deadline = None
    next_time = time.monotonic()
    try:
        while deadline is None or time.monotonic() < deadline:
            if deadline is None and go.exists():
                deadline = time.monotonic() + args.duration
                sequence = itertools.count()
            held = deadline is None
            index = 0 if held else (next(sequence) % len(messages))
            message = messages[index]
            stamp = time.time_ns()
            message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp, 10 ** 9)
            if depth_publisher is not None:
                for extra, target in ((info, info_publisher),
                                      (depth_messages[index], depth_publisher)):
                    extra.header.stamp = message.header.stamp
                    target.publish(extra)
            publisher.publish(message)
            log.write(f'{-1 if held else index} {stamp}\n')
            next_time += period
            rclpy.spin_once(node, timeout_sec=max(0.0, next_time - time.monotonic()))
            while time.monotonic() < next_time:
                time.sleep(min(0.002, next_time - time.monotonic()))
    finally:
        log.close()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def _image(pixels: np.ndarray, encoding: str, frame_id: str) -> Any:
    from sensor_msgs.msg import Image  # noqa: PLC0415
    message = Image(height=pixels.shape[0], width=pixels.shape[1], encoding=encoding,
                    step=pixels.strides[0])
    message.header.frame_id = frame_id
    message.data = pixels.tobytes()
    return message


def run_client(args: argparse.Namespace) -> int:
    """Call set_target (newest frame) and reset alternately until the duration is over."""
    from litetrack_ros.srv import SetTarget  # noqa: PLC0415
    import rclpy  # noqa: PLC0415
    from std_srvs.srv import Trigger  # noqa: PLC0415

    rclpy.init()
    node = rclpy.create_node(f'latency_client_{os.getpid()}')
    set_target = node.create_client(SetTarget, f'{args.namespace}/litetrack/set_target')
    reset = node.create_client(Trigger, f'{args.namespace}/litetrack/reset')
    x, y, w, h = (float(v) for v in args.box.split(','))
    request = SetTarget.Request()
    request.bbox.center.position.x, request.bbox.center.position.y = x + w / 2, y + h / 2
    request.bbox.size_x, request.bbox.size_y = w, h
    log = open(args.stamps, 'w', buffering=1)
    deadline = time.monotonic() + args.duration
    try:
        for client in (set_target, reset):
            client.wait_for_service(timeout_sec=30)
        calls = itertools.cycle(((set_target, request), (reset, Trigger.Request())))
        while time.monotonic() < deadline:
            client, message = next(calls)
            started = time.monotonic()
            future = client.call_async(message)
            rclpy.spin_until_future_complete(node, future,
                                             timeout_sec=max(0.1, deadline - started))
            if future.done():
                log.write(f'{(time.monotonic() - started) * 1e3:.3f}\n')
    finally:
        log.close()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


# ----------------------------------------------------------------------------- measuring


def _spawn(args: list[str], log: Path) -> subprocess.Popen:
    handle = open(log, 'w')
    return subprocess.Popen([str(a) for a in args], stdout=handle, stderr=subprocess.STDOUT,
                            env=dict(os.environ))


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(log: Path, characters: int = 2000) -> str:
    return log.read_text()[-characters:] if log.is_file() else f'(no {log})'


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float('nan')


def measure(scenario: Scenario, options: argparse.Namespace, box: tuple,
            workdir: Path) -> Outcome:
    """Run one scenario end to end and return its figures."""
    from diagnostic_msgs.msg import DiagnosticArray  # noqa: PLC0415
    from litetrack_ros.srv import SetTarget  # noqa: PLC0415
    import rclpy  # noqa: PLC0415
    from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: PLC0415
    from sensor_msgs.msg import Image  # noqa: PLC0415
    from vision_msgs.msg import Detection2DArray, Detection3DArray  # noqa: PLC0415

    namespace = f'/lb_{uuid.uuid4().hex[:8]}'
    topic = f'{namespace}/image'
    depth_topic = f'{namespace}/depth/image_raw' if scenario.depth else ''
    me = [sys.executable, '-m', 'litetrack_ros.ros_tools.latency_bench']
    node_args = [sys.executable, '-m', 'litetrack_ros.node.main', '--ros-args',
                 '-r', f'__ns:={namespace}', '-r', f'image:={topic}',
                 '-p', f'lost_threshold:={options.lost_threshold}']
    if options.weights:
        node_args += ['-p', f'weights:={options.weights}']
    if depth_topic:
        node_args += ['-p', f'depth_topic:={depth_topic}']
    for extra in options.node_param:
        node_args += ['-p', extra]
    duration = options.warmup + options.duration + 1.0
    camera_stamps = workdir / f'camera_{namespace[1:]}.txt'
    processes = [_spawn(node_args, workdir / f'node_{namespace[1:]}.log')]
    received: dict[int, tuple[int, bool]] = {}
    received_3d: dict[int, tuple[int, bool]] = {}
    context = rclpy.Context()
    rclpy.init(context=context)
    observer = rclpy.create_node('latency_observer', context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(observer)

    import rclpy.subscription  # noqa: PLC0415
    with_info = hasattr(rclpy.subscription, 'MessageInfo')

    def recorder(store: dict) -> Callable[..., None]:
        """Record each array's arrival (the middleware's reception time) by stamp."""
        def on_detections(array: Any, info: object = None) -> None:
            stamp = array.header.stamp.sec * 10 ** 9 + array.header.stamp.nanosec
            arrived = (info or {}).get('received_timestamp') if isinstance(info, dict) else None
            store.setdefault(stamp, (arrived or time.time_ns(), bool(array.detections)))
        return (lambda a, i: on_detections(a, i)) if with_info else on_detections

    observer.create_subscription(Detection2DArray, f'{namespace}/litetrack/detections',
                                 recorder(received), QoSProfile(depth=100))
    if depth_topic:
        observer.create_subscription(Detection3DArray, f'{namespace}/litetrack/detections_3d',
                                     recorder(received_3d), QoSProfile(depth=100))
    node_values: dict = {}

    def on_diagnostics(array: DiagnosticArray) -> None:
        for status in array.status:
            if status.name.startswith(f'{namespace}/litetrack'):
                node_values.update({kv.key: kv.value for kv in status.values})

    observer.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics, 10)
    if scenario.debug:
        # As RViz's Image display: reliable, shallow queue; the images are discarded.
        observer.create_subscription(Image, f'{namespace}/litetrack/debug_image',
                                     lambda _: None,
                                     QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
    set_target = observer.create_client(SetTarget, f'{namespace}/litetrack/set_target')
    client_logs = []
    try:
        deadline = time.monotonic() + 120
        while not set_target.service_is_ready() and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
        if not set_target.service_is_ready():
            raise RuntimeError('node did not come up: '
                               + _tail(workdir / f'node_{namespace[1:]}.log'))
        frames_arg = ['--frames', options.frames] if options.frames else []
        processes.append(_spawn(me + ['--camera', '--topic', topic, '--rate', str(scenario.rate),
                                      '--qos', scenario.qos, '--count', str(options.count),
                                      '--duration', str(duration), '--stamps',
                                      str(camera_stamps), '--depth-topic', depth_topic]
                                + frames_arg,
                                workdir / f'camera_{namespace[1:]}.log'))
        # Set the target on frame 0 while the camera holds it, then let it play.
        request = SetTarget.Request()
        x, y, w, h = box
        request.bbox.center.position.x, request.bbox.center.position.y = x + w / 2, y + h / 2
        request.bbox.size_x, request.bbox.size_y = w, h
        started, reply = time.monotonic(), None
        while time.monotonic() - started < 60 and not (reply and reply.success):
            executor.spin_once(timeout_sec=0.2)
            if camera_stamps.is_file() and len(camera_stamps.read_text().split()) >= 6:
                future = set_target.call_async(request)
                while not future.done() and time.monotonic() - started < 60:
                    executor.spin_once(timeout_sec=0.05)
                reply = future.result() if future.done() else None
        if not (reply and reply.success):
            raise RuntimeError(f'set_target failed: {reply.message if reply else "timeout"}')
        Path(str(camera_stamps) + '.go').touch()
        started = time.monotonic()
        for index in range(scenario.clients):
            log = workdir / f'client{index}_{namespace[1:]}.txt'
            client_logs.append(log)
            processes.append(_spawn(me + ['--client', '--namespace', namespace, '--box',
                                          ','.join(f'{v:.1f}' for v in box), '--duration',
                                          str(duration), '--stamps', str(log)],
                                    workdir / f'client{index}_{namespace[1:]}.log'))
        end = started + duration + 1.5
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
            if processes[0].poll() is not None:
                raise RuntimeError(f'the node exited with {processes[0].returncode}: '
                                   + _tail(workdir / f'node_{namespace[1:]}.log'))
    finally:
        for process in reversed(processes):
            _stop(process)
        executor.shutdown()
        observer.destroy_node()
        rclpy.shutdown(context=context)

    rows = [line.split() for line in camera_stamps.read_text().splitlines() if line.strip()]
    stamps = [int(stamp) for index, stamp in rows if int(index) >= 0]
    # Skip the warm-up after the hold and the last second (detections in flight).
    first = stamps[0] + int(options.warmup * 1e9) if stamps else 0
    last = stamps[-1] - int(1e9) if stamps else 0
    window = [s for s in stamps if first <= s <= last]
    latencies = [(received[s][0] - s) * 1e-6 for s in window if s in received]
    detected = sum(1 for s in window if s in received and received[s][1])
    service = [float(v) for log in client_logs if log.is_file()
               for v in log.read_text().split()]
    count = max(1, len(window))
    return Outcome(scenario, len(window), len(latencies) / count, detected / count,
                   _percentile(latencies, 50), _percentile(latencies, 95),
                   _percentile(latencies, 99), max(latencies, default=float('nan')),
                   _percentile(service, 95), max(service, default=float('nan')), len(service),
                   node_values, depth_figures(window, received, received_3d) if depth_topic
                   else None)


def depth_figures(window: list[int], received: dict, received_3d: dict) -> dict:
    """Shares and latencies (ms) of the 3D arrays, and what depth added to the 2D ones."""
    answered = [s for s in window if s in received_3d]
    latencies = [(received_3d[s][0] - s) * 1e-6 for s in answered]
    added = [(received_3d[s][0] - received[s][0]) * 1e-6 for s in answered if s in received]
    count = max(1, len(window))
    return {'answered': len(answered) / count,
            'located': sum(1 for s in answered if received_3d[s][1]) / count,
            'p50': _percentile(latencies, 50), 'p95': _percentile(latencies, 95),
            'added_p50': _percentile(added, 50), 'added_p95': _percentile(added, 95),
            'added_max': max(added, default=float('nan'))}


# ----------------------------------------------------------------------------- CLI


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(',') if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface."""
    parser = argparse.ArgumentParser(prog='latency_bench', description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', default='', help='node weights (default: the package '
                                                      "default's)")
    parser.add_argument('--frames', default=default_frames(),
                        help='sequence folder (img/ + groundtruth.txt); default bag from '
                             '../shared, else a generated scene')
    parser.add_argument('--count', type=int, default=100, help='frames loaded (looped)')
    parser.add_argument('--rates', default='10,30', help='camera rates in Hz (10,30)')
    parser.add_argument('--qos', default='reliable,sensor_data',
                        help='camera reliability: reliable, sensor_data or both')
    parser.add_argument('--debug', default='on,off', help='subscribe to ~/debug_image: on, off')
    parser.add_argument('--clients', default='0', help='service clients looping set_target/'
                                                       'reset, e.g. 0,4')
    parser.add_argument('--depth', default='off',
                        help='publish an aligned depth image and camera_info with each frame '
                             'and measure the 3D outputs: off, on or off,on')
    parser.add_argument('--duration', type=float, default=20.0, help='seconds measured')
    parser.add_argument('--warmup', type=float, default=2.0, help='seconds skipped after the '
                                                                  'target is set')
    parser.add_argument('--lost-threshold', type=float, default=0.0,
                        help='node lost_threshold (0: latency of every frame, never lost)')
    parser.add_argument('--node-param', action='append', default=[], metavar='NAME:=VALUE',
                        help='extra node parameter')
    parser.add_argument('--default-transport', action='store_true',
                        help="Fast DDS's default transports instead of the package profile "
                             '(config/fastdds_large_frames.xml) in every process')
    parser.add_argument('--json', type=Path, default=None, help='write the outcomes as JSON')
    # Internal roles (the same program in other processes).
    parser.add_argument('--camera', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--client', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--topic', help=argparse.SUPPRESS)
    parser.add_argument('--rate', type=float, help=argparse.SUPPRESS)
    parser.add_argument('--namespace', help=argparse.SUPPRESS)
    parser.add_argument('--box', help=argparse.SUPPRESS)
    parser.add_argument('--stamps', help=argparse.SUPPRESS)
    parser.add_argument('--depth-topic', default='', help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``latency_bench``."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    if not args.default_transport:
        use_large_frame_profile()  # inherited by the node, camera and clients
    if args.camera:
        args.qos = args.qos.split(',')[0]
        return run_camera(args)
    if args.client:
        return run_client(args)
    _, boxes = load_frames(Path(args.frames) if args.frames else None, 1)
    box = boxes[0]
    scenarios = [Scenario(rate, qos, debug == 'on', int(clients), depth == 'on')
                 for rate in _floats(args.rates) for qos in args.qos.split(',')
                 for debug in args.debug.split(',') for clients in args.clients.split(',')
                 for depth in args.depth.split(',')]
    print(f'latency_bench: {len(scenarios)} scenarios of {args.duration:g} s, frames '
          f'{args.frames or "generated"} at {FRAME_SIZE[0]}x{FRAME_SIZE[1]}, '
          f'{os.cpu_count()} CPUs', flush=True)
    print(HEADER, flush=True)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix='latency_bench_') as workdir:
        for scenario in scenarios:
            outcome = measure(scenario, args, box, Path(workdir))
            outcomes.append(outcome)
            print(outcome.row(), flush=True)
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
