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
        """Build a config from :meth:`to_dict` output; unknown keys are an error."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f'unknown ModelConfig fields: {unknown}')
        return cls(**values)


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


def variant_name(config: ModelConfig) -> str:
    """Name a config: ``'B6'`` for an official variant, ``'B6@192'`` with another search size.

    Anything else is described by its main dimensions.
    """
    for name, variant in VARIANTS.items():
        if config == variant:
            return name
        if config.replace(search_size=variant.search_size) == variant:
            return f'{name}@{config.search_size}'
    return (f'custom(depth={config.depth}, interaction={config.num_interaction}, '
            f'dim={config.embed_dim}, heads={config.num_heads}, search={config.search_size})')
