# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of checkpoint loading (safe unpickling, formats, errors) and the converter CLI."""

import builtins
import collections
import os
from pathlib import Path
import subprocess
import sys
import types
import zipfile

from litetrack_ros.cli import convert
from litetrack_ros.model import LiteTrack, ModelConfig, VARIANTS
from litetrack_ros.model.checkpoint import (
    CheckpointError,
    infer_config,
    load_checkpoint,
    load_model,
    load_pickled,
    load_state_dict,
    save_safetensors,
    UnresolvedGlobal,
    UnsafeCheckpointError,
)
import numpy as np
import pytest
import torch

# Narrow, but with the head width of 64 that a .pth (no config metadata) is assumed to use.
SMALL = ModelConfig(depth=4, num_interaction=2, embed_dim=128, num_heads=2, head_channels=32)


@pytest.fixture(scope='module')
def model() -> LiteTrack:
    torch.manual_seed(0)
    net = LiteTrack(SMALL).eval()
    with torch.no_grad():
        for param in net.parameters():  # move away from the init so a mix-up would show
            param.add_(torch.randn_like(param) * 0.05)
    return net


@pytest.fixture(scope='module')
def inputs():
    generator = torch.Generator().manual_seed(3)
    return (torch.randn(1, 3, 128, 128, generator=generator),
            torch.tensor([[0.3, 0.25, 0.7, 0.8]]),
            torch.randn(1, 3, 256, 256, generator=generator))


def run(net: LiteTrack, inputs):
    template, box, search = inputs
    with torch.inference_mode():
        return net.track_search(net.encode_template(template, box), search)


def assert_same_outputs(a, b):
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def assert_same_weights(state_dict, net):
    expected = net.state_dict()
    assert set(state_dict) == set(expected)
    assert all(torch.equal(state_dict[key], expected[key]) for key in expected)


class FakeModule:
    """Temporarily importable module, so classes in it can be pickled but not unpickled."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.module = types.ModuleType(name)

    def add(self, obj):
        """Move a class or function into this module (decorator)."""
        obj.__module__ = self.name
        obj.__qualname__ = obj.__name__
        setattr(self.module, obj.__name__, obj)
        return obj

    def __enter__(self):
        assert self.name not in sys.modules
        sys.modules[self.name] = self.module
        return self

    def __exit__(self, *exc):
        del sys.modules[self.name]


def official_like_checkpoint(net: LiteTrack, path: Path) -> None:
    """Write what the official trainer saves: state dict plus pickled trainer objects."""
    with FakeModule('lib_train_admin_settings_fake') as fake:
        @fake.add
        class Settings:

            def __init__(self):
                self.cfg = EasyDict(MODEL={'BACKBONE': {'DEPTH': 4}}, lr=1e-4)
                self.stats = StatList([AverageMeter(), AverageMeter()])
                self.device = torch.device('cpu')

        @fake.add
        class EasyDict(dict):  # dict subclass: unpickled with SETITEMS
            pass

        @fake.add
        class StatList(list):  # list subclass: unpickled with APPENDS
            pass

        @fake.add
        class AverageMeter:

            def __init__(self):
                self.avg, self.count = 0.5, 3

        optimizer = torch.optim.AdamW(list(net.parameters())[:3], lr=1e-4)
        torch.save({
            'epoch': 300,
            'actor_type': 'LiteTrackActor',
            'net_type': 'LiteTrack',
            'net': net.state_dict(),
            'net_info': None,
            'constructor': None,
            'optimizer': optimizer.state_dict(),
            'stats': collections.OrderedDict(train=AverageMeter()),
            'settings': Settings(),
        }, path)


# ------------------------------------------------------------------ safe unpickling


def test_official_checkpoint_with_unknown_classes_loads(model, inputs, tmp_path):
    path = tmp_path / 'LiteTrack_ep0300.pth.tar'
    official_like_checkpoint(model, path)
    # The pickled classes are unresolvable: an ordinary unpickler fails on them.
    with pytest.raises(ModuleNotFoundError):
        torch.load(path, weights_only=False)
    assert_same_weights(load_state_dict(path), model)
    loaded = load_model(path)
    assert loaded.config == SMALL and not loaded.training
    assert_same_outputs(run(loaded, inputs), run(model, inputs))


class Payload:
    """Pickles as a call of ``function(*args)``; unpickling would run it."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def payloads(marker: Path):
    touch = f'touch {marker}'
    return {
        'os.system': Payload(os.system, touch),
        'builtins.eval': Payload(builtins.eval, f"__import__('os').system({touch!r})"),
        'builtins.exec': Payload(builtins.exec, f'import os; os.system({touch!r})'),
        'subprocess.call': Payload(subprocess.call, ['touch', str(marker)]),
        'subprocess.Popen': Payload(subprocess.Popen, ['touch', str(marker)]),
    }


@pytest.mark.parametrize('name', ['os.system', 'builtins.eval', 'builtins.exec',
                                  'subprocess.call', 'subprocess.Popen'])
def test_malicious_pickle_is_refused_and_never_executed(model, tmp_path, name):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth.tar'
    payload = payloads(marker)[name]
    torch.save({'net': model.state_dict(), 'settings': payload}, path)
    # The global as pickle records it (os.system is posix.system on Linux).
    pickled = f'{payload.function.__module__}.{payload.function.__name__}'
    for load in (load_state_dict, load_model, load_pickled):
        with pytest.raises(UnsafeCheckpointError) as caught:
            load(path)
        assert caught.value.global_name == pickled
        message = str(caught.value)
        assert pickled in message and 'may be malicious' in message and str(path) in message
    assert isinstance(caught.value, CheckpointError)
    assert not marker.exists()


def test_malicious_top_level_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save(Payload(os.system, f'touch {marker}'), path)
    with pytest.raises(UnsafeCheckpointError, match=r'posix\.system|nt\.system'):
        load_state_dict(path)
    assert not marker.exists()


def test_convert_reports_a_malicious_checkpoint(model, tmp_path, capsys):
    from litetrack_ros.cli.convert import main as convert
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth.tar'
    torch.save({'net': model.state_dict(), 'x': payloads(marker)['builtins.eval']}, path)
    out = tmp_path / 'out.safetensors'
    assert convert([str(path), str(out)]) == 2
    error = capsys.readouterr().err
    assert 'builtins.eval' in error and 'may be malicious' in error and 'Traceback' not in error
    assert not out.exists() and not marker.exists()


def test_unpickler_never_imports_named_modules(model, tmp_path):
    # 'this' prints the Zen of Python when imported; the loader must not import it.
    if 'this' in sys.modules:
        pytest.skip('module already imported')
    path = tmp_path / 'imports.pth'
    with FakeModule('this') as fake:
        @fake.add
        def s():
            pass
        torch.save({'net': model.state_dict(), 'extra': Payload(s)}, path)
    with pytest.raises(UnsafeCheckpointError, match=r'this\.s'):
        load_state_dict(path)
    assert 'this' not in sys.modules


def test_allowed_objects_are_rebuilt(tmp_path):
    path = tmp_path / 'misc.pth'
    values = {
        'tags': {'a', 'b'}, 'frozen': frozenset([1]), 'blob': b'\x00\xff', 'pair': (1, 2.5),
        'dtype': torch.float16, 'device': torch.device('cpu'), 'size': torch.Size([2, 3]),
        'param': torch.nn.Parameter(torch.ones(2)), 'nested': collections.OrderedDict(a=[1]),
    }
    with FakeModule('trainer_fake') as fake:
        @fake.add
        class Stats:  # an object of an unknown class: rebuilt as a placeholder

            def __init__(self):
                self.mean = 0.5
        values['unknown'] = Stats()
        torch.save(values, path)
    loaded = load_pickled(path)
    assert isinstance(loaded['unknown'], UnresolvedGlobal)
    assert loaded['unknown'].pickled_name == 'trainer_fake.Stats'
    del values['unknown'], loaded['unknown']
    assert isinstance(loaded['param'], torch.nn.Parameter)
    assert torch.equal(loaded.pop('param'), values.pop('param'))
    assert loaded == values


def test_legacy_format(model, tmp_path):
    path = tmp_path / 'legacy.pth'
    marker = tmp_path / 'pwned'
    torch.save({'net': model.state_dict(), 'x': Payload(os.system, f'touch {marker}')}, path,
               _use_new_zipfile_serialization=False)
    assert not zipfile.is_zipfile(path)
    with pytest.raises(UnsafeCheckpointError, match='system'):
        load_state_dict(path)
    assert not marker.exists()
    torch.save({'net': model.state_dict(), 'epoch': 3}, path,
               _use_new_zipfile_serialization=False)
    assert_same_weights(load_state_dict(path), model)


def test_numpy_statistics_in_a_checkpoint_load(model, tmp_path):
    # Trainers store NumPy scalars/arrays in their statistics: pickle calls NumPy's
    # data constructors for them, which the loader leaves as inert placeholders.
    path = tmp_path / 'stats.pth.tar'
    torch.save({'net': model.state_dict(), 'stats': {'loss': np.float64(0.5),
                                                     'history': np.arange(3)}}, path)
    assert_same_weights(load_state_dict(path), model)


# ------------------------------------------------------------------ formats


@pytest.mark.parametrize('layout', ['net', 'model', 'state_dict', 'top', 'ddp'])
def test_state_dict_layouts(model, tmp_path, layout):
    state_dict = model.state_dict()
    if layout == 'top':
        obj = state_dict
    elif layout == 'ddp':
        obj = {'net': {'module.' + key: value for key, value in state_dict.items()}}
    else:
        obj = {layout: state_dict, 'epoch': 3}
    path = tmp_path / 'weights.pt'
    torch.save(obj, path)
    assert_same_weights(load_state_dict(path), model)


def test_round_trip_pth_tar_to_safetensors(model, inputs, tmp_path, capsys):
    source = tmp_path / 'LiteTrack_ep0300.pth.tar'
    target = tmp_path / 'litetrack.safetensors'
    official_like_checkpoint(model, source)
    assert convert.main([str(source), str(target)]) == 0
    printed = capsys.readouterr().out
    num_params = sum(p.numel() for p in model.parameters())
    assert f'{num_params:,} parameters' in printed and 'depth 4' in printed
    from_pth = load_model(source)
    from_safetensors = load_model(target)
    assert_same_weights(load_state_dict(target), model)
    assert from_safetensors.config == SMALL
    expected = run(model, inputs)
    assert_same_outputs(run(from_pth, inputs), expected)
    assert_same_outputs(run(from_safetensors, inputs), expected)


def test_safetensors_metadata_records_interaction_layers(model, tmp_path):
    config = SMALL.replace(num_interaction=3)  # not the official choice for depth 4
    path = tmp_path / 'custom.safetensors'
    save_safetensors(model.state_dict(), path, config)
    assert load_checkpoint(path).config == config
    assert load_model(path).config.num_interaction == 3
    # Without metadata the official map applies.
    torch.save({'net': model.state_dict()}, tmp_path / 'custom.pth')
    assert load_checkpoint(tmp_path / 'custom.pth').config.num_interaction == 2


def test_load_model_options(model, inputs, tmp_path):
    path = tmp_path / 'w.safetensors'
    save_safetensors(model, path)
    half = load_model(path, dtype=torch.bfloat16)
    assert half.dtype == torch.bfloat16 and half.device.type == 'cpu'
    resized = load_model(path, search_size=192)
    assert resized.config.search_size == 192
    template, box, _ = inputs
    with torch.inference_mode():
        out = resized.track_search(resized.encode_template(template, box),
                                   torch.zeros(1, 3, 192, 192))
    assert out.score_map.shape == (1, 1, 12, 12)


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_infer_config_official_variants(name):
    with torch.device('meta'):
        state_dict = LiteTrack(VARIANTS[name]).state_dict()
    assert infer_config(state_dict) == VARIANTS[name]


def test_infer_config_other_shapes():
    config = ModelConfig(depth=3, num_interaction=3, embed_dim=384, num_heads=6,
                         head_channels=128, search_size=192)
    with torch.device('meta'):
        state_dict = LiteTrack(config).state_dict()
    assert infer_config(state_dict, num_interaction=3) == config
    assert infer_config(state_dict).num_interaction == 3  # min(3, depth)


# ------------------------------------------------------------------ errors


def save_net(state_dict, path: Path) -> Path:
    torch.save({'net': state_dict, 'epoch': 1}, path)
    return path


def test_missing_keys_are_named(model, tmp_path):
    state_dict = dict(model.state_dict())
    del state_dict['backbone.blocks.1.attn.q_bias']
    del state_dict['box_head.conv5_size.bias']
    with pytest.raises(CheckpointError) as error:
        load_model(save_net(state_dict, tmp_path / 'partial.pth'))
    message = str(error.value)
    assert '2 missing keys' in message
    assert 'backbone.blocks.1.attn.q_bias' in message and 'box_head.conv5_size.bias' in message


def test_unexpected_keys_and_shape_mismatch_are_named(model, tmp_path):
    state_dict = dict(model.state_dict())
    state_dict['backbone.norm.weight'] = torch.ones(128)
    state_dict['backbone.blocks.0.gamma_1'] = torch.ones(129)
    with pytest.raises(CheckpointError) as error:
        load_model(save_net(state_dict, tmp_path / 'odd.pth'))
    message = str(error.value)
    assert 'unexpected keys: backbone.norm.weight' in message
    assert 'shape mismatches: backbone.blocks.0.gamma_1 (129,) vs (128,) expected' in message


def test_long_key_lists_are_truncated(model, tmp_path):
    state_dict = {k: v for k, v in model.state_dict().items() if not k.startswith('box_head.')}
    state_dict['box_head.conv1_ctr.0.weight'] = model.state_dict()['box_head.conv1_ctr.0.weight']
    with pytest.raises(CheckpointError, match=r'missing keys: .*\(\d+ more\)'):
        load_model(save_net(state_dict, tmp_path / 'headless.pth'))


def test_not_a_litetrack_state_dict(tmp_path):
    path = save_net({'fc.weight': torch.zeros(2, 2)}, tmp_path / 'other.pth')
    with pytest.raises(CheckpointError, match='backbone.patch_embed.proj.weight'):
        load_model(path)
    torch.save({'epoch': 3, 'net': None}, tmp_path / 'empty.pth')
    with pytest.raises(CheckpointError, match='no state dict'):
        load_state_dict(tmp_path / 'empty.pth')


def test_unreadable_files(model, tmp_path):
    good = tmp_path / 'good.pth.tar'
    torch.save({'net': model.state_dict()}, good)
    data = good.read_bytes()
    (tmp_path / 'truncated.pth.tar').write_bytes(data[:len(data) // 2])
    (tmp_path / 'garbage.pth').write_bytes(os.urandom(4096))
    (tmp_path / 'empty.pt').write_bytes(b'')
    safetensors_path = tmp_path / 'good.safetensors'
    save_safetensors(model, safetensors_path)
    data = safetensors_path.read_bytes()
    (tmp_path / 'truncated.safetensors').write_bytes(data[:len(data) // 2])
    with zipfile.ZipFile(tmp_path / 'script.pt', 'w') as archive:
        archive.writestr('script/data.pkl', b'')
        archive.writestr('script/constants.pkl', b'')
    for name in ('truncated.pth.tar', 'garbage.pth', 'empty.pt', 'truncated.safetensors',
                 'script.pt', 'does_not_exist.pth'):
        with pytest.raises(CheckpointError, match=name):
            load_model(tmp_path / name)


def test_convert_reports_bad_files(tmp_path, capsys):
    bad = tmp_path / 'bad.pth.tar'
    bad.write_bytes(b'not a checkpoint')
    assert convert.main([str(bad), str(tmp_path / 'out.safetensors')]) == 2
    error = capsys.readouterr().err
    assert error.startswith('litetrack-convert: ') and 'Traceback' not in error
    assert not (tmp_path / 'out.safetensors').exists()
    assert convert.main([str(bad), str(tmp_path / 'out.pth')]) == 2


def test_convert_search_size(model, tmp_path, capsys):
    source = tmp_path / 'w.pth'
    torch.save({'net': model.state_dict()}, source)
    target = tmp_path / 'w192.safetensors'
    assert convert.main([str(source), str(target), '--search-size', '192']) == 0
    assert 'search 192 px' in capsys.readouterr().out
    assert load_model(target).config.search_size == 192
    assert convert.main([str(source), str(target), '--search-size', '200']) == 2


def test_convert_stores_the_size_update_rate(model, tmp_path, capsys):
    source = tmp_path / 'w.pth'
    torch.save({'net': model.state_dict()}, source)
    target = tmp_path / 'damped.safetensors'
    assert convert.main([str(source), str(target), '--size-update-rate', '0.4']) == 0
    assert load_model(target).config.size_update_rate == 0.4
    # Re-converting keeps it; an out-of-range rate is refused without a traceback.
    again = tmp_path / 'again.safetensors'
    assert convert.main([str(target), str(again)]) == 0
    assert load_model(again).config.size_update_rate == 0.4
    assert convert.main([str(source), str(again), '--size-update-rate', '0']) == 2
    assert 'size_update_rate' in capsys.readouterr().err


def test_convert_stores_tracking_settings(model, tmp_path, capsys):
    source = tmp_path / 'in.safetensors'
    save_safetensors(model, source, model.config)
    out = tmp_path / 'out.safetensors'
    assert convert.main([str(source), str(out), '--size-update-rate', '0.7',
                         '--tracking', 'scale_penalty_k=0.15',
                         '--tracking', 'score_weighted_size_update=1']) == 0
    stored = load_model(out).config
    assert (stored.size_update_rate, stored.scale_penalty_k) == (0.7, 0.15)
    assert stored.score_weighted_size_update is True and stored.window_influence is None
    assert stored.architecture == model.config.architecture
    assert convert.main([str(source), str(tmp_path / 'bad.safetensors'),
                         '--tracking', 'depth=2']) == 2
    assert 'not a tracking setting' in capsys.readouterr().err
