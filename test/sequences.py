# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Test sequences: real ones from ``shared/data/sequences`` and a synthetic one.

A real sequence lives in ``<repo>/../shared/data/sequences/<name>/`` with the
frames in ``img/`` (sorted by file name) and one ``x,y,w,h`` line per frame
in ``groundtruth.txt``. Those folders are not part of the package, so
``load_sequence`` returns None when one is absent and tests skip.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import cv2
import numpy as np

SEQUENCES_DIR = Path(__file__).resolve().parent.parent.parent / 'shared' / 'data' / 'sequences'
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')

# Colour signature of the synthetic target: red minus green is exactly
# TARGET_RED_MINUS_GREEN on the target and 0 on the grey background, so
# (R - G) / TARGET_RED_MINUS_GREEN is the target's coverage of each pixel.
TARGET_RED_MINUS_GREEN = 150


@dataclass(frozen=True)
class Sequence:
    """Frames plus one ground-truth ``(x, y, w, h)`` box per frame."""

    name: str
    boxes: np.ndarray  # (N, 4) float64
    _load_frame: Callable[[int], np.ndarray]

    def __len__(self) -> int:
        return len(self.boxes)

    def frame(self, index: int) -> np.ndarray:
        """Return frame ``index`` as an ``H x W x 3`` uint8 RGB array."""
        return self._load_frame(index)


def load_sequence(name: str) -> Optional[Sequence]:
    """Load a real sequence lazily (frames are read on demand), or None if absent."""
    folder = SEQUENCES_DIR / name
    groundtruth = folder / 'groundtruth.txt'
    if not groundtruth.is_file() or not (folder / 'img').is_dir():
        return None
    paths = sorted(p for p in (folder / 'img').iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    boxes = np.loadtxt(groundtruth, delimiter=',', dtype=np.float64, ndmin=2)
    if len(paths) != len(boxes):
        raise ValueError(f'{folder}: {len(paths)} frames but {len(boxes)} ground-truth boxes')

    def load_frame(index: int) -> np.ndarray:
        bgr = cv2.imread(str(paths[index]), cv2.IMREAD_COLOR)
        if bgr is None:
            raise OSError(f'cannot read {paths[index]}')
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    return Sequence(name, boxes, load_frame)


def _pixel_coverage(start: float, stop: float, count: int) -> np.ndarray:
    """Fraction of each pixel ``[i, i + 1)`` covered by the interval ``[start, stop)``."""
    edges = np.arange(count, dtype=np.float64)
    return np.clip(np.minimum(edges + 1, stop) - np.maximum(edges, start), 0.0, 1.0)


def render_target(
    background: np.ndarray, box_xywh: Tuple[float, float, float, float], texture_seed: int = 0
) -> np.ndarray:
    """Draw a textured reddish rectangle with anti-aliased sub-pixel edges.

    The coverage of every pixel by the box is exact, so the box itself is
    exact ground truth. The target's texture is a function of the position
    relative to the box, so it moves and scales with the target.
    """
    image_h, image_w = background.shape[:2]
    x, y, w, h = box_xywh
    alpha = np.outer(_pixel_coverage(y, y + h, image_h), _pixel_coverage(x, x + w, image_w))

    # Pixel centres in target coordinates [0, 1) drive a checker-and-blob texture.
    u = (np.arange(image_w) + 0.5 - x) / w
    v = (np.arange(image_h) + 0.5 - y) / h
    checker = (np.floor(u * 4)[None, :] + np.floor(v * 4)[:, None]) % 2
    rng = np.random.default_rng(texture_seed)
    phase = rng.uniform(0, 2 * np.pi, size=2)
    blobs = 0.5 + 0.5 * np.sin(7 * u[None, :] + phase[0]) * np.cos(5 * v[:, None] + phase[1])
    shade = 40 * checker + 40 * blobs  # 0 .. 80

    target = np.empty(background.shape, dtype=np.float64)
    target[..., 1] = 20 + shade
    target[..., 0] = target[..., 1] + TARGET_RED_MINUS_GREEN
    target[..., 2] = 60 + 0.5 * shade
    blended = alpha[..., None] * target + (1 - alpha[..., None]) * background
    return np.round(blended).astype(np.uint8)


def synthetic_sequence(
    num_frames: int = 40, image_size: Tuple[int, int] = (240, 320), seed: int = 0
) -> Sequence:
    """Generate a moving, scaling textured rectangle on a grey textured background.

    Deterministic for a given seed. The background is grey (R = G = B) and the
    target has ``R - G == TARGET_RED_MINUS_GREEN``, so the target can be found
    in any crop from the colour alone. The path sweeps towards the image
    border so crops get padded.

    Args:
        num_frames: number of frames.
        image_size: ``(H, W)``.
        seed: seed of the background texture and of the path.

    """
    image_h, image_w = image_size
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, size=(image_h // 8 + 1, image_w // 8 + 1))
    grey = cv2.resize(noise, (image_w, image_h), interpolation=cv2.INTER_CUBIC)
    grey = np.clip(grey + rng.normal(0, 12, size=(image_h, image_w)), 0, 255)
    background = np.repeat(grey[..., None], 3, axis=2)

    t = np.linspace(0.0, 1.0, num_frames)
    wobble = rng.uniform(0, 2 * np.pi)
    widths = image_w * (0.12 + 0.06 * np.sin(2 * np.pi * t + wobble))
    heights = image_h * (0.2 - 0.06 * np.sin(2 * np.pi * t))
    centres_x = image_w * (0.3 + 0.55 * t) + 3 * np.sin(9 * t)
    centres_y = image_h * (0.5 + 0.3 * np.sin(2 * np.pi * t))
    boxes = np.stack(
        (centres_x - widths / 2, centres_y - heights / 2, widths, heights), axis=1
    )
    frames: List[np.ndarray] = [
        render_target(background, tuple(box), texture_seed=seed) for box in boxes
    ]
    return Sequence(f'synthetic{seed}', boxes, frames.__getitem__)


def count_video_frames(path: Path) -> tuple[int, tuple[int, int]]:
    """Read a video file back: number of frames and (height, width) of the last."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f'OpenCV cannot read {path}'
    count, size = 0, (0, 0)
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        count, size = count + 1, frame.shape[:2]
    capture.release()
    return count, size
