# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Where to look for a lost target: the tiles of the global search and batch helpers.

While the target is lost, :class:`litetrack_ros.tracking.tracker.Tracker` searches the
whole frame at the target's last scale: search regions of the size the network was
trained with (``search_factor`` x the last confident box) laid out on a grid with half a
region's overlap, covering the frame to its borders (a point between the outer
centres is within a quarter region of a centre, where the window still lets it
through). The tiles are ordered by distance from the last confident
position (nearby first) and searched a bounded number per frame (``redetect_tiles``),
in one batched network call; a sweep of a large frame takes several frames.
"""

from __future__ import annotations

import math
from typing import Any, List, Tuple

from litetrack_ros.tracking.geometry import Box

# Tile centres are this share of a search region apart (half a region of overlap).
TILE_STRIDE = 0.5


def _centres(length: float, side: float) -> List[float]:
    """Centres along one axis of ``length`` px: regions of ``side`` px covering it."""
    if side >= length:
        return [length / 2]
    stride = side * TILE_STRIDE
    count = math.ceil((length - side) / stride) + 1
    first, last = side / 2, length - side / 2
    return [first + (last - first) * i / (count - 1) for i in range(count)]


def search_tiles(image_hw: Tuple[int, int], box: Box, side: float) -> List[Box]:
    """Boxes of the target's size whose search regions (``side`` px) cover the frame.

    Ordered by distance from the centre of ``box`` (nearest first).
    """
    height, width = image_hw
    _, _, box_w, box_h = box
    last_x, last_y = box[0] + box_w / 2, box[1] + box_h / 2
    centres = [(x, y) for y in _centres(height, side) for x in _centres(width, side)]
    centres.sort(key=lambda c: (c[0] - last_x) ** 2 + (c[1] - last_y) ** 2)
    return [(x - box_w / 2, y - box_h / 2, box_w, box_h) for x, y in centres]


def batch_item(output: Any, index: int) -> Any:
    """Item ``index`` of a batched network output (a NamedTuple of tensors), batch 1."""
    return type(output)(*(tensor[index:index + 1] for tensor in output))


def count_tiles(image_hw: Tuple[int, int], side: float) -> int:
    """Return the number of tiles of one sweep over a frame (the cost of a full search)."""
    height, width = image_hw
    return len(_centres(height, side)) * len(_centres(width, side))
