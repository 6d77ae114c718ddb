# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of ``litetrack-bench`` on narrow networks (the figures themselves are not checked)."""

import json
import math

from litetrack_ros.cli import bench
from litetrack_ros.model import LiteTrack, ModelConfig
from litetrack_ros.model.checkpoint import save_safetensors
from litetrack_ros.model.compiled import CompileResult
from litetrack_ros.tracking.cpu_features import cpu_features
from litetrack_ros.tracking.tracker import Tracker
import pytest
import torch

# Tiny stand-ins: the bench does not depend on the width or the depth of the network.
NARROW = {'embed_dim': 32, 'num_heads': 2, 'head_channels': 16, 'template_size': 64,
          'search_size': 128}
NARROW_VARIANTS = {
    'B4': ModelConfig(depth=2, num_interaction=1, **NARROW),
    'B6': ModelConfig(depth=3, num_interaction=2, **NARROW),
}
QUICK = ['--quick', '--search-size', '128']


@pytest.fixture
def narrow_variants(monkeypatch):
    """Make --variants pick narrow stand-ins for B4/B6, so a run takes about a second."""
    monkeypatch.setattr(bench, 'VARIANTS', NARROW_VARIANTS)


def read_report(path):
    return json.loads(path.read_text())


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(['--help'])
    assert exit_info.value.code == 0
    usage = capsys.readouterr().out
    for option in ('--variants', '--weights', '--device', '--precision', '--search-size',
                   '--frames', '--warmup', '--threads', '--json', '--quick', '--compile'):
        assert option in usage


def test_quick_run_reports_every_variant_and_precision(narrow_variants, tmp_path, capsys):
    report_path = tmp_path / 'bench.json'
    status = bench.main(QUICK + ['--variants', 'B4,B6', '--device', 'cpu',
                                 '--precision', 'fp32,bf16', '--json', str(report_path)])
    assert status == 0
    report = read_report(report_path)
    measured = {(r['variant'], r['device'], r['precision']) for r in report['results']}
    assert measured == {(v, 'cpu', p) for v in ('B4', 'B6') for p in ('fp32', 'bf16')}
    assert report['random_weights'] is True and report['weights'] is None
    assert report['search_size'] == 128
    for result in report['results']:
        assert result['parameters'] == sum(
            p.numel() for p in LiteTrack(NARROW_VARIANTS[result['variant']]).parameters())
        assert result['mode'] == 'eager' and result['compile_seconds'] is None
        for step in ('template', 'initialize', 'search', 'track'):
            candidate, baseline = result[step]['candidate'], result[step]['baseline']
            for timing in (candidate, baseline):
                assert 0 < timing['median_ms'] <= timing['p90_ms']
                assert timing['fps'] == pytest.approx(1e3 / timing['median_ms'])
                assert timing['samples'] == 3
            assert result[step]['speedup'] == pytest.approx(
                baseline['median_ms'] / candidate['median_ms'])
        tolerance = bench.TOLERANCE if result['precision'] == 'fp32' else 0.05
        assert 0 <= result['max_abs_diff'] <= tolerance
    features = report['machine']['cpu_features']
    assert features == cpu_features().to_dict()
    assert report['machine']['load_average_start'] is not None

    out = capsys.readouterr().out
    assert 'random weights (timing only)' in out
    assert 'torch ' + torch.__version__ in out and 'threads' in out
    assert f'torch CPU capability {features["torch_capability"]}' in out
    assert 'native bf16 matmul: ' + ('yes' if features['native_bf16'] else 'no') in out
    assert 'upstream-equivalent per-frame forward' in out and 'load average' in out
    table = [line for line in out.splitlines() if line.startswith('|')]
    # Header, rule, and four steps per variant and precision, all the same width.
    assert len(table) == 2 + 4 * 4
    assert len({len(line) for line in table}) == 1
    assert any('| search ' in line and 'x |' in line for line in table)


def test_default_precisions_follow_the_device(monkeypatch):
    assert bench.precisions_for('cuda', None) == ['fp32', 'fp16']
    assert bench.precisions_for('cpu', ['bf16']) == ['bf16']
    expected = ['fp32', 'bf16'] if cpu_features().native_bf16 else ['fp32']
    assert bench.precisions_for('cpu', None) == expected


@pytest.mark.parametrize('compiles', [True, False])
def test_compile_adds_a_compiled_row_or_says_why_not(monkeypatch, tmp_path, capsys, compiles):
    # The real compilation is tested in test_compiled.py; here only the bench's handling.
    def fake_compile(net):
        if compiles:
            return CompileResult(net, True, 1.5, 'compiled (fake)')
        return CompileResult(net, False, 0.1, 'torch.compile failed (fake), running eager')

    monkeypatch.setattr(bench, 'compile_litetrack', fake_compile)
    report_path = tmp_path / 'bench.json'
    status = bench.main(QUICK + ['--config-json', json.dumps(NARROW), '--precision', 'fp32',
                                 '--compile', '--json', str(report_path)])
    assert status == 0
    results = read_report(report_path)['results']
    captured = capsys.readouterr()
    if compiles:
        assert [(r['mode'], r['compile_seconds']) for r in results] == [
            ('eager', None), ('compiled', 1.5)]
        assert 'compile + warm-up (both steps): custom fp32 1.5 s' in captured.out
    else:
        assert [r['mode'] for r in results] == ['eager']
        assert 'torch.compile failed (fake)' in captured.err


def test_a_checkpoint_is_timed_instead_of_random_weights(tmp_path, capsys):
    torch.manual_seed(1)
    weights = tmp_path / 'narrow.safetensors'
    save_safetensors(LiteTrack(NARROW_VARIANTS['B4']), weights)
    report_path = tmp_path / 'bench.json'
    status = bench.main(['--quick', '--weights', str(weights), '--precision', 'fp32',
                         '--json', str(report_path)])
    assert status == 0
    report = read_report(report_path)
    assert report['random_weights'] is False and report['weights'] == str(weights)
    assert [r['config'] for r in report['results']] == [NARROW_VARIANTS['B4'].to_dict()]
    assert 'random weights' not in capsys.readouterr().out


def perturb_cached_scores(monkeypatch, delta):
    """Make the cached search path differ from the baseline by ``delta`` in the score map."""
    original = LiteTrack.track_search

    def track_search(self, state, search):
        out = original(self, state, search)
        return out._replace(score_map=out.score_map + delta)

    monkeypatch.setattr(LiteTrack, 'track_search', track_search)


@pytest.mark.parametrize('delta', [1e-3, math.nan])
def test_a_cache_that_disagrees_with_the_baseline_aborts_before_timing(
        monkeypatch, tmp_path, capsys, delta):
    perturb_cached_scores(monkeypatch, delta)
    timed_runs = []
    monkeypatch.setattr(bench, 'run_interleaved', lambda *args: timed_runs.append(args))
    report_path = tmp_path / 'bench.json'
    status = bench.main(QUICK + ['--config-json', json.dumps(NARROW), '--json',
                                 str(report_path)])
    assert status == bench.EXIT_MISMATCH
    assert 'FAILED' in capsys.readouterr().err
    assert not timed_runs and not report_path.exists()


def test_a_difference_within_tolerance_is_accepted(monkeypatch, tmp_path):
    perturb_cached_scores(monkeypatch, bench.TOLERANCE / 10)
    status = bench.main(QUICK + ['--frames', '1', '--warmup', '0',
                                 '--config-json', json.dumps(NARROW)])
    assert status == 0


def test_the_baseline_tracker_computes_what_the_cached_tracker_computes():
    torch.manual_seed(0)
    net = LiteTrack(NARROW_VARIANTS['B4']).eval()
    frame = bench.synthetic_frame()
    results = []
    baseline = bench.litetrack_baseline(net)
    assert isinstance(baseline, bench.UpstreamLiteTrack)
    with torch.inference_mode():
        template = torch.randn(1, 3, 64, 64)
        box = torch.tensor([[0.2, 0.2, 0.6, 0.7]])
        # Upstream keeps the template tokens (one entry per interaction layer), not
        # keys/values.
        kept = baseline.encode_template(template, box)
        assert len(kept) == net.config.num_interaction
        for tokens in kept:
            assert torch.equal(tokens, net.template_tokens(template, box, explicit=True))
    for model in (net, baseline):
        tracker = Tracker(model)
        tracker.initialize(frame, bench.TARGET_BOX_XYWH)
        results.append(tracker.track(frame))
    cached, baseline = results
    assert cached.box_xywh == pytest.approx(baseline.box_xywh, abs=1e-3)
    assert cached.confidence == pytest.approx(baseline.confidence, abs=bench.TOLERANCE)


def test_candidate_and_baseline_alternate_and_warmup_is_discarded():
    calls = []

    def trial(name):
        def run():
            calls.append(name)
            return {name: float(len(calls))}
        return run

    samples = bench.run_interleaved([trial('candidate'), trial('baseline')], warmup=1, frames=3)
    # Every iteration runs both, and the one that goes first alternates.
    assert calls == ['candidate', 'baseline', 'baseline', 'candidate',
                     'candidate', 'baseline', 'baseline', 'candidate']
    assert samples == {'candidate': [4.0, 5.0, 8.0], 'baseline': [3.0, 6.0, 7.0]}


def test_timing_summary():
    timing = bench.Timing.from_seconds([0.010, 0.030, 0.020, 0.040, 0.050])
    assert timing.median_ms == pytest.approx(30.0)
    assert timing.p90_ms == pytest.approx(46.0)
    assert timing.fps == pytest.approx(1000 / 30)
    comparison = bench.Comparison(timing, bench.Timing.from_seconds([0.06]))
    assert comparison.speedup == pytest.approx(2.0)


def test_gpu_work_is_inside_the_timed_interval(monkeypatch):
    events = []
    monkeypatch.setattr(torch.cuda, 'synchronize', lambda device=None: events.append('sync'))
    seconds, result = bench.timed('cuda', lambda: events.append('call') or 7)
    assert events == ['sync', 'call', 'sync'] and result == 7 and seconds >= 0
    events.clear()
    bench.timed('cpu', lambda: events.append('call'))
    assert events == ['call']


@pytest.mark.parametrize('argv', [
    ['--variants', 'B5'],
    ['--precision', 'fp8'],
    ['--variants', 'B4', '--config-json', '{}'],
    ['--frames', '0'],
])
def test_bad_arguments_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(argv)
    assert exit_info.value.code == 2


def test_missing_checkpoint_is_reported(tmp_path, capsys):
    assert bench.main(['--weights', str(tmp_path / 'none.pth')]) == bench.EXIT_BAD_INPUT
    assert 'none.pth' in capsys.readouterr().err
