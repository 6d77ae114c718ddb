# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Depth images (``sensor_msgs/Image`` fields) as metres, without copying the frame.

Two encodings, as RGB-D drivers publish them (REP 118): ``16UC1`` in
millimetres and ``32FC1`` in metres. Zero, NaN, +-inf and negative values
are *missing* (no depth measured there). ``check_depth_fields`` looks at the
fields only (for the subscription callback); ``depth_image`` wraps the
message's bytes in a zero-copy view, and only the pixels of the region asked
for are ever converted (``DepthImage.valid_metres``).

Example::

    depth = depth_message(message)                # DepthImage, no copy
    values, total = depth.valid_metres(100, 80, 140, 120)  # x0, y0, x1, y1
"""

from typing import Any, NamedTuple

from litetrack_ros.images.image_codec import (
    _as_byte_array,
    _check_data_size,
    _check_size,
    ImageData,
    ImageDecodeError,
    MAX_PIXELS,
)
import numpy as np

# Encoding (lower case) -> (numpy type code, metres per unit).
DEPTH_FORMATS = {'16uc1': ('u2', 0.001), '32fc1': ('f4', 1.0)}
DEPTH_ENCODINGS = ('16UC1', '32FC1')


class DepthImage(NamedTuple):
    """A depth image: an ``H x W`` view of the message's data and its unit."""

    values: np.ndarray  # uint16 (mm) or float32 (m), in the message's byte order
    metres_per_unit: float

    @property
    def height(self) -> int:
        """Rows."""
        return int(self.values.shape[0])

    @property
    def width(self) -> int:
        """Columns."""
        return int(self.values.shape[1])

    def valid_metres(self, x0: int, y0: int, x1: int, y1: int) -> tuple[np.ndarray, int]:
        """Return the measured depths (metres, float64, 1-D) of columns x0:x1, rows y0:y1.

        Also returns how many pixels the region has, so that the caller knows
        which share of it was measured. Missing pixels are left out.
        """
        region = self.values[y0:y1, x0:x1]
        if region.dtype.kind == 'u':
            valid = region[region > 0]
        else:
            valid = region[np.isfinite(region) & (region > 0)]
        return valid.astype(np.float64) * self.metres_per_unit, int(region.size)


def _depth_format(encoding: str) -> tuple[str, float]:
    found = DEPTH_FORMATS.get(encoding.strip().lower())
    if found is None:
        raise ImageDecodeError(f'depth image has encoding {encoding!r}; a depth image must '
                               f'be {" or ".join(DEPTH_ENCODINGS)} (millimetres or metres)')
    return found


def check_depth_fields(encoding: str, height: int, width: int, step: int, size: int,
                       max_pixels: int = MAX_PIXELS) -> None:
    """Raise ImageDecodeError unless the fields describe a complete depth image.

    ``size`` is the length of the data. Nothing is read or copied.
    """
    type_code, _ = _depth_format(encoding)
    _check_size(height, width, max_pixels)
    row_bytes = width * np.dtype(type_code).itemsize
    if step < row_bytes:
        raise ImageDecodeError(f'depth image step {step} is shorter than a row of {width} '
                               f'{encoding} pixels ({row_bytes} bytes)')
    _check_data_size(size, height, step, np.dtype(type_code).itemsize, max_pixels)


def depth_image(encoding: str, height: int, width: int, step: int, is_bigendian: bool,
                data: ImageData, max_pixels: int = MAX_PIXELS) -> DepthImage:
    """Wrap a depth image's bytes (checked as ``check_depth_fields``) without copying."""
    buffer = _as_byte_array(data)
    check_depth_fields(encoding, height, width, step, int(buffer.size), max_pixels)
    type_code, metres_per_unit = _depth_format(encoding)
    dtype = np.dtype(('>' if is_bigendian else '<') + type_code)
    rows = buffer.reshape(height, step)[:, :width * dtype.itemsize]
    return DepthImage(rows.view(dtype), metres_per_unit)


def check_depth_message(message: Any, max_pixels: int = MAX_PIXELS) -> None:
    """``check_depth_fields`` on a sensor_msgs/Image, read by its fields."""
    check_depth_fields(str(message.encoding), int(message.height), int(message.width),
                       int(message.step), len(message.data), max_pixels)


def depth_message(message: Any, max_pixels: int = MAX_PIXELS) -> DepthImage:
    """``depth_image`` on a sensor_msgs/Image, read by its fields."""
    return depth_image(str(message.encoding), int(message.height), int(message.width),
                       int(message.step), bool(message.is_bigendian), message.data,
                       max_pixels)
