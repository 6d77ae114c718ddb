# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Crop and box maths of the LiteTrack / OSTrack test-time pipeline.

Everything here is plain numpy / OpenCV and mirrors the official OSTrack code
(``lib/train/data/processing_utils.py`` and ``lib/test/tracker/ostrack.py``)
closely enough that boxes agree with it to floating-point precision,
including its rounding and padding quirks. Boxes are ``(x, y, w, h)`` in
pixels with ``(x, y)`` the top-left corner, in continuous image coordinates
where pixel ``i`` covers ``[i, i + 1)``.
"""

import math
from typing import Sequence, Tuple

import cv2
import numpy as np

Box = Tuple[float, float, float, float]

IMAGENET_MEAN = np.array((0.485, 0.456, 0.406), dtype=np.float32)
IMAGENET_STD = np.array((0.229, 0.224, 0.225), dtype=np.float32)
# (x / 255 - mean) / std as x * scale - shift, per channel of a CHW array.
_NORMALIZE_SCALE = (1.0 / (255.0 * IMAGENET_STD.astype(np.float64))).astype(np.float32)
_NORMALIZE_SCALE = _NORMALIZE_SCALE.reshape(3, 1, 1)
_NORMALIZE_SHIFT = (IMAGENET_MEAN.astype(np.float64) / IMAGENET_STD).astype(np.float32)
_NORMALIZE_SHIFT = _NORMALIZE_SHIFT.reshape(3, 1, 1)


def crop_square(
    image: np.ndarray, box_xywh: Sequence[float], factor: float, output_size: int
) -> Tuple[np.ndarray, float]:
    """Cut a square of side ``ceil(sqrt(w * h) * factor)`` around a box and resize it.

    This is OSTrack's ``sample_target``. Outside the image the crop is zero.
    Upstream quirk kept on purpose: the right/bottom pads are computed as
    ``x2 - W + 1`` instead of ``x2 - W``, so when the crop reaches the right
    (bottom) image edge the last image column (row) inside the crop is
    replaced by zeros. The network was trained and evaluated on such crops.

    Args:
        image: ``H x W`` or ``H x W x C`` array.
        box_xywh: box to centre the crop on.
        factor: side of the crop relative to ``sqrt(w * h)`` (2 for the
            template, 4 for the search region).
        output_size: side of the returned square in pixels.

    Returns:
        The ``output_size x output_size`` crop (same dtype and channels as
        ``image``) and ``resize_factor = output_size / side``.

    """
    x, y, w, h = (float(v) for v in box_xywh)
    side = math.ceil(math.sqrt(w * h) * factor)
    if side < 1:
        raise ValueError(f'box {tuple(box_xywh)} is too small to crop around')

    # Python's round() (half to even) like upstream, not floor(x + 0.5).
    x1 = round(x + 0.5 * w - side * 0.5)
    y1 = round(y + 0.5 * h - side * 0.5)
    x2 = x1 + side
    y2 = y1 + side
    image_h, image_w = image.shape[:2]

    x1_pad = max(0, -x1)
    y1_pad = max(0, -y1)
    x2_pad = max(x2 - image_w + 1, 0)
    y2_pad = max(y2 - image_h + 1, 0)
    row_start, row_stop = y1 + y1_pad, y2 - y2_pad
    col_start, col_stop = x1 + x1_pad, x2 - x2_pad

    if row_start >= row_stop or col_start >= col_stop:
        # No overlap with the image (upstream would crash or wrap around
        # through negative indices); all-padding is the faithful answer.
        padded = np.zeros((side, side) + image.shape[2:], dtype=image.dtype)
    else:
        cut = image[row_start:row_stop, col_start:col_stop]
        padded = cv2.copyMakeBorder(
            cut, y1_pad, y2_pad, x1_pad, x2_pad, cv2.BORDER_CONSTANT, value=0
        )
        if padded.ndim < image.ndim:  # OpenCV drops a trailing axis of size 1
            padded = padded.reshape(padded.shape + image.shape[2:])

    resize_factor = output_size / side
    resized = cv2.resize(padded, (output_size, output_size), interpolation=cv2.INTER_LINEAR)
    if resized.ndim < image.ndim:
        resized = resized.reshape(resized.shape + image.shape[2:])
    return resized, resize_factor


def box_to_template_coords(
    box_xywh: Sequence[float], resize_factor: float, crop_size: int
) -> np.ndarray:
    """Return where a box lies in the crop that was cut around it, as normalised xyxy.

    OSTrack's ``transform_image_to_crop`` with ``box_in == box_extract`` and
    ``normalize=True``, followed by an xywh -> xyxy conversion: the box is
    centred at ``(crop_size - 1) / 2`` and scaled by ``resize_factor``. The
    result, in ``[0, 1]`` fractions of the crop, is the ``box_xyxy`` given to
    ``LiteTrack.encode_template``.

    Returns:
        float64 array ``(x1, y1, x2, y2)``.

    """
    box = np.asarray(box_xywh, dtype=np.float64)
    box_in_center = box[0:2] + 0.5 * box[2:4]
    box_extract_center = box_in_center  # the crop was cut around this very box
    box_out_center = (crop_size - 1) / 2 + (box_in_center - box_extract_center) * resize_factor
    box_out_wh = box[2:4] * resize_factor
    box_out_xywh = np.concatenate((box_out_center - 0.5 * box_out_wh, box_out_wh)) / crop_size
    return np.concatenate((box_out_xywh[0:2], box_out_xywh[0:2] + box_out_xywh[2:4]))


def map_box_back(
    box_cxcywh: Sequence[float],
    previous_box_xywh: Sequence[float],
    search_size: int,
    resize_factor: float,
) -> Box:
    """Map a box predicted in the search crop back to image pixels.

    OSTrack's ``map_box_back``. The crop is taken to be centred exactly on the
    previous box centre, although ``crop_square`` rounds its corner to whole
    pixels; that sub-pixel (<= 0.5 px) offset is part of the official pipeline
    and is kept so results match it.

    Args:
        box_cxcywh: predicted ``(cx, cy, w, h)`` in ``[0, 1]`` fractions of
            the search crop (the output of ``decode_boxes``).
        previous_box_xywh: the box the search crop was cut around.
        search_size: side of the search crop in pixels.
        resize_factor: ``search_size / side`` returned by ``crop_square``.

    Returns:
        ``(x, y, w, h)`` in image pixels, not yet clipped to the image.

    """
    # Same operation order as upstream: scale to crop pixels, then to image pixels.
    cx, cy, w, h = (float(v) * search_size / resize_factor for v in box_cxcywh)
    prev_x, prev_y, prev_w, prev_h = (float(v) for v in previous_box_xywh)
    cx_prev = prev_x + 0.5 * prev_w
    cy_prev = prev_y + 0.5 * prev_h
    half_side = 0.5 * search_size / resize_factor
    cx_real = cx + (cx_prev - half_side)
    cy_real = cy + (cy_prev - half_side)
    return (cx_real - 0.5 * w, cy_real - 0.5 * h, w, h)


def clip_box(box_xywh: Sequence[float], height: int, width: int, margin: float = 10) -> Box:
    """Clip a box to the image while keeping at least ``margin`` pixels of it.

    OSTrack's ``clip_box``: the top-left corner is pulled inside the image by
    at least ``margin`` pixels and the bottom-right corner is kept at least
    ``margin`` pixels from the top/left edge, so the next search crop never
    collapses onto the image border.
    """
    x1, y1, w, h = (float(v) for v in box_xywh)
    x2, y2 = x1 + w, y1 + h
    x1 = min(max(0.0, x1), width - margin)
    x2 = max(min(width, x2), margin)
    y1 = min(max(0.0, y1), height - margin)
    y2 = max(min(height, y2), margin)
    w = max(margin, x2 - x1)
    h = max(margin, y2 - y1)
    return (x1, y1, w, h)


def normalize_image(crop: np.ndarray) -> np.ndarray:
    """Turn an ``H x W x 3`` uint8 RGB crop into a normalised float32 ``3 x H x W`` array.

    Pixels are scaled to ``[0, 1]`` and standardised with the ImageNet mean
    and std the backbone was pre-trained with.
    """
    if crop.ndim != 3 or crop.shape[2] != 3:
        raise ValueError(f'expected an H x W x 3 RGB crop, got shape {crop.shape}')
    # One converting copy into CHW, then a multiply and a subtract in place: a third of
    # the time of (x / 255 - mean) / std in four passes, equal to 1 float32 rounding.
    standardised = np.ascontiguousarray(crop.transpose(2, 0, 1), dtype=np.float32)
    standardised *= _NORMALIZE_SCALE
    standardised -= _NORMALIZE_SHIFT
    return standardised


def validate_box(box_xywh: Sequence[float], image_shape: Sequence[int]) -> Box:
    """Check a user-given box and clip it to the image.

    Args:
        box_xywh: ``(x, y, w, h)`` in pixels.
        image_shape: ``(H, W, ...)`` of the image the box refers to.

    Returns:
        The part of the box that lies inside the image, as floats.

    Raises:
        ValueError: the box does not have four finite numbers, has a zero or
            negative width/height, or lies entirely outside the image.

    """
    try:
        values = np.asarray(box_xywh, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as error:
        raise ValueError(f'box must be four numbers (x, y, w, h), got {box_xywh!r}') from error
    if values.size != 4:
        raise ValueError(f'box must be four numbers (x, y, w, h), got {values.size} values')
    if not np.all(np.isfinite(values)):
        raise ValueError(f'box must be finite, got {tuple(values.tolist())}')
    x, y, w, h = values.tolist()
    if w <= 0 or h <= 0:
        raise ValueError(f'box width and height must be positive, got w={w}, h={h}')

    image_h, image_w = image_shape[0], image_shape[1]
    x1, y1 = max(x, 0.0), max(y, 0.0)
    x2, y2 = min(x + w, float(image_w)), min(y + h, float(image_h))
    if x2 <= x1 or y2 <= y1:
        raise ValueError(
            f'box {(x, y, w, h)} lies entirely outside the {image_w}x{image_h} image'
        )
    return (x1, y1, x2 - x1, y2 - y1)


# --------------------------------------------------------------------------- SiamFC crops
# LightTrack's test-time crops (``lib/utils/utils.py`` and ``lib/tracker/lighttrack.py`` of
# the official code), which differ from OSTrack's above in size, rounding and padding.


def context_side(width: float, height: float, context_amount: float = 0.5) -> float:
    """Side of the SiamFC template context: ``sqrt((w + p) * (h + p))``, ``p = a * (w + h)``."""
    pad = context_amount * (width + height)
    return math.sqrt((width + pad) * (height + pad))


def python2_round(value: float) -> float:
    """Round half away from zero, as Python 2 did (the official search-crop side)."""
    if round(value + 1) - round(value) != 1:
        return value + abs(value) / value * 0.5
    return float(round(value))


def crop_context(
    image: np.ndarray, center_xy: Sequence[float], side: float, output_size: int,
    fill: Sequence[float],
) -> np.ndarray:
    """Cut a ``side`` x ``side`` square centred on ``center_xy`` and resize it (SiamFC).

    The official ``get_subwindow_tracking``: the first column is ``round(cx - (side + 1)
    / 2)`` (half to even), the square spans ``side`` whole pixels from there, and what lies
    outside the image is ``fill`` (the image's mean colour, truncated to the image dtype as
    the official assignment into a uint8 array does). The crop is resized with
    ``cv2.INTER_LINEAR`` unless it already has ``output_size`` pixels.

    Args:
        image: ``H x W x C`` array (uint8 RGB for the tracker).
        center_xy: crop centre in pixels.
        side: crop side in pixels; a whole number (rounded by the caller).
        output_size: side of the returned square.
        fill: one value per channel for the parts outside the image.

    Returns:
        The ``output_size x output_size x C`` crop, same dtype as ``image``.

    """
    size = int(side)
    if size < 1:
        raise ValueError(f'crop side must be at least 1 pixel, got {side}')
    offset = (side + 1) / 2
    x1 = int(round(center_xy[0] - offset))
    y1 = int(round(center_xy[1] - offset))
    image_h, image_w = image.shape[:2]
    channels = image.shape[2:]
    pad_value = np.asarray(fill, dtype=np.float64).astype(image.dtype)
    if x1 >= 0 and y1 >= 0 and x1 + size <= image_w and y1 + size <= image_h:
        patch = image[y1:y1 + size, x1:x1 + size]
    else:
        patch = np.empty((size, size) + channels, dtype=image.dtype)
        patch[...] = pad_value
        rows = slice(max(0, y1), min(image_h, y1 + size))
        cols = slice(max(0, x1), min(image_w, x1 + size))
        if rows.start < rows.stop and cols.start < cols.stop:
            patch[rows.start - y1:rows.stop - y1, cols.start - x1:cols.stop - x1] = \
                image[rows, cols]
    if size == output_size:
        return np.ascontiguousarray(patch)
    resized = cv2.resize(patch, (output_size, output_size), interpolation=cv2.INTER_LINEAR)
    return resized.reshape((output_size, output_size) + channels)
