# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Malformed OpenVINO IR, ONNX and safetensors files: a clear error, fast, in little memory.

Every case ends in :class:`CheckpointError` (``litetrack-convert``: exit 2, one line),
never an IndexError, KeyError, RecursionError or MemoryError, and never a hang on a
FIFO or a device. The real IR and VitTrack files, where ``../shared`` has them, are
mutated too; without them those cases skip.
"""

import json
import os
from pathlib import Path
import random
import re
import shutil
import struct
import time

from litetrack_ros.cli import convert
from litetrack_ros.model.checkpoint import CheckpointError, load_checkpoint
from litetrack_ros.model.config import MAX_CROP_SIZE, ModelConfig
from litetrack_ros.model.openvino_ir import IR_FILES
import pytest
from sequences import SEQUENCES_DIR

IR_DIR = SEQUENCES_DIR.parent / 'teachers' / 'lighttrack_m_openvino'
VITTRACK = SEQUENCES_DIR.parent / 'peers' / 'vitTracker_2023-09-08.onnx'
# Seconds any one malformed file may take (generous for a loaded 2-core machine).
SECONDS = 20


def refused(path: Path, match: str = '') -> str:
    """Load ``path``; return the CheckpointError's message (asserting time and form)."""
    start = time.monotonic()
    with pytest.raises(CheckpointError) as raised:
        load_checkpoint(path)
    assert time.monotonic() - start < SECONDS
    message = str(raised.value)
    assert '\n' not in message and len(message) < 1000, message[:2000]
    assert re.search(match, message), message
    return message


def minimal_ir(folder: Path, const: str = 'element_type="f32" shape="2" offset="0" size="8"',
               extra: str = '') -> Path:
    """Write an IR folder whose three networks hold one constant each (not LightTrack)."""
    folder.mkdir(exist_ok=True)
    xml = (f'<net name="n" version="11"><layers>'
           f'<layer id="0" name="x" type="Parameter"/>'
           f'<layer id="1" name="c" type="Const"><data {const}/></layer>'
           f'<layer id="2" name="a" type="Add"/>{extra}</layers><edges>'
           f'<edge from-layer="0" from-port="0" to-layer="2" to-port="0"/>'
           f'<edge from-layer="1" from-port="0" to-layer="2" to-port="1"/>'
           f'</edges></net>')
    for name in IR_FILES:
        (folder / f'{name}.xml').write_text(xml)
        (folder / f'{name}.bin').write_bytes(bytes(8))
    return folder


def test_ir_bin_that_is_a_fifo_or_a_device_is_refused_without_blocking(tmp_path):
    folder = minimal_ir(tmp_path / 'fifo')
    (folder / 'x_feature.bin').unlink()
    os.mkfifo(folder / 'x_feature.bin')
    refused(folder, 'not a regular file')
    (folder / 'x_feature.bin').unlink()
    (folder / 'x_feature.bin').symlink_to('/dev/zero')
    refused(folder, 'not a regular file')


@pytest.mark.parametrize('text', [
    'element_type="f32" shape="100000,100000" offset="0" size="40000000000"',
    'element_type="f32" shape="4294967296,4294967296" offset="0" size="0"',
    'element_type="f32" shape="2" offset="99999999999" size="8"',
    'element_type="f32" shape="x" offset="0" size="8"',
    'element_type="f32" shape="2" offset="-8" size="8"',
    'element_type="f32" shape="2"',
    'element_type="u1" shape="2" offset="0" size="8"',
])
def test_ir_constants_are_checked_against_the_bin_before_allocation(tmp_path, text):
    minimal_ir(tmp_path / 'ir', text)
    # The walk fails at the first layer either way; the constant is read when asked.
    from litetrack_ros.model.openvino_ir import Graph
    graph = Graph(tmp_path / 'ir' / 'head.xml')
    start = time.monotonic()
    with pytest.raises(CheckpointError) as raised:
        graph.constant('1')
    assert time.monotonic() - start < 1 and len(str(raised.value)) < 400


@pytest.mark.parametrize('xml', [
    '<net><layers><layer id="0" type="Parameter"/></layers><edges>'
    '<edge from-layer="0" to-layer="0"/></edges></net>',  # no to-port
    '<net><layers><layer type="Parameter"/></layers></net>',  # no id
    '<net><layers><layer id="0"/><layer id="0"/></layers></net>',  # repeated id
    '<net><layers>' + '<a>' * 100_000 + '</a>' * 100_000 + '</layers></net>',
    '<net>' + 'x' * 1000,
])
def test_malformed_ir_xml_is_a_checkpoint_error(tmp_path, xml):
    folder = minimal_ir(tmp_path / 'ir')
    for name in IR_FILES:
        (folder / f'{name}.xml').write_text(xml)
    refused(folder)


@pytest.fixture(scope='module')
def ir_copy(tmp_path_factory) -> Path:
    if not (IR_DIR / 'head.xml').is_file():
        pytest.skip(f'{IR_DIR} not available')
    folder = tmp_path_factory.mktemp('ir') / 'ir'
    shutil.copytree(IR_DIR, folder)
    return folder


def mutated_ir(source: Path, target: Path, mutate) -> Path:
    shutil.copytree(source, target)
    for name in IR_FILES:
        path = target / f'{name}.xml'
        path.write_text(mutate(path.read_text()))
    return target


@pytest.mark.parametrize('case', ['sizes', 'types', 'ports', 'drop-edges', 'names'])
def test_mutated_lighttrack_ir_is_refused_fast(ir_copy, tmp_path, case):
    """The real IR with its graph damaged: refused, never a 3.6 GB list or 489 MB message."""
    rng = random.Random(case)

    def mutate(text: str) -> str:
        if case == 'sizes':
            return re.sub(r'size="(\d+)"', lambda m: f'size="{int(m[1]) * 1000}"', text)
        if case == 'types':
            return re.sub(r'element_type="f16"', 'element_type="i64"', text)
        if case == 'ports':
            return re.sub(r'to-port="\d+"', lambda m: f'to-port="{rng.randrange(9)}"', text)
        if case == 'drop-edges':
            lines = text.splitlines()
            return '\n'.join(line for line in lines if 'edge ' not in line or rng.random() > .1)
        return re.sub(r'name="([^"]*)"', lambda m: f'name="{m[1] * 5000}"', text, count=50)

    refused(mutated_ir(ir_copy, tmp_path / case, mutate))


def test_ir_range_constant_of_a_billion_channels_is_refused(ir_copy, tmp_path):
    folder = tmp_path / 'range'
    shutil.copytree(ir_copy, folder)
    for name in ('x_feature', 'z_feature'):
        path = folder / f'{name}.bin'
        data = bytearray(path.read_bytes())
        data[8:16] = struct.pack('<q', 10 ** 9)  # the stop of Range (Constant_2123/2124)
        path.write_bytes(bytes(data))
    refused(folder, 'channel swap')


def onnx_model(**kwargs):
    onnx = pytest.importorskip('onnx')
    helper = onnx.helper
    initializers = kwargs.get('initializers', [])
    nodes = kwargs.get('nodes', [helper.make_node('MatMul', ['search'], ['out'])])
    graph = helper.make_graph(
        nodes, 'g',
        [helper.make_tensor_value_info('search', onnx.TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info('out', onnx.TensorProto.FLOAT, [1])],
        initializer=initializers)
    return helper.make_model(graph)


def test_onnx_external_data_and_lying_shapes_are_refused(tmp_path):
    onnx = pytest.importorskip('onnx')
    external = onnx.TensorProto(name='pos_embed_z', data_type=onnx.TensorProto.FLOAT,
                                dims=[1 << 20])
    external.data_location = onnx.TensorProto.EXTERNAL
    entry = external.external_data.add()
    entry.key, entry.value = 'location', '/dev/zero'
    lying = onnx.TensorProto(name='pos_embed_z', data_type=onnx.TensorProto.FLOAT,
                             dims=[100000, 100000], raw_data=b'\0' * 8)
    for name, tensor in (('external', external), ('lying', lying)):
        path = tmp_path / f'{name}.onnx'
        path.write_bytes(onnx_model(initializers=[tensor]).SerializeToString())
        refused(path, 'not the VitTrack network')


def test_onnx_nodes_missing_inputs_are_a_checkpoint_error(tmp_path):
    onnx = pytest.importorskip('onnx')
    helper = onnx.helper
    nodes = [helper.make_node('Conv', ['search'], ['a']), helper.make_node('MatMul', ['a'], []),
             helper.make_node('Relu', [], ['b'])]
    path = tmp_path / 'short.onnx'
    path.write_bytes(onnx_model(nodes=nodes).SerializeToString())
    refused(path, 'not the VitTrack network')
    fifo = tmp_path / 'fifo.onnx'
    os.mkfifo(fifo)
    refused(fifo, 'not a regular file')


@pytest.mark.skipif(not VITTRACK.is_file(), reason=f'{VITTRACK} not available')
def test_mutated_vittrack_onnx_is_refused_fast(tmp_path):
    onnx = pytest.importorskip('onnx')
    rng = random.Random(20)
    for index in range(6):
        model = onnx.load(str(VITTRACK))
        nodes = model.graph.node
        for node in rng.sample(list(nodes), 5):
            if index % 3 == 0 and len(node.input) > 1:
                del node.input[1:]
            elif index % 3 == 1:
                del node.output[:]
            else:
                node.op_type = 'Relu'
        used = [init for init in model.graph.initializer if init.name.startswith('pos_embed')]
        rng.choice(used).dims.append(1 << 30)
        path = tmp_path / f'mutated{index}.onnx'
        path.write_bytes(model.SerializeToString())
        refused(path, 'not the VitTrack network')


def safetensors_file(path: Path, metadata: dict) -> Path:
    header = json.dumps({'__metadata__': metadata,
                         'w': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}}).encode()
    path.write_bytes(struct.pack('<Q', len(header)) + header + bytes(4))
    return path


@pytest.mark.parametrize('config', [
    '[' * 100_000 + ']' * 100_000,  # RecursionError in json
    '[1, 2]', '"text"', '{"depth": "6"}', '{"mlp_ratio": 1e309}', '{"depth": 100000}',
    '{"search_size": 1000000}', '{"embed_dim": 1000000, "num_heads": 1}',
    '{"template_factor": NaN}', '{"unknown": 1}',
])
def test_safetensors_config_metadata_is_validated(tmp_path, config):
    path = safetensors_file(tmp_path / 'w.safetensors', {'litetrack_config': config})
    refused(path, 'bad litetrack_config metadata')


def test_config_bounds_crop_sizes_for_every_tool():
    with pytest.raises(ValueError, match='search_size'):
        ModelConfig().replace(search_size=MAX_CROP_SIZE + 16)
    assert ModelConfig().replace(search_size=MAX_CROP_SIZE).search_size == MAX_CROP_SIZE


def test_convert_exits_2_with_one_line_on_malformed_files(tmp_path, capsys):
    cases = [safetensors_file(tmp_path / 'bad.safetensors', {'litetrack_config': '[' * 50_000}),
             minimal_ir(tmp_path / 'ir', 'element_type="f32" shape="x" offset="0" size="8"')]
    fifo = tmp_path / 'fifo.pth'
    os.mkfifo(fifo)
    cases.append(fifo)
    for path in cases:
        assert convert.main([str(path), str(tmp_path / 'out.safetensors')]) == 2
        err = capsys.readouterr().err
        assert err.startswith('litetrack-convert: ') and err.count('\n') == 1, err
        assert 'Traceback' not in err


@pytest.fixture(scope='module')
def clean_files(tmp_path_factory) -> dict[str, bytes]:
    from litetrack_ros.model import LiteTrack, SMALL_VARIANTS
    from litetrack_ros.model.checkpoint import save_safetensors
    import torch
    folder = tmp_path_factory.mktemp('clean')
    torch.manual_seed(0)
    net = LiteTrack(SMALL_VARIANTS['C3'])
    save_safetensors(net, folder / 'w.safetensors')
    torch.save({'net': net.state_dict(), 'epoch': 1}, folder / 'zip.pth')
    torch.save({'net': net.state_dict()}, folder / 'legacy.pth',
               _use_new_zipfile_serialization=False)
    return {path.name: path.read_bytes() for path in folder.iterdir()}


@pytest.mark.parametrize('name', ['w.safetensors', 'zip.pth', 'legacy.pth'])
def test_truncated_and_flipped_checkpoints_give_a_checkpoint_error(tmp_path, clean_files, name):
    """Random damage to each format: loaded, or refused with CheckpointError, quickly."""
    from litetrack_ros.model.checkpoint import load_model
    rng = random.Random(name)
    clean = clean_files[name]
    path = tmp_path / name
    for case in range(60):
        data = bytearray(clean)
        if case % 3 == 0:
            data = data[:rng.randrange(len(data))]
        else:  # flips, most of them in the headers and pickles at the start
            span = min(len(data), 4096) if case % 3 == 1 else len(data)
            for _ in range(rng.randrange(1, 30)):
                data[rng.randrange(span)] = rng.randrange(256)
        path.write_bytes(bytes(data))
        start = time.monotonic()
        try:
            load_model(path)
        except CheckpointError as error:
            assert '\n' not in str(error) and len(str(error)) < 1000
        assert time.monotonic() - start < SECONDS
