# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""``litetrack-eval``: benchmark LiteTrack, LightTrack and OpenCV trackers on a dataset.

Example::

    litetrack-eval data/sequences --tracker litetrack:weights=weights/B6.safetensors \\
        --tracker mil --tracker vit:net=vitTracker.onnx --out eval_output/

Writes ``<out>/<tracker>/...`` result files, ``results.json``, ``success.png``
and ``precision.png``, and prints a table.  Rerunning the same command skips
sequences already done, provided each tracker's settings (weights hash,
variant, precision, device, search size, size update rate...) are those its
results were made with; otherwise it stops with exit status 2 and names the
differences (``--overwrite`` deletes the old results instead).

``--workers N`` splits the sequences over N processes; under ``torchrun`` the
ranks split them (and rank 0 writes the report); either way ``results.json`` is
that of one process (see ``ranks.py``).
"""

import argparse
from functools import partial
from pathlib import Path
import sys

from litetrack_ros.evaluation.baselines import (
    create_tracker,
    DEFAULT_MIL_SEEDS,
    TRACKER_OPTIONS,
    TrackerAdapter,
    TrackerSetupError,
)
from litetrack_ros.evaluation.datasets import DatasetError, discover_sequences, Sequence
from litetrack_ros.evaluation.long_term import evaluate_long_term, format_long_term
from litetrack_ros.evaluation.ranks import (
    RankError,
    run_as_rank,
    run_in_workers,
    torchrun_place,
    use_local_gpu,
)
from litetrack_ros.evaluation.report import (
    build_report,
    format_table,
    plot_precision,
    plot_success,
    write_json,
)
from litetrack_ros.evaluation.runner import check_tracker_name, run_trackers
from litetrack_ros.evaluation.settings import (
    environment,
    SettingsMismatchError,
    tracker_settings,
)
from litetrack_ros.evaluation.size_response import (
    check_scales,
    DEFAULT_FRAMES_PER_SEQUENCE,
    DEFAULT_SCALES,
    format_size_response,
    measure_size_response,
)

PROG = 'litetrack-eval'
DEFAULT_SCALES_TEXT = ','.join(f'{s:g}' for s in DEFAULT_SCALES)
TRACKER_HELP = (
    'tracker to evaluate, repeatable: KIND[:key=value,...]. Kinds: '
    'litetrack[:weights=PATH,device=auto|cpu|cuda,precision=auto|fp32|fp16|bf16,'
    'search_size=N,variant=B6,size_update_rate=R,window_influence=I|none,'
    'scale_penalty_k=K,score_weighted_size_update=0|1,compile=1,lost_threshold=T,lost_frames=N,'
    'redetect_threshold=T,redetect_tiles=N] (LiteTrack or LightTrack, '
    'as the checkpoint says; no weights: an untrained network, named litetrack-untrained); '
    f'mil[:seeds=N] (random: run with seeds 0..N-1, default {DEFAULT_MIL_SEEDS}, reported as '
    'mean+-std); nano:backbone=PATH,head=PATH; vit:net=PATH. Every kind also takes name=LABEL.'
)


class UsageError(Exception):
    """A problem with the command line that deserves a message, not a traceback."""


def parse_tracker_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split ``'kind:key=value,key=value'`` into the kind and its options."""
    kind, _, option_text = spec.partition(':')
    kind = kind.strip().lower()
    options = {}
    for item in filter(None, (part.strip() for part in option_text.split(','))):
        key, separator, value = item.partition('=')
        if not separator or not key.strip():
            raise UsageError(f'bad tracker option {item!r} in {spec!r}: expected key=value')
        options[key.strip()] = value.strip()
    if kind not in TRACKER_OPTIONS:
        raise UsageError(f'unknown tracker {kind!r} in {spec!r}; choose from '
                         f'{", ".join(TRACKER_OPTIONS)}')
    return kind, options


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface of ``litetrack-eval``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description='Evaluate trackers on a tracking dataset (OTB-style success/precision, '
                    'LaSOT normalised precision, GOT-10k AO/SR). Layouts: simple '
                    '(<seq>/img + groundtruth.txt, or one such folder), OTB, GOT-10k, LaSOT.')
    parser.add_argument('dataset', type=Path, help='dataset folder, or a single sequence folder')
    parser.add_argument('--sequences', default='',
                        help='comma-separated sequence names to run (default: all)')
    parser.add_argument('--tracker', action='append', required=True, metavar='SPEC',
                        help=TRACKER_HELP)
    parser.add_argument('--out', type=Path, default=Path('eval_output'),
                        help='output folder (default: %(default)s)')
    parser.add_argument('--max-frames', type=int, default=None, metavar='N',
                        help='only run the first N frames of each sequence')
    parser.add_argument('--no-resume', action='store_true',
                        help='rerun sequences even if their result files are complete')
    parser.add_argument('--overwrite', action='store_true',
                        help="delete a tracker's stored results when they were made with other "
                             'settings (default: stop with an error naming the differences)')
    parser.add_argument('--per-sequence', action='store_true',
                        help='also print one table row per sequence')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    parser.add_argument('--workers', type=int, default=1, metavar='N',
                        help='split the sequences over N local processes (default 1; under '
                             'torchrun the ranks split them instead)')
    parser.add_argument('--size-response', nargs='?', const=DEFAULT_SCALES_TEXT, default=None,
                        metavar='SCALES',
                        help='instead of tracking: cut the search region around the true box '
                             'with its sides scaled by each of SCALES (default '
                             f'{DEFAULT_SCALES_TEXT}) and report how much of the size error '
                             'the tracker keeps, and its per-frame size noise '
                             '(LiteTrack/LightTrack trackers; writes size_response.json)')
    parser.add_argument('--absent-frames', type=int, default=None, metavar='N',
                        help='instead of the usual benchmark: the long-term evaluation; each '
                             'sequence gets N frames of another one (target absent) after its '
                             'first third and resumes N frames later; LaSOT/GOT-10k absence '
                             'flags count too (N=0: those alone); writes long_term.json')
    parser.add_argument('--absent-mirror', action='store_true',
                        help='with --absent-frames: the sequence resumes mirrored left to right, '
                             'so the target comes back on the other side of the frame')
    parser.add_argument('--size-frames', type=int, default=DEFAULT_FRAMES_PER_SEQUENCE,
                        metavar='N', help='frames sampled per sequence for --size-response '
                                          '(default: %(default)s)')
    return parser


def _parse_scales(text: str) -> tuple[float, ...]:
    try:
        scales = tuple(float(value) for value in text.split(',') if value.strip())
    except ValueError as error:
        raise UsageError(f'--size-response: bad scales {text!r} ({error})') from error
    try:
        return check_scales(scales)
    except ValueError as error:
        raise UsageError(f'--size-response: {error}') from error


def run_size_response(args: argparse.Namespace, sequences: list[Sequence],
                      trackers: list[TrackerAdapter]) -> None:
    """Measure and print each tracker's size response; write ``size_response.json``."""
    scales = _parse_scales(args.size_response)
    if args.size_frames < 1:
        raise UsageError('--size-frames must be at least 1')
    unsupported = [t.name for t in trackers if not hasattr(t, 'predict_at')]
    if unsupported:
        raise UsageError(f'--size-response needs LiteTrack or LightTrack trackers, not '
                         f'{", ".join(unsupported)}')
    responses = {t.name: measure_size_response(t, sequences, scales, args.size_frames)
                 for t in trackers}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / 'size_response.json'
    write_json({'dataset': str(args.dataset),
                'trackers': {t.name: {'settings': tracker_settings(t),
                                      **responses[t.name].as_dict()} for t in trackers}}, path)
    print(format_size_response(responses))
    print(f'wrote {path}')


def _create_trackers(specs: list[str]) -> list[TrackerAdapter]:
    trackers = []
    for spec in specs:
        kind, options = parse_tracker_spec(spec)
        trackers.append(create_tracker(kind, **options))
    names = [tracker.name for tracker in trackers]
    for name in names:
        try:
            check_tracker_name(name)
        except ValueError as error:
            raise UsageError(str(error)) from error
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UsageError(f'two trackers are named {", ".join(repeated)}: add name=... to one '
                         '(results are stored per name)')
    return trackers


def run(args: argparse.Namespace, shard: bool = True) -> None:
    """Run the evaluation described by parsed arguments (raises on bad input).

    ``shard=False`` runs in this process alone even under torchrun (the periodic
    evaluation that rank 0 of a training run makes).
    """
    if args.max_frames is not None and args.max_frames < 2:
        raise UsageError('--max-frames must be at least 2 (frame 1 only initialises)')
    if not args.dataset.is_dir():
        raise UsageError(f'dataset folder not found: {args.dataset}')
    if args.workers < 1:
        raise UsageError('--workers must be at least 1')
    try:
        rank, world_size, local_rank = torchrun_place() if shard else (0, 1, 0)
    except RankError as error:
        raise UsageError(str(error)) from error
    if world_size > 1:
        use_local_gpu(local_rank)  # before the trackers are built
    if world_size > 1 and args.workers > 1:
        raise UsageError('--workers splits the sequences in one process; under torchrun the '
                         'ranks do: use one or the other')
    names = [name.strip() for name in args.sequences.split(',') if name.strip()] or None
    # Load the dataset and build every tracker before running anything, so that a
    # typo in the last --tracker fails in a second, not after an hour of tracking.
    sequences = discover_sequences(args.dataset, names)
    trackers = _create_trackers(args.tracker)
    if args.size_response is not None:
        if world_size > 1 or args.workers > 1:
            raise UsageError('--size-response runs in one process (no --workers, no torchrun)')
        run_size_response(args, sequences, trackers)
        return
    if args.absent_frames is not None:
        if world_size > 1 or args.workers > 1:
            raise UsageError('--absent-frames runs in one process (no --workers, no torchrun)')
        if args.absent_frames < 0:
            raise UsageError('--absent-frames must be >= 0')
        report = evaluate_long_term(trackers, sequences, args.absent_frames, args.out,
                                    {t.name: tracker_settings(t) for t in trackers},
                                    mirror=args.absent_mirror)
        print(format_long_term(report))
        print(f'wrote {args.out / "long_term.json"}')
        return
    options = {'max_frames': args.max_frames, 'resume': not args.no_resume,
               'progress': not args.no_progress, 'overwrite': args.overwrite}
    if world_size > 1:
        gathered = run_as_rank(trackers, sequences, args.out, rank, world_size, **options)
        if gathered is None:
            return  # rank 0 writes the report
        results = gathered
    elif args.workers > 1:
        results = run_in_workers(trackers, partial(_create_trackers, args.tracker), sequences,
                                 args.out, args.workers, **options)
    else:
        results = run_trackers(trackers, sequences, args.out, **options)
    settings = {tracker.name: tracker_settings(tracker) for tracker in trackers}
    report = build_report(results, sequences, settings)
    report['dataset'] = str(args.dataset)
    report['max_frames'] = args.max_frames
    report['environment'] = environment()
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(report, args.out / 'results.json')
    plot_success(report, args.out / 'success.png')
    plot_precision(report, args.out / 'precision.png')
    resumed = sum(result.resumed for per_sequence in results.values()
                  for runs in per_sequence.values() for result in runs)
    print(format_table(report, per_sequence=args.per_sequence))
    if resumed:
        print(f'({resumed} tracker/sequence result(s) loaded from an earlier run; '
              'fps is theirs; use --no-resume to rerun)')
    print(f'wrote {args.out / "results.json"}, {args.out / "success.png"}, '
          f'{args.out / "precision.png"}')


def main(argv: list[str] | None = None, shard: bool = True) -> int:
    """Entry point of the ``litetrack-eval`` console script; returns the exit status.

    ``shard``: see :func:`run`.
    """
    args = build_parser().parse_args(argv)
    try:
        run(args, shard)
    except (UsageError, DatasetError, TrackerSetupError, SettingsMismatchError) as error:
        print(f'{PROG}: error: {error}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f'{PROG}: interrupted; run the same command again to resume', file=sys.stderr)
        return 130
    return 0


if __name__ == '__main__':
    sys.exit(main())
