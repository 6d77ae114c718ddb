# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Knowledge distillation for ``litetrack-train``: teachers, map resampling and losses.

A teacher is anything that, given the template and search crops of a batch, yields the
dense maps of a LiteTrack head (:class:`~litetrack_ros.model.head.HeadOutput`) over the
search crop, and optionally its intermediate search tokens and interaction-layer
queries/keys/values.  Two kinds exist:

* :class:`LiteTrackTeacher`: any checkpoint ``load_model`` reads, frozen, at its own
  crop sizes (e.g. a B9 at 256 px teaching a B4 at 128 px);
* :class:`LightTrackTeacher`: a LightTrack-M checkpoint (what ``litetrack-convert`` writes,
  or the OpenVINO IR folder itself), its classification and ltrb maps re-expressed as
  LiteTrack's score/size/offset maps on its own 16x16 grid (:func:`lighttrack_maps`);
* :class:`OnnxMapsTeacher`: an external tracker exported to ONNX with ``template`` and
  ``search`` inputs and score/size/offset outputs (VitTrack, the network OpenCV's
  ``TrackerVit`` runs).  Another tracker joins by adding an adapter to
  :data:`EXTERNAL_TEACHERS` that returns a :class:`TeacherOutput`.

Methods (``--distill``), all added to the ground-truth tracking loss:

``maps``
    The student's maps match the teacher's, resampled to the student's grid
    (:func:`resample_maps`): binary KL on the score map everywhere, L1 on the size and
    offset maps weighted by the teacher's score.  Works with every teacher.  A teacher
    that also gives its head's input (LightTrack's fused features) adds a hint term
    (``feature_weight``): the student's last search tokens, projected to the teacher's
    width by a learned linear map, match it (grid resampled, both layer-normalised).
``loretrack``
    LoReTrack's dual distillation across resolutions (Dong et al., 2024): the frozen
    teacher sees the search region at its own, higher resolution, the student at its
    own.  (a) Query-key-value distillation: in every interaction layer the student's
    search queries/keys/values and template keys/values, projected to the teacher's
    width by a learned linear map, match the teacher's (token grids resampled
    bilinearly, both sides layer-normalised).  (b) Discrimination distillation: the
    map loss of ``maps`` restricted to the target-aware region (the cells of the
    ground-truth box, one cell wider).
``compress``
    CompressTracker's stage division with replacement training (Hong et al., 2024):
    teacher and student layers are split into the same number of stages; at each step
    every student stage is replaced by the teacher's with probability ``p``, which is
    ``--replace-prob`` for ``--replace-steps`` steps, then falls linearly to 0 over
    ``--progressive-steps`` (progressive replacement), after which the student trains
    alone.  Feature mimicking: each stage the student ran matches the teacher's stage
    output (MSE).  Needs equal widths (e.g. B9 -> B4).
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path
import random
from typing import Callable, NamedTuple, Protocol

from litetrack_ros.model.checkpoint import load_model
from litetrack_ros.model.config import LightTrackConfig
from litetrack_ros.model.head import HeadOutput, SIGMOID_EPS
from litetrack_ros.model.lighttrack import FUSED_CHANNELS, grid_points, LightTrack, SiamOutput
from litetrack_ros.model.litetrack import LiteTrack
from litetrack_ros.model.vit import Block
import numpy as np
import torch
from torch import nn, Tensor
import torch.nn.functional as F

METHODS = ('maps', 'loretrack', 'compress')


class DistillError(ValueError):
    """A teacher or distillation setting that cannot work."""


# --------------------------------------------------------------------------- grids


def resample_tokens(tokens: Tensor, grid: int) -> Tensor:
    """Resample (B, g*g, C) patch tokens to (B, grid*grid, C) bilinearly (patch areas)."""
    batch, length, dim = tokens.shape
    side = int(round(math.sqrt(length)))
    if side * side != length:
        raise DistillError(f'{length} tokens are not a square grid')
    if side == grid:
        return tokens
    image = tokens.transpose(1, 2).reshape(batch, dim, side, side)
    image = F.interpolate(image.float(), size=(grid, grid), mode='bilinear',
                          align_corners=False).to(tokens.dtype)
    return image.flatten(2).transpose(1, 2)


def _sample_cells(maps: Tensor, grid: int) -> Tensor:
    # Cell i of an F-grid stands for position i / F of the crop (the heatmap peaks at
    # round(cx * F) and boxes decode as (i + offset) / F), so student cell j reads the
    # teacher's map at index j * F_t / F_s.
    batch, _, size, _ = maps.shape
    if size == 1:
        return maps.expand(-1, -1, grid, grid)
    index = torch.arange(grid, device=maps.device, dtype=torch.float32) * (size / grid)
    coords = 2 * index / (size - 1) - 1
    y, x = torch.meshgrid(coords, coords, indexing='ij')
    sample_grid = torch.stack((x, y), dim=-1).unsqueeze(0).expand(batch, -1, -1, -1)
    return F.grid_sample(maps.float(), sample_grid, mode='bilinear', padding_mode='border',
                         align_corners=True)


def resample_maps(maps: HeadOutput, grid: int) -> HeadOutput:
    """Resample head maps to a ``grid`` x ``grid`` search grid, keeping their meaning.

    Scores and sizes (fractions of the crop) are interpolated.  Offsets are decoded to
    box centres on the source grid, the centres interpolated, then re-encoded relative
    to each target cell, so a box read at any cell stays the same box.
    """
    size = maps.score_map.shape[-1]
    if size == grid:
        return maps
    cells = torch.arange(size, device=maps.offset_map.device, dtype=torch.float32)
    centres = torch.stack((
        (cells.view(1, size) + maps.offset_map[:, 0].float()) / size,
        (cells.view(size, 1) + maps.offset_map[:, 1].float()) / size), dim=1)
    new_cells = torch.arange(grid, device=centres.device, dtype=torch.float32)
    centres = _sample_cells(centres, grid)
    offsets = torch.stack((centres[:, 0] * grid - new_cells.view(1, grid),
                           centres[:, 1] * grid - new_cells.view(grid, 1)), dim=1)
    return HeadOutput(_sample_cells(maps.score_map, grid), _sample_cells(maps.size_map, grid),
                      offsets)


def target_region(boxes_cxcywh: Tensor, grid: int, margin: float = 1.0) -> Tensor:
    """Return (B, 1, F, F) masks of the cells inside each box, ``margin`` cells wider."""
    position = torch.arange(grid, device=boxes_cxcywh.device, dtype=torch.float32) / grid
    half = boxes_cxcywh[:, 2:] / 2 + margin / grid
    inside_x = (position.view(1, -1) - boxes_cxcywh[:, :1]).abs() <= half[:, :1]
    inside_y = (position.view(1, -1) - boxes_cxcywh[:, 1:2]).abs() <= half[:, 1:]
    return (inside_y.unsqueeze(2) & inside_x.unsqueeze(1)).unsqueeze(1).float()


# --------------------------------------------------------------------------- losses


def binary_kl(student: Tensor, teacher: Tensor) -> Tensor:
    """Elementwise KL divergence between Bernoulli probabilities (0 where they agree)."""
    student = student.float().clamp(1e-6, 1 - 1e-6)
    teacher = teacher.float().clamp(1e-6, 1 - 1e-6)
    return (teacher * (teacher.log() - student.log())
            + (1 - teacher) * ((1 - teacher).log() - (1 - student).log()))


def _weighted_mean(values: Tensor, weight: Tensor) -> Tensor:
    weight = weight.expand_as(values)
    return (values * weight).sum() / weight.sum().clamp_min(1e-6)


def map_loss(student: HeadOutput, teacher: HeadOutput, score_weight: Tensor,
             box_weight: Tensor) -> Tensor:
    """Binary KL on scores plus L1 on sizes and offsets, each a weighted mean over cells.

    ``teacher`` must already be on the student's grid (:func:`resample_maps`); the
    weights are (B, 1, F, F).
    """
    score = _weighted_mean(binary_kl(student.score_map, teacher.score_map), score_weight)
    size = _weighted_mean((student.size_map - teacher.size_map).abs(), box_weight)
    offset = _weighted_mean((student.offset_map - teacher.offset_map).abs(), box_weight)
    return score + size + offset


def normalised_mse(student: Tensor, teacher: Tensor) -> Tensor:
    """MSE between layer-normalised (no affine) features: insensitive to feature scale."""
    dim = teacher.shape[-1]
    return F.mse_loss(F.layer_norm(student.float(), (dim,)), F.layer_norm(teacher.float(), (dim,)))


# --------------------------------------------------------------------------- LiteTrack passes


class Trace(NamedTuple):
    """What a LiteTrack pass yields for distillation (search tokens are (B, Nx, C)).

    maps:   the head's maps.
    tokens: search tokens after every layer.
    qkv:    per interaction layer (q_x, k_x, v_x, k_z, v_z), each (B, N, C) with heads
            merged: the search tokens' queries/keys/values and the template's keys/values.
    """

    maps: HeadOutput
    tokens: list[Tensor]
    qkv: list[tuple[Tensor, ...]]


Layer = tuple[Block, bool]  # a block and whether it runs as an interaction layer


def model_layers(model: LiteTrack) -> list[Layer]:
    """Return the blocks of ``model`` with their roles (plain, then interaction)."""
    return model.layers()


def _merge(x: Tensor) -> Tensor:
    # (B, heads, N, head_dim) -> (B, N, C)
    return x.transpose(1, 2).flatten(2)


def run_layers(model: LiteTrack, layers: list[Layer], template: Tensor, template_box: Tensor,
               search: Tensor, collect_qkv: bool = False) -> Trace:
    """Run ``model``'s embeddings and head around ``layers`` (its own or mixed blocks).

    With ``model_layers(model)`` this computes what ``encode_template`` +
    ``track_search`` compute, and also returns the intermediate search tokens.
    """
    attended = iter(model.template_pass(template, template_box, layers=layers)[1])
    x = model.backbone.embed_search(search.to(model.dtype))
    outputs, qkv = [], []
    for block, interaction in layers:
        if interaction:
            template_k, template_v = block.template_kv(next(attended))
            if collect_qkv:
                q, k, v = block.attn.project_qkv(block.norm1(x))
                qkv.append(tuple(_merge(t) for t in (q, k, v, template_k, template_v)))
            x = block.forward_interaction(x, template_k, template_v)
        else:
            x = block(x)
        outputs.append(x)
    return Trace(model.head(x), outputs, qkv)


def split_stages(num_layers: int, num_stages: int) -> list[range]:
    """Split layers 0..n-1 into ``num_stages`` consecutive, near-equal stages."""
    if not 1 <= num_stages <= num_layers:
        raise DistillError(f'cannot split {num_layers} layers into {num_stages} stages')
    bounds = [index * num_layers // num_stages for index in range(num_stages + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(num_stages)]


# --------------------------------------------------------------------------- teachers


class TeacherOutput(NamedTuple):
    """A teacher's view of a batch: maps on its own grid, LiteTrack internals if it has them.

    ``features`` is the head's input as (B, C, F, F) on the maps' grid when the teacher
    gives it (LightTrack's fused features): ``--distill maps`` then also matches the
    student's last search tokens to it (see :class:`Distiller`).
    """

    maps: HeadOutput
    trace: Trace | None = None
    features: Tensor | None = None


class Teacher(Protocol):
    """What the distiller needs from a teacher (crop sizes it wants, and its outputs)."""

    name: str
    template_size: int
    search_size: int

    def run(self, template: Tensor, template_box: Tensor, search: Tensor,
            collect_qkv: bool = False) -> TeacherOutput:
        """Return the teacher's maps for crops at its own sizes (no gradient)."""


class LiteTrackTeacher:
    """A frozen LiteTrack (any checkpoint ``load_model`` reads) in eval mode."""

    def __init__(self, model: LiteTrack, name: str = 'litetrack') -> None:
        self.model = model.float().eval().requires_grad_(False)
        self.name = name
        self.template_size = model.config.template_size
        self.search_size = model.config.search_size

    @classmethod
    def load(cls, path: Path) -> LiteTrackTeacher:
        """Load a teacher checkpoint."""
        return cls(load_model(path), name=Path(path).name)

    def to(self, device: torch.device) -> LiteTrackTeacher:
        """Move the network to ``device``."""
        self.model.to(device)
        return self

    @torch.no_grad()
    def run(self, template: Tensor, template_box: Tensor, search: Tensor,
            collect_qkv: bool = False) -> TeacherOutput:
        """Run the teacher on crops at its sizes, with its intermediate tokens."""
        trace = run_layers(self.model, model_layers(self.model), template, template_box, search,
                           collect_qkv)
        return TeacherOutput(trace.maps, trace)


def lighttrack_maps(output: SiamOutput, search_size: int,
                    stride: int = LightTrackConfig.stride) -> HeadOutput:
    """Re-express LightTrack's maps as a LiteTrack head's, on the same F x F grid.

    Both grids put cell k at position k / F of the search crop (LightTrack's grid point
    of cell k is ``(k - F // 2) * stride + S // 2``, i.e. ``k * S / F`` when ``S = F *
    stride``), so each cell keeps its box: the centre ``grid point + (r - l) / 2`` becomes
    an offset in cells, the width ``l + r`` a fraction of the crop; the score is the
    sigmoid of the logits.  LightTrack's classification is positive on the cells inside
    the target (not a peak at its centre), which the score distillation passes on.
    """
    size = output.ltrb.shape[-1]
    points = grid_points(size, search_size, stride).to(output.ltrb.device, torch.float32)
    cells = torch.arange(size, device=points.device, dtype=torch.float32)
    left, top, right, bottom = output.ltrb.float().unbind(1)
    centre_x = points.view(1, 1, size) + (right - left) / 2
    centre_y = points.view(1, size, 1) + (bottom - top) / 2
    offsets = torch.stack((centre_x * size / search_size - cells.view(1, 1, size),
                           centre_y * size / search_size - cells.view(1, size, 1)), dim=1)
    sizes = torch.stack((left + right, top + bottom), dim=1) / search_size
    clamp = (SIGMOID_EPS, 1 - SIGMOID_EPS)  # as LiteTrack's head clamps its maps
    return HeadOutput(output.scores.float().clamp(*clamp), sizes.clamp(*clamp), offsets)


class LightTrackTeacher:
    """A frozen LightTrack-M: its maps as LiteTrack's (:func:`lighttrack_maps`).

    The crops are the batch's at 128/256 px (the student's crop factors, which for a
    square target are LightTrack's SiamFC context); BatchNorms are folded into the
    convolutions.  It has no interaction layers, so only ``--distill maps`` uses it.
    """

    feature_channels = FUSED_CHANNELS  # the head's input, which ``run`` returns as features

    def __init__(self, network: LightTrack, name: str = 'lighttrack') -> None:
        self.network = network.float().eval().requires_grad_(False).fused()
        self.name = name
        self.template_size = network.config.template_size
        self.search_size = network.config.search_size

    def to(self, device: torch.device) -> LightTrackTeacher:
        """Move the network to ``device``."""
        self.network.to(device)
        return self

    @torch.no_grad()
    def run(self, template: Tensor, template_box: Tensor, search: Tensor,
            collect_qkv: bool = False) -> TeacherOutput:
        """Run LightTrack on crops at its sizes; the template box is implied (centred)."""
        output, fused = self.network.teacher_outputs(template.float(), search.float())
        return TeacherOutput(lighttrack_maps(output, self.search_size), features=fused.float())


class OnnxMapsTeacher:
    """An external tracker in ONNX: ``template`` and ``search`` in, score/size/offset out.

    Inputs are ImageNet-normalised RGB crops (as LiteTrack's); the outputs are told apart
    by their names when they contain 'score'/'size'/'offset', else taken in that order.
    The network has no template-box input: the target fills the middle of the template
    crop (cut ``template_factor`` = 2 times around it), which is what these trackers expect.
    """

    def __init__(self, path: Path, name: str = 'onnx', threads: int = 1) -> None:
        try:
            import onnxruntime  # noqa: PLC0415 - optional
        except ImportError as error:
            raise DistillError('ONNX teachers need onnxruntime (pip install onnxruntime)') \
                from error
        if not Path(path).is_file():
            raise DistillError(f'teacher {path} does not exist')
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options,
                                                    providers=['CPUExecutionProvider'])
        inputs = {item.name: item.shape for item in self.session.get_inputs()}
        if set(inputs) != {'template', 'search'}:
            raise DistillError(f'{path}: expected inputs template and search, '
                               f'got {sorted(inputs)}')
        self.template_size = int(inputs['template'][-1])
        self.search_size = int(inputs['search'][-1])
        self.batched = not isinstance(inputs['search'][0], int) or inputs['search'][0] != 1
        outputs = [item.name for item in self.session.get_outputs()]
        if len(outputs) != 3:
            raise DistillError(f'{path}: expected 3 outputs (score, size, offset), got {outputs}')
        named = [next((o for o in outputs if key in o.lower()), None)
                 for key in ('score', 'size', 'offset')]
        self.output_names = named if None not in named and len(set(named)) == 3 else outputs
        self.name = name

    def to(self, device: torch.device) -> OnnxMapsTeacher:
        """Nothing to move: the session runs on the CPU; outputs go back to the inputs' device."""
        return self

    @torch.no_grad()
    def run(self, template: Tensor, template_box: Tensor, search: Tensor,
            collect_qkv: bool = False) -> TeacherOutput:
        """Run the session (one crop at a time when its batch dimension is fixed at 1)."""
        templates = template.detach().float().cpu().numpy()
        searches = search.detach().float().cpu().numpy()
        chunks = [slice(None)] if self.batched else [slice(i, i + 1)
                                                     for i in range(len(searches))]
        results = [self.session.run(self.output_names, {'template': templates[chunk],
                                                        'search': searches[chunk]})
                   for chunk in chunks]
        score, size, offset = (torch.from_numpy(np.concatenate([r[i] for r in results]))
                               .to(search.device) for i in range(3))
        return TeacherOutput(HeadOutput(score.float(), size.float(), offset.float()))


# External adapters by kind, for ``--teacher onnx:KIND=PATH``; each returns a Teacher.
EXTERNAL_TEACHERS: dict[str, Callable[[Path], Teacher]] = {
    'vittrack': lambda path: OnnxMapsTeacher(path, name='vittrack'),
    'maps': lambda path: OnnxMapsTeacher(path, name='onnx-maps'),
}


def open_teacher(spec: str) -> Teacher:
    """Open ``--teacher``: LiteTrack/LightTrack checkpoint, IR folder or ``onnx:KIND=PATH``."""
    if spec.startswith('onnx:'):
        kind, separator, path = spec.removeprefix('onnx:').partition('=')
        if not separator or kind not in EXTERNAL_TEACHERS:
            raise DistillError(f'bad --teacher {spec!r}: use onnx:KIND=PATH with KIND one of '
                               f'{sorted(EXTERNAL_TEACHERS)}')
        return EXTERNAL_TEACHERS[kind](Path(path))
    path = Path(spec)
    if not path.exists():
        raise DistillError(f'teacher checkpoint {spec} does not exist')
    network = load_model(path)  # a checkpoint file, or the LightTrack-M OpenVINO IR folder
    if isinstance(network, LightTrack):
        return LightTrackTeacher(network, name=path.name)
    return LiteTrackTeacher(network, name=path.name)


def teacher_crops(batch: dict[str, Tensor], teacher: Teacher) -> tuple[Tensor, Tensor]:
    """Return the batch's template and search regions at the teacher's sizes.

    The data pipeline cuts them from the frames when told the teacher's sizes; otherwise
    the student's crops are resized (which shows the teacher no extra detail).
    """
    crops = []
    for key, size in (('template', teacher.template_size), ('search', teacher.search_size)):
        crop = batch.get(f'teacher_{key}')
        if crop is None or crop.shape[-1] != size:
            crop = batch[key]
            if crop.shape[-1] != size:
                crop = F.interpolate(crop.float(), size=(size, size), mode='bilinear',
                                     align_corners=False, antialias=size < crop.shape[-1])
        crops.append(crop)
    return crops[0], crops[1]


# --------------------------------------------------------------------------- the distiller


@dataclass(frozen=True)
class DistillSettings:
    """How to distil (see the module docstring)."""

    method: str = 'maps'
    weight: float = 1.0
    feature_weight: float = 1.0  # maps: the head-input mimicking term, for teachers with features
    replace_prob: float = 0.5
    replace_steps: int = 0
    progressive_steps: int = 0
    stages: int | None = None  # default: the student's depth

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise DistillError(f'unknown distillation method {self.method!r}; use one of '
                               f'{list(METHODS)}')
        if self.weight < 0 or self.feature_weight < 0 or not 0 <= self.replace_prob <= 1:
            raise DistillError('distillation weights must be >= 0 and replace-prob in [0, 1]')
        if self.replace_steps < 0 or self.progressive_steps < 0:
            raise DistillError('replace-steps and progressive-steps must be >= 0')

    def replacement_probability(self, step: int) -> float:
        """``replace_prob`` for ``replace_steps`` steps, then a linear fall to 0."""
        if step < self.replace_steps:
            return self.replace_prob
        if step < self.replace_steps + self.progressive_steps:
            done = (step - self.replace_steps + 1) / (self.progressive_steps + 1)
            return self.replace_prob * (1 - done)
        return 0.0


class Distiller(nn.Module):
    """Runs the student on a batch and returns its maps with the distillation loss.

    Its own parameters (LoReTrack's width projections) train with the student; the
    teacher is held outside the module tree, so it is never optimised nor saved.
    """

    def __init__(self, teacher: Teacher, student: LiteTrack, settings: DistillSettings,
                 seed: int = 0) -> None:
        super().__init__()
        self.settings = settings
        self.teacher = teacher
        self.random = random.Random(seed)
        teacher_model = getattr(teacher, 'model', None)
        if settings.method in ('loretrack', 'compress') and teacher_model is None:
            raise DistillError(f'--distill {settings.method} needs a LiteTrack teacher; '
                               f'{teacher.name} only gives maps (use --distill maps)')
        self.projections = nn.ModuleList()
        self.stage_pairs: list[tuple[range, range]] = []
        # maps: the student's last search tokens, projected to the teacher's head input.
        channels = getattr(teacher, 'feature_channels', None)
        self.feature_projection = (
            nn.Linear(student.config.embed_dim, channels)
            if settings.method == 'maps' and channels and settings.feature_weight > 0 else None)
        if settings.method == 'loretrack':
            self._build_projections(student.config.embed_dim, teacher_model.config.embed_dim,
                                    student.config.num_interaction)
        if settings.method == 'compress':
            self._build_stages(student, teacher_model)

    def _build_projections(self, student_dim: int, teacher_dim: int, layers: int) -> None:
        for _ in range(layers * 5):  # q_x, k_x, v_x, k_z, v_z per interaction layer
            self.projections.append(nn.Identity() if student_dim == teacher_dim
                                    else nn.Linear(student_dim, teacher_dim))

    def _build_stages(self, student: LiteTrack, teacher: LiteTrack) -> None:
        if student.config.embed_dim != teacher.config.embed_dim:
            raise DistillError(
                f'--distill compress replaces student stages by teacher stages, so the widths '
                f'must match: student {student.config.embed_dim}, teacher '
                f'{teacher.config.embed_dim} (use --distill loretrack or maps)')
        stages = self.settings.stages or student.config.depth
        self.stage_pairs = list(zip(split_stages(student.config.depth, stages),
                                    split_stages(teacher.config.depth, stages), strict=True))

    def to_device(self, device: torch.device) -> Distiller:
        """Move the projections and the teacher to ``device``."""
        self.to(device)
        self.teacher.to(device)
        return self

    def mixed_layers(self, student: LiteTrack, replaced: list[bool]) -> list[Layer]:
        """Student layers with the stages flagged in ``replaced`` taken from the teacher."""
        student_layers = model_layers(student)
        teacher_layers = model_layers(self.teacher.model)
        layers: list[Layer] = []
        for (own, theirs), replace in zip(self.stage_pairs, replaced, strict=True):
            if replace:
                layers.extend(teacher_layers[i] for i in theirs)
            else:
                layers.extend(student_layers[i] for i in own)
        return layers

    def forward(self, student: LiteTrack, batch: dict[str, Tensor],
                step: int) -> tuple[HeadOutput, Tensor]:
        """Return the student's maps (for the tracking loss) and the weighted distillation loss."""
        method = self.settings.method
        template, search = teacher_crops(batch, self.teacher)
        teacher = self.teacher.run(template, batch['template_box'], search,
                                   collect_qkv=method == 'loretrack')
        grid = student.config.search_feat_size
        if method == 'compress':
            probability = self.settings.replacement_probability(step)
            replaced = [self.random.random() < probability for _ in self.stage_pairs]
            trace = run_layers(student, self.mixed_layers(student, replaced), batch['template'],
                               batch['template_box'], batch['search'])
            loss = self._mimic_loss(trace, teacher.trace, replaced, grid)
            return trace.maps, self.settings.weight * loss

        trace = run_layers(student, model_layers(student), batch['template'],
                           batch['template_box'], batch['search'],
                           collect_qkv=method == 'loretrack')
        teacher_maps = resample_maps(teacher.maps, grid)
        if method == 'maps':
            loss = map_loss(trace.maps, teacher_maps, torch.ones_like(teacher_maps.score_map),
                            teacher_maps.score_map)
            if self.feature_projection is not None and teacher.features is not None:
                loss = loss + self.settings.feature_weight * self._feature_loss(
                    trace.tokens[-1], teacher.features, grid)
        else:
            region = target_region(batch['search_box'], grid)
            loss = map_loss(trace.maps, teacher_maps, region, region) + self._qkv_loss(
                trace, teacher.trace, student.config.template_feat_size, grid)
        return trace.maps, self.settings.weight * loss

    def _feature_loss(self, tokens: Tensor, features: Tensor, grid: int) -> Tensor:
        # FitNets-style hint at the head's input: (B, N, C_s) tokens -> the teacher's C_t,
        # the teacher's (B, C_t, F, F) map resampled to the student's grid.
        teacher_tokens = resample_tokens(features.flatten(2).transpose(1, 2), grid)
        return normalised_mse(self.feature_projection(tokens), teacher_tokens)

    def _qkv_loss(self, student: Trace, teacher: Trace, template_grid: int,
                  search_grid: int) -> Tensor:
        losses = []
        for layer, own in enumerate(student.qkv):
            # Pair the student's interaction layers with the teacher's, evenly from the end.
            index = round((layer + 1) * len(teacher.qkv) / len(student.qkv)) - 1
            for part, (mine, theirs) in enumerate(zip(own, teacher.qkv[index], strict=True)):
                grid = search_grid if part < 3 else template_grid
                projected = self.projections[layer * 5 + part](mine)
                losses.append(normalised_mse(projected, resample_tokens(theirs, grid)))
        return torch.stack(losses).mean()

    def _mimic_loss(self, student: Trace, teacher: Trace, replaced: list[bool],
                    grid: int) -> Tensor:
        losses, end = [], 0
        for (own, theirs), replace in zip(self.stage_pairs, replaced, strict=True):
            end += len(theirs) if replace else len(own)
            if not replace:
                target = resample_tokens(teacher.tokens[theirs[-1]], grid)
                losses.append(F.mse_loss(student.tokens[end - 1].float(), target.float()))
        if not losses:  # every stage was the teacher's
            return student.maps.score_map.new_zeros(())
        return torch.stack(losses).mean()
