# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""``litetrack-train``: train or fine-tune a LiteTrack network.

Examples::

    # the official recipe, fine-tuning a pruned official model on GOT-10k + COCO
    litetrack-train --data got10k=/data/got10k --data coco=/data/coco \\
        --variant B6 --init B6_pruned.safetensors --steps 100000 --out runs/b6

    # a small member from scratch on generated scenes, evaluated every 2000 steps
    litetrack-train --data synthetic --variant S6 --lr 5e-4 --backbone-lr-mult 1 \\
        --steps 20000 --eval-dataset data/sequences --eval-every 2000 --out runs/s6

    # distil an official B9 into a B4 at 128 px (LoReTrack's dual distillation)
    litetrack-train --data got10k=/data/got10k --variant B4 --search-size 128 \\
        --init B4.safetensors --teacher B9.pth.tar --distill loretrack --out runs/b4_128

    # distil the VitTrack ONNX network's maps into a small member
    litetrack-train --data simple=/data/videos --variant S4 \\
        --teacher onnx:vittrack=vitTracker_2023-09-08.onnx --distill maps --out runs/s4_kd

Writes ``OUT/losses.csv``, ``OUT/losses.png``, ``OUT/checkpoint_last.pth`` (for
``--resume``), ``OUT/weights_last.safetensors`` (for the tracker) and, with
``--eval-dataset``, ``OUT/eval/step*/`` from ``litetrack-eval``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import sys
from typing import Sequence

from litetrack_ros.model.config import ModelConfig
from litetrack_ros.model.litetrack import enable_flush_denormal
from litetrack_ros.tracking.runtime import resolve_device
from litetrack_ros.train.data import (
    DataError,
    open_source,
    PairDataset,
    parse_data_spec,
    ProcessingParams,
)
from litetrack_ros.train.distill import (
    Distiller,
    DistillError,
    DistillSettings,
    METHODS,
    open_teacher,
)
from litetrack_ros.train.distributed import (
    barrier,
    DistributedSetupError,
    init_distributed,
    micro_batch_plan,
    Place,
    RankBatches,
    shut_down,
)
from litetrack_ros.train.loading import make_loader, measure_loading
from litetrack_ros.train.trainer import (
    build_model,
    load_training_state,
    MODEL_VARIANTS,
    train,
    TrainSettings,
)
import torch

PROG = 'litetrack-train'
CONFIG_FIELDS = ('depth', 'num_interaction', 'embed_dim', 'num_heads', 'template_size',
                 'search_size', 'head_channels', 'template_factor', 'search_factor')


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    data = parser.add_argument_group('data')
    data.add_argument('--data', action='append', required=True, metavar='KIND[=PATH]',
                      help='training data, repeatable: got10k=DIR, lasot=DIR, trackingnet=DIR, '
                           'coco=DIR, simple=DIR (img/ + groundtruth.txt), synthetic')
    data.add_argument('--data-weights', default='', metavar='W1,W2,...',
                      help='sampling weights of the --data sources (default: equal)')
    data.add_argument('--max-gap', type=int, default=ProcessingParams.max_gap,
                      help='largest frame distance between template and search (%(default)s)')
    data.add_argument('--center-jitter', type=float, default=ProcessingParams.center_jitter)
    data.add_argument('--scale-jitter', type=float, default=ProcessingParams.scale_jitter)
    # Stored in the model's config, so that the tracker crops as the model was trained.
    data.add_argument('--template-factor', type=float, default=None,
                      help='template crop side / target size (variant default: 2)')
    data.add_argument('--search-factor', type=float, default=None,
                      help='search crop side / target size (variant default: 4)')
    data.add_argument('--negative-prob', type=float, default=0.0, metavar='P',
                      help='share of negative pairs: search crops without the target (another '
                           'video, or far from the target), trained to score 0 (%(default)s)')
    data.add_argument('--pairs-per-scene', type=int, default=4,
                      help='synthetic pairs drawn from each generated scene (speed)')
    data.add_argument('--synthetic-heights', default='240,360', metavar='MIN,MAX',
                      help='frame height range of synthetic videos in pixels (240,360)')

    model = parser.add_argument_group('model')
    model.add_argument('--variant', default='S6', choices=sorted(MODEL_VARIANTS),
                       help='architecture to start from (B*: official ViT-B shapes; '
                            'S*/M6: small members; micro: tests)')
    for name in CONFIG_FIELDS:
        if name.endswith('_factor'):
            continue  # in the data group
        model.add_argument('--' + name.replace('_', '-'), type=int, default=None,
                           help=f'override the {name} of the variant')
    model.add_argument('--init', type=Path, default=None,
                       help='initial weights (official, converted or pruned checkpoint)')
    model.add_argument('--resume', type=Path, default=None,
                       help='continue a run from its checkpoint_last.pth')

    optim = parser.add_argument_group('optimisation (defaults: the LiteTrack recipe)')
    optim.add_argument('--steps', type=int, default=1000)
    optim.add_argument('--batch-size', type=int, default=16,
                       help='pairs per optimiser step over all processes: the effective batch, '
                            'whatever the number of processes (%(default)s)')
    optim.add_argument('--micro-batch', type=int, default=None,
                       help='pairs per forward pass in one process; gradients accumulate over '
                            '--batch-size / (--micro-batch x processes) passes (default: '
                            '--batch-size / processes)')
    optim.add_argument('--lr', type=float, default=1e-4)
    optim.add_argument('--backbone-lr-mult', type=float, default=0.1,
                       help='backbone learning-rate multiplier (0.1; use 1 from scratch)')
    optim.add_argument('--weight-decay', type=float, default=1e-4)
    optim.add_argument('--grad-clip', type=float, default=0.1)
    optim.add_argument('--lr-drop-step', type=int, default=None,
                       help='step of the x0.1 learning-rate drop (default 80%% of --steps)')
    optim.add_argument('--lr-drop-factor', type=float, default=0.1)
    optim.add_argument('--warmup-steps', type=int, default=0)
    optim.add_argument('--no-amp', action='store_true', help='no mixed precision on GPU')

    distill = parser.add_argument_group('distillation (off without --teacher)')
    distill.add_argument('--teacher', default=None, metavar='PATH|onnx:KIND=PATH',
                         help='a LiteTrack checkpoint (any that litetrack-track loads) or an '
                              'external network, onnx:vittrack=PATH')
    distill.add_argument('--distill', choices=METHODS, default=None,
                         help='loretrack (dual distillation across resolutions), compress '
                              '(stage replacement + feature mimicking, equal widths), maps '
                              '(dense-map matching; the only one for ONNX teachers); default: '
                              'loretrack for a LiteTrack teacher, maps for an ONNX one')
    distill.add_argument('--distill-weight', type=float, default=1.0,
                         help='weight of the distillation loss (%(default)s)')
    distill.add_argument('--feature-weight', type=float, default=1.0,
                         help='maps: weight of the head-input hint within it, for teachers that '
                              'give features (LightTrack) (%(default)s; 0: off)')
    distill.add_argument('--replace-prob', type=float, default=0.5,
                         help='compress: chance that a student stage is replaced by the '
                              "teacher's (%(default)s)")
    distill.add_argument('--replace-steps', type=int, default=None,
                         help='compress: steps of replacement training (default: half of --steps)')
    distill.add_argument('--progressive-steps', type=int, default=None,
                         help='compress: steps over which the replacement chance falls to 0 '
                              '(default: a quarter of --steps); the student trains alone after')
    distill.add_argument('--stages', type=int, default=None,
                         help="compress: number of stages (default: the student's depth)")

    run = parser.add_argument_group('run')
    run.add_argument('--out', type=Path, default=Path('runs/litetrack'))
    run.add_argument('--device', default='auto', help='auto, cpu, cuda, cuda:N')
    run.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    run.add_argument('--workers', type=int, default=0, help='data-loading processes')
    run.add_argument('--seed', type=int, default=0)
    run.add_argument('--log-every', type=int, default=10)
    run.add_argument('--save-every', type=int, default=500)
    run.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    run.add_argument('--measure-data', type=int, default=None, metavar='BATCHES',
                     help='instead of training: time BATCHES micro-batches of data loading '
                          '(decode, crop) with --workers and print pairs/s')
    run.add_argument('--dist-timeout', type=float, default=60.0, metavar='MINUTES',
                     help='under torchrun: how long ranks wait for each other, periodic '
                          'evaluation on rank 0 included (%(default)s)')
    # torch.distributed.launch (deprecated) passes --local-rank (or --local_rank in old
    # versions); torchrun sets LOCAL_RANK in the environment, which takes precedence.
    run.add_argument('--local-rank', '--local_rank', dest='local_rank', type=int, default=None,
                     help=argparse.SUPPRESS)

    evaluation = parser.add_argument_group('periodic evaluation (litetrack-eval)')
    evaluation.add_argument('--eval-dataset', type=Path, default=None,
                            help='dataset folder for litetrack-eval (off when absent)')
    evaluation.add_argument('--eval-every', type=int, default=1000)
    evaluation.add_argument('--eval-max-frames', type=int, default=None)
    return parser


class UsageError(Exception):
    """A bad command line, reported without a traceback."""


def model_config(args: argparse.Namespace) -> ModelConfig:
    """Return the variant's config with the command-line overrides."""
    changes = {name: getattr(args, name) for name in CONFIG_FIELDS
               if getattr(args, name) is not None}
    if args.embed_dim is not None and args.num_heads is None:
        changes['num_heads'] = max(1, args.embed_dim // 64)
    try:
        return MODEL_VARIANTS[args.variant].replace(**changes)
    except ValueError as error:
        raise UsageError(str(error)) from error


def make_eval_hook(args: argparse.Namespace, device: torch.device):
    """Return a hook that runs ``litetrack-eval`` on saved weights, or None."""
    if args.eval_dataset is None:
        return None
    try:
        from litetrack_ros.evaluation import cli as eval_cli  # noqa: PLC0415
    except ImportError:
        print(f'{PROG}: litetrack_ros.evaluation is not available; no periodic evaluation',
              file=sys.stderr)
        return None

    def evaluate(step: int, weights: Path) -> dict[str, float] | None:
        out = args.out / 'eval' / f'step{step:07d}'
        argv = [str(args.eval_dataset), '--tracker',
                f'litetrack:weights={weights},device={device.type},name=step{step}',
                '--out', str(out), '--no-progress']
        if args.eval_max_frames:
            argv += ['--max-frames', str(args.eval_max_frames)]
        status = eval_cli.main(argv, shard=False)  # rank 0 alone, the others wait
        if status != 0:
            print(f'{PROG}: litetrack-eval exited with {status}', file=sys.stderr)
            return None
        return summarise_eval(out / 'results.json')

    return evaluate


def summarise_eval(results: Path) -> dict[str, float] | None:
    """Return each tracker's overall AUC, precision@20 and fps from a ``results.json``."""
    if not results.is_file():
        return None
    report = json.loads(results.read_text())
    summary = {}
    for tracker, entry in report.get('trackers', {}).items():
        overall = entry.get('overall', {})
        for key in ('auc', 'precision_20', 'fps'):
            if isinstance(overall.get(key), (int, float)):
                summary[f'{tracker} {key}'] = float(overall[key])
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``litetrack-train``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.local_rank is not None and 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    try:
        place = init_distributed(resolve_device(args.device), args.dist_timeout)
    except (DistributedSetupError, RuntimeError, ValueError) as error:
        print(f'{PROG}: error: {error}', file=sys.stderr)
        return 2
    try:
        status = run(args, place)
        # Every rank leaves together: one tearing its group down while another still
        # writes can abort it (gloo: 'terminate called without an active exception').
        if status == 0:
            barrier(place)
        return status
    finally:
        shut_down(place)


def run(args: argparse.Namespace, place: Place) -> int:
    """Train (or measure data loading) in this process; returns the exit status."""
    try:
        micro_batch, accumulation = micro_batch_plan(args.batch_size, args.micro_batch,
                                                     place.world_size)
        config = model_config(args)
        resume = None
        if args.resume is not None:
            if not args.resume.is_file():
                raise UsageError(f'--resume: {args.resume} does not exist')
            resume = load_training_state(args.resume)
            config = ModelConfig.from_dict(resume['config'])
        weights = [float(w) for w in args.data_weights.split(',') if w.strip()]
        if weights and len(weights) != len(args.data):
            raise UsageError('--data-weights needs one weight per --data')
        if not 0.0 <= args.negative_prob < 1.0:
            raise UsageError(f'--negative-prob must be in [0, 1), got {args.negative_prob}')
        heights = tuple(int(v) for v in args.synthetic_heights.split(','))
        if len(heights) != 2 or not 32 <= heights[0] <= heights[1]:
            raise UsageError(f'bad --synthetic-heights {args.synthetic_heights!r}')
        sources = [open_source(*parse_data_spec(spec), seed=args.seed,
                               pairs_per_scene=args.pairs_per_scene, synthetic_heights=heights)
                   for spec in args.data]
        device = place.device
    except (UsageError, DataError, ValueError, DistributedSetupError) as error:
        print(f'{PROG}: error: {error}', file=sys.stderr)
        return 2

    if args.threads:
        torch.set_num_threads(args.threads)
    enable_flush_denormal()
    torch.manual_seed(args.seed)
    teacher = None
    if args.teacher is not None:
        try:
            teacher = open_teacher(args.teacher)
        except (DistillError, RuntimeError) as error:
            print(f'{PROG}: error: --teacher: {error}', file=sys.stderr)
            return 2
    params = ProcessingParams(
        template_size=config.template_size, search_size=config.search_size,
        template_factor=config.template_factor, search_factor=config.search_factor,
        center_jitter=args.center_jitter, scale_jitter=args.scale_jitter, max_gap=args.max_gap,
        negative_probability=args.negative_prob,
        teacher_template_size=teacher.template_size if teacher else None,
        teacher_search_size=teacher.search_size if teacher else None)
    dataset = PairDataset(sources, params, seed=args.seed, weights=weights or None)
    if args.measure_data is not None:
        return measure_data(args, dataset, micro_batch, place)
    settings = TrainSettings(
        steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        backbone_lr_multiplier=args.backbone_lr_mult, weight_decay=args.weight_decay,
        grad_clip=args.grad_clip, lr_drop_step=args.lr_drop_step,
        lr_drop_factor=args.lr_drop_factor, warmup_steps=args.warmup_steps,
        amp=not args.no_amp, log_every=args.log_every, save_every=args.save_every,
        eval_every=args.eval_every if args.eval_dataset else 0, workers=args.workers,
        seed=args.seed, extra={'data': list(args.data), 'negative_prob': args.negative_prob,
                               'processes': place.world_size, 'micro_batch': micro_batch})
    try:
        model = build_model(config, None if resume else args.init)
    except (RuntimeError, ValueError) as error:
        print(f'{PROG}: error: cannot initialise from {args.init}: {error}', file=sys.stderr)
        return 2
    distiller = None
    if teacher is not None:
        method = args.distill or ('loretrack' if hasattr(teacher, 'model') else 'maps')
        try:
            distiller = Distiller(teacher, model, DistillSettings(
                method=method, weight=args.distill_weight, feature_weight=args.feature_weight,
                replace_prob=args.replace_prob,
                replace_steps=(args.replace_steps if args.replace_steps is not None
                               else args.steps // 2),
                progressive_steps=(args.progressive_steps if args.progressive_steps is not None
                                   else args.steps // 4),
                stages=args.stages), seed=args.seed)
        except DistillError as error:
            print(f'{PROG}: error: {error}', file=sys.stderr)
            return 2
        settings.extra.update(teacher=args.teacher, distill=method)
        print(f'{PROG}: distilling from {teacher.name} ({method}, teacher crops '
              f'{teacher.template_size}/{teacher.search_size} px)', file=sys.stderr)
    elif args.distill is not None:
        print(f'{PROG}: error: --distill needs --teacher', file=sys.stderr)
        return 2
    if place.is_main:
        print(f'{PROG}: {model.num_parameters / 1e6:.2f} M parameters, '
              f'config {config.to_dict()}, data {[s.name for s in sources]}, device {device}, '
              f'{place.world_size} process(es) x {accumulation} micro-batch(es) of '
              f'{micro_batch} pairs per step', file=sys.stderr)
    last = train(model, dataset, settings, args.out, device, resume=resume,
                 eval_hook=make_eval_hook(args, device), progress=not args.no_progress,
                 distiller=distiller, place=place, micro_batch=micro_batch)
    print(f'{PROG}: rank {place.rank}/{place.world_size}: '
          f'{last.get("pairs_per_s", 0.0):.1f} pairs/s per process, '
          f'{100 * last.get("data_wait", 0.0):.0f} % of the time waiting for data',
          file=sys.stderr)
    if place.is_main:
        print(f'{PROG}: done; last losses {last}; weights in {args.out}', file=sys.stderr)
    return 0


def measure_data(args: argparse.Namespace, dataset: PairDataset, micro_batch: int,
                 place: Place) -> int:
    """Print how fast ``--workers`` processes make pairs (decode + crop), without training."""
    if args.measure_data < 1:
        print(f'{PROG}: error: --measure-data needs at least 1 batch', file=sys.stderr)
        return 2
    batches = RankBatches(micro_batch, micro_batch, 0, 1, 0, args.measure_data + 1)
    figures = measure_loading(make_loader(dataset, batches, args.workers, place.device),
                              args.measure_data)
    print(f'{PROG}: data loading, {args.workers} worker(s), micro-batch {micro_batch}: '
          f'{figures["pairs_per_s"]:.1f} pairs/s, {figures["ms_per_pair"]:.1f} ms per pair '
          f'({figures["pairs"]:.0f} pairs in {figures["seconds"]:.2f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
