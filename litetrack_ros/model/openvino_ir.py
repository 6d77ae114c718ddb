# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Read LightTrack-M weights out of an OpenVINO IR (``.xml`` graph + ``.bin`` constants).

Only the standard library (XML) and numpy (the ``.bin`` file) are used: the OpenVINO
runtime is not needed. The IR folder holds three networks exported from the official
model: ``z_feature`` (template branch, input ``z`` 1x128x128x3), ``x_feature`` (search
branch, input ``x`` 1x256x256x3; the same backbone weights) and ``head`` (inputs ``zf``,
``xf``; outputs ``cls`` 16x16 and ``reg`` 4x16x16). What the export changed, and how it
is undone (all checked against the graph, never assumed from the order of the constants):

* preprocessing inside the IR: u8 NHWC BGR input, channels reversed to RGB (Gather
  [2, 1, 0]), ``(x - 255 * mean) / (255 * std)`` with the ImageNet mean/std, NCHW. That
  is this package's normalisation exactly, so the PyTorch model takes normalised RGB;
* every BatchNorm after a convolution folded into the convolution's weights plus an
  ``Add`` of a bias: the conv gets the folded weights and its BatchNorm becomes the
  identity with that bias (running mean 0, running variance 1 - eps, weight 1, so it
  computes ``x + bias`` exactly in float32);
* the neck's two BatchNorms as ``Multiply`` + ``Add``: weight = scale, bias = shift;
* the 0.1 of the classification predictor folded into its conv (divided out again),
  and a sigmoid added after it (the IR's ``cls`` is a probability; the model returns
  logits);
* weights stored as FP16 (converted to float32 here).

The graph is walked from each input along the structure of :class:`LightTrack`; any
node or shape that does not fit raises :class:`CheckpointError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
import os
from pathlib import Path
from typing import Iterator
import xml.etree.ElementTree as ET

from litetrack_ros.model.config import LightTrackConfig
from litetrack_ros.model.errors import CheckpointError
from litetrack_ros.model.files import quoted, read_regular, shorten
from litetrack_ros.model.lighttrack import (
    CLS_SCALE,
    DepthwiseSeparable,
    InvertedResidual,
    LightTrack,
    SqueezeExcite,
)
import numpy as np
import torch
from torch import nn, Tensor

PathLike = str | os.PathLike
IR_FILES = ('z_feature', 'x_feature', 'head')
# ImageNet statistics the IR applies to 0..255 RGB values.
IMAGENET_MEAN_255 = np.array((0.485, 0.456, 0.406)) * 255
IMAGENET_STD_255 = np.array((0.229, 0.224, 0.225)) * 255
# Largest .xml and .bin accepted (LightTrack-M's are ~0.3 MB and ~4 MB).
MAX_XML_BYTES = 64 << 20
MAX_BIN_BYTES = 512 << 20
MAX_CONSTANT_DIMS = 8
_DTYPES = {'f16': np.float16, 'f32': np.float32, 'f64': np.float64, 'i64': np.int64,
           'i32': np.int32, 'u64': np.uint64, 'u8': np.uint8, 'i8': np.int8}


def is_lighttrack_ir(path: PathLike) -> bool:
    """Whether ``path`` is a folder holding the three LightTrack IR networks."""
    folder = Path(path)
    return folder.is_dir() and all((folder / f'{name}.xml').is_file() for name in IR_FILES)


def _integer(text: str | None, what: str) -> int:
    """Parse a non-negative integer attribute of the IR; else :class:`CheckpointError`."""
    value = (text or '').strip()
    if not value.isdigit() or len(value) > 18:
        raise CheckpointError(f'bad {what} {quoted(text, 40)} in the IR')
    return int(value)


@dataclass
class Node:
    """One IR layer: its type, name, attributes, inputs (by port) and consumers."""

    id: str  # noqa: A003 - the IR's attribute names
    type: str  # noqa: A003
    name: str
    attrs: dict[str, str]
    inputs: list[str] = field(default_factory=list)
    consumers: list[str] = field(default_factory=list)


class Graph:
    """An IR network: nodes, edges and constant values."""

    def __init__(self, xml_path: Path) -> None:
        self.path = xml_path
        bin_path = xml_path.with_suffix('.bin')
        # Regular files of bounded size only: a FIFO or a device would block or never end.
        xml_text = read_regular(xml_path, MAX_XML_BYTES)
        self._blob = read_regular(bin_path, MAX_BIN_BYTES)
        try:
            root = ET.fromstring(xml_text)
        except (ET.ParseError, ValueError, RecursionError) as error:
            raise CheckpointError(f'{xml_path}: not a readable OpenVINO IR '
                                  f'({shorten(str(error))})') from None
        self.nodes: dict[str, Node] = {}
        for layer in root.iter('layer'):
            data = layer.find('data')
            node_id = layer.get('id')
            if node_id is None or node_id in self.nodes:
                raise CheckpointError(f'{xml_path}: a layer without an id, or a repeated id '
                                      f'{quoted(node_id, 40)}')
            self.nodes[node_id] = Node(node_id, layer.get('type', ''), layer.get('name', ''),
                                       dict(data.attrib) if data is not None else {})
        edges = root.find('edges')
        ports: dict[str, dict[int, str]] = {}
        for edge in edges.iter('edge') if edges is not None else ():
            source, target = edge.get('from-layer'), edge.get('to-layer')
            if source not in self.nodes or target not in self.nodes:
                raise CheckpointError(f'{xml_path}: edge between unknown layers '
                                      f'{quoted(source, 40)} -> {quoted(target, 40)}')
            ports.setdefault(target, {})[_integer(edge.get('to-port'), 'to-port')] = source
            self.nodes[source].consumers.append(target)
        for target, by_port in ports.items():
            self.nodes[target].inputs = [by_port[port] for port in sorted(by_port)]

    def describe(self, node: Node) -> str:
        """Name a node for error messages."""
        return (f'{self.path.name}: layer {shorten(node.id, 40)} ({shorten(node.type, 40)} '
                f'{quoted(node.name, 80)})')

    def parameter(self, name: str) -> Node:
        """Return the input layer called ``name``."""
        for node in self.nodes.values():
            if node.type == 'Parameter' and node.name == name:
                return node
        raise CheckpointError(f'{self.path}: no input named {name!r}')

    def constant(self, node_id: str) -> np.ndarray | None:
        """Value of a constant input (through decompression ``Convert``s), else None."""
        node = self.nodes[node_id]
        while node.type == 'Convert' and len(node.inputs) == 1:
            node = self.nodes[node.inputs[0]]
        if node.type != 'Const':
            return None
        attrs = node.attrs
        dtype = _DTYPES.get(attrs.get('element_type', ''))
        if dtype is None:
            raise CheckpointError(
                f'{self.describe(node)}: unsupported type {attrs.get("element_type")}')
        # Python integers (no overflow), checked against the .bin before anything is built.
        shape = [_integer(s, 'shape') for s in attrs.get('shape', '').split(',') if s.strip()]
        offset = _integer(attrs.get('offset'), 'offset')
        size = _integer(attrs.get('size'), 'size')
        count = math.prod(shape)
        if len(shape) > MAX_CONSTANT_DIMS or size != count * np.dtype(dtype).itemsize \
                or offset + size > len(self._blob):
            raise CheckpointError(f'{self.describe(node)}: constant of shape '
                                  f'{quoted(shape, 80)} does not fit the .bin file')
        return np.frombuffer(self._blob, dtype, count, offset).reshape(shape)

    def data_consumers(self, node: Node) -> list[Node]:
        """Layers that take ``node``'s output as data (not constants or shapes)."""
        return [self.nodes[i] for i in dict.fromkeys(node.consumers)]


class Walker:
    """Follows one IR graph node by node, checking each step against the model."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def fail(self, node: Node, message: str) -> Exception:
        """Build an error about ``node``."""
        return CheckpointError(f'{self.graph.describe(node)}: {message}')

    def next(self, node: Node, layer_type: str,  # noqa: A003
             other: Node | None = None) -> Node:
        """Return the one consumer of ``node`` of this type (taking ``other`` too, if given)."""
        found = [c for c in self.graph.data_consumers(node) if c.type == layer_type
                 and (other is None or other.id in c.inputs)]
        if len(found) != 1:
            types = sorted(c.type for c in self.graph.data_consumers(node))
            raise self.fail(node, f'expected one {layer_type} after it, found consumers {types}')
        return found[0]

    def const_input(self, node: Node) -> np.ndarray:
        """Return the one constant input of an elementwise layer, as float32."""
        values = [v for v in map(self.graph.constant, node.inputs) if v is not None]
        if len(values) != 1:
            raise self.fail(node, 'expected exactly one constant input')
        return values[0].astype(np.float32)

    def conv(self, node: Node, module: nn.Conv2d, conv: Node | None = None
             ) -> tuple[Tensor, Node]:
        """Read the (Group)Convolution after ``node`` (or ``conv``) in ``module``'s shape."""
        grouped = module.groups > 1
        layer_type = 'GroupConvolution' if grouped else 'Convolution'
        if conv is None:
            conv = self.next(node, layer_type)
        elif conv.type != layer_type or node.id not in conv.inputs:
            raise self.fail(conv, f'expected a {layer_type} taking {node.name!r}')
        weight = self.graph.constant(conv.inputs[1]) if len(conv.inputs) == 2 else None
        if weight is None:
            raise self.fail(conv, 'weights are not a constant')
        expected = tuple(module.weight.shape)
        if grouped:  # (groups, out / groups, in / groups, k, k)
            weight = weight.reshape((weight.shape[0] * weight.shape[1],) + weight.shape[2:])
        if tuple(weight.shape) != expected:
            raise self.fail(conv, f'weights {tuple(weight.shape)}, expected {expected}')
        strides = tuple(int(s) for s in conv.attrs.get('strides', '1,1').split(','))
        pads = tuple(int(s) for s in conv.attrs.get('pads_begin', '0,0').split(','))
        pads_end = tuple(int(s) for s in conv.attrs.get('pads_end', '0,0').split(','))
        if strides != module.stride or pads != module.padding or pads_end != module.padding:
            raise self.fail(conv, f'strides {strides} / pads {pads}, {pads_end} differ from '
                                  f'the model ({module.stride}, {module.padding})')
        return torch.from_numpy(weight.astype(np.float32)), conv

    def bias(self, node: Node, channels: int) -> tuple[Tensor, Node]:
        """Read the Add of a per-channel constant after ``node``."""
        add = self.next(node, 'Add')
        value = self.const_input(add)
        if value.size != channels:
            raise self.fail(add, f'bias of {value.size} values, expected {channels}')
        return torch.from_numpy(value.reshape(channels).copy()), add


class StateDict:
    """Collects tensors under the model's names and checks that each is set once."""

    def __init__(self, model: LightTrack) -> None:
        self.model = model
        self.values: dict[str, Tensor] = {}

    def set(self, name: str, value: Tensor) -> None:  # noqa: A003
        """Store ``value`` as parameter/buffer ``name``."""
        if name in self.values:
            raise CheckpointError(f'{name} would be written twice')
        self.values[name] = value.float() if value.is_floating_point() else value

    def conv(self, name: str, weight: Tensor, bias: Tensor | None = None) -> None:
        """Store a convolution (with its own bias, when it has one)."""
        self.set(f'{name}.weight', weight)
        if bias is not None:
            self.set(f'{name}.bias', bias)

    def batch_norm(self, name: str, bn: nn.BatchNorm2d, scale: Tensor | None,
                   shift: Tensor) -> None:
        """Store a BatchNorm computing ``x * scale + shift`` (scale None: 1, i.e. folded)."""
        channels = bn.num_features
        self.set(f'{name}.weight', torch.ones(channels) if scale is None else scale)
        self.set(f'{name}.bias', shift)
        self.set(f'{name}.running_mean', torch.zeros(channels))
        self.set(f'{name}.running_var', torch.full((channels,), 1.0 - bn.eps))
        self.set(f'{name}.num_batches_tracked', torch.tensor(0, dtype=torch.long))


def _check_preprocessing(walker: Walker, node: Node) -> Node:
    """Follow u8 BGR NHWC -> RGB -> (x - 255 mean) / (255 std) -> NCHW; return the last node."""
    node = walker.next(node, 'Convert')
    gather = walker.next(node, 'Gather')
    indices = walker.graph.nodes[gather.inputs[1]]
    if indices.type == 'Range':
        start, stop, step = (int(walker.graph.constant(i).reshape(())) for i in indices.inputs)
        channels = range(start, stop, step)
        order = list(channels) if len(channels) <= 3 else [start, stop, step]
    else:
        order = walker.graph.constant(gather.inputs[1]).reshape(-1).tolist()
    axis = walker.graph.constant(gather.inputs[2]).reshape(-1).tolist()
    if order != [2, 1, 0] or axis != [3]:
        raise walker.fail(gather, 'expected the BGR -> RGB channel swap, got '
                                  f'{quoted(order, 80)} on {quoted(axis, 40)}')
    subtract = walker.next(gather, 'Subtract')
    divide = walker.next(subtract, 'Divide')
    for layer, expected in ((subtract, IMAGENET_MEAN_255), (divide, IMAGENET_STD_255)):
        if not np.allclose(walker.const_input(layer).reshape(-1), expected, atol=1e-3):
            raise walker.fail(layer, f'expected the ImageNet statistics {expected.round(3)}')
    transpose = walker.next(divide, 'Transpose')
    if walker.graph.constant(transpose.inputs[1]).reshape(-1).tolist() != [0, 3, 1, 2]:
        raise walker.fail(transpose, 'expected the NHWC -> NCHW transpose')
    return transpose


def _conv_bn(walker: Walker, out: StateDict, node: Node, conv: nn.Conv2d, conv_name: str,
             bn: nn.BatchNorm2d, bn_name: str) -> Node:
    weight, node = walker.conv(node, conv)
    bias, node = walker.bias(node, bn.num_features)
    out.conv(conv_name, weight)
    out.batch_norm(bn_name, bn, None, bias)
    return node


def _channel_gate(walker: Walker, out: StateDict, node: Node, gate: nn.Module, name: str,
                  layers: tuple[tuple[str, str], ...]) -> Node:
    """Read a squeeze-excitation style gate: mean-pool, two 1x1 convs, multiply ``node``.

    ``layers`` names the two convs of ``gate`` with the activation after each; their
    weights go to ``name.<conv>``.
    """
    pooled = walker.next(node, 'ReduceMean')
    for conv_name, activation in layers:
        conv = getattr(gate, conv_name)
        weight, pooled = walker.conv(pooled, conv)
        bias, pooled = walker.bias(pooled, conv.out_channels)
        out.conv(f'{name}.{conv_name}', weight, bias)
        pooled = walker.next(pooled, activation)
    return walker.next(pooled, 'Multiply', other=node)


def _squeeze_excite(walker: Walker, out: StateDict, node: Node, se: SqueezeExcite,
                    name: str) -> Node:
    return _channel_gate(walker, out, node, se, name,
                         (('conv_reduce', 'ReLU'), ('conv_expand', 'HSigmoid')))


def _residual(walker: Walker, node: Node, block_input: Node, has_residual: bool) -> Node:
    return walker.next(node, 'Add', other=block_input) if has_residual else node


def _backbone(graph: Graph, input_name: str, output_name: str, model: LightTrack
              ) -> dict[str, Tensor]:
    walker, out = Walker(graph), StateDict(model)
    features = model.features
    node = _check_preprocessing(walker, graph.parameter(input_name))
    node = _conv_bn(walker, out, node, features.conv_stem, 'features.conv_stem',
                    features.bn1, 'features.bn1')
    node = walker.next(node, 'Swish')
    for stage_index, stage in enumerate(features.blocks):
        for block_index, block in enumerate(stage):
            name = f'features.blocks.{stage_index}.{block_index}'
            block_input = node
            if isinstance(block, DepthwiseSeparable):
                node = _conv_bn(walker, out, node, block.conv_dw, f'{name}.conv_dw',
                                block.bn1, f'{name}.bn1')
                node = walker.next(node, 'Swish')
                node = _squeeze_excite(walker, out, node, block.se, f'{name}.se')
                node = _conv_bn(walker, out, node, block.conv_pw, f'{name}.conv_pw',
                                block.bn2, f'{name}.bn2')
            elif isinstance(block, InvertedResidual):
                node = _conv_bn(walker, out, node, block.conv_pw, f'{name}.conv_pw',
                                block.bn1, f'{name}.bn1')
                node = walker.next(node, 'Swish')
                node = _conv_bn(walker, out, node, block.conv_dw, f'{name}.conv_dw',
                                block.bn2, f'{name}.bn2')
                node = walker.next(node, 'Swish')
                node = _squeeze_excite(walker, out, node, block.se, f'{name}.se')
                node = _conv_bn(walker, out, node, block.conv_pwl, f'{name}.conv_pwl',
                                block.bn3, f'{name}.bn3')
            else:  # pragma: no cover - the model only has these two
                raise TypeError(type(block).__name__)
            node = _residual(walker, node, block_input, block.has_residual)
    _expect_result(walker, node, output_name)
    return out.values


def _expect_result(walker: Walker, node: Node, name: str) -> None:
    result = walker.next(node, 'Result')
    if not (node.name == name or result.name.split('/')[0] == name):
        raise walker.fail(result, f'expected the output {name!r}')


def _neck_branch(walker: Walker, out: StateDict, name: str, bn: nn.BatchNorm2d,
                 bn_name: str) -> Node:
    node = walker.next(walker.graph.parameter(name), 'Multiply')
    scale = walker.const_input(node)
    shift, node = walker.bias(node, bn.num_features)
    out.batch_norm(bn_name, bn, torch.from_numpy(scale.reshape(-1).copy()), shift)
    return walker.next(node, 'Reshape')


def _tower(walker: Walker, out: StateDict, node: Node, first: Node, tower: nn.Sequential,
           name: str) -> Node:
    for index, layer in enumerate(tower):
        weight, node = walker.conv(node, layer.conv1, first if index == 0 else None)
        out.conv(f'{name}.{index}.conv1', weight)
        node = _conv_bn(walker, out, node, layer.pointwise, f'{name}.{index}.pointwise',
                        layer.BN, f'{name}.{index}.BN')
        node = walker.next(node, 'ReLU')
    return node


def _head(graph: Graph, model: LightTrack) -> dict[str, Tensor]:
    walker, out = Walker(graph), StateDict(model)
    neck, fusor, head = model.neck, model.feature_fusor, model.head
    z = walker.next(_neck_branch(walker, out, 'zf', neck.BN_z, 'neck.BN_z'), 'Transpose')
    x = _neck_branch(walker, out, 'xf', neck.BN_x, 'neck.BN_x')
    matmul = walker.next(z, 'MatMul', other=x)
    if matmul.inputs != [z.id, x.id] or matmul.attrs.get('transpose_a', 'false') != 'false' \
            or matmul.attrs.get('transpose_b', 'false') != 'false':
        raise walker.fail(matmul, 'expected template kernels (Nz, C) times search (C, HW)')
    corr = walker.next(matmul, 'Reshape')
    attention = _channel_gate(walker, out, corr, fusor.pw_corr.CA_layer,
                              'feature_fusor.pw_corr.CA_layer',
                              (('fc1', 'ReLU'), ('fc2', 'Sigmoid')))
    weight, node = walker.conv(attention, fusor.adj_layer)
    bias, fused = walker.bias(node, fusor.adj_layer.out_channels)
    out.conv('feature_fusor.adj_layer', weight, bias)

    branches = [c for c in graph.data_consumers(fused) if c.type == 'GroupConvolution']
    if len(branches) != 2:
        raise walker.fail(fused, f'expected two towers after the neck, found {len(branches)}')
    # Tell the towers apart by where they end (cls: 1 channel, reg: 4), not by order.
    found = {}
    for tower, predictor, outputs in ((head.cls_tower, head.cls_perd.cls_pred, 'cls'),
                                      (head.reg_tower, head.reg_pred.bbox_pred, 'reg')):
        for branch in branches:
            if _ends_in(graph, branch, outputs):
                found[outputs] = (tower, predictor, branch)
    if set(found) != {'cls', 'reg'}:
        raise walker.fail(fused, f'towers ending in cls and reg expected, found {sorted(found)}')
    towers = {'cls': 'head.cls_tower', 'reg': 'head.reg_tower'}
    predictors = {'cls': 'head.cls_perd.cls_pred', 'reg': 'head.reg_pred.bbox_pred'}
    for outputs, (tower, predictor, branch) in found.items():
        end = _tower(walker, out, fused, branch, tower, towers[outputs])
        weight, node = walker.conv(end, predictor)
        bias, node = walker.bias(node, predictor.out_channels)
        if outputs == 'cls':
            # The export folded the predictor's 0.1 into its conv and added a sigmoid.
            weight, bias = weight / CLS_SCALE, bias / CLS_SCALE
            node = walker.next(walker.next(node, 'Squeeze'), 'Sigmoid')
        else:
            node = walker.next(node, 'ReLU')
            stride = walker.next(node, 'Multiply')
            if walker.const_input(stride).reshape(-1).tolist() != [float(model.config.stride)]:
                raise walker.fail(stride, f'expected the regression times {model.config.stride}')
            node = walker.next(stride, 'Squeeze')
        out.conv(predictors[outputs], weight, bias)
        _expect_result(walker, node, outputs)
    return out.values


def _ends_in(graph: Graph, node: Node, output: str) -> bool:
    """Whether following single consumers from ``node`` reaches the Result ``output``."""
    seen = set()
    for _ in _walk(graph, node, seen):
        pass
    return any(graph.nodes[i].type == 'Result' and graph.nodes[i].name.split('/')[0] == output
               for i in seen)


def _walk(graph: Graph, node: Node, seen: set[str]) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        yield current
        stack.extend(graph.data_consumers(current))


def read_lighttrack_ir(folder: PathLike, config: LightTrackConfig | None = None
                       ) -> dict[str, Tensor]:
    """Convert the LightTrack-M OpenVINO IR in ``folder`` into a :class:`LightTrack` state dict.

    The template and search branches must hold the same backbone weights. Raises
    :class:`CheckpointError` when a file is missing or the graph does not match the model.
    """
    folder = Path(folder)
    if not is_lighttrack_ir(folder):
        raise CheckpointError(f'{folder}: not a LightTrack OpenVINO IR folder (expected '
                              f'{", ".join(n + ".xml/.bin" for n in IR_FILES)})')
    with torch.device('meta'):
        model = LightTrack(config)
    try:
        return _convert(folder, model)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError,
            RecursionError) as error:  # a graph of the wrong shape, whatever the step
        raise CheckpointError(f'{folder}: the IR does not match LightTrack-M '
                              f'({type(error).__name__}: {shorten(str(error))})') from None


def _convert(folder: Path, model: LightTrack) -> dict[str, Tensor]:
    graphs = {name: Graph(folder / f'{name}.xml') for name in IR_FILES}
    search = _backbone(graphs['x_feature'], 'x', 'xf', model)
    template = _backbone(graphs['z_feature'], 'z', 'zf', model)
    different = sorted(key for key in search if not torch.equal(search[key], template[key]))
    if different:
        raise CheckpointError(f'{folder}: template and search branches have different '
                              f'weights: {", ".join(different[:5])}')
    state_dict = {**search, **_head(graphs['head'], model)}
    return state_dict
