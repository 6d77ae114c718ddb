# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Training targets and losses of OSTrack / LiteTrack.

* The center heatmap is OSTrack's ``generate_heatmap``: a CenterNet Gaussian on the
  F x F grid, peaking (value exactly 1) at ``round(center * F)``, with the radius
  CenterNet derives from the box size (``gaussian_radius``, min overlap 0.7) and
  ``sigma = (2 * radius + 1) / 6``.
* The location loss is CenterNet's focal loss (alpha 2, beta 4).
* The box is read at the heatmap's peak cell (offset + size maps) and compared with the
  ground truth by L1 (on normalised x1, y1, x2, y2) and GIoU.
* Total loss = 1 x focal + 5 x L1 + 2 x GIoU (the official LiteTrack / OSTrack weights).
* Negative pairs (search crops without the target, as STARK / MixFormer train their score
  heads) have an all-zero heatmap, so the focal loss pushes every cell's score down, and no
  box loss; ``absent_score`` logs the mean peak score on them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from litetrack_ros.model.head import HeadOutput
import numpy as np
import torch
from torch import Tensor

FOCAL_WEIGHT = 1.0
L1_WEIGHT = 5.0
GIOU_WEIGHT = 2.0
# CenterNet's minimum IoU between a box and one shifted by the Gaussian radius.
MIN_OVERLAP = 0.7


def gaussian_radius(height: float, width: float, min_overlap: float = MIN_OVERLAP) -> float:
    """Return CenterNet's ``gaussian_radius`` (with its well-known formula, as OSTrack uses it)."""
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1 ** 2 - 4 * c1)) / 2
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + math.sqrt(b2 ** 2 - 16 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + math.sqrt(b3 ** 2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def peak_cell(box_cxcywh: np.ndarray, feat_size: int) -> tuple[int, int]:
    """Return the (column, row) of the heatmap peak: ``round(center * F)``, kept on the grid."""
    column = min(max(int(round(float(box_cxcywh[0]) * feat_size)), 0), feat_size - 1)
    row = min(max(int(round(float(box_cxcywh[1]) * feat_size)), 0), feat_size - 1)
    return column, row


def gaussian_heatmap(box_cxcywh: np.ndarray, feat_size: int) -> np.ndarray:
    """Return the (F, F) float32 target heatmap of one box (cx, cy, w, h fractions of the crop)."""
    heatmap = np.zeros((feat_size, feat_size), np.float32)
    width, height = float(box_cxcywh[2]) * feat_size, float(box_cxcywh[3]) * feat_size
    radius = max(0, int(gaussian_radius(height, width)))
    diameter = 2 * radius + 1
    sigma = diameter / 6
    offsets = np.arange(-radius, radius + 1, dtype=np.float32)
    gaussian = np.exp(-(offsets[None, :] ** 2 + offsets[:, None] ** 2) / (2 * sigma * sigma))
    gaussian[gaussian < np.finfo(np.float32).eps * gaussian.max()] = 0
    column, row = peak_cell(box_cxcywh, feat_size)
    left, right = min(column, radius), min(feat_size - column, radius + 1)
    top, bottom = min(row, radius), min(feat_size - row, radius + 1)
    heatmap[row - top:row + bottom, column - left:column + right] = \
        gaussian[radius - top:radius + bottom, radius - left:radius + right]
    return heatmap


def focal_loss(prediction: Tensor, target: Tensor) -> Tensor:
    """Return CenterNet's focal loss (alpha 2, beta 4), normalised by the number of peaks."""
    prediction = prediction.float().clamp(1e-12, 1.0)
    positive = target.eq(1).float()
    negative = 1.0 - positive
    positive_loss = torch.log(prediction) * (1 - prediction) ** 2 * positive
    negative_loss = (torch.log((1 - prediction).clamp_min(1e-12)) * prediction ** 2
                     * (1 - target) ** 4 * negative)
    num_positive = positive.sum()
    total = positive_loss.sum() + negative_loss.sum()
    return -total / num_positive.clamp_min(1.0)


def cxcywh_to_xyxy(boxes: Tensor) -> Tensor:
    """Convert (..., 4) center/size boxes to corners."""
    center, size = boxes[..., :2], boxes[..., 2:]
    return torch.cat((center - size / 2, center + size / 2), dim=-1)


def generalized_iou(boxes_a: Tensor, boxes_b: Tensor) -> tuple[Tensor, Tensor]:
    """Return per-pair (GIoU, IoU) of two (B, 4) xyxy box tensors."""
    area_a = (boxes_a[:, 2:] - boxes_a[:, :2]).clamp_min(0).prod(dim=1)
    area_b = (boxes_b[:, 2:] - boxes_b[:, :2]).clamp_min(0).prod(dim=1)
    inter = (torch.minimum(boxes_a[:, 2:], boxes_b[:, 2:])
             - torch.maximum(boxes_a[:, :2], boxes_b[:, :2])).clamp_min(0).prod(dim=1)
    union = area_a + area_b - inter
    iou = inter / union.clamp_min(1e-7)
    hull = (torch.maximum(boxes_a[:, 2:], boxes_b[:, 2:])
            - torch.minimum(boxes_a[:, :2], boxes_b[:, :2])).clamp_min(0).prod(dim=1)
    giou = iou - (hull - union) / hull.clamp_min(1e-7)
    return giou, iou


class Targets(NamedTuple):
    """Per-batch training targets."""

    heatmap: Tensor  # (B, 1, F, F)
    boxes: Tensor  # (B, 4) cx, cy, w, h fractions of the search crop
    cells: Tensor  # (B, 2) long column, row of the heatmap peak
    present: Tensor | None = None  # (B,) bool: False for negative pairs; None: all present


def build_targets(boxes_cxcywh: Tensor, feat_size: int,
                  present: Tensor | None = None) -> Targets:
    """Build heatmaps and peak cells for a (B, 4) tensor of search-crop boxes.

    ``present`` (B,) marks the samples that show the target; the others (negative pairs)
    get an all-zero heatmap.
    """
    numpy_boxes = boxes_cxcywh.detach().cpu().double().numpy()
    heatmaps = np.stack([gaussian_heatmap(box, feat_size) for box in numpy_boxes])
    cells = np.array([peak_cell(box, feat_size) for box in numpy_boxes], dtype=np.int64)
    device = boxes_cxcywh.device
    mask = None
    if present is not None:
        mask = present.detach().cpu().reshape(-1) > 0.5
        heatmaps[~mask.numpy()] = 0.0
        mask = mask.to(device)
    return Targets(torch.from_numpy(heatmaps).unsqueeze(1).to(device),
                   boxes_cxcywh.float(), torch.from_numpy(cells).to(device), mask)


def boxes_at_cells(output: HeadOutput, cells: Tensor) -> Tensor:
    """Read the (B, 4) cx, cy, w, h box predicted at given (column, row) cells."""
    batch, _, _, width = output.score_map.shape
    index = (cells[:, 1] * width + cells[:, 0]).view(batch, 1, 1).expand(batch, 2, 1)
    size = output.size_map.flatten(2).gather(2, index).squeeze(2)
    offset = output.offset_map.flatten(2).gather(2, index).squeeze(2)
    center = (cells.float() + offset) / width
    return torch.cat((center, size), dim=1)


class LossTerms(NamedTuple):
    """The weighted total and its parts (the parts are detached, for logging)."""

    total: Tensor
    focal: Tensor
    l1: Tensor
    giou: Tensor
    iou: Tensor
    absent_score: Tensor  # mean peak score on negative pairs (0 when the batch has none)


def tracking_loss(output: HeadOutput, targets: Targets, focal_weight: float = FOCAL_WEIGHT,
                  l1_weight: float = L1_WEIGHT, giou_weight: float = GIOU_WEIGHT) -> LossTerms:
    """Weighted focal + L1 + GIoU loss of one batch (box terms on present samples only)."""
    focal = focal_loss(output.score_map, targets.heatmap)
    present = targets.present
    if present is None:
        present = torch.ones(targets.boxes.shape[0], dtype=torch.bool,
                             device=targets.boxes.device)
    predicted = cxcywh_to_xyxy(boxes_at_cells(output, targets.cells))[present]
    truth = cxcywh_to_xyxy(targets.boxes)[present]
    if not torch.isfinite(predicted).all():  # as OSTrack: never back-propagate NaN boxes
        raise FloatingPointError('network predicted non-finite boxes')
    peaks = output.score_map.detach().flatten(1).amax(dim=1)
    absent_score = (peaks[~present].float().mean() if bool((~present).any())
                    else peaks.new_zeros((), dtype=torch.float32))
    if predicted.shape[0] == 0:  # only negatives: the box terms are zero, yet on the graph
        zero = output.size_map.sum() * 0.0
        total = focal_weight * focal + zero
        return LossTerms(total, focal.detach(), zero.detach(), zero.detach(),
                         zero.detach(), absent_score)
    giou, iou = generalized_iou(predicted, truth)
    giou_loss = (1 - giou).mean()
    l1 = torch.nn.functional.l1_loss(predicted, truth)
    total = focal_weight * focal + l1_weight * l1 + giou_weight * giou_loss
    return LossTerms(total, focal.detach(), l1.detach(), giou_loss.detach(),
                     iou.detach().mean(), absent_score)
