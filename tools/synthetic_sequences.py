# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Write procedural tracking sequences in the simple ``img/`` + ``groundtruth.txt`` layout.

A validation set for ``litetrack-eval`` that is not the test data: training draws its
scenes from ``SeedSequence((seed, index, 2))`` while these use plain integer seeds
from ``--first-seed`` on, so the two never share a scene.  Example::

    .venv/bin/python tools/synthetic_sequences.py /tmp/synthetic_val --count 12
    litetrack-eval /tmp/synthetic_val --tracker litetrack --tracker mil
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys

import cv2
from litetrack_ros.images import scenes
import numpy as np


def write_sequence(scene: scenes.Scene, folder: Path) -> np.ndarray:
    """Render every frame of ``scene`` into ``folder/img`` with its ``groundtruth.txt``.

    Returns the (N, 4) ground-truth boxes.
    """
    images = folder / 'img'
    images.mkdir(parents=True, exist_ok=True)
    boxes = []
    for index in range(scene.num_frames):
        rendered = scene.render(index)
        bgr = cv2.cvtColor(rendered.image, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(images / f'{index + 1:04d}.jpg'), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
        boxes.append(rendered.box_xywh)
    np.savetxt(folder / 'groundtruth.txt', boxes, fmt='%.2f', delimiter=',')
    return np.asarray(boxes)


def main(argv: list[str] | None = None) -> int:
    """Write ``--count`` sequences named ``synthetic_<seed>`` under the output folder."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out', type=Path, help='folder to create the sequences in')
    parser.add_argument('--count', type=int, default=12)
    parser.add_argument('--frames', type=int, default=100)
    parser.add_argument('--size', default='240,320', metavar='H,W')
    parser.add_argument('--first-seed', type=int, default=10_000)
    args = parser.parse_args(argv)
    height, width = (int(value) for value in args.size.split(','))
    for seed in range(args.first_seed, args.first_seed + args.count):
        scene = scenes.random_scene(seed, args.frames, (height, width))
        boxes = write_sequence(scene, args.out / f'synthetic_{seed}')
        print(f'synthetic_{seed}: {scene.num_frames} frames, median target '
              f'{np.median(np.sqrt(boxes[:, 2] * boxes[:, 3])):.0f} px')
    return 0


if __name__ == '__main__':
    sys.exit(main())
