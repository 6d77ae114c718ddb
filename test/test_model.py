# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the LiteTrack network: official layout, cached vs. reference path, decoding."""

import math

from litetrack_ros.model import (
    decode_boxes,
    enable_flush_denormal,
    hann_window,
    HeadOutput,
    LiteTrack,
    ModelConfig,
    SMALL_VARIANTS,
    TemplateState,
    variant_name,
    VARIANTS,
)
from litetrack_ros.model.head import CenterHead, FusedCenterHead
import pytest
import torch
import torch.nn.functional as F

# Narrow network for properties that do not depend on the width.
SMALL = ModelConfig(embed_dim=64, num_heads=4, head_channels=32)
TOLERANCE = 1e-5


@pytest.fixture(autouse=True, scope='module')
def _flush_denormals():
    # Random weights produce denormals, which make CPU matmuls several times slower.
    enable_flush_denormal()


@torch.no_grad()
def randomize_(model: LiteTrack, seed: int = 0) -> LiteTrack:
    """Give every parameter and BatchNorm statistic non-trivial random values.

    The default init (std 0.02, zero biases, identity norms) gives nearly uniform
    attention, under which a broken cache could go unnoticed.
    """
    generator = torch.Generator().manual_seed(seed)

    def normal(shape, std):
        return torch.randn(shape, generator=generator) * std

    for name, param in model.named_parameters():
        if 'pos_embed' in name or 'cls_token' in name:
            param.copy_(normal(param.shape, 0.5))
        elif param.dim() >= 2:
            param.copy_(normal(param.shape, param[0].numel() ** -0.5))
        elif 'gamma' in name:
            param.copy_(0.5 + 0.5 * torch.rand(param.shape, generator=generator))
        elif name.endswith('.weight'):  # LayerNorm / BatchNorm scales
            param.copy_(1.0 + normal(param.shape, 0.2))
        else:  # biases, q_bias, v_bias
            param.copy_(normal(param.shape, 0.2))
    for name, buffer in model.named_buffers():
        if name.endswith('running_mean'):
            buffer.copy_(normal(buffer.shape, 0.1))
        elif name.endswith('running_var'):
            buffer.copy_(0.5 + torch.rand(buffer.shape, generator=generator))
    return model


def make_inputs(config: ModelConfig, batch: int = 1, seed: int = 1):
    generator = torch.Generator().manual_seed(seed)
    template = torch.randn(batch, 3, config.template_size, config.template_size,
                           generator=generator)
    search = torch.randn(batch, 3, config.search_size, config.search_size, generator=generator)
    corner = torch.rand(batch, 2, generator=generator) * 0.4 + 0.1
    box = torch.cat((corner, corner + 0.4), dim=1)
    return template, box, search


def max_abs_diff(a: HeadOutput, b: HeadOutput) -> float:
    return max((x - y).abs().max().item() for x, y in zip(a, b, strict=True))


def make_model(config: ModelConfig, seed: int = 0) -> LiteTrack:
    torch.manual_seed(seed)
    return randomize_(LiteTrack(config), seed).eval()


# ------------------------------------------------------------------ layout


def expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """State-dict layout of the official implementation, written out independently."""
    c, h = config.embed_dim, config.mlp_hidden_dim
    shapes = {
        'backbone.cls_token': (1, 1, c),
        'backbone.pos_embed': (1, config.pretrain_grid ** 2 + 1, c),
        'backbone.pos_embed_z': (1, config.template_feat_size ** 2, c),
        'backbone.pos_embed_x': (1, config.search_feat_size ** 2, c),
        'backbone.patch_embed.proj.weight': (c, 3, 16, 16),
        'backbone.patch_embed.proj.bias': (c,),
        'target_token_embed.fc1.weight': (4, 4),
        'target_token_embed.fc1.bias': (4,),
        'target_token_embed.fc2.weight': (c, 4),
        'target_token_embed.fc2.bias': (c,),
    }
    for i in range(config.depth):
        p = f'backbone.blocks.{i}.'
        shapes.update({
            p + 'gamma_1': (c,), p + 'gamma_2': (c,),
            p + 'norm1.weight': (c,), p + 'norm1.bias': (c,),
            p + 'attn.q_bias': (c,), p + 'attn.v_bias': (c,),
            p + 'attn.qkv.weight': (3 * c, c),
            p + 'attn.proj.weight': (c, c), p + 'attn.proj.bias': (c,),
            p + 'norm2.weight': (c,), p + 'norm2.bias': (c,),
            p + 'mlp.fc1.weight': (h, c), p + 'mlp.fc1.bias': (h,),
            p + 'mlp.fc2.weight': (c, h), p + 'mlp.fc2.bias': (c,),
        })
    widths = [c] + [config.head_channels // 2 ** i for i in range(4)]
    for branch, outputs in (('ctr', 1), ('offset', 2), ('size', 2)):
        for i in range(4):
            p = f'box_head.conv{i + 1}_{branch}.'
            shapes[p + '0.weight'] = (widths[i + 1], widths[i], 3, 3)
            shapes[p + '0.bias'] = (widths[i + 1],)
            for stat in ('weight', 'bias', 'running_mean', 'running_var'):
                shapes[p + '1.' + stat] = (widths[i + 1],)
            shapes[p + '1.num_batches_tracked'] = ()
        shapes[f'box_head.conv5_{branch}.weight'] = (outputs, widths[4], 1, 1)
        shapes[f'box_head.conv5_{branch}.bias'] = (outputs,)
    return shapes


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_state_dict_matches_official_layout(name):
    config = VARIANTS[name]
    with torch.device('meta'):
        model = LiteTrack(config)
    actual = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert actual == expected_shapes(config)
    assert actual['backbone.blocks.0.attn.qkv.weight'] == (2304, 768)
    assert actual['backbone.pos_embed'] == (1, 197, 768)
    assert actual['backbone.pos_embed_z'] == (1, 64, 768)
    assert actual['backbone.pos_embed_x'] == (1, 256, 768)
    assert len({key.split('.')[2] for key in actual if '.blocks.' in key}) == config.depth


def test_variants():
    assert {name: (c.depth, c.num_interaction) for name, c in VARIANTS.items()} == {
        'B4': (4, 2), 'B6': (6, 3), 'B8': (8, 3), 'B9': (9, 3)}
    assert ModelConfig() == VARIANTS['B6']
    assert variant_name(VARIANTS['B8']) == 'B8'
    assert variant_name(VARIANTS['B4'].replace(search_size=192)) == 'B4@192'
    assert variant_name(SMALL).startswith('custom(')
    assert variant_name(SMALL_VARIANTS['S4']) == 'S4'
    assert variant_name(SMALL_VARIANTS['S4'].replace(search_size=128)) == 'S4@128'
    # Tracking settings do not change what the network is.
    assert variant_name(VARIANTS['B6'].replace(search_factor=5, size_update_rate=0.5)) == 'B6'
    assert not set(SMALL_VARIANTS) & set(VARIANTS)


def test_config_validation_and_round_trip():
    assert ModelConfig.from_dict(SMALL.to_dict()) == SMALL
    with pytest.raises(ValueError, match='num_interaction'):
        ModelConfig(depth=2, num_interaction=3)
    with pytest.raises(ValueError, match='num_heads'):
        ModelConfig(embed_dim=100, num_heads=12)
    with pytest.raises(ValueError, match='search_size'):
        ModelConfig(search_size=200)
    with pytest.raises(ValueError, match='unknown'):
        ModelConfig.from_dict({'depth': 4, 'colour': 'red'})
    with pytest.raises(ValueError, match='search_factor'):
        ModelConfig(search_factor=0)
    with pytest.raises(ValueError, match='size_update_rate'):
        ModelConfig(size_update_rate=1.5)
    # Files written before the crop factors were stored load with the official ones.
    older = {key: value for key, value in SMALL.to_dict().items() if 'factor' not in key}
    assert ModelConfig.from_dict(older) == SMALL
    assert (SMALL.template_factor, SMALL.search_factor) == (2.0, 4.0)


# ------------------------------------------------------------------ cached vs. reference


@pytest.mark.parametrize('depth,num_interaction', [(4, 2), (6, 3), (8, 3), (9, 3), (3, 1), (2, 2)])
def test_cached_path_matches_baseline_small(depth, num_interaction):
    config = SMALL.replace(depth=depth, num_interaction=num_interaction)
    model = make_model(config, seed=depth)
    template, box, search = make_inputs(config, batch=2, seed=depth)
    with torch.inference_mode():
        state = model.encode_template(template, box)
        cached = model.track_search(state, search)
        reference = model.forward_recompute(template, box, search)
    assert len(state.kv) == num_interaction
    assert max_abs_diff(cached, reference) <= TOLERANCE


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_cached_path_matches_baseline_vit_b(name):
    model = make_model(VARIANTS[name])
    template, box, search = make_inputs(model.config)
    with torch.inference_mode():
        state = model.encode_template(template, box)
        cached = model.track_search(state, search)
        reference = model.forward_recompute(template, box, search)
        upstream = model.forward_upstream(state, search)  # the benchmark's baseline
    assert cached.score_map.shape == (1, 1, 16, 16)
    # The maps must be informative for the comparison to mean anything.
    assert cached.score_map.std() > 0.01 and cached.offset_map.std() > 0.01
    assert max_abs_diff(cached, reference) <= TOLERANCE
    assert max_abs_diff(cached, upstream) <= TOLERANCE


@pytest.mark.parametrize('depth,num_interaction', [(4, 2), (6, 3), (3, 1), (2, 2)])
def test_upstream_per_frame_forward_matches_cached_path_small(depth, num_interaction):
    config = SMALL.replace(depth=depth, num_interaction=num_interaction)
    model = make_model(config, seed=depth)
    template, box, search = make_inputs(config, batch=2, seed=depth)
    with torch.inference_mode():
        state = model.encode_template(template, box)
        cached = model.track_search(state, search)
        from_state = model.forward_upstream(state, search)
        from_tokens = model.forward_upstream(state.z, search)
        # A batch-1 template serves a batch of search crops, as in the cached path.
        single = model.encode_template(template[:1], box[:1])
        shared = model.forward_upstream(single, search)
        shared_cached = model.track_search(single, search)
    assert max_abs_diff(cached, from_state) <= TOLERANCE
    assert max_abs_diff(from_state, from_tokens) == 0.0
    assert max_abs_diff(shared, shared_cached) <= TOLERANCE


def test_upstream_interaction_layer_keeps_the_template_rows():
    block = make_model(SMALL.replace(depth=2, num_interaction=1)).backbone.blocks[1]
    tokens = torch.randn(2, 64 + 256, 64, generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        out = block.forward_upstream(tokens, 64)
        k, v = block.template_kv(tokens[:, :64])
        cached = block.forward_interaction(tokens[:, 64:], k, v)
    assert torch.equal(out[:, :64], tokens[:, :64])
    assert (out[:, 64:] - cached).abs().max() <= TOLERANCE


def test_template_state_layout_and_reuse():
    config = SMALL.replace(depth=4, num_interaction=2)
    model = make_model(config)
    template, box, search = make_inputs(config, batch=2)
    with torch.inference_mode():
        state = model.encode_template(template, box)
        assert isinstance(state, TemplateState)
        assert state.z.shape == (2, 64, 64)
        assert [tuple(k.shape) for k, _ in state.kv] == [(2, 4, 64, 16)] * 2
        # Per-sample results equal batched ones, and the state can be reused every frame.
        batched = model(state, search)
        for i in range(2):
            single_state = model.encode_template(template[i:i + 1], box[i:i + 1])
            single = model.track_search(single_state, search[i:i + 1])
            assert max_abs_diff(single, HeadOutput(*(m[i:i + 1] for m in batched))) <= 1e-5
        # A batch-1 state serves a batch of search crops.
        shared = model.track_search(single_state, search)
        again = model.track_search(single_state, search[1:])
    assert max_abs_diff(HeadOutput(*(m[1:] for m in shared)), again) <= 1e-5


def test_outputs_depend_on_template_box_and_not_on_unused_embeddings():
    config = SMALL.replace(depth=4, num_interaction=2)
    model = make_model(config)
    template, box, search = make_inputs(config)
    with torch.inference_mode():
        base = model.track_search(model.encode_template(template, box), search)
        other_template = model.track_search(model.encode_template(template.flip(-1), box), search)
        other_box = model.track_search(model.encode_template(template, box * 0.5), search)
        model.backbone.pos_embed.zero_()
        model.backbone.cls_token.zero_()
        unused_zeroed = model.track_search(model.encode_template(template, box), search)
    assert max_abs_diff(base, other_template) > 1e-3
    assert max_abs_diff(base, other_box) > 1e-3
    assert max_abs_diff(base, unused_zeroed) == 0.0


# ------------------------------------------------------------------ VitTrack-style members

# Conv stem, final norm, no target token, template keys/values taken layer by layer.
VITSTYLE = SMALL.replace(depth=3, num_interaction=3, stem='conv', final_norm=True,
                         target_token=False, template_kv='layer')


def one_stream_reference(model: LiteTrack, template, box, search) -> HeadOutput:
    """Search rows of an OSTrack-style joint pass over [z; x], z updated by the template alone.

    What ``template_kv='layer'`` must compute, written with plain blocks only: in each
    interaction layer the search tokens attend to the template tokens of that depth.
    """
    config = model.config
    z = model.template_input(template, box)
    x = model.backbone.embed_search(search)
    for index, block in enumerate(model.backbone.blocks):
        if index < config.num_plain_layers:
            x = block(x, explicit=True)
        else:
            visible = model.template_output(z)
            x = block(torch.cat((visible, x), dim=1), explicit=True)[:, visible.shape[1]:]
        z = block(z, explicit=True)
    return model.head(x)


@pytest.mark.parametrize('changes', [
    {'stem': 'conv'}, {'final_norm': True}, {'target_token': False},
    {'template_kv': 'layer'}, {'depth': 4, 'num_interaction': 2, 'template_kv': 'layer'},
    VITSTYLE.to_dict()])
def test_other_members_cached_path_matches_baseline(changes):
    config = SMALL.replace(**changes)
    model = make_model(config, seed=5)
    template, box, search = make_inputs(config, batch=2, seed=5)
    with torch.inference_mode():
        state = model.encode_template(template, box)
        cached = model.track_search(state, search)
        reference = model.forward_recompute(template, box, search)
        upstream = model.forward_upstream(state, search)
    assert cached.score_map.std() > 0.01
    assert max_abs_diff(cached, reference) <= TOLERANCE
    assert max_abs_diff(cached, upstream) <= TOLERANCE
    if config.template_kv == 'layer':
        with torch.inference_mode():
            assert max_abs_diff(cached, one_stream_reference(model, template, box, search)) \
                <= TOLERANCE
        assert len(state.attended) == config.num_interaction


def test_template_kv_layer_differs_from_final_and_needs_every_layer():
    model = make_model(VITSTYLE, seed=2)
    final = make_model(VITSTYLE.replace(template_kv='final'), seed=2)
    template, box, search = make_inputs(VITSTYLE, seed=2)
    with torch.inference_mode():
        state = model.encode_template(template, box)
        out = model.track_search(state, search)
        other = final.track_search(final.encode_template(template, box), search)
        # Without a target token the box is unused.
        same = model.track_search(model.encode_template(template, box * 0.5), search)
        with pytest.raises(ValueError, match='template_kv'):
            model.forward_upstream(state.z, search)
    assert max_abs_diff(out, other) > 1e-3
    assert max_abs_diff(out, same) == 0.0


def test_conv_stem_layout():
    model = LiteTrack(SMALL_VARIANTS['C3'])
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    widths = [3, 6, 12, 24, 48]
    for index in range(4):
        assert shapes[f'backbone.patch_embed.proj.{2 * index}.weight'] == (
            widths[index + 1], widths[index], 3, 3)
    assert shapes['backbone.norm.weight'] == (48,)
    assert not any(key.startswith('target_token_embed') for key in shapes)
    assert variant_name(SMALL_VARIANTS['C3']) == 'C3'
    tokens = model.backbone.embed_search(torch.zeros(1, 3, 256, 256))
    assert tokens.shape == (1, 256, 48)


def test_new_fields_validated_and_round_trip():
    assert ModelConfig.from_dict(VITSTYLE.to_dict()) == VITSTYLE
    with pytest.raises(ValueError, match='stem'):
        ModelConfig(stem='resnet')
    with pytest.raises(ValueError, match='conv stem'):
        ModelConfig(stem='conv', embed_dim=60, num_heads=4)
    with pytest.raises(ValueError, match='template_kv'):
        ModelConfig(template_kv='first')
    with pytest.raises(ValueError, match='final_norm'):
        ModelConfig(final_norm='yes')


@pytest.mark.parametrize('config', [SMALL.replace(depth=2, num_interaction=1), VITSTYLE])
def test_fused_copy_computes_the_same_maps(config):
    model = make_model(config, seed=4)  # random BatchNorm statistics, so folding matters
    template, box, search = make_inputs(config, batch=2, seed=4)
    fused = model.fused()
    with torch.inference_mode():
        expected = model.track_search(model.encode_template(template, box), search)
        out = fused.track_search(fused.encode_template(template, box), search)
        channels_last = fused.to(memory_format=torch.channels_last)
        out_nhwc = channels_last.track_search(fused.encode_template(template, box), search)
    assert isinstance(fused.box_head, FusedCenterHead)
    assert isinstance(model.box_head, CenterHead)  # the original is left as it was
    assert expected.score_map.std() > 0.01
    assert max_abs_diff(out, expected) <= TOLERANCE
    assert max_abs_diff(out_nhwc, expected) <= TOLERANCE
    with pytest.raises(RuntimeError, match='eval mode'):
        model.train().fused()


def test_output_ranges():
    model = make_model(SMALL.replace(depth=2, num_interaction=1))
    template, box, search = make_inputs(model.config, batch=3)
    with torch.inference_mode():
        out = model.track_search(model.encode_template(template, box), search)
    assert out.score_map.shape == (3, 1, 16, 16)
    assert out.size_map.shape == out.offset_map.shape == (3, 2, 16, 16)
    for sigmoid_map in (out.score_map, out.size_map):
        assert sigmoid_map.min() >= 1e-4 and sigmoid_map.max() <= 1 - 1e-4
    assert all(m.dtype == torch.float32 for m in out)


DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_reduced_precision(device, dtype):
    model = make_model(SMALL.replace(depth=4, num_interaction=2))
    template, box, search = make_inputs(model.config)
    with torch.inference_mode():
        expected = model.track_search(model.encode_template(template, box), search)
        model = model.to(device=device, dtype=dtype)
        # float32 inputs are cast to the model's dtype.
        state = model.encode_template(template.to(device), box.to(device))
        out = model.track_search(state, search.to(device))
        reference = model.forward_recompute(template.to(device), box.to(device), search.to(device))
    assert state.z.dtype == dtype
    assert all(m.dtype == torch.float32 and torch.isfinite(m).all() for m in out)
    assert max_abs_diff(HeadOutput(*(m.cpu() for m in out)), expected) < 0.1
    assert max_abs_diff(out, reference) < 0.1


# ------------------------------------------------------------------ search size


def test_search_size_change_interpolates_position_embedding():
    model = make_model(SMALL.replace(depth=4, num_interaction=2))
    old = model.backbone.pos_embed_x.detach().clone()
    model.set_search_size(192)
    grid = old.reshape(1, 16, 16, -1).permute(0, 3, 1, 2)
    expected = F.interpolate(grid, size=(12, 12), mode='bicubic', align_corners=False)
    assert model.config.search_size == 192 and model.config.search_feat_size == 12
    assert torch.equal(model.backbone.pos_embed_x, expected.flatten(2).transpose(1, 2))
    template, box, search = make_inputs(model.config)
    with torch.inference_mode():
        cached = model.track_search(model.encode_template(template, box), search)
        reference = model.forward_recompute(template, box, search)
    assert cached.score_map.shape == (1, 1, 12, 12)
    assert max_abs_diff(cached, reference) <= TOLERANCE


def test_construct_with_other_search_size():
    model = LiteTrack(SMALL.replace(depth=2, num_interaction=1, search_size=128)).eval()
    template, box, search = make_inputs(model.config)
    assert model.backbone.pos_embed_x.shape == (1, 64, 64)
    with torch.inference_mode():
        out = model.track_search(model.encode_template(template, box), search)
    assert out.size_map.shape == (1, 2, 8, 8)


# ------------------------------------------------------------------ decoding


def test_hann_window():
    window = hann_window(16)
    one_d = [0.5 * (1 - math.cos(2 * math.pi * k / 17)) for k in range(1, 17)]
    expected = torch.tensor([[a * b for b in one_d] for a in one_d])
    assert window.shape == (16, 16) and window.dtype == torch.float32
    assert torch.allclose(window, expected, atol=1e-7)
    assert window.min() > 0 and torch.equal(window, window.T)


def test_decode_boxes():
    size = 16
    score = torch.full((2, 1, size, size), 1e-4)
    size_map = torch.zeros(2, 2, size, size)
    offset = torch.zeros(2, 2, size, size)
    # Sample 0: peak at row 3, column 5.
    score[0, 0, 3, 5] = 0.9
    size_map[0, :, 3, 5] = torch.tensor([0.25, 0.125])
    offset[0, :, 3, 5] = torch.tensor([0.5, 0.25])
    # Sample 1: the raw maximum sits at the border, the window prefers the central cell.
    score[1, 0, 0, 0] = 0.95
    score[1, 0, 8, 7] = 0.6
    size_map[1, :, 8, 7] = torch.tensor([0.5, 0.5])
    boxes, scores = decode_boxes(score, size_map, offset, hann_window(size))
    assert boxes.shape == (2, 4) and scores.shape == (2,)
    assert torch.allclose(boxes[0], torch.tensor([5.5 / 16, 3.25 / 16, 0.25, 0.125]))
    assert torch.allclose(boxes[1], torch.tensor([7 / 16, 8 / 16, 0.5, 0.5]))
    # The score is the raw one at the chosen cell, not the windowed one.
    assert torch.allclose(scores, torch.tensor([0.9, 0.6]))
    # Without a window the border peak wins.
    boxes, scores = decode_boxes(score, size_map, offset, None)
    assert torch.allclose(boxes[1, :2], torch.zeros(2)) and scores[1] == pytest.approx(0.95)


def test_decode_model_output():
    model = make_model(SMALL.replace(depth=2, num_interaction=1))
    template, box, search = make_inputs(model.config, batch=2)
    with torch.inference_mode():
        out = model.track_search(model.encode_template(template, box), search)
        boxes, scores = decode_boxes(*out, hann_window(16))
    assert boxes.shape == (2, 4) and torch.isfinite(boxes).all()
    assert ((scores >= 1e-4) & (scores <= 1 - 1e-4)).all()


def test_enable_flush_denormal_reports_support():
    assert isinstance(enable_flush_denormal(), bool)
