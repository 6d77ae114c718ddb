# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``litetrack-convert IN OUT``: convert a LiteTrack checkpoint to ``.safetensors``.

The input may be an official ``.pth.tar`` training checkpoint, any ``.pth``/``.pt``
state dict, or a ``.safetensors`` file (e.g. to change the search size).  The weights
are loaded strictly into the model before writing, so a successful conversion is
also a check that the file is complete.  Nothing pickled in the input is executed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys

from litetrack_ros.model.checkpoint import CheckpointError, load_model, save_safetensors
from litetrack_ros.model.config import variant_name

# Exit status for unusable input, as argparse uses for bad arguments.
EXIT_BAD_INPUT = 2


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='litetrack-convert',
        description='Convert a LiteTrack checkpoint (.pth.tar/.pth/.pt/.safetensors) to '
                    '.safetensors with the model config in its metadata.')
    parser.add_argument('input', type=Path, help='checkpoint to read')
    parser.add_argument('output', type=Path, help='.safetensors file to write')
    parser.add_argument('--search-size', type=int, default=None, metavar='N',
                        help='search crop size in pixels (multiple of 16); resizes the '
                             'search position embedding (default: keep the stored size)')
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
        if args.size_update_rate is not None:
            model.config = model.config.replace(size_update_rate=args.size_update_rate)
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
    print(f'{args.output}: LiteTrack-{variant_name(config)} (depth {config.depth}, '
          f'{config.num_interaction} interaction layers, width {config.embed_dim}, '
          f'search {config.search_size} px), {num_params:,} parameters')
    return 0


if __name__ == '__main__':
    sys.exit(main())
