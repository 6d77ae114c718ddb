# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""What the demo plays: the generated scene (with ground truth) or a user source; the weights."""

import argparse
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path

import cv2
from litetrack_ros.cli.track import parse_box, UsageError
from litetrack_ros.images.frame_reader import (
    CAMERA_VIDEO_FPS,
    FrameSourceError,
    is_camera,
    open_frames,
)
from litetrack_ros.tracking.runtime import (
    find_checkpoint,
    package_weights_folder,
)
import numpy as np

PROG = 'demo'

DEFAULT_FRAMES = 150
DEFAULT_SIZE = (640, 480)  # width, height
# A rate the network follows on a CPU; faster sources make the node skip frames.
DEFAULT_RATE_HZ = 10.0
SCENE_SEED = 0


class DemoError(RuntimeError):
    """The pipeline failed; the message says where to look."""


def log(message: str) -> None:
    """Print a progress line of the demo."""
    print(f'[{PROG}] {message}', flush=True)


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
    from litetrack_ros.images.scenes import render_scene_video

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
