# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""LiteTrack network in plain PyTorch (no ROS, no OpenCV)."""

from litetrack_ros.model.torch_floor import check_installed_torch

check_installed_torch()  # a clear TorchTooOldError before anything calls the network

from litetrack_ros.model.config import (  # noqa: E402 - after the torch check
    KNOWN_VARIANTS,
    ModelConfig,
    SMALL_VARIANTS,
    variant_name,
    VARIANTS,
)
from litetrack_ros.model.head import decode_boxes, hann_window, HeadOutput  # noqa: E402
from litetrack_ros.model.litetrack import (  # noqa: E402
    enable_flush_denormal,
    LiteTrack,
    TemplateState,
)

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
