# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Raw and compressed image payloads decode to the right RGB pixels (no ROS needed)."""

import array
import struct
import tracemalloc
import zlib

import cv2
from litetrack_ros.images.image_codec import (
    compressed_image_size,
    decode_compressed,
    decode_image,
    encode_image,
    encode_rgb8,
    ImageDecodeError,
    MAX_PIXELS,
)
import numpy as np
import pytest

# 2 x 3 RGB image with distinct channels everywhere, so any swap shows.
RGB = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]],
                [[10, 20, 30], [40, 50, 60], [70, 80, 90]]], dtype=np.uint8)
GREY = np.array([[0, 7, 255], [128, 64, 1]], dtype=np.uint8)


def padded_rows(pixels: np.ndarray, pad: int) -> tuple[int, bytes]:
    """Serialise rows with ``pad`` junk bytes after each; return (step, data)."""
    rows = pixels.reshape(pixels.shape[0], -1).view(np.uint8)
    junk = np.full((rows.shape[0], pad), 0xEE, np.uint8)
    return rows.shape[1] + pad, np.hstack([rows, junk]).tobytes()


def decode(encoding: str, pixels: np.ndarray, *, pad: int = 0, bigendian: bool = False,
           **kwargs) -> np.ndarray:
    """Decode ``pixels`` serialised the way a publisher would."""
    if bigendian:
        pixels = pixels.astype(pixels.dtype.newbyteorder('>'))
    step, data = padded_rows(np.ascontiguousarray(pixels), pad)
    return decode_image(encoding, pixels.shape[0], pixels.shape[1], step, bigendian, data,
                        **kwargs)


def grey_as_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[:, :, None], 3, axis=2)


@pytest.mark.parametrize('pad', [0, 5])
def test_rgb8_decodes_unchanged_without_copying(pad):
    step, data = padded_rows(RGB, pad)
    buffer = bytearray(data)
    image = decode_image('rgb8', 2, 3, step, False, buffer)
    assert image.dtype == np.uint8 and image.shape == (2, 3, 3)
    np.testing.assert_array_equal(image, RGB)
    assert np.shares_memory(image, np.frombuffer(buffer, np.uint8))


@pytest.mark.parametrize('encoding', ['bgr8', '8UC3'])
def test_bgr8_swaps_to_rgb(encoding):
    image = decode(encoding, RGB[:, :, ::-1])
    np.testing.assert_array_equal(image, RGB)
    assert tuple(image[0, 0]) == (255, 0, 0)  # a red pixel stays red


@pytest.mark.parametrize('encoding, to_wire', [
    ('rgba8', lambda rgb: rgb),
    ('bgra8', lambda bgr: bgr[:, :, ::-1]),
])
def test_alpha_is_dropped(encoding, to_wire):
    alpha = np.full((2, 3, 1), 99, np.uint8)
    wire = np.concatenate([to_wire(RGB), alpha], axis=2)
    for pad in (0, 3):
        np.testing.assert_array_equal(decode(encoding, wire, pad=pad), RGB)


@pytest.mark.parametrize('encoding', ['mono8', '8UC1'])
def test_mono8_is_replicated_to_three_channels(encoding):
    np.testing.assert_array_equal(decode(encoding, GREY, pad=2), grey_as_rgb(GREY))


@pytest.mark.parametrize('encoding', ['mono16', '16UC1'])
@pytest.mark.parametrize('bigendian', [False, True])
def test_16_bit_is_stretched_from_min_to_max(encoding, bigendian):
    # Range 1000..1255 maps 1:1 onto 0..255, whatever the byte order.
    values = np.array([[1000, 1100, 1255], [1001, 1000, 1200]], dtype=np.uint16)
    # An odd pad makes every row start at an odd address, i.e. unaligned.
    image = decode(encoding, values, pad=3, bigendian=bigendian)
    np.testing.assert_array_equal(image, grey_as_rgb((values - 1000).astype(np.uint8)))


def test_16_bit_byte_order_matters():
    values = np.array([[1, 256]], dtype=np.uint16)  # 0x0001, 0x0100: swapped they invert
    big = values.astype('>u2').tobytes()
    as_big = decode_image('mono16', 1, 2, 4, True, big)
    as_little = decode_image('mono16', 1, 2, 4, False, big)
    assert as_big[0, :, 0].tolist() == [0, 255]
    assert as_little[0, :, 0].tolist() == [255, 0]


@pytest.mark.parametrize('bigendian', [False, True])
def test_32fc1_depth_ignores_nan_and_inf(bigendian):
    depth = np.array([[np.nan, 1.0, 2.0], [np.inf, 6.0, -np.inf]], dtype=np.float32)
    image = decode('32FC1', depth, pad=1, bigendian=bigendian)
    # Finite range 1..6: (v - 1) * 255 / 5; holes become black.
    expected = np.array([[0, 0, 51], [0, 255, 0]], dtype=np.uint8)
    np.testing.assert_array_equal(image, grey_as_rgb(expected))


def test_value_range_keeps_brightness_fixed_and_clips():
    depth = np.array([[500, 1000, 9000]], dtype=np.uint16)
    image = decode('16UC1', depth, value_range=(0, 2000))
    assert image[0, :, 0].tolist() == [64, 128, 255]


@pytest.mark.parametrize('encoding, pixels', [
    ('mono16', np.full((2, 2), 4000, np.uint16)),
    ('32FC1', np.full((2, 2), np.nan, np.float32)),
])
def test_image_without_contrast_is_black(encoding, pixels):
    np.testing.assert_array_equal(decode(encoding, pixels), np.zeros((2, 2, 3), np.uint8))


def test_rclpy_array_and_memoryview_data_are_accepted():
    data = array.array('B', RGB.tobytes())
    np.testing.assert_array_equal(decode_image('rgb8', 2, 3, 9, False, data), RGB)
    np.testing.assert_array_equal(
        decode_image('rgb8', 2, 3, 9, False, memoryview(RGB.tobytes())), RGB)


def test_unknown_encoding_is_named():
    with pytest.raises(ImageDecodeError, match=r"unsupported image encoding 'yuv422'.*rgb8"):
        decode_image('yuv422', 2, 3, 6, False, bytes(12))


@pytest.mark.parametrize('height, width', [(0, 3), (2, 0)])
def test_empty_image_is_refused(height, width):
    with pytest.raises(ImageDecodeError, match='no pixels'):
        decode_image('rgb8', height, width, 9, False, b'')


def test_step_shorter_than_a_row_is_refused():
    with pytest.raises(ImageDecodeError, match=r'step 8 is shorter than a row .* \(9 bytes\)'):
        decode_image('rgb8', 2, 3, 8, False, bytes(16))


def test_wrong_data_length_states_both_sizes():
    with pytest.raises(ImageDecodeError, match=r'17 bytes .* 2 \* 9 = 18 bytes'):
        decode_image('rgb8', 2, 3, 9, False, bytes(17))


def test_absurd_size_is_refused_before_looking_at_the_data():
    with pytest.raises(ImageDecodeError, match='megapixels'):
        decode_image('mono8', 20_000, 20_000, 20_000, False, b'')
    assert 20_000 * 20_000 > MAX_PIXELS


def test_data_that_is_not_bytes_is_refused():
    with pytest.raises(ImageDecodeError, match='bytes-like.*list'):
        decode_image('mono8', 1, 2, 2, False, [1, 2])


def test_compressed_png_and_jpeg_decode_to_rgb():
    bgr = np.ascontiguousarray(RGB[:, :, ::-1])
    ok, png = cv2.imencode('.png', bgr)
    assert ok
    np.testing.assert_array_equal(decode_compressed('png', png.tobytes()), RGB)

    flat_orange = np.zeros((16, 16, 3), np.uint8)
    flat_orange[:] = (0, 128, 255)  # BGR
    ok, jpeg = cv2.imencode('.jpg', flat_orange, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    decoded = decode_compressed('bgr8; jpeg compressed bgr8', jpeg.tobytes())
    assert decoded.shape == (16, 16, 3)
    np.testing.assert_allclose(decoded.reshape(-1, 3).mean(axis=0), (255, 128, 0), atol=3)


def test_compressed_grey_and_16_bit_png_become_three_channel_rgb():
    ok, png = cv2.imencode('.png', GREY)
    assert ok
    np.testing.assert_array_equal(decode_compressed('mono8; png compressed mono8', png),
                                  grey_as_rgb(GREY))
    ok, png16 = cv2.imencode('.png', np.array([[1000, 1255]], dtype=np.uint16))
    assert ok
    assert decode_compressed('png', png16)[0, :, 0].tolist() == [0, 255]


@pytest.mark.parametrize('image_format, data, match', [
    ('jpeg', b'definitely not a jpeg', 'neither JPEG nor PNG'),
    ('jpeg', b'\xff\xd8\xff\xe0\x00\x10JFIF', 'without a frame header'),
    ('png', b'\x89PNG\r\n\x1a\n\x00\x00', 'without an IHDR'),
    ('png', b'', 'no data'),
    ('16UC1; compressedDepth png', b'\x00' * 20, 'compressedDepth'),
])
def test_undecodable_compressed_images_are_refused(image_format, data, match):
    with pytest.raises(ImageDecodeError, match=match):
        decode_compressed(image_format, data)


def test_encode_rgb8_round_trips_and_accepts_views():
    height, width, step, data = encode_rgb8(RGB)
    assert (height, width, step) == (2, 3, 9)
    assert data == RGB.tobytes()
    # A non-contiguous view (every other column, flipped) is packed as shown.
    view = np.tile(RGB, (1, 2, 1))[:, ::-2]
    encoded = encode_rgb8(view)
    np.testing.assert_array_equal(decode_image('rgb8', *encoded[:3], False, encoded.data), view)


def test_encode_bgr8_and_mono8_keep_channel_order():
    bgr = np.ascontiguousarray(RGB[:, :, ::-1])
    encoded = encode_image(bgr, 'bgr8')
    np.testing.assert_array_equal(decode_image('bgr8', *encoded[:3], False, encoded.data), RGB)
    encoded = encode_image(GREY, 'mono8')
    assert encoded[:3] == (2, 3, 3) and encoded.data == GREY.tobytes()


@pytest.mark.parametrize('image, match', [
    (np.zeros((2, 3), np.uint8), r'H x W x 3 uint8 array, got uint8 with shape \(2, 3\)'),
    (np.zeros((2, 3, 3), np.float32), 'got float32'),
    (np.zeros((0, 3, 3), np.uint8), 'no pixels'),
])
def test_encode_rgb8_refuses_other_arrays(image, match):
    with pytest.raises(ValueError, match=match):
        encode_rgb8(image)


def _png_claiming(width: int, height: int) -> bytes:
    """Return a real small PNG whose IHDR was rewritten to claim another size."""
    ok, png = cv2.imencode('.png', np.zeros((8, 8, 3), np.uint8))
    assert ok
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack('>I', 13) + b'IHDR' + ihdr + struct.pack('>I', zlib.crc32(b'IHDR' + ihdr))
    return png.tobytes()[:8] + chunk + png.tobytes()[33:]


def _jpeg(width: int = 64, height: int = 48) -> bytes:
    rng = np.random.default_rng(0)
    ok, jpeg = cv2.imencode('.jpg', rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
    assert ok
    return jpeg.tobytes()


def test_compressed_size_is_read_from_the_header():
    assert compressed_image_size(_jpeg(64, 48)) == ('JPEG', 64, 48)
    assert compressed_image_size(_png_claiming(300, 200)) == ('PNG', 300, 200)


def test_compressed_header_claiming_gigapixels_is_refused_before_decoding():
    tracemalloc.start()
    with pytest.raises(ImageDecodeError, match='megapixels'):
        decode_compressed('png', _png_claiming(60_000, 60_000))
    jpeg = _jpeg().replace(b'\xff\xc0\x00\x11\x08\x00\x30\x00\x40',
                           b'\xff\xc0\x00\x11\x08\xff\xff\xff\xff', 1)
    with pytest.raises(ImageDecodeError, match='65535 x 65535'):
        decode_compressed('jpeg', jpeg)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 10_000_000


def test_compressed_max_pixels_is_the_callers_bound():
    with pytest.raises(ImageDecodeError, match='larger than the 0.0 megapixels'):
        decode_compressed('jpeg', _jpeg(64, 48), max_pixels=64 * 48 - 1)
    assert decode_compressed('jpeg', _jpeg(64, 48), max_pixels=64 * 48).shape == (48, 64, 3)


def test_other_codecs_are_refused():
    ok, bmp = cv2.imencode('.bmp', np.zeros((4, 4, 3), np.uint8))
    assert ok
    with pytest.raises(ImageDecodeError, match='neither JPEG nor PNG'):
        decode_compressed('bmp', bmp.tobytes())


def test_mutated_compressed_images_only_ever_raise_image_decode_errors():
    """Fuzz: corrupt bytes anywhere; the decoder answers with an image or a clear error."""
    rng = np.random.default_rng(1)
    originals = [_jpeg(), _png_claiming(8, 8)[:33] + _jpeg()[33:], cv2.imencode(
        '.png', rng.integers(0, 255, (20, 30), dtype=np.uint8))[1].tobytes()]
    outcomes = {'decoded': 0, 'refused': 0}
    for trial in range(400):
        data = bytearray(originals[trial % len(originals)])
        for _ in range(int(rng.integers(1, 20))):
            data[int(rng.integers(len(data)))] = int(rng.integers(256))
        if trial % 7 == 0:
            data = data[:int(rng.integers(1, len(data)))]
        try:
            image = decode_compressed('jpeg', bytes(data), max_pixels=1_000_000)
        except ImageDecodeError:
            outcomes['refused'] += 1
        else:
            assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
            assert image.shape[0] * image.shape[1] <= 1_000_000
            outcomes['decoded'] += 1
    assert outcomes['refused'] > 0 and outcomes['decoded'] > 0, outcomes
