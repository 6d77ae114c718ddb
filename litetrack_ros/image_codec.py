# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Turn raw and compressed ROS image payloads into RGB arrays, and back.

ROS-free on purpose: the functions take the plain fields of a
``sensor_msgs/Image`` (or ``CompressedImage``), so the node passes
``msg.encoding, msg.height, ...`` and tests need no ROS at all.

Every decoder returns an ``H x W x 3`` uint8 RGB image, the tracker's input.
Single-channel images are replicated to three channels; 16-bit and float
images (e.g. depth) are stretched to 0..255 first, see ``decode_image``.
"""

import array
from dataclasses import dataclass
from typing import Any, NamedTuple

import cv2
import numpy as np

# Refuse frames above this many pixels before allocating anything: a corrupt
# or hostile header must not make the node allocate gigabytes.
MAX_PIXELS = 100_000_000


# What an image's bytes may come as: rclpy stores uint8[] fields as array.array.
ImageData = bytes | bytearray | memoryview | array.array | np.ndarray


class ImageDecodeError(ValueError):
    """An image payload that cannot be turned into an RGB image; says why."""


@dataclass(frozen=True)
class _PixelFormat:
    """How one encoding lays out a pixel, and how it becomes RGB."""

    channels: int
    dtype: str  # numpy type code without byte order: 'u1', 'u2', 'f4'
    to_rgb: int | None  # cv2.cvtColor code; None: already RGB or needs stretching


_FORMATS: dict[str, _PixelFormat] = {
    'rgb8': _PixelFormat(3, 'u1', None),
    'bgr8': _PixelFormat(3, 'u1', cv2.COLOR_BGR2RGB),
    '8uc3': _PixelFormat(3, 'u1', cv2.COLOR_BGR2RGB),  # OpenCV's default order is BGR
    'rgba8': _PixelFormat(4, 'u1', cv2.COLOR_RGBA2RGB),
    'bgra8': _PixelFormat(4, 'u1', cv2.COLOR_BGRA2RGB),
    'mono8': _PixelFormat(1, 'u1', cv2.COLOR_GRAY2RGB),
    '8uc1': _PixelFormat(1, 'u1', cv2.COLOR_GRAY2RGB),
    'mono16': _PixelFormat(1, 'u2', None),
    '16uc1': _PixelFormat(1, 'u2', None),
    '32fc1': _PixelFormat(1, 'f4', None),
}

SUPPORTED_ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16',
                       '16UC1', '32FC1', '8UC3', '8UC1')


class EncodedImage(NamedTuple):
    """The fields of a ``sensor_msgs/Image`` that describe the pixels."""

    height: int
    width: int
    step: int
    data: bytes


def decode_image(encoding: str, height: int, width: int, step: int, is_bigendian: bool,
                 data: ImageData, *, value_range: tuple[float, float] | None = None) -> np.ndarray:
    """Return the pixels of a raw ``sensor_msgs/Image`` as ``H x W x 3`` uint8 RGB.

    ``data`` is anything with the buffer protocol (``bytes``, ``memoryview``,
    the ``array.array`` that rclpy stores). An ``rgb8`` image comes back as a
    view of ``data`` without a copy (read-only when ``data`` is ``bytes``);
    every other encoding needs a conversion and returns a new array.

    ``mono16``/``16UC1``/``32FC1`` are stretched linearly so that the
    smallest value becomes 0 and the largest 255; NaN and +-inf (holes in
    depth images) are left out of that range and become 0. Because that range
    changes from frame to frame, pass ``value_range=(low, high)`` (e.g.
    ``(0, 4000)`` mm for a depth camera) to keep the brightness stable while
    tracking; values outside it are clipped.

    Raises ImageDecodeError (a ValueError) naming the problem: an unknown
    encoding, an empty or absurdly large size, a step shorter than a row, or
    a data length that does not match ``height * step``.
    """
    pixel_format = _pixel_format(encoding)
    _check_size(height, width)
    bytes_per_pixel = pixel_format.channels * np.dtype(pixel_format.dtype).itemsize
    row_bytes = width * bytes_per_pixel
    if step < row_bytes:
        raise ImageDecodeError(
            f'step {step} is shorter than a row of {width} {encoding} pixels '
            f'({row_bytes} bytes)')
    buffer = _as_byte_array(data)
    if buffer.size != height * step:
        raise ImageDecodeError(
            f'image data has {buffer.size} bytes but height * step = {height} * {step} = '
            f'{height * step} bytes')

    # Rows may be padded beyond width * bytes_per_pixel: slice the padding off
    # as a strided view, then reinterpret each row's bytes as pixels. The view
    # works on odd steps too (numpy handles unaligned data), so no copy here.
    byte_order = '>' if is_bigendian else '<'
    rows = buffer.reshape(height, step)[:, :row_bytes]
    pixels = rows.view(np.dtype(byte_order + pixel_format.dtype))
    pixels = pixels.reshape(height, width, pixel_format.channels)

    if pixel_format.dtype != 'u1':
        grey = _stretch_to_uint8(pixels[:, :, 0], value_range)
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    if pixel_format.to_rgb is None:
        return pixels
    # cvtColor wants C-contiguous channels; a padded row stride is fine.
    return cv2.cvtColor(pixels if pixel_format.channels > 1 else pixels[:, :, 0],
                        pixel_format.to_rgb)


def decode_compressed(format: str, data: ImageData) -> np.ndarray:
    """Return a ``sensor_msgs/CompressedImage`` (JPEG, PNG, ...) as ``H x W x 3`` RGB.

    ``format`` is the message's field (``'jpeg'``, ``'png'``, or
    image_transport's ``'bgr8; jpeg compressed bgr8'``). The codec is found
    from the data itself; the format is only used to refuse
    ``compressedDepth``, whose payload carries an extra header. 16-bit PNGs
    are stretched to 0..255 like ``mono16`` in ``decode_image``.
    """
    if 'compresseddepth' in format.lower():
        raise ImageDecodeError(
            f'compressedDepth images are not supported (format {format!r}); '
            'subscribe to the raw depth topic instead')
    buffer = _as_byte_array(data)
    if buffer.size == 0:
        raise ImageDecodeError(f'compressed image ({format!r}) has no data')
    image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageDecodeError(
            f'cannot decode {buffer.size} bytes of {format!r} compressed image '
            '(not a JPEG/PNG/... that OpenCV can read, or truncated)')
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.dtype != np.uint8:
        # 16-bit PNG (depth or mono16): scale like the raw 16-bit encodings.
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        image = _stretch_to_uint8(grey, None)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def decode_message(message: Any) -> np.ndarray:
    """Decode a sensor_msgs/Image or CompressedImage message (read by its fields) to RGB.

    Only the fields are used, so this module stays free of ROS imports.
    """
    if hasattr(message, 'format'):  # CompressedImage
        return decode_compressed(message.format, message.data)
    return decode_image(message.encoding, message.height, message.width, message.step,
                        bool(message.is_bigendian), message.data)


def encode_rgb8(image: np.ndarray) -> EncodedImage:
    """Pack an ``H x W x 3`` uint8 RGB image into the fields of an ``rgb8`` Image.

    Returns ``(height, width, step, data)``; ``data`` is a fresh ``bytes`` of
    ``height * step`` bytes without row padding.
    """
    return encode_image(image, 'rgb8')


def encode_image(image: np.ndarray, encoding: str = 'rgb8') -> EncodedImage:
    """Pack an image whose channels are already in ``encoding``'s order.

    ``rgb8``/``bgr8`` take ``H x W x 3`` uint8, ``mono8`` takes ``H x W``
    uint8; nothing is converted, so pass an OpenCV frame as ``bgr8``.
    """
    channels = {'rgb8': 3, 'bgr8': 3, 'mono8': 1}.get(encoding)
    if channels is None:
        raise ValueError(f'cannot encode {encoding!r}; use rgb8, bgr8 or mono8')
    expected_shape = 'H x W x 3' if channels == 3 else 'H x W'
    shape_ok = (image.ndim == 3 and image.shape[2] == 3) if channels == 3 else image.ndim == 2
    if image.dtype != np.uint8 or not shape_ok:
        raise ValueError(f'{encoding} needs a {expected_shape} uint8 array, '
                         f'got {image.dtype} with shape {image.shape}')
    height, width = image.shape[:2]
    _check_size(height, width)
    return EncodedImage(height, width, width * channels, np.ascontiguousarray(image).tobytes())


def _pixel_format(encoding: str) -> _PixelFormat:
    """Look an encoding up, ignoring case ('16UC1' and '16uc1' are the same)."""
    pixel_format = _FORMATS.get(encoding.strip().lower())
    if pixel_format is None:
        raise ImageDecodeError(
            f'unsupported image encoding {encoding!r} '
            f'(supported: {", ".join(SUPPORTED_ENCODINGS)})')
    return pixel_format


def _check_size(height: int, width: int) -> None:
    """Refuse empty and absurdly large images before anything is allocated."""
    if height <= 0 or width <= 0:
        raise ImageDecodeError(f'image has no pixels: {width} x {height} (width x height)')
    if height * width > MAX_PIXELS:
        raise ImageDecodeError(
            f'image of {width} x {height} = {height * width / 1e6:.0f} megapixels is larger '
            f'than the {MAX_PIXELS / 1e6:.0f} megapixels accepted (corrupt header?)')


def _as_byte_array(data: ImageData) -> np.ndarray:
    """View any buffer as flat uint8 without copying."""
    try:
        view = memoryview(data)
    except TypeError as error:
        raise ImageDecodeError(
            f'image data must be bytes-like (bytes, memoryview, array.array), '
            f'not {type(data).__name__}') from error
    if not view.c_contiguous:
        raise ImageDecodeError('image data must be one contiguous buffer')
    return np.frombuffer(view.cast('B'), dtype=np.uint8)


def _stretch_to_uint8(values: np.ndarray,
                      value_range: tuple[float, float] | None) -> np.ndarray:
    """Map values linearly to 0..255; non-finite values become 0."""
    values = values.astype(np.float32)
    finite = np.isfinite(values)
    if value_range is not None:
        low, high = float(value_range[0]), float(value_range[1])
    elif finite.any():
        low, high = float(values[finite].min()), float(values[finite].max())
    else:
        return np.zeros(values.shape, np.uint8)
    if not high > low:
        # A constant image has no contrast to show; black, not a division by 0.
        return np.zeros(values.shape, np.uint8)
    scaled = (values - low) * np.float32(255.0 / (high - low))
    scaled = np.clip(scaled, 0.0, 255.0, out=scaled)
    scaled[~finite] = 0.0
    return np.rint(scaled).astype(np.uint8)
