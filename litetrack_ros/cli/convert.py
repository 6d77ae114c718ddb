# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``litetrack-convert IN OUT``: convert a LiteTrack or LightTrack checkpoint to ``.safetensors``.

The input may be an official ``.pth.tar`` (LiteTrack) or ``LightTrackM.pth`` checkpoint,
any ``.pth``/``.pt`` state dict, a ``.safetensors`` file (e.g. to change the search
size), a folder with LightTrack-M as OpenVINO IR (``z_feature``, ``x_feature``,
``head`` ``.xml``/``.bin``; read without the OpenVINO runtime), or VitTrack's ONNX file
(OpenCV's ``TrackerVit`` network, read into LiteTrack's ``C3`` shape: a starting point
for ``litetrack-train --init``, see :mod:`litetrack_ros.model.vittrack_onnx`; needs the
``onnx`` package).  The model family comes
from the input and is stored in the output's metadata.  The weights are loaded strictly
into the model before writing, so a successful conversion is also a check that the
file is complete.  Nothing pickled in the input is executed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys

from litetrack_ros.model.checkpoint import (
    CheckpointError,
    load_model,
    save_safetensors,
)
from litetrack_ros.model.config import variant_name
from litetrack_ros.model.lighttrack import LightTrack

# Exit status for unusable input, as argparse uses for bad arguments.
EXIT_BAD_INPUT = 2


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='litetrack-convert',
        description='Convert a LiteTrack or LightTrack checkpoint (.pth.tar/.pth/.pt/'
                    ".safetensors, a LightTrack-M OpenVINO IR folder, or VitTrack's ONNX as "
                    'LiteTrack-C3) to .safetensors with '
                    'the model family and config in its metadata.')
    parser.add_argument('input', type=Path,
                        help='checkpoint to read, a folder with the LightTrack-M OpenVINO IR, '
                             'or vitTracker_*.onnx')
    parser.add_argument('output', type=Path, help='.safetensors file to write')
    parser.add_argument('--search-size', type=int, default=None, metavar='N',
                        help='search crop size in pixels (multiple of 16); resizes the '
                             'search position embedding (default: keep the stored size)')
    parser.add_argument('--tracking', action='append', default=[], metavar='NAME=VALUE',
                        help='store a tracking setting with the weights, repeatable: '
                             'window_influence=I|none, scale_penalty_k=K, '
                             'score_weighted_size_update=0|1, lost_threshold=T, lost_frames=N, '
                             'redetect_threshold=T, redetect_tiles=N (as litetrack-eval takes '
                             'them)')
    parser.add_argument('--size-update-rate', type=float, default=None, metavar='R',
                        help='share of the predicted size change the tracker takes per '
                             'frame, stored with the weights (0 < R <= 1; default: keep)')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the converter; returns the process exit status."""
    args = _parse_args(argv)
    if args.output.suffix != '.safetensors':
        print(f'litetrack-convert: output must end in .safetensors: {args.output}',
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.output.exists() and args.input.exists() and args.output.samefile(args.input):
        print('litetrack-convert: output must differ from input', file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        model = load_model(args.input, search_size=args.search_size)
        changes = dict(_tracking_setting(text) for text in args.tracking)
        if args.size_update_rate is not None:
            changes['size_update_rate'] = args.size_update_rate
        unknown = sorted(set(changes) - set(getattr(model.config, 'tracking_fields', ())))
        if unknown:
            raise ValueError(f'not a tracking setting of this network: {", ".join(unknown)}')
        if changes:
            model.config = model.config.replace(**changes)
    except (CheckpointError, ValueError) as error:
        print(f'litetrack-convert: {error}', file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        save_safetensors(model, args.output)
    except OSError as error:
        print(f'litetrack-convert: cannot write {args.output}: {error}', file=sys.stderr)
        return 1
    config = model.config
    num_params = model.num_parameters
    if isinstance(model, LightTrack):
        print(f'{args.output}: {variant_name(config)} (template {config.template_size} px, '
              f'search {config.search_size} px), {num_params:,} parameters')
    else:
        print(f'{args.output}: LiteTrack-{variant_name(config)} (depth {config.depth}, '
              f'{config.num_interaction} interaction layers, width {config.embed_dim}, '
              f'search {config.search_size} px), {num_params:,} parameters')
    return 0


def _tracking_setting(text: str) -> tuple[str, object]:
    """Parse ``NAME=VALUE`` (a number, ``none``, or 0/1 for the score-weighted switch)."""
    name, separator, value = text.partition('=')
    if not separator:
        raise ValueError(f'--tracking takes NAME=VALUE, got {text!r}')
    name, value = name.strip(), value.strip().lower()
    if value == 'none':
        return name, None
    if name == 'score_weighted_size_update':
        if value not in ('0', '1', 'true', 'false'):
            raise ValueError(f'{name} takes 0 or 1, got {value!r}')
        return name, value in ('1', 'true')
    if name in ('redetect_tiles', 'lost_frames'):
        if not value.isdigit():
            raise ValueError(f'{name} takes a whole number, got {value!r}')
        return name, int(value)
    try:
        return name, float(value)
    except ValueError:
        raise ValueError(f'{name} takes a number, got {value!r}') from None


if __name__ == '__main__':
    sys.exit(main())
