# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``make demo``: the whole ROS 2 pipeline on a generated video, with a report.

Usage::

    python -m litetrack_ros.ros_tools.demo [--frames N] [--rate HZ] [--size WxH]
        [--source VIDEO|FOLDER|CAMERA --box X,Y,W,H] [--weights PATH]
        [--device auto|cpu|cuda[:N]] [--output DIR]

(``make demo DEMO_ARGS='--frames 60'``). Three processes talk over ROS 2:
``video_source`` publishes the video, the ``litetrack`` node tracks it, and
this process, the recorder, sets the target on the first frame it records
(``~/set_target`` with that frame's stamp) and records ``~/detections``,
``~/debug_image`` and ``/diagnostics``. The default video is generated
(``litetrack_ros.scenes``) together with its ground truth, so nothing from
outside is needed. At the end the output folder holds:

* ``annotated.mp4``: one frame per frame received: the node's debug image, or
  the raw frame labelled ``skipped`` where the node, busy with an older frame,
  went straight to a newer one;
* ``detections.csv``: one row per frame received: stamp, frame, box, score,
  track id, latency, status (box and score empty without a detection);
* ``plot.png``: confidence and latency over time;
* ``summary.json``, also printed: frames, tracked fraction, latency, device,
  weights (or UNTRAINED) and, for the generated video, the mean IoU;
* ``scene.mp4`` and ``scene_groundtruth.txt`` (the generated video), ``logs/``.

Frame numbers: ``video_source`` stamps frames with its clock, so a stamp does
not tell the frame's index. For a video file or folder (the generated video
included) the recorder reads the frames first, as ``video_source`` does, and
numbers each frame received by its content (a digest of its pixels). The
source loops and one pass is recorded, from frame 0 to the last (or the
``--frames``-th): frames published before DDS had matched everybody, which
can take seconds on a busy machine, are passed over instead of shifting the
numbering, and the target is set on frame 0 (the ground-truth box of the
generated video, or ``--box``). A camera is numbered in order of reception.
Detections and debug images carry the image header and are matched to frames
by stamp. Latency is the time a detection reached the recorder's process (the
middleware's reception time) minus its image stamp: transport both ways,
queueing and tracking.

DDS stays on this machine (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) and, unless
ROS_DOMAIN_ID is set, the run gets a domain derived from its pid. Exit status:
0 done, 1 the pipeline failed, 2 bad arguments, 130 interrupted (the outputs of
the frames recorded until then are still written).
"""

import argparse
import csv
from dataclasses import dataclass, field
import hashlib
import json
import math
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import cv2
from diagnostic_msgs.msg import DiagnosticArray
from litetrack_ros.frame_reader import (
    CAMERA_VIDEO_FPS,
    FrameSourceError,
    is_camera,
    open_frames,
)
from litetrack_ros.image_codec import decode_message
from litetrack_ros.offline import parse_box, UsageError
from litetrack_ros.overlay import draw_track
from litetrack_ros.ros_tools.select_target import make_request
from litetrack_ros.ros_tools.stamps import format_stamp, NANOSECONDS_PER_SECOND, stamp_to_ns
from litetrack_ros.ros_tools.transport import use_large_frame_profile
from litetrack_ros.ros_tools.video_source import positive_float, positive_int
from litetrack_ros.runtime import (
    find_checkpoint,
    package_weights_folder,
    resolve_device,
    WEIGHTS_HELP,
)
from litetrack_ros.srv import SetTarget
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

PROG = 'demo'
NAMESPACE = '/litetrack_demo'
NODE_NAME = 'litetrack'
IMAGE_TOPIC = f'{NAMESPACE}/image'
NODE_PATH = f'{NAMESPACE}/{NODE_NAME}'

DEFAULT_FRAMES = 150
DEFAULT_SIZE = (640, 480)  # width, height
# A rate the network follows on a CPU; faster sources make the node skip frames.
DEFAULT_RATE_HZ = 10.0
SCENE_SEED = 0

# video_source waits this long before its first frame so that the node and the
# recorder, already subscribed, are matched. Local discovery usually takes a
# fraction of a second, but when a busy machine misses a participant's first
# announcements, Fast DDS repeats them only every 3 s. Frames published before
# the match are not lost to the numbering (see above) but cost waiting for the
# next pass of the video.
SOURCE_START_DELAY_S = 3.5
# Loading torch and the network on a busy CPU can take a while.
NODE_READY_TIMEOUT_S = 180.0
# After the source ends: how long to wait for the node to catch up.
END_IDLE_TIMEOUT_S = 10.0
# A set_target on a frame the node did not get starts the recording over (on
# the next pass of a video, the next frame of a camera), at most this often.
SET_TARGET_ATTEMPTS = 5
# Frames kept for the annotated video while their debug image may still come.
MAX_PENDING_FRAMES = 60
# Subscriber queues deep enough that a short stall here loses nothing.
RECORDER_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

CSV_COLUMNS = ('stamp', 'frame', 'x', 'y', 'w', 'h', 'score', 'track_id', 'latency_ms',
               'status')


class DemoError(RuntimeError):
    """The pipeline failed; the message says where to look."""


def log(message: str) -> None:
    """Print a progress line of the demo."""
    print(f'[{PROG}] {message}', flush=True)


# ----------------------------------------------------------------- environment


def configure_ros_environment() -> None:
    """Keep DDS on this machine, in a domain of this run, with the venv as ROS prefix."""
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    # The pid spread over the valid domains 1..101, as the tests do: parallel
    # demos and test runs do not see each other.
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 101))
    # In the bootstrap venv the venv itself is the ROS prefix (`make demo` sets
    # this too; a plain `.venv/bin/python -m ...` does not).
    prefix = Path(sys.prefix)
    paths = [p for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]
    if (prefix / 'share' / 'ament_index').is_dir() and str(prefix) not in paths:
        os.environ['AMENT_PREFIX_PATH'] = os.pathsep.join([str(prefix)] + paths)
    # The large-frame Fast DDS profile for this process and the children it starts.
    use_large_frame_profile()


def installed_executable(name: str) -> Path:
    """Path of an executable the package installs into lib/litetrack_ros."""
    from ament_index_python.packages import get_package_prefix
    return Path(get_package_prefix('litetrack_ros')) / 'lib' / 'litetrack_ros' / name


# --------------------------------------------------------------------- options


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``WxH`` (pixels, both at least 64) into ``(width, height)``."""
    parts = text.lower().split('x')
    try:
        width, height = (int(part) for part in parts)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f'expected WIDTHxHEIGHT such as 640x480, got {text!r}') from error
    if width < 64 or height < 64:
        raise argparse.ArgumentTypeError(f'size must be at least 64x64, got {text!r}')
    return width, height


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog='python -m litetrack_ros.ros_tools.demo',
        description='Run video_source -> litetrack node -> recorder over ROS 2 on a '
                    'generated video (or any video, folder or camera) and write an '
                    'annotated video, the detections, a plot and a summary.')
    parser.add_argument('--frames', type=positive_int, metavar='N',
                        help=f'frames to track (default: {DEFAULT_FRAMES} of the generated '
                             'video; all of a --source)')
    parser.add_argument('--rate', type=positive_float, metavar='HZ',
                        help=f'frames per second published (default: {DEFAULT_RATE_HZ:g}; '
                             'a camera: as delivered)')
    parser.add_argument('--size', type=parse_size, metavar='WxH',
                        help='size of the generated video (default: '
                             f'{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]})')
    parser.add_argument('--source', metavar='VIDEO|FOLDER|CAMERA',
                        help='track this video file, image folder or camera index instead '
                             'of the generated video (needs --box; a file or folder is read '
                             'once first, to number the frames received)')
    parser.add_argument('--box', metavar='X,Y,W,H',
                        help='target on the first frame (default for the generated video: '
                             'its ground truth)')
    parser.add_argument('--weights', default='', metavar='PATH',
                        help="checkpoint file or folder (default: the package's weights/; "
                             'none found: an UNTRAINED network)')
    parser.add_argument('--device', default='auto',
                        help='auto (CUDA when available), cpu, cuda or cuda:N')
    parser.add_argument('--output', type=Path, default=Path('demo_output'), metavar='DIR',
                        help='folder for the results (default: %(default)s)')
    return parser


@dataclass(frozen=True)
class SourcePlan:
    """What video_source publishes and the target on its first frame."""

    source: str
    description: str
    initial_box: tuple[float, float, float, float] | None  # None: the ground truth's
    groundtruth: np.ndarray | None  # (N, 4) xywh for the generated video
    rate_hz: float | None
    max_frames: int | None
    video_fps: float
    # Video files and folders: frame indices by content digest; the source then loops.
    frame_digests: dict[bytes, list[int]] | None = None
    num_frames: int | None = None  # frames in one recorded pass

    @property
    def loop(self) -> bool:
        """Whether the source repeats and the recorder picks one pass by content."""
        return self.frame_digests is not None


@dataclass(frozen=True)
class WeightsPlan:
    """The checkpoint the node is given, as the demo resolved it."""

    path: Path | None  # None: no checkpoint anywhere, the node runs untrained
    note: str  # why, when the demo had to look past what it was given


def frame_digest(rgb_bytes) -> bytes:
    """Digest of a frame's RGB bytes (anything with the buffer protocol)."""
    return hashlib.blake2b(rgb_bytes, digest_size=16).digest()


def video_frame_digests(source: Path, limit: int | None) -> tuple[dict[bytes, list[int]], int]:
    """Map frame digests to frame indices, frames read as video_source reads them (rgb8).

    Returns the map and the number of frames read (at most ``limit``).
    """
    digests: dict[bytes, list[int]] = {}
    count = 0
    for index, frame_bgr in open_frames(source):
        if limit is not None and index >= limit:
            break
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        digests.setdefault(frame_digest(np.ascontiguousarray(rgb)), []).append(index)
        count = index + 1
    return digests, count


def write_scene_video(output: Path, num_frames: int, size: tuple[int, int], rate_hz: float
                      ) -> tuple[Path, np.ndarray]:
    """Render the generated scene to ``scene.mp4`` (+ ground truth), reusing a previous one."""
    from litetrack_ros.scenes import render_scene_video

    video, groundtruth_file = output / 'scene.mp4', output / 'scene_groundtruth.txt'
    key_file = output / 'scene.json'
    key = {'frames': num_frames, 'width': size[0], 'height': size[1], 'seed': SCENE_SEED}
    # Rendering takes seconds; the same arguments always give the same scene.
    if video.is_file() and groundtruth_file.is_file() and key_file.is_file():
        if json.loads(key_file.read_text()) == key:
            return video, np.loadtxt(groundtruth_file, delimiter=',', ndmin=2)
    log(f'rendering the generated scene ({num_frames} frames, {size[0]}x{size[1]}) '
        f'-> {video}')
    frames, boxes = render_scene_video(num_frames=num_frames, size=(size[1], size[0]),
                                       seed=SCENE_SEED)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'mp4v'), rate_hz, size)
    if not writer.isOpened():
        raise DemoError(f'OpenCV cannot write {video}')
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    np.savetxt(groundtruth_file, boxes, fmt='%.3f', delimiter=',')
    key_file.write_text(json.dumps(key))
    # As stored, so that a run on a reused scene gives the same numbers.
    return video, np.loadtxt(groundtruth_file, delimiter=',', ndmin=2)


def plan_source(args: argparse.Namespace, output: Path) -> SourcePlan:
    """Check the source options; render the generated video when no --source is given."""
    box = parse_box(args.box) if args.box else None
    if args.source is None:
        size = args.size or DEFAULT_SIZE
        rate = args.rate or DEFAULT_RATE_HZ
        frames = args.frames or DEFAULT_FRAMES
        video, groundtruth = write_scene_video(output, frames, size, rate)
        digests, count = video_frame_digests(video, None)
        return SourcePlan(source=str(video), description=f'the generated scene '
                          f'({size[0]}x{size[1]})', initial_box=box, groundtruth=groundtruth,
                          rate_hz=rate, max_frames=None, video_fps=rate,
                          frame_digests=digests, num_frames=count)
    if box is None:
        raise UsageError('--source needs --box X,Y,W,H: the target on its first frame')
    if args.size is not None:
        raise UsageError('--size only applies to the generated video, not to --source')
    if is_camera(args.source):
        return SourcePlan(source=args.source, description=f'camera {args.source}',
                          initial_box=box, groundtruth=None, rate_hz=args.rate,
                          max_frames=args.frames, video_fps=args.rate or CAMERA_VIDEO_FPS)
    path = Path(args.source).expanduser().resolve()
    try:
        digests, count = video_frame_digests(path, args.frames)
    except (FileNotFoundError, FrameSourceError) as error:
        raise UsageError(str(error)) from error
    if count == 0:
        raise UsageError(f'{path} has no frame that OpenCV can read')
    rate = args.rate or DEFAULT_RATE_HZ
    return SourcePlan(source=str(path), description=str(path), initial_box=box,
                      groundtruth=None, rate_hz=rate, max_frames=None, video_fps=rate,
                      frame_digests=digests, num_frames=count)


def plan_weights(weights: str) -> WeightsPlan:
    """Resolve the checkpoint as the node would, so the demo can say what runs.

    A folder without a checkpoint falls back to the package's weights/ (the
    node's default, which cannot be switched off); with none there either the
    node runs untrained. A path that does not exist is a UsageError.
    """
    note = ''
    if weights:
        path = Path(weights).expanduser().resolve()
        if path.is_file():
            return WeightsPlan(path, '')
        if not path.is_dir():
            raise UsageError(f'--weights: no such checkpoint file or folder: {path}')
        found = find_checkpoint(path)
        if found is not None:
            return WeightsPlan(found, '')
        note = f'no checkpoint in {path}'
    folder = package_weights_folder()
    found = find_checkpoint(folder) if folder is not None else None
    if found is not None and note:
        note += f'; using the package default {found}'
    return WeightsPlan(found, note)


# -------------------------------------------------------------------- children


class ChildProcess:
    """A ROS executable run for the demo, its output in a log file."""

    def __init__(self, name: str, command: list[str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        env = dict(os.environ, PYTHONUNBUFFERED='1', RCUTILS_COLORIZED_OUTPUT='0')
        self._log = open(log_path, 'w')
        self._process = subprocess.Popen([str(part) for part in command], env=env,
                                         stdout=self._log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    @property
    def returncode(self) -> int | None:
        """Exit status, or None while it runs."""
        return self._process.poll()

    def log_text(self) -> str:
        """Return what the process printed so far."""
        return self.log_path.read_text(errors='replace') if self.log_path.exists() else ''

    def log_tail(self, lines: int = 15) -> str:
        """Return the last lines it printed, indented, for error messages."""
        tail = self.log_text().strip().splitlines()[-lines:]
        return '\n'.join(f'    {line}' for line in tail) or '    (no output)'

    def request_stop(self) -> None:
        """Ask it to shut down (SIGINT) without waiting."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)

    def stop(self, timeout_s: float = 8.0) -> None:
        """Stop it (SIGINT: a clean ROS shutdown; then SIGTERM, SIGKILL) and wait."""
        for send in (lambda: self._process.send_signal(signal.SIGINT),
                     self._process.terminate, self._process.kill):
            if self._process.poll() is not None:
                break
            send()
            try:
                self._process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                continue
        self._process.wait()
        self._log.close()

    def kill(self) -> None:
        """Kill it now (a second Ctrl-C does not wait for clean shutdowns)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._log.close()


def stop_all(children: list[ChildProcess]) -> None:
    """Stop the children, newest first; an interrupt meanwhile kills the rest at once."""
    try:
        for child in reversed(children):
            child.stop()
    except KeyboardInterrupt:
        for child in children:
            child.kill()
        raise


def node_command(weights: WeightsPlan, device: str) -> list[str]:
    """Command line of the tracking node."""
    # Reliable images: the node must hold the frame set_target names, and
    # best-effort delivery of large frames loses many of them on a busy machine
    # (every fragment must arrive). The node still skips frames it has no time for.
    command = [installed_executable('litetrack_node'), '--ros-args',
               '-r', f'__ns:={NAMESPACE}', '-r', f'__node:={NODE_NAME}',
               '-p', f'allow_untrained:={str(weights.path is None).lower()}',
               '-p', f'device:={device}', '-p', 'image_qos:=reliable']
    if weights.path is not None:
        command += ['-p', f'weights:={weights.path}']
    return command


def source_command(plan: SourcePlan) -> list[str]:
    """Command line of video_source."""
    command = [installed_executable('video_source'), plan.source, '--frame-id', 'camera',
               '--start-delay', str(SOURCE_START_DELAY_S)]
    if plan.rate_hz is not None:
        command += ['--rate', f'{plan.rate_hz:g}']
    if plan.max_frames is not None:
        command += ['--max-frames', str(plan.max_frames)]
    if plan.loop:
        command.append('--loop')
    return command + ['--ros-args', '-r', f'__ns:={NAMESPACE}']


# -------------------------------------------------------------------- recording


@dataclass
class FrameRecord:
    """Everything the recorder learnt about one frame."""

    position: int  # among the frames recorded
    index: int  # in the video (the same as position, except for the generated video)
    stamp_ns: int
    image: Image | None  # dropped once its annotated frame is written
    debug: Image | None = None
    processed: bool = False  # the node published detections for this frame
    latency_ms: float | None = None
    box: tuple[float, float, float, float] | None = None
    score: float | None = None
    track_id: str = ''
    initial: bool = False  # the frame set_target named

    def status(self) -> str:
        """One word for the CSV: what happened to this frame."""
        if self.initial:
            return 'initial'
        if self.box is not None:
            return 'tracked'
        # Processed without a box: target lost (or not set yet); not processed:
        # the node was busy and went on with a newer frame.
        return 'no detection' if self.processed else 'skipped'


@dataclass
class NodeReport:
    """What the node said about itself in /diagnostics."""

    values: dict[str, str] = field(default_factory=dict)


class AnnotatedVideo:
    """The annotated video, one frame per frame received, written in order."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path, self._fps = path, fps
        self._writer: cv2.VideoWriter | None = None

    def write(self, rgb: np.ndarray) -> None:
        """Append a frame (the size of the first one)."""
        if self._writer is None:
            height, width = rgb.shape[:2]
            self._size = (width, height)
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*'mp4v'),
                                           self._fps, self._size)
            if not self._writer.isOpened():
                raise DemoError(f'OpenCV cannot write {self.path}')
        if (rgb.shape[1], rgb.shape[0]) != self._size:
            rgb = cv2.resize(rgb, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()


class Recorder(Node):
    """Sets the target on the first frame and records what the node publishes."""

    def __init__(self, plan: SourcePlan, video: AnnotatedVideo, untrained: bool) -> None:
        super().__init__('litetrack_demo_recorder')
        self.plan = plan
        self.video = video
        self.expected_untrained = untrained
        self.frames: list[FrameRecord] = []
        self.node_report = NodeReport()
        self.initial: FrameRecord | None = None  # the frame set_target named
        self.initial_box: tuple[float, float, float, float] | None = None
        self.track_id = ''
        self.failure: str | None = None
        # Looping source: set once the last frame of the pass is recorded.
        self.pass_complete = False
        self.foreign_frames = 0  # not frames of the video being recorded
        self.last_message_s = time.monotonic()
        self._by_stamp: dict[int, FrameRecord] = {}
        # Detections and debug images can overtake their image (other topics).
        self._early_detections: dict[int, tuple[Detection2DArray, int]] = {}
        self._early_debug: dict[int, Image] = {}
        self._newest_debug_position = -1
        self._next_to_write = 0
        self._target_request = None
        self._target_attempts = 0
        self.set_target_client = self.create_client(SetTarget, f'{NODE_PATH}/set_target')
        self.create_subscription(Image, IMAGE_TOPIC, self._on_image, RECORDER_QOS)
        self.create_subscription(Detection2DArray, f'{NODE_PATH}/detections',
                                 self._on_detections, RECORDER_QOS)
        self.create_subscription(Image, f'{NODE_PATH}/debug_image', self._on_debug,
                                 RECORDER_QOS)
        self.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)

    # ------------------------------------------------------------- readiness

    def node_subscribed_to_images(self) -> bool:
        """Tell whether the tracking node (activated) subscribes to the image topic."""
        return any(info.node_name == NODE_NAME and info.node_namespace == NAMESPACE
                   for info in self.get_subscriptions_info_by_topic(IMAGE_TOPIC))

    @property
    def untrained(self) -> bool:
        """Tell whether the node runs a random network (its own word once it said it)."""
        weights = self.node_report.values.get('weights')
        return self.expected_untrained if weights is None else weights == 'UNTRAINED'

    @property
    def initial_position(self) -> int | None:
        """Position of the initial frame among those recorded."""
        return None if self.initial is None else self.initial.position

    def frames_after_initial(self) -> list[FrameRecord]:
        """Return the frames recorded after the one the target was set on."""
        return [] if self.initial is None else self.frames[self.initial.position + 1:]

    # ------------------------------------------------------------- callbacks

    def _frame_index(self, message: Image) -> int | None:
        """Index in the video of a frame received, None for a frame not to record."""
        if self.plan.frame_digests is None:
            return len(self.frames)
        candidates = self.plan.frame_digests.get(frame_digest(message.data), [])
        if not candidates:
            self.foreign_frames += 1
            return None
        if not self.frames:
            # A pass is recorded from its first frame: earlier ones may have
            # reached only some subscribers while DDS was still matching.
            return 0 if 0 in candidates else None
        later = [index for index in candidates if index > self.frames[-1].index]
        if not later:
            # The source started over: the end of the pass did not arrive.
            self.pass_complete = True
            return None
        return later[0]

    def _on_image(self, message: Image) -> None:
        if self.pass_complete:
            return
        self.last_message_s = time.monotonic()
        index = self._frame_index(message)
        if index is None:
            return
        stamp = stamp_to_ns(message.header.stamp)
        record = FrameRecord(position=len(self.frames), index=index, stamp_ns=stamp,
                             image=message)
        self.frames.append(record)
        self._by_stamp[stamp] = record
        if self.plan.loop and index == self.plan.num_frames - 1:
            self.pass_complete = True
        if stamp in self._early_detections:
            self._attach_detections(record, *self._early_detections.pop(stamp))
        if stamp in self._early_debug:
            self._attach_debug(record, self._early_debug.pop(stamp))
        if self.initial is None and self._target_request is None:
            self._request_target(record)
        self._write_decided_frames()

    def _on_detections(self, message: Detection2DArray, info: dict) -> None:  # MessageInfo
        # When the middleware received it: this process's own backlog (it also
        # handles every image) is not the pipeline's latency.
        received_ns = info.get('received_timestamp') or self.get_clock().now().nanoseconds
        self.last_message_s = time.monotonic()
        stamp = stamp_to_ns(message.header.stamp)
        record = self._by_stamp.get(stamp)
        if record is None:
            keep_newest(self._early_detections, stamp, (message, received_ns))
        else:
            self._attach_detections(record, message, received_ns)

    def _on_debug(self, message: Image) -> None:
        self.last_message_s = time.monotonic()
        stamp = stamp_to_ns(message.header.stamp)
        record = self._by_stamp.get(stamp)
        if record is None:
            keep_newest(self._early_debug, stamp, message)
        else:
            self._attach_debug(record, message)
            self._write_decided_frames()

    def _on_diagnostics(self, message: DiagnosticArray) -> None:
        for status in message.status:
            if status.name.startswith(f'{NODE_PATH}:'):
                self.node_report.values = {kv.key: kv.value for kv in status.values}

    def _attach_detections(self, record: FrameRecord, message: Detection2DArray,
                           received_ns: int) -> None:
        record.processed = True
        record.latency_ms = (received_ns - record.stamp_ns) / 1e6
        if message.detections:
            detection = message.detections[0]
            w, h = detection.bbox.size_x, detection.bbox.size_y
            record.box = (detection.bbox.center.position.x - w / 2.0,
                          detection.bbox.center.position.y - h / 2.0, w, h)
            record.score = (detection.results[0].hypothesis.score if detection.results
                            else None)
            record.track_id = detection.id

    def _attach_debug(self, record: FrameRecord, message: Image) -> None:
        record.debug = message
        self._newest_debug_position = max(self._newest_debug_position, record.position)

    # ------------------------------------------------------------- set_target

    def _request_target(self, record: FrameRecord) -> None:
        """Ask the node to track the initial box on this frame (by its stamp)."""
        if self._target_attempts >= SET_TARGET_ATTEMPTS:
            return
        self._target_attempts += 1
        if self.plan.initial_box is not None:
            box = self.plan.initial_box
        else:
            box = tuple(float(v) for v in self.plan.groundtruth[record.index])
        request = make_request(box, divmod(record.stamp_ns, NANOSECONDS_PER_SECOND))
        future = self.set_target_client.call_async(request)
        self._target_request = future
        future.add_done_callback(lambda done: self._on_target_set(done, record, box))

    def _on_target_set(self, future, record: FrameRecord,
                       box: tuple[float, float, float, float]) -> None:
        self._target_request = None
        response = future.result()
        if response is not None and response.success:
            self.initial, self.initial_box = record, box
            self.track_id = str(response.track_id)
            record.initial = True
            log(f'target set on frame {record.index} (stamp {format_stamp(record.stamp_ns)}), '
                f'box {", ".join(f"{v:.1f}" for v in box)}: tracking id {response.track_id}')
            self._write_decided_frames()
            return
        reason = response.message if response is not None else 'no response'
        if self._target_attempts >= SET_TARGET_ATTEMPTS:
            self.failure = f'set_target refused {SET_TARGET_ATTEMPTS} times; last: {reason}'
            return
        # Typically the node did not get that frame: the recording starts over,
        # so that it still begins with the frame the target was set on.
        log(f'set_target on frame {record.index} refused ({reason}); starting over on the '
            + ('next pass of the video' if self.plan.loop else 'next frame'))
        self._start_over()

    def _start_over(self) -> None:
        """Forget the frames recorded so far (none was written yet)."""
        self.frames.clear()
        self._by_stamp.clear()
        self._early_detections.clear()
        self._early_debug.clear()
        self._newest_debug_position = -1
        self._next_to_write = 0

    # ------------------------------------------------------------- video

    def _write_decided_frames(self, final: bool = False) -> None:
        """Write frames in order once nothing more can arrive for them."""
        if self.initial is None and not final:
            return  # until set_target answers, the frame showing the initial box is unknown
        while self._next_to_write < len(self.frames):
            record = self.frames[self._next_to_write]
            # Debug images come in order: once a later one is here, this one never will.
            decided = (final or record.debug is not None or record.initial
                       or self._newest_debug_position > record.position
                       or len(self.frames) - record.position > MAX_PENDING_FRAMES)
            if not decided:
                break
            self.video.write(self._annotated(record))
            record.image = record.debug = None
            self._next_to_write += 1

    def _annotated(self, record: FrameRecord) -> np.ndarray:
        if record.initial:
            return draw_track(decode_message(record.image), self.initial_box, confidence=None,
                              state='target set', untrained=self.untrained)
        if record.debug is not None:
            return decode_message(record.debug)
        state = {'skipped': 'skipped (node busy)'}.get(record.status(), record.status())
        return draw_track(decode_message(record.image), record.box, confidence=record.score,
                          state=state, untrained=self.untrained)

    def finish(self) -> None:
        """Write the frames still waiting and close the video."""
        self._write_decided_frames(final=True)
        self.video.close()

    def caught_up(self) -> bool:
        """Tell whether the node is done with the newest frame recorded (or skipped it)."""
        if not self.frames:
            return False
        last = self.frames[-1]
        # Detections of a newer frame (the next pass) mean the node went past it.
        skipped = any(stamp > last.stamp_ns for stamp in self._early_detections)
        debug_done = (last.debug is not None or self._next_to_write == len(self.frames)
                      or not last.processed)
        return (last.processed or skipped) and debug_done


def keep_newest(pending: dict, key: int, value) -> None:
    """Remember a message that overtook its image, forgetting the oldest beyond a bound."""
    pending[key] = value
    while len(pending) > MAX_PENDING_FRAMES:
        del pending[next(iter(pending))]


# ---------------------------------------------------------------------- running


def spin_until(executor: SingleThreadedExecutor, condition, timeout_s: float,
               check=lambda: None) -> bool:
    """Spin until the condition holds (True) or the timeout passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        check()
        if condition():
            return True
        executor.spin_once(timeout_sec=0.05)
    return condition()


def check_running(child: ChildProcess, what: str) -> None:
    """Raise DemoError when a child that should be running has exited."""
    if child.returncode is not None:
        raise DemoError(f'{child.name} exited with status {child.returncode} {what}; its log '
                        f'({child.log_path}):\n{child.log_tail()}')


def wait_for_node(executor: SingleThreadedExecutor, recorder: Recorder,
                  node: ChildProcess) -> None:
    """Wait until the node is configured (set_target up) and subscribes to images."""
    def check() -> None:
        check_running(node, 'while starting')
        text = node.log_text()
        if 'configure failed' in text:
            line = next(line for line in text.splitlines() if 'configure failed' in line)
            raise DemoError(f'the tracking node could not start: {line.strip()}')

    ready = spin_until(executor, lambda: (recorder.set_target_client.service_is_ready()
                                          and recorder.node_subscribed_to_images()),
                       NODE_READY_TIMEOUT_S, check)
    if not ready:
        raise DemoError(f'the tracking node was not ready after {NODE_READY_TIMEOUT_S:.0f} s; '
                        f'its log ({node.log_path}):\n{node.log_tail()}')


def check_frames_match(recorder: Recorder) -> None:
    """Raise DemoError when the generated video's frames never come (wrong source?)."""
    plan = recorder.plan
    if plan.loop and not recorder.frames and recorder.foreign_frames > 2 * plan.num_frames + 10:
        raise DemoError(f'{recorder.foreign_frames} frames received, none of them a frame of '
                        f'{plan.description}: is another video_source publishing on '
                        f'{IMAGE_TOPIC}?')


def record_run(executor: SingleThreadedExecutor, recorder: Recorder, node: ChildProcess,
               source: ChildProcess) -> None:
    """Spin until the source (or the pass of a looping one) has ended and the node caught up."""
    reported = 0
    source_stopping = False
    pass_completed_s = None
    while True:
        executor.spin_once(timeout_sec=0.05)
        if recorder.failure:
            raise DemoError(recorder.failure)
        check_running(node, 'during the run')
        check_frames_match(recorder)
        if len(recorder.frames) >= reported + 50:
            reported = len(recorder.frames) // 50 * 50
            log(f'{reported} frames received')
        if recorder.pass_complete and pass_completed_s is None:
            pass_completed_s = time.monotonic()
        if recorder.pass_complete and not source_stopping and recorder.caught_up():
            # The video loops; one pass is what was wanted. Stopped once the node
            # has the last frame (stopping a publisher can hold up what it sent
            # last), and not waited for, to keep the recorder spinning.
            source.request_stop()
            source_stopping = True
        if source.returncode is None and not recorder.pass_complete:
            continue
        if source.returncode not in (None, 0) and not recorder.pass_complete:
            raise DemoError(f'video_source failed (status {source.returncode}); its log '
                            f'({source.log_path}):\n{source.log_tail()}')
        waited_s = time.monotonic() - (pass_completed_s or recorder.last_message_s)
        if (recorder.caught_up() and source.returncode is not None) or \
                waited_s > END_IDLE_TIMEOUT_S:
            return


# ---------------------------------------------------------------------- results


def write_csv(path: Path, frames: list[FrameRecord]) -> None:
    """One row per frame received; box, score and id empty without a detection."""
    def number(value: float | None, digits: int) -> str:
        return '' if value is None else f'{value:.{digits}f}'

    with open(path, 'w', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for record in frames:
            box = record.box or (None,) * 4
            writer.writerow([format_stamp(record.stamp_ns), record.index,
                             *(number(v, 2) for v in box), number(record.score, 4),
                             record.track_id, number(record.latency_ms, 1), record.status()])


def write_plot(path: Path, frames: list[FrameRecord], title: str,
               initial_position: int | None) -> None:
    """Confidence and latency against time since the first frame (headless Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    start = frames[0].stamp_ns if frames else 0
    seconds = np.array([(r.stamp_ns - start) / 1e9 for r in frames])
    scored = [i for i, r in enumerate(frames) if r.score is not None]
    after_initial = [initial_position is None or i > initial_position
                     for i in range(len(frames))]
    timed = [i for i, r in enumerate(frames) if r.latency_ms is not None and after_initial[i]]
    figure = Figure(figsize=(9, 5.5))
    FigureCanvasAgg(figure)
    confidence_axes, latency_axes = figure.subplots(2, 1, sharex=True)
    confidence_axes.plot(seconds[scored], [frames[i].score for i in scored], '.-',
                         color='tab:green', label='confidence')
    missing = [i for i, r in enumerate(frames) if r.score is None and after_initial[i]]
    confidence_axes.plot(seconds[missing], np.zeros(len(missing)), 'x', color='tab:red',
                         label='no detection / skipped')
    confidence_axes.set_ylim(-0.05, 1.05)
    confidence_axes.set_ylabel('confidence')
    confidence_axes.legend(loc='best', fontsize='small')
    latencies = [frames[i].latency_ms for i in timed]
    latency_axes.plot(seconds[timed], latencies, '.-', color='tab:blue', label='latency')
    if latencies:
        latency_axes.axhline(float(np.median(latencies)), color='tab:blue', linestyle='--',
                             linewidth=1, label=f'median {np.median(latencies):.0f} ms')
        latency_axes.legend(loc='best', fontsize='small')
    latency_axes.set_ylabel('latency (ms)\nstamp -> detection')
    latency_axes.set_xlabel('time since the first frame (s)')
    for axes in (confidence_axes, latency_axes):
        axes.grid(alpha=0.3)
        if initial_position is not None:
            axes.axvline(seconds[initial_position], color='grey', linewidth=1, linestyle=':')
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def mean_iou(after: list[FrameRecord], groundtruth: np.ndarray) -> float | None:
    """Mean IoU of the frames after the initial one; frames without a detection count 0."""
    from litetrack_ros.evaluation.metrics import iou

    after = [r for r in after if r.index < len(groundtruth)]
    if not after:
        return None
    predicted = np.array([r.box if r.box is not None else (np.nan,) * 4 for r in after])
    return float(np.mean(iou(predicted, groundtruth[[r.index for r in after]])))


def weights_label(recorder: Recorder, plan: WeightsPlan) -> str:
    """Name what the node ran: its checkpoint, or UNTRAINED."""
    reported = recorder.node_report.values.get('weights')
    if reported:
        return reported
    return 'UNTRAINED' if plan.path is None else str(plan.path)


def tracking_rate(recorder: Recorder) -> float | None:
    """Frames per second the node tracked after the initial frame (stamps' time base)."""
    processed = [r for r in recorder.frames_after_initial() if r.processed]
    if not processed:
        return None
    seconds = (processed[-1].stamp_ns - recorder.initial.stamp_ns) / 1e9
    return len(processed) / seconds if seconds > 0 else None


def build_summary(recorder: Recorder, source: SourcePlan, weights: WeightsPlan,
                  device: str, outputs: dict[str, str], interrupted: bool) -> dict:
    """Compute the numbers of the run, for summary.json and the printed summary."""
    frames, after = recorder.frames, recorder.frames_after_initial()
    latencies = [r.latency_ms for r in after if r.latency_ms is not None]
    tracked = sum(r.box is not None for r in after)
    values = recorder.node_report.values
    label = weights_label(recorder, weights)
    return {
        'source': source.description,
        'rate_hz': source.rate_hz,
        'frames': len(frames),
        # Frames in the pass recorded (not for a camera); those that did not arrive are
        # missing in between.
        'video_frames': source.num_frames,
        'initial_frame': recorder.initial.index if recorder.initial else None,
        'initial_box': list(recorder.initial_box) if recorder.initial_box else None,
        'track_id': recorder.track_id or None,
        'frames_after_initial': len(after),
        'tracked_frames': tracked,
        'tracked_fraction': tracked / len(after) if after else 0.0,
        'no_detection_frames': sum(r.status() == 'no detection' for r in after),
        'skipped_frames': sum(r.status() == 'skipped' for r in after),
        'tracking_rate_hz': tracking_rate(recorder),
        'median_latency_ms': float(np.median(latencies)) if latencies else None,
        'p95_latency_ms': float(np.percentile(latencies, 95)) if latencies else None,
        'mean_iou': (mean_iou(after, source.groundtruth)
                     if source.groundtruth is not None and after else None),
        'device': values.get('device', device),
        'precision': values.get('precision'),
        'variant': values.get('variant'),
        'weights': label,
        'untrained': label == 'UNTRAINED',
        'interrupted': interrupted,
        'outputs': outputs,
    }


def format_summary(summary: dict, output: Path) -> str:
    """Format the summary printed at the end of the demo."""
    untrained = summary['untrained']
    warning = ' -- UNTRAINED network: its boxes are meaningless' if untrained else ''
    lines = ['LiteTrack ROS 2 demo' + warning]
    rate = f' at {summary["rate_hz"]:g} Hz' if summary['rate_hz'] else ''
    of_video = f' of {summary["video_frames"]}' if summary['video_frames'] else ''
    lines.append(f'  frames    {summary["frames"]}{of_video} received from {summary["source"]}'
                 f'{rate}' + (' (interrupted)' if summary['interrupted'] else ''))
    if summary['initial_frame'] is None:
        lines.append('  target    never set')
    else:
        lines.append(f'  tracked   {summary["tracked_fraction"]:.1%} of the '
                     f'{summary["frames_after_initial"]} frames after the initial one '
                     f'(frame {summary["initial_frame"]}); {summary["no_detection_frames"]} '
                     f'without detection, {summary["skipped_frames"]} skipped while busy')
    skipped_share = summary['skipped_frames'] / max(1, summary['frames_after_initial'])
    if skipped_share > 0.25 and summary['tracking_rate_hz'] and summary['rate_hz']:
        follow = max(1, math.floor(summary['tracking_rate_hz']))
        lines.append(f'  note      the node tracked {summary["tracking_rate_hz"]:.1f} frames/s, '
                     f'slower than the {summary["rate_hz"]:g} Hz published, so it skipped to '
                     f'the newest frame; --rate {follow} lets it follow')
    if summary['median_latency_ms'] is not None:
        lines.append(f'  latency   median {summary["median_latency_ms"]:.0f} ms, p95 '
                     f'{summary["p95_latency_ms"]:.0f} ms (image stamp -> detection received)')
    if summary['mean_iou'] is not None:
        lines.append(f'  accuracy  mean IoU {summary["mean_iou"]:.3f} against the generated '
                     'ground truth')
    variant = summary['variant'] or ''
    network = variant if variant.startswith('LightTrack') else \
        f'LiteTrack-{variant}' if variant else 'LiteTrack'
    precision = f' ({summary["precision"]})' if summary['precision'] else ''
    lines.append(f'  device    {summary["device"]}{precision}, {network}, weights '
                 f'{summary["weights"]}')
    lines.append(f'  output    {output}: {", ".join(summary["outputs"].values())}')
    return '\n'.join(lines)


def write_results(recorder: Recorder, source: SourcePlan, weights: WeightsPlan,
                  device: str, output: Path, interrupted: bool) -> dict:
    """Write the CSV, the plot and summary.json; return the summary."""
    outputs = {'video': recorder.video.path.name, 'detections': 'detections.csv',
               'plot': 'plot.png', 'summary': 'summary.json'}
    write_csv(output / outputs['detections'], recorder.frames)
    summary = build_summary(recorder, source, weights, device, outputs, interrupted)
    title = f'LiteTrack demo: {source.description}, weights ' + (
        'UNTRAINED' if summary['untrained'] else Path(summary['weights']).name)
    write_plot(output / outputs['plot'], recorder.frames, title, recorder.initial_position)
    (output / outputs['summary']).write_text(json.dumps(summary, indent=2) + '\n')
    return summary


def run(args: argparse.Namespace) -> int:
    """Plan, start the processes, record, write the results."""
    output = args.output.expanduser().resolve()
    try:
        resolve_device(args.device)  # here, rather than as a node that fails to configure
    except ValueError as error:
        raise UsageError(f'--device: {error}') from error
    weights = plan_weights(args.weights)
    if weights.note:
        log(weights.note)
    if weights.path is None:
        log(f'no LiteTrack checkpoint found: running an UNTRAINED network (boxes are '
            f'meaningless). {WEIGHTS_HELP}')
    else:
        log(f'weights: {weights.path}')
    if args.source is None:
        output.mkdir(parents=True, exist_ok=True)  # the generated video goes there
    source = plan_source(args, output)
    (output / 'logs').mkdir(parents=True, exist_ok=True)

    rclpy.init(args=[PROG], signal_handler_options=SignalHandlerOptions.NO)
    children: list[ChildProcess] = []
    recorder = None
    interrupted = False
    try:
        video = AnnotatedVideo(output / 'annotated.mp4', source.video_fps)
        recorder = Recorder(source, video, untrained=weights.path is None)
        executor = SingleThreadedExecutor()
        executor.add_node(recorder)
        log(f'starting the litetrack node (ROS_DOMAIN_ID {os.environ["ROS_DOMAIN_ID"]}, '
            f'namespace {NAMESPACE}); logs in {output / "logs"}')
        node = ChildProcess('litetrack_node', node_command(weights, args.device),
                            output / 'logs' / 'litetrack_node.log')
        children.append(node)
        started = time.monotonic()
        wait_for_node(executor, recorder, node)
        log(f'node ready after {time.monotonic() - started:.1f} s; publishing '
            f'{source.description}' + (f' at {source.rate_hz:g} Hz' if source.rate_hz else ''))
        source_process = ChildProcess('video_source', source_command(source),
                                      output / 'logs' / 'video_source.log')
        children.append(source_process)
        try:
            record_run(executor, recorder, node, source_process)
        except KeyboardInterrupt:
            interrupted = True
            log('interrupted: writing what was recorded')
    except DemoError as error:
        print(f'[{PROG}] error: {error}', file=sys.stderr, flush=True)
        return EXIT_FAILED
    finally:
        # Children first, so that nothing keeps running whatever happens here.
        stop_all(children)
        if recorder is not None:
            recorder.finish()
            recorder.destroy_node()
        rclpy.try_shutdown()

    if not recorder.frames:
        print(f'[{PROG}] error: no frame was received', file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED if interrupted else EXIT_FAILED
    summary = write_results(recorder, source, weights, args.device, output, interrupted)
    print(format_summary(summary, output), flush=True)
    if interrupted:
        return EXIT_INTERRUPTED
    if recorder.initial is None:
        print(f'[{PROG}] error: the target was never set', file=sys.stderr, flush=True)
        return EXIT_FAILED
    return EXIT_OK


def raise_keyboard_interrupt(signum: int, frame) -> None:
    """Turn SIGTERM / SIGHUP into the Ctrl-C path, so the children are stopped."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit status."""
    args = build_parser().parse_args(argv)
    configure_ros_environment()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, raise_keyboard_interrupt)
    try:
        return run(args)
    except UsageError as error:
        print(f'[{PROG}] error: {error}', file=sys.stderr, flush=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f'[{PROG}] interrupted', file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


if __name__ == '__main__':
    sys.exit(main())
