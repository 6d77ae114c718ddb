# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Start-up errors that name the fix: torch too old, a misspelt variant."""

from litetrack_ros.model.torch_floor import check_torch, TORCH_FLOOR, TorchTooOldError
import pytest


def test_bookworm_torch_is_refused_with_what_to_install():
    with pytest.raises(TorchTooOldError) as caught:
        check_torch('1.13.0', has_attention=False)
    message = str(caught.value)
    assert 'torch 1.13.0 is too old' in message and 'torch >= 2.1' in message
    assert 'scaled_dot_product_attention' in message
    assert 'Jetson' in message and 'CUDA' in message


@pytest.mark.parametrize('version', ['2.1.0', '2.13.0+cpu', '2.5.0a0+872d972e41.nv24.08'])
def test_supported_torch_passes(version):
    check_torch(version, has_attention=True)


def test_torch_without_attention_is_refused_whatever_its_version():
    with pytest.raises(TorchTooOldError, match='scaled_dot_product_attention'):
        check_torch('2.3.0', has_attention=False)


def test_floor_matches_setup_py():
    from pathlib import Path
    setup = (Path(__file__).resolve().parent.parent / 'setup.py').read_text()
    assert f"'torch>={'.'.join(map(str, TORCH_FLOOR))}'" in setup


def test_a_misspelt_variant_lists_the_choices():
    from litetrack_ros.tracking.runtime import build_tracker
    with pytest.raises(ValueError) as caught:
        build_tracker(None, variant='b6', allow_untrained=True, device='cpu')
    message = str(caught.value)
    assert "invalid variant 'b6'" in message
    for choice in ('auto', 'B4', 'B6', 'S4', 'C3', 'LightTrack-M'):
        assert choice in message
