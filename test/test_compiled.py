# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The compiled template/search steps: same maps and boxes as eager, or a clean fallback."""

import time

from litetrack_ros.model import compiled as compiled_module
from litetrack_ros.model import LiteTrack, ModelConfig
from litetrack_ros.model.checkpoint import save_safetensors
from litetrack_ros.model.compiled import compile_litetrack, CompiledLiteTrack, dummy_inputs
from litetrack_ros.tracking import runtime
from litetrack_ros.tracking.tracker import Tracker
import numpy as np
import pytest
from sequences import synthetic_sequence
import torch

TINY = ModelConfig(depth=2, num_interaction=1, embed_dim=32, num_heads=2, head_channels=16,
                   template_size=64, search_size=128)
# Compiling the tiny network takes ~40 s on a 2-core CPU with a cold cache; beyond this
# the machine is too slow for the suite and the test skips.
MAX_COMPILE_SECONDS = 120


def tiny_network(seed: int = 0) -> LiteTrack:
    torch.manual_seed(seed)
    net = LiteTrack(TINY).eval()
    with torch.no_grad():  # non-trivial maps: random BatchNorm statistics and biases
        for name, buffer in net.named_buffers():
            if name.endswith('running_var'):
                buffer.uniform_(0.5, 1.5)
        for name, param in net.named_parameters():
            if param.dim() == 1 and 'gamma' not in name and not name.endswith('.weight'):
                param.normal_(0, 0.1)
    return net


@pytest.fixture(scope='module')
def compiled_tiny(request, tmp_path_factory):
    """One compilation for the module, cached in pytest's cache folder between runs."""
    cache = getattr(request.config, 'cache', None)  # absent with -p no:cacheprovider
    folder = cache.mkdir('inductor') if cache else tmp_path_factory.mktemp('inductor')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(compiled_module.CACHE_ENV, str(folder))
        net = runtime.prepare_network(tiny_network(), 'cpu', torch.float32)
        result = compile_litetrack(net)
    if not result.compiled:
        pytest.skip(f'torch.compile is not usable here: {result.message}')
    if result.seconds > MAX_COMPILE_SECONDS:
        pytest.skip(f'compiling took {result.seconds:.0f} s on this machine')
    return net, result


def test_compiled_steps_give_the_eager_maps(compiled_tiny):
    net, result = compiled_tiny
    assert isinstance(result.network, CompiledLiteTrack) and result.status == 'compiled'
    assert 'compiled template and search steps' in result.message
    assert result.network.config == net.config and result.network.dtype == torch.float32
    template, box, search = dummy_inputs(net)
    generator = torch.Generator().manual_seed(5)
    other_template = torch.randn(template.shape, generator=generator)
    other_search = torch.randn(search.shape, generator=generator)
    with torch.inference_mode():
        for t, s in ((template, search), (other_template, other_search)):
            eager_state = net.encode_template(t, box)
            state = result.network.encode_template(t, box)
            eager, out = net.track_search(eager_state, s), result.network.track_search(state, s)
            assert torch.allclose(state.z, eager_state.z, atol=1e-5)
            for a, b in zip(out, eager, strict=True):
                assert a.dtype == torch.float32 and (a - b).abs().max() <= 1e-4


def test_compiled_tracker_boxes_equal_eager_and_the_first_frame_does_not_compile(compiled_tiny):
    net, result = compiled_tiny
    sequence = synthetic_sequence(num_frames=8)
    boxes = {}
    for name, network in (('eager', net), ('compiled', result.network)):
        tracker = Tracker(network)
        tracker.initialize(sequence.frame(0), tuple(sequence.boxes[0]))
        started = time.perf_counter()
        first = tracker.track(sequence.frame(1))
        first_seconds = time.perf_counter() - started
        boxes[name] = [first.box_xywh] + [tracker.track(sequence.frame(i)).box_xywh
                                          for i in range(2, len(sequence))]
    # Warmed up at compile time: the first frame runs the compiled code right away.
    assert first_seconds < 2.0
    np.testing.assert_allclose(boxes['compiled'], boxes['eager'], atol=1e-2)


def test_a_failing_compile_falls_back_to_eager_with_the_reason(monkeypatch):
    def broken_compile(*args, **kwargs):
        raise RuntimeError('no C++ compiler found\nsecond line of details')

    monkeypatch.setattr(torch, 'compile', broken_compile)
    net = tiny_network()
    result = compile_litetrack(net)
    assert result.network is net and not result.compiled
    assert result.status == 'eager (compile failed)'
    assert result.message.startswith('torch.compile failed after ')
    assert 'running eager: RuntimeError: no C++ compiler found' in result.message
    assert 'second line' not in result.message


def test_compiled_maps_that_differ_from_eager_are_refused(monkeypatch):
    # A compiler bug must not reach the tracker: the warm-up compares with eager.
    def wrong_compile(function, **kwargs):
        def run(*args):
            out = function(*args)
            return out._replace(score_map=out.score_map + 0.5) if hasattr(out, 'score_map') \
                else out
        return run

    monkeypatch.setattr(torch, 'compile', wrong_compile)
    result = compile_litetrack(tiny_network())
    assert not result.compiled and 'differ from eager ones by 0.5' in result.message


def test_build_tracker_with_compile_falls_back_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(torch, 'compile', lambda *a, **k: (_ for _ in ()).throw(
        RuntimeError('inductor unavailable')))
    weights = tmp_path / 'tiny.safetensors'
    save_safetensors(tiny_network(), weights)
    tracker, info = runtime.build_tracker(weights, device='cpu', precision='fp32', compile=True)
    assert isinstance(tracker.net, LiteTrack)
    assert info.compile == 'eager (compile failed)'
    assert 'inductor unavailable' in info.compile_message and info.compile_message in info.summary
    _, plain = runtime.build_tracker(weights, device='cpu', precision='fp32')
    assert plain.compile == 'off' and plain.compile_message == ''


def test_cache_folder_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv(compiled_module.CACHE_ENV, raising=False)
    assert compiled_module.cache_dir() == compiled_module.DEFAULT_CACHE_DIR.expanduser()
    monkeypatch.setenv(compiled_module.CACHE_ENV, str(tmp_path))
    assert compiled_module.cache_dir() == tmp_path
