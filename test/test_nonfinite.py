# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Weights that compute NaN: refused when loaded, and a NaN frame never gives a NaN box."""

import math

from litetrack_ros.model import LiteTrack, SMALL_VARIANTS
from litetrack_ros.model.checkpoint import save_safetensors
from litetrack_ros.model.config import LightTrackConfig
from litetrack_ros.model.lighttrack import LightTrack
from litetrack_ros.tracking.runtime import build_tracker, WeightsError
from litetrack_ros.tracking.tracker import Tracker
import numpy as np
import pytest
import torch

CONFIG = SMALL_VARIANTS['C3']


def frame(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (240, 320, 3), np.uint8)


@pytest.mark.parametrize('family', ['litetrack', 'lighttrack'])
def test_weights_computing_nan_are_refused_at_load(tmp_path, family):
    torch.manual_seed(0)
    net = LiteTrack(CONFIG) if family == 'litetrack' else LightTrack(LightTrackConfig())
    with torch.no_grad():  # a diverged run: the last layers compute NaN
        list(net.parameters())[-1].fill_(math.nan)
    path = tmp_path / 'nan.safetensors'
    save_safetensors(net, path)
    with pytest.raises(WeightsError, match='non-finite'):
        build_tracker(path, device='cpu', precision='fp32')


def test_a_frame_with_nan_outputs_is_a_miss_never_a_nan_box():
    torch.manual_seed(0)
    net = LiteTrack(CONFIG).eval()
    tracker = Tracker(net, lost_threshold=1e-6, lost_frames=2)
    tracker.initialize(frame(0), (100, 80, 60, 50))
    good = tracker.track(frame(1))
    assert math.isfinite(good.confidence)
    with torch.no_grad():  # the network breaks after the template was encoded
        for parameter in net.box_head.parameters():
            parameter.fill_(math.nan)
    results = [tracker.track(frame(2 + i)) for i in range(3)]
    for result in results:
        assert all(math.isfinite(v) for v in result.box_xywh)
        assert result.confidence == 0.0
    assert results[0].box_xywh == pytest.approx(good.box_xywh)  # the search stays put
    assert results[-1].lost  # the lost logic follows: nothing is published as tracked
    assert tracker.nonfinite_outputs == 3
