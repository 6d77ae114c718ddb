# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Read frames from a video file, a folder of images or a camera (ROS-free).

One reader for every tool that replays footage (``video_source``, the
offline CLI, the demo)::

    for index, frame_bgr in open_frames('../shared/data/sequences/bag/img'):
        ...
    fps = source_fps('clip.mp4')   # 25.0; 30.0 for a folder; None for a camera

A source is a path (folder or video file) or a camera index (``0`` or
``'0'``). Frames are ``H x W x 3`` uint8 in OpenCV's BGR order.
"""

from collections.abc import Iterator
import math
import os
from pathlib import Path
import re
import stat

import cv2
from litetrack_ros.images.image_codec import (
    check_compressed_work,
    ImageDecodeError,
    MAX_PIXELS,
)
import numpy as np

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')
# Largest image file read (a 100-megapixel PNG is ~300 MB at worst).
MAX_IMAGE_FILE_BYTES = 512 << 20
# A folder of images has no frame rate of its own; 30 Hz is a camera's usual.
FOLDER_FPS = 30.0
# A camera has no file rate to copy into a recorded video either; its usual rate.
CAMERA_VIDEO_FPS = 30.0

FrameSource = str | os.PathLike | int


class FrameSourceError(RuntimeError):
    """A source that exists but cannot be read (no images, bad codec, bad file)."""


def open_frames(source: FrameSource) -> Iterator[tuple[int, np.ndarray]]:
    """Return an iterator of ``(index, BGR frame)`` over a folder, video or camera.

    Folder images are taken in natural name order (``frame2`` before
    ``frame10``; zero-padded names sort the same either way) and ``index``
    is the image's position in that order. The source is checked now, not on
    the first ``next()``: raises FileNotFoundError for a missing path and
    FrameSourceError for an empty folder or a video/camera OpenCV cannot
    open. An image in the folder that cannot be read raises FrameSourceError
    naming it when the iteration reaches it.
    """
    camera = _camera_index(source)
    if camera is not None:
        return _read_capture(_open_capture(camera, f'camera {camera}'))
    path = _existing_path(source)
    if path.is_dir():
        return _read_images(list_images(path))
    return _read_capture(_open_capture(str(path), f'video {path}'), f'video {path}')


def source_fps(source: FrameSource) -> float | None:
    """Return the source's frame rate: the video's own, FOLDER_FPS for a folder.

    None for a camera (it delivers at its own pace; opening it here would
    also take it away from the reader) and for a video that does not say
    (callers then pick a rate, e.g. FOLDER_FPS).
    """
    if _camera_index(source) is not None:
        return None
    path = _existing_path(source)
    if path.is_dir():
        return FOLDER_FPS
    capture = _open_capture(str(path), f'video {path}')
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    return fps if math.isfinite(fps) and fps > 0 else None


def is_camera(source: FrameSource) -> bool:
    """Tell whether a source names a camera index rather than a path."""
    return _camera_index(source) is not None


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Return the image files of a folder in natural name order."""
    folder = Path(folder)
    images = sorted((p for p in folder.iterdir()
                     if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                    key=_natural_key)
    if not images:
        raise FrameSourceError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in folder {folder}')
    return images


def _natural_key(path: Path) -> list:
    """Sort key comparing runs of digits as numbers: frame2 < frame10."""
    return [(0, int(part), part) if part.isdigit() else (1, 0, part)
            for part in re.split(r'(\d+)', path.name)]


def _camera_index(source: FrameSource) -> int | None:
    """Return the camera index a source names, or None for a path."""
    if isinstance(source, bool):
        return None
    if isinstance(source, int):
        return source
    text = os.fspath(source)
    # A file that happens to be called '0' is still a file.
    if isinstance(text, str) and text.isdigit() and not os.path.exists(text):
        return int(text)
    return None


def _existing_path(source: FrameSource) -> Path:
    """Return the source as a Path, refusing one that does not exist or is not a file/folder.

    A FIFO, socket or device would make the reader block or read forever; cameras
    are opened by index.
    """
    path = Path(os.fspath(source)).expanduser()
    if not path.exists():
        raise FileNotFoundError(f'no such video file or image folder: {path}')
    if not (path.is_dir() or stat.S_ISREG(path.stat().st_mode)):
        raise FrameSourceError(f'{path} is not a regular file or a folder (FIFOs and devices '
                               'are refused: they can block forever; give a camera by index)')
    return path


def read_image_file(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image file as BGR uint8 with bounded memory and time.

    Regular files only (of at most ``MAX_IMAGE_FILE_BYTES``); a PNG or JPEG's size is
    read from its header and checked against ``max_pixels`` before decoding, and a
    JPEG with an absurd number of scans is refused (``image_codec``'s checks, shared
    with the node). Raises FrameSourceError naming the file.
    """
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise FrameSourceError(f'{path} is not a regular file')
        if info.st_size > MAX_IMAGE_FILE_BYTES:
            raise FrameSourceError(f'{path}: {info.st_size} bytes, more than the '
                                   f'{MAX_IMAGE_FILE_BYTES} an image file may have')
        data = np.frombuffer(path.read_bytes(), np.uint8)
    except OSError as error:
        raise FrameSourceError(f'cannot read image {path} ({error.strerror})') from None
    try:
        check_compressed_work(data, max_pixels)
    except ImageDecodeError as error:
        if data[:2].tobytes() in (b'\xff\xd8', b'\x89P'):  # a PNG or JPEG that fails them
            raise FrameSourceError(f'cannot read image {path}: {error}') from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise FrameSourceError(f'cannot read image {path}')
    return image


def _open_capture(target: str | int, description: str) -> cv2.VideoCapture:
    """Open a video file or camera, refusing one OpenCV cannot read."""
    capture = cv2.VideoCapture(target)
    if not capture.isOpened():
        capture.release()
        why = ('no such device, or it is busy' if isinstance(target, int)
               else 'not a video, or in a format this OpenCV cannot decode')
        raise FrameSourceError(f'OpenCV cannot open {description} ({why})')
    return capture


def _read_capture(capture: cv2.VideoCapture, description: str | None = None
                  ) -> Iterator[tuple[int, np.ndarray]]:
    """Yield frames until the video ends or the camera stops delivering.

    For a video file (``description`` given), stopping before the frame count its
    container states is a corrupt or truncated frame: FrameSourceError, so that a
    tool does not end as if the video were complete.
    """
    try:
        expected = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if description else 0
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok or frame is None:
                if 0 < index < expected:
                    raise FrameSourceError(f'{description}: cannot decode frame {index} of '
                                           f'its {expected} (corrupt or truncated)')
                return
            yield index, frame
            index += 1
    finally:
        capture.release()


def _read_images(paths: list[Path]) -> Iterator[tuple[int, np.ndarray]]:
    """Yield the images in order, as three-channel BGR."""
    for index, path in enumerate(paths):
        yield index, read_image_file(path)
