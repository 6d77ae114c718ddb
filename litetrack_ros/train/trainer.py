# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The training loop: optimiser, schedule, checkpoints, logs and periodic evaluation.

The recipe is LiteTrack's (OSTrack's): AdamW, lr 1e-4 with the backbone at 0.1x,
weight decay 1e-4, gradient clipping at norm 0.1, a step decay (x0.1) late in
training, mixed precision on GPU.  Everything is a parameter, because training a
small member from scratch (no pre-trained backbone) wants a higher learning rate
and no backbone discount.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
import math
import os
from pathlib import Path
import time
from typing import Any, Callable

from litetrack_ros.model.checkpoint import load_checkpoint, save_safetensors
from litetrack_ros.model.config import KNOWN_VARIANTS, ModelConfig, variant_name
from litetrack_ros.model.litetrack import LiteTrack
from litetrack_ros.train.data import PairDataset
from litetrack_ros.train.distill import Distiller
from litetrack_ros.train.distributed import (
    barrier,
    mean_over_ranks,
    micro_batch_plan,
    no_sync,
    Place,
    RankBatches,
    TrainStep,
    wrap,
)
from litetrack_ros.train.loading import make_loader, Throughput
from litetrack_ros.train.targets import build_targets, tracking_loss
import torch
from torch import nn

# The known variants plus 'micro', a toy size for tests.
MODEL_VARIANTS: dict[str, ModelConfig] = {
    **KNOWN_VARIANTS,
    'micro': ModelConfig(depth=2, num_interaction=1, embed_dim=32, num_heads=2,
                         template_size=32, search_size=64, head_channels=16),
}

LOG_FIELDS = ('step', 'loss', 'focal', 'l1', 'giou', 'iou', 'distill', 'lr', 'seconds',
              'absent_score', 'pairs_per_s', 'data_wait')
TRAIN_STATE_NAME = 'checkpoint_last.pth'
WEIGHTS_NAME = 'weights_last.safetensors'


@dataclass
class TrainSettings:
    """Everything that defines a training run (saved with each checkpoint)."""

    steps: int = 1000
    batch_size: int = 16
    lr: float = 1e-4
    backbone_lr_multiplier: float = 0.1
    weight_decay: float = 1e-4
    grad_clip: float = 0.1
    lr_drop_step: int | None = None  # default: 80 % of the steps
    lr_drop_factor: float = 0.1
    warmup_steps: int = 0
    amp: bool = True  # only used on CUDA
    log_every: int = 10
    save_every: int = 500
    eval_every: int = 0
    workers: int = 0
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def drop_step(self) -> int:
        """Step at which the learning rate is multiplied by ``lr_drop_factor``."""
        return self.lr_drop_step if self.lr_drop_step is not None else int(0.8 * self.steps)


def parameter_groups(model: LiteTrack, settings: TrainSettings) -> list[dict[str, Any]]:
    """Backbone at ``lr * backbone_lr_multiplier``, the rest (head, target token) at ``lr``."""
    backbone, rest = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (backbone if name.startswith('backbone.') else rest).append(parameter)
    return [{'params': rest, 'lr': settings.lr, 'base_lr': settings.lr},
            {'params': backbone, 'lr': settings.lr * settings.backbone_lr_multiplier,
             'base_lr': settings.lr * settings.backbone_lr_multiplier}]


def learning_rate_scale(step: int, settings: TrainSettings) -> float:
    """Linear warm-up, then the step decay."""
    scale = settings.lr_drop_factor if step >= settings.drop_step else 1.0
    if settings.warmup_steps and step < settings.warmup_steps:
        scale *= (step + 1) / settings.warmup_steps
    return scale


def write_loss_plot(csv_path: Path, png_path: Path) -> None:
    """Plot the loss curves of a training log (smoothed) to a PNG."""
    import matplotlib  # noqa: PLC0415 - optional, heavy
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # noqa: PLC0415

    with open(csv_path, newline='') as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return
    steps = [int(row['step']) for row in rows]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    curves = [('loss', 1.0), ('focal', 1.0), ('l1', 5.0), ('giou', 2.0)]
    if any(float(row.get('distill') or 0) for row in rows):
        curves.append(('distill', 1.0))
    for name, weight in curves:
        values = [float(row.get(name) or 0) * weight for row in rows]
        label = name if weight == 1.0 else f'{weight:g} x {name}'
        left.plot(steps, smooth(values), label=label)
    left.set_xlabel('step')
    left.set_ylabel('loss (smoothed)')
    left.set_yscale('log')
    left.legend()
    left.grid(alpha=0.3)
    right.plot(steps, smooth([float(row['iou']) for row in rows]), label='train IoU at peak')
    right.set_xlabel('step')
    right.set_ylim(0, 1)
    right.legend()
    right.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(png_path, dpi=100)
    plt.close(figure)


def truncate_log(csv_path: Path, last_step: int) -> None:
    """Drop log rows after ``last_step`` (written after the checkpoint a run resumes from)."""
    with open(csv_path, newline='') as file:
        rows = [row for row in csv.DictReader(file) if int(row['step']) <= last_step]
    with open(csv_path, 'w', newline='') as file:
        writer = csv.DictWriter(file, fieldnames=LOG_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def smooth(values: list[float], span: int = 10) -> list[float]:
    """Exponential moving average (span in log rows)."""
    alpha = 2.0 / (span + 1)
    out, average = [], None
    for value in values:
        average = value if average is None else alpha * value + (1 - alpha) * average
        out.append(average)
    return out


def save_training_state(path: Path, model: LiteTrack, optimizer: torch.optim.Optimizer,
                        scaler: Any, step: int, settings: TrainSettings,
                        distiller: Distiller | None = None) -> None:
    """Write everything needed to resume (tensors and plain containers only)."""
    state = {'net': model.state_dict(), 'optimizer': optimizer.state_dict(),
             'scaler': scaler.state_dict() if scaler is not None else {},
             'step': step, 'config': model.config.to_dict(), 'settings': asdict(settings),
             'distiller': distiller.state_dict() if distiller is not None else {}}
    temporary = path.with_suffix('.tmp')
    torch.save(state, temporary)
    os.replace(temporary, path)  # never leave a half-written checkpoint behind


def load_training_state(path: Path) -> dict[str, Any]:
    """Read a file written by :func:`save_training_state` (weights-only unpickling)."""
    return torch.load(path, map_location='cpu', weights_only=True)


def build_model(config: ModelConfig, init: Path | None = None) -> LiteTrack:
    """Return a fresh model, or one initialised from weights matching the config."""
    if init is None:
        return LiteTrack(config)
    checkpoint = load_checkpoint(init)
    if checkpoint.config.family != ModelConfig.family:
        raise ValueError(f'{init} holds a {checkpoint.config.family} network; litetrack-train '
                         'trains LiteTrack (LightTrack.teacher_maps serves as a teacher)')
    # Different crop sizes are fine: load at the stored ones, then resize. Anything else
    # that differs (a stem, the template keys' source) would load but compute another net.
    stored = checkpoint.config
    crops = {'search_size': config.search_size, 'template_size': config.template_size}
    if stored.architecture.replace(**crops) != config.architecture:
        raise ValueError(f'{init} holds a {variant_name(stored)} network, not the '
                         f'{variant_name(config)} being trained (pick its --variant)')
    model = LiteTrack(config.replace(search_size=stored.search_size,
                                     template_size=stored.template_size))
    model.load_state_dict(checkpoint.state_dict, strict=True)
    if config.search_size != stored.search_size:
        model.set_search_size(config.search_size)
    if config.template_size != stored.template_size:
        model.set_template_size(config.template_size)
    return model


EvalHook = Callable[[int, Path], dict[str, float] | None]


def train(model: LiteTrack, dataset: PairDataset, settings: TrainSettings, out_dir: Path,
          device: torch.device, resume: dict[str, Any] | None = None,
          eval_hook: EvalHook | None = None, progress: bool = True,
          distiller: Distiller | None = None, place: Place | None = None,
          micro_batch: int | None = None) -> dict[str, float]:
    """Train ``model`` in place; returns the last logged losses.

    With a ``distiller`` the student runs through it, and its distillation loss (logged
    as ``distill``) is added to the tracking loss; its own parameters train at ``lr``.
    Writes ``out_dir/losses.csv``, ``losses.png``, ``checkpoint_last.pth`` (resumable)
    and ``weights_last.safetensors`` (the model with its config, for the tracker).

    ``place`` (from :func:`~litetrack_ros.train.distributed.init_distributed`) makes
    this one of several DDP processes: each runs its share of every step's
    ``settings.batch_size`` pairs in micro-batches of ``micro_batch`` (see
    :class:`~litetrack_ros.train.distributed.RankBatches`); only rank 0 writes files
    and evaluates.  ``losses.csv`` has the pairs/s of one process and its share of
    time spent waiting for data (both averaged over the ranks).
    """
    place = place or Place(device=device)
    micro, accumulation = micro_batch_plan(settings.batch_size, micro_batch, place.world_size)
    main = place.is_main
    if main:
        out_dir.mkdir(parents=True, exist_ok=True)
    model.to(device).train()
    groups = parameter_groups(model, settings)
    if distiller is not None:
        distiller.to_device(device).train()
        groups.append({'params': list(distiller.parameters()), 'lr': settings.lr,
                       'base_lr': settings.lr})
    optimizer = torch.optim.AdamW(groups, lr=settings.lr, weight_decay=settings.weight_decay)
    use_amp = settings.amp and device.type == 'cuda'
    scaler = torch.amp.GradScaler('cuda') if use_amp else None
    start = 0
    if resume is not None:
        model.load_state_dict(resume['net'])
        optimizer.load_state_dict(resume['optimizer'])
        if scaler is not None and resume.get('scaler'):
            scaler.load_state_dict(resume['scaler'])
        start = int(resume['step'])
        if distiller is not None and resume.get('distiller'):
            distiller.load_state_dict(resume['distiller'])

    step_module = wrap(TrainStep(model, distiller), place)
    batches = iter(make_loader(dataset, RankBatches(
        settings.batch_size, micro, place.rank, place.world_size, start, settings.steps),
        settings.workers, device))
    csv_path = out_dir / 'losses.csv'
    log_file, writer = None, None
    if main:
        new_log = start == 0 or not csv_path.is_file()
        if not new_log:
            truncate_log(csv_path, start)
        log_file = open(csv_path, 'w' if new_log else 'a', newline='')
        writer = csv.DictWriter(log_file, fieldnames=LOG_FIELDS)
        if new_log:
            writer.writeheader()
    feat_size = model.config.search_feat_size

    bar = None
    if progress and main:
        from tqdm import tqdm  # noqa: PLC0415
        bar = tqdm(total=settings.steps, initial=start, unit='step', dynamic_ncols=True)
    sums: dict[str, float] = {}
    count = 0
    last: dict[str, float] = {}
    started = time.monotonic()
    throughput = Throughput()
    try:
        for step in range(start, settings.steps):
            for group in optimizer.param_groups:
                group['lr'] = group['base_lr'] * learning_rate_scale(step, settings)
            optimizer.zero_grad(set_to_none=True)
            values: dict[str, float] = {}
            for micro_step in range(accumulation):
                batch = {name: value.to(device, non_blocking=True)
                         for name, value in throughput.timed_next(batches).items()}
                targets = build_targets(batch['search_box'], feat_size, batch.get('present'))
                with no_sync(step_module, last=micro_step == accumulation - 1):
                    with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                        output, distill_loss = step_module(batch, step)
                    terms = tracking_loss(output, targets)
                    total = terms.total if distill_loss is None else terms.total + distill_loss
                    # The mean over the step's pairs: DDP averages over the ranks.
                    if scaler is not None:
                        scaler.scale(total / accumulation).backward()
                    else:
                        (total / accumulation).backward()
                micro_values = {
                    'loss': total.item(), 'focal': terms.focal.item(), 'l1': terms.l1.item(),
                    'giou': terms.giou.item(), 'iou': terms.iou.item(),
                    'distill': 0.0 if distill_loss is None else distill_loss.item(),
                    'absent_score': terms.absent_score.item()}
                if not math.isfinite(micro_values['loss']):
                    raise FloatingPointError(
                        f'loss became {micro_values["loss"]} at step {step}')
                for name, value in micro_values.items():
                    values[name] = values.get(name, 0.0) + value / accumulation
            if scaler is not None:
                scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()

            for name, value in values.items():
                sums[name] = sums.get(name, 0.0) + value
            count += 1
            done = step + 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f'{values["loss"]:.3f}', iou=f'{values["iou"]:.2f}')
            if done % settings.log_every == 0 or done == settings.steps:
                means = {name: total / count for name, total in sums.items()}
                last = mean_over_ranks({**means, **throughput.take()}, place)
                if writer is not None and log_file is not None:
                    writer.writerow({
                        'step': done, **{k: f'{v:.5f}' for k, v in last.items()
                                         if k not in ('pairs_per_s', 'data_wait')},
                        'lr': f'{optimizer.param_groups[0]["lr"]:.3g}',
                        'seconds': f'{time.monotonic() - started:.1f}',
                        'pairs_per_s': f'{last["pairs_per_s"]:.2f}',
                        'data_wait': f'{last["data_wait"]:.3f}'})
                    log_file.flush()
                sums, count = {}, 0
            if main and (done % settings.save_every == 0 or done == settings.steps):
                save_training_state(out_dir / TRAIN_STATE_NAME, model, optimizer, scaler, done,
                                    settings, distiller)
                save_weights(model, out_dir / WEIGHTS_NAME)
                write_loss_plot(csv_path, out_dir / 'losses.png')
            if eval_hook is not None and settings.eval_every and (
                    done % settings.eval_every == 0 or done == settings.steps):
                if main:  # the other ranks wait at the barrier meanwhile
                    weights = out_dir / f'weights_step{done:07d}.safetensors'
                    save_weights(model, weights)
                    model.eval()
                    scores = eval_hook(done, weights)
                    model.train()
                    if scores and bar is not None:
                        bar.write(f'step {done}: ' + ', '.join(
                            f'{k} {v:.3f}' for k, v in scores.items()))
                barrier(place)
    finally:
        if log_file is not None:
            log_file.close()
        if bar is not None:
            bar.close()
    return last


def save_weights(model: LiteTrack, path: Path) -> None:
    """Write the model (float32, CPU) as safetensors with its config."""
    state = {key: value.detach().float().cpu() if value.is_floating_point() else value.cpu()
             for key, value in model.state_dict().items()}
    save_safetensors(state, path, config=model.config)
