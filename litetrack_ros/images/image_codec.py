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
                 data: ImageData, *, value_range: tuple[float, float] | None = None,
                 max_pixels: int = MAX_PIXELS) -> np.ndarray:
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
    _check_size(height, width, max_pixels)
    bytes_per_pixel = pixel_format.channels * np.dtype(pixel_format.dtype).itemsize
    row_bytes = width * bytes_per_pixel
    if step < row_bytes:
        raise ImageDecodeError(
            f'step {step} is shorter than a row of {width} {encoding} pixels '
            f'({row_bytes} bytes)')
    buffer = _as_byte_array(data)
    _check_data_size(buffer.size, height, step, bytes_per_pixel, max_pixels)

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


def decode_compressed(format: str, data: ImageData, *,  # noqa: A002 - the message field
                      max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Return a ``sensor_msgs/CompressedImage`` (JPEG or PNG) as ``H x W x 3`` RGB.

    ``format`` is the message's field (``'jpeg'``, ``'png'``, or
    image_transport's ``'bgr8; jpeg compressed bgr8'``). The codec is found
    from the data itself (its signature); the format is only used to refuse
    ``compressedDepth``, whose payload carries an extra header. 16-bit PNGs
    are stretched to 0..255 like ``mono16`` in ``decode_image``.

    The image size is read from the JPEG/PNG header and checked against
    ``max_pixels`` *before* the decoder allocates anything, since a header
    can claim any size; other codecs (BMP, TIFF, WebP, ...) are refused.
    Every failure, including the decoder's own errors, is an
    ``ImageDecodeError`` naming the problem.
    """
    if 'compresseddepth' in format.lower():
        raise ImageDecodeError(
            f'compressedDepth images are not supported (format {format!r}); '
            'subscribe to the raw depth topic instead')
    buffer = _as_byte_array(data)
    if buffer.size == 0:
        raise ImageDecodeError(f'compressed image ({format!r}) has no data')
    codec, width, height = check_compressed_work(buffer, max_pixels)
    try:
        image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise ImageDecodeError(
            f'{codec} decoder failed on {buffer.size} bytes: {_first_line(error)}') from error
    if image is None:
        raise ImageDecodeError(
            f'cannot decode {buffer.size} bytes of {format!r} compressed image '
            f'({codec} header says {width} x {height}; corrupt or truncated)')
    if image.shape[0] != height or image.shape[1] != width:
        raise ImageDecodeError(f'{codec} decoded to {image.shape[1]} x {image.shape[0]}, '
                               f'but its header says {width} x {height}')
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


_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): they
# carry the image size. 0xC4 (DHT), 0xC8 (JPG) and 0xCC (DAC) are not frames.
_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Steps of the JPEG header walk (segments, fill bytes) before the frame header;
# camera JPEGs have under 20 segments there.
MAX_JPEG_HEADER_SEGMENTS = 256
# Scans of one JPEG (baseline: 1-4, libjpeg's progressive: 10 for colour).
MAX_JPEG_SCANS = 32
# Markers without a length field: TEM, RSTn, SOI, EOI.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xDA)})


def compressed_image_size(data: ImageData) -> tuple[str, int, int]:
    """Read ``(codec, width, height)`` from a JPEG or PNG header without decoding.

    Raises ImageDecodeError for other codecs and for headers that are
    truncated or malformed.
    """
    raw = _as_byte_array(data)
    if raw[:8].tobytes() == _PNG_SIGNATURE:
        # The IHDR chunk must come first: length 13, type, width, height (big endian).
        head = raw[8:24].tobytes()
        if len(head) < 16 or head[4:8] != b'IHDR':
            raise ImageDecodeError('PNG without an IHDR chunk (truncated or corrupt)')
        width, height = int.from_bytes(head[8:12], 'big'), int.from_bytes(head[12:16], 'big')
        return 'PNG', width, height
    if raw[:2].tobytes() == b'\xff\xd8':
        return ('JPEG', *_jpeg_size(raw))
    raise ImageDecodeError(
        f'compressed image is neither JPEG nor PNG (starts with {raw[:8].tobytes()!r}); '
        'only those two are accepted')


def _jpeg_size(raw: np.ndarray) -> tuple[int, int]:
    """Walk the JPEG marker segments up to the first start-of-frame."""
    return _jpeg_frame(raw)[:2]


def _jpeg_frame(raw: np.ndarray) -> tuple[int, int, int]:
    """Return ``(width, height, frame marker)`` from the segments before the frame header.

    At most ``MAX_JPEG_HEADER_SEGMENTS`` steps (segments or fill bytes): the walk is
    O(header), never a Python loop over a payload of fill bytes or tiny segments.
    """
    position, size = 2, raw.size
    for _ in range(MAX_JPEG_HEADER_SEGMENTS):
        if position + 4 > size:
            break
        if raw[position] != 0xFF:
            raise ImageDecodeError(f'JPEG marker expected at byte {position}')
        marker = int(raw[position + 1])
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        length = (int(raw[position + 2]) << 8) | int(raw[position + 3])
        if length < 2:
            raise ImageDecodeError(f'JPEG segment of length {length} at byte {position}')
        if marker in _JPEG_FRAME_MARKERS:
            if position + 9 > size:
                break
            height = (int(raw[position + 5]) << 8) | int(raw[position + 6])
            width = (int(raw[position + 7]) << 8) | int(raw[position + 8])
            return width, height, marker
        if marker == 0xDA:  # start of scan before any frame header
            raise ImageDecodeError('JPEG scan data before its frame header')
        position += 2 + length
    else:
        raise ImageDecodeError(f'JPEG with more than {MAX_JPEG_HEADER_SEGMENTS} segments '
                               'before its frame header (crafted?)')
    raise ImageDecodeError('JPEG without a frame header (truncated or corrupt)')


def check_compressed_work(raw: np.ndarray, max_pixels: int = MAX_PIXELS
                          ) -> tuple[str, int, int]:
    """Check a PNG/JPEG before decoding it: header size within ``max_pixels``, JPEG scans.

    Returns ``(codec, width, height)`` from the header; raises ``ImageDecodeError``.
    The scan count passes over the payload once (vectorised), so it runs where
    decoding runs (the tracking thread, the offline readers), not in a callback.
    """
    codec, width, height = compressed_image_size(raw)
    _check_size(height, width, max_pixels)
    if codec == 'JPEG':
        check_jpeg_work(raw)
    return codec, width, height


def check_jpeg_work(raw: np.ndarray) -> None:
    """Refuse a JPEG whose decoding costs far more than its pixels: too many scans.

    Each scan of a progressive JPEG passes over the whole image again; a few hundred
    KB can hold thousands of scans (seconds to minutes of decoding). Scans start with
    the marker FF DA, which never occurs inside entropy-coded data (FF is stuffed as
    FF 00), so they are counted with one vectorised pass over the bytes.
    """
    scans = int(np.count_nonzero((raw[:-1] == 0xFF) & (raw[1:] == 0xDA)))
    if scans > MAX_JPEG_SCANS:
        raise ImageDecodeError(f'JPEG with {scans} scans (more than {MAX_JPEG_SCANS}): '
                               'refused, its decoding would take too long')


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def decode_message(message: Any, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode a sensor_msgs/Image or CompressedImage message (read by its fields) to RGB.

    Only the fields are used, so this module stays free of ROS imports. Images
    above ``max_pixels`` are refused before anything is allocated. Every
    failure is an ``ImageDecodeError``.
    """
    if hasattr(message, 'format'):  # CompressedImage
        return decode_compressed(str(message.format), message.data, max_pixels=max_pixels)
    return decode_image(str(message.encoding), int(message.height), int(message.width),
                        int(message.step), bool(message.is_bigendian), message.data,
                        max_pixels=max_pixels)


def check_message(message: Any, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """Cheap checks of an Image/CompressedImage before it is kept or decoded.

    Looks only at the fields (and a compressed image's header: O(header), never
    the payload), copies nothing, and raises the ``ImageDecodeError`` that decoding
    would raise for a wrong encoding, size, step or data length; a message that
    passes may still fail to decode (corrupt compressed data). Returns the image's
    ``(height, width)``.
    """
    if hasattr(message, 'format'):  # CompressedImage
        if 'compresseddepth' in str(message.format).lower():
            raise ImageDecodeError(f'compressedDepth images are not supported '
                                   f'(format {str(message.format)[:80]!r})')
        _, width, height = compressed_image_size(message.data)
        _check_size(height, width, max_pixels)
        return height, width
    height, width, step = int(message.height), int(message.width), int(message.step)
    pixel_format = _pixel_format(str(message.encoding))
    _check_size(height, width, max_pixels)
    pixel_bytes = pixel_format.channels * np.dtype(pixel_format.dtype).itemsize
    row_bytes = width * pixel_bytes
    if step < row_bytes:
        raise ImageDecodeError(f'step {step} is shorter than a row of {width} '
                               f'{str(message.encoding)[:40]} pixels ({row_bytes} bytes)')
    _check_data_size(len(message.data), height, step, pixel_bytes, max_pixels)
    return height, width


def _check_data_size(size: int, height: int, step: int, pixel_bytes: int,
                     max_pixels: int) -> None:
    """Refuse data that does not match ``height * step``, or more than the pixels allow.

    A frame's memory is bounded by ``max_pixels`` times its pixel size whatever its
    ``step``: a 1 x 1 image with a step of 100 MB is refused like a 100 MB image.
    """
    limit = min(int(max_pixels), MAX_PIXELS) * pixel_bytes
    if size != height * step:
        raise ImageDecodeError(f'image data has {size} bytes but height * step = '
                               f'{height} * {step} = {height * step} bytes')
    if size > limit:
        raise ImageDecodeError(f'image data of {size} bytes (step {step}) is more than the '
                               f'{limit} bytes that {min(int(max_pixels), MAX_PIXELS)} '
                               'pixels take (padding this large is refused)')


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


def _check_size(height: int, width: int, max_pixels: int = MAX_PIXELS) -> None:
    """Refuse empty and too large images before anything is allocated."""
    if height <= 0 or width <= 0:
        raise ImageDecodeError(f'image has no pixels: {width} x {height} (width x height)')
    limit = min(int(max_pixels), MAX_PIXELS)
    if height * width > limit:
        raise ImageDecodeError(
            f'image of {width} x {height} = {height * width / 1e6:.1f} megapixels is larger '
            f'than the {limit / 1e6:.1f} megapixels accepted (corrupt header?)')


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
