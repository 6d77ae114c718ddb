# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``litetrack-export``: both ONNX graphs round-trip through ONNX Runtime."""

import json
from pathlib import Path

from litetrack_ros.cli import export
from litetrack_ros.model import LiteTrack, ModelConfig
from litetrack_ros.model.checkpoint import load_model, save_safetensors
import pytest
import torch

onnx = pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')
pytest.importorskip('onnxscript')

WEIGHTS = Path(__file__).resolve().parent.parent / 'weights' / 'litetrack_default_s.safetensors'
TINY = ModelConfig(depth=3, num_interaction=2, embed_dim=32, num_heads=2, head_channels=16,
                   template_size=64, search_size=128)


def graph_signature(path):
    """Input and output names with their static shapes."""
    graph = onnx.load(str(path)).graph

    def shapes(values):
        return {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in values}

    return shapes(graph.input), shapes(graph.output), onnx.load(str(path)).opset_import


def test_default_weights_export_matches_pytorch_in_onnx_runtime(tmp_path):
    net = load_model(WEIGHTS)
    files = export.export_onnx(net, tmp_path, source=str(WEIGHTS))
    assert export.check_onnx(net, files) <= export.TOLERANCE
    config = net.config  # C3: template 128, search 256 px, width 48 (1 head)
    heads, tokens = config.num_heads, config.template_feat_size ** 2
    kv = {f'{kind}{i}': [1, heads, tokens, config.embed_dim // heads]
          for i in range(config.num_interaction) for kind in 'kv'}
    assert len(kv) == 2 * config.num_interaction >= 2
    inputs, outputs, opsets = graph_signature(files.template)
    side, cells = config.template_size, config.search_feat_size
    assert inputs == {'template': [1, 3, side, side], 'template_box': [1, 4]}
    assert outputs == {'template_tokens': [1, tokens, config.embed_dim], **kv}
    assert all(o.version >= export.MIN_OPSET for o in opsets if o.domain in ('', 'ai.onnx'))
    inputs, outputs, _ = graph_signature(files.search)
    side = config.search_size
    assert inputs == {'search': [1, 3, side, side], **kv}
    assert outputs == {'score_map': [1, 1, cells, cells], 'size_map': [1, 2, cells, cells],
                       'offset_map': [1, 2, cells, cells]}
    metadata = json.loads(files.metadata.read_text())
    assert metadata['config'] == config.to_dict() and metadata['source'] == str(WEIGHTS)
    assert metadata['search']['inputs'] == inputs


def test_the_exported_network_is_left_as_it_was(tmp_path):
    torch.manual_seed(0)
    net = LiteTrack(TINY).to(torch.bfloat16).to(memory_format=torch.channels_last)
    export.export_onnx(net, tmp_path)
    assert net.dtype == torch.bfloat16
    assert net.box_head.conv1_ctr[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_a_wrong_graph_is_caught_by_the_check(tmp_path):
    torch.manual_seed(0)
    net = LiteTrack(TINY).eval()
    files = export.export_onnx(net, tmp_path)
    with torch.no_grad():
        net.box_head.conv5_size.bias.add_(0.5)  # PyTorch now differs from the files
    assert export.check_onnx(net, files) > 1e-2


def test_cli_exports_checks_and_prints_the_trtexec_commands(tmp_path, capsys):
    torch.manual_seed(0)
    weights = tmp_path / 'tiny.safetensors'
    save_safetensors(LiteTrack(TINY), weights)
    out = tmp_path / 'onnx'
    assert export.main(['--weights', str(weights), '--out', str(out), '--check']) == 0
    printed = capsys.readouterr().out
    assert (out / export.TEMPLATE_FILE).is_file() and (out / export.SEARCH_FILE).is_file()
    assert ': OK' in printed
    assert (f'trtexec --onnx={out / export.SEARCH_FILE} '
            f'--saveEngine={out / "litetrack_search.fp16.engine"} --fp16') in printed


@pytest.mark.parametrize('argv,message', [
    (['--weights', '/nonexistent.safetensors'], 'does not exist'),
    (['--opset', '16'], 'opset must be at least 17'),
])
def test_cli_bad_input(tmp_path, capsys, argv, message):
    assert export.main(argv + ['--out', str(tmp_path)]) == export.EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
