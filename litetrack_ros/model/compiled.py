# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""LiteTrack's template and search steps compiled with ``torch.compile`` (inductor).

:func:`compile_litetrack` compiles both steps once, for fixed shapes (batch 1 and
the network's crop sizes), runs them once on dummy inputs so that the first real
frame does not pay the compilation, and checks the compiled maps against eager
ones. On CPU, inductor's *freezing* treats the weights as constants (folded,
pre-packed for oneDNN), which is where most of the gain is. Compiled kernels are
kept in a persistent cache (``TORCHINDUCTOR_CACHE_DIR``, by default
``~/.cache/litetrack_ros/inductor``), so a restart compiles in a fraction of the
first time. Any failure (no C++ compiler, an unsupported operator, a mismatch)
leaves the eager network in place and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import time
from typing import Any, Callable

from litetrack_ros.model.head import HeadOutput
from litetrack_ros.model.litetrack import LiteTrack, TemplateState
import torch
from torch import Tensor

CACHE_ENV = 'TORCHINDUCTOR_CACHE_DIR'
DEFAULT_CACHE_DIR = Path('~/.cache/litetrack_ros/inductor')
# Largest |compiled - eager| accepted on the output maps of the warm-up inputs.
TOLERANCE = {torch.float32: 1e-3, torch.float16: 5e-2, torch.bfloat16: 5e-2}


class CompiledLiteTrack:
    """A LiteTrack whose steps run compiled; the same API as the network for :class:`Tracker`.

    Not an ``nn.Module``: the weights are frozen into the compiled code, so the
    network must not be moved, cast or changed afterwards (compile again instead).
    """

    # Compiled for batch 1: a batch of search regions would recompile; callers that
    # batch (the tracker's global re-detection) run them one at a time instead.
    batch_one_only = True

    def __init__(self, net: LiteTrack, encode_template: Callable[..., TemplateState],
                 track_search: Callable[..., HeadOutput]) -> None:
        self.net = net
        self.config = net.config
        self._encode_template = encode_template
        self._track_search = track_search

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point type of the weights."""
        return self.net.dtype

    @property
    def device(self) -> torch.device:
        """Device of the weights."""
        return self.net.device

    @property
    def num_parameters(self) -> int:
        """Count the weights of the underlying network."""
        return self.net.num_parameters

    def encode_template(self, template: Tensor, box_xyxy: Tensor) -> TemplateState:
        """Compiled :meth:`LiteTrack.encode_template` (batch 1)."""
        return self._encode_template(self._input(template), self._input(box_xyxy))

    def track_search(self, state: TemplateState, search: Tensor) -> HeadOutput:
        """Compiled :meth:`LiteTrack.track_search` (batch 1)."""
        return self._track_search(state, self._input(search))

    def _input(self, tensor: Tensor) -> Tensor:
        # The compiled code is specialised on strides and on inference tensors: a copy
        # made here (under the caller's inference_mode, as at warm-up) always has the
        # standard strides and the same kind. An array from numpy's x[None] would
        # otherwise bring stride 0 on the batch axis and trigger a recompilation.
        return tensor.to(self.dtype).clone(memory_format=torch.contiguous_format)


@dataclass(frozen=True)
class CompileResult:
    """What :func:`compile_litetrack` produced."""

    network: LiteTrack | CompiledLiteTrack  # the eager network when compilation failed
    compiled: bool
    seconds: float  # compilation + warm-up
    message: str  # one line for the log: what was compiled, or why it fell back

    @property
    def status(self) -> str:
        """'compiled' or 'eager (compile failed)', for diagnostics."""
        return 'compiled' if self.compiled else 'eager (compile failed)'


def cache_dir() -> Path:
    """Where inductor keeps compiled kernels: $TORCHINDUCTOR_CACHE_DIR, else our default."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR).expanduser()


def _use_cache_dir() -> Path:
    # Inductor reads the variable whenever it needs the folder; set it only if unset.
    path = cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault(CACHE_ENV, str(path))
    return path


def dummy_inputs(net: LiteTrack) -> tuple[Tensor, Tensor, Tensor]:
    """Template crop, template box and search crop of the shapes the tracker uses."""
    config = net.config
    generator = torch.Generator().manual_seed(0)
    template = torch.randn(1, 3, config.template_size, config.template_size,
                           generator=generator)
    search = torch.randn(1, 3, config.search_size, config.search_size, generator=generator)
    box = torch.tensor([[0.25, 0.25, 0.75, 0.75]])
    return tuple(t.to(device=net.device, dtype=net.dtype) for t in (template, box, search))


def max_abs_diff(first: HeadOutput, second: HeadOutput) -> float:
    """Largest absolute difference over all output maps (NaN if any is NaN)."""
    per_map = [(a.float() - b.float()).abs().max() for a, b in zip(first, second, strict=True)]
    return float(torch.stack(per_map).max())


def _compile(function: Callable[..., Any], device: torch.device) -> Callable[..., Any]:
    options = {'freezing': True} if device.type == 'cpu' else {}
    return torch.compile(function, dynamic=False, fullgraph=True, options=options)


def compile_litetrack(net: LiteTrack) -> CompileResult:
    """Compile ``net``'s template and search steps; the eager ``net`` if that fails.

    ``net`` must already be on its device, in its dtype and in eval mode. Takes
    tens of seconds for a ViT-B network the first time, much less with a warm cache.
    """
    start = time.perf_counter()
    net = net.eval()
    try:
        folder = _use_cache_dir()
        compiled = CompiledLiteTrack(net, _compile(net.encode_template, net.device),
                                     _compile(net.track_search, net.device))
        template, box, search = dummy_inputs(net)
        with torch.inference_mode():
            expected = net.track_search(net.encode_template(template, box), search)
            state = compiled.encode_template(template, box)
            out = compiled.track_search(state, search)
            eager_from_compiled_state = net.track_search(state, search)
        diff = max(max_abs_diff(out, expected), max_abs_diff(eager_from_compiled_state, expected))
        tolerance = TOLERANCE.get(net.dtype, 5e-2)
        if not diff <= tolerance:  # also catches NaN
            raise RuntimeError(f'compiled maps differ from eager ones by {diff:.3g} '
                               f'(> {tolerance:g})')
    except Exception as error:  # noqa: BLE001 - inductor raises many kinds; all mean "eager"
        seconds = time.perf_counter() - start
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ''
        return CompileResult(net, False, seconds,
                             f'torch.compile failed after {seconds:.1f} s, running eager: '
                             f'{type(error).__name__}: {reason[:300]}')
    seconds = time.perf_counter() - start
    return CompileResult(compiled, True, seconds,
                         f'compiled template and search steps in {seconds:.1f} s '
                         f'(inductor{", freezing" if net.device.type == "cpu" else ""}; '
                         f'max map difference from eager {diff:.1e}; cache {folder})')
