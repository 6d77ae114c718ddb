# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``litetrack-track``: track one target through a video, image folder or camera, no ROS.

Usage::

    litetrack-track SOURCE --box X,Y,W,H [--weights PATH] [--device auto|cpu|cuda[:N]]
                    [--precision auto|fp32|fp16|bf16] [--output-boxes FILE]
                    [--output-video FILE] [--max-frames N] [--show]

SOURCE is a video file, a folder of images (natural name order) or a camera
index; ``--box`` is the target on the first frame (top-left corner and size,
pixels). The boxes file gets one ``x,y,w,h`` line per frame, the first being
the given box (the GOT-10k / OTB result format); the video (``.mp4`` written
with the ``mp4v`` codec, ``.avi`` with MJPG) shows the track on every frame.

Without a checkpoint (``--weights``, or one in the package's ``weights/``
folder) the network is untrained: a one-line warning says so and the video is
labelled UNTRAINED. Exit status: 0 done, 1 a frame or an output could not be
read or written, 2 a bad command line, source, box or checkpoint, 130 Ctrl-C
(the boxes of the frames done so far are kept).
"""

import argparse
from pathlib import Path
import sys
import time

import cv2
from litetrack_ros.images.frame_reader import (
    CAMERA_VIDEO_FPS,
    FOLDER_FPS,
    FrameSource,
    FrameSourceError,
    is_camera,
    open_frames,
    source_fps,
)
from litetrack_ros.images.gui import GuiUnavailableError, open_window
from litetrack_ros.images.overlay import draw_track
from litetrack_ros.tracking.frame_guard import FrameSkipped
from litetrack_ros.tracking.runtime import (
    build_tracker,
    find_checkpoint,
    package_weights_folder,
    resolve_weights,
    TrackerInfo,
    WEIGHTS_HELP,
    WeightsError,
)
from litetrack_ros.tracking.tracker import Tracker
import numpy as np

PROG = 'litetrack-track'
WINDOW = PROG
DEFAULT_BOXES_FILE = 'boxes.txt'
ESCAPE_KEY = 27

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A problem with the command line or the inputs: printed, exit status 2."""


def parse_box(text: str) -> tuple[float, float, float, float]:
    """Parse ``'x,y,w,h'`` (pixels) into four finite numbers with a positive size."""
    parts = [part.strip() for part in text.split(',')]
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise UsageError(f'--box must be four comma-separated numbers x,y,w,h, got {text!r}')
    if not all(np.isfinite(values)):
        raise UsageError(f'--box must be finite numbers, got {text!r}')
    if values[2] <= 0 or values[3] <= 0:
        raise UsageError(f'--box width and height must be positive, got {text!r}')
    return values


def default_weights_folders() -> list[Path]:
    """Folders searched when --weights is not given: installed share/, then the sources'."""
    installed = package_weights_folder()
    sources = Path(__file__).resolve().parent.parent / 'weights'
    return ([installed] if installed else []) + [sources]


def find_weights(weights: str) -> Path | None:
    """Return the checkpoint to load: the one named, else the first found by default."""
    if weights:
        return resolve_weights(weights, None)
    for folder in default_weights_folders():
        found = find_checkpoint(folder)
        if found is not None:
            return found
    return None


def require_gui() -> None:
    """Check that OpenCV can open a window here; raise UsageError saying why not."""
    try:
        open_window(WINDOW, instead='use --output-video and play the file')
    except GuiUnavailableError as error:
        raise UsageError(f'--show: {error}') from error


def video_fps(source: FrameSource) -> float:
    """Frame rate for the output video: the source's own where it has one."""
    if is_camera(source):
        return CAMERA_VIDEO_FPS
    return source_fps(source) or FOLDER_FPS


def open_video_writer(path: Path, fps: float, width: int, height: int) -> cv2.VideoWriter:
    """Open a video file for writing: MJPG in .avi, mp4v otherwise."""
    fourcc = 'MJPG' if path.suffix.lower() == '.avi' else 'mp4v'
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f'OpenCV cannot write {fourcc} video to {path} (use .mp4 or .avi)')
    return writer


def format_box(box: tuple[float, ...]) -> str:
    """One line of the boxes file."""
    return ','.join(f'{value:.2f}' for value in box)


def initialize_tracker(tracker: Tracker, first_rgb: np.ndarray,
                       box: tuple[float, float, float, float]) -> None:
    """Start tracking the box on the first frame; UsageError when it does not fit."""
    try:
        tracker.initialize(first_rgb, box)
    except ValueError as error:
        height, width = first_rgb.shape[:2]
        raise UsageError(f'--box {format_box(box)} does not fit the first frame '
                         f'({width} x {height}): {error}') from error


class TrackingOutputs:
    """The boxes file, the optional video and the optional window of one run."""

    def __init__(self, boxes_path: Path, video_path: Path | None, fps: float, show: bool,
                 untrained: bool) -> None:
        boxes_path.parent.mkdir(parents=True, exist_ok=True)
        # Line-buffered: after Ctrl-C or a crash the frames done so far are on disk.
        self._boxes = open(boxes_path, 'w', buffering=1)
        self._video_path, self._fps = video_path, fps
        self._video: cv2.VideoWriter | None = None
        self._show, self._untrained = show, untrained
        self._started = time.monotonic()
        self.frames = 0

    def add(self, rgb: np.ndarray, box: tuple[float, ...], confidence: float | None,
            state: str) -> bool:
        """Record one frame; returns False when the user closed the window (q / ESC)."""
        self.record_box(box)
        if self._video_path is None and not self._show:
            return True
        elapsed = time.monotonic() - self._started
        canvas = draw_track(rgb, box, confidence=confidence, state=state,
                            fps=self.frames / elapsed if elapsed > 0 else None,
                            untrained=self._untrained)
        canvas_bgr = cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR)
        if self._video_path is not None:
            if self._video is None:
                height, width = canvas.shape[:2]
                self._video = open_video_writer(self._video_path, self._fps, width, height)
            self._video.write(canvas_bgr)
        if self._show:
            cv2.imshow(WINDOW, canvas_bgr)
            if cv2.waitKey(1) & 0xFF in (ord('q'), ESCAPE_KEY):
                return False
        return True

    def record_box(self, box: tuple[float, ...]) -> None:
        """Write a frame's line of the boxes file (all a skipped frame gets: no video frame)."""
        self._boxes.write(format_box(box) + '\n')
        self.frames += 1

    def close(self) -> None:
        """Flush and close the files and the window."""
        self._boxes.close()
        if self._video is not None:
            self._video.release()
        if self._show:
            cv2.destroyAllWindows()


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog=PROG, description='Track one target through a video, image folder or camera '
                               'with LiteTrack (no ROS needed).')
    parser.add_argument('source', help='video file, folder of images or camera index')
    parser.add_argument('--box', required=True, metavar='X,Y,W,H',
                        help='target on the first frame: top-left corner and size in pixels')
    parser.add_argument('--weights', default='', metavar='PATH',
                        help="checkpoint file or folder (default: the package's weights/ "
                             'folder; none: an UNTRAINED network)')
    parser.add_argument('--device', default='auto',
                        help='auto (CUDA when available), cpu, cuda or cuda:N (default: auto)')
    parser.add_argument('--precision', default='auto',
                        help='auto (fp16 on CUDA; on CPU bf16 where native, else fp32), '
                             'fp32, fp16 or bf16')
    parser.add_argument('--compile', action='store_true',
                        help='compile the network first (torch.compile; tens of seconds the '
                             'first time, then cached); eager if that fails')
    parser.add_argument('--output-boxes', type=Path, default=Path(DEFAULT_BOXES_FILE),
                        metavar='FILE', help='one x,y,w,h line per frame '
                                             '(default: %(default)s)')
    parser.add_argument('--output-video', type=Path, metavar='FILE',
                        help='annotated video (.mp4, or .avi for MJPG)')
    parser.add_argument('--max-frames', type=int, metavar='N',
                        help='stop after N frames (the first included)')
    parser.add_argument('--show', action='store_true',
                        help='show the track in a window (q or ESC stops)')
    return parser


def load_tracker(args: argparse.Namespace) -> tuple[Tracker, TrackerInfo]:
    """Build the tracker the options ask for; UsageError when that cannot be done."""
    try:
        weights = find_weights(args.weights)
        if weights is None:
            print(f'{PROG}: warning: no checkpoint found, running an UNTRAINED network '
                  f'(its boxes are meaningless). {WEIGHTS_HELP}', file=sys.stderr, flush=True)
        tracker, info = build_tracker(weights, device=args.device, precision=args.precision,
                                      allow_untrained=True, compile=args.compile)
    except (WeightsError, ValueError) as error:
        raise UsageError(str(error)) from error
    print(f'{PROG}: {info.summary}', file=sys.stderr, flush=True)
    return tracker, info


def run(args: argparse.Namespace) -> int:
    """Track and write the outputs; raises UsageError for bad inputs."""
    box = parse_box(args.box)
    if args.max_frames is not None and args.max_frames < 1:
        raise UsageError(f'--max-frames must be at least 1, got {args.max_frames}')
    try:
        frames = open_frames(args.source)
        fps = video_fps(args.source)
        first = next(frames, None)
    except (FileNotFoundError, FrameSourceError) as error:
        raise UsageError(str(error)) from error
    if first is None:
        raise UsageError(f'{args.source} delivered no frame')
    first_rgb = cv2.cvtColor(first[1], cv2.COLOR_BGR2RGB)
    if args.show:
        require_gui()
    tracker, info = load_tracker(args)
    # Before any output exists, so a bad box leaves nothing behind.
    initialize_tracker(tracker, first_rgb, box)
    outputs = TrackingOutputs(args.output_boxes, args.output_video, fps, args.show,
                              info.untrained)
    started = time.monotonic()
    status = EXIT_OK
    try:
        keep_going = outputs.add(first_rgb, box, None, 'target')
        for _, frame_bgr in frames:
            if not keep_going or outputs.frames == args.max_frames:
                break
            rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
            try:
                result = tracker.track(rgb)
            except FrameSkipped as skipped:  # the previous box, as the node and eval do
                print(f'{PROG}: warning: frame {outputs.frames} skipped: {skipped}',
                      file=sys.stderr, flush=True)
                outputs.record_box(tracker.box_xywh)
                continue
            keep_going = outputs.add(rgb, result.box_xywh, result.confidence,
                                     'lost' if result.lost else 'tracking')
    except FrameSourceError as error:
        print(f'{PROG}: error: {error}', file=sys.stderr, flush=True)
        status = EXIT_FAILED
    except KeyboardInterrupt:
        print(f'{PROG}: interrupted', file=sys.stderr, flush=True)
        status = EXIT_INTERRUPTED
    finally:
        outputs.close()
    elapsed = time.monotonic() - started
    weights = 'an UNTRAINED network' if info.untrained else info.weights
    rate = outputs.frames / elapsed if elapsed > 0 else 0.0
    print(f'{outputs.frames} frames in {elapsed:.1f} s ({rate:.1f} fps) with {weights} on '
          f'{info.device} ({info.precision}); boxes: {args.output_boxes}'
          + (f'; video: {args.output_video}' if args.output_video else ''), flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    """Run ``litetrack-track``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        print(f'{PROG}: interrupted', file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except UsageError as error:
        print(f'{PROG}: error: {error}', file=sys.stderr, flush=True)
        return EXIT_USAGE
    except OSError as error:
        print(f'{PROG}: error: {error}', file=sys.stderr, flush=True)
        return EXIT_FAILED


if __name__ == '__main__':
    sys.exit(main())
