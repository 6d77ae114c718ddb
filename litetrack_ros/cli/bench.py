# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``litetrack-bench``: latency of LiteTrack against upstream's own per-frame forward.

For each variant, device, precision and (with ``--compile``) mode the tool
times, in one process:

* the template step (``encode_template``, once per target) and
  ``Tracker.initialize`` (crop + normalise + template step);
* the search step (``track_search`` with cached template keys/values);
* the whole ``Tracker.track`` on a 640x480 frame (crop, normalise, network,
  decode, map back).

Every step is compared with the honest baseline: what the official tracker
(TsingWei/LiteTrack, ``lib/test/tracker/litetrack.py``) computes, with the same
weights, in float32, eager: the template tokens are computed once at
``initialize`` and kept, and each frame every interaction layer re-projects
q/k/v of ``[z; x]`` and uses explicit attention
(``LiteTrack.forward_upstream``). One function per model family builds its
baseline (:func:`litetrack_baseline`). Candidates are prepared as
``runtime.build_tracker`` prepares them (channels-last convolution weights on
CPU), so the figures are those of the default settings. Candidate and baseline
calls alternate within each iteration so that background load slows both alike.
Before timing, the float32 candidate is checked against the baseline (max abs
difference of the output maps <= 1e-4); a mismatch aborts the run.
A LightTrack checkpoint (``--weights``) is timed against its own honest
baseline, the official per-frame forward: template features computed once as
the official tracker does, then the search branch, both neck BatchNorms, the
correlation and the head every frame (``LightTrack.forward_official``, float32,
eager, as loaded). The candidate is what the package runs: the template's
BatchNorm and kernels cached, the other BatchNorms folded into their convs,
channels-last weights (``LightTrack.fused``); its maps are checked against the
baseline's first (scores and ltrb / search size within 1e-4).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from contextlib import contextmanager
import copy
from dataclasses import asdict, dataclass
import json
import os
from pathlib import Path
import platform
import sys
import time
from typing import Any, Callable, Iterator, Sequence

from litetrack_ros.model import HeadOutput, LiteTrack, ModelConfig, VARIANTS
from litetrack_ros.model.checkpoint import CheckpointError, load_model
from litetrack_ros.model.compiled import compile_litetrack
from litetrack_ros.model.config import variant_name
from litetrack_ros.model.lighttrack import LightTrack, SiamOutput
from litetrack_ros.model.litetrack import enable_flush_denormal
from litetrack_ros.tracking.cpu_features import cpu_features
from litetrack_ros.tracking.runtime import DTYPES, prepare_network, resolve_device
from litetrack_ros.tracking.tracker import Tracker
import numpy as np
import torch

# Largest |cached - baseline| accepted on any output map in float32.
TOLERANCE = 1e-4
FRAME_WIDTH, FRAME_HEIGHT = 640, 480
# A 96x72 target near the centre: a 4x search region of ~330 px, resized to the search size.
TARGET_BOX_XYWH = (272.0, 204.0, 96.0, 72.0)
DEFAULT_FRAMES, DEFAULT_WARMUP = 50, 5
QUICK_FRAMES, QUICK_WARMUP = 3, 1
DEFAULT_SEARCH_SIZE = ModelConfig.search_size
EXIT_BAD_INPUT = 2
EXIT_MISMATCH = 3
RANDOM_WEIGHTS_NOTE = 'random weights (timing only)'
BASELINE_NOTE = ('baseline: upstream-equivalent per-frame forward (official tracker: template '
                 'tokens kept from initialize, each interaction layer re-projects q/k/v of '
                 '[z; x] with explicit attention), same weights, fp32, eager; '
                 'x faster = baseline median / median')


class MismatchError(RuntimeError):
    """The candidate network and the baseline disagree: timings would be meaningless."""


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Timing:
    """Latency statistics of one measured call, in milliseconds."""

    median_ms: float
    p90_ms: float
    fps: float
    samples: int

    @classmethod
    def from_seconds(cls, seconds: Sequence[float]) -> Timing:
        """Summarise per-call durations in seconds (frames/s = 1 / median)."""
        values = np.asarray(seconds, dtype=np.float64) * 1e3
        median = float(np.median(values))
        return cls(median_ms=median, p90_ms=float(np.percentile(values, 90)),
                   fps=1e3 / median, samples=len(values))


# A baseline step that was not measured (its speed-up is NaN).
NOT_TIMED = Timing(median_ms=float('nan'), p90_ms=float('nan'), fps=float('nan'), samples=0)


@dataclass(frozen=True)
class Comparison:
    """A candidate timing next to the interleaved baseline timing of the same step."""

    candidate: Timing
    baseline: Timing

    @property
    def speedup(self) -> float:
        """How many times faster the candidate is (baseline median / candidate median)."""
        return self.baseline.median_ms / self.candidate.median_ms

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict including the speed-up."""
        return {'candidate': asdict(self.candidate), 'baseline': asdict(self.baseline),
                'speedup': self.speedup}


STEPS = ('template', 'initialize', 'search', 'track')
STEP_LABELS = {'template': 'template', 'initialize': 'initialize()', 'search': 'search',
               'track': 'track()'}


@dataclass(frozen=True)
class BenchResult:
    """Everything measured for one variant on one device in one precision and mode."""

    variant: str
    config: dict[str, Any]
    parameters: int
    device: str
    precision: str
    mode: str  # 'eager' or 'compiled'
    max_abs_diff: float  # this candidate's maps vs. the fp32 baseline's
    steps: dict[str, Comparison]  # STEPS -> candidate vs. baseline
    compile_seconds: float | None = None  # compilation + warm-up, when compiled

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            'variant': self.variant, 'config': self.config, 'parameters': self.parameters,
            'device': self.device, 'precision': self.precision, 'mode': self.mode,
            'max_abs_diff': self.max_abs_diff, 'compile_seconds': self.compile_seconds,
            **{step: self.steps[step].to_dict() for step in STEPS},
        }


# --------------------------------------------------------------------------- timing


def synchronize(device: str) -> None:
    """Wait for queued GPU work, so that a timer brackets the work and nothing else."""
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)


def timed(device: str, call: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``call`` and return (seconds it took, its result), GPU work included."""
    synchronize(device)
    start = time.perf_counter()
    result = call()
    synchronize(device)
    return time.perf_counter() - start, result


Trial = Callable[[], dict[str, float]]


def run_interleaved(trials: Sequence[Trial], warmup: int, frames: int) -> dict[str, list[float]]:
    """Run every trial once per iteration and collect the durations they report.

    Each trial returns ``{name: seconds}``. The order of the trials is reversed
    on every other iteration so that none always runs right after another (caches,
    clock boosts). The first ``warmup`` iterations are discarded.
    """
    samples: dict[str, list[float]] = defaultdict(list)
    for iteration in range(warmup + frames):
        order = trials if iteration % 2 == 0 else list(reversed(trials))
        for trial in order:
            durations = trial()
            if iteration >= warmup:
                for name, seconds in durations.items():
                    samples[name].append(seconds)
    return dict(samples)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class NetworkInputs:
    """Normalised template, template box and search crop for direct network calls."""

    template: torch.Tensor
    box_xyxy: torch.Tensor
    search: torch.Tensor


def network_inputs(config: ModelConfig, device: str, seed: int = 0) -> NetworkInputs:
    """Random normalised crops (fixed seed), float32, on ``device``."""
    generator = torch.Generator().manual_seed(seed)
    template = torch.randn(1, 3, config.template_size, config.template_size,
                           generator=generator)
    search = torch.randn(1, 3, config.search_size, config.search_size, generator=generator)
    box = torch.tensor([[0.3, 0.35, 0.7, 0.65]])
    return NetworkInputs(template.to(device), box.to(device), search.to(device))


def synthetic_frame(seed: int = 0) -> np.ndarray:
    """Make a 640x480 RGB frame: noisy background, a distinct target in the box."""
    rng = np.random.default_rng(seed)
    frame = rng.integers(60, 120, size=(FRAME_HEIGHT, FRAME_WIDTH, 3), dtype=np.uint8)
    x, y, w, h = (int(v) for v in TARGET_BOX_XYWH)
    frame[y:y + h, x:x + w] = (200, 40, 40)
    return frame


class UpstreamLiteTrack:
    """Tracker-compatible LiteTrack that computes what the official tracker computes.

    ``initialize`` runs upstream's template pass (``forward_z``, explicit attention)
    and keeps the template tokens; every frame runs ``forward_upstream``: nothing
    but the tokens is reused.
    """

    def __init__(self, net: LiteTrack) -> None:
        self.net = net
        self.config = net.config

    def encode_template(self, template: torch.Tensor,
                        box_xyxy: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Template tokens, as upstream's ``initialize`` keeps them.

        One entry per interaction layer: the final tokens for LiteTrack's own members,
        the tokens entering each layer for ``template_kv='layer'`` (C3).
        """
        return self.net.template_pass(template, box_xyxy, explicit=True)[1]

    def track_search(self, state: tuple[torch.Tensor, ...],
                     search: torch.Tensor) -> HeadOutput:
        """Upstream's per-frame network forward."""
        return self.net.forward_upstream(state, search)


def litetrack_baseline(net: LiteTrack) -> UpstreamLiteTrack:
    """Return the honest baseline for LiteTrack: upstream's per-frame forward, fp32, eager.

    One such function per model family: it takes the family's float32 network
    and returns a Tracker-compatible network computing what upstream computes.
    """
    return UpstreamLiteTrack(net)


# --------------------------------------------------------------------------- validation


def max_abs_diff(first: HeadOutput, second: HeadOutput) -> float:
    """Largest absolute difference over all output maps (NaN if any is NaN)."""
    # torch's max propagates NaN, Python's max() would drop it depending on the order.
    per_map = [(a.float() - b.float()).abs().max() for a, b in zip(first, second, strict=True)]
    return float(torch.stack(per_map).max())


@contextmanager
def exact_float32() -> Iterator[None]:
    """Turn off TF32 on CUDA for a comparison; TF32 convolutions alone exceed the tolerance."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def candidate_vs_baseline(candidate: Any, baseline: Any, inputs: NetworkInputs) -> float:
    """Max abs difference between a candidate's maps and the fp32 baseline's."""
    dtype = getattr(candidate, 'dtype', torch.float32)
    with torch.inference_mode(), exact_float32():
        state = candidate.encode_template(inputs.template.to(dtype), inputs.box_xyxy.to(dtype))
        out = candidate.track_search(state, inputs.search.to(dtype))
        reference = baseline.track_search(
            baseline.encode_template(inputs.template, inputs.box_xyxy), inputs.search)
    return max_abs_diff(out, reference)


def check_candidate(candidate: Any, baseline: Any, inputs: NetworkInputs, label: str) -> float:
    """Raise :class:`MismatchError` unless the fp32 candidate matches the baseline."""
    diff = candidate_vs_baseline(candidate, baseline, inputs)
    if not diff <= TOLERANCE:  # also catches NaN
        raise MismatchError(
            f'{label}: the network and the upstream-equivalent baseline differ by {diff:.3g} '
            f'> {TOLERANCE:g} in float32; refusing to time a network that computes '
            'something else than the baseline')
    return diff


# --------------------------------------------------------------------------- benchmark


def time_network(net: Any, baseline: Any, inputs: NetworkInputs, device: str,
                 warmup: int, frames: int) -> dict[str, list[float]]:
    """Time the template and search steps, interleaved with the baseline's."""
    dtype = getattr(net, 'dtype', torch.float32)
    template, box, search = (t.to(dtype) for t in (inputs.template, inputs.box_xyxy,
                                                   inputs.search))
    with torch.inference_mode():
        state = net.encode_template(template, box)
        baseline_state = baseline.encode_template(inputs.template, inputs.box_xyxy)

    def candidate() -> dict[str, float]:
        template_s, _ = timed(device, lambda: net.encode_template(template, box))
        search_s, _ = timed(device, lambda: net.track_search(state, search))
        return {'template': template_s, 'search': search_s}

    def reference() -> dict[str, float]:
        template_s, _ = timed(device, lambda: baseline.encode_template(inputs.template,
                                                                       inputs.box_xyxy))
        search_s, _ = timed(device, lambda: baseline.track_search(baseline_state, inputs.search))
        return {'baseline_template': template_s, 'baseline_search': search_s}

    with torch.inference_mode():
        return run_interleaved([candidate, reference], warmup, frames)


def time_tracker(net: Any, baseline: Any, device: str, dtype: torch.dtype,
                 warmup: int, frames: int) -> dict[str, list[float]]:
    """Time Tracker.initialize and Tracker.track, interleaved with a baseline tracker."""
    frame = synthetic_frame()
    tracker = Tracker(net, device=device, dtype=dtype)
    reference_tracker = Tracker(baseline, device=device, dtype=torch.float32)

    # Every frame is tracked right after initialize, so that each one searches the same
    # region: with random weights the box would otherwise wander and change the crop cost.
    def trial(chosen: Tracker, prefix: str) -> Callable[[], dict[str, float]]:
        def run() -> dict[str, float]:
            initialize_s, _ = timed(device, lambda: chosen.initialize(frame, TARGET_BOX_XYWH))
            track_s, _ = timed(device, lambda: chosen.track(frame))
            return {prefix + 'initialize': initialize_s, prefix + 'track': track_s}
        return run

    return run_interleaved([trial(tracker, ''), trial(reference_tracker, 'baseline_')],
                           warmup, frames)


@dataclass(frozen=True)
class Candidate:
    """A network to time against the baseline: prepared, maybe compiled."""

    precision: str
    mode: str
    network: Any
    compile_seconds: float | None = None


def candidates_for(net_fp32: LiteTrack, device: str, precisions: Sequence[str],
                   compile_too: bool) -> Iterator[Candidate]:
    """Yield the eager (and, with ``compile_too``, compiled) candidates one at a time."""
    for precision in precisions:
        # Prepared as runtime.build_tracker prepares it; the baseline stays untouched.
        net = prepare_network(copy.deepcopy(net_fp32), device, DTYPES[precision])
        yield Candidate(precision, 'eager', net)
        if compile_too:
            print(f'compiling {precision} on {device}...', file=sys.stderr, flush=True)
            result = compile_litetrack(net)
            print(result.message, file=sys.stderr, flush=True)
            if result.compiled:
                yield Candidate(precision, 'compiled', result.network, result.seconds)
        del net


def bench_network(name: str, net_fp32: LiteTrack, device: str, precisions: Sequence[str],
                  warmup: int, frames: int, compile_too: bool = False) -> list[BenchResult]:
    """Validate, then time one network on one device in each precision (and mode)."""
    reference_net = net_fp32.to(device=device, dtype=torch.float32).eval()
    baseline = litetrack_baseline(reference_net)
    inputs = network_inputs(reference_net.config, device)
    results = []
    for candidate in candidates_for(reference_net, device, precisions, compile_too):
        label = f'{name} on {device} in {candidate.precision} ({candidate.mode})'
        if DTYPES[candidate.precision] == torch.float32:
            diff = check_candidate(candidate.network, baseline, inputs, label)
        else:
            diff = candidate_vs_baseline(candidate.network, baseline, inputs)
        print(f'timing {label}...', file=sys.stderr, flush=True)
        dtype = DTYPES[candidate.precision]
        network = time_network(candidate.network, baseline, inputs, device, warmup, frames)
        # Tracker runs its own calls under inference_mode, as in the node.
        tracking = time_tracker(candidate.network, baseline, device, dtype, warmup, frames)
        samples = {**network, **tracking}
        steps = {step: Comparison(Timing.from_seconds(samples[step]),
                                  Timing.from_seconds(samples['baseline_' + step]))
                 for step in STEPS}
        results.append(BenchResult(
            variant=name, config=reference_net.config.to_dict(),
            parameters=reference_net.num_parameters, device=device,
            precision=candidate.precision, mode=candidate.mode, max_abs_diff=diff,
            steps=steps, compile_seconds=candidate.compile_seconds))
    return results


# --------------------------------------------------------------------------- LightTrack

LIGHTTRACK_BASELINE_NOTE = (
    'LightTrack baseline: same weights, fp32, eager, the official per-frame forward '
    '(template features once; search branch, both neck BatchNorms, correlation and head '
    'every frame); candidate: cached template kernels, BatchNorms folded, channels-last')


class OfficialLightTrack:
    """Tracker-compatible LightTrack that runs the official forward every frame."""

    def __init__(self, net: LightTrack) -> None:
        self.net = net
        self.config = net.config

    def encode_template(self, template: torch.Tensor) -> torch.Tensor:
        """Keep the template's backbone features, as the official ``template()``."""
        return self.net.template_features(template)

    def track_search(self, features: torch.Tensor, search: torch.Tensor) -> SiamOutput:
        """Run the official ``track()``."""
        return self.net.forward_official(features, search)


def comparable_maps(output: SiamOutput, search_size: int) -> tuple[torch.Tensor, ...]:
    """Put the maps on a common [0, 1] scale: scores, and ltrb as fractions of the crop."""
    return output.scores.float(), output.ltrb.float() / search_size


def lighttrack_vs_official(net: LightTrack, baseline: LightTrack, template: torch.Tensor,
                           search: torch.Tensor) -> float:
    """Max abs difference between ``net``'s cached maps and the official fp32 forward's."""
    size = baseline.config.search_size
    with torch.inference_mode(), exact_float32():
        cached = net.track_search(net.encode_template(template), search)
        reference = baseline.forward_official(baseline.template_features(template), search)
    return max_abs_diff(comparable_maps(cached, size), comparable_maps(reference, size))


def time_lighttrack_network(net: LightTrack, baseline: LightTrack, template: torch.Tensor,
                            search: torch.Tensor, device: str, warmup: int, frames: int
                            ) -> dict[str, list[float]]:
    """Time encode_template and the cached search step, interleaved with the official one."""
    with torch.inference_mode():
        state = net.encode_template(template)
        features = baseline.template_features(template)

        def candidate() -> dict[str, float]:
            template_s, _ = timed(device, lambda: net.encode_template(template))
            search_s, _ = timed(device, lambda: net.track_search(state, search))
            return {'template': template_s, 'search': search_s}

        def reference() -> dict[str, float]:
            seconds, _ = timed(device, lambda: baseline.forward_official(features, search))
            return {'baseline_search': seconds}

        return run_interleaved([candidate, reference], warmup, frames)


def time_lighttrack_tracker(net: LightTrack, baseline: LightTrack, device: str,
                            dtype: torch.dtype, warmup: int, frames: int
                            ) -> dict[str, list[float]]:
    """Time Tracker.initialize and Tracker.track, interleaved with the official tracker."""
    frame = synthetic_frame()
    tracker = Tracker(net, device=device, dtype=dtype)
    reference_tracker = Tracker(OfficialLightTrack(baseline), device=device,
                                dtype=torch.float32)

    def candidate() -> dict[str, float]:
        initialize_s, _ = timed(device, lambda: tracker.initialize(frame, TARGET_BOX_XYWH))
        track_s, _ = timed(device, lambda: tracker.track(frame))
        return {'initialize': initialize_s, 'track': track_s}

    def reference() -> dict[str, float]:
        reference_tracker.initialize(frame, TARGET_BOX_XYWH)
        seconds, _ = timed(device, lambda: reference_tracker.track(frame))
        return {'baseline_track': seconds}

    return run_interleaved([candidate, reference], warmup, frames)


def bench_lighttrack(name: str, net_fp32: LightTrack, device: str, precisions: Sequence[str],
                     warmup: int, frames: int) -> list[BenchResult]:
    """Validate, then time a LightTrack against the official forward (see the docstring)."""
    baseline = net_fp32.to(device=device, dtype=torch.float32).eval()
    config = baseline.config
    generator = torch.Generator().manual_seed(0)
    template = torch.randn(1, 3, config.template_size, config.template_size,
                           generator=generator).to(device)
    search = torch.randn(1, 3, config.search_size, config.search_size,
                         generator=generator).to(device)
    fused = baseline.fused()
    fp32_diff = lighttrack_vs_official(fused, baseline, template, search)
    if not fp32_diff <= TOLERANCE:  # also catches NaN
        raise MismatchError(f'{name} on {device}: cached/fused and official outputs differ by '
                            f'{fp32_diff:.3g} > {TOLERANCE:g} in float32')
    results = []
    for precision in precisions:
        print(f'timing {name} on {device} in {precision}...', file=sys.stderr, flush=True)
        dtype = DTYPES[precision]
        net = fused if dtype == torch.float32 else copy.deepcopy(fused).to(dtype=dtype)
        diff = fp32_diff if net is fused else lighttrack_vs_official(net, baseline, template,
                                                                     search)
        network = time_lighttrack_network(net, baseline, template, search, device, warmup,
                                          frames)
        tracking = time_lighttrack_tracker(net, baseline, device, dtype, warmup, frames)
        results.append(BenchResult(
            variant=name, config=config.to_dict(), parameters=baseline.num_parameters,
            device=device, precision=precision, mode='eager', max_abs_diff=diff,
            steps={
                # The official tracker's template step is not timed separately.
                'template': Comparison(Timing.from_seconds(network['template']), NOT_TIMED),
                'initialize': Comparison(Timing.from_seconds(tracking['initialize']),
                                         NOT_TIMED),
                'search': Comparison(Timing.from_seconds(network['search']),
                                     Timing.from_seconds(network['baseline_search'])),
                'track': Comparison(Timing.from_seconds(tracking['track']),
                                    Timing.from_seconds(tracking['baseline_track']))}))
    return results


# --------------------------------------------------------------------------- report


def load_average() -> float | None:
    """1-minute load average (None where the OS does not tell)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine_info(devices: Sequence[str]) -> dict[str, Any]:
    """Describe the machine the figures come from."""
    gpus = sorted({torch.cuda.get_device_name(d) for d in devices if d.startswith('cuda')})
    cpu = cpu_features()
    return {
        'cpu': cpu.model,
        'cpu_features': cpu.to_dict(),
        'cores': os.cpu_count(),
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'cuda': torch.version.cuda,
        'gpus': gpus,
        'python': platform.python_version(),
        'load_average_start': load_average(),
    }


def header_lines(machine: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """Lines above the table: machine, weights, settings, baseline definition."""
    gpu = f' | GPU: {", ".join(machine["gpus"])}' if machine['gpus'] else ''
    weights = settings['weights'] or RANDOM_WEIGHTS_NOTE
    features = machine['cpu_features']
    native = 'yes' if features['native_bf16'] else 'no'
    return [
        f'litetrack-bench | CPU: {machine["cpu"]} ({machine["cores"]} cores) | '
        f'torch {machine["torch"]} | {machine["threads"]} threads{gpu}',
        f'CPU flags: {" ".join(features["flags"]) or "none"} | torch CPU capability '
        f'{features["torch_capability"]} | native bf16 matmul: {native} | '
        f'load average at start: {machine["load_average_start"]}',
        f'weights: {weights} | search {settings["search_size"]} px | '
        f'track() on a {FRAME_WIDTH}x{FRAME_HEIGHT} frame | {settings["frames"]} timed '
        f'frames after {settings["warmup"]} warm-up, interleaved with the baseline',
        settings.get('baseline', BASELINE_NOTE),
    ]


def _ms(value: float) -> str:
    return f'{value:.2f}'


def table_rows(result: BenchResult) -> list[list[str]]:
    """Table rows of one result: template, initialize(), search, track()."""
    lead = [result.variant, f'{result.parameters / 1e6:.1f}M', result.device, result.precision,
            result.mode]
    rows = []
    for step in STEPS:
        comparison = result.steps[step]
        candidate, baseline = comparison.candidate, comparison.baseline
        rows.append(lead + [STEP_LABELS[step], _ms(candidate.median_ms), _ms(candidate.p90_ms),
                            f'{candidate.fps:.1f}', _ms(baseline.median_ms),
                            _ms(baseline.p90_ms), f'{baseline.fps:.1f}',
                            f'{comparison.speedup:.2f}x'])
    return rows


COLUMNS = ['variant', 'params', 'device', 'dtype', 'mode', 'step', 'median ms', 'p90 ms',
           'frames/s', 'baseline median ms', 'baseline p90 ms', 'baseline frames/s',
           'x faster']
# Text columns are left-aligned, numbers right-aligned (also in rendered Markdown).
LEFT_ALIGNED = 6


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """Render rows as an aligned Markdown table."""
    widths = [max(len(cell) for cell in column) for column in zip(COLUMNS, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(width) if index < LEFT_ALIGNED else cell.rjust(width)
                  for index, (cell, width) in enumerate(zip(cells, widths, strict=True))]
        return '| ' + ' | '.join(padded) + ' |'

    rule = ['-' * width if index < LEFT_ALIGNED else '-' * (width - 1) + ':'
            for index, width in enumerate(widths)]
    return '\n'.join([line(COLUMNS), line(rule)] + [line(row) for row in rows])


def footnotes(results: Sequence[BenchResult], machine: dict[str, Any]) -> list[str]:
    """Output differences from the baseline, compile times and the machine load."""
    diffs = ', '.join(f'{r.variant} {r.device} {r.precision} {r.mode} {r.max_abs_diff:.1e}'
                      for r in results)
    lines = [f'max abs difference of the output maps from the baseline: {diffs} '
             f'(fp32 checked <= {TOLERANCE:g} before timing)']
    compiled = [r for r in results if r.compile_seconds is not None]
    if compiled:
        lines.append('compile + warm-up (both steps): ' + ', '.join(
            f'{r.variant} {r.precision} {r.compile_seconds:.1f} s' for r in compiled))
    lines.append(f'load average: {machine["load_average_start"]} at start, '
                 f'{load_average()} at the end ({machine["cores"]} cores)')
    return lines


# --------------------------------------------------------------------------- command line


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(',') if item.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog='litetrack-bench',
        description='Per-frame latency of LiteTrack (template step, cached search step, '
                    'Tracker.track) next to the upstream-equivalent fp32 eager per-frame '
                    'forward, interleaved in one process. Prints a Markdown table.')
    parser.add_argument('--variants', type=_split, default=None,
                        help=f'comma-separated variants (default: all of '
                             f'{",".join(VARIANTS)})')
    parser.add_argument('--weights', type=Path, default=None, metavar='PATH',
                        help='time this checkpoint instead of random weights')
    parser.add_argument('--config-json', default=None, metavar='JSON',
                        help='time a custom ModelConfig with random weights: a JSON object of '
                             'its fields, inline or in a file (for tests and experiments)')
    parser.add_argument('--device', type=_split, default=['auto'],
                        help='auto, cpu, cuda[:N], or a comma-separated list (default: auto)')
    parser.add_argument('--precision', type=_split, default=None,
                        help=f'comma-separated list of {",".join(DTYPES)} (default: fp32, '
                             'plus bf16 on a CPU with native bf16 matmul; fp32,fp16 on CUDA)')
    parser.add_argument('--compile', action='store_true',
                        help='also time each precision compiled (torch.compile, inductor '
                             'freezing on CPU; tens of seconds per network the first time)')
    parser.add_argument('--search-size', type=int, default=None, metavar='PX',
                        help=f'search crop size, multiple of 16, e.g. 128/192/256 (default: '
                             f'{DEFAULT_SEARCH_SIZE}, or the size stored in --weights)')
    parser.add_argument('--frames', type=int, default=None, metavar='N',
                        help=f'timed iterations per measurement (default {DEFAULT_FRAMES})')
    parser.add_argument('--warmup', type=int, default=None, metavar='N',
                        help=f'untimed iterations first (default {DEFAULT_WARMUP})')
    parser.add_argument('--threads', type=int, default=None, metavar='N',
                        help='torch.set_num_threads (default: as torch chooses)')
    parser.add_argument('--json', type=Path, default=None, metavar='PATH',
                        help='also write the results to this JSON file')
    parser.add_argument('--quick', action='store_true',
                        help=f'{QUICK_FRAMES} frames after {QUICK_WARMUP} warm-up unless given '
                             '(smoke tests; the figures are noisy)')
    args = parser.parse_args(argv)
    choices = (('--variants', args.variants), ('--weights', args.weights),
               ('--config-json', args.config_json))
    sources = [name for name, value in choices if value]
    if len(sources) > 1:
        parser.error(f'{" and ".join(sources)} exclude each other')
    unknown = sorted(set(args.variants or []) - set(VARIANTS))
    if unknown:
        parser.error(f'unknown variants {unknown}; choose from {",".join(VARIANTS)}')
    bad_precisions = sorted(set(args.precision or []) - set(DTYPES))
    if bad_precisions:
        parser.error(f'unknown precisions {bad_precisions}; choose from {",".join(DTYPES)}')
    if args.frames is None:
        args.frames = QUICK_FRAMES if args.quick else DEFAULT_FRAMES
    if args.warmup is None:
        args.warmup = QUICK_WARMUP if args.quick else DEFAULT_WARMUP
    if args.frames < 1 or args.warmup < 0 or (args.threads is not None and args.threads < 1):
        parser.error('--frames and --threads must be >= 1, --warmup >= 0')
    return args


def _read_config(value: str, search_size: int | None) -> ModelConfig:
    text = value if value.lstrip().startswith('{') else Path(value).read_text()
    fields = json.loads(text)
    if not isinstance(fields, dict):
        raise ValueError(f'--config-json must be a JSON object of ModelConfig fields: {value}')
    config = ModelConfig.from_dict(fields)
    return config.replace(search_size=search_size) if search_size else config


@dataclass(frozen=True)
class NetworkSpec:
    """A network to time: its name, its config, and how to get it (float32, CPU)."""

    name: str
    config: ModelConfig
    build: Callable[[], LiteTrack | LightTrack]


def _random_network(config: ModelConfig) -> Callable[[], LiteTrack]:
    def build() -> LiteTrack:
        torch.manual_seed(0)
        return LiteTrack(config).eval()
    return build


def network_specs(args: argparse.Namespace) -> list[NetworkSpec]:
    """Networks to time; raises ValueError, OSError or CheckpointError for bad input.

    Random networks are built one at a time when timed, so that only one of them
    occupies memory; a checkpoint is loaded at once to report a bad file early.
    """
    if args.weights is not None:
        net = load_model(args.weights, search_size=args.search_size)
        return [NetworkSpec(variant_name(net.config), net.config, lambda: net)]
    if args.config_json is not None:
        configs = [('custom', _read_config(args.config_json, args.search_size))]
    else:
        size = args.search_size or DEFAULT_SEARCH_SIZE
        configs = [(name, VARIANTS[name].replace(search_size=size))
                   for name in args.variants or VARIANTS]
    return [NetworkSpec(name, config, _random_network(config)) for name, config in configs]


def precisions_for(device: str, requested: list[str] | None) -> list[str]:
    """Return the requested precisions, or fp32 plus the device's fast reduced one."""
    if requested:
        return requested
    if device.startswith('cuda'):
        return ['fp32', 'fp16']
    return ['fp32', 'bf16'] if cpu_features().native_bf16 else ['fp32']


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the process exit status."""
    args = parse_args(argv)
    try:
        devices = list(dict.fromkeys(resolve_device(name) for name in args.device))
        specs = network_specs(args)
    except (ValueError, OSError, CheckpointError) as error:
        print(f'litetrack-bench: {error}', file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if 'cpu' in devices:
        enable_flush_denormal()  # as the node does; denormals slow CPU matmuls several-fold

    settings = {'weights': str(args.weights) if args.weights else None,
                'random_weights': args.weights is None,
                'search_size': specs[0].config.search_size,
                'frames': args.frames, 'warmup': args.warmup}
    if any(spec.config.family == 'lighttrack' for spec in specs):
        settings['baseline'] = LIGHTTRACK_BASELINE_NOTE
    machine = machine_info(devices)
    print('\n'.join(header_lines(machine, settings)), flush=True)
    results: list[BenchResult] = []
    try:
        for spec in specs:
            net = spec.build()
            # Each family is timed against its own honest baseline.
            for device in devices:
                precisions = precisions_for(device, args.precision)
                if isinstance(net, LightTrack):  # its own honest baseline, eager only
                    results += bench_lighttrack(spec.name, net, device, precisions,
                                                args.warmup, args.frames)
                else:
                    results += bench_network(spec.name, net, device, precisions,
                                             args.warmup, args.frames, args.compile)
            del net
    except MismatchError as error:
        print(f'litetrack-bench: FAILED: {error}', file=sys.stderr)
        return EXIT_MISMATCH

    print()
    print(markdown_table([row for result in results for row in table_rows(result)]))
    print()
    print('\n'.join(footnotes(results, machine)))
    if args.json is not None:
        machine['load_average_end'] = load_average()
        report = {'machine': machine, 'baseline': BASELINE_NOTE, **settings,
                  'tolerance': TOLERANCE, 'results': [r.to_dict() for r in results]}
        try:
            args.json.write_text(json.dumps(report, indent=2) + '\n')
        except OSError as error:
            print(f'litetrack-bench: cannot write {args.json}: {error}', file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
