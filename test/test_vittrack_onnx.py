# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""VitTrack's ONNX network read into LiteTrack's ``C3`` shape, against onnxruntime.

The conversion is checked where it must be exact: the converted weights, run as VitTrack
runs them (one joint pass over ``[template; search]`` in every block), give the ONNX
file's maps to float32 arithmetic (measured: 1.7e-6 on offsets, 3e-7 on scores). The
LiteTrack form (template alone, cached per-layer keys/values) is another network with
the same weights. Needs ``../shared/data/peers/vitTracker_2023-09-08.onnx``, ``onnx`` and
``onnxruntime``; the refusals need only ``onnx``.
"""

from pathlib import Path

from litetrack_ros.model.checkpoint import CheckpointError, load_checkpoint, load_model
from litetrack_ros.model.config import SMALL_VARIANTS
from litetrack_ros.model.head import HeadOutput
import numpy as np
import pytest
from sequences import SEQUENCES_DIR
import torch

VITTRACK = SEQUENCES_DIR.parent / 'peers' / 'vitTracker_2023-09-08.onnx'
TOLERANCE = 1e-5

onnx = pytest.importorskip('onnx')
needs_vittrack = pytest.mark.skipif(not VITTRACK.is_file(), reason=f'{VITTRACK} not available')


def joint_forward(model, template: torch.Tensor, search: torch.Tensor) -> HeadOutput:
    """Run the converted weights as VitTrack does: every block over [z; x]."""
    backbone = model.backbone
    tokens = torch.cat((backbone.embed_template(template), backbone.embed_search(search)), 1)
    for block in backbone.blocks:
        tokens = block(tokens)
    return model.head(tokens[:, model.config.template_feat_size ** 2:])


@needs_vittrack
def test_converted_weights_compute_vittrack():
    onnxruntime = pytest.importorskip('onnxruntime')
    model = load_model(VITTRACK)
    assert model.config == SMALL_VARIANTS['C3']
    generator = torch.Generator().manual_seed(0)
    template = torch.randn(1, 3, 128, 128, generator=generator)
    search = torch.randn(1, 3, 256, 256, generator=generator)
    session = onnxruntime.InferenceSession(str(VITTRACK), providers=['CPUExecutionProvider'])
    expected = session.run(None, {'template': template.numpy(), 'search': search.numpy()})
    with torch.inference_mode():
        joint = joint_forward(model, template, search)
        state = model.encode_template(template, torch.tensor([[0.25, 0.25, 0.75, 0.75]]))
        cached = model.track_search(state, search)
        reference = model.forward_recompute(template, torch.zeros(1, 4), search)
    for ours, theirs in zip(joint, expected, strict=True):
        assert ours.shape == theirs.shape
        assert np.abs(ours.numpy() - theirs).max() <= TOLERANCE
    # The LiteTrack form is its own network (the template no longer sees the search)...
    assert max(np.abs(ours.numpy() - theirs).max()
               for ours, theirs in zip(cached, expected, strict=True)) > 1e-3
    # ...whose cached path is exact against its reference.
    assert max((a - b).abs().max().item() for a, b in zip(cached, reference, strict=True)) \
        <= TOLERANCE


@needs_vittrack
def test_converted_checkpoint_has_no_key_bias_and_unit_layer_scale():
    checkpoint = load_checkpoint(VITTRACK)
    state = checkpoint.state_dict
    assert not any('k_bias' in key for key in state)
    assert all(torch.equal(state[f'backbone.blocks.{i}.gamma_{j}'], torch.ones(48))
               for i in range(3) for j in (1, 2))
    assert state['backbone.blocks.0.attn.qkv.weight'].shape == (144, 48)


def test_other_onnx_files_are_refused(tmp_path: Path):
    helper = onnx.helper
    graph = helper.make_graph(
        [helper.make_node('Identity', ['template'], ['output1'])], 'identity',
        [helper.make_tensor_value_info('template', onnx.TensorProto.FLOAT, [1, 3, 128, 128])],
        [helper.make_tensor_value_info('output1', onnx.TensorProto.FLOAT, [1, 3, 128, 128])])
    path = tmp_path / 'other.onnx'
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(CheckpointError, match='not the VitTrack network'):
        load_model(path)
    garbage = tmp_path / 'garbage.onnx'
    garbage.write_bytes(b'\x00not an onnx file')
    with pytest.raises(CheckpointError, match='not the VitTrack network'):
        load_model(garbage)
    with pytest.raises(CheckpointError, match='no such file'):
        load_model(tmp_path / 'missing.onnx')
