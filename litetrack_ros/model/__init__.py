# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""LiteTrack network in plain PyTorch (no ROS, no OpenCV)."""

from litetrack_ros.model.config import (
    KNOWN_VARIANTS,
    ModelConfig,
    SMALL_VARIANTS,
    variant_name,
    VARIANTS,
)
from litetrack_ros.model.head import decode_boxes, hann_window, HeadOutput
from litetrack_ros.model.litetrack import enable_flush_denormal, LiteTrack, TemplateState
from litetrack_ros.model.torch_floor import check_installed_torch

# A clear TorchTooOldError before anything calls the network (the modules above
# import with torch 1.13 too; the attention would fail at the first frame).
check_installed_torch()

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
