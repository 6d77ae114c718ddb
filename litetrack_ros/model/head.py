# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""OSTrack-style center head and the decoder that turns its maps into a box."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn, Tensor
from torch.nn.utils.fusion import fuse_conv_bn_eval

# Sigmoid outputs are clamped away from 0 and 1 (as in OSTrack); 1 - 1e-4 does not exist in
# float16, which is one reason the maps are always returned in float32.
SIGMOID_EPS = 1e-4


class HeadOutput(NamedTuple):
    """Dense predictions over the F x F search grid, always float32.

    score_map:  (B, 1, F, F) target-center probability, clamped to [1e-4, 1 - 1e-4].
    size_map:   (B, 2, F, F) box (w, h) as fractions of the search crop, clamped likewise.
    offset_map: (B, 2, F, F) (x, y) offset of the center inside its cell, in cells (raw).
    """

    score_map: Tensor
    size_map: Tensor
    offset_map: Tensor


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 conv (with bias, as in the original) + BatchNorm + ReLU; keys ``.0.*`` and ``.1.*``."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def _clamped_sigmoid(x: Tensor) -> Tensor:
    return x.float().sigmoid().clamp(SIGMOID_EPS, 1.0 - SIGMOID_EPS)


class CenterHead(nn.Module):
    """Three conv towers over the search feature map: center score, sub-cell offset, size."""

    BRANCHES = {'ctr': 1, 'offset': 2, 'size': 2}

    def __init__(self, in_channels: int = 768, channels: int = 256) -> None:
        super().__init__()
        widths = [in_channels, channels, channels // 2, channels // 4, channels // 8]
        # Modules are attributes named conv{1..5}_{branch} so that the checkpoint keys match.
        for branch, out_channels in self.BRANCHES.items():
            for i in range(4):
                setattr(self, f'conv{i + 1}_{branch}', conv_bn_relu(widths[i], widths[i + 1]))
            setattr(self, f'conv5_{branch}', nn.Conv2d(widths[4], out_channels, kernel_size=1))

    def _branch(self, branch: str, x: Tensor) -> Tensor:
        for i in range(1, 6):
            x = getattr(self, f'conv{i}_{branch}')(x)
        return x

    def forward(self, features: Tensor) -> HeadOutput:
        """Map (B, C, F, F) search features to a :class:`HeadOutput`."""
        return HeadOutput(
            score_map=_clamped_sigmoid(self._branch('ctr', features)),
            size_map=_clamped_sigmoid(self._branch('size', features)),
            offset_map=self._branch('offset', features).float(),
        )

    def fused(self) -> FusedCenterHead:
        """Return the same head for inference as one tower (see :class:`FusedCenterHead`)."""
        if self.training:
            raise RuntimeError('CenterHead.fused() needs eval mode (running statistics)')
        return FusedCenterHead(self)


class FusedCenterHead(nn.Module):
    """A :class:`CenterHead` run as one tower of five convolutions instead of three of five.

    Each BatchNorm is folded into its convolution; the three branches' first convolutions
    (which read the same features) become one with their output channels stacked, the
    next three become grouped convolutions (one group per branch) and the 1x1 predictors
    one block-diagonal 1x1 convolution. The same maps to float32 rounding, with 5 instead
    of 15 convolution calls (on this project's 2-core CPU about half the head's time).
    Inference only: built from an eval-mode head, without its state-dict layout.
    """

    def __init__(self, head: CenterHead) -> None:
        super().__init__()
        branches = list(CenterHead.BRANCHES)
        layers: list[nn.Module] = []
        for index in range(1, 5):
            convs = [fuse_conv_bn_eval(*getattr(head, f'conv{index}_{branch}')[:2])
                     for branch in branches]
            groups = 1 if index == 1 else len(branches)
            layers.append(_stacked_conv(convs, groups, padding=1))
            layers.append(nn.ReLU(inplace=True))
        predictors = [getattr(head, f'conv5_{branch}') for branch in branches]
        layers.append(_block_diagonal_conv(predictors))
        self.tower = nn.Sequential(*layers)
        self.splits = [CenterHead.BRANCHES[branch] for branch in branches]

    def forward(self, features: Tensor) -> HeadOutput:
        """Map (B, C, F, F) search features to a :class:`HeadOutput`."""
        score, offset, size = self.tower(features).split(self.splits, dim=1)
        return HeadOutput(score_map=_clamped_sigmoid(score), size_map=_clamped_sigmoid(size),
                          offset_map=offset.float())


def _stacked_conv(convs: list[nn.Conv2d], groups: int, padding: int) -> nn.Conv2d:
    # Output channels stacked; with groups > 1 each conv reads its own block of inputs.
    first = convs[0]
    stacked = nn.Conv2d(first.in_channels * groups, first.out_channels * len(convs),
                        first.kernel_size, padding=padding, groups=groups)
    with torch.no_grad():
        stacked.weight.copy_(torch.cat([conv.weight for conv in convs]))
        stacked.bias.copy_(torch.cat([conv.bias for conv in convs]))
    return stacked.to(first.weight)


def _block_diagonal_conv(convs: list[nn.Conv2d]) -> nn.Conv2d:
    # 1x1 convs of different widths (1, 2, 2 outputs) as one: zero weight off the blocks.
    width = convs[0].in_channels
    outputs = sum(conv.out_channels for conv in convs)
    merged = nn.Conv2d(width * len(convs), outputs, kernel_size=1)
    with torch.no_grad():
        merged.weight.zero_()
        row = 0
        for index, conv in enumerate(convs):
            merged.weight[row:row + conv.out_channels, index * width:(index + 1) * width] = \
                conv.weight
            row += conv.out_channels
        merged.bias.copy_(torch.cat([conv.bias for conv in convs]))
    return merged.to(convs[0].weight)


def hann_window(size: int, device: torch.device | str | None = None,
                dtype: torch.dtype = torch.float32) -> Tensor:
    """Return the (size, size) Hann window used to penalise large motion.

    1-D: ``w[k] = 0.5 * (1 - cos(2 * pi * k / (size + 1)))`` for k = 1..size (no zero at the
    borders), combined as an outer product.
    """
    k = torch.arange(1, size + 1, device=device, dtype=torch.float64)
    window_1d = 0.5 * (1.0 - torch.cos(2.0 * math.pi * k / (size + 1)))
    return torch.outer(window_1d, window_1d).to(dtype)


def decode_boxes(score_map: Tensor, size_map: Tensor, offset_map: Tensor,
                 window: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Pick the best cell of each score map and read the box there.

    Args:
        score_map: (B, 1, F, F) center probabilities.
        size_map: (B, 2, F, F) (w, h) fractions of the search crop.
        offset_map: (B, 2, F, F) (x, y) sub-cell offsets.
        window: (F, F) weights multiplied into the score before the argmax (a
            :func:`hann_window`), or None for a plain argmax.

    Returns:
        boxes: (B, 4) float32 (cx, cy, w, h) as fractions of the search crop.
        scores: (B,) float32 raw score at the chosen cell (before the window).

    """
    batch, _, height, width = score_map.shape
    scores = score_map.float().flatten(1)
    weighted = scores if window is None else scores * window.to(scores).flatten()
    index = weighted.argmax(dim=1)
    iy = torch.div(index, width, rounding_mode='floor')
    ix = index - iy * width

    gather_index = index.view(batch, 1, 1).expand(batch, 2, 1)
    size = size_map.float().flatten(2).gather(2, gather_index).squeeze(2)
    offset = offset_map.float().flatten(2).gather(2, gather_index).squeeze(2)

    center_x = (ix.float() + offset[:, 0]) / width
    center_y = (iy.float() + offset[:, 1]) / height
    boxes = torch.stack((center_x, center_y, size[:, 0], size[:, 1]), dim=1)
    best_scores = scores.gather(1, index.unsqueeze(1)).squeeze(1)
    return boxes, best_scores
