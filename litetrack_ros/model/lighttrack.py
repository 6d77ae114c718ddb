# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""LightTrack-M (Yan et al., CVPR 2021), the NAS-found Siamese tracker, in plain PyTorch.

The network, as searched and released (official code: researchmm/LightTrack, path
``back_04502514044521042540+cls_211000022+reg_100000111_ops_32``, 1.97 M parameters):

* ``features``: a MobileNet-style backbone (stem, one depthwise-separable block and 13
  inverted residual blocks with squeeze-excitation and Swish), cut after the third
  block of its stride-16 stage: 96 channels, 8x8 for the 128 px template and 16x16 for
  the 256 px search crop;
* ``neck``: one BatchNorm per branch before the correlation;
* ``feature_fusor``: pixel-wise correlation (each of the 64 template positions is a
  1x1 kernel over the search features), channel attention, and a 1x1 conv to 128;
* ``head``: a classification tower (6 separable convs, 256 wide) and a regression
  tower (8 separable convs, 192 wide); ``cls`` = 0.1 x conv (logits), ``reg`` =
  ReLU(conv) x 16: distances (left, top, right, bottom) in search-crop pixels from
  each cell's grid point.

The template never changes while a target is held, so :meth:`LightTrack.encode_template`
runs the template branch and its neck BatchNorm once; every frame only the search
branch, the correlation and the head run. Module and parameter names (including the
official ``cls_perd`` spelling) follow the official code so that its ``LightTrackM.pth``
loads with ``strict=True``.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

from litetrack_ros.model.config import LightTrackConfig
import torch
from torch import nn, Tensor
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

# Backbone of LightTrack-M by stage, decoded from the official path name: per block
# (kernel, expansion ratio, output channels, stride). Stage 0 is the depthwise-separable
# block; the searched path ends after the third block of the 96-channel stage.
LIGHTTRACK_M_STAGES: tuple[tuple[tuple[int, int, int, int], ...], ...] = (
    ((3, 1, 16, 1),),
    ((7, 4, 24, 2), (7, 6, 24, 1)),
    ((3, 4, 40, 2), (5, 4, 40, 1), (7, 6, 40, 1), (3, 6, 40, 1)),
    ((7, 4, 80, 2), (3, 4, 80, 1), (7, 4, 80, 1), (7, 4, 80, 1)),
    ((7, 6, 96, 1), (5, 4, 96, 1), (3, 6, 96, 1)),
)
STEM_CHANNELS = 16
FEATURE_CHANNELS = 96
# Neck output width (the official adj_channel).
FUSED_CHANNELS = 128
# Head towers: (width, depthwise kernel per layer); the searched skips are left out.
CLS_TOWER = (256, (5, 5, 3, 3, 3, 3))
REG_TOWER = (192, (3, 3, 3, 3, 3, 5, 5, 5))
SE_RATIO = 0.25
CLS_SCALE = 0.1  # cls_pred_head multiplies its conv by 0.1


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to a multiple of ``divisor`` (EfficientNet's rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1,
          groups: int = 1) -> nn.Conv2d:
    # timm's symmetric 'same'-ish padding, no bias (a BatchNorm follows).
    padding = ((stride - 1) + (kernel - 1)) // 2
    return nn.Conv2d(in_channels, out_channels, kernel, stride, padding, groups=groups,
                     bias=False)


class SqueezeExcite(nn.Module):
    """Channel gate: global pool, 1x1 down (ReLU), 1x1 up, hard sigmoid."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        reduced = make_divisible(channels * SE_RATIO)
        self.conv_reduce = nn.Conv2d(channels, reduced, 1)
        self.conv_expand = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Scale each channel of x by its gate."""
        gate = self.conv_expand(F.relu(self.conv_reduce(x.mean((2, 3), keepdim=True))))
        return x * F.hardsigmoid(gate)


class DepthwiseSeparable(nn.Module):
    """Depthwise conv, BN, Swish, squeeze-excite, pointwise conv, BN (+ identity)."""

    # (conv, BatchNorm after it) pairs that LightTrack.fused() folds.
    FOLDABLE = (('conv_dw', 'bn1'), ('conv_pw', 'bn2'))

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.conv_dw = _conv(in_channels, in_channels, kernel, stride, groups=in_channels)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.se = SqueezeExcite(in_channels)
        self.conv_pw = _conv(in_channels, out_channels, 1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.has_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block."""
        y = self.se(F.silu(self.bn1(self.conv_dw(x))))
        y = self.bn2(self.conv_pw(y))
        return y + x if self.has_residual else y


class InvertedResidual(nn.Module):
    """1x1 expansion, depthwise conv, squeeze-excite, 1x1 projection (+ identity)."""

    FOLDABLE = (('conv_pw', 'bn1'), ('conv_dw', 'bn2'), ('conv_pwl', 'bn3'))

    def __init__(self, in_channels: int, out_channels: int, kernel: int, expansion: int,
                 stride: int) -> None:
        super().__init__()
        mid = make_divisible(in_channels * expansion)
        self.conv_pw = _conv(in_channels, mid, 1)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv_dw = _conv(mid, mid, kernel, stride, groups=mid)
        self.bn2 = nn.BatchNorm2d(mid)
        self.se = SqueezeExcite(mid)
        self.conv_pwl = _conv(mid, out_channels, 1)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.has_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block."""
        y = F.silu(self.bn1(self.conv_pw(x)))
        y = self.se(F.silu(self.bn2(self.conv_dw(y))))
        y = self.bn3(self.conv_pwl(y))
        return y + x if self.has_residual else y


class Backbone(nn.Module):
    """The searched MobileNet-style feature extractor (official ``ChildNet_FCN``)."""

    FOLDABLE = (('conv_stem', 'bn1'),)

    def __init__(self) -> None:
        super().__init__()
        self.conv_stem = _conv(3, STEM_CHANNELS, 3, stride=2)
        self.bn1 = nn.BatchNorm2d(STEM_CHANNELS)
        stages = []
        channels = STEM_CHANNELS
        for index, stage in enumerate(LIGHTTRACK_M_STAGES):
            blocks = []
            for kernel, expansion, out_channels, stride in stage:
                if index == 0:
                    blocks.append(DepthwiseSeparable(channels, out_channels, kernel, stride))
                else:
                    blocks.append(InvertedResidual(channels, out_channels, kernel, expansion,
                                                   stride))
                channels = out_channels
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)

    def forward(self, image: Tensor) -> Tensor:
        """Map a (B, 3, H, W) normalised crop to (B, 96, H / 16, W / 16) features."""
        return self.blocks(F.silu(self.bn1(self.conv_stem(image))))


class Neck(nn.Module):
    """Separate BatchNorms for the template and the search features (official ``BN_adj``)."""

    def __init__(self, channels: int = FEATURE_CHANNELS) -> None:
        super().__init__()
        self.BN_z = nn.BatchNorm2d(channels)  # official name
        self.BN_x = nn.BatchNorm2d(channels)


class ChannelAttention(nn.Module):
    """Squeeze-excitation over the correlation channels (official ``CAModule``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels, 1)
        self.fc2 = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Scale each channel of x by its gate."""
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3), keepdim=True)))))


class PixelCorrelation(nn.Module):
    """Holds the channel attention applied after the correlation (official ``PWCA``)."""

    def __init__(self, num_kernels: int) -> None:
        super().__init__()
        self.CA_layer = ChannelAttention(num_kernels)


class FeatureFusor(nn.Module):
    """Pixel-wise correlation, channel attention, 1x1 adjustment (official ``PW_Corr_adj``)."""

    def __init__(self, num_kernels: int, out_channels: int = FUSED_CHANNELS) -> None:
        super().__init__()
        self.pw_corr = PixelCorrelation(num_kernels)
        self.adj_layer = nn.Conv2d(num_kernels, out_channels, 1)

    def forward(self, kernels: Tensor, search: Tensor) -> Tensor:
        """Correlate (B or 1, Nz, C) template kernels with (B, C, H, W) search features.

        Channel k of the result is the dot product of template position k's feature
        with the search feature at each position: (B, Nz, H, W), then attention and
        the adjustment to 128 channels.
        """
        batch, channels, height, width = search.shape
        if kernels.shape[0] not in (1, batch):
            raise ValueError(f'a template batch of {kernels.shape[0]} cannot pair with a search '
                             f'batch of {batch} (use batch 1 or the same batch)')
        corr = torch.matmul(kernels, search.reshape(batch, channels, height * width))
        corr = corr.reshape(batch, -1, height, width)
        return self.adj_layer(self.pw_corr.CA_layer(corr))


class SeparableConvBNReLU(nn.Module):
    """Depthwise conv, pointwise conv, BN, ReLU (official ``SeparableConv2d_BNReLU``)."""

    FOLDABLE = (('pointwise', 'BN'),)

    def __init__(self, in_channels: int, out_channels: int, kernel: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, in_channels, kernel, padding=(kernel - 1) // 2,
                               groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.BN = nn.BatchNorm2d(out_channels)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the layer."""
        return F.relu(self.BN(self.pointwise(self.conv1(x))))


def _tower(in_channels: int, width: int, kernels: tuple[int, ...]) -> nn.Sequential:
    layers = [SeparableConvBNReLU(in_channels if i == 0 else width, width, kernel)
              for i, kernel in enumerate(kernels)]
    return nn.Sequential(*layers)


class ClsPredictor(nn.Module):
    """3x3 conv to one logit per cell, scaled by 0.1 (official ``cls_pred_head``)."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.cls_pred = nn.Conv2d(in_channels, 1, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        """Return (B, 1, F, F) logits."""
        return CLS_SCALE * self.cls_pred(x)


class RegPredictor(nn.Module):
    """3x3 conv to (l, t, r, b), ReLU, times the stride (official ``reg_pred_head``)."""

    def __init__(self, in_channels: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.bbox_pred = nn.Conv2d(in_channels, 4, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        """Return (B, 4, F, F) distances in search-crop pixels."""
        return F.relu(self.bbox_pred(x)) * self.stride


class Head(nn.Module):
    """Classification and regression towers with their predictors (official ``head_subnet``)."""

    def __init__(self, in_channels: int, stride: int) -> None:
        super().__init__()
        self.cls_tower = _tower(in_channels, *CLS_TOWER)
        self.reg_tower = _tower(in_channels, *REG_TOWER)
        self.cls_perd = ClsPredictor(CLS_TOWER[0])  # official spelling
        self.reg_pred = RegPredictor(REG_TOWER[0], stride)

    def forward(self, fused: Tensor) -> SiamOutput:
        """Map (B, 128, F, F) fused features to the two maps."""
        return SiamOutput(cls_logits=self.cls_perd(self.cls_tower(fused)).float(),
                          ltrb=self.reg_pred(self.reg_tower(fused)).float())


class SiamOutput(NamedTuple):
    """Dense predictions over the F x F search grid, always float32.

    cls_logits: (B, 1, F, F) target logits (``scores`` = their sigmoid).
    ltrb:       (B, 4, F, F) distances (left, top, right, bottom) >= 0 in search-crop
                pixels from each cell's grid point to the box edges; the grid point of
                cell (row i, column j) is ((j - F // 2) * 16 + S // 2, (i - F // 2) *
                16 + S // 2), i.e. (16 j, 16 i) for S = 256.
    """

    cls_logits: Tensor
    ltrb: Tensor

    @property
    def scores(self) -> Tensor:
        """(B, 1, F, F) target probabilities (sigmoid of the logits)."""
        return torch.sigmoid(self.cls_logits)


class LightTrackTemplate(NamedTuple):
    """What the search pass needs from one target's template (batch B, or 1 to share).

    kernels: (B, Nz, C) template features after the neck's BatchNorm, one row per
             template position (Nz = 64 for the 128 px template).
    """

    kernels: Tensor


class LightTrack(nn.Module):
    """LightTrack-M with a cached template branch (see the module docstring)."""

    def __init__(self, config: LightTrackConfig | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else LightTrackConfig()
        stride = self.config.stride
        self.features = Backbone()
        self.neck = Neck()
        self.feature_fusor = FeatureFusor(self.config.template_feat_size ** 2)
        self.head = Head(FUSED_CHANNELS, stride)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise the backbone like the official code (EfficientNet's rule).

        Convolutions ~ N(0, 2 / fan_out) with fan_out = k * k * out / groups, zero biases,
        BatchNorms 1 / 0; the neck and head keep PyTorch's defaults, as officially.
        """
        for module in self.features.modules():
            if isinstance(module, nn.Conv2d):
                fan_out = module.kernel_size[0] * module.kernel_size[1] * \
                    module.out_channels // module.groups
                nn.init.normal_(module.weight, 0.0, (2.0 / fan_out) ** 0.5)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point type of the weights."""
        return self.features.conv_stem.weight.dtype

    @property
    def device(self) -> torch.device:
        """Device of the weights."""
        return self.features.conv_stem.weight.device

    @property
    def num_parameters(self) -> int:
        """Count the weights (BatchNorm statistics not counted)."""
        return sum(param.numel() for param in self.parameters())

    @torch.no_grad()
    def fused(self) -> LightTrack:
        """Return a copy for inference: BatchNorms folded into their convs, channels-last.

        Every BatchNorm that follows a convolution is folded into it (the neck's two stay:
        nothing precedes them in the same branch), and the weights are stored
        channels-last, which the CPU convolutions run faster. It computes the same maps
        to float32 rounding. Its state dict lacks the folded BatchNorms: keep and save the
        original. Works in eval mode only (the folding uses the running statistics).
        """
        if self.training:
            raise RuntimeError('LightTrack.fused() needs eval mode (running statistics)')
        model = copy.deepcopy(self)
        for module in model.modules():
            for conv_name, bn_name in getattr(module, 'FOLDABLE', ()):
                conv, bn = getattr(module, conv_name), getattr(module, bn_name)
                if isinstance(bn, nn.BatchNorm2d):
                    setattr(module, conv_name, fuse_conv_bn_eval(conv, bn))
                    setattr(module, bn_name, nn.Identity())
        return model.to(memory_format=torch.channels_last)

    def set_search_size(self, search_size: int) -> None:
        """Change the search-crop size (multiple of 16); the network is fully convolutional.

        The output maps become ``search_size // 16`` cells wide. The official tracker
        uses 256, and 288 for targets smaller than 0.4 % of the image on VOT.
        """
        self.config = self.config.replace(search_size=search_size)

    def _kernels(self, features: Tensor) -> Tensor:
        z = self.neck.BN_z(features)
        return z.flatten(2).transpose(1, 2)

    def encode_template(self, template: Tensor) -> LightTrackTemplate:
        """Run the template branch once per target.

        Args:
            template: (B, 3, T, T) normalised template crop (T = config.template_size,
                ImageNet mean/std on RGB in [0, 1]); cast to the model's dtype.

        """
        return LightTrackTemplate(self._kernels(self.features(template.to(self.dtype))))

    def track_search(self, state: LightTrackTemplate, search: Tensor) -> SiamOutput:
        """Run the search branch, the correlation and the head for one frame.

        Args:
            state: output of :meth:`encode_template` (batch B, or 1 to share it).
            search: (B, 3, S, S) normalised search crop (S = config.search_size).

        """
        return self.head(self.fuse(state, search))

    def fuse(self, state: LightTrackTemplate, search: Tensor) -> Tensor:
        """Return the head's input: the search features correlated with the template.

        (B, 128, F, F), the output of the feature fusor (pixel-wise correlation, channel
        attention, 1x1 conv); :meth:`track_search` is ``head(fuse(state, search))``.
        """
        xf = self.neck.BN_x(self.features(search.to(self.dtype)))
        kernels = state.kernels.to(device=xf.device, dtype=xf.dtype)
        return self.feature_fusor(kernels, xf)

    def forward(self, state: LightTrackTemplate, search: Tensor) -> SiamOutput:
        """Alias of :meth:`track_search`."""
        return self.track_search(state, search)

    def template_features(self, template: Tensor) -> Tensor:
        """Backbone features of a template crop, as the official ``template()`` keeps them."""
        return self.features(template.to(self.dtype))

    def forward_official(self, template_features: Tensor, search: Tensor) -> SiamOutput:
        """Run the official per-frame ``track()``: search branch, both neck BNs, fusor, head.

        Reference for the cached path and the honest baseline for timing: the official
        tracker also computes the template features once, but applies the template's
        BatchNorm and reshapes it again every frame.
        """
        xf = self.features(search.to(self.dtype))
        zf = self.neck.BN_z(template_features.to(self.dtype))
        xf = self.neck.BN_x(xf)
        batch, channels = zf.shape[:2]
        kernels = zf.reshape(batch, channels, -1).transpose(1, 2)
        return self.head(self.feature_fusor(kernels, xf))

    @torch.no_grad()
    def teacher_maps(self, templates: Tensor, searches: Tensor) -> SiamOutput:
        """Dense maps for a batch of (template, search) pairs, for distillation.

        Args:
            templates: (B, 3, T, T) template crops, searches: (B, 3, S, S) search crops,
                both already cut (SiamFC context crops, see docs/design.md) and
                normalised like :meth:`encode_template`'s input; pair i is
                (templates[i], searches[i]).

        Returns:
            :class:`SiamOutput` with (B, 1, F, F) ``cls_logits`` (``.scores`` for
            probabilities) and (B, 4, F, F) ``ltrb`` in search-crop pixels from each
            cell's grid point; no gradients.

        """
        return self.teacher_outputs(templates, searches)[0]

    @torch.no_grad()
    def teacher_outputs(self, templates: Tensor, searches: Tensor) -> tuple[SiamOutput, Tensor]:
        """:meth:`teacher_maps` and the head's input they come from (:meth:`fuse`'s output)."""
        if templates.shape[0] != searches.shape[0]:
            raise ValueError(f'templates and searches must pair up: batch {templates.shape[0]} '
                             f'vs {searches.shape[0]}')
        fused = self.fuse(self.encode_template(templates), searches)
        return self.head(fused), fused


def grid_points(feat_size: int, search_size: int, stride: int = LightTrackConfig.stride
                ) -> Tensor:
    """Return the (F,) pixel coordinate of each cell's grid point along one axis.

    Official ``grids()``: ``(k - F // 2) * stride + S // 2`` for cell k; the same along x
    (columns) and y (rows).
    """
    offsets = torch.arange(feat_size, dtype=torch.float64) - feat_size // 2
    return offsets * stride + search_size // 2
