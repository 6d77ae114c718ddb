# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""LiteTrack network in plain PyTorch (no ROS, no OpenCV)."""

from litetrack_ros.model.config import (
    KNOWN_VARIANTS,
    SMALL_VARIANTS,
    VARIANTS,
    ModelConfig,
    variant_name,
)
from litetrack_ros.model.head import HeadOutput, decode_boxes, hann_window
from litetrack_ros.model.litetrack import LiteTrack, TemplateState, enable_flush_denormal

__all__ = [
    'LiteTrack',
    'ModelConfig',
    'KNOWN_VARIANTS',
    'SMALL_VARIANTS',
    'VARIANTS',
    'TemplateState',
    'HeadOutput',
    'decode_boxes',
    'enable_flush_denormal',
    'hann_window',
    'variant_name',
]
