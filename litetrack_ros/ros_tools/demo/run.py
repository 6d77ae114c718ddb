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
(``litetrack_ros.images.scenes``) together with its ground truth, so nothing from
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
import os
from pathlib import Path
import signal
import sys
import time

from litetrack_ros.cli.track import UsageError
from litetrack_ros.ros_tools.demo.processes import (
    ChildProcess,
    configure_ros_environment,
    IMAGE_TOPIC,
    NAMESPACE,
    node_command,
    source_command,
    stop_all,
)
from litetrack_ros.ros_tools.demo.recorder import AnnotatedVideo, Recorder
from litetrack_ros.ros_tools.demo.report import format_summary, write_results
from litetrack_ros.ros_tools.demo.scene import (
    DEFAULT_FRAMES,
    DEFAULT_RATE_HZ,
    DEFAULT_SIZE,
    DemoError,
    log,
    plan_source,
    plan_weights,
    PROG,
)
from litetrack_ros.ros_tools.video_source import positive_float, positive_int
from litetrack_ros.tracking.runtime import (
    resolve_device,
    WEIGHTS_HELP,
)
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions

# Loading torch and the network on a busy CPU can take a while.
NODE_READY_TIMEOUT_S = 180.0
# After the source ends: how long to wait for the node to catch up.
END_IDLE_TIMEOUT_S = 10.0

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


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
