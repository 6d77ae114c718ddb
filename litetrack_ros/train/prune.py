# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""``litetrack-prune``: build a shallower LiteTrack from a deeper checkpoint.

LiteTrack's own models are made this way: a deep network's layers are subsampled
and the result is fine-tuned.  ``--keep`` lists the blocks to keep (in order, 0-based)
and ``--interaction`` how many of the kept (last) blocks are interaction layers.

Example (official B9 -> a B6 shape, then fine-tune with ``litetrack-train --init``)::

    litetrack-prune LiteTrack_B9.pth B6_init.safetensors --keep 0,1,2,5,7,8 --interaction 3

Everything that is not a block (patch and position embeddings, target token, head)
is copied unchanged; the kept blocks are renumbered 0..n-1.  The output is
safetensors with the new :class:`ModelConfig` in its metadata.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import re
import sys
from typing import Sequence

from litetrack_ros.model.checkpoint import (
    build_model,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    save_safetensors,
)
from litetrack_ros.model.config import ModelConfig
from torch import Tensor

PROG = 'litetrack-prune'
BLOCK_KEY = re.compile(r'^backbone\.blocks\.(\d+)\.(.+)$')


def parse_keep(text: str) -> list[int]:
    """Parse ``'0,1,2,5,7,8'`` (ranges like ``'0-2'`` are accepted too)."""
    kept = []
    for part in filter(None, (p.strip() for p in text.split(','))):
        first, separator, last = part.partition('-')
        kept += range(int(first), int(last) + 1) if separator else [int(first)]
    return kept


def prune_state_dict(state_dict: dict[str, Tensor], config: ModelConfig, keep: Sequence[int],
                     num_interaction: int) -> tuple[dict[str, Tensor], ModelConfig]:
    """Keep blocks ``keep`` (renumbered in that order); return the new weights and config.

    Raises ValueError for an empty, repeated, unordered or out-of-range selection.
    """
    keep = list(keep)
    if not keep:
        raise ValueError('--keep selects no block')
    if len(set(keep)) != len(keep) or keep != sorted(keep):
        raise ValueError(f'--keep must list distinct blocks in increasing order, got {keep}')
    if keep[0] < 0 or keep[-1] >= config.depth:
        raise ValueError(f'--keep {keep} outside the {config.depth} blocks 0..{config.depth - 1}')
    new_config = config.replace(depth=len(keep), num_interaction=num_interaction)
    new_index = {old: new for new, old in enumerate(keep)}
    pruned = {}
    for key, value in state_dict.items():
        match = BLOCK_KEY.match(key)
        if match is None:
            pruned[key] = value
        elif int(match.group(1)) in new_index:
            pruned[f'backbone.blocks.{new_index[int(match.group(1))]}.{match.group(2)}'] = value
    return pruned, new_config


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0])
    parser.add_argument('input', type=Path, help='checkpoint (.pth, .pth.tar, .pt, .safetensors)')
    parser.add_argument('output', type=Path, help='pruned weights (.safetensors)')
    parser.add_argument('--keep', required=True, metavar='I,J,...',
                        help='0-based blocks to keep, in increasing order (e.g. 0,1,2,5,7,8)')
    parser.add_argument('--interaction', type=int, default=None,
                        help='interaction layers of the pruned model (default: as the input, '
                             'capped at the new depth)')
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``litetrack-prune``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        keep = parse_keep(args.keep)
        checkpoint = load_checkpoint(args.input)
        interaction = args.interaction if args.interaction is not None else min(
            checkpoint.config.num_interaction, len(keep))
        state_dict, config = prune_state_dict(checkpoint.state_dict, checkpoint.config, keep,
                                              interaction)
        build_model(Checkpoint(state_dict, config))  # strict check that the result loads
    except (CheckpointError, ValueError) as error:
        print(f'{PROG}: error: {error}', file=sys.stderr)
        return 2
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_safetensors(state_dict, args.output, config=config)
    print(f'{PROG}: kept blocks {keep} of {checkpoint.config.depth} '
          f'({config.num_interaction} interaction); wrote {args.output}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
