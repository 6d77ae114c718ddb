# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""LightTrack through the runtime, litetrack-eval's tracker factory and litetrack-bench."""

import json
from pathlib import Path

from litetrack_ros.cli import bench
from litetrack_ros.evaluation.baselines import create_tracker, TrackerSetupError
from litetrack_ros.model.checkpoint import save_safetensors
from litetrack_ros.model.lighttrack import LightTrack
from litetrack_ros.model.litetrack import enable_flush_denormal
from litetrack_ros.tracking.procedures import OSTrackProcedure, SiamFCProcedure
from litetrack_ros.tracking.runtime import build_tracker, WeightsError
import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True, scope='module')
def _flush_denormals():
    enable_flush_denormal()


@pytest.fixture(scope='module')
def weights(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('lighttrack') / 'lighttrack_m.safetensors'
    save_safetensors(LightTrack().eval(), path)
    return path


def frame() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)


def test_build_tracker_picks_lighttrack_from_the_checkpoint(weights):
    tracker, info = build_tracker(weights, device='cpu')
    assert (info.variant, info.network, info.parameters) == ('LightTrack-M', 'LightTrack-M',
                                                             1_969_397)
    assert info.search_size == 256 and not info.untrained
    assert isinstance(tracker.procedure, SiamFCProcedure)
    assert tracker.size_update_rate == 0.765
    # The tracker runs the fused copy: only the neck's two BatchNorms are left.
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in tracker.net.modules()) == 2
    tracker.initialize(frame(), (100, 80, 40, 30))
    result = tracker.track(frame())
    assert 0 < result.confidence < 1 and len(result.box_xywh) == 4
    with pytest.raises(WeightsError, match='holds a LightTrack-M network, not the requested B6'):
        build_tracker(weights, device='cpu', variant='B6')
    assert build_tracker(weights, device='cpu', variant='LightTrack-M')[1].variant == \
        'LightTrack-M'


def test_untrained_lighttrack_and_search_size(weights):
    tracker, info = build_tracker(None, device='cpu', variant='LightTrack-M',
                                  allow_untrained=True, search_size=288)
    assert info.untrained and info.variant == 'LightTrack-M' and info.search_size == 288
    assert tracker.search_size == 288 and tracker.net.config.search_size == 288
    _, litetrack = build_tracker(None, device='cpu', allow_untrained=True)
    assert litetrack.network == 'LiteTrack-B6'
    with pytest.raises(ValueError, match='LightTrack-M'):
        build_tracker(None, device='cpu', variant='LightTrack-X', allow_untrained=True)


def test_tracking_settings_can_be_overridden_without_retraining(weights):
    tracker, _ = build_tracker(weights, device='cpu', size_update_rate=0.5,
                               tracking={'window_influence': 0.2, 'scale_penalty_k': 0.01})
    settings = tracker.procedure.settings
    assert (settings.window_influence, settings.scale_penalty_k, settings.size_update_rate,
            settings.score_weighted) == (0.2, 0.01, 0.5, True)
    with pytest.raises(ValueError, match='depth: not a tracking setting'):
        build_tracker(weights, device='cpu', tracking={'depth': 3})
    with pytest.raises(ValueError, match='window_influence'):
        build_tracker(weights, device='cpu', tracking={'window_influence': 2.0})
    litetrack, _ = build_tracker(None, device='cpu', allow_untrained=True, variant='S4',
                                 tracking={'window_influence': 0.4,
                                           'score_weighted_size_update': True})
    assert isinstance(litetrack.procedure, OSTrackProcedure)
    assert litetrack.procedure.settings.window_influence == 0.4
    assert litetrack.procedure.settings.score_weighted


def test_eval_factory_takes_the_family_from_the_file_and_parses_settings(weights):
    plain = create_tracker('litetrack', weights=str(weights), device='cpu')
    assert plain.name == 'lighttrack' and plain.info.variant == 'LightTrack-M'
    tuned = create_tracker('litetrack', weights=str(weights), device='cpu',
                           window_influence='none', scale_penalty_k='0.05',
                           score_weighted_size_update='0')
    assert tuned.name == 'lighttrack-wNone-k0.05-sw0'
    settings = tuned._tracker.procedure.settings
    assert (settings.window_influence, settings.scale_penalty_k, settings.score_weighted) == (
        None, 0.05, False)
    tuned.init(frame()[:, :, ::-1], (100, 80, 40, 30))
    assert len(tuned.update(frame()[:, :, ::-1])) == 4
    for option, value, message in [('score_weighted_size_update', 'yes', '0/1/true/false'),
                                   ('scale_penalty_k', 'big', 'must be a number'),
                                   ('window_influence', '3', 'window_influence')]:
        with pytest.raises(TrackerSetupError, match=message):
            create_tracker('litetrack', weights=str(weights), device='cpu', **{option: value})


def test_bench_times_lighttrack_against_the_official_forward(weights, tmp_path, capsys):
    report_path = tmp_path / 'bench.json'
    assert bench.main(['--quick', '--weights', str(weights), '--json', str(report_path)]) == 0
    out = capsys.readouterr().out
    assert 'official per-frame forward' in out and 'uncached forward_baseline' not in out
    report = json.loads(report_path.read_text())
    assert report['baseline'] == bench.LIGHTTRACK_BASELINE_NOTE
    # fp32, plus bf16 where the CPU multiplies bf16 natively.
    result = next(r for r in report['results'] if r['precision'] == 'fp32')
    assert result['variant'] == 'LightTrack-M' and result['parameters'] == 1_969_397
    assert result['max_abs_diff'] <= bench.TOLERANCE
    for step in ('search', 'track'):
        assert result[step]['baseline']['median_ms'] > 0 and result[step]['speedup'] > 0


def test_bench_refuses_a_lighttrack_that_disagrees_with_the_official_forward(
        weights, monkeypatch, capsys):
    original = LightTrack.track_search

    def track_search(self, state, search):
        out = original(self, state, search)
        return out._replace(ltrb=out.ltrb + 1.0)  # 1 px off everywhere

    monkeypatch.setattr(LightTrack, 'track_search', track_search)
    assert bench.main(['--quick', '--weights', str(weights)]) == bench.EXIT_MISMATCH
    assert 'official outputs differ' in capsys.readouterr().err


def test_litetrack_training_tools_refuse_a_lighttrack_checkpoint(weights, tmp_path, capsys):
    from litetrack_ros.train import prune
    from litetrack_ros.train.trainer import build_model, MODEL_VARIANTS
    with pytest.raises(ValueError, match='holds a lighttrack network'):
        build_model(MODEL_VARIANTS['S4'], weights)
    assert prune.main([str(weights), str(tmp_path / 'out.safetensors'), '--keep', '0,1']) == 2
    assert 'only LiteTrack layers can be pruned' in capsys.readouterr().err
