# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The LiteTrack network (Wei et al., ICRA 2024) with a cached template path.

LiteTrack runs the template through all ``depth`` layers once per target, then runs
every search crop through ``depth - k`` search-only layers followed by ``k``
interaction layers in which the search tokens also attend to the final template
tokens.  The template tokens are never updated by the search pass, so each
interaction layer's template keys/values are constants for a target: they are
computed once in :meth:`LiteTrack.encode_template` and reused every frame.

Module and parameter names follow the official implementation so that its
checkpoints load with ``strict=True``.
"""

from __future__ import annotations

import copy
from typing import NamedTuple, Sequence

from litetrack_ros.model.config import ModelConfig
from litetrack_ros.model.head import CenterHead, HeadOutput
from litetrack_ros.model.vit import Block, ConvStem, LayerNorm, Mlp, PatchEmbed
import torch
from torch import nn, Tensor
import torch.nn.functional as F

# Initial value of the layer-scale parameters (CAE's init_values); only matters for training.
LAYER_SCALE_INIT = 0.1


class TemplateState(NamedTuple):
    """Everything the search pass needs from the template of one target (batch B).

    z:  (B, Nz, C) template tokens after the template pass (target token removed).
    kv: per interaction layer, the (k, v) that the template contributes, each
        (B, heads, Nz, head_dim): from z (``template_kv='final'``, LiteTrack's) or from
        the template tokens entering that layer in the template pass (``'layer'``).
    attended: per interaction layer, the (B, Nz, C) template tokens behind its kv (what
        the upstream-style forward concatenates); empty when only kv is known.
    """

    z: Tensor
    kv: tuple[tuple[Tensor, Tensor], ...]
    attended: tuple[Tensor, ...] = ()


def enable_flush_denormal() -> bool:
    """Flush denormal floats to zero on CPU; returns whether the CPU supports it.

    Denormals (common with random or tiny weights) can make CPU matmuls several times
    slower; flushing them changes results by less than float32 resolution of normal values.
    The setting is process-wide.
    """
    return torch.set_flush_denormal(True)


def resize_pos_embed(pos_embed: Tensor, grid: int) -> Tensor:
    """Resize a (1, g*g, C) position embedding to (1, grid*grid, C) bicubically."""
    _, length, dim = pos_embed.shape
    old_grid = int(round(length ** 0.5))
    if old_grid * old_grid != length:
        raise ValueError(f'position embedding of length {length} is not a square grid')
    if old_grid == grid:
        return pos_embed
    image = pos_embed.float().reshape(1, old_grid, old_grid, dim).permute(0, 3, 1, 2)
    image = F.interpolate(image, size=(grid, grid), mode='bicubic', align_corners=False)
    return image.flatten(2).transpose(1, 2).to(pos_embed.dtype)


class Backbone(nn.Module):
    """Patch embedding, position embeddings, transformer blocks and the optional final norm."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        dim = config.embed_dim
        self.patch_embed: nn.Module = (ConvStem(3, dim) if config.stem == 'conv'
                                       else PatchEmbed(config.patch_size, 3, dim))
        # cls_token and pos_embed come from pre-training and are unused by the tracker.
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, config.pretrain_grid ** 2 + 1, dim))
        self.pos_embed_z = nn.Parameter(torch.zeros(1, config.template_feat_size ** 2, dim))
        self.pos_embed_x = nn.Parameter(torch.zeros(1, config.search_feat_size ** 2, dim))
        self.blocks = nn.ModuleList(
            Block(dim, config.num_heads, config.mlp_hidden_dim, config.norm_eps, LAYER_SCALE_INIT)
            for _ in range(config.depth))
        # Applied to the search tokens before the head (per token, so to them alone).
        self.norm: nn.Module = (LayerNorm(dim, eps=config.norm_eps) if config.final_norm
                                else nn.Identity())

    def embed_template(self, template: Tensor) -> Tensor:
        """Map a (B, 3, Ht, Wt) template crop to (B, Nz, C) position-encoded tokens."""
        return self.patch_embed(template) + self.pos_embed_z

    def embed_search(self, search: Tensor) -> Tensor:
        """Map a (B, 3, Hs, Ws) search crop to (B, Nx, C) position-encoded tokens."""
        return self.patch_embed(search) + self.pos_embed_x


class LiteTrack(nn.Module):
    """LiteTrack: asymmetric ViT backbone with a target token and an OSTrack center head."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else ModelConfig()
        self.backbone = Backbone(self.config)
        # Embeds the template box (xyxy in [0, 1] of the template crop) into one token.
        self.target_token_embed = (Mlp(4, 4, self.config.embed_dim)
                                   if self.config.target_token else None)
        self.box_head = CenterHead(self.config.embed_dim, self.config.head_channels)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise like the original training code (trunc-normal ViT, Xavier head)."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        for param in (self.backbone.cls_token, self.backbone.pos_embed,
                      self.backbone.pos_embed_z, self.backbone.pos_embed_x):
            nn.init.trunc_normal_(param, std=0.02)
        for param in self.box_head.parameters():
            if param.dim() > 1:
                nn.init.xavier_uniform_(param)

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point type of the weights."""
        return self.backbone.pos_embed_x.dtype

    @property
    def device(self) -> torch.device:
        """Device of the weights."""
        return self.backbone.pos_embed_x.device

    @property
    def num_parameters(self) -> int:
        """Count the weights (the unused pre-training position embedding included)."""
        return sum(param.numel() for param in self.parameters())

    def fused(self) -> LiteTrack:
        """Return a copy for inference with the head as one tower (:class:`FusedCenterHead`).

        The same maps to float32 rounding; its state dict lacks the head's layout, so keep
        and save the original. Eval mode only (BatchNorms are folded with their running
        statistics).
        """
        if self.training:
            raise RuntimeError('LiteTrack.fused() needs eval mode (running statistics)')
        model = copy.deepcopy(self)
        model.box_head = self.box_head.fused()
        return model

    @torch.no_grad()
    def set_search_size(self, search_size: int) -> None:
        """Change the search-crop size, resizing ``pos_embed_x`` bicubically.

        The output maps become (search_size // patch_size) cells wide.
        """
        self._set_crop_size('search_size', 'pos_embed_x', search_size)

    @torch.no_grad()
    def set_template_size(self, template_size: int) -> None:
        """Change the template-crop size, resizing ``pos_embed_z`` bicubically.

        A starting point for fine-tuning, e.g. to keep the template and search crops at
        the same scale after a search-size change; not for tracking as it is.
        """
        self._set_crop_size('template_size', 'pos_embed_z', template_size)

    def _set_crop_size(self, field: str, embedding: str, size: int) -> None:
        config = self.config.replace(**{field: size})  # validates the size
        old = getattr(self.backbone, embedding)
        resized = resize_pos_embed(old.detach(), size // config.patch_size)
        setattr(self.backbone, embedding, nn.Parameter(resized, requires_grad=old.requires_grad))
        self.config = config

    def template_tokens(self, template: Tensor, box_xyxy: Tensor,
                        explicit: bool = False) -> Tensor:
        """Template pass through all layers: (B, Nz, C) tokens, target token dropped.

        ``explicit=True`` uses textbook attention, as upstream's ``forward_z`` does.
        """
        return self.template_pass(template, box_xyxy, explicit)[0]

    def layers(self) -> list[tuple[Block, bool]]:
        """Return the blocks with their roles: (block, is_interaction), plain ones first."""
        plain = self.config.num_plain_layers
        return [(block, index >= plain) for index, block in enumerate(self.backbone.blocks)]

    def template_pass(self, template: Tensor, box_xyxy: Tensor, explicit: bool = False,
                      layers: Sequence[tuple[Block, bool]] | None = None
                      ) -> tuple[Tensor, tuple[Tensor, ...]]:
        """Template pass: the final tokens z and the tokens each interaction layer attends to.

        ``layers`` are (block, is_interaction) pairs, by default this model's blocks
        (distillation passes mixed student/teacher blocks). The second result has one
        (B, Nz, C) entry per interaction layer: z itself (``template_kv='final'``) or the
        tokens entering that block (``'layer'``), target token dropped.
        """
        if layers is None:
            layers = self.layers()
        tokens = self.template_input(template, box_xyxy)
        entering = []
        for block, interaction in layers:
            if interaction:
                entering.append(tokens)
            tokens = block(tokens, explicit)
        z = self.template_output(tokens)
        if self.config.template_kv == 'layer':
            return z, tuple(self.template_output(t) for t in entering)
        return z, (z,) * len(entering)

    def template_input(self, template: Tensor, box_xyxy: Tensor) -> Tensor:
        """Tokens that enter the template pass: position-encoded patches after the target token.

        The target token carries no position embedding; without one (``target_token``
        false) the box is unused.
        """
        z = self.backbone.embed_template(template.to(self.dtype))
        if self.target_token_embed is None:
            return z
        box = box_xyxy.to(device=z.device, dtype=z.dtype).reshape(z.shape[0], 4)
        return torch.cat((self.target_token_embed(box).unsqueeze(1), z), dim=1)

    def template_output(self, tokens: Tensor) -> Tensor:
        """Drop the target token (if any) from the template pass's output tokens."""
        return tokens if self.target_token_embed is None else tokens[:, 1:]

    def head(self, x: Tensor) -> HeadOutput:
        """Run the final norm and the head on (B, F*F, C) search tokens (row-major order).

        F is ``config.search_feat_size``.
        """
        x = self.backbone.norm(x)
        side = self.config.search_feat_size
        return self.box_head(x.transpose(1, 2).reshape(x.shape[0], -1, side, side))

    def encode_template(self, template: Tensor, box_xyxy: Tensor) -> TemplateState:
        """Run the template pass once per target.

        Args:
            template: (B, 3, T, T) normalised template crop (T = config.template_size); it is
                cast to the model's dtype.
            box_xyxy: (B, 4) target box (x1, y1, x2, y2) as fractions of the template crop.

        """
        z, attended = self.template_pass(template, box_xyxy)
        interaction = self.backbone.blocks[self.config.num_plain_layers:]
        kv = tuple(block.template_kv(tokens)
                   for block, tokens in zip(interaction, attended, strict=True))
        return TemplateState(z=z, kv=kv, attended=attended)

    def track_search(self, state: TemplateState, search: Tensor) -> HeadOutput:
        """Run the search pass for one frame.

        Args:
            state: output of :meth:`encode_template` (batch B, or 1 to share it).
            search: (B, 3, S, S) normalised search crop (S = config.search_size).

        """
        x = self.backbone.embed_search(search.to(self.dtype))
        num_plain = self.config.num_plain_layers
        for block in self.backbone.blocks[:num_plain]:
            x = block(x)
        for block, (k, v) in zip(self.backbone.blocks[num_plain:], state.kv, strict=True):
            x = block.forward_interaction(x, k, v)
        return self.head(x)

    def forward(self, state: TemplateState, search: Tensor) -> HeadOutput:
        """Alias of :meth:`track_search`."""
        return self.track_search(state, search)

    def forward_upstream(self, template: TemplateState | Tensor | Sequence[Tensor],
                         search: Tensor) -> HeadOutput:
        """Per-frame forward exactly as the official tracker runs it (the honest baseline).

        Upstream keeps the template tokens from its template pass (``forward_z`` at
        ``initialize``) and, every frame, runs the search-only layers with explicit
        attention, then each interaction layer over ``[z; x]``: norm1, q/k/v and output
        projections of all tokens and explicit float32-style attention, the template rows
        kept unchanged. Only the template *tokens* are reused; nothing else is cached.

        Args:
            template: a :class:`TemplateState` (its ``attended`` tokens), one (B, Nz, C)
                tensor for every interaction layer (``template_kv='final'``), or one per
                interaction layer.
            search: (B, 3, S, S) normalised search crop.

        """
        if isinstance(template, TemplateState):
            template = template.attended or template.z
        num_plain = self.config.num_plain_layers
        interaction = self.backbone.blocks[num_plain:]
        attended = (template,) * len(interaction) if isinstance(template, Tensor) else template
        if self.config.template_kv == 'layer' and isinstance(template, Tensor):
            raise ValueError("template_kv='layer' needs the template tokens of every "
                             'interaction layer (a TemplateState or a sequence)')
        x = self.backbone.embed_search(search.to(self.dtype))
        for block in self.backbone.blocks[:num_plain]:
            x = block(x, explicit=True)
        for block, z in zip(interaction, attended, strict=True):
            z = z.expand(x.shape[0], -1, -1) if z.shape[0] != x.shape[0] else z
            tokens = block.forward_upstream(torch.cat((z.to(x.dtype), x), dim=1), z.shape[1])
            x = tokens[:, z.shape[1]:]
        return self.head(x)

    def forward_recompute(self, template: Tensor, box_xyxy: Tensor, search: Tensor) -> HeadOutput:
        """Full recompute: the template pass and :meth:`forward_upstream` in one call.

        What upstream's training-time forward computes; no tracker needs it per frame
        (upstream's does not). An independent reference for tests: explicit attention
        everywhere, no cached keys/values.
        """
        return self.forward_upstream(self.template_pass(template, box_xyxy, explicit=True)[1],
                                     search)
