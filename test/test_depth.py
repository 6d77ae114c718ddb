# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Depth images to metres and boxes to 3D positions, against hand-computed numbers."""

import math

from litetrack_ros.images.depth_image import (
    check_depth_fields,
    depth_image,
    DepthImage,
)
from litetrack_ros.images.image_codec import ImageDecodeError
from litetrack_ros.tracking.depth import (
    DepthSettings,
    DepthUnavailable,
    inner_region,
    Intrinsics,
    locate_target,
    robust_depth,
)
import numpy as np
import pytest

# A 640x480 camera: fx 500, fy 400, principal point at the image centre (index 319.5, 239.5).
K = (500.0, 0.0, 319.5, 0.0, 400.0, 239.5, 0.0, 0.0, 1.0)
CAMERA = Intrinsics.from_camera_info(K, 640, 480)


def millimetres(values: np.ndarray) -> DepthImage:
    data = np.ascontiguousarray(values, dtype='<u2')
    return depth_image('16UC1', data.shape[0], data.shape[1], data.shape[1] * 2, False,
                       data.tobytes())


def test_16uc1_millimetres_with_zero_as_missing_and_row_padding():
    rows = np.array([[0, 1000, 2000], [65535, 1500, 0]], dtype='<u2')
    padded = np.zeros((2, 4), dtype='<u2')  # step 8 bytes: 2 bytes of padding per row
    padded[:, :3] = rows
    depth = depth_image('16UC1', 2, 3, 8, False, padded.tobytes())
    values, total = depth.valid_metres(0, 0, 3, 2)
    assert total == 6
    np.testing.assert_array_equal(values, [1.0, 2.0, 65.535, 1.5])
    assert (depth.width, depth.height) == (3, 2)


def test_big_endian_16uc1_and_the_view_is_no_copy():
    data = bytearray(np.array([[2500, 0]], dtype='>u2').tobytes())
    depth = depth_image('16uc1', 1, 2, 4, True, data)
    np.testing.assert_array_equal(depth.valid_metres(0, 0, 2, 1)[0], [2.5])
    assert np.shares_memory(depth.values, np.frombuffer(data, np.uint8))


def test_32fc1_metres_with_nan_inf_zero_and_negative_as_missing():
    row = np.array([[1.25, math.nan, math.inf, -math.inf, 0.0, -1.0, 3.5]], dtype='<f4')
    depth = depth_image('32FC1', 1, 7, 28, False, row.tobytes())
    values, total = depth.valid_metres(0, 0, 7, 1)
    assert total == 7
    np.testing.assert_array_equal(values, [1.25, 3.5])


@pytest.mark.parametrize('fields, reason', [
    (('rgb8', 2, 2, 6, 12), "encoding 'rgb8'"),
    (('mono16', 2, 2, 4, 8), "encoding 'mono16'"),
    (('16UC1', 2, 2, 3, 6), 'step 3 is shorter than a row of 2 16UC1 pixels (4 bytes)'),
    (('32FC1', 2, 2, 8, 15), 'data has 15 bytes but height * step = 2 * 8 = 16 bytes'),
    (('16UC1', 0, 0, 0, 0), 'no pixels'),
    (('16UC1', 100_000, 100_000, 200_000, 16), 'megapixels'),
])
def test_bad_depth_fields_are_refused_with_the_reason(fields, reason):
    with pytest.raises(ImageDecodeError) as error:
        check_depth_fields(*fields)
    assert reason in str(error.value)


def test_zero_or_nan_intrinsics_are_refused():
    with pytest.raises(DepthUnavailable, match='not calibrated'):
        Intrinsics.from_camera_info([0.0] * 9, 640, 480)
    with pytest.raises(DepthUnavailable, match='not calibrated'):
        Intrinsics.from_camera_info((500, 0, math.nan, 0, 500, 240, 0, 0, 1))
    with pytest.raises(DepthUnavailable, match='9'):
        Intrinsics.from_camera_info((500, 0, 320))


def test_binning_and_roi_follow_rep_104():
    # ROI (x 100, y 40, 400 x 300) of the full image, then 2x2 binning.
    camera = Intrinsics.from_camera_info(K, 640, 480, 2, 2, (100, 40, 400, 300))
    assert camera == Intrinsics(250.0, 200.0, 109.75, 99.75, 200, 150)


def test_inner_region_is_the_central_half_in_whole_pixels():
    # Centre (30, 30); inner box [20, 40) x [25, 35): pixels whose centres lie inside.
    assert inner_region((10, 20, 40, 20), 0.5, 640, 480) == (20, 25, 40, 35)
    # A one-pixel box keeps the pixel under its centre.
    assert inner_region((5, 5, 1, 1), 0.5, 640, 480) == (5, 5, 6, 6)
    # Clipped at the border; nothing left outside the image.
    assert inner_region((-30, -30, 40, 40), 1.0, 640, 480) == (0, 0, 10, 10)
    assert inner_region((700, 10, 20, 20), 0.5, 640, 480) is None


def test_median_and_spread_ignore_outliers_and_too_few_pixels_are_refused():
    median, spread, share = robust_depth(np.array([1.0, 2.0, 3.0, 4.0, 100.0]), 10, 0.5)
    # numpy's linear percentiles: p10 at position 0.4 -> 1.4, p90 at 3.6 -> 4 + 0.6 * 96.
    assert (median, share) == (3.0, 0.5)
    assert spread == pytest.approx(61.6 - 1.4)
    with pytest.raises(DepthUnavailable, match=r'only 2 of 10 pixels \(20%\) .* 25% required'):
        robust_depth(np.array([1.0, 2.0]), 10, 0.25)
    with pytest.raises(DepthUnavailable, match='only 0 of 4'):
        robust_depth(np.array([]), 4, 0.25)


def test_box_back_projected_at_its_median_depth():
    depth = millimetres(np.full((480, 640), 2000))
    # Centre edge coordinates (420, 120) = index (419.5, 119.5):
    # x = (419.5 - 319.5) * 2 / 500 = 0.4, y = (119.5 - 239.5) * 2 / 400 = -0.6.
    position = locate_target((400, 100, 40, 40), (640, 480), depth, CAMERA)
    assert position.x == pytest.approx(0.4) and position.y == pytest.approx(-0.6)
    assert position.z == 2.0
    # Extent at 2 m: 40 px * 2 / 500 = 0.16 m wide, 40 * 2 / 400 = 0.2 m high; flat: no spread.
    assert position.size_x == pytest.approx(0.16) and position.size_y == pytest.approx(0.2)
    assert (position.size_z, position.valid_share) == (0.0, 1.0)
    centre = locate_target((300, 200, 40, 80), (640, 480), depth, CAMERA)
    assert (centre.x, centre.y) == (0.0, 0.0)


def test_background_and_holes_in_the_inner_region_do_not_move_the_median():
    values = np.full((480, 640), 5000)       # a wall at 5 m
    values[100:140, 400:440] = 2000         # the target
    values[110:130, 410:414] = 0            # a hole (4 of its 20 inner columns)
    values[110:130, 426:430] = 4000         # and 4 columns of something behind it
    position = locate_target((396, 96, 48, 48), (640, 480), millimetres(values), CAMERA,
                             DepthSettings(region=0.5, min_valid=0.5))
    # Inner region 24 x 24 px = 576 pixels, 80 of them holes: 496 / 576 measured.
    assert position.z == 2.0
    assert position.valid_share == pytest.approx(496 / 576)


def test_sparse_depth_is_refused_with_the_share():
    values = np.zeros((480, 640))
    values[110:113, 410:430] = 2000  # 3 of the 20 inner rows measured
    with pytest.raises(DepthUnavailable, match=r'only 60 of 400 pixels \(15%\)'):
        locate_target((400, 100, 40, 40), (640, 480), millimetres(values), CAMERA)


def test_a_smaller_depth_image_of_the_same_view_is_scaled():
    values = np.full((240, 320), 3000)
    values[50:70, 200:220] = 1500  # the colour box (400, 100, 40, 40) at half resolution
    position = locate_target((400, 100, 40, 40), (640, 480), millimetres(values), CAMERA)
    assert position.z == 1.5
    assert position.x == pytest.approx((419.5 - 319.5) * 1.5 / 500)


def test_intrinsics_of_another_resolution_are_mapped_to_their_grid():
    # The same camera calibrated at 1280x960: fx 1000, principal point index (639.5, 479.5).
    fine = Intrinsics.from_camera_info((1000, 0, 639.5, 0, 800, 479.5, 0, 0, 1), 1280, 960)
    depth = millimetres(np.full((480, 640), 2000))
    position = locate_target((400, 100, 40, 40), (640, 480), depth, fine)
    assert position.x == pytest.approx(0.4) and position.y == pytest.approx(-0.6)
    assert position.size_x == pytest.approx(0.16)


def test_another_aspect_ratio_is_refused():
    depth = millimetres(np.full((480, 848), 2000))
    with pytest.raises(DepthUnavailable, match='848x480 .* another aspect ratio'):
        locate_target((400, 100, 40, 40), (640, 480), depth, CAMERA)
    wide = Intrinsics.from_camera_info(K, 848, 480)
    with pytest.raises(DepthUnavailable, match='camera_info image size is 848x480'):
        locate_target((400, 100, 40, 40), (640, 480), millimetres(np.full((480, 640), 1)), wide)


def test_boxes_outside_the_image_or_empty_are_refused():
    depth = millimetres(np.full((480, 640), 2000))
    with pytest.raises(DepthUnavailable, match='outside'):
        locate_target((700, 100, 40, 40), (640, 480), depth, CAMERA)
    with pytest.raises(DepthUnavailable, match='empty or not finite'):
        locate_target((10, 10, 0, 40), (640, 480), depth, CAMERA)
    with pytest.raises(ValueError, match='min_valid'):
        DepthSettings(min_valid=0.0)


def test_random_fields_are_refused_or_read_never_anything_else():
    rng = np.random.default_rng(0)
    read = 0
    for _ in range(500):
        encoding = str(rng.choice(['16UC1', '32FC1', '16uc1', 'mono16', 'rgb8', '', '32FC']))
        height, width = (int(v) for v in rng.integers(-2, 6, 2))
        step = int(rng.integers(-1, 30))
        size = height * step if rng.random() < 0.5 else int(rng.integers(0, 80))
        data = bytes(max(0, size))
        try:
            depth = depth_image(encoding, height, width, step, bool(rng.integers(2)), data)
        except ImageDecodeError:
            continue
        values, total = depth.valid_metres(0, 0, width, height)
        assert total == width * height and values.size == 0  # zero bytes: all missing
        read += 1
    assert read > 10
