# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The shipped default weights: what they are, and that they track real footage."""

import json
from pathlib import Path
import subprocess
import sys

from litetrack_ros.model.checkpoint import load_model
from litetrack_ros.model.config import variant_name
import pytest
from sequences import SEQUENCES_DIR

REPO_ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = REPO_ROOT / 'weights' / 'litetrack_default_s.safetensors'
MAX_BYTES = 25 * 1024 * 1024


def test_default_weights_are_a_small_member_with_their_tracking_settings():
    assert WEIGHTS.stat().st_size <= MAX_BYTES
    config = load_model(WEIGHTS).config
    assert variant_name(config) == 'S4'
    assert (config.template_factor, config.search_factor) == (2.0, 4.0)
    assert 0 < config.size_update_rate < 1


@pytest.mark.skipif(not SEQUENCES_DIR.is_dir(), reason='../shared/data not available')
def test_default_weights_beat_opencv_mil_on_both_sequences(tmp_path):
    # The bar the weights were published with (weights/MODEL_CARD.md). A fresh
    # process, as MIL keeps random state inside OpenCV between trackers.
    out = tmp_path / 'eval'
    completed = subprocess.run(
        [sys.executable, '-m', 'litetrack_ros.evaluation.cli', str(SEQUENCES_DIR),
         '--tracker', f'litetrack:weights={WEIGHTS},device=cpu,precision=fp32,name=default',
         '--tracker', 'mil', '--out', str(out), '--no-progress'],
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    trackers = json.loads((out / 'results.json').read_text())['trackers']
    for sequence in ('bag', 'crossing'):
        ours = trackers['default']['sequences'][sequence]['auc']
        mil = trackers['mil']['sequences'][sequence]['auc']
        assert ours > mil, f'{sequence}: default weights AUC {ours:.3f} vs MIL {mil:.3f}'
