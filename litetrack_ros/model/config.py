# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Hyper-parameters of the two model families and their official variants.

* :class:`ModelConfig`: LiteTrack (the pruned OSTrack-class ViT), family ``'litetrack'``;
* :class:`LightTrackConfig`: LightTrack-M (the NAS-found Siamese tracker), family
  ``'lighttrack'``.

Each config holds what the network is (its shape) and how the tracker runs it (its
*tracking fields*: crop factors, window and penalty settings, size update rate), so
that the settings a network was trained or published with travel with its weights.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

# Fields that say how to track with a network rather than what the network is.
SELECTION_FIELDS = ('window_influence', 'scale_penalty_k', 'size_update_rate',
                    'score_weighted_size_update')
# When the target counts as absent and how it is found again (litetrack_ros.tracking.redetect),
# chosen on validation data for each set of weights.
PRESENCE_FIELDS = ('lost_threshold', 'lost_frames', 'redetect_threshold', 'redetect_tiles')
TRACKING_FIELDS = ('template_factor', 'search_factor') + SELECTION_FIELDS + PRESENCE_FIELDS
LIGHTTRACK_TRACKING_FIELDS = ('context_amount',) + SELECTION_FIELDS + PRESENCE_FIELDS
# Narrowest LiteTrack width for which 'auto' picks bf16 on a CPU (ModelConfig.cpu_bf16_pays).
BF16_MIN_WIDTH = 768
# Largest template or search crop side in px (the node's search_size parameter, the CLIs'
# --search-size and the sizes stored in or inferred from checkpoints).
MAX_CROP_SIZE = 512
# Type and range of each field, far beyond any real network: a config from a file or a
# command line cannot ask for a network that takes gigabytes or minutes to build.
MODEL_LIMITS: dict[str, tuple[type, float, float]] = {
    'depth': (int, 1, 64), 'num_interaction': (int, 1, 64), 'embed_dim': (int, 1, 4096),
    'num_heads': (int, 1, 128), 'mlp_ratio': (float, 0, 16), 'patch_size': (int, 1, 64),
    'template_size': (int, 1, MAX_CROP_SIZE), 'search_size': (int, 1, MAX_CROP_SIZE),
    'head_channels': (int, 8, 4096), 'pretrain_grid': (int, 1, 64),
    'norm_eps': (float, 0, 1), 'size_update_rate': (float, 0, 1),
    'template_factor': (float, 0, 16), 'search_factor': (float, 0, 16),
    'scale_penalty_k': (float, 0, 1e6),
}
LIGHTTRACK_LIMITS: dict[str, tuple[type, float, float]] = {
    'template_size': (int, 1, MAX_CROP_SIZE), 'search_size': (int, 1, MAX_CROP_SIZE),
    'context_amount': (float, 0, 4), 'size_update_rate': (float, 0, 1),
    'scale_penalty_k': (float, 0, 1e6),
}
# Patch-embedding stems of LiteTrack networks (see ModelConfig.stem).
STEMS = ('patch', 'conv')
# Sources of the interaction layers' template keys/values (see ModelConfig.template_kv).
TEMPLATE_KV_SOURCES = ('final', 'layer')


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a LiteTrack network; the defaults are ViT-B with 6 layers (LiteTrack-B6).

    ``num_interaction`` is the number of final layers in which the search tokens
    attend to the (frozen) template tokens; the layers before them see the search
    tokens only.
    """

    depth: int = 6
    num_interaction: int = 3
    embed_dim: int = 768
    num_heads: int = 12
    mlp_ratio: float = 4.0
    patch_size: int = 16
    template_size: int = 128
    search_size: int = 256
    # Width of the first conv of each head branch; later convs halve it three times.
    head_channels: int = 256
    # Side of the patch grid of the pre-training position embedding (224 px / 16 = 14).
    # It is unused at inference but kept so that official checkpoints load strictly.
    pretrain_grid: int = 14
    norm_eps: float = 1e-6
    # How image patches become tokens: 'patch' (one 16x16 stride-16 convolution, ViT's) or
    # 'conv' (four 3x3 stride-2 convolutions with hard-swish between, VitTrack's stem:
    # widths embed_dim / 8, / 4, / 2, embed_dim); the same stem serves template and search.
    stem: str = 'patch'
    # LayerNorm on the search tokens before the head (OSTrack's and VitTrack's `norm`).
    final_norm: bool = False
    # LiteTrack's target token: the template box embedded as one extra token of the
    # template pass. Networks trained without it (VitTrack) set False.
    target_token: bool = True
    # Which template tokens an interaction layer's cached keys/values come from: 'final'
    # (the template pass's output, LiteTrack's) or 'layer' (the tokens entering the same
    # block of the template pass: a one-stream tracker's template at that depth, without
    # its attention to the search; VitTrack-initialised networks).
    template_kv: str = 'final'
    # How the tracker runs this network; OSTrack's values by default, so that official
    # checkpoints track exactly as published. Side of the template / search crop as a
    # multiple of sqrt(w * h) of the target box: the network learnt objects at this size.
    template_factor: float = 2.0
    search_factor: float = 4.0
    # Share of the predicted change of box size taken each frame (1: all of it). Small
    # networks overshoot the size, and a growing box drifts off the target.
    size_update_rate: float = 1.0
    # Optional LightTrack-style selection (see litetrack_ros.tracking.selection); the defaults
    # are OSTrack's Hann-window multiply, no penalty, a fixed size update rate.
    # window_influence None: score x window; w in [0, 1]: score (1 - w) + window w.
    window_influence: float | None = None
    # Scale/aspect-change penalty exp(-(r s - 1) k) on each cell's score; 0: none.
    scale_penalty_k: float = 0.0
    # Size update rate multiplied by the chosen cell's (penalised) score.
    score_weighted_size_update: bool = False
    # Presence (see PRESENCE_FIELDS): score below which a frame is a miss (None: the
    # tracker's default), misses in a row that make the target lost (None: 5), score a
    # lost target must reach again to be resumed (None: the lost threshold), search tiles
    # per frame of the global re-detection while lost (0: off).
    lost_threshold: float | None = None
    lost_frames: int | None = None
    redetect_threshold: float | None = None
    redetect_tiles: int = 0

    family: ClassVar[str] = 'litetrack'
    tracking_fields: ClassVar[tuple[str, ...]] = TRACKING_FIELDS

    def __post_init__(self) -> None:
        _check_limits(self, MODEL_LIMITS)
        if self.depth < 1:
            raise ValueError(f'depth must be >= 1, got {self.depth}')
        if not 1 <= self.num_interaction <= self.depth:
            raise ValueError(
                f'num_interaction must be in [1, depth={self.depth}], got {self.num_interaction}')
        if self.embed_dim < 1 or self.num_heads < 1 or self.embed_dim % self.num_heads:
            raise ValueError(
                f'embed_dim ({self.embed_dim}) must be a positive multiple of '
                f'num_heads ({self.num_heads})')
        if self.mlp_hidden_dim < 1:
            raise ValueError(f'mlp_ratio too small: {self.mlp_ratio}')
        for name in ('template_size', 'search_size'):
            size = getattr(self, name)
            if size < self.patch_size or size % self.patch_size:
                raise ValueError(
                    f'{name} ({size}) must be a positive multiple of '
                    f'patch_size ({self.patch_size})')
        if self.stem not in STEMS:
            raise ValueError(f'stem must be one of {STEMS}, got {self.stem!r}')
        if self.stem == 'conv' and (self.patch_size != 16 or self.embed_dim % 8):
            raise ValueError('the conv stem needs patch_size 16 and embed_dim a multiple of 8, '
                             f'got {self.patch_size} and {self.embed_dim}')
        if self.template_kv not in TEMPLATE_KV_SOURCES:
            raise ValueError(f'template_kv must be one of {TEMPLATE_KV_SOURCES}, '
                             f'got {self.template_kv!r}')
        for name in ('final_norm', 'target_token'):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f'{name} must be true or false, got {getattr(self, name)!r}')
        if self.head_channels < 8 or self.head_channels % 8:
            raise ValueError(f'head_channels must be a multiple of 8, got {self.head_channels}')
        if self.pretrain_grid < 1:
            raise ValueError(f'pretrain_grid must be >= 1, got {self.pretrain_grid}')
        for name in ('template_factor', 'search_factor'):
            if not 0 < getattr(self, name) <= 16:
                raise ValueError(f'{name} must be in (0, 16], got {getattr(self, name)}')
        _check_tracking_fields(self)

    @property
    def cpu_bf16_pays(self) -> bool:
        """Whether bf16 beats fp32 on a CPU with native bf16 matmul (``precision: auto``).

        Measured with ``litetrack-bench``: the ViT-B variants (width 768) run 3.1-3.4x
        upstream's fp32 in bf16 on an AMX CPU; S4 (width 192) only 1.07x its fp32, at 0.013
        lower validation AUC; C3 (width 48) at 0.90x its fp32 on an AVX512-BF16 CPU.
        """
        return self.embed_dim >= BF16_MIN_WIDTH

    @property
    def num_plain_layers(self) -> int:
        """Layers that run on the search tokens alone, before the interaction layers."""
        return self.depth - self.num_interaction

    @property
    def template_feat_size(self) -> int:
        """Side of the template patch grid (8 for 128 px)."""
        return self.template_size // self.patch_size

    @property
    def search_feat_size(self) -> int:
        """Side of the search patch grid and of the head's output maps (16 for 256 px)."""
        return self.search_size // self.patch_size

    @property
    def architecture(self) -> ModelConfig:
        """Return this config with the tracking settings at their defaults (the shape)."""
        return _architecture(self, self.tracking_fields)

    @property
    def mlp_hidden_dim(self) -> int:
        """Width of the hidden layer of each block's MLP."""
        return int(self.embed_dim * self.mlp_ratio)

    def replace(self, **changes: Any) -> ModelConfig:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """Build a config from :meth:`to_dict` output; unknown keys are an error.

        Missing keys take their defaults, so files written before a field existed load.
        """
        return _from_dict(cls, values)


def _check_limits(config: Any, limits: dict[str, tuple[type, float, float]]) -> None:
    """Check each field's type and range, before any is used (files set them too)."""
    for name, (kind, low, high) in limits.items():
        value = getattr(config, name)
        if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f'{name} must be an integer, got {value!r:.40}')
        if kind is float and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise ValueError(f'{name} must be a number, got {value!r:.40}')
        if not low <= value <= high:  # False for NaN
            raise ValueError(f'{name} must be in [{low:g}, {high:g}], got {value!r:.40}')


def _check_tracking_fields(config: Any) -> None:
    if not 0 < config.size_update_rate <= 1:
        raise ValueError(f'size_update_rate must be in (0, 1], got {config.size_update_rate}')
    influence = config.window_influence
    if influence is not None and not 0 <= influence <= 1:
        raise ValueError(f'window_influence must be None or in [0, 1], got {influence}')
    if not 0 <= config.scale_penalty_k < float('inf'):
        raise ValueError(f'scale_penalty_k must be >= 0 and finite, got {config.scale_penalty_k}')
    if not isinstance(config.score_weighted_size_update, bool):
        raise ValueError('score_weighted_size_update must be true or false, got '
                         f'{config.score_weighted_size_update!r}')
    for name in ('lost_threshold', 'redetect_threshold'):
        value = getattr(config, name)
        if value is not None and not 0 <= value <= 1:
            raise ValueError(f'{name} must be None or in [0, 1], got {value}')
    frames = config.lost_frames
    if frames is not None and (isinstance(frames, bool) or not isinstance(frames, int)
                               or frames < 1):
        raise ValueError(f'lost_frames must be None or an integer >= 1, got {frames!r}')
    if isinstance(config.redetect_tiles, bool) or not isinstance(config.redetect_tiles, int) \
            or config.redetect_tiles < 0:
        raise ValueError(f'redetect_tiles must be an integer >= 0, got {config.redetect_tiles!r}')


def _architecture(config: Any, tracking_fields: tuple[str, ...]) -> Any:
    defaults = type(config)()
    return config.replace(**{name: getattr(defaults, name) for name in tracking_fields})


def _from_dict(cls: type, values: dict[str, Any]) -> Any:
    known = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f'unknown {cls.__name__} fields: {unknown}')
    return cls(**values)


@dataclass(frozen=True)
class LightTrackConfig:
    """LightTrack (Yan et al., CVPR 2021) and the official test-time settings.

    Only the searched mobile architecture LightTrack-M (``arch='M'``, 1.97 M parameters)
    exists; its layers are fixed (see ``litetrack_ros.model.lighttrack``). The tracking
    fields default to the official tracker's (``lib/tracker/lighttrack.py``, class
    ``Config``): SiamFC context ``context_amount``, cosine window influence 0.38,
    scale/ratio penalty 0.062, size learning rate 0.765 weighted by the chosen score.
    """

    arch: str = 'M'
    template_size: int = 128
    search_size: int = 256
    # Context added to each side of the target for the crops: s_z = sqrt((w + p)(h + p)),
    # p = context_amount * (w + h); the search crop is s_z * search_size / template_size.
    context_amount: float = 0.5
    window_influence: float | None = 0.38
    scale_penalty_k: float = 0.062
    size_update_rate: float = 0.765
    score_weighted_size_update: bool = True
    lost_threshold: float | None = None
    lost_frames: int | None = None
    redetect_threshold: float | None = None
    redetect_tiles: int = 0

    family: ClassVar[str] = 'lighttrack'
    tracking_fields: ClassVar[tuple[str, ...]] = LIGHTTRACK_TRACKING_FIELDS
    # precision 'auto' on a CPU with native bf16 matmul picks bf16 (not measured against fp32).
    cpu_bf16_pays: ClassVar[bool] = True
    # Output stride of the backbone: one score cell per 16 search-crop pixels.
    stride: ClassVar[int] = 16

    def __post_init__(self) -> None:
        if self.arch not in LIGHTTRACK_ARCHS:
            raise ValueError(
                f'LightTrack arch must be one of {LIGHTTRACK_ARCHS}, got {self.arch!r}')
        for name in ('template_size', 'search_size'):
            size = getattr(self, name)
            if size < self.stride or size % self.stride:
                raise ValueError(
                    f'{name} ({size}) must be a positive multiple of the stride ({self.stride})')
        _check_limits(self, LIGHTTRACK_LIMITS)
        if not 0 <= self.context_amount <= 4:
            raise ValueError(f'context_amount must be in [0, 4], got {self.context_amount}')
        _check_tracking_fields(self)

    @property
    def template_feat_size(self) -> int:
        """Side of the template feature map (8 for 128 px)."""
        return self.template_size // self.stride

    @property
    def search_feat_size(self) -> int:
        """Side of the search feature map and of the output maps (16 for 256 px)."""
        return self.search_size // self.stride

    @property
    def architecture(self) -> LightTrackConfig:
        """Return this config with the tracking settings at their defaults (the shape)."""
        return _architecture(self, self.tracking_fields)

    def replace(self, **changes: Any) -> LightTrackConfig:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LightTrackConfig:
        """Build a config from :meth:`to_dict` output; unknown keys are an error."""
        return _from_dict(cls, values)


LIGHTTRACK_ARCHS = ('M',)
# Any network's config; the family (a class attribute) says which network it builds.
NetworkConfig = ModelConfig | LightTrackConfig


def official_num_interaction(depth: int) -> int:
    """Return the number of interaction layers the official checkpoints use for ``depth``."""
    return 2 if depth == 4 else min(3, depth)


# The released LiteTrack models: ViT-B (CAE pre-trained) cut to `depth` layers.
VARIANTS: dict[str, ModelConfig] = {
    'B4': ModelConfig(depth=4, num_interaction=2),
    'B6': ModelConfig(depth=6, num_interaction=3),
    'B8': ModelConfig(depth=8, num_interaction=3),
    'B9': ModelConfig(depth=9, num_interaction=3),
}

# Small members of the same architecture for CPU robots (no official weights; `S4` is
# the shape of the project's default weights, see weights/MODEL_CARD.md). As in the
# official models, template_size / 2 == search_size / 4: both crops show the target
# at the same scale.
SMALL_VARIANTS: dict[str, ModelConfig] = {
    'S4': ModelConfig(depth=4, num_interaction=3, embed_dim=192, num_heads=3,
                      template_size=80, search_size=160, head_channels=64),
    'S6': ModelConfig(depth=6, num_interaction=3, embed_dim=192, num_heads=3,
                      template_size=80, search_size=160, head_channels=64),
    'M6': ModelConfig(depth=6, num_interaction=3, embed_dim=384, num_heads=6,
                      template_size=96, search_size=192, head_channels=128),
    # VitTrack's shape (OpenCV's TrackerVit network: conv stem, 3 blocks of width 48, one
    # head) in LiteTrack's form: the template runs alone once per target, all 3 layers are
    # interaction layers with cached template keys/values taken layer by layer (see
    # weights/MODEL_CARD.md).
    'C3': ModelConfig(depth=3, num_interaction=3, embed_dim=48, num_heads=1,
                      head_channels=32, norm_eps=1e-5, stem='conv', final_norm=True,
                      target_token=False, template_kv='layer'),
}
KNOWN_VARIANTS: dict[str, ModelConfig] = {**VARIANTS, **SMALL_VARIANTS}


# The LightTrack networks by name (official weights: researchmm/LightTrack).
LIGHTTRACK_VARIANTS: dict[str, LightTrackConfig] = {'LightTrack-M': LightTrackConfig()}


def variant_name(config: NetworkConfig) -> str:
    """Name a config: ``'B6'`` for a known variant, ``'B6@192'`` with another search size.

    LightTrack configs are named ``'LightTrack-M'`` (``'LightTrack-M@288'``). Only the
    architecture counts (not the crop factors or size update rate). Anything else is
    described by its main dimensions.
    """
    if isinstance(config, LightTrackConfig):
        name = f'LightTrack-{config.arch}'
        if config.search_size != LightTrackConfig.search_size:
            name += f'@{config.search_size}'
        return name
    shape = config.architecture
    for name, variant in KNOWN_VARIANTS.items():
        if shape == variant:
            return name
        if shape.replace(search_size=variant.search_size) == variant:
            return f'{name}@{config.search_size}'
    return (f'custom(depth={config.depth}, interaction={config.num_interaction}, '
            f'dim={config.embed_dim}, heads={config.num_heads}, search={config.search_size})')
