# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Crop and box maths against hand-computed OSTrack results."""

import math

from litetrack_ros.tracking.geometry import (
    box_to_template_coords,
    clip_box,
    crop_square,
    map_box_back,
    normalize_image,
    validate_box,
)
import numpy as np
import pytest


def numbered_image(height: int = 20, width: int = 20) -> np.ndarray:
    """Return an RGB image whose pixels are all distinct and non-zero (R = 1 + column)."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack((cols + 1, rows + 1, np.full_like(rows, 200)), axis=2).astype(np.uint8)


def test_crop_inside_image_is_a_plain_cut():
    image = numbered_image()
    # side = ceil(sqrt(16) * 2) = 8, x1 = y1 = round(12 - 4) = 8; output 8 means no resize.
    crop, resize_factor = crop_square(image, (10, 10, 4, 4), factor=2, output_size=8)
    assert resize_factor == 1.0
    np.testing.assert_array_equal(crop, image[8:16, 8:16])


def test_crop_side_is_ceil_of_scaled_geometric_mean():
    image = numbered_image(40, 40)
    # sqrt(3 * 5) * 2 = 7.75 -> side 8; side 8 resized to 16 gives factor 2.
    crop, resize_factor = crop_square(image, (18, 18, 3, 5), factor=2, output_size=16)
    assert crop.shape == (16, 16, 3)
    assert resize_factor == 2.0


def test_crop_reaching_right_edge_zeroes_last_image_column():
    image = numbered_image()
    # x1 = round(16 - 4) = 12, x2 = 20 = W: the crop fits, yet upstream pads x2 - W + 1 = 1.
    crop, _ = crop_square(image, (14, 10, 4, 4), factor=2, output_size=8)
    np.testing.assert_array_equal(crop[:, :7], image[8:16, 12:19])
    assert not crop[:, 7].any()


def test_crop_past_bottom_right_pads_with_zeros_and_drops_last_row_and_column():
    image = numbered_image()
    # x1 = y1 = round(18 - 4) = 14, x2 = y2 = 22: pads 22 - 20 + 1 = 3 on both.
    crop, _ = crop_square(image, (16, 16, 4, 4), factor=2, output_size=8)
    np.testing.assert_array_equal(crop[:5, :5], image[14:19, 14:19])
    assert not crop[5:].any()
    assert not crop[:, 5:].any()


def test_crop_past_top_left_pads_without_losing_pixels():
    image = numbered_image()
    # x1 = round(0 - 4) = -4, y1 = round(1 - 4) = -3.
    crop, _ = crop_square(image, (-2, -1, 4, 4), factor=2, output_size=8)
    assert not crop[:3].any()
    assert not crop[:, :4].any()
    np.testing.assert_array_equal(crop[3:, 4:], image[0:5, 0:4])


def test_crop_corner_uses_round_half_to_even():
    image = numbered_image()
    # Corner exactly at 2.5 rounds to 2 and at 3.5 to 4 (Python round, as upstream).
    crop_low, _ = crop_square(image, (4.5, 4.5, 4, 4), factor=2, output_size=8)
    crop_high, _ = crop_square(image, (5.5, 5.5, 4, 4), factor=2, output_size=8)
    np.testing.assert_array_equal(crop_low, image[2:10, 2:10])
    np.testing.assert_array_equal(crop_high, image[4:12, 4:12])


def test_crop_resizes_bilinearly_and_reports_scale():
    image = np.zeros((40, 40, 3), dtype=np.uint8)
    image[:, 20:] = 200  # vertical edge through the middle of the crop
    crop, resize_factor = crop_square(image, (10, 10, 20, 20), factor=1, output_size=10)
    assert resize_factor == 0.5
    # Downscaling by 2 samples between source columns 19 and 20 at output column 4.5.
    np.testing.assert_array_equal(crop[0, :, 0], [0, 0, 0, 0, 0, 200, 200, 200, 200, 200])


def test_crop_without_overlap_is_all_zero():
    crop, _ = crop_square(numbered_image(), (100, 100, 4, 4), factor=2, output_size=8)
    assert crop.shape == (8, 8, 3)
    assert not crop.any()


def test_template_box_is_centred_and_scaled():
    box = (10.0, 20.0, 30.0, 40.0)
    side = math.ceil(math.sqrt(30 * 40) * 2)  # 70
    resize_factor = 128 / side
    x1, y1, x2, y2 = box_to_template_coords(box, resize_factor, 128)
    centre = 63.5 / 128
    assert (x1 + x2) / 2 == pytest.approx(centre)
    assert (y1 + y2) / 2 == pytest.approx(centre)
    assert x2 - x1 == pytest.approx(30 / side)
    assert y2 - y1 == pytest.approx(40 / side)


def test_map_box_back_inverts_the_search_crop():
    previous = (100.0, 50.0, 40.0, 20.0)
    side = math.ceil(math.sqrt(40 * 20) * 4)  # 114
    resize_factor = 256 / side
    # The crop centre with the previous size maps back onto the previous box.
    same = map_box_back((0.5, 0.5, 40 / side, 20 / side), previous, 256, resize_factor)
    assert same == pytest.approx(previous)
    # A quarter of the crop to the right and down moves the box by side / 4.
    moved = map_box_back((0.75, 0.25, 0.1, 0.2), previous, 256, resize_factor)
    assert moved == pytest.approx(
        (120 + side / 4 - 0.05 * side, 60 - side / 4 - 0.1 * side, 0.1 * side, 0.2 * side)
    )


@pytest.mark.parametrize(
    ('box', 'image_hw', 'expected'),
    [
        ((20, 30, 40, 50), (80, 100), (20, 30, 40, 50)),  # inside: unchanged
        ((-5, -8, 30, 20), (80, 100), (0, 0, 25, 12)),  # cut at the top-left
        ((90, 70, 30, 50), (80, 100), (90, 70, 10, 10)),  # cut at the bottom-right
        ((-5, 10, 8, 20), (80, 100), (0, 10, 10, 20)),  # at least the margin wide
        ((150, 10, 20, 20), (80, 100), (90, 10, 10, 20)),  # beyond the right: 10 px inside
        ((20, 30, 2, 3), (80, 100), (20, 30, 10, 10)),  # tiny: grown to the margin
        # Image smaller than the margin: x1 goes negative and x2 is pushed out to 10.
        ((2, 1, 3, 3), (6, 8), (-2, -4, 12, 14)),
    ],
)
def test_clip_box_follows_ostrack(box, image_hw, expected):
    assert clip_box(box, *image_hw, margin=10) == pytest.approx(expected)


def test_normalize_image_is_imagenet_standardised_chw():
    crop = np.zeros((2, 3, 3), dtype=np.uint8)
    crop[1, 2] = (255, 0, 128)
    tensor = normalize_image(crop)
    assert tensor.shape == (3, 2, 3)
    assert tensor.dtype == np.float32
    np.testing.assert_allclose(
        tensor[:, 1, 2],
        [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (128 / 255 - 0.406) / 0.225],
        rtol=1e-6,
    )
    np.testing.assert_allclose(tensor[:, 0, 0], [-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225],
                               rtol=1e-6)


IMAGE_SHAPE = (50, 100, 3)  # H, W, C


@pytest.mark.parametrize(
    ('box', 'message'),
    [
        ((10, 10, 0, 5), 'positive'),
        ((10, 10, 5, -1), 'positive'),
        ((10, float('nan'), 5, 5), 'finite'),
        ((10, 10, float('inf'), 5), 'finite'),
        ((100, 10, 5, 5), 'outside'),  # starts at the right edge
        ((-20, -20, 10, 10), 'outside'),
        ((10, 60, 5, 5), 'outside'),
        ((1, 2, 3), 'four numbers'),
        (('a', 'b', 'c', 'd'), 'four numbers'),
    ],
)
def test_validate_box_rejects_unusable_boxes(box, message):
    with pytest.raises(ValueError, match=message):
        validate_box(box, IMAGE_SHAPE)


def test_validate_box_clips_a_box_partly_outside():
    assert validate_box((-5, 40, 20, 20), IMAGE_SHAPE) == pytest.approx((0, 40, 15, 10))
    assert validate_box(np.array([90.5, 0, 20, 5]), IMAGE_SHAPE) == pytest.approx(
        (90.5, 0, 9.5, 5)
    )
    assert validate_box((1, 2, 3, 4), IMAGE_SHAPE) == (1.0, 2.0, 3.0, 4.0)
