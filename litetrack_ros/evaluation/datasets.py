# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Discover tracking sequences on disk: simple, OTB, GOT-10k and LaSOT layouts.

Layouts recognised (``<root>`` is the folder given to :func:`discover_sequences`):

* simple:  ``<root>/<seq>/img/*`` + ``<seq>/groundtruth.txt``, or ``<root>`` itself
  being such a sequence folder;
* OTB:     ``<root>/<seq>/img/*.jpg`` + ``<seq>/groundtruth_rect.txt``;
* GOT-10k: ``<root>/<seq>/00000001.jpg ...`` + ``<seq>/groundtruth.txt``, with an
  optional ``absence.label`` (one 0/1 per frame);
* LaSOT:   ``<root>/<class>/<class-N>/img/*.jpg`` + ``groundtruth.txt``, with optional
  ``full_occlusion.txt`` / ``out_of_view.txt`` (comma separated 0/1 per frame).

Ground truth may be comma, tab or space separated.  Frames flagged absent are
stored as NaN rows so that the metrics skip them.  Images are only read on
demand (:meth:`Sequence.load_frame`), so discovering a large dataset is cheap.
"""

from dataclasses import dataclass, field
from pathlib import Path
import re
import warnings

from litetrack_ros.images.frame_reader import FrameSourceError, read_image_file
import numpy as np

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')
SIMPLE, OTB, GOT10K, LASOT = 'simple', 'otb', 'got10k', 'lasot'


class DatasetError(ValueError):
    """A dataset folder that cannot be read as a tracking dataset."""


@dataclass(frozen=True)
class Sequence:
    """One annotated video: its frames on disk and one ground-truth box per frame."""

    name: str
    frame_paths: tuple[Path, ...]
    groundtruth: np.ndarray  # (N, 4) float64 xywh, NaN rows for absent targets
    layout: str = SIMPLE
    path: Path = field(default_factory=Path)

    def __len__(self) -> int:
        return len(self.frame_paths)

    def load_frame(self, index: int) -> np.ndarray:
        """Read frame ``index`` (0-based) as a BGR uint8 image."""
        try:  # bounded: regular files, sizes checked before decoding (frame_reader)
            return read_image_file(self.frame_paths[index])
        except FrameSourceError as error:
            raise DatasetError(str(error)) from None


def _natural_key(path: Path) -> list:
    # Numeric-aware so that unpadded names (1.jpg, 2.jpg, 10.jpg) keep video order.
    return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', path.name)]


def list_images(folder: Path) -> tuple[Path, ...]:
    """Image files directly inside ``folder``, in frame order."""
    images = [path for path in folder.iterdir()
              if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES]
    return tuple(sorted(images, key=_natural_key))


def read_boxes(path: Path) -> np.ndarray:
    """Read one ``x,y,w,h`` box per line; comma, tab or space separated; NaN allowed."""
    rows = []
    for line_number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = [token for token in re.split(r'[,\s]+', line.strip()) if token]
        if not fields:
            continue
        try:
            values = [float(value) for value in fields]
        except ValueError as error:
            raise DatasetError(f'{path}:{line_number}: not a number: {line!r}') from error
        if len(values) != 4:
            raise DatasetError(f'{path}:{line_number}: expected 4 values, got {len(values)}')
        rows.append(values)
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def _read_flags(path: Path) -> np.ndarray:
    """Read a 0/1 per-frame flag file (one per line or comma separated)."""
    text = path.read_text()
    return np.array([int(value) for value in re.split(r'[,\s]+', text) if value], dtype=bool)


def _mark_absent(groundtruth: np.ndarray, flags: np.ndarray) -> np.ndarray:
    count = min(len(groundtruth), len(flags))
    marked = groundtruth.copy()
    marked[:count][flags[:count]] = np.nan
    return marked


def _fit_to_frames(groundtruth: np.ndarray, frame_count: int, name: str) -> np.ndarray:
    """Pad (NaN) or cut the ground truth so there is exactly one row per frame.

    A single row is normal for test splits whose annotations are withheld
    (GOT-10k test): the sequence can still be run, just not scored.
    """
    if len(groundtruth) != frame_count and len(groundtruth) != 1:
        warnings.warn(f'{name}: {len(groundtruth)} ground-truth boxes for {frame_count} frames',
                      stacklevel=3)
    if len(groundtruth) >= frame_count:
        return groundtruth[:frame_count]
    padding = np.full((frame_count - len(groundtruth), 4), np.nan)
    return np.concatenate([groundtruth, padding])


def _detect_layout(folder: Path) -> str | None:
    """Return the layout of a sequence folder, or None when it is not one."""
    has_img = (folder / 'img').is_dir()
    if has_img and (folder / 'groundtruth_rect.txt').is_file():
        return OTB
    if has_img and (folder / 'groundtruth.txt').is_file():
        lasot_flags = (folder / 'full_occlusion.txt').is_file() or \
            (folder / 'out_of_view.txt').is_file()
        return LASOT if lasot_flags else SIMPLE
    if (folder / 'groundtruth.txt').is_file() and list_images(folder):
        return GOT10K
    return None


def load_sequence(folder: Path | str, name: str | None = None) -> Sequence:
    """Load one sequence folder of any supported layout."""
    folder = Path(folder)
    layout = _detect_layout(folder)
    if layout is None:
        raise DatasetError(f'{folder} is not a sequence folder (no images + ground truth)')
    name = name or folder.name
    if layout == GOT10K:
        frames = list_images(folder)
        groundtruth = read_boxes(folder / 'groundtruth.txt')
        absence = folder / 'absence.label'
        if absence.is_file():
            groundtruth = _mark_absent(groundtruth, _read_flags(absence))
    else:
        frames = list_images(folder / 'img')
        gt_name = 'groundtruth_rect.txt' if layout == OTB else 'groundtruth.txt'
        groundtruth = read_boxes(folder / gt_name)
        for flag_name in ('full_occlusion.txt', 'out_of_view.txt'):
            if (folder / flag_name).is_file():
                groundtruth = _mark_absent(groundtruth, _read_flags(folder / flag_name))
    if not frames:
        raise DatasetError(f'{folder}: no images found')
    if len(groundtruth) == 0:
        raise DatasetError(f'{folder}: empty ground truth')
    groundtruth = _fit_to_frames(groundtruth, len(frames), name)
    return Sequence(name=name, frame_paths=frames, groundtruth=groundtruth, layout=layout,
                    path=folder)


def _subfolders(folder: Path) -> list[Path]:
    return sorted((path for path in folder.iterdir() if path.is_dir()), key=_natural_key)


def find_sequence_folders(root: Path | str) -> list[Path]:
    """Sequence folders under ``root``: itself, its children, or grandchildren (LaSOT)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f'dataset folder not found: {root}')
    if _detect_layout(root) is not None:
        return [root]
    found = []
    for child in _subfolders(root):
        if _detect_layout(child) is not None:
            found.append(child)
            continue
        # LaSOT groups sequences into one folder per object class.
        found.extend(grand for grand in _subfolders(child) if _detect_layout(grand) is not None)
    return found


def discover_sequences(root: Path | str, names: list[str] | None = None) -> list[Sequence]:
    """Load every sequence under ``root``, or only those in ``names`` (in that order)."""
    folders = find_sequence_folders(root)
    if not folders:
        raise DatasetError(f'no tracking sequences found in {root}')
    by_name = {folder.name: folder for folder in folders}
    if names is None:
        return [load_sequence(folder) for folder in folders]
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise DatasetError(f'unknown sequence(s) {", ".join(unknown)}; available: '
                           f'{", ".join(sorted(by_name))}')
    return [load_sequence(by_name[name]) for name in names]
