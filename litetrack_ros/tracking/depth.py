# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Where the tracked box is in space: depth of its inner region, pinhole back-projection.

ROS-free: the node passes plain numbers (a box in colour pixels, the
intrinsics of a ``sensor_msgs/CameraInfo``) and any depth image with
``width``, ``height`` and ``valid_metres(x0, y0, x1, y1)`` (e.g.
``litetrack_ros.images.depth_image.DepthImage``).

Conventions:

* Boxes are ``(x, y, w, h)`` with pixel edges at integers (pixel ``i`` spans
  ``[i, i + 1)``); ``K`` uses pixel-centre indices (pixel ``i`` is at
  ``u = i``), so a box centre ``x + w / 2`` is at index ``x + w / 2 - 0.5``.
* The depth image must be registered to the colour image (aligned depth): the
  same field of view, maybe another resolution. Another size with the same
  aspect ratio is scaled (a box edge at ``x`` in colour is at
  ``x * W_depth / W_colour`` in depth, exact for a resize); another aspect
  ratio cannot be a registered image and is refused.
* ``K`` belongs to the image size the camera_info names (after its ROI and
  binning, REP 104); the box centre is mapped into that grid the same way.
  Lens distortion is ignored (aligned depth images are rectified).
* Depth of the target: the **median** of the measured depths in the box's
  inner region (the central ``region`` share of its width and height), when
  at least ``min_valid`` of that region's pixels are measured. The inner
  region keeps most background out of a loosely fitting box; the median
  ignores what remains (background, holes at edges, flying pixels) as long
  as the target covers more than half of the measured pixels, where a mean
  would move with every outlier and a minimum would follow one noisy pixel.
* Output in the camera's optical frame (x right, y down, z forward): the
  box centre back-projected at that depth; the size is the box's extent at
  that depth (``w * z / fx``, ``h * z / fy``) and, along z, the spread of the
  measured depths (10th to 90th percentile), which is what one view sees of
  the target's depth (a lower bound).
"""

from dataclasses import dataclass
import math
from typing import NamedTuple, Protocol, Sequence

import numpy as np

# Aspect ratios within this relative difference count as the same (rounding of odd sizes).
ASPECT_TOLERANCE = 0.01


class DepthUnavailable(ValueError):
    """No trustworthy depth for this box; the message says why."""


class DepthSource(Protocol):
    """A depth image as ``locate_target`` reads it."""

    width: int
    height: int

    def valid_metres(self, x0: int, y0: int, x1: int, y1: int) -> tuple[np.ndarray, int]:
        """Measured depths of the region (metres, 1-D) and the region's pixel count."""


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics and the image size they belong to."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int   # 0: unknown, taken to be the depth image's
    height: int

    @classmethod
    def from_camera_info(cls, k: Sequence[float], width: int = 0, height: int = 0,
                         binning_x: int = 0, binning_y: int = 0,
                         roi: tuple[int, int, int, int] = (0, 0, 0, 0)) -> 'Intrinsics':
        """Read a CameraInfo's ``k``, size, binning and ROI (x, y, w, h; zeros: full image).

        Raises DepthUnavailable when ``k`` holds no usable focal length or
        principal point (an uncalibrated camera publishes zeros).
        """
        values = [float(v) for v in k]
        if len(values) != 9:
            raise DepthUnavailable(f'camera_info k has {len(values)} values, not 9')
        fx, cx, fy, cy = values[0], values[2], values[4], values[5]
        if not all(math.isfinite(v) for v in (fx, fy, cx, cy)) or fx <= 0 or fy <= 0:
            raise DepthUnavailable(
                f'camera_info has no usable intrinsics (fx={fx:g}, fy={fy:g}, cx={cx:g}, '
                f'cy={cy:g}): the camera is not calibrated')
        x_offset, y_offset, roi_width, roi_height = (int(v) for v in roi)
        if roi_width and roi_height:
            cx, cy, width, height = cx - x_offset, cy - y_offset, roi_width, roi_height
        bx, by = max(1, int(binning_x)), max(1, int(binning_y))
        return cls(fx / bx, fy / by, cx / bx, cy / by, int(width) // bx, int(height) // by)

    def back_project(self, u: float, v: float, z: float) -> tuple[float, float, float]:
        """Return the point at depth ``z`` seen at pixel index ``(u, v)``."""
        return (u - self.cx) * z / self.fx, (v - self.cy) * z / self.fy, z


class TargetPosition(NamedTuple):
    """The target in the camera's optical frame, metres."""

    x: float
    y: float
    z: float
    size_x: float
    size_y: float
    size_z: float
    valid_share: float  # measured share of the inner region


@dataclass(frozen=True)
class DepthSettings:
    """How the depth of a box is read."""

    region: float = 0.5      # inner share of the box's width and height
    min_valid: float = 0.25  # least measured share of that region

    def __post_init__(self) -> None:
        if not 0.0 < self.region <= 1.0:
            raise ValueError(f'region must be in (0, 1], got {self.region}')
        if not 0.0 < self.min_valid <= 1.0:
            raise ValueError(f'min_valid must be in (0, 1], got {self.min_valid}')


def grid_scale(colour_size: tuple[int, int], other_size: tuple[int, int],
               what: str) -> tuple[float, float]:
    """Return the factors from colour pixels to another grid of the same view.

    Sizes are ``(width, height)``. Raises DepthUnavailable when the aspect
    ratios differ (the other image cannot be registered to the colour one).
    """
    (width, height), (other_width, other_height) = colour_size, other_size
    scale_x, scale_y = other_width / width, other_height / height
    if abs(scale_x / scale_y - 1.0) > ASPECT_TOLERANCE:
        raise DepthUnavailable(
            f'{what} is {other_width}x{other_height} but the colour image is '
            f'{width}x{height}: another aspect ratio, so not registered to the colour '
            'image (use the depth image aligned to colour)')
    return scale_x, scale_y


def inner_region(box_xywh: Sequence[float], region: float, width: int,
                 height: int) -> tuple[int, int, int, int] | None:
    """Return the pixels ``(x0, y0, x1, y1)`` of the box's central share, clipped; None if empty.

    Rows/columns are those whose centres lie inside the inner box, at least
    the one under its centre.
    """
    x, y, w, h = (float(v) for v in box_xywh)
    centre_x, centre_y = x + w / 2.0, y + h / 2.0
    half_w, half_h = w * region / 2.0, h * region / 2.0
    x0 = max(0, min(math.ceil(centre_x - half_w - 0.5), math.floor(centre_x)))
    y0 = max(0, min(math.ceil(centre_y - half_h - 0.5), math.floor(centre_y)))
    x1 = min(width, max(math.ceil(centre_x + half_w - 0.5), math.floor(centre_x) + 1))
    y1 = min(height, max(math.ceil(centre_y + half_h - 0.5), math.floor(centre_y) + 1))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def robust_depth(valid: np.ndarray, total: int, min_valid: float) -> tuple[float, float, float]:
    """Return ``(median, spread, share)`` of a region's measured depths.

    ``spread`` is the 90th minus the 10th percentile; ``share`` the measured
    share of the ``total`` pixels. Raises DepthUnavailable below ``min_valid``.
    """
    share = valid.size / total if total else 0.0
    if valid.size == 0 or share < min_valid:
        raise DepthUnavailable(
            f'only {valid.size} of {total} pixels ({share:.0%}) in the box have depth, '
            f'less than the {min_valid:.0%} required')
    p10, median, p90 = np.percentile(valid, (10.0, 50.0, 90.0))
    return float(median), float(p90 - p10), share


def locate_target(box_xywh: Sequence[float], colour_size: tuple[int, int],
                  depth: DepthSource, intrinsics: Intrinsics,
                  settings: DepthSettings = DepthSettings()) -> TargetPosition:
    """Return the target's position and size for a box in colour pixels.

    ``colour_size`` is the colour image's ``(width, height)``. Raises
    DepthUnavailable (naming the reason) for a box outside the image, a depth
    image or intrinsics of another aspect ratio, or too few measured pixels.
    """
    x, y, w, h = (float(v) for v in box_xywh)
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        raise DepthUnavailable(f'box {tuple(box_xywh)} is empty or not finite')
    depth_size = (depth.width, depth.height)
    to_depth = grid_scale(colour_size, depth_size, 'the depth image')
    depth_box = (x * to_depth[0], y * to_depth[1], w * to_depth[0], h * to_depth[1])
    pixels = inner_region(depth_box, settings.region, *depth_size)
    if pixels is None:
        raise DepthUnavailable(f'box {tuple(round(v, 1) for v in box_xywh)} lies outside '
                               'the depth image')
    valid, total = depth.valid_metres(*pixels)
    z, spread, share = robust_depth(valid, total, settings.min_valid)

    k_size = (intrinsics.width or depth.width, intrinsics.height or depth.height)
    to_k = grid_scale(colour_size, k_size, 'the camera_info image size')
    u = (x + w / 2.0) * to_k[0] - 0.5
    v = (y + h / 2.0) * to_k[1] - 0.5
    px, py, pz = intrinsics.back_project(u, v, z)
    return TargetPosition(px, py, pz, w * to_k[0] * z / intrinsics.fx,
                          h * to_k[1] * z / intrinsics.fy, spread, share)
