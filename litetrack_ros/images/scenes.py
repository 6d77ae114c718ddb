# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Procedural tracking videos with exact ground-truth boxes (numpy + OpenCV, no ROS).

A :class:`Scene` is a textured background seen by a panning / zooming camera, a
target sprite (RGB + alpha) that moves smoothly, changes scale and aspect ratio,
and optionally distractors (similar-looking sprites, drawn behind the target),
occluders (drawn in front of it), lighting changes, motion blur and sensor
noise.  Everything is decided when the scene is built from a seed, so
:meth:`Scene.render` is a pure function of the frame index.

The target box is the sprite's full box (the extent of its alpha, occluded parts
included, as tracking benchmarks annotate), clipped to the frame.  Boxes are
continuous ``(x, y, w, h)`` pixels where pixel ``i`` covers ``[i, i + 1)``.

Real photographs are used for backgrounds and sprite textures when scikit-image
is installed (only images bundled in its wheel are read, straight from disk;
nothing is downloaded); without it everything is procedural.  See
``litetrack_ros/train/DATA_LICENSES.md`` for the images and their licences.

Example::

    frames, boxes = render_scene_video(num_frames=150, size=(480, 640), seed=0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
import functools
import math
from pathlib import Path

import cv2
import numpy as np

Rng = np.random.Generator
BoxArray = np.ndarray  # (N, 4) float64 xywh

# Longest side at which sprites are synthesised; they are resampled every frame.
SPRITE_RESOLUTION = 128
# Alpha below this counts as transparent when sprites are tightly cropped.
ALPHA_EPS = 1.0 / 255.0

# Images bundled in the scikit-image wheel (skimage/data/) that may be used: licences in
# litetrack_ros/train/DATA_LICENSES.md.  'horse' is a silhouette, used as a sprite mask.
BUNDLED_PHOTOS = (
    'astronaut.png', 'brick.png', 'camera.png', 'chelsea.png', 'coffee.png', 'coins.png',
    'grass.png', 'gravel.png', 'hubble_deep_field.jpg', 'retina.jpg', 'rocket.jpg',
)
BUNDLED_SILHOUETTES = ('horse.png',)


# --------------------------------------------------------------------------- material


@dataclass(frozen=True)
class Material:
    """Real images that procedural synthesis may draw on (empty when none are installed)."""

    photos: tuple[np.ndarray, ...] = ()
    silhouettes: tuple[np.ndarray, ...] = ()


def _skimage_data_dir() -> Path | None:
    try:
        import skimage.data  # noqa: PLC0415 - optional dependency
    except ImportError:
        return None
    return Path(skimage.data.__file__).parent


def _read_rgb(path: Path) -> np.ndarray | None:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        return None
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        image = image[:, :, :3]
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@functools.lru_cache(maxsize=1)
def bundled_material() -> Material:
    """Load the usable images bundled with scikit-image, if it is installed (cached).

    The files are read directly from the package folder: scikit-image's loaders could
    otherwise try to download images that the wheel does not contain.
    """
    folder = _skimage_data_dir()
    if folder is None:
        return Material()
    photos = tuple(image for name in BUNDLED_PHOTOS
                   if (image := _read_rgb(folder / name)) is not None)
    silhouettes = []
    for name in BUNDLED_SILHOUETTES:
        grey = cv2.imread(str(folder / name), cv2.IMREAD_GRAYSCALE)
        if grey is not None:
            # The horse is black on white: the object is the dark part.
            silhouettes.append((grey < 128).astype(np.float32))
    return Material(photos, tuple(silhouettes))


def resolve_material(material: Material | bool | None) -> Material:
    """Map ``True``/``None`` to the installed images, ``False`` to none."""
    if isinstance(material, Material):
        return material
    return bundled_material() if material in (True, None) else Material()


# --------------------------------------------------------------------------- textures


def random_palette(rng: Rng, count: int) -> np.ndarray:
    """Return ``count`` random RGB colours (float32, 0..255), not all of one brightness."""
    palette = rng.uniform(0, 255, size=(count, 3)).astype(np.float32)
    # A dark and a light anchor make textures show structure rather than flat colour.
    palette[0] *= rng.uniform(0.1, 0.6)
    palette[-1] = 255 - (255 - palette[-1]) * rng.uniform(0.1, 0.6)
    return palette[rng.permutation(count)]


def colourise(values: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Map a field in [0, 1] through a piecewise-linear palette to a uint8 RGB image."""
    position = np.clip(values, 0.0, 1.0) * (len(palette) - 1)
    low = np.minimum(position.astype(np.int32), len(palette) - 2)
    fraction = (position - low)[..., None]
    image = palette[low] * (1.0 - fraction) + palette[low + 1] * fraction
    return image.astype(np.uint8)


def _normalised(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / max(high - low, 1e-6)


def noise_field(rng: Rng, height: int, width: int, octaves: int = 4,
                base_cells: int | None = None) -> np.ndarray:
    """Return multi-octave value noise in [0, 1] (float32, ``height x width``)."""
    cells = base_cells or int(rng.integers(2, 9))
    persistence = rng.uniform(0.35, 0.7)
    total = np.zeros((height, width), np.float32)
    amplitude = 1.0
    for octave in range(octaves):
        grid = cells * 2 ** octave
        grid_h = max(2, round(grid * height / max(height, width)))
        grid_w = max(2, round(grid * width / max(height, width)))
        coarse = rng.random((grid_h, grid_w), dtype=np.float32)
        total += amplitude * cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        amplitude *= persistence
    return _normalised(total)


def stripe_field(rng: Rng, height: int, width: int) -> np.ndarray:
    """Return (noise-warped) stripes in [0, 1]."""
    angle = rng.uniform(0, math.pi)
    period = rng.uniform(4, max(8.0, 0.3 * max(height, width)))
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = (cols * math.cos(angle) + rows * math.sin(angle)) * (2 * math.pi / period)
    warp = noise_field(rng, height, width, octaves=2) * rng.uniform(0, 6)
    wave = 0.5 + 0.5 * np.sin(phase + warp)
    if rng.random() < 0.5:  # hard-edged stripes
        wave = (wave > rng.uniform(0.3, 0.7)).astype(np.float32)
    return wave


def tile_field(rng: Rng, height: int, width: int) -> np.ndarray:
    """Return a grid of random flat tiles (checkerboards, windows, paving) in [0, 1]."""
    tile = rng.uniform(6, max(10.0, 0.25 * min(height, width)))
    grid = rng.random((max(1, round(height / tile)), max(1, round(width / tile))),
                      dtype=np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_NEAREST)


def draw_clutter(rng: Rng, image: np.ndarray, count: int) -> None:
    """Draw ``count`` random anti-aliased shapes (ellipses, boxes, lines, polygons) in place."""
    height, width = image.shape[:2]
    scale = max(height, width)
    for _ in range(count):
        colour = tuple(float(c) for c in rng.uniform(0, 255, size=3))
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        size = int(rng.uniform(0.02, 0.2) * scale) + 1
        kind = rng.integers(4)
        if kind == 0:
            axes = (size, int(size * rng.uniform(0.3, 1.0)) + 1)
            cv2.ellipse(image, center, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1,
                        cv2.LINE_AA)
        elif kind == 1:
            corner = (center[0] + size, center[1] + int(size * rng.uniform(0.3, 2.0)))
            cv2.rectangle(image, center, corner, colour, -1, cv2.LINE_AA)
        elif kind == 2:
            end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(image, center, end, colour, int(rng.integers(1, 6)), cv2.LINE_AA)
        else:
            points = np.asarray(center) + rng.normal(0, size, size=(int(rng.integers(3, 7)), 2))
            cv2.fillPoly(image, [points.astype(np.int32)], colour, cv2.LINE_AA)


def procedural_texture(rng: Rng, height: int, width: int) -> np.ndarray:
    """Return a random ``height x width`` RGB uint8 texture (noise, stripes, tiles, clutter)."""
    kind = rng.integers(3)
    if kind == 0:
        values = noise_field(rng, height, width)
    elif kind == 1:
        values = stripe_field(rng, height, width)
    else:
        values = tile_field(rng, height, width)
    if rng.random() < 0.5:  # add fine detail to smooth fields
        values = 0.7 * values + 0.3 * noise_field(rng, height, width, base_cells=16)
    image = colourise(values, random_palette(rng, int(rng.integers(2, 6))))
    if rng.random() < 0.6:
        draw_clutter(rng, image, int(rng.integers(2, 25)))
    return image


def photo_patch(rng: Rng, photo: np.ndarray, height: int, width: int,
                min_fraction: float = 0.3) -> np.ndarray:
    """Cut a random region of a photo (random flip, colour jitter) resized to the given size."""
    photo_h, photo_w = photo.shape[:2]
    fraction = rng.uniform(min_fraction, 1.0)
    aspect = width / height
    crop_h = max(4, int(photo_h * fraction))
    crop_w = max(4, min(photo_w, int(crop_h * aspect)))
    crop_h = max(4, min(photo_h, int(crop_w / aspect)))
    top = int(rng.integers(0, photo_h - crop_h + 1))
    left = int(rng.integers(0, photo_w - crop_w + 1))
    patch = photo[top:top + crop_h, left:left + crop_w]
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    patch = cv2.resize(np.ascontiguousarray(patch), (width, height),
                       interpolation=cv2.INTER_LINEAR)
    # Channel gains shift the colours so that one photo yields many looks.
    gains = rng.uniform(0.7, 1.3, size=3).astype(np.float32)
    return np.clip(patch.astype(np.float32) * gains, 0, 255).astype(np.uint8)


def make_background(rng: Rng, height: int, width: int, material: Material = Material(),
                    photo_probability: float = 0.6) -> np.ndarray:
    """Return a ``height x width`` RGB background: a photo region or a procedural texture."""
    if material.photos and rng.random() < photo_probability:
        photo = material.photos[int(rng.integers(len(material.photos)))]
        image = photo_patch(rng, photo, height, width)
        if rng.random() < 0.3:  # clutter on top of photos adds distracting structure
            draw_clutter(rng, image, int(rng.integers(1, 10)))
        return image
    return procedural_texture(rng, height, width)


# --------------------------------------------------------------------------- sprites


@dataclass(frozen=True)
class Sprite:
    """An RGB image with alpha whose non-transparent extent touches all four edges."""

    rgb: np.ndarray  # (h, w, 3) uint8
    alpha: np.ndarray  # (h, w) float32 in [0, 1]

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` in pixels."""
        return self.alpha.shape[:2]


def tight_crop(rgb: np.ndarray, alpha: np.ndarray) -> Sprite:
    """Crop an RGBA image to the extent of its (non-negligible) alpha."""
    alpha = np.where(alpha >= ALPHA_EPS, alpha, 0.0).astype(np.float32)
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    if rows.size == 0:
        raise ValueError('sprite alpha is empty')
    window = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return Sprite(np.ascontiguousarray(rgb[window]), np.ascontiguousarray(alpha[window]))


def shape_mask(rng: Rng, height: int, width: int, material: Material = Material()) -> np.ndarray:
    """Return a random anti-aliased object mask (float32 in [0, 1]) of the given size."""
    supersample = 2
    big_h, big_w = height * supersample, width * supersample
    mask = np.zeros((big_h, big_w), np.uint8)
    center = (big_w // 2, big_h // 2)
    kinds = 6 if material.silhouettes else 5
    kind = rng.integers(kinds)
    if kind == 0:  # ellipse
        cv2.ellipse(mask, center, (big_w // 2 - 1, big_h // 2 - 1), 0, 0, 360, 255, -1)
    elif kind == 1:  # rounded rectangle
        radius = int(rng.uniform(0.05, 0.45) * min(big_h, big_w))
        cv2.rectangle(mask, (radius, 0), (big_w - 1 - radius, big_h - 1), 255, -1)
        cv2.rectangle(mask, (0, radius), (big_w - 1, big_h - 1 - radius), 255, -1)
        for x in (radius, big_w - 1 - radius):
            for y in (radius, big_h - 1 - radius):
                cv2.circle(mask, (x, y), radius, 255, -1)
    elif kind == 2:  # star-like or convex polygon
        count = int(rng.integers(3, 11))
        angles = np.sort(rng.uniform(0, 2 * math.pi, count))
        radii = rng.uniform(0.4 if rng.random() < 0.5 else 0.9, 1.0, count)
        points = np.stack((center[0] + radii * np.cos(angles) * big_w / 2,
                           center[1] + radii * np.sin(angles) * big_h / 2), axis=1)
        cv2.fillPoly(mask, [points.astype(np.int32)], 255)
    elif kind == 3:  # several overlapping ellipses (body + head + limbs)
        for _ in range(int(rng.integers(2, 5))):
            part_center = (int(rng.uniform(0.25, 0.75) * big_w),
                           int(rng.uniform(0.25, 0.75) * big_h))
            axes = (int(rng.uniform(0.1, 0.3) * big_w) + 1, int(rng.uniform(0.1, 0.3) * big_h) + 1)
            cv2.ellipse(mask, part_center, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    elif kind == 4:  # irregular blob: thresholded noise inside an ellipse
        rows, cols = np.mgrid[0:big_h, 0:big_w].astype(np.float32)
        radial = ((cols - center[0]) / (big_w / 2)) ** 2 + ((rows - center[1]) / (big_h / 2)) ** 2
        values = noise_field(rng, big_h, big_w, octaves=3, base_cells=3) - 0.6 * radial
        mask[values > np.quantile(values, 0.55)] = 255
    else:  # a real silhouette, stretched to the requested size
        silhouette = material.silhouettes[int(rng.integers(len(material.silhouettes)))]
        sprite = tight_crop(np.zeros(silhouette.shape + (3,), np.uint8), silhouette)
        if rng.random() < 0.5:
            sprite = Sprite(sprite.rgb, sprite.alpha[:, ::-1])
        mask = cv2.resize((sprite.alpha * 255).astype(np.uint8), (big_w, big_h),
                          interpolation=cv2.INTER_LINEAR)
    if not mask.any():  # degenerate random shape: fall back to an ellipse
        cv2.ellipse(mask, center, (big_w // 2 - 1, big_h // 2 - 1), 0, 0, 360, 255, -1)
    small = cv2.resize(mask, (width, height), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.0


def make_sprite(rng: Rng, material: Material = Material(), aspect: float | None = None,
                photo_probability: float = 0.5) -> Sprite:
    """Synthesise a textured object sprite; ``aspect`` is width / height (random if None)."""
    aspect = aspect if aspect is not None else math.exp(rng.uniform(math.log(0.35),
                                                                    math.log(2.5)))
    if aspect >= 1:
        width, height = SPRITE_RESOLUTION, max(8, round(SPRITE_RESOLUTION / aspect))
    else:
        width, height = max(8, round(SPRITE_RESOLUTION * aspect)), SPRITE_RESOLUTION
    alpha = shape_mask(rng, height, width, material)
    if material.photos and rng.random() < photo_probability:
        photo = material.photos[int(rng.integers(len(material.photos)))]
        rgb = photo_patch(rng, photo, height, width, min_fraction=0.1)
    else:
        rgb = procedural_texture(rng, height, width)
    # Soft directional shading makes the sprite look like a lit 3-D object.
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (cols / width - 0.5) * math.cos(angle) + (rows / height - 0.5) * math.sin(angle)
    shading = 1.0 + rng.uniform(0.0, 0.6) * ramp
    rgb = np.clip(rgb.astype(np.float32) * shading[..., None], 0, 255).astype(np.uint8)
    if rng.random() < 0.4:  # an outline, as many man-made objects have
        edge = cv2.morphologyEx((alpha > 0.5).astype(np.uint8), cv2.MORPH_GRADIENT,
                                np.ones((3, 3), np.uint8)).astype(bool)
        rgb[edge] = rng.integers(0, 256, size=3, dtype=np.uint8)
    return tight_crop(rgb, alpha)


def recolour_sprite(rng: Rng, sprite: Sprite, strength: float = 0.25) -> Sprite:
    """Return a similar-looking copy of a sprite (hue, gain and mirror changes): a distractor."""
    hsv = cv2.cvtColor(sprite.rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-1, 1) * 180 * strength * 0.5) % 180
    hsv[..., 2] *= rng.uniform(1 - strength, 1 + strength)
    rgb = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB)
    alpha = sprite.alpha
    if rng.random() < 0.5:
        rgb, alpha = rgb[:, ::-1], alpha[:, ::-1]
    return Sprite(np.ascontiguousarray(rgb), np.ascontiguousarray(alpha))


# --------------------------------------------------------------------------- compositing


def placement_matrix(sprite_shape: tuple[int, int], box_xywh: np.ndarray,
                     origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Return the 2x3 affine (for ``cv2.warpAffine``) that maps a sprite onto a box.

    The sprite's continuous extent ``[0, w) x [0, h)`` lands exactly on the box;
    OpenCV addresses pixel centres, hence the half-pixel terms.  ``origin`` is the
    ``(x, y)`` of the destination array's top-left pixel in frame coordinates.
    """
    sprite_h, sprite_w = sprite_shape
    x, y, w, h = (float(v) for v in box_xywh)
    scale_x, scale_y = w / sprite_w, h / sprite_h
    return np.array([[scale_x, 0.0, x - origin[0] + 0.5 * scale_x - 0.5],
                     [0.0, scale_y, y - origin[1] + 0.5 * scale_y - 0.5]])


@dataclass(frozen=True)
class Placed:
    """Alpha of a sprite drawn into a frame, over the window ``frame[rows, cols]``."""

    alpha: np.ndarray  # (rows, cols) float32
    rows: slice
    cols: slice


def _coverage(first: int, stop: int, low: float, high: float) -> np.ndarray:
    """Return how much of each pixel ``[i, i + 1)`` for i in first..stop-1 lies in [low, high)."""
    starts = np.arange(first, stop, dtype=np.float64)
    overlap = np.minimum(starts + 1, high) - np.maximum(starts, low)
    return np.clip(overlap, 0.0, 1.0).astype(np.float32)


def composite(frame: np.ndarray, sprite: Sprite, box_xywh: np.ndarray,
              gain: float = 1.0) -> Placed | None:
    """Alpha-blend ``sprite`` (brightness times ``gain``) onto a float32 frame, in place.

    Only the window around the box is touched.  Returns the drawn alpha, or None when
    the box does not overlap the frame.
    """
    frame_h, frame_w = frame.shape[:2]
    x, y, w, h = (float(v) for v in box_xywh)
    if w <= 0 or h <= 0:
        return None
    left, top = max(0, math.floor(x)), max(0, math.floor(y))
    right, bottom = min(frame_w, math.ceil(x + w)), min(frame_h, math.ceil(y + h))
    if left >= right or top >= bottom:
        return None
    matrix = placement_matrix(sprite.shape, box_xywh, origin=(left, top))
    rgba = np.dstack((sprite.rgb.astype(np.float32) * gain, sprite.alpha))
    # Replicated borders keep the sprite's edge pixels at full strength; the exact box edge
    # comes from the coverage of each pixel by the box, so nothing spreads outside the box.
    warped = cv2.warpAffine(rgba, matrix, (right - left, bottom - top), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    cover_x = _coverage(left, right, x, x + w)
    cover_y = _coverage(top, bottom, y, y + h)
    alpha = np.clip(warped[..., 3], 0.0, 1.0) * cover_y[:, None] * cover_x[None, :]
    window = frame[top:bottom, left:right]
    window *= (1.0 - alpha)[..., None]
    window += warped[..., :3] * alpha[..., None]
    return Placed(alpha, slice(top, bottom), slice(left, right))


def motion_blur(image: np.ndarray, length: float, angle: float) -> np.ndarray:
    """Blur along a line of ``length`` pixels at ``angle`` radians (no-op below 1.5 px)."""
    if length < 1.5:
        return image
    size = int(math.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    half = (size - 1) / 2
    offset = (half * math.cos(angle), half * math.sin(angle))
    cv2.line(kernel, (round(half - offset[0]), round(half - offset[1])),
             (round(half + offset[0]), round(half + offset[1])), 1.0, 1, cv2.LINE_AA)
    return cv2.filter2D(image, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def apply_lighting(image: np.ndarray, gains_rgb: np.ndarray, bias: float) -> np.ndarray:
    """Scale each channel and add a brightness offset, in place (float32, not clipped)."""
    image *= gains_rgb.astype(np.float32)
    image += np.float32(bias)
    return image


# --------------------------------------------------------------------------- motion


def smooth_path(rng: Rng, num_frames: int, waves: int = 3,
                min_period: float = 40.0) -> np.ndarray:
    """Return a smooth random signal in [-1, 1] over ``num_frames`` (a sum of sinusoids).

    Periods are at least ``min_period`` frames, so speed stays camera-like.
    """
    t = np.arange(num_frames, dtype=np.float64)
    total = np.zeros(num_frames)
    amplitude_sum = 0.0
    for wave in range(waves):
        period = rng.uniform(1.0, 4.0) * max(min_period, num_frames / (wave + 1))
        amplitude = rng.uniform(0.5, 1.0) / (wave + 1)
        total += amplitude * np.sin(2 * math.pi * t / period + rng.uniform(0, 2 * math.pi))
        amplitude_sum += amplitude
    return total / amplitude_sum


def box_from_center(center_x: np.ndarray, center_y: np.ndarray, width: np.ndarray,
                    height: np.ndarray) -> BoxArray:
    """Stack centre/size paths into (N, 4) xywh boxes."""
    return np.stack((center_x - width / 2, center_y - height / 2, width, height), axis=1)


def clip_box_to_frame(box_xywh: np.ndarray, height: int, width: int) -> np.ndarray:
    """Return the part of a box inside the frame (zero size when it is outside)."""
    x1 = np.clip(box_xywh[0], 0, width)
    y1 = np.clip(box_xywh[1], 0, height)
    x2 = np.clip(box_xywh[0] + box_xywh[2], 0, width)
    y2 = np.clip(box_xywh[1] + box_xywh[3], 0, height)
    return np.array((x1, y1, x2 - x1, y2 - y1))


# --------------------------------------------------------------------------- scenes


@dataclass(frozen=True)
class Actor:
    """A sprite with a box and a brightness gain per frame."""

    sprite: Sprite
    boxes: BoxArray  # (N, 4) xywh in frame pixels, unclipped
    gains: np.ndarray  # (N,)


@dataclass(frozen=True)
class RenderedFrame:
    """One rendered frame and its ground truth."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    box_xywh: np.ndarray  # (4,) the target's full box clipped to the frame
    target_alpha: np.ndarray  # (H, W) float32, the target's alpha before occlusion
    visible_fraction: float  # share of the target's alpha not hidden by occluders


@dataclass(frozen=True)
class Scene:
    """Everything needed to render a video deterministically, frame by frame."""

    size: tuple[int, int]  # (H, W)
    canvas: np.ndarray  # background, larger than the frame: the camera pans over it
    camera: np.ndarray  # (N, 3): canvas x, y of the frame's top-left pixel, zoom
    target: Actor
    distractors: tuple[Actor, ...] = ()
    occluders: tuple[Actor, ...] = ()
    lighting: np.ndarray = field(default_factory=lambda: np.ones((1, 4)))  # (N, 4): rgb, bias
    blur: np.ndarray = field(default_factory=lambda: np.zeros((1, 2)))  # (N, 2): length, angle
    noise_sigma: float = 0.0
    seed: int = 0

    @property
    def num_frames(self) -> int:
        """Length of the video."""
        return len(self.target.boxes)

    def target_box(self, index: int) -> np.ndarray:
        """Ground-truth xywh box of frame ``index`` (clipped to the frame)."""
        return clip_box_to_frame(self.target.boxes[index], *self.size)

    def _background(self, index: int) -> np.ndarray:
        x, y, zoom = self.camera[index]
        # Frame pixel (u, v) shows canvas point (x + u / zoom, y + v / zoom).
        matrix = np.array([[zoom, 0.0, -x * zoom], [0.0, zoom, -y * zoom]])
        height, width = self.size
        return cv2.warpAffine(self.canvas, matrix, (width, height), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT).astype(np.float32)

    def render(self, index: int) -> RenderedFrame:
        """Render frame ``index`` (0-based) with its ground truth."""
        if not 0 <= index < self.num_frames:
            raise IndexError(f'frame {index} outside 0..{self.num_frames - 1}')
        height, width = self.size
        frame = self._background(index)
        for actor in self.distractors:
            composite(frame, actor.sprite, actor.boxes[index], actor.gains[index])
        target_alpha = np.zeros((height, width), np.float32)
        placed = composite(frame, self.target.sprite, self.target.boxes[index],
                           self.target.gains[index])
        if placed is not None:
            target_alpha[placed.rows, placed.cols] = placed.alpha
        visible = target_alpha.copy()
        for actor in self.occluders:
            cover = composite(frame, actor.sprite, actor.boxes[index], actor.gains[index])
            if cover is not None:
                visible[cover.rows, cover.cols] *= 1.0 - cover.alpha
        lighting = self.lighting[min(index, len(self.lighting) - 1)]
        frame = apply_lighting(frame, lighting[:3], lighting[3])
        length, angle = self.blur[min(index, len(self.blur) - 1)]
        frame = motion_blur(frame, float(length), float(angle))
        if self.noise_sigma > 0:
            noise = np.random.default_rng((self.seed, index)).standard_normal(
                frame.shape, dtype=np.float32)
            frame += noise * np.float32(self.noise_sigma)
        image = np.clip(frame, 0, 255).astype(np.uint8)
        total = float(target_alpha.sum())
        return RenderedFrame(image, self.target_box(index), target_alpha,
                             float(visible.sum()) / total if total > 0 else 0.0)


@dataclass(frozen=True)
class SceneOptions:
    """Knobs of :func:`random_scene`; sizes are fractions of the frame's shorter side."""

    min_target_size: float = 0.08  # sqrt(w * h) of the target at scale 1
    max_target_size: float = 0.35
    max_scale_change: float = 2.0  # the target's size varies by up to this factor
    max_aspect_change: float = 1.3
    keep_inside: bool = True  # keep the target's full box inside the frame
    max_distractors: int = 2
    occlusion_probability: float = 0.3
    occlusion_at: int | None = None  # force an occlusion centred on this frame
    occlusion_frames: int = 10  # frames during which the occluder overlaps the target
    blur_probability: float = 0.3
    lighting_change: float = 0.3  # relative brightness swing over the video
    max_noise_sigma: float = 6.0
    min_period: float = 40.0  # shortest period of the motion paths, in frames
    max_camera_zoom_change: float = 0.15


def _camera_path(rng: Rng, num_frames: int, size: tuple[int, int], canvas_shape: tuple,
                 options: SceneOptions) -> np.ndarray:
    height, width = size
    canvas_h, canvas_w = canvas_shape[:2]
    zoom = 1.0 + options.max_camera_zoom_change * smooth_path(
        rng, num_frames, 2, options.min_period)
    zoom = np.maximum(zoom, 1.0)  # never show past the canvas edge at the widest view
    span_x = canvas_w - width / zoom
    span_y = canvas_h - height / zoom
    x = span_x * (0.5 + 0.5 * smooth_path(rng, num_frames, 2, options.min_period))
    y = span_y * (0.5 + 0.5 * smooth_path(rng, num_frames, 2, options.min_period))
    return np.stack((x, y, zoom), axis=1)


def _target_boxes(rng: Rng, num_frames: int, size: tuple[int, int],
                  aspect: float, options: SceneOptions) -> BoxArray:
    height, width = size
    short = min(height, width)
    base = rng.uniform(options.min_target_size, options.max_target_size) * short
    log_scale = math.log(options.max_scale_change) / 2
    scale = np.exp(log_scale * smooth_path(rng, num_frames, 2, options.min_period))
    log_aspect = math.log(options.max_aspect_change) / 2
    aspects = aspect * np.exp(log_aspect * smooth_path(rng, num_frames, 2, options.min_period))
    box_w = base * scale * np.sqrt(aspects)
    box_h = base * scale / np.sqrt(aspects)
    # Never larger than 90 % of the frame, whatever the random draws.
    shrink = np.minimum(1.0, np.minimum(0.9 * width / box_w, 0.9 * height / box_h))
    box_w, box_h = box_w * shrink, box_h * shrink
    centers = []
    for extent, limit in ((box_w, width), (box_h, height)):
        if options.keep_inside:
            low, high = extent.max() / 2 + 1, limit - extent.max() / 2 - 1
        else:
            low, high = 0.1 * limit, 0.9 * limit
        middle, half = (low + high) / 2, max(0.0, (high - low) / 2)
        centers.append(middle + half * rng.uniform(0.5, 1.0)
                       * smooth_path(rng, num_frames, 3, options.min_period))
    return box_from_center(centers[0], centers[1], box_w, box_h)


def _gains(rng: Rng, num_frames: int, swing: float, min_period: float) -> np.ndarray:
    return 1.0 + swing * 0.5 * smooth_path(rng, num_frames, 2, min_period)


def _distractor(rng: Rng, target: Sprite, num_frames: int, size: tuple[int, int],
                target_boxes: BoxArray, material: Material, options: SceneOptions) -> Actor:
    if rng.random() < 0.7:  # a near copy of the target: the hard case
        sprite = recolour_sprite(rng, target, strength=rng.uniform(0.05, 0.4))
    else:
        sprite = make_sprite(rng, material)
    sprite_h, sprite_w = sprite.shape
    distractor_options = SceneOptions(
        min_target_size=options.min_target_size, max_target_size=options.max_target_size,
        keep_inside=False, min_period=options.min_period)
    boxes = _target_boxes(rng, num_frames, size, sprite_w / sprite_h, distractor_options)
    # Similar size to the target most of the time, as distractors in real videos are.
    if rng.random() < 0.7:
        ratio = rng.uniform(0.7, 1.3) * np.sqrt(target_boxes[:, 2] * target_boxes[:, 3]
                                                / (boxes[:, 2] * boxes[:, 3]))
        centers = boxes[:, :2] + boxes[:, 2:] / 2
        boxes = box_from_center(centers[:, 0], centers[:, 1], boxes[:, 2] * ratio,
                                boxes[:, 3] * ratio)
    return Actor(sprite, boxes, _gains(rng, num_frames, 0.2, options.min_period))


def _occluder(rng: Rng, num_frames: int, size: tuple[int, int], target_boxes: BoxArray,
              at: int, material: Material, options: SceneOptions) -> Actor:
    """Return a pole (full frame height) or a blob that sweeps across the target at ``at``."""
    height, _ = size
    box = target_boxes[min(max(at, 0), num_frames - 1)]
    full = rng.random() < 0.6
    if full:  # a pole, as when the camera moves past a post or a tree
        occluder_w = box[2] * rng.uniform(0.8, 1.5)
        occluder_h = np.full(num_frames, height * 1.2)
        sprite = make_sprite(rng, material, aspect=0.2)
        sprite = Sprite(sprite.rgb, np.ones_like(sprite.alpha))  # opaque rectangle
    else:  # a smaller object passing partly in front of the target
        occluder_w = box[2] * rng.uniform(0.4, 0.9)
        occluder_h = target_boxes[:, 3] * rng.uniform(0.5, 1.0)
        sprite = make_sprite(rng, material)
    # Speed relative to the target chosen so that they overlap for `occlusion_frames` frames.
    speed = (box[2] + occluder_w) / max(1, options.occlusion_frames)
    direction = 1.0 if rng.random() < 0.5 else -1.0
    t = np.arange(num_frames, dtype=np.float64)
    target_cx = target_boxes[:, 0] + target_boxes[:, 2] / 2
    target_cy = target_boxes[:, 1] + target_boxes[:, 3] / 2
    center_x = target_cx + direction * speed * (t - at)
    center_y = (np.full(num_frames, height / 2) if full
                else target_cy + target_boxes[:, 3] * rng.uniform(-0.3, 0.3))
    boxes = box_from_center(center_x, center_y, np.full(num_frames, occluder_w), occluder_h)
    return Actor(sprite, boxes, np.ones(num_frames))


def random_scene(seed: int | np.random.SeedSequence, num_frames: int,
                 size: tuple[int, int] = (480, 640),
                 material: Material | bool | None = None,
                 options: SceneOptions = SceneOptions()) -> Scene:
    """Build a random scene; the same arguments always give the same scene.

    ``material``: images to draw on (``None``/``True``: those installed, ``False``: none).
    """
    rng = np.random.default_rng(seed)
    material = resolve_material(material)
    height, width = size
    # The canvas is larger than the frame so that the camera can pan and zoom over it.
    margin = rng.uniform(1.2, 1.6)
    canvas = make_background(rng, int(height * margin), int(width * margin), material)
    camera = _camera_path(rng, num_frames, size, canvas.shape, options)
    sprite = make_sprite(rng, material)
    sprite_h, sprite_w = sprite.shape
    boxes = _target_boxes(rng, num_frames, size, sprite_w / sprite_h, options)
    target = Actor(sprite, boxes, _gains(rng, num_frames, 0.2, options.min_period))
    distractors = tuple(
        _distractor(rng, sprite, num_frames, size, boxes, material, options)
        for _ in range(int(rng.integers(0, options.max_distractors + 1))))
    occlusion_at = options.occlusion_at
    if occlusion_at is None and rng.random() < options.occlusion_probability:
        occlusion_at = int(rng.integers(0, num_frames))
    occluders = () if occlusion_at is None else (
        _occluder(rng, num_frames, size, boxes, occlusion_at, material, options),)
    lighting = np.empty((num_frames, 4))
    brightness = _gains(rng, num_frames, options.lighting_change, options.min_period)
    tint = rng.uniform(0.9, 1.1, size=3)
    lighting[:, :3] = brightness[:, None] * tint
    lighting[:, 3] = rng.uniform(-15, 15)
    blur = np.zeros((num_frames, 2))
    if rng.random() < options.blur_probability:
        # Blur follows camera speed, as with a real moving camera.
        speed = np.hypot(*np.gradient(camera[:, :2], axis=0).T)
        blur[:, 0] = speed * rng.uniform(0.5, 2.0)
        blur[:, 1] = rng.uniform(0, math.pi)
    noise_sigma = float(rng.uniform(0, options.max_noise_sigma))
    seed_value = int(rng.integers(2 ** 31))
    return Scene(size, canvas, camera, target, distractors, occluders, lighting, blur,
                 noise_sigma, seed_value)


def demo_scene(num_frames: int = 150, size: tuple[int, int] = (480, 640), seed: int = 0,
               material: Material | bool | None = None) -> Scene:
    """Return the scene of :func:`render_scene_video`: one occlusion of about 10 frames."""
    options = SceneOptions(min_target_size=0.15, max_target_size=0.25, max_distractors=1,
                           occlusion_at=int(num_frames * 0.55), occlusion_frames=10,
                           blur_probability=0.0, max_noise_sigma=3.0, min_period=60.0)
    return random_scene(seed, num_frames, size, material, options)


def render_scene_video(num_frames: int = 150, size: tuple[int, int] = (480, 640),
                       seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Render a demo tracking video: RGB uint8 frames and (N, 4) float xywh ground truth.

    A textured object moves smoothly over a textured background seen by a panning
    camera, changes scale and aspect, and is hidden by a passing occluder for about
    10 frames around 55 % of the video.  Deterministic for a given seed (and set of
    installed images).
    """
    scene = demo_scene(num_frames, size, seed)
    frames, boxes = [], []
    for index in range(num_frames):
        rendered = scene.render(index)
        frames.append(rendered.image)
        boxes.append(rendered.box_xywh)
    return frames, np.asarray(boxes, dtype=np.float64)
