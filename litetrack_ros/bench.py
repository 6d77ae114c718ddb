# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``litetrack-bench``: latency of LiteTrack against a straightforward baseline.

For each variant, device and precision the tool times, in one process:

* the template step (``LiteTrack.encode_template``, once per target) and
  ``Tracker.initialize`` (crop + normalise + template step);
* the search step (``LiteTrack.track_search`` with cached template keys/values);
* the whole ``Tracker.track`` on a 640x480 frame (crop, normalise, network,
  decode, map back).

The search step and ``track()`` are compared with a baseline that a naive port
would be: the same weights in float32, eager, computing every interaction layer
over ``[z; x]`` without cached keys/values and recomputing the template part on
every frame (``LiteTrack.forward_baseline``). Candidate and baseline calls
alternate within each iteration so that background load slows both alike.
Before timing, the float32 cached path is checked against the baseline
(max abs difference of the output maps <= 1e-4); a mismatch aborts the run.
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

from litetrack_ros.model import HeadOutput, LiteTrack, ModelConfig, TemplateState, VARIANTS
from litetrack_ros.model.checkpoint import CheckpointError, load_model
from litetrack_ros.model.config import variant_name
from litetrack_ros.model.litetrack import enable_flush_denormal
from litetrack_ros.runtime import DTYPES, resolve_device
from litetrack_ros.tracker import Tracker
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
BASELINE_NOTE = ('baseline: same weights, fp32, eager, uncached forward_baseline over [z; x] '
                 '(template recomputed every frame); x faster = baseline median / median')


class MismatchError(RuntimeError):
    """The cached network and the uncached baseline disagree: timings would be meaningless."""


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


@dataclass(frozen=True)
class BenchResult:
    """Everything measured for one variant on one device in one precision."""

    variant: str
    config: dict[str, Any]
    parameters: int
    device: str
    precision: str
    max_abs_diff: float  # this precision's cached maps vs. the fp32 baseline
    template: Timing
    initialize: Timing
    search: Comparison
    track: Comparison

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            'variant': self.variant, 'config': self.config, 'parameters': self.parameters,
            'device': self.device, 'precision': self.precision,
            'max_abs_diff': self.max_abs_diff,
            'template': asdict(self.template), 'initialize': asdict(self.initialize),
            'search': self.search.to_dict(), 'track': self.track.to_dict(),
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


class UncachedBaseline:
    """Tracker-compatible network that runs ``forward_baseline`` on every frame.

    Like a naive tracker, it keeps only the template crop and box, and pushes them
    through the network again with each search crop.
    """

    def __init__(self, net: LiteTrack) -> None:
        self.net = net
        self.config = net.config

    def encode_template(self, template: torch.Tensor,
                        box_xyxy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keep the inputs: nothing is precomputed."""
        return template, box_xyxy

    def track_search(self, state: tuple[torch.Tensor, torch.Tensor],
                     search: torch.Tensor) -> HeadOutput:
        """Run the whole uncached network over [template; search]."""
        template, box_xyxy = state
        return self.net.forward_baseline(template, box_xyxy, search)


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


def cached_vs_baseline(net: LiteTrack, baseline: LiteTrack, inputs: NetworkInputs) -> float:
    """Max abs difference between ``net``'s cached path and the fp32 uncached baseline."""
    with torch.inference_mode(), exact_float32():
        state = net.encode_template(inputs.template, inputs.box_xyxy)
        cached = net.track_search(state, inputs.search)
        reference = baseline.forward_baseline(inputs.template, inputs.box_xyxy, inputs.search)
    return max_abs_diff(cached, reference)


def check_cache(baseline: LiteTrack, inputs: NetworkInputs, label: str) -> float:
    """Raise :class:`MismatchError` unless the fp32 cached path matches the baseline."""
    diff = cached_vs_baseline(baseline, baseline, inputs)
    if not diff <= TOLERANCE:  # also catches NaN
        raise MismatchError(
            f'{label}: cached and uncached (baseline) outputs differ by {diff:.3g} > '
            f'{TOLERANCE:g} in float32; refusing to time a network that computes something '
            'else than the baseline')
    return diff


# --------------------------------------------------------------------------- benchmark


def time_network(net: LiteTrack, baseline: LiteTrack, inputs: NetworkInputs, device: str,
                 warmup: int, frames: int) -> dict[str, list[float]]:
    """Time encode_template and the cached search step, interleaved with the baseline."""
    with torch.inference_mode():
        state: TemplateState = net.encode_template(inputs.template, inputs.box_xyxy)

    def candidate() -> dict[str, float]:
        template_s, _ = timed(device, lambda: net.encode_template(inputs.template,
                                                                  inputs.box_xyxy))
        search_s, _ = timed(device, lambda: net.track_search(state, inputs.search))
        return {'template': template_s, 'search': search_s}

    def reference() -> dict[str, float]:
        seconds, _ = timed(device, lambda: baseline.forward_baseline(
            inputs.template, inputs.box_xyxy, inputs.search))
        return {'baseline_search': seconds}

    with torch.inference_mode():
        return run_interleaved([candidate, reference], warmup, frames)


def time_tracker(net: LiteTrack, baseline: LiteTrack, device: str, dtype: torch.dtype,
                 warmup: int, frames: int) -> dict[str, list[float]]:
    """Time Tracker.initialize and Tracker.track, interleaved with a baseline tracker."""
    frame = synthetic_frame()
    tracker = Tracker(net, device=device, dtype=dtype)
    reference_tracker = Tracker(UncachedBaseline(baseline), device=device, dtype=torch.float32)

    # Every frame is tracked right after initialize, so that each one searches the same
    # region: with random weights the box would otherwise wander and change the crop cost.
    def candidate() -> dict[str, float]:
        initialize_s, _ = timed(device, lambda: tracker.initialize(frame, TARGET_BOX_XYWH))
        track_s, _ = timed(device, lambda: tracker.track(frame))
        return {'initialize': initialize_s, 'track': track_s}

    def reference() -> dict[str, float]:
        reference_tracker.initialize(frame, TARGET_BOX_XYWH)
        seconds, _ = timed(device, lambda: reference_tracker.track(frame))
        return {'baseline_track': seconds}

    return run_interleaved([candidate, reference], warmup, frames)


def bench_network(name: str, net_fp32: LiteTrack, device: str, precisions: Sequence[str],
                  warmup: int, frames: int) -> list[BenchResult]:
    """Validate, then time one network on one device in each precision."""
    baseline = net_fp32.to(device=device, dtype=torch.float32).eval()
    inputs = network_inputs(baseline.config, device)
    fp32_diff = check_cache(baseline, inputs, f'{name} on {device}')
    parameters = baseline.num_parameters
    results = []
    for precision in precisions:
        print(f'timing {name} on {device} in {precision}...', file=sys.stderr, flush=True)
        dtype = DTYPES[precision]
        # The baseline stays float32; a reduced-precision candidate gets its own copy.
        net = baseline if dtype == torch.float32 else copy.deepcopy(baseline).to(dtype=dtype)
        diff = fp32_diff if net is baseline else cached_vs_baseline(net, baseline, inputs)
        network = time_network(net, baseline, inputs, device, warmup, frames)
        # Tracker runs its own calls under inference_mode, as in the node.
        tracking = time_tracker(net, baseline, device, dtype, warmup, frames)
        results.append(BenchResult(
            variant=name, config=baseline.config.to_dict(), parameters=parameters,
            device=device, precision=precision, max_abs_diff=diff,
            template=Timing.from_seconds(network['template']),
            initialize=Timing.from_seconds(tracking['initialize']),
            search=Comparison(Timing.from_seconds(network['search']),
                              Timing.from_seconds(network['baseline_search'])),
            track=Comparison(Timing.from_seconds(tracking['track']),
                             Timing.from_seconds(tracking['baseline_track']))))
        del net
    return results


# --------------------------------------------------------------------------- report


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo, else what the platform module knows."""
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith(('model name', 'Model', 'Hardware')) and ':' in line:
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or 'unknown CPU'


def machine_info(devices: Sequence[str]) -> dict[str, Any]:
    """Describe the machine the figures come from."""
    gpus = sorted({torch.cuda.get_device_name(d) for d in devices if d.startswith('cuda')})
    return {
        'cpu': cpu_model(),
        'cores': os.cpu_count(),
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'cuda': torch.version.cuda,
        'gpus': gpus,
        'python': platform.python_version(),
    }


def header_lines(machine: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """Lines above the table: machine, weights, settings, baseline definition."""
    gpu = f' | GPU: {", ".join(machine["gpus"])}' if machine['gpus'] else ''
    weights = settings['weights'] or RANDOM_WEIGHTS_NOTE
    return [
        f'litetrack-bench | CPU: {machine["cpu"]} ({machine["cores"]} cores) | '
        f'torch {machine["torch"]} | {machine["threads"]} threads{gpu}',
        f'weights: {weights} | search {settings["search_size"]} px | '
        f'track() on a {FRAME_WIDTH}x{FRAME_HEIGHT} frame | {settings["frames"]} timed '
        f'frames after {settings["warmup"]} warm-up, interleaved with the baseline',
        BASELINE_NOTE,
    ]


def _ms(value: float) -> str:
    return f'{value:.2f}'


def table_rows(result: BenchResult) -> list[list[str]]:
    """Table rows of one result: template, initialize(), search, track()."""
    lead = [result.variant, f'{result.parameters / 1e6:.1f}M', result.device, result.precision]
    rows = []
    for step, timing in (('template', result.template), ('initialize()', result.initialize)):
        rows.append(lead + [step, _ms(timing.median_ms), _ms(timing.p90_ms),
                            f'{timing.fps:.1f}', '-', '-', '-', '-'])
    for step, comparison in (('search', result.search), ('track()', result.track)):
        candidate, baseline = comparison.candidate, comparison.baseline
        rows.append(lead + [step, _ms(candidate.median_ms), _ms(candidate.p90_ms),
                            f'{candidate.fps:.1f}', _ms(baseline.median_ms),
                            _ms(baseline.p90_ms), f'{baseline.fps:.1f}',
                            f'{comparison.speedup:.2f}x'])
    return rows


COLUMNS = ['variant', 'params', 'device', 'dtype', 'step', 'median ms', 'p90 ms', 'frames/s',
           'baseline median ms', 'baseline p90 ms', 'baseline frames/s', 'x faster']
# Text columns are left-aligned, numbers right-aligned (also in rendered Markdown).
LEFT_ALIGNED = 5


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


def agreement_line(results: Sequence[BenchResult]) -> str:
    """Footnote with the output differences from the baseline."""
    diffs = ', '.join(f'{r.variant} {r.device} {r.precision} {r.max_abs_diff:.1e}'
                      for r in results)
    return (f'max abs difference of the output maps from the baseline: {diffs} '
            f'(fp32 checked <= {TOLERANCE:g} before timing)')


# --------------------------------------------------------------------------- command line


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(',') if item.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog='litetrack-bench',
        description='Per-frame latency of LiteTrack (template step, cached search step, '
                    'Tracker.track) next to an uncached fp32 eager baseline, interleaved '
                    'in one process. Prints a Markdown table.')
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
                        help=f'comma-separated list of {",".join(DTYPES)} (default: fp32 on '
                             'CPU; fp32,fp16 on CUDA)')
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
    build: Callable[[], LiteTrack]


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
    """Return the requested precisions, or the default ones for the device."""
    if requested:
        return requested
    return ['fp32', 'fp16'] if device.startswith('cuda') else ['fp32']


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
    machine = machine_info(devices)
    print('\n'.join(header_lines(machine, settings)), flush=True)
    results: list[BenchResult] = []
    try:
        for spec in specs:
            net = spec.build()
            for device in devices:
                results += bench_network(spec.name, net, device,
                                         precisions_for(device, args.precision),
                                         args.warmup, args.frames)
            del net
    except MismatchError as error:
        print(f'litetrack-bench: FAILED: {error}', file=sys.stderr)
        return EXIT_MISMATCH

    print()
    print(markdown_table([row for result in results for row in table_rows(result)]))
    print()
    print(agreement_line(results))
    if args.json is not None:
        report = {'machine': machine, **settings, 'tolerance': TOLERANCE,
                  'baseline': BASELINE_NOTE, 'results': [r.to_dict() for r in results]}
        try:
            args.json.write_text(json.dumps(report, indent=2) + '\n')
        except OSError as error:
            print(f'litetrack-bench: cannot write {args.json}: {error}', file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
