# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""LightTrack-M: network layout, cached and official paths, checkpoints, family detection."""

from pathlib import Path
import sys
import types

from litetrack_ros.cli import convert
from litetrack_ros.model.checkpoint import (
    CheckpointError,
    detect_family,
    load_checkpoint,
    load_model,
    save_safetensors,
)
from litetrack_ros.model.config import LightTrackConfig, ModelConfig, variant_name
from litetrack_ros.model.lighttrack import grid_points, LightTrack, make_divisible
from litetrack_ros.model.litetrack import enable_flush_denormal, LiteTrack
import pytest
import safetensors
import torch

# The paper's figure for LightTrack-M, and the official state dict's size.
LIGHTTRACK_M_PARAMETERS = 1_969_397
LIGHTTRACK_M_KEYS = 426


@pytest.fixture(autouse=True, scope='module')
def _flush_denormals():
    # Random weights produce denormals, which make CPU convolutions several times slower.
    enable_flush_denormal()


@pytest.fixture(scope='module')
def model() -> LightTrack:
    torch.manual_seed(0)
    net = LightTrack()
    with torch.no_grad():  # statistics away from (0, 1), so a BN mix-up would show
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.1)
    return net.eval()


@pytest.fixture(scope='module')
def crops():
    generator = torch.Generator().manual_seed(1)
    return (torch.randn(2, 3, 128, 128, generator=generator),
            torch.randn(2, 3, 256, 256, generator=generator))


def test_state_dict_has_the_official_names_and_shapes():
    with torch.device('meta'):
        net = LightTrack()
    shapes = {key: tuple(value.shape) for key, value in net.state_dict().items()}
    assert len(shapes) == LIGHTTRACK_M_KEYS
    assert net.num_parameters == LIGHTTRACK_M_PARAMETERS
    expected = {
        'features.conv_stem.weight': (16, 3, 3, 3),
        'features.blocks.0.0.conv_dw.weight': (16, 1, 3, 3),
        'features.blocks.0.0.se.conv_reduce.weight': (8, 16, 1, 1),
        'features.blocks.1.0.conv_dw.weight': (64, 1, 7, 7),
        'features.blocks.1.1.se.conv_reduce.weight': (40, 144, 1, 1),
        'features.blocks.2.2.conv_pw.weight': (240, 40, 1, 1),
        'features.blocks.2.2.se.conv_reduce.weight': (64, 240, 1, 1),
        'features.blocks.3.0.conv_dw.weight': (160, 1, 7, 7),
        'features.blocks.4.0.conv_pw.weight': (480, 80, 1, 1),
        'features.blocks.4.2.conv_pwl.weight': (96, 576, 1, 1),
        'features.blocks.4.2.bn3.num_batches_tracked': (),
        'neck.BN_z.running_var': (96,),
        'neck.BN_x.weight': (96,),
        'feature_fusor.pw_corr.CA_layer.fc1.weight': (64, 64, 1, 1),
        'feature_fusor.adj_layer.weight': (128, 64, 1, 1),
        'head.cls_tower.0.conv1.weight': (128, 1, 5, 5),
        'head.cls_tower.0.pointwise.weight': (256, 128, 1, 1),
        'head.cls_tower.5.BN.bias': (256,),
        'head.reg_tower.7.conv1.weight': (192, 1, 5, 5),
        'head.cls_perd.cls_pred.weight': (1, 256, 3, 3),  # the official spelling
        'head.reg_pred.bbox_pred.bias': (4,),
    }
    assert {key: shapes.get(key) for key in expected} == expected
    assert not any(key.startswith('features.blocks.4.3') for key in shapes), 'cut after 4.2'
    assert 'head.cls_tower.6.conv1.weight' not in shapes  # the searched skips
    assert len({key.split('.')[2] for key in shapes if key.startswith('head.reg_tower.')}) == 8


def test_make_divisible_matches_the_official_channel_counts():
    assert [make_divisible(c * 0.25) for c in (16, 64, 144, 240, 480, 576)] == [
        8, 16, 40, 64, 120, 144]


def test_cached_path_computes_the_official_forward(model, crops):
    template, search = crops
    with torch.inference_mode():
        cached = model.track_search(model.encode_template(template), search)
        official = model.forward_official(model.template_features(template), search)
    assert cached.cls_logits.shape == (2, 1, 16, 16) and cached.ltrb.shape == (2, 4, 16, 16)
    torch.testing.assert_close(cached.cls_logits, official.cls_logits, rtol=0, atol=1e-6)
    torch.testing.assert_close(cached.ltrb, official.ltrb, rtol=0, atol=1e-4)
    assert (cached.ltrb >= 0).all() and cached.ltrb.dtype == torch.float32
    assert torch.equal(cached.scores, torch.sigmoid(cached.cls_logits))


def test_one_template_serves_a_batch_of_search_crops(model, crops):
    template, search = crops
    with torch.inference_mode():
        shared = model.track_search(model.encode_template(template[:1]), search)
        single = model.track_search(model.encode_template(template[:1]), search[1:])
    torch.testing.assert_close(shared.ltrb[1:], single.ltrb, rtol=0, atol=1e-4)


def test_teacher_maps_pair_templates_with_searches(model, crops):
    template, search = crops
    maps = model.teacher_maps(template, search)
    assert not maps.cls_logits.requires_grad
    for i in range(2):
        with torch.inference_mode():
            alone = model.track_search(model.encode_template(template[i:i + 1]),
                                       search[i:i + 1])
        torch.testing.assert_close(maps.cls_logits[i:i + 1], alone.cls_logits, rtol=0,
                                   atol=1e-5)
    with pytest.raises(ValueError, match='pair up'):
        model.teacher_maps(template, search[:1])


def test_fused_copy_computes_the_same_maps(model, crops):
    template, search = crops
    fused = model.fused()
    kept = {type(m).__name__ for m in fused.modules() if isinstance(m, torch.nn.BatchNorm2d)}
    assert kept == {'BatchNorm2d'} and sum(
        isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules()) == 2  # the neck's
    with torch.inference_mode():
        a = model.track_search(model.encode_template(template), search)
        b = fused.track_search(fused.encode_template(template), search)
    torch.testing.assert_close(b.cls_logits, a.cls_logits, rtol=0, atol=1e-4)
    torch.testing.assert_close(b.ltrb / 256, a.ltrb / 256, rtol=0, atol=1e-5)
    assert len(model.state_dict()) == LIGHTTRACK_M_KEYS, 'the original is untouched'
    with pytest.raises(RuntimeError, match='eval mode'):
        LightTrack().train().fused()


def test_search_size_changes_the_grid_not_the_weights(model, crops):
    net = LightTrack().eval()
    net.load_state_dict(model.state_dict())
    net.set_search_size(288)
    assert variant_name(net.config) == 'LightTrack-M@288'
    with torch.inference_mode():
        out = net.track_search(net.encode_template(crops[0][:1]), torch.zeros(1, 3, 288, 288))
        with pytest.raises(ValueError, match='cannot pair'):
            net.track_search(net.encode_template(crops[0]), torch.zeros(3, 3, 288, 288))
    assert out.cls_logits.shape[-1] == 18
    assert grid_points(16, 256).tolist() == [16.0 * k for k in range(16)]
    assert grid_points(17, 272)[0] == 8.0  # official: (k - F // 2) * 16 + S // 2


def test_config_validation_and_names():
    assert variant_name(LightTrackConfig()) == 'LightTrack-M'
    assert LightTrackConfig.family == 'lighttrack' and ModelConfig.family == 'litetrack'
    config = LightTrackConfig(window_influence=0.2)
    assert config.architecture == LightTrackConfig()
    assert LightTrackConfig.from_dict(config.to_dict()) == config
    for bad, message in [({'arch': 'L'}, 'arch'), ({'search_size': 250}, 'multiple'),
                         ({'window_influence': 1.5}, 'window_influence'),
                         ({'scale_penalty_k': -1.0}, 'scale_penalty_k'),
                         ({'size_update_rate': 0.0}, 'size_update_rate'),
                         ({'score_weighted_size_update': 1}, 'true or false')]:
        with pytest.raises(ValueError, match=message):
            LightTrackConfig(**bad)
    with pytest.raises(ValueError, match='unknown LightTrackConfig fields'):
        LightTrackConfig.from_dict({'depth': 4})


def test_litetrack_selection_settings_default_to_ostrack_and_are_validated():
    config = ModelConfig()
    assert (config.window_influence, config.scale_penalty_k,
            config.score_weighted_size_update) == (None, 0.0, False)
    tuned = config.replace(window_influence=0.3, scale_penalty_k=0.05,
                           score_weighted_size_update=True)
    assert tuned.architecture == config and variant_name(tuned) == 'B6'
    assert ModelConfig.from_dict({'depth': 6}) == config  # files from before the fields
    with pytest.raises(ValueError, match='window_influence'):
        ModelConfig(window_influence=-0.1)
    with pytest.raises(ValueError, match='scale_penalty_k'):
        ModelConfig(scale_penalty_k=float('inf'))


# --------------------------------------------------------------------------- checkpoints


class FakeTrainerModule:
    """A module importable while pickling only, so its classes cannot be unpickled."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.module = types.ModuleType(name)

    def add(self, cls: type) -> type:
        """Move a class into the module."""
        cls.__module__, cls.__qualname__ = self.name, cls.__name__
        setattr(self.module, cls.__name__, cls)
        return cls

    def __enter__(self):
        sys.modules[self.name] = self.module
        return self

    def __exit__(self, *exc):
        del sys.modules[self.name]


def official_like_checkpoint(state_dict: dict, path: Path) -> Path:
    """Save what LightTrack's trainer saves: DataParallel state dict, optimizer, objects."""
    with FakeTrainerModule('lib_core_config_fake') as fake:
        @fake.add
        class EasyDict(dict):
            pass

        @fake.add
        class Logger:

            def __init__(self):
                self.path = '/tmp/log'

        params = [torch.nn.Parameter(torch.zeros(3))]
        torch.save({'epoch': 30, 'arch': 'LightTrackM_Subnet',
                    'state_dict': {f'module.{k}': v for k, v in state_dict.items()},
                    'optimizer': torch.optim.SGD(params, lr=0.01).state_dict(),
                    'config': EasyDict(TRAIN={'LR': 0.01}), 'logger': Logger()}, path)
    return path


def test_official_checkpoint_with_trainer_objects_loads(model, crops, tmp_path):
    path = official_like_checkpoint(model.state_dict(), tmp_path / 'LightTrackM.pth')
    loaded = load_model(path)
    assert isinstance(loaded, LightTrack) and loaded.config == LightTrackConfig()
    assert not loaded.training
    template, search = crops
    with torch.inference_mode():
        expected = model.track_search(model.encode_template(template), search)
        actual = loaded.track_search(loaded.encode_template(template), search)
    assert torch.equal(expected.cls_logits, actual.cls_logits)
    assert torch.equal(expected.ltrb, actual.ltrb)


def test_checkpoint_without_batch_counters_loads(model, tmp_path):
    state_dict = {k: v for k, v in model.state_dict().items()
                  if not k.endswith('num_batches_tracked')}
    loaded = load_model(official_like_checkpoint(state_dict, tmp_path / 'old.pth'))
    assert torch.equal(loaded.head.reg_pred.bbox_pred.weight, model.head.reg_pred.bbox_pred.weight)


def test_partial_checkpoint_names_the_missing_keys(model, tmp_path):
    state_dict = dict(model.state_dict())
    del state_dict['head.reg_pred.bbox_pred.weight']
    del state_dict['features.blocks.3.1.conv_dw.weight']
    path = official_like_checkpoint(state_dict, tmp_path / 'partial.pth')
    with pytest.raises(CheckpointError, match='2 missing keys') as error:
        load_model(path)
    assert 'features.blocks.3.1.conv_dw.weight' in str(error.value)
    assert 'head.reg_pred.bbox_pred.weight' in str(error.value)


def test_wrong_shapes_are_named(model, tmp_path):
    state_dict = dict(model.state_dict())
    state_dict['head.cls_perd.cls_pred.weight'] = torch.zeros(1, 192, 3, 3)
    with pytest.raises(CheckpointError, match=r'cls_pred.weight \(1, 192, 3, 3\)'):
        load_model(official_like_checkpoint(state_dict, tmp_path / 'odd.pth'))


def test_family_is_detected_from_the_keys():
    with torch.device('meta'):
        lighttrack, litetrack = LightTrack().state_dict(), LiteTrack().state_dict()
    assert detect_family(lighttrack) == 'lighttrack'
    assert detect_family(litetrack) == 'litetrack'
    assert detect_family({'head.reg_pred.bbox_pred.weight': torch.zeros(1)}) == 'lighttrack'


def test_safetensors_store_the_family(model, tmp_path):
    path = tmp_path / 'lt.safetensors'
    save_safetensors(model, path, model.config.replace(window_influence=0.3))
    with safetensors.safe_open(str(path), framework='pt') as file:
        metadata = file.metadata()
    assert metadata['litetrack_family'] == 'lighttrack'
    checkpoint = load_checkpoint(path)
    assert checkpoint.config == LightTrackConfig(window_influence=0.3)
    # A bare state dict gets its family and config from the keys.
    save_safetensors(model.state_dict(), tmp_path / 'bare.safetensors')
    assert load_checkpoint(tmp_path / 'bare.safetensors').config == LightTrackConfig()


def test_unknown_family_in_metadata_is_refused(tmp_path):
    import safetensors.torch
    path = tmp_path / 'odd.safetensors'
    safetensors.torch.save_file({'x': torch.zeros(1)}, str(path),
                                metadata={'litetrack_family': 'yolo', 'litetrack_config': '{}'})
    with pytest.raises(CheckpointError, match="unknown model family 'yolo'"):
        load_model(path)


def test_convert_writes_a_lighttrack_safetensors(model, tmp_path, capsys):
    source = official_like_checkpoint(model.state_dict(), tmp_path / 'LightTrackM.pth')
    target = tmp_path / 'lt.safetensors'
    assert convert.main([str(source), str(target), '--size-update-rate', '0.5']) == 0
    assert 'LightTrack-M (template 128 px, search 256 px), 1,969,397 parameters' in \
        capsys.readouterr().out
    loaded = load_model(target)
    assert isinstance(loaded, LightTrack) and loaded.config.size_update_rate == 0.5
    assert convert.main([str(tmp_path), str(tmp_path / 'x.safetensors')]) == 2
    assert 'LightTrack-M OpenVINO IR' in capsys.readouterr().err
