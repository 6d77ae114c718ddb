# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""What this CPU can do for the network: native bf16 matmul or not.

One detection for everything that depends on it: ``precision: auto``
(:func:`litetrack_ros.tracking.runtime.resolve_precision`), the benchmark header, the
node's log line and diagnostics. The CPU's own flags decide (``amx_bf16`` or
``avx512_bf16`` in ``/proc/cpuinfo`` on Linux), never its vendor or model name;
where ``/proc/cpuinfo`` cannot be read, torch's own CPU-feature probes are
asked instead. A CPU without these flags still runs bf16, emulated and slowly.
"""

from __future__ import annotations

from dataclasses import dataclass
import functools
from pathlib import Path
import platform

import torch

#: Flags that mean bf16 matrix multiplication in hardware (oneDNN uses them).
NATIVE_BF16_FLAGS = ('amx_bf16', 'avx512_bf16')
#: Flags worth reporting next to the figures (the ones the x86 CPU kernels select on).
REPORTED_FLAGS = ('amx_bf16', 'amx_int8', 'amx_tile', 'avx512_bf16', 'avx512_fp16',
                  'avx512_vnni', 'avx512f', 'avx2')
CPUINFO = Path('/proc/cpuinfo')


@dataclass(frozen=True)
class CpuFeatures:
    """The CPU's model name, the relevant flags it has, and torch's kernel choice."""

    model: str
    flags: tuple[str, ...]  # those of REPORTED_FLAGS the CPU has, in that order
    torch_capability: str  # torch.backends.cpu.get_cpu_capability(), e.g. AVX512

    @property
    def native_bf16(self) -> bool:
        """Whether the CPU multiplies bf16 matrices in hardware (AMX or AVX512-BF16)."""
        return any(flag in self.flags for flag in NATIVE_BF16_FLAGS)

    def summary(self) -> str:
        """One line for logs and headers."""
        flags = ' '.join(self.flags) or 'none'
        native = 'yes' if self.native_bf16 else 'no (bf16 would be emulated)'
        return (f'{self.model} | flags: {flags} | torch CPU capability '
                f'{self.torch_capability} | native bf16 matmul: {native}')

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable form (for benchmark reports and diagnostics)."""
        return {'model': self.model, 'flags': list(self.flags),
                'torch_capability': self.torch_capability, 'native_bf16': self.native_bf16}


def parse_cpuinfo(text: str) -> tuple[str | None, set[str]]:
    """Return (model name, set of flags) of the first CPU listed in /proc/cpuinfo text.

    x86 names the model in 'model name' (its 'model' is a number) and the flags in
    'flags'; Arm has 'Features' and, on some boards, 'Model' or 'Hardware'.
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, separator, value = line.partition(':')
        if separator:
            fields.setdefault(key.strip(), value.strip())
    model = next((fields[key] for key in ('model name', 'Model', 'Hardware', 'cpu model')
                  if fields.get(key)), None)
    flags = set((fields.get('flags') or fields.get('Features') or '').split())
    return model, flags


def _torch_probed_flags() -> set[str]:
    """Ask torch's own CPU probes (cpuinfo library) for flags, where /proc is missing."""
    probes = {'amx_tile': '_is_amx_tile_supported', 'avx512_bf16': '_is_avx512_bf16_supported',
              'avx512f': '_is_avx512_supported', 'avx512_vnni': '_is_vnni_supported',
              'avx2': '_is_avx2_supported'}
    found = set()
    for flag, name in probes.items():
        probe = getattr(torch.cpu, name, None)
        try:
            if probe is not None and probe():
                found.add(flag)
        except RuntimeError:
            pass
    return found


def detect_cpu_features(cpuinfo: Path = CPUINFO) -> CpuFeatures:
    """Read the CPU's features now (see :func:`cpu_features` for the cached answer)."""
    try:
        model, flags = parse_cpuinfo(cpuinfo.read_text())
    except OSError:
        model, flags = None, _torch_probed_flags()
    return CpuFeatures(
        model=model or platform.processor() or platform.machine() or 'unknown CPU',
        flags=tuple(flag for flag in REPORTED_FLAGS if flag in flags),
        torch_capability=torch.backends.cpu.get_cpu_capability())


@functools.lru_cache(maxsize=1)
def cpu_features() -> CpuFeatures:
    """Return the features of the CPU this process runs on (read once)."""
    return detect_cpu_features()
