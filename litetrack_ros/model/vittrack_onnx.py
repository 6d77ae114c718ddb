# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Read VitTrack's weights out of its ONNX file into LiteTrack's ``C3`` shape.

VitTrack (``vitTracker_2023-09-08.onnx``, OpenCV's ``cv2.TrackerVit``, Apache-2.0) is an
OSTrack-style network: one conv stem shared by both crops (four 3x3 stride-2
convolutions with their BatchNorms folded in, hard-swish between), position embeddings
for the 8x8 template and 16x16 search grids, three pre-norm ViT blocks of width 48 with
one head, a final LayerNorm and OSTrack's centre head (BatchNorms folded). Every block
attends over ``[template; search]`` jointly; LiteTrack's form (``ModelConfig`` ``'C3'``)
runs the same weights with the template encoded alone, once per target, and cached
template keys/values, so the converted network is a starting point for fine-tuning
(``litetrack-train --init vitTracker.onnx``), not VitTrack itself.

What the export changed, and how it is mapped back (walked along the graph, never by the
order of the constants):

* ``MatMul`` weights are stored (in, out): transposed to ``nn.Linear``'s (out, in);
* the qkv projection has a key bias, which LiteTrack's attention lacks: adding a
  constant to every key adds the same logit to each of a query's keys, which softmax
  cancels, so it is dropped exactly;
* the folded BatchNorms of the head become identities (weight 1, bias 0, running mean
  0, running variance 1 - eps) after convolutions that carry the folded weights;
* blocks have no layer scale: ``gamma_1 = gamma_2 = 1``.

Needs the ``onnx`` package (``pip install onnx``); any node or shape that does not fit
raises :class:`CheckpointError` naming it.
"""

from __future__ import annotations

import math
import os
from typing import Any

from litetrack_ros.model.config import ModelConfig, SMALL_VARIANTS
from litetrack_ros.model.files import quoted, read_regular, shorten
import numpy as np
import torch
from torch import Tensor

PathLike = str | os.PathLike
# The head's branches in LiteTrack's key names.
BRANCHES = ('ctr', 'offset', 'size')
BN_EPS = 1e-5
# Largest ONNX file read (VitTrack's is 0.7 MB) and most dimensions of a constant.
MAX_ONNX_BYTES = 256 << 20
MAX_DIMS = 8


class VitTrackOnnxError(RuntimeError):
    """The ONNX file is not VitTrack's network (raised as CheckpointError by the loader)."""


def vittrack_config() -> ModelConfig:
    """Return the config of a network converted from VitTrack (the ``C3`` shape)."""
    return SMALL_VARIANTS['C3']


class _Graph:
    """The nodes and constants of an ONNX graph, with lookups by tensor name."""

    def __init__(self, model: Any) -> None:
        graph = model.graph
        # Kept as protos: each is checked, then converted, only when the walk needs it.
        self.initializers = {init.name: init for init in graph.initializer}
        self.nodes = list(graph.node)
        self.producer = {output: node for node in self.nodes for output in node.output}
        self.consumers: dict[str, list[Any]] = {}
        for node in self.nodes:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)

    def weight(self, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        if name not in self.initializers:
            raise VitTrackOnnxError(f'no constant {quoted(name, 80)}')
        array = _to_array(self.initializers[name]).astype(np.float32)
        if shape is not None and array.shape != shape:
            raise VitTrackOnnxError(f'{name!r} has shape {array.shape}, expected {shape}')
        return array

    def only_consumer(self, name: str, op_type: str) -> Any:
        nodes = [node for node in self.consumers.get(name, []) if node.op_type == op_type]
        if len(nodes) != 1:
            raise VitTrackOnnxError(f'expected one {op_type} after {name!r}, found {len(nodes)}')
        return nodes[0]

    def conv(self, node: Any) -> tuple[np.ndarray, np.ndarray]:
        if node.op_type != 'Conv' or len(node.input) != 3:
            raise VitTrackOnnxError(f'expected a Conv with a bias, found {node.op_type} '
                                    f'{node.name!r}')
        return self.weight(node.input[1]), self.weight(node.input[2])


def _to_array(tensor: Any) -> np.ndarray:
    """Convert an initializer, after checking that its data holds what its shape says."""
    from onnx import helper, numpy_helper, TensorProto  # noqa: PLC0415 - optional dependency
    name = quoted(tensor.name, 80)
    if tensor.data_location == TensorProto.EXTERNAL or tensor.external_data:
        raise VitTrackOnnxError(f'{name}: external data is not read')
    dims = list(tensor.dims)
    if len(dims) > MAX_DIMS or any(d < 0 for d in dims):
        raise VitTrackOnnxError(f'{name}: shape {quoted(dims, 80)}')
    count = math.prod(dims)
    try:
        itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
    except (KeyError, TypeError, ValueError):
        raise VitTrackOnnxError(f'{name}: unsupported data type {tensor.data_type}') from None
    if tensor.HasField('raw_data'):
        held = len(tensor.raw_data) // itemsize
    else:
        held = max((len(getattr(tensor, field)) for field in (
            'float_data', 'int32_data', 'int64_data', 'double_data', 'uint64_data')), default=0)
    if count != held:
        raise VitTrackOnnxError(f'{name}: shape {quoted(dims, 80)} but {held} values stored')
    return numpy_helper.to_array(tensor)


def _stem(graph: _Graph, state: dict[str, np.ndarray]) -> None:
    # search -> Conv (-> HardSwish -> Conv) x 3; the template's stem has the same weights.
    name = 'search'
    for index in range(4):
        node = graph.only_consumer(name, 'Conv')
        weight, bias = graph.conv(node)
        state[f'backbone.patch_embed.proj.{2 * index}.weight'] = weight
        state[f'backbone.patch_embed.proj.{2 * index}.bias'] = bias
        name = node.output[0]
        if index < 3:
            name = graph.only_consumer(name, 'HardSwish').output[0]


def _add_operand(graph: _Graph, node: Any) -> str:
    constants = [name for name in node.input if name in graph.initializers]
    if node.op_type != 'Add' or len(constants) != 1:
        raise VitTrackOnnxError(f'expected an Add of a constant, found {node.op_type}')
    return constants[0]


def _blocks(graph: _Graph, state: dict[str, np.ndarray], config: ModelConfig) -> None:
    # Each block: four MatMuls with constant weights (qkv, proj, fc1, fc2), each followed
    # by the Add of its bias, which carries the block's name.
    matmuls = [node for node in graph.nodes if node.op_type == 'MatMul'
               and node.input[1] in graph.initializers]
    if len(matmuls) != 4 * config.depth:
        raise VitTrackOnnxError(f'expected {4 * config.depth} weight MatMuls, '
                                f'found {len(matmuls)}')
    dim, hidden = config.embed_dim, config.mlp_hidden_dim
    shapes = {'attn.qkv': (dim, 3 * dim), 'attn.proj': (dim, dim), 'mlp.fc1': (dim, hidden),
              'mlp.fc2': (hidden, dim)}
    for index in range(config.depth):
        prefix = f'blocks.{index}.'
        block_matmuls = matmuls[4 * index:4 * index + 4]
        for node, (layer, shape) in zip(block_matmuls, shapes.items(), strict=True):
            bias_name = _add_operand(graph, graph.only_consumer(node.output[0], 'Add'))
            if bias_name != f'{prefix}{layer}.bias':
                raise VitTrackOnnxError(f'{prefix}{layer}: its bias is {bias_name!r}')
            weight = graph.weight(node.input[1], shape).T
            bias = graph.weight(bias_name)
            key = f'backbone.{prefix}{layer}'
            if layer == 'attn.qkv':
                state[f'{key}.weight'] = weight
                state[f'backbone.{prefix}attn.q_bias'] = bias[:dim]
                state[f'backbone.{prefix}attn.v_bias'] = bias[2 * dim:]
            else:
                state[f'{key}.weight'], state[f'{key}.bias'] = weight, bias
        for norm in ('norm1', 'norm2'):
            for part in ('weight', 'bias'):
                state[f'backbone.{prefix}{norm}.{part}'] = graph.weight(
                    f'{prefix}{norm}.{part}', (dim,))
        for gamma in ('gamma_1', 'gamma_2'):
            state[f'backbone.{prefix}{gamma}'] = np.ones(dim, np.float32)
    for part in ('weight', 'bias'):
        state[f'backbone.norm.{part}'] = graph.weight(f'norm.{part}', (dim,))


def _head(graph: _Graph, state: dict[str, np.ndarray]) -> None:
    # Walk back from each branch's final 1x1 conv: (Conv <- Relu) x 4.
    for branch in BRANCHES:
        key = f'box_head.conv5_{branch}'
        finals = [node for node in graph.nodes
                  if node.op_type == 'Conv' and node.input[1] == f'{key}.weight']
        if len(finals) != 1:
            raise VitTrackOnnxError(f'no single Conv with weight {key}.weight')
        state[f'{key}.weight'], state[f'{key}.bias'] = graph.conv(finals[0])
        node = finals[0]
        for index in range(4, 0, -1):
            relu = graph.producer.get(node.input[0])
            if relu is None or relu.op_type != 'Relu':
                raise VitTrackOnnxError(f'{key}: expected a Relu before it')
            node = graph.producer[relu.input[0]]
            weight, bias = graph.conv(node)
            prefix = f'box_head.conv{index}_{branch}'
            state[f'{prefix}.0.weight'], state[f'{prefix}.0.bias'] = weight, bias
            channels = weight.shape[0]
            state[f'{prefix}.1.weight'] = np.ones(channels, np.float32)
            state[f'{prefix}.1.bias'] = np.zeros(channels, np.float32)
            state[f'{prefix}.1.running_mean'] = np.zeros(channels, np.float32)
            state[f'{prefix}.1.running_var'] = np.full(channels, 1.0 - BN_EPS, np.float32)


def read_vittrack_onnx(path: PathLike) -> tuple[dict[str, Tensor], ModelConfig]:
    """Return VitTrack's weights as a LiteTrack ``C3`` state dict, and that config.

    Raises :class:`VitTrackOnnxError` for a file that is not VitTrack's network and
    ``ImportError`` without the ``onnx`` package.
    """
    import onnx  # noqa: PLC0415 - optional dependency
    # A regular file of bounded size, parsed from memory: external data files are never
    # opened (their names come from the file).
    data = read_regular(path, MAX_ONNX_BYTES)
    try:
        model = onnx.load_model_from_string(data)
    except Exception as error:  # onnx raises several unrelated types
        raise VitTrackOnnxError(f'not a readable ONNX file ({shorten(str(error))})') from None
    try:
        return _convert(model)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError,
            RecursionError) as error:  # a graph of the wrong shape, whatever the step
        raise VitTrackOnnxError(f'{type(error).__name__}: {shorten(str(error))}') from None


def _convert(model: Any) -> tuple[dict[str, Tensor], ModelConfig]:
    graph = _Graph(model)
    config = vittrack_config()
    dim = config.embed_dim
    state: dict[str, np.ndarray] = {
        'backbone.cls_token': np.zeros((1, 1, dim), np.float32),
        'backbone.pos_embed': np.zeros((1, config.pretrain_grid ** 2 + 1, dim), np.float32),
        'backbone.pos_embed_z': graph.weight(
            'pos_embed_z', (1, config.template_feat_size ** 2, dim)),
        'backbone.pos_embed_x': graph.weight(
            'pos_embed_x', (1, config.search_feat_size ** 2, dim)),
    }
    _stem(graph, state)
    _blocks(graph, state, config)
    _head(graph, state)
    tensors = {key: torch.from_numpy(np.ascontiguousarray(value))
               for key, value in state.items()}
    for key in list(tensors):
        if key.endswith('.running_var'):
            tensors[key.replace('running_var', 'num_batches_tracked')] = torch.tensor(0)
    return tensors, config
