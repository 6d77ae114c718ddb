# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The test-time procedure of each model family: how to crop, normalise and decode.

:class:`litetrack_ros.tracking.tracker.Tracker` does what both families share (input checks,
device and dtype, the network calls, the lost/recover logic, image-size changes); a
procedure does the rest, and is the one place where the families differ.

LiteTrack (:class:`OSTrackProcedure`, OSTrack's pipeline):

* crops: template ``ceil(sqrt(w h) * 2)``, search ``ceil(sqrt(w h) * 4)`` around the last
  box, zero padding (``geometry.crop_square``);
* network inputs: template crop and the box in it, search crop;
* decode: score, sub-cell offset and size per cell, Hann window without zeros at the
  border;
* size update once with the rate; OSTrack's ``clip_box`` (10 px inside the image); the
  reported box is the state.

LightTrack (:class:`SiamFCProcedure`, the official ``lib/tracker/lighttrack.py``):

* crops: template ``round(sqrt((w + p)(h + p)))`` with ``p = (w + h) / 2``, search that
  side times ``S / T`` (Python-2 rounding), padded with the first frame's mean colour
  (``geometry.crop_context``);
* network inputs: template crop, search crop;
* decode: score and (l, t, r, b) from each cell's grid point, cosine window
  ``np.hanning`` (zeros at the border);
* size update twice with the rate (as the official code), centre clipped into the
  image, size to [10 px, image size]; the reported box has x, y clipped at 0.

Both normalise crops alike (RGB in [0, 1], ImageNet mean/std) and choose the cell with
the same :func:`litetrack_ros.tracking.selection.select_cell`, with settings from the config.
"""

from __future__ import annotations

import math
from typing import Any, Dict, NamedTuple, Tuple

from litetrack_ros.model.head import hann_window
from litetrack_ros.tracking.geometry import (
    Box,
    box_to_template_coords,
    clip_box,
    context_side,
    crop_context,
    crop_square,
    map_box_back,
    normalize_image,
    python2_round,
)
from litetrack_ros.tracking.selection import select_cell, SelectionSettings
import numpy as np
import torch

# OSTrack keeps at least this many pixels of the box inside the image; LightTrack keeps
# the box at least this large.
CLIP_MARGIN = 10
MIN_SIZE = 10


class Decoded(NamedTuple):
    """A procedure's reading of one frame's network output."""

    state_box: Box   # the box the next search is cut around
    report_box: Box  # the box reported for this frame
    confidence: float


def finite_or_miss(found: Decoded, search_box: Box) -> Decoded:
    """Return ``found``, or a miss at ``search_box`` (confidence 0) if any value is not finite.

    Weights or inputs that make the network compute NaN or infinity must never put a
    NaN box or score out: such a frame counts as a miss (the tracker's lost logic
    follows) and the search stays where it was.
    """
    values = (*found.state_box, *found.report_box, found.confidence)
    if all(math.isfinite(float(value)) for value in values):
        return found
    search_box = tuple(float(value) for value in search_box)
    return Decoded(search_box, search_box, 0.0)


def damp_size_change(box: Box, previous: Box, rate: float) -> Box:
    """Keep the centre of ``box`` but move its size from ``previous`` only ``rate`` of the way."""
    if rate >= 1:
        return box
    x, y, w, h = box
    new_w = previous[2] + rate * (w - previous[2])
    new_h = previous[3] + rate * (h - previous[3])
    return (x + (w - new_w) / 2, y + (h - new_h) / 2, new_w, new_h)


def _host_maps(*maps: torch.Tensor) -> np.ndarray:
    """(C, F, F) float32 numpy array of batch item 0 of all maps, in one device copy."""
    return torch.cat([m[:1].float() for m in maps], dim=1)[0].cpu().numpy()


class OSTrackProcedure:
    """LiteTrack's (OSTrack's) crops, decoding and clipping.

    Template ``template_factor`` (2) x the box and search ``search_factor`` (4) x the
    previous box, square, zero-padded (``crop_square``); the network's box is read at
    the selected cell (sub-cell offset + size), mapped back and clipped with OSTrack's
    rule. The defaults of the selection settings reproduce OSTrack exactly.
    """

    def __init__(self, config: Any, template_size: int, search_size: int) -> None:
        self.template_size = template_size
        self.search_size = search_size
        self.template_factor = float(getattr(config, 'template_factor', 2.0))
        self.search_factor = float(getattr(config, 'search_factor', 4.0))
        self.settings = SelectionSettings.from_config(config)
        self._windows: Dict[int, np.ndarray] = {}

    def template_inputs(self, rgb: np.ndarray, box: Box) -> Tuple[Tuple[np.ndarray, ...], Any]:
        """Network inputs for ``encode_template`` (template, box) and the per-target context."""
        crop, resize_factor = crop_square(rgb, box, self.template_factor, self.template_size)
        target = box_to_template_coords(box, resize_factor, self.template_size)
        return (normalize_image(crop)[None], target[None]), None

    def search_side(self, box: Box) -> float:
        """Side in image pixels of the search region cut around ``box``."""
        return math.sqrt(box[2] * box[3]) * self.search_factor

    def search_input(self, rgb: np.ndarray, box: Box, context: Any) -> Tuple[np.ndarray, float]:
        """Cut and normalise the search crop around ``box``; also return its resize factor."""
        crop, resize_factor = crop_square(rgb, box, self.search_factor, self.search_size)
        return normalize_image(crop)[None], resize_factor

    def window(self, size: int) -> np.ndarray:
        """Hann window for a ``size x size`` score map (float32), built once per size."""
        if size not in self._windows:
            self._windows[size] = hann_window(size).numpy()
        return self._windows[size]

    def decode(self, output: Any, box: Box, resize_factor: float,
               image_hw: Tuple[int, int]) -> Decoded:
        """Read the box of the selected cell, map it to the image and clip it."""
        maps = _host_maps(output.score_map, output.size_map, output.offset_map)
        scores, sizes, offsets = maps[0], maps[1:3].transpose(1, 2, 0), maps[3:5]
        cells = scores.shape[-1]
        crop_side = self.search_size / resize_factor  # in image pixels
        previous = (box[2] / crop_side, box[3] / crop_side)
        chosen = select_cell(scores, sizes, previous, self.window(cells), self.settings)
        row, col = chosen.row, chosen.col
        # float32 like the network maps: (cell + offset) / cells.
        center_x = (np.float32(col) + offsets[0, row, col]) / np.float32(cells)
        center_y = (np.float32(row) + offsets[1, row, col]) / np.float32(cells)
        box_cxcywh = (float(center_x), float(center_y), float(sizes[row, col, 0]),
                      float(sizes[row, col, 1]))
        predicted = map_box_back(box_cxcywh, box, self.search_size, resize_factor)
        image_h, image_w = image_hw
        clipped = clip_box(damp_size_change(predicted, box, chosen.size_rate), image_h, image_w,
                           margin=CLIP_MARGIN)
        return Decoded(clipped, clipped, chosen.score)


class SiamFCProcedure:
    """LightTrack's official SiamFC-style procedure (``lib/tracker/lighttrack.py``).

    The per-target context is the mean colour of the first frame, which pads both crops.
    """

    def __init__(self, config: Any, template_size: int, search_size: int) -> None:
        self.template_size = template_size
        self.search_size = search_size
        self.context_amount = float(config.context_amount)
        self.stride = int(config.stride)
        self.settings = SelectionSettings.from_config(config)
        self._grids: Dict[int, Tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _context(self, box: Box) -> float:
        return context_side(box[2], box[3], self.context_amount)

    def template_inputs(self, rgb: np.ndarray, box: Box) -> Tuple[Tuple[np.ndarray, ...], Any]:
        """Cut and normalise the template; the image's mean colour is the per-target context."""
        mean_colour = rgb.mean(axis=(0, 1))
        side = round(self._context(box))
        center = (box[0] + box[2] / 2, box[1] + box[3] / 2)
        crop = crop_context(rgb, center, side, self.template_size, mean_colour)
        return (normalize_image(crop)[None],), mean_colour

    def search_side(self, box: Box) -> float:
        """Side in image pixels of the search region cut around ``box``."""
        return self._context(box) * self.search_size / self.template_size

    def search_input(self, rgb: np.ndarray, box: Box, context: Any) -> Tuple[np.ndarray, float]:
        """Cut and normalise the search crop; also return its scale (crop px per image px)."""
        side_z = self._context(box)
        scale = self.template_size / side_z
        # As the official code: the template side plus the extra search border.
        side_x = side_z + 2 * ((self.search_size - self.template_size) / 2 / scale)
        center = (box[0] + box[2] / 2, box[1] + box[3] / 2)
        crop = crop_context(rgb, center, python2_round(side_x), self.search_size, context)
        return normalize_image(crop)[None], scale

    def grid(self, cells: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Grid point x, y (float64 crop pixels) and cosine window of a ``cells`` map."""
        if cells not in self._grids:
            offsets = (np.arange(cells) - math.floor(cells // 2)) * self.stride
            grid_x, grid_y = np.meshgrid(offsets + self.search_size // 2,
                                         offsets + self.search_size // 2)
            self._grids[cells] = (grid_x.astype(np.float64), grid_y.astype(np.float64),
                                  np.outer(np.hanning(cells), np.hanning(cells)))
        return self._grids[cells]

    def decode(self, output: Any, box: Box, scale: float, image_hw: Tuple[int, int]
               ) -> Decoded:
        """Pick a cell, move the centre there, blend the size, clip (official order)."""
        logits, ltrb = output.cls_logits, output.ltrb
        maps = _host_maps(torch.sigmoid(logits.float()), ltrb)
        scores, (left, top, right, bottom) = maps[0], maps[1:5]
        grid_x, grid_y, window = self.grid(scores.shape[-1])
        x1, y1 = grid_x - left, grid_y - top
        x2, y2 = grid_x + right, grid_y + bottom
        sizes = np.stack((x2 - x1, y2 - y1), axis=-1)
        previous_w, previous_h = box[2], box[3]
        chosen = select_cell(scores, sizes, (previous_w * scale, previous_h * scale), window,
                             self.settings)
        row, col = chosen.row, chosen.col
        half = self.search_size // 2
        shift_x = ((x1[row, col] + x2[row, col]) / 2 - half) / scale
        shift_y = ((y1[row, col] + y2[row, col]) / 2 - half) / scale
        width, height = sizes[row, col] / scale
        rate = chosen.size_rate
        # The official update blends with the same rate twice (effectively rate ** 2).
        blend_w = width * rate + (1 - rate) * previous_w
        blend_h = height * rate + (1 - rate) * previous_h
        width = previous_w * (1 - rate) + rate * blend_w
        height = previous_h * (1 - rate) + rate * blend_h

        image_h, image_w = image_hw
        center_x = min(max(box[0] + previous_w / 2 + shift_x, 0.0), float(image_w))
        center_y = min(max(box[1] + previous_h / 2 + shift_y, 0.0), float(image_h))
        width = min(max(float(width), MIN_SIZE), float(image_w))
        height = min(max(float(height), MIN_SIZE), float(image_h))
        x, y = center_x - width / 2, center_y - height / 2
        return Decoded((x, y, width, height), (max(0.0, x), max(0.0, y), width, height),
                       chosen.score)


PROCEDURES = {'litetrack': OSTrackProcedure, 'lighttrack': SiamFCProcedure}


def procedure_for(net: Any, template_size: int, search_size: int) -> Any:
    """Return the procedure of ``net``'s family (``net.config.family``; default LiteTrack)."""
    config = getattr(net, 'config', None)
    family = getattr(config, 'family', 'litetrack')
    if family not in PROCEDURES:
        raise ValueError(f'no tracking procedure for model family {family!r}')
    return PROCEDURES[family](config, template_size, search_size)


__all__ = ['Decoded', 'OSTrackProcedure', 'PROCEDURES', 'SiamFCProcedure', 'damp_size_change',
           'procedure_for']
