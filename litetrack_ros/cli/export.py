# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``litetrack-export``: the template and search steps as two static-shape ONNX graphs.

* ``litetrack_template.onnx``: ``template`` (1, 3, T, T) and ``template_box``
  (1, 4: x1, y1, x2, y2 as fractions of the template crop) -> ``template_tokens``
  (1, Nz, C) and, per interaction layer i, ``k{i}`` and ``v{i}``
  (1, heads, Nz, head_dim): run once per target.
* ``litetrack_search.onnx``: ``search`` (1, 3, S, S) and every ``k{i}``/``v{i}``
  -> ``score_map`` (1, 1, F, F), ``size_map`` and ``offset_map`` (1, 2, F, F):
  run every frame.

Crops are RGB, NCHW, float32, scaled to [0, 1] and normalised with the ImageNet
mean/std (``litetrack_ros.tracking.geometry.normalize_image``); the decoding (Hann window,
argmax, box) stays outside the graphs, as in :class:`litetrack_ros.tracking.tracker.Tracker`.
``litetrack_export.json`` beside the files records the shapes, names and the
model's crop settings. With ``--check`` (needs ``onnxruntime``) both graphs are
run and compared with PyTorch; exit status 3 when they differ by more than 1e-4.
"""

from __future__ import annotations

import argparse
import copy
from dataclasses import dataclass
import json
from pathlib import Path
import sys
from typing import Sequence

from litetrack_ros.model import HeadOutput, LiteTrack, TemplateState
from litetrack_ros.model.checkpoint import CheckpointError, load_model
from litetrack_ros.model.compiled import dummy_inputs, max_abs_diff
from litetrack_ros.tracking.runtime import (
    package_weights_folder,
    resolve_weights,
    WEIGHTS_HELP,
    WeightsError,
)
import torch
from torch import nn, Tensor

PROG = 'litetrack-export'
TEMPLATE_FILE, SEARCH_FILE, METADATA_FILE = ('litetrack_template.onnx', 'litetrack_search.onnx',
                                             'litetrack_export.json')
DEFAULT_OPSET = 18
MIN_OPSET = 17  # LayerNormalization
TOLERANCE = 1e-4  # max |ONNX Runtime - PyTorch| accepted on any output, float32
EXIT_BAD_INPUT, EXIT_MISMATCH = 2, 3


def kv_names(net: LiteTrack) -> list[str]:
    """Names of the interaction layers' template keys/values: k0, v0, k1, v1, ..."""
    return [f'{kind}{i}' for i in range(net.config.num_interaction) for kind in 'kv']


class TemplateStep(nn.Module):
    """The template step with flat outputs: tokens, then k/v of each interaction layer."""

    def __init__(self, net: LiteTrack) -> None:
        super().__init__()
        self.net = net

    def forward(self, template: Tensor, box_xyxy: Tensor) -> tuple[Tensor, ...]:
        """Encode the template as :meth:`LiteTrack.encode_template` does."""
        state = self.net.encode_template(template, box_xyxy)
        return (state.z,) + tuple(t for pair in state.kv for t in pair)


class SearchStep(nn.Module):
    """The search step with the template keys/values as explicit inputs."""

    def __init__(self, net: LiteTrack) -> None:
        super().__init__()
        self.net = net

    def forward(self, search: Tensor, *kv: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Score, size and offset maps for one search crop."""
        pairs = tuple((kv[i], kv[i + 1]) for i in range(0, len(kv), 2))
        # track_search reads only the keys/values; the tokens are not needed per frame.
        out = self.net.track_search(TemplateState(z=search.new_zeros(0), kv=pairs), search)
        return out.score_map, out.size_map, out.offset_map


def _float32_copy(net: LiteTrack) -> LiteTrack:
    """Copy the network to float32 on the CPU in the standard layout (the caller keeps its)."""
    return copy.deepcopy(net).to(device='cpu', dtype=torch.float32,
                                 memory_format=torch.contiguous_format).eval()


@dataclass(frozen=True)
class ExportedFiles:
    """Paths written by :func:`export_onnx`."""

    template: Path
    search: Path
    metadata: Path


def _export(module: nn.Module, args: tuple[Tensor, ...], path: Path, inputs: list[str],
            outputs: list[str], opset: int) -> None:
    program = torch.onnx.export(module, args, dynamo=True, opset_version=opset, verbose=False,
                                input_names=inputs, output_names=outputs,
                                external_data=False, optimize=True)
    program.save(str(path), external_data=False)


def export_onnx(net: LiteTrack, folder: Path, opset: int = DEFAULT_OPSET,
                source: str = '') -> ExportedFiles:
    """Write both graphs of a float32 copy of ``net`` (and the metadata) into ``folder``."""
    if opset < MIN_OPSET:
        raise ValueError(f'opset must be at least {MIN_OPSET} (LayerNormalization), got {opset}')
    net = _float32_copy(net)
    folder.mkdir(parents=True, exist_ok=True)
    template, box, search = dummy_inputs(net)
    names = kv_names(net)
    files = ExportedFiles(folder / TEMPLATE_FILE, folder / SEARCH_FILE, folder / METADATA_FILE)
    with torch.no_grad():
        state = net.encode_template(template, box)
        kv = tuple(t for pair in state.kv for t in pair)
        _export(TemplateStep(net).eval(), (template, box), files.template,
                ['template', 'template_box'], ['template_tokens'] + names, opset)
        _export(SearchStep(net).eval(), (search,) + kv, files.search, ['search'] + names,
                list(HeadOutput._fields), opset)
    config = net.config
    grid = config.search_feat_size
    metadata = {
        'source': source, 'opset': opset, 'config': config.to_dict(),
        'template': {'file': TEMPLATE_FILE,
                     'inputs': {'template': list(template.shape), 'template_box': [1, 4]},
                     'outputs': {'template_tokens': list(state.z.shape),
                                 **{name: list(kv[i].shape) for i, name in enumerate(names)}}},
        'search': {'file': SEARCH_FILE,
                   'inputs': {'search': list(search.shape),
                              **{name: list(kv[i].shape) for i, name in enumerate(names)}},
                   'outputs': {'score_map': [1, 1, grid, grid], 'size_map': [1, 2, grid, grid],
                               'offset_map': [1, 2, grid, grid]}},
        'input_normalisation': 'RGB, NCHW, float32, /255, ImageNet mean (0.485, 0.456, 0.406) '
                               'and std (0.229, 0.224, 0.225)',
        'template_box': 'x1, y1, x2, y2 as fractions of the template crop',
    }
    files.metadata.write_text(json.dumps(metadata, indent=2) + '\n')
    return files


def check_onnx(net: LiteTrack, files: ExportedFiles, seed: int = 1) -> float:
    """Run both graphs with ONNX Runtime on random crops; max |difference| from PyTorch.

    The search graph is fed the template graph's own keys/values, so the check
    covers the two graphs chained as a tracker would chain them.
    """
    import onnxruntime

    net = _float32_copy(net)
    generator = torch.Generator().manual_seed(seed)
    template, box, search = dummy_inputs(net)
    template = torch.randn(template.shape, generator=generator)
    search = torch.randn(search.shape, generator=generator)
    options = onnxruntime.SessionOptions()
    sessions = [onnxruntime.InferenceSession(str(path), options,
                                             providers=['CPUExecutionProvider'])
                for path in (files.template, files.search)]
    names = kv_names(net)
    template_out = sessions[0].run(None, {'template': template.numpy(),
                                          'template_box': box.numpy()})
    search_out = sessions[1].run(None, {'search': search.numpy(),
                                        **dict(zip(names, template_out[1:], strict=True))})
    with torch.inference_mode():
        state = net.encode_template(template, box)
        expected = net.track_search(state, search)
    flat_state = (state.z,) + tuple(t for pair in state.kv for t in pair)
    diffs = [float((torch.from_numpy(a) - b).abs().max())
             for a, b in zip(template_out, flat_state, strict=True)]
    diffs.append(max_abs_diff(HeadOutput(*(torch.from_numpy(a) for a in search_out)),
                              expected))
    return float(torch.tensor(diffs).max())


def trtexec_commands(files: ExportedFiles) -> list[str]:
    """Return the TensorRT engine builds for both graphs (fp16; static shapes need no --shapes)."""
    return [f'trtexec --onnx={path} --saveEngine={path.with_suffix(".fp16.engine")} --fp16'
            for path in (files.template, files.search)]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Export LiteTrack's template and search steps to ONNX "
                               '(static shapes, batch 1, float32).')
    parser.add_argument('--weights', default='', metavar='PATH',
                        help="checkpoint file or folder (default: the package's weights/)")
    parser.add_argument('--search-size', type=int, default=None, metavar='PX',
                        help="search crop size, multiple of 16 (default: the checkpoint's)")
    parser.add_argument('--out', type=Path, default=Path('onnx'), metavar='DIR',
                        help='output folder (default: %(default)s)')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET,
                        help=f'ONNX opset, >= {MIN_OPSET} (default: %(default)s)')
    parser.add_argument('--check', action='store_true',
                        help=f'compare with PyTorch in ONNX Runtime (max difference <= '
                             f'{TOLERANCE:g}; needs the onnxruntime package)')
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``litetrack-export``; returns the exit status."""
    args = parse_args(argv)
    try:
        weights = resolve_weights(args.weights, package_weights_folder())
        if weights is None:
            raise WeightsError(f'no checkpoint found. {WEIGHTS_HELP}')
        net = load_model(weights, search_size=args.search_size)
        files = export_onnx(net, args.out, args.opset, source=str(weights))
    except (WeightsError, CheckpointError, ValueError, OSError) as error:
        print(f'{PROG}: error: {error}', file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f'{PROG}: {files.template} and {files.search} (opset {args.opset}, search '
          f'{net.config.search_size} px) from {weights}; metadata {files.metadata}')
    if args.check:
        try:
            diff = check_onnx(net, files)
        except ImportError:
            print(f'{PROG}: error: --check needs onnxruntime (pip install onnxruntime)',
                  file=sys.stderr)
            return EXIT_BAD_INPUT
        verdict = 'OK' if diff <= TOLERANCE else 'MISMATCH'
        print(f'{PROG}: ONNX Runtime vs PyTorch: max abs difference {diff:.2e} '
              f'(tolerance {TOLERANCE:g}): {verdict}')
        if verdict != 'OK':
            return EXIT_MISMATCH
    print('TensorRT engines:\n  ' + '\n  '.join(trtexec_commands(files)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
