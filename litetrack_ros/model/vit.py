# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Vision-transformer building blocks of the LiteTrack backbone (CAE-style ViT).

Every block can run in two ways:

* plain self-attention over its input tokens (``Block.forward``), used for the
  template pass and for the first, search-only layers of the search pass;
* as an interaction layer (``Block.forward_interaction``): the search tokens
  query keys/values of ``[template; search]``, but only the search tokens are
  updated.  The template's keys/values are passed in precomputed because the
  template tokens never change while a target is held.

``explicit=True`` switches attention from ``scaled_dot_product_attention`` to
textbook matmul/softmax in float32.  ``Block.forward_upstream`` is the
interaction layer exactly as the official code runs it every frame (q/k/v of
all of ``[template; search]``, explicit attention, the output projection over
every row, the template rows kept as they were); the benchmark's baseline and
the tests use it as an independent implementation.
"""

from __future__ import annotations

import torch
from torch import nn, Tensor
import torch.nn.functional as F


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32 and cast back, so float16 inputs keep full precision.

    Parameter names match ``nn.LayerNorm`` (``weight``, ``bias``).
    """

    def forward(self, x: Tensor) -> Tensor:
        """Normalise the last dimension of x."""
        if x.dtype == torch.float32:
            return super().forward(x)
        weight = None if self.weight is None else self.weight.float()
        bias = None if self.bias is None else self.bias.float()
        y = F.layer_norm(x.float(), self.normalized_shape, weight, bias, self.eps)
        return y.to(x.dtype)


def attention(q: Tensor, k: Tensor, v: Tensor, explicit: bool = False) -> Tensor:
    """Multi-head attention on (B, heads, N, head_dim) tensors."""
    if not explicit:
        return F.scaled_dot_product_attention(q, k, v)
    scale = q.shape[-1] ** -0.5
    logits = (q.float() * scale) @ k.float().transpose(-2, -1)
    return (logits.softmax(dim=-1) @ v.float()).to(q.dtype)


class PatchEmbed(nn.Module):
    """Split an image into non-overlapping patches and project each to a token."""

    def __init__(self, patch_size: int = 16, in_chans: int = 3, embed_dim: int = 768) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, image: Tensor) -> Tensor:
        """Map (B, 3, H, W) to (B, H/p * W/p, C) tokens in row-major patch order."""
        return self.proj(image).flatten(2).transpose(1, 2)


class ConvStem(nn.Module):
    """VitTrack's stem: four 3x3 stride-2 convolutions (hard-swish between) to stride 16.

    Widths embed_dim / 8, / 4, / 2, embed_dim; tokens come out as :class:`PatchEmbed`'s do.
    """

    def __init__(self, in_chans: int = 3, embed_dim: int = 48) -> None:
        super().__init__()
        widths = [in_chans, embed_dim // 8, embed_dim // 4, embed_dim // 2, embed_dim]
        layers: list[nn.Module] = []
        for index in range(4):
            if index:
                layers.append(nn.Hardswish())
            layers.append(nn.Conv2d(widths[index], widths[index + 1], kernel_size=3,
                                    stride=2, padding=1))
        self.proj = nn.Sequential(*layers)

    def forward(self, image: Tensor) -> Tensor:
        """Map (B, 3, H, W) to (B, H/16 * W/16, C) tokens in row-major order."""
        return self.proj(image).flatten(2).transpose(1, 2)


class Mlp(nn.Module):
    """Two linear layers with a GELU in between."""

    def __init__(self, in_features: int, hidden_features: int, out_features: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, out_features)

    def forward(self, x: Tensor) -> Tensor:
        """Apply fc1, GELU, fc2."""
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """Multi-head attention with BEiT/CAE-style biases: q and v have one, k has none."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, dim)

    def qkv_bias(self) -> Tensor:
        """Return the bias of the fused qkv projection: [q_bias, 0, v_bias]."""
        return torch.cat((self.q_bias, torch.zeros_like(self.q_bias), self.v_bias))

    def _split_heads(self, x: Tensor, parts: int) -> Tensor:
        # (B, N, parts * C) -> (parts, B, heads, N, head_dim)
        batch, tokens, _ = x.shape
        return x.reshape(batch, tokens, parts, self.num_heads, -1).permute(2, 0, 3, 1, 4)

    def project_qkv(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Project (B, N, C) tokens to q, k, v, each (B, heads, N, head_dim)."""
        q, k, v = self._split_heads(F.linear(x, self.qkv.weight, self.qkv_bias()), 3).unbind(0)
        return q, k, v

    def project_kv(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Project (B, N, C) tokens to k, v only (for caching the template's keys/values)."""
        dim = self.q_bias.shape[0]
        kv_bias = torch.cat((torch.zeros_like(self.v_bias), self.v_bias))
        k, v = self._split_heads(F.linear(x, self.qkv.weight[dim:], kv_bias), 2).unbind(0)
        return k, v

    def _merge_heads(self, x: Tensor) -> Tensor:
        # (B, heads, N, head_dim) -> (B, N, C), then the output projection.
        return self.proj(x.transpose(1, 2).flatten(2))

    def forward(self, x: Tensor, explicit: bool = False) -> Tensor:
        """Self-attention over all tokens of x (B, N, C)."""
        q, k, v = self.project_qkv(x)
        return self._merge_heads(attention(q, k, v, explicit))

    def forward_cached(self, x: Tensor, template_k: Tensor, template_v: Tensor) -> Tensor:
        """Search tokens x attend to [template; search]; template k/v come precomputed."""
        q, k, v = self.project_qkv(x)
        if template_k.shape[0] != x.shape[0]:
            # One template shared by a batch of search crops (e.g. several scales).
            template_k = template_k.expand(x.shape[0], -1, -1, -1)
            template_v = template_v.expand(x.shape[0], -1, -1, -1)
        k = torch.cat((template_k, k), dim=2)
        v = torch.cat((template_v, v), dim=2)
        return self._merge_heads(attention(q, k, v))

    def forward_upstream(self, tokens: Tensor, num_template: int) -> Tensor:
        """Official per-frame interaction attention over normalised [template; search] tokens.

        q, k and v are projected for every token, only the search queries attend
        (explicit attention), and the output projection runs over the template rows
        (passed through unchanged) and the search rows alike, as upstream does.
        Returns the projected (B, N, C) rows; the caller keeps the search rows.
        """
        q, k, v = self.project_qkv(tokens)
        search_out = attention(q[:, :, num_template:], k, v, explicit=True)
        rows = torch.cat((tokens[:, :num_template], search_out.transpose(1, 2).flatten(2)), 1)
        return self.proj(rows)


class Block(nn.Module):
    """Pre-norm transformer block with layer scale (``gamma_1``, ``gamma_2``)."""

    def __init__(self, dim: int, num_heads: int, mlp_hidden_dim: int, norm_eps: float = 1e-6,
                 layer_scale_init: float = 0.1) -> None:
        super().__init__()
        self.norm1 = LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads)
        self.norm2 = LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, mlp_hidden_dim, dim)
        self.gamma_1 = nn.Parameter(torch.full((dim,), layer_scale_init))
        self.gamma_2 = nn.Parameter(torch.full((dim,), layer_scale_init))

    def _finish(self, x: Tensor, attn_out: Tensor) -> Tensor:
        x = x + self.gamma_1 * attn_out
        return x + self.gamma_2 * self.mlp(self.norm2(x))

    def forward(self, x: Tensor, explicit: bool = False) -> Tensor:
        """Plain self-attention block over all tokens of x (B, N, C)."""
        return self._finish(x, self.attn(self.norm1(x), explicit))

    def template_kv(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """Keys/values that the template tokens z contribute to this interaction layer."""
        # LayerNorm is per token, so norm1 of the template part of [z; x] is norm1(z).
        return self.attn.project_kv(self.norm1(z))

    def forward_interaction(self, x: Tensor, template_k: Tensor, template_v: Tensor) -> Tensor:
        """Interaction layer for search tokens x with cached template keys/values."""
        return self._finish(x, self.attn.forward_cached(self.norm1(x), template_k, template_v))

    def forward_upstream(self, tokens: Tensor, num_template: int) -> Tensor:
        """Interaction layer as the official code runs it on (B, Nz + Nx, C) [z; x] tokens.

        Nothing is cached: the template rows go through norm1 and the q/k/v and output
        projections again, and come back unchanged; only the search rows are updated.
        """
        z, x = tokens[:, :num_template], tokens[:, num_template:]
        attn_out = self.attn.forward_upstream(self.norm1(tokens), num_template)
        return torch.cat((z, self._finish(x, attn_out[:, num_template:])), dim=1)
