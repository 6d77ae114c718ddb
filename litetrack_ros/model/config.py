# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Hyper-parameters of the LiteTrack network and the official variants."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


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
    # How the tracker runs this network; OSTrack's values by default, so that official
    # checkpoints track exactly as published. Side of the template / search crop as a
    # multiple of sqrt(w * h) of the target box: the network learnt objects at this size.
    template_factor: float = 2.0
    search_factor: float = 4.0
    # Share of the predicted change of box size taken each frame (1: all of it). Small
    # networks overshoot the size, and a growing box drifts off the target.
    size_update_rate: float = 1.0

    def __post_init__(self) -> None:
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
        if self.head_channels < 8 or self.head_channels % 8:
            raise ValueError(f'head_channels must be a multiple of 8, got {self.head_channels}')
        if self.pretrain_grid < 1:
            raise ValueError(f'pretrain_grid must be >= 1, got {self.pretrain_grid}')
        for name in ('template_factor', 'search_factor'):
            if not 0 < getattr(self, name) <= 16:
                raise ValueError(f'{name} must be in (0, 16], got {getattr(self, name)}')
        if not 0 < self.size_update_rate <= 1:
            raise ValueError(f'size_update_rate must be in (0, 1], got {self.size_update_rate}')

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
        return self.replace(**{name: getattr(ModelConfig, name) for name in TRACKING_FIELDS})

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
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f'unknown ModelConfig fields: {unknown}')
        return cls(**values)


# Fields that say how to track with a network rather than what the network is.
TRACKING_FIELDS = ('template_factor', 'search_factor', 'size_update_rate')


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
}
KNOWN_VARIANTS: dict[str, ModelConfig] = {**VARIANTS, **SMALL_VARIANTS}


def variant_name(config: ModelConfig) -> str:
    """Name a config: ``'B6'`` for a known variant, ``'B6@192'`` with another search size.

    Only the architecture counts (not the crop factors or size update rate). Anything
    else is described by its main dimensions.
    """
    shape = config.architecture
    for name, variant in KNOWN_VARIANTS.items():
        if shape == variant:
            return name
        if shape.replace(search_size=variant.search_size) == variant:
            return f'{name}@{config.search_size}'
    return (f'custom(depth={config.depth}, interaction={config.num_interaction}, '
            f'dim={config.embed_dim}, heads={config.num_heads}, search={config.search_size})')
