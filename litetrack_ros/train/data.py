# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Training data: dataset adapters, template/search pair sampling and crop processing.

Sources (``--data KIND[=PATH]`` on the command line):

=============  ================================================================
``got10k``     ``ROOT/[train/]GOT-10k_Train_*/{00000001.jpg, groundtruth.txt,
               absence.label, cover.label}``
``lasot``      ``ROOT/<class>/<class>-<n>/{img/00000001.jpg, groundtruth.txt,
               full_occlusion.txt, out_of_view.txt}``
``trackingnet`` ``ROOT/TRAIN_<k>/{frames/<video>/0.jpg, anno/<video>.txt}``
``coco``       ``ROOT/annotations/instances_*.json`` with images in
               ``ROOT/<split>/`` (or ``ROOT/images/<split>/``): each object of
               each image is a "video" of one frame
``simple``     ``ROOT/<seq>/{img/*.jpg, groundtruth.txt}`` or ``ROOT`` itself one
               such sequence
``synthetic``  :mod:`litetrack_ros.images.scenes` videos generated on the fly
=============  ================================================================

A pair is a template frame and a search frame of the same video at most
``max_gap`` frames apart (both visible).  They are processed as OSTrack does: the
template is cut ``template_factor`` (2) times the box size around the exact box
(no jitter), the search region ``search_factor`` (4) times around a jittered box
(centre jitter 3, scale jitter 0.25), with :func:`litetrack_ros.tracking.geometry.crop_square`,
the very crop the tracker uses.  The template box is given to the network as
:func:`~litetrack_ros.tracking.geometry.box_to_template_coords` computes it at inference; the
search target is the inverse of :func:`~litetrack_ros.tracking.geometry.map_box_back`, so a
perfect prediction decodes to the exact box at test time.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
import json
import math
from pathlib import Path
import re
from typing import Protocol

import cv2
from litetrack_ros.images import scenes
from litetrack_ros.model.config import ModelConfig
from litetrack_ros.tracking.geometry import box_to_template_coords, crop_square, normalize_image
import numpy as np
import torch
from torch.utils.data import Dataset

Rng = np.random.Generator
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')
KINDS = ('got10k', 'lasot', 'trackingnet', 'coco', 'simple', 'synthetic')


class DataError(ValueError):
    """A dataset folder is missing, empty or malformed."""


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class ProcessingParams:
    """Crop and augmentation settings (defaults: the official LiteTrack / OSTrack ones)."""

    template_size: int = ModelConfig.template_size
    search_size: int = ModelConfig.search_size
    template_factor: float = ModelConfig.template_factor
    search_factor: float = ModelConfig.search_factor
    center_jitter: float = 3.0
    scale_jitter: float = 0.25
    max_gap: int = 200
    grayscale_probability: float = 0.05
    flip_probability: float = 0.5
    brightness_jitter: float = 0.2
    # Share of negative pairs: the search crop shows no target (another video's frame, or
    # the same frame cut far from the target); their heatmap target is all zero.
    negative_probability: float = 0.0
    # A distillation teacher's crop sizes: when set, every sample also carries the same
    # template and search regions cut at these sizes (``teacher_template``/``teacher_search``).
    teacher_template_size: int | None = None
    teacher_search_size: int | None = None


# --------------------------------------------------------------------------- image files


def read_rgb(path: Path) -> np.ndarray:
    """Read an image file as RGB uint8; raise :class:`DataError` if it cannot be decoded."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DataError(f'cannot read image {path}')
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_boxes(path: Path) -> np.ndarray:
    """Read an (N, 4) xywh box file; separators may be commas, tabs or spaces.

    Rows that are not four numbers (e.g. 'NaN' for an absent target) become NaN.
    """
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        parts = [part for part in re.split(r'[,\s]+', line.strip()) if part]
        try:
            values = [float(part) for part in parts[:4]]
        except ValueError:
            values = []
        rows.append(values if len(values) == 4 else [math.nan] * 4)
    if not rows:
        raise DataError(f'{path}: no boxes')
    return np.asarray(rows, dtype=np.float64)


def read_flags(path: Path, count: int) -> np.ndarray:
    """Read a 0/1 per-frame flag file (one value per line or comma-separated); zeros if absent."""
    if not path.is_file():
        return np.zeros(count, dtype=bool)
    values = [int(float(v)) for v in re.split(r'[,\s]+', path.read_text().strip()) if v]
    flags = np.zeros(count, dtype=bool)
    flags[:min(count, len(values))] = np.asarray(values[:count], dtype=bool)
    return flags


def image_files(folder: Path) -> list[Path]:
    """Image files of a folder in natural order (``2.jpg`` before ``10.jpg``)."""
    def natural_key(path: Path) -> list:
        return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', path.name)]
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                  key=natural_key)


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Pair:
    """A template frame and a search frame with their target boxes (xywh pixels)."""

    template_image: np.ndarray
    template_box: np.ndarray
    search_image: np.ndarray
    search_box: np.ndarray


class PairSource(Protocol):
    """Anything that samples training pairs."""

    name: str

    def sample(self, rng: Rng, max_gap: int) -> Pair:
        """Draw one template/search pair."""


@dataclass(frozen=True)
class VideoSequence:
    """Frames on disk with one box per frame and a visibility flag."""

    name: str
    frames: tuple[Path, ...]
    boxes: np.ndarray
    visible: np.ndarray

    @classmethod
    def create(cls, name: str, frames: list[Path], boxes: np.ndarray,
               hidden: np.ndarray | None = None) -> VideoSequence:
        """Align frames and boxes (the shorter wins) and mark unusable boxes invisible."""
        count = min(len(frames), len(boxes))
        boxes = boxes[:count]
        visible = (np.isfinite(boxes).all(axis=1) & (np.nan_to_num(boxes[:, 2]) > 1)
                   & (np.nan_to_num(boxes[:, 3]) > 1))
        if hidden is not None:
            visible &= ~hidden[:count]
        return cls(name, tuple(frames[:count]), boxes, visible)


class SequenceSource:
    """Pairs from videos: two visible frames of one sequence at most ``max_gap`` apart."""

    def __init__(self, name: str, sequences: list[VideoSequence]) -> None:
        self.name = name
        self.sequences = [seq for seq in sequences if seq.visible.any()]
        if not self.sequences:
            raise DataError(f'{name}: no sequence with a visible target')

    def __len__(self) -> int:
        return len(self.sequences)

    def sample(self, rng: Rng, max_gap: int) -> Pair:
        """Draw a sequence, then a template frame and a search frame near it."""
        sequence = self.sequences[int(rng.integers(len(self.sequences)))]
        visible = np.flatnonzero(sequence.visible)
        template_index = int(visible[rng.integers(len(visible))])
        near = visible[np.abs(visible - template_index) <= max_gap]
        search_index = int(near[rng.integers(len(near))])
        return Pair(read_rgb(sequence.frames[template_index]),
                    sequence.boxes[template_index].copy(),
                    read_rgb(sequence.frames[search_index]),
                    sequence.boxes[search_index].copy())


@dataclass(frozen=True)
class ImageObject:
    """One annotated object of a still image."""

    image: Path
    box: np.ndarray


class ImageSource:
    """Pairs from still images (COCO): the same image twice; the search jitter makes them differ.

    The search copy gets a random shift and zoom on top, so the network also sees the
    target move in the image.
    """

    def __init__(self, name: str, objects: list[ImageObject]) -> None:
        self.name = name
        self.objects = objects
        if not objects:
            raise DataError(f'{name}: no usable object annotation')

    def __len__(self) -> int:
        return len(self.objects)

    def sample(self, rng: Rng, max_gap: int) -> Pair:
        """Draw an object; the search frame is a slightly moved and zoomed copy."""
        item = self.objects[int(rng.integers(len(self.objects)))]
        image = read_rgb(item.image)
        height, width = image.shape[:2]
        scale = math.exp(rng.normal(0, 0.1))
        shift = rng.normal(0, 0.1, size=2) * np.sqrt(item.box[2] * item.box[3])
        matrix = np.array([[scale, 0, shift[0] + (1 - scale) * width / 2],
                           [0, scale, shift[1] + (1 - scale) * height / 2]])
        moved = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
        x, y, w, h = item.box
        moved_box = np.array([x * scale + matrix[0, 2], y * scale + matrix[1, 2],
                              w * scale, h * scale])
        return Pair(image, item.box.copy(), moved, moved_box)


class SyntheticSource:
    """Pairs from procedural scenes (:mod:`litetrack_ros.images.scenes`), unlimited.

    Building a scene costs more than rendering a frame, so each scene serves
    ``pairs_per_scene`` consecutive samples (cached per process).
    """

    name = 'synthetic'

    def __init__(self, seed: int = 0, pairs_per_scene: int = 4,
                 frame_heights: tuple[int, int] = (240, 360),
                 material: scenes.Material | bool | None = None,
                 options: scenes.SceneOptions | None = None) -> None:
        self.seed = seed
        self.pairs_per_scene = max(1, pairs_per_scene)
        self.frame_heights = frame_heights
        self.material = material
        self.options = options or scenes.SceneOptions(
            min_target_size=0.06, max_target_size=0.4, keep_inside=False,
            max_distractors=3, occlusion_probability=0.4, blur_probability=0.3,
            min_period=30.0)
        self._cache: tuple[int, scenes.Scene] | None = None
        self._calls = 0

    def scene(self, scene_index: int, max_gap: int) -> scenes.Scene:
        """Return scene number ``scene_index`` (deterministic, cached)."""
        if self._cache is not None and self._cache[0] == scene_index:
            return self._cache[1]
        rng = np.random.default_rng((self.seed, scene_index, 1))
        height = int(rng.integers(self.frame_heights[0], self.frame_heights[1] + 1))
        width = int(height * rng.uniform(1.0, 1.8))
        num_frames = int(min(max_gap, 200)) + 1
        scene = scenes.random_scene(np.random.SeedSequence((self.seed, scene_index, 2)),
                                    num_frames, (height, width), self.material, self.options)
        self._cache = (scene_index, scene)
        return scene

    def sample(self, rng: Rng, max_gap: int) -> Pair:
        """Render two frames of a scene (with a visible target) at most ``max_gap`` apart."""
        scene_index = int(rng.integers(2 ** 31)) if self.pairs_per_scene == 1 else None
        if scene_index is None:
            # Consecutive calls share a scene; the scene number comes from the call count
            # of this process, which the dataset seeds per sample for reproducibility.
            scene_index = self._calls // self.pairs_per_scene
            self._calls += 1
        scene = self.scene(scene_index, max_gap)
        for _ in range(20):
            gap = int(rng.integers(0, min(max_gap, scene.num_frames - 1) + 1))
            first = int(rng.integers(0, scene.num_frames - gap))
            indices = (first, first + gap) if rng.random() < 0.5 else (first + gap, first)
            template, search = (scene.render(i) for i in indices)
            if (template.visible_fraction > 0.8 and search.visible_fraction > 0.3
                    and min(template.box_xywh[2:]) > 4 and min(search.box_xywh[2:]) > 2):
                return Pair(template.image, template.box_xywh, search.image, search.box_xywh)
        # A scene whose target is hardly ever visible: take another one.
        self._calls = (scene_index + 1) * self.pairs_per_scene
        return self.sample(rng, max_gap)

    def set_position(self, sample_index: int) -> None:
        """Make the next call use the scene of global sample ``sample_index``."""
        self._calls = sample_index


# --------------------------------------------------------------------------- adapters


def got10k_sequences(root: Path) -> list[VideoSequence]:
    """GOT-10k: sequence folders (under ``root`` or ``root/train``) with frames at top level."""
    base = root / 'train' if (root / 'train').is_dir() else root
    sequences = []
    for folder in sorted(p for p in base.iterdir() if (p / 'groundtruth.txt').is_file()):
        boxes = read_boxes(folder / 'groundtruth.txt')
        hidden = read_flags(folder / 'absence.label', len(boxes))
        sequences.append(VideoSequence.create(folder.name, image_files(folder), boxes, hidden))
    return sequences


def lasot_sequences(root: Path) -> list[VideoSequence]:
    """LaSOT: ``class/class-n/img`` folders; fully occluded or out-of-view frames are skipped."""
    sequences = []
    for folder in sorted(root.glob('*/*/groundtruth.txt')):
        folder = folder.parent
        boxes = read_boxes(folder / 'groundtruth.txt')
        hidden = (read_flags(folder / 'full_occlusion.txt', len(boxes))
                  | read_flags(folder / 'out_of_view.txt', len(boxes)))
        sequences.append(VideoSequence.create(folder.name, image_files(folder / 'img'), boxes,
                                              hidden))
    return sequences


def trackingnet_sequences(root: Path) -> list[VideoSequence]:
    """TrackingNet: ``TRAIN_k/anno/<video>.txt`` with frames ``TRAIN_k/frames/<video>/<i>.jpg``."""
    chunks = sorted(p for p in root.iterdir() if (p / 'anno').is_dir()) or [root]
    sequences = []
    for chunk in chunks:
        for anno in sorted((chunk / 'anno').glob('*.txt')):
            frames_dir = chunk / 'frames' / anno.stem
            if not frames_dir.is_dir():
                continue
            sequences.append(VideoSequence.create(anno.stem, image_files(frames_dir),
                                                  read_boxes(anno)))
    return sequences


def simple_sequences(root: Path) -> list[VideoSequence]:
    """``img/`` + ``groundtruth.txt`` sequences: ``root`` itself or its sub-folders."""
    folders = [root] if (root / 'img').is_dir() else sorted(
        p for p in root.iterdir() if (p / 'img').is_dir())
    return [VideoSequence.create(folder.name, image_files(folder / 'img'),
                                 read_boxes(folder / 'groundtruth.txt'))
            for folder in folders if (folder / 'groundtruth.txt').is_file()]


def coco_objects(root: Path, min_size: float = 8.0) -> list[ImageObject]:
    """COCO: every non-crowd object at least ``min_size`` px wide and high."""
    annotation_files = sorted((root / 'annotations').glob('instances_*.json'))
    if not annotation_files:
        raise DataError(f'{root}: no annotations/instances_*.json')
    objects = []
    for annotation_file in annotation_files:
        split = annotation_file.stem.removeprefix('instances_')
        image_dir = next((d for d in (root / split, root / 'images' / split, root / 'images')
                          if d.is_dir()), root / split)
        content = json.loads(annotation_file.read_text())
        names = {image['id']: image['file_name'] for image in content.get('images', [])}
        for annotation in content.get('annotations', []):
            box = np.asarray(annotation.get('bbox', ()), dtype=np.float64)
            if (annotation.get('iscrowd', 0) or box.shape != (4,)
                    or min(box[2], box[3]) < min_size or annotation['image_id'] not in names):
                continue
            objects.append(ImageObject(image_dir / names[annotation['image_id']], box))
    return objects


def open_source(kind: str, path: Path | None, seed: int = 0, pairs_per_scene: int = 4,
                synthetic_heights: tuple[int, int] = (240, 360)) -> PairSource:
    """Open one data source (see the module docstring for the layouts)."""
    kind = kind.lower().replace('-', '')
    if kind == 'synthetic':
        return SyntheticSource(seed=seed, pairs_per_scene=pairs_per_scene,
                               frame_heights=synthetic_heights)
    if kind not in KINDS:
        raise DataError(f'unknown dataset kind {kind!r}; choose from {", ".join(KINDS)}')
    if path is None or not path.is_dir():
        raise DataError(f'{kind}: {path} is not a folder')
    if kind == 'coco':
        return ImageSource(f'coco:{path.name}', coco_objects(path))
    reader = {'got10k': got10k_sequences, 'lasot': lasot_sequences,
              'trackingnet': trackingnet_sequences, 'simple': simple_sequences}[kind]
    return SequenceSource(f'{kind}:{path.name}', reader(path))


def parse_data_spec(spec: str) -> tuple[str, Path | None]:
    """Split ``'KIND=PATH'`` (or ``'KIND'`` for synthetic data) into its parts."""
    kind, separator, path = spec.partition('=')
    return kind.strip().lower(), Path(path).expanduser() if separator else None


# --------------------------------------------------------------------------- processing


def jittered_box(rng: Rng, box: np.ndarray, center_jitter: float,
                 scale_jitter: float) -> np.ndarray:
    """Jitter a box as OSTrack's ``get_frame`` does: log-normal size, uniform centre shift."""
    size = box[2:4] * np.exp(rng.normal(size=2) * scale_jitter)
    max_offset = math.sqrt(float(size.prod())) * center_jitter
    center = box[0:2] + 0.5 * box[2:4] + max_offset * (rng.random(2) - 0.5)
    return np.concatenate((center - 0.5 * size, size))


def box_in_search_crop(box: np.ndarray, crop_box: np.ndarray, resize_factor: float,
                       search_size: int) -> np.ndarray:
    """Return a box as (cx, cy, w, h) fractions of the search crop cut around ``crop_box``.

    Exact inverse of :func:`litetrack_ros.tracking.geometry.map_box_back`.
    """
    center = box[0:2] + 0.5 * box[2:4]
    crop_center = crop_box[0:2] + 0.5 * crop_box[2:4]
    center_in_crop = (center - crop_center) * resize_factor + 0.5 * search_size
    return np.concatenate((center_in_crop, box[2:4] * resize_factor)) / search_size


def flip_horizontally(image: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror an image and its box."""
    flipped = np.ascontiguousarray(image[:, ::-1])
    return flipped, np.array([image.shape[1] - box[0] - box[2], box[1], box[2], box[3]])


def to_network_input(crop: np.ndarray, brightness: float) -> torch.Tensor:
    """Scale brightness (OSTrack's jitter), then normalise as the tracker does."""
    if brightness != 1.0:
        crop = np.clip(crop.astype(np.float32) * brightness, 0, 255).astype(np.uint8)
    return torch.from_numpy(normalize_image(crop))


@dataclass(frozen=True)
class Sample:
    """One processed training sample (tensors, ready to batch)."""

    template: torch.Tensor  # (3, T, T) normalised
    template_box: torch.Tensor  # (4,) xyxy fractions of the template crop
    search: torch.Tensor  # (3, S, S) normalised
    search_box: torch.Tensor  # (4,) cx, cy, w, h fractions of the search crop
    # The same regions at the teacher's sizes (ProcessingParams.teacher_*_size), or None.
    teacher_template: torch.Tensor | None = None
    teacher_search: torch.Tensor | None = None
    # () float: 1 when the search crop shows the target, 0 for a negative pair.
    present: torch.Tensor | None = None


def far_crop_box(rng: Rng, box: np.ndarray, image_hw: tuple[int, int],
                 search_factor: float) -> np.ndarray | None:
    """Return a box whose search crop (``search_factor`` x its size) misses ``box``.

    The box keeps the target's size and is moved to a random place of the frame at
    least one crop side (plus the target) away; None when the frame has no such place.
    """
    height, width = image_hw
    side = math.sqrt(float(box[2] * box[3])) * search_factor
    center = box[0:2] + 0.5 * box[2:4]
    reach = 0.5 * side + 0.5 * box[2:4] + 1
    for _ in range(10):
        candidate = np.array([rng.uniform(0, width), rng.uniform(0, height)])
        if (np.abs(candidate - center) > reach).any():
            return np.concatenate((candidate - 0.5 * box[2:4], box[2:4]))
    return None


def process_pair(rng: Rng, pair: Pair, params: ProcessingParams,
                 negative: Pair | None = None) -> Sample | None:
    """Cut the template and jittered search crops; None when the target leaves the crop.

    With ``negative`` the sample is a negative pair: the search crop is cut around that
    pair's search box in its search frame (another video), or, when ``negative`` is
    ``pair`` itself, in the same frame far from the target (:func:`far_crop_box`);
    ``present`` is then 0 and ``search_box`` a placeholder.
    """
    template_image, template_box = pair.template_image, np.asarray(pair.template_box, float)
    search_image, search_box = pair.search_image, np.asarray(pair.search_box, float)
    if rng.random() < params.grayscale_probability:
        template_image, search_image = (
            cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
            for image in (template_image, search_image))
    if rng.random() < params.flip_probability:
        template_image, template_box = flip_horizontally(template_image, template_box)
        search_image, search_box = flip_horizontally(search_image, search_box)

    template_crop, template_factor = crop_square(template_image, template_box,
                                                 params.template_factor, params.template_size)
    template_coords = box_to_template_coords(template_box, template_factor,
                                             params.template_size)
    present = negative is None
    if negative is not None and negative is not pair:
        # Another video's frame, cut at the template's scale around its own object.
        search_image = negative.search_image
        scale = math.sqrt(float(template_box[2] * template_box[3])
                          / max(float(negative.search_box[2] * negative.search_box[3]), 1e-6))
        other = np.asarray(negative.search_box, float)
        centre = other[0:2] + 0.5 * other[2:4]
        search_box = np.concatenate((centre - 0.5 * other[2:4] * scale, other[2:4] * scale))
    crop_box = jittered_box(rng, search_box, params.center_jitter, params.scale_jitter)
    if negative is pair:
        crop_box = far_crop_box(rng, search_box, search_image.shape[:2], params.search_factor)
        if crop_box is None:
            return None
    try:
        search_crop, search_factor = crop_square(search_image, crop_box, params.search_factor,
                                                 params.search_size)
    except ValueError:  # jittered box too small to crop around
        return None
    if present:
        target = box_in_search_crop(search_box, crop_box, search_factor, params.search_size)
        if not (0 <= target[0] < 1 and 0 <= target[1] < 1) or min(target[2:]) <= 0:
            return None
    else:
        target = np.array([0.5, 0.5, 0.25, 0.25])  # placeholder: no box loss on negatives
    jitter = params.brightness_jitter
    brightness = [float(rng.uniform(1 - jitter, 1 + jitter)) for _ in range(2)]
    teacher_crops = {}
    if params.teacher_template_size is not None:
        crop, _ = crop_square(template_image, template_box, params.template_factor,
                              params.teacher_template_size)
        teacher_crops['teacher_template'] = to_network_input(crop, brightness[0])
    if params.teacher_search_size is not None:
        crop, _ = crop_square(search_image, crop_box, params.search_factor,
                              params.teacher_search_size)
        teacher_crops['teacher_search'] = to_network_input(crop, brightness[1])
    return Sample(to_network_input(template_crop, brightness[0]),
                  torch.from_numpy(np.clip(template_coords, 0, 1)).float(),
                  to_network_input(search_crop, brightness[1]),
                  torch.from_numpy(target).float(), **teacher_crops,
                  present=torch.tensor(1.0 if present else 0.0))


class PairDataset(Dataset):
    """Map-style dataset of processed pairs; item ``i`` depends only on (seed, i).

    Sources are drawn with the given weights (equal by default, as OSTrack's ratios).
    The length is nominal: pairs are sampled, not enumerated.
    """

    def __init__(self, sources: list[PairSource], params: ProcessingParams, seed: int = 0,
                 weights: list[float] | None = None, length: int = 10 ** 9) -> None:
        if not sources:
            raise DataError('no training data source')
        self.sources = sources
        self.params = params
        self.seed = seed
        weights = np.asarray(weights if weights else [1.0] * len(sources), dtype=np.float64)
        self.probabilities = weights / weights.sum()
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Sample:
        """Sample pair ``index`` (retrying with derived seeds when the target leaves the crop).

        With ``params.negative_probability`` the pair is a negative one: half of them
        take the search frame of another draw (another video), half cut the search
        crop far from the target in its own frame.
        """
        for attempt in range(100):
            rng = np.random.default_rng((self.seed, index, attempt))
            source = self.sources[int(rng.choice(len(self.sources), p=self.probabilities))]
            if isinstance(source, SyntheticSource) and attempt == 0:
                source.set_position(index)
            pair = source.sample(rng, self.params.max_gap)
            negative = None
            if rng.random() < self.params.negative_probability:
                negative = pair if rng.random() < 0.5 else self.other_pair(rng, source)
            sample = process_pair(rng, pair, self.params, negative)
            if sample is not None:
                return sample
        raise DataError('could not sample a valid training pair in 100 attempts')

    def other_pair(self, rng: Rng, source: PairSource) -> Pair:
        """Draw a pair whose search frame serves as a negative one (another video).

        Recorded sources first (another draw from them is almost always another video);
        generated scenes only without any, each then a scene of its own.
        """
        recorded = [s for s in self.sources if not isinstance(s, SyntheticSource)]
        if recorded:
            return recorded[int(rng.integers(len(recorded)))].sample(rng, self.params.max_gap)
        synthetic = source if isinstance(source, SyntheticSource) else SyntheticSource()
        fresh = SyntheticSource(seed=synthetic.seed + 7919, pairs_per_scene=1,
                                frame_heights=synthetic.frame_heights,
                                material=synthetic.material, options=synthetic.options)
        return fresh.sample(rng, self.params.max_gap)


def collate(samples: list[Sample]) -> dict[str, torch.Tensor]:
    """Stack samples into a batch dict (the teacher crops only when the samples have them)."""
    return {field.name: torch.stack([getattr(sample, field.name) for sample in samples])
            for field in fields(Sample) if getattr(samples[0], field.name) is not None}
