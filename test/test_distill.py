# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of distillation in litetrack-train: teachers, map resampling, the three methods."""

import copy
import csv
import json
from pathlib import Path

import cv2
from litetrack_ros.model import LiteTrack
from litetrack_ros.model.checkpoint import save_safetensors
from litetrack_ros.model.config import ModelConfig
from litetrack_ros.model.head import decode_boxes, HeadOutput
from litetrack_ros.model.lighttrack import LightTrack, SiamOutput
from litetrack_ros.model.litetrack import enable_flush_denormal
from litetrack_ros.tracking.geometry import crop_square, normalize_image
from litetrack_ros.train import cli, pseudo_label
from litetrack_ros.train.data import (
    image_files,
    PairDataset,
    ProcessingParams,
    read_boxes,
    SyntheticSource,
)
from litetrack_ros.train.distill import (
    Distiller,
    DistillError,
    DistillSettings,
    lighttrack_maps,
    LightTrackTeacher,
    LiteTrackTeacher,
    model_layers,
    OnnxMapsTeacher,
    open_teacher,
    resample_maps,
    resample_tokens,
    run_layers,
    split_stages,
    target_region,
)
from litetrack_ros.train.targets import gaussian_heatmap, peak_cell
from litetrack_ros.train.trainer import MODEL_VARIANTS, train, TrainSettings
import numpy as np
import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / 'shared' / 'data'
VITTRACK = SHARED_DATA / 'peers' / 'vitTracker_2023-09-08.onnx'
LIGHTTRACK_IR = SHARED_DATA / 'teachers' / 'lighttrack_m_openvino'
MICRO = MODEL_VARIANTS['micro']  # depth 2 (1 interaction), width 32, 32/64 px crops
# A wider, deeper teacher at a higher resolution (the "B9 at 256 px -> B4 at 128 px" case).
WIDE_TEACHER = ModelConfig(depth=3, num_interaction=2, embed_dim=48, num_heads=2,
                           template_size=48, search_size=96, head_channels=16)
# Same width as the student, deeper: stage replacement needs equal widths.
DEEP_TEACHER = ModelConfig(depth=4, num_interaction=2, embed_dim=32, num_heads=2,
                           template_size=32, search_size=64, head_channels=16)
TRAIN_ARGS = ['--data', 'synthetic', '--synthetic-heights', '64,80', '--pairs-per-scene', '8',
              '--variant', 'micro', '--batch-size', '4', '--lr', '2e-3',
              '--backbone-lr-mult', '1', '--grad-clip', '1', '--log-every', '1',
              '--no-progress', '--threads', '1']
STEPS = 30


def random_batch(config, size=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return {
        'template': torch.randn(size, 3, config.template_size, config.template_size,
                                generator=generator),
        'template_box': torch.tensor([[0.25, 0.25, 0.75, 0.75]]).repeat(size, 1),
        'search': torch.randn(size, 3, config.search_size, config.search_size,
                              generator=generator),
        'search_box': torch.tensor([[0.5, 0.5, 0.25, 0.25]]).repeat(size, 1),
    }


def saved_model(config, path, seed):
    torch.manual_seed(seed)
    model = LiteTrack(config).eval()
    save_safetensors(model, path)
    return model


def distill_losses(out):
    with open(out / 'losses.csv', newline='') as file:
        return [float(row['distill']) for row in csv.DictReader(file)]


def assert_falls(losses):
    assert len(losses) >= 10 and all(np.isfinite(losses)), losses
    ratio = np.mean(losses[-5:]) / np.mean(losses[:5])
    print(f'distillation loss, last 5 / first 5 steps: {ratio:.2f}')
    assert ratio < 0.7, losses


# --------------------------------------------------------------------------- grids


@pytest.mark.parametrize('box', [(0.5, 0.5, 0.3, 0.2), (0.3, 0.62, 0.2, 0.25),
                                 (0.71, 0.18, 0.15, 0.3)])
def test_resampling_16_to_10_keeps_the_peak_on_the_target_and_the_box(box):
    box = np.array(box)
    cells = np.arange(16, dtype=np.float32)
    score = torch.from_numpy(gaussian_heatmap(box, 16)).clamp(1e-4, 1 - 1e-4)[None, None]
    size = torch.tensor(box[2:], dtype=torch.float32).view(1, 2, 1, 1).expand(1, 2, 16, 16)
    # Every cell points at the true centre, as a well-trained head does near the target.
    along_x = torch.from_numpy(box[0] * 16 - cells).float().view(1, 16).expand(16, 16)
    along_y = torch.from_numpy(box[1] * 16 - cells).float().view(16, 1).expand(16, 16)
    offset = torch.stack((along_x, along_y))
    teacher = HeadOutput(score, size.contiguous(), offset[None])
    student = resample_maps(teacher, 10)
    assert student.score_map.shape == (1, 1, 10, 10) and student.offset_map.shape == (1, 2, 10, 10)
    row, column = np.unravel_index(student.score_map[0, 0].argmax().item(), (10, 10))
    assert (column, row) == peak_cell(box, 10)
    decoded, _ = decode_boxes(*student)
    np.testing.assert_allclose(decoded[0].numpy(), box, atol=1e-5)
    assert resample_maps(teacher, 16) is teacher


def test_resample_tokens_and_target_region():
    tokens = torch.arange(16.0).view(1, 16, 1).repeat(1, 1, 3)  # a 4 x 4 ramp
    coarse = resample_tokens(tokens, 2)
    assert coarse.shape == (1, 4, 3)
    torch.testing.assert_close(coarse[0, :, 0], torch.tensor([2.5, 4.5, 10.5, 12.5]))
    with pytest.raises(DistillError):
        resample_tokens(torch.zeros(1, 5, 3), 2)
    region = target_region(torch.tensor([[0.5, 0.25, 0.25, 0.12]]), 10, margin=0)
    rows, columns = torch.nonzero(region[0, 0], as_tuple=True)
    assert set(columns.tolist()) == {4, 5, 6} and set(rows.tolist()) == {2, 3}


def test_split_stages():
    assert split_stages(9, 4) == [range(0, 2), range(2, 4), range(4, 6), range(6, 9)]
    assert split_stages(4, 4) == [range(i, i + 1) for i in range(4)]
    with pytest.raises(DistillError):
        split_stages(2, 3)


# --------------------------------------------------------------------------- LiteTrack teachers


@pytest.mark.parametrize('config', [
    DEEP_TEACHER,
    # VitTrack's kind: conv stem, final norm, no target token, per-layer template keys.
    DEEP_TEACHER.replace(stem='conv', final_norm=True, target_token=False, template_kv='layer')])
def test_traced_pass_equals_track_search(config):
    torch.manual_seed(0)
    model = LiteTrack(config).eval()
    batch = random_batch(config)
    trace = run_layers(model, model_layers(model), batch['template'], batch['template_box'],
                       batch['search'], collect_qkv=True)
    expected = model.track_search(model.encode_template(batch['template'], batch['template_box']),
                                  batch['search'])
    for got, want in zip(trace.maps, expected, strict=True):
        torch.testing.assert_close(got, want)
    assert len(trace.tokens) == 4 and len(trace.qkv) == 2
    assert trace.qkv[0][0].shape == (2, 16, 32) and trace.qkv[0][3].shape == (2, 4, 32)


def test_replacement_with_p1_runs_the_teacher_stages_and_p0_the_student(tmp_path):
    teacher = LiteTrackTeacher(saved_model(DEEP_TEACHER, tmp_path / 't.safetensors', 1))
    torch.manual_seed(2)
    student = LiteTrack(MICRO).eval()
    batch = random_batch(MICRO)
    # Replacement for two steps at p = 1, then (no progressive phase) the student alone.
    distiller = Distiller(teacher, student, DistillSettings(
        method='compress', replace_prob=1.0, replace_steps=2, progressive_steps=0))
    assert [(list(a), list(b)) for a, b in distiller.stage_pairs] == [([0], [0, 1]), ([1], [2, 3])]
    replaced, _ = distiller(student, batch, step=0)
    # Reference: the student's embeddings and head around the teacher's blocks.
    reference = copy.deepcopy(student)
    reference.backbone.blocks = copy.deepcopy(teacher.model.backbone.blocks)
    reference.config = reference.config.replace(depth=4, num_interaction=2)
    expected = reference.track_search(
        reference.encode_template(batch['template'], batch['template_box']), batch['search'])
    torch.testing.assert_close(replaced.score_map, expected.score_map)
    torch.testing.assert_close(replaced.size_map, expected.size_map)
    own, loss = distiller(student, batch, step=2)
    alone = student.track_search(student.encode_template(batch['template'],
                                                         batch['template_box']), batch['search'])
    torch.testing.assert_close(own.score_map, alone.score_map)
    assert loss.item() > 0
    assert not torch.allclose(own.score_map, replaced.score_map)


def test_replacement_probability_schedule():
    settings = DistillSettings(method='compress', replace_prob=0.6, replace_steps=10,
                               progressive_steps=4)
    probabilities = [settings.replacement_probability(step) for step in range(16)]
    assert probabilities[:10] == [0.6] * 10
    assert probabilities[10:14] == pytest.approx([0.48, 0.36, 0.24, 0.12])
    assert probabilities[14:] == [0.0, 0.0]


def test_loretrack_distillation_lowers_its_loss_and_keeps_the_teacher_frozen(tmp_path):
    saved_model(WIDE_TEACHER, tmp_path / 'teacher.safetensors', 3)
    teacher = open_teacher(str(tmp_path / 'teacher.safetensors'))
    before = {k: v.clone() for k, v in teacher.model.state_dict().items()}
    torch.manual_seed(0)
    student = LiteTrack(MICRO)
    distiller = Distiller(teacher, student, DistillSettings(method='loretrack'))
    # Width 32 -> 48: a learned projection per interaction layer and part (q, k, v, k_z, v_z).
    assert len(distiller.projections) == 5
    params = ProcessingParams(template_size=32, search_size=64, teacher_template_size=48,
                              teacher_search_size=96)
    dataset = PairDataset([SyntheticSource(seed=0, pairs_per_scene=8, frame_heights=(64, 80))],
                          params)
    assert dataset[0].teacher_search.shape == (3, 96, 96)  # cut at the teacher's resolution
    torch.set_num_threads(1)
    enable_flush_denormal()
    settings = TrainSettings(steps=STEPS, batch_size=4, lr=2e-3, backbone_lr_multiplier=1,
                             grad_clip=1, log_every=1, save_every=STEPS)
    train(student, dataset, settings, tmp_path / 'run', torch.device('cpu'), progress=False,
          distiller=distiller)
    assert_falls(distill_losses(tmp_path / 'run'))
    for key, value in teacher.model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(not p.requires_grad for p in teacher.model.parameters())
    # The command line does the same; loretrack is the default for a LiteTrack teacher.
    out = tmp_path / 'cli'
    assert cli.main([*TRAIN_ARGS, '--steps', '2', '--out', str(out),
                     '--teacher', str(tmp_path / 'teacher.safetensors')]) == 0
    assert all(value > 0 for value in distill_losses(out))
    state = torch.load(out / 'checkpoint_last.pth', weights_only=True)
    assert state['settings']['extra']['distill'] == 'loretrack'
    assert state['distiller']['projections.0.weight'].shape == (48, 32)


def test_litetrack_train_compress_lowers_the_mimicking_loss(tmp_path):
    saved_model(DEEP_TEACHER, tmp_path / 'teacher.safetensors', 4)
    out = tmp_path / 'run'
    assert cli.main([*TRAIN_ARGS, '--steps', str(STEPS), '--out', str(out),
                     '--teacher', str(tmp_path / 'teacher.safetensors'), '--distill', 'compress',
                     '--replace-prob', '0.5', '--replace-steps', '6',
                     '--progressive-steps', '6']) == 0
    assert_falls(distill_losses(out))
    state = torch.load(out / 'checkpoint_last.pth', weights_only=True)
    assert state['settings']['extra']['distill'] == 'compress'


def test_litetrack_train_rejects_impossible_distillation(tmp_path, capsys):
    saved_model(WIDE_TEACHER, tmp_path / 'wide.safetensors', 0)
    common = [*TRAIN_ARGS, '--steps', '1', '--out', str(tmp_path / 'run')]
    assert cli.main([*common, '--teacher', str(tmp_path / 'wide.safetensors'),
                     '--distill', 'compress']) == 2
    assert 'widths must match: student 32, teacher 48' in capsys.readouterr().err
    assert cli.main([*common, '--teacher', str(tmp_path / 'missing.safetensors')]) == 2
    assert 'does not exist' in capsys.readouterr().err
    assert cli.main([*common, '--teacher', 'onnx:lighttrack=/x.onnx']) == 2
    assert 'onnx:KIND=PATH' in capsys.readouterr().err
    assert cli.main([*common, '--distill', 'maps']) == 2
    assert '--distill needs --teacher' in capsys.readouterr().err


# --------------------------------------------------------------------------- external teachers


class MapsOnly(torch.nn.Module):
    """A LiteTrack with VitTrack's interface: template and search in, three maps out."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, template, search):
        """Return score, size and offset maps for a centred template."""
        box = torch.tensor([[0.25, 0.25, 0.75, 0.75]]).expand(template.shape[0], 4)
        return tuple(self.model.track_search(self.model.encode_template(template, box), search))


def export_onnx(model, path):
    pytest.importorskip('onnx')
    pytest.importorskip('onnxruntime')
    config = model.config
    inputs = (torch.randn(1, 3, config.template_size, config.template_size),
              torch.randn(1, 3, config.search_size, config.search_size))
    torch.onnx.export(MapsOnly(model).eval(), inputs, str(path),
                      input_names=['template', 'search'],
                      output_names=['score', 'size', 'offset'], dynamo=False)


def test_onnx_teacher_matches_the_network_and_its_maps_distil(tmp_path):
    model = saved_model(WIDE_TEACHER, tmp_path / 'wide.safetensors', 5)
    export_onnx(model, tmp_path / 'external.onnx')
    teacher = OnnxMapsTeacher(tmp_path / 'external.onnx')
    assert (teacher.template_size, teacher.search_size) == (48, 96)
    batch = random_batch(WIDE_TEACHER, size=3)
    maps = teacher.run(batch['template'], batch['template_box'], batch['search']).maps
    expected = MapsOnly(model).eval()(batch['template'], batch['search'])
    for got, want in zip(maps, expected, strict=True):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)

    out = tmp_path / 'run'
    # A random teacher's maps are noise, slow to learn: a stronger pull than the labels'.
    assert cli.main([*TRAIN_ARGS, '--steps', str(STEPS), '--out', str(out), '--lr', '5e-3',
                     '--distill-weight', '10',
                     '--teacher', f'onnx:maps={tmp_path / "external.onnx"}']) == 0
    assert_falls(distill_losses(out))
    assert cli.main([*TRAIN_ARGS, '--steps', '1', '--out', str(out), '--distill', 'loretrack',
                     '--teacher', f'onnx:maps={tmp_path / "external.onnx"}']) == 2


def test_lighttrack_maps_keep_every_cells_box_in_litetrack_terms():
    # Every cell of a 16 x 16 LightTrack grid (S 256, stride 16) points at one box.
    box = np.array([141.0, 97.0, 60.0, 34.0])  # centre x, y, width, height in crop px
    points = torch.arange(16, dtype=torch.float32) * 16  # grid point of cell k
    gx, gy = points.view(1, 16).expand(16, 16), points.view(16, 1).expand(16, 16)
    ltrb = torch.stack((gx - (box[0] - box[2] / 2), gy - (box[1] - box[3] / 2),
                        box[0] + box[2] / 2 - gx, box[1] + box[3] / 2 - gy))[None]
    logits = torch.full((1, 1, 16, 16), -5.0)
    logits[0, 0, 6, 8] = 3.0  # the cell holding the centre (row 97 / 16, column 141 / 16)
    maps = lighttrack_maps(SiamOutput(logits, ltrb), 256)
    assert maps.score_map.shape == (1, 1, 16, 16) and maps.size_map.shape == (1, 2, 16, 16)
    torch.testing.assert_close(maps.score_map[0, 0, 6, 8], torch.sigmoid(torch.tensor(3.0)))
    decoded, score = decode_boxes(*maps)
    np.testing.assert_allclose(decoded[0].numpy() * 256, box, atol=1e-3)
    # The same box is read at any cell, also after resampling to the student's 10 x 10 grid.
    centres = (torch.arange(16).view(1, 16) + maps.offset_map[0, 0]) / 16
    torch.testing.assert_close(centres, torch.full((16, 16), box[0] / 256))
    small = resample_maps(maps, 10)
    decoded_small, _ = decode_boxes(*small)
    np.testing.assert_allclose(decoded_small[0].numpy() * 256, box, atol=1e-3)


def test_a_lighttrack_checkpoint_is_a_maps_teacher_whose_loss_falls(tmp_path, capsys):
    torch.manual_seed(7)
    network = LightTrack().eval()
    save_safetensors(network, tmp_path / 'lighttrack.safetensors')
    teacher = open_teacher(str(tmp_path / 'lighttrack.safetensors'))
    assert isinstance(teacher, LightTrackTeacher)
    assert (teacher.template_size, teacher.search_size) == (128, 256)
    template, search = torch.randn(2, 3, 128, 128), torch.randn(2, 3, 256, 256)
    output = teacher.run(template, None, search)
    expected = lighttrack_maps(network.teacher_maps(template, search), 256)
    for got, want in zip(output.maps, expected, strict=True):  # BatchNorms folded: same maps
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    # The head's input comes with the maps, for the hint term.
    with torch.no_grad():
        fused = network.fuse(network.encode_template(template), search)
    assert output.features.shape == (2, 128, 16, 16)
    torch.testing.assert_close(output.features, fused, atol=1e-4, rtol=1e-4)
    assert all(not p.requires_grad for p in teacher.network.parameters())
    student = LiteTrack(MICRO)
    hinted = Distiller(teacher, student, DistillSettings(method='maps'))
    assert hinted.feature_projection.weight.shape == (128, MICRO.embed_dim)
    plain = Distiller(teacher, student, DistillSettings(method='maps', feature_weight=0))
    assert plain.feature_projection is None
    batch = random_batch(MICRO)
    batch['teacher_template'], batch['teacher_search'] = template, search
    _, with_hint = hinted(student, batch, 0)
    _, without = plain(student, batch, 0)
    assert with_hint.item() > without.item() > 0

    out = tmp_path / 'run'
    # The maps term (a random teacher's features are noise: the hint is checked above).
    assert cli.main([*TRAIN_ARGS, '--steps', str(STEPS), '--out', str(out), '--lr', '5e-3',
                     '--distill-weight', '10', '--feature-weight', '0',
                     '--teacher', str(tmp_path / 'lighttrack.safetensors')]) == 0
    assert 'distilling from lighttrack.safetensors (maps' in capsys.readouterr().err
    assert_falls(distill_losses(out))
    # No interaction layers to distil from.
    assert cli.main([*TRAIN_ARGS, '--steps', '1', '--out', str(out), '--distill', 'loretrack',
                     '--teacher', str(tmp_path / 'lighttrack.safetensors')]) == 2
    assert 'needs a LiteTrack teacher' in capsys.readouterr().err
    assert cli.main([*TRAIN_ARGS, '--steps', '1', '--out', str(out),
                     '--teacher', str(tmp_path)]) == 2
    assert 'OpenVINO IR' in capsys.readouterr().err


@pytest.mark.parametrize('spec,path', [
    (f'onnx:vittrack={VITTRACK}', VITTRACK),
    (str(LIGHTTRACK_IR), LIGHTTRACK_IR)], ids=['vittrack', 'lighttrack_ir'])
def test_external_teachers_find_the_target_on_real_crops(spec, path):
    if not path.exists() or not (SHARED_DATA / 'val').is_dir():
        pytest.skip(f'needs ../shared/data ({path.name} and val/)')
    if path.suffix == '.onnx':
        pytest.importorskip('onnxruntime')
    teacher = open_teacher(spec)
    assert (teacher.template_size, teacher.search_size) == (128, 256)
    sequences = sorted(p for p in (SHARED_DATA / 'val').iterdir() if p.is_dir())[:4]
    for sequence in sequences:
        boxes = read_boxes(sequence / 'groundtruth.txt')
        frames = image_files(sequence / 'img')
        first = cv2.imread(str(frames[0]))[:, :, ::-1]
        template, _ = crop_square(first, boxes[0], 2, 128)
        # The search crop is shifted so that the target sits off-centre.
        x, y, w, h = boxes[0]
        side = np.ceil(np.sqrt(w * h) * 4)
        shifted = np.array([x - 0.2 * side, y + 0.15 * side, w, h])
        search, _ = crop_square(first, shifted, 4, 256)
        maps = teacher.run(torch.from_numpy(normalize_image(template))[None], None,
                           torch.from_numpy(normalize_image(search))[None]).maps
        assert maps.score_map.shape == (1, 1, 16, 16)
        box, score = decode_boxes(*maps)
        truth_centre = np.array([0.5 + 0.2, 0.5 - 0.15])
        truth_size = np.array([w, h]) / side
        assert np.abs(box[0, :2].numpy() - truth_centre).max() < 1.5 / 16, sequence.name
        assert np.abs(box[0, 2:].numpy() - truth_size).max() < 0.1, sequence.name
        assert 0 < score.item() < 1


# --------------------------------------------------------------------------- pseudo-labels

SQUARE = 20


def square_box(index):
    return (8.0 + 3 * index, 20.0 + index, SQUARE, SQUARE)


def square_frame(index):
    """Draw frame ``index``: a textured square moving on a textured background (BGR)."""
    image = np.random.default_rng(0).integers(60, 120, (90, 140, 3), dtype=np.uint8)
    x, y, w, h = (int(v) for v in square_box(index))
    checker = (np.indices((h, w)).sum(axis=0) // 4 % 2 * 255).astype(np.uint8)
    image[y:y + h, x:x + w] = checker[..., None]
    image[y:y + h, x:x + w, 2] = 200
    return image


class Drifting:
    """A teacher that slides 4 px right every frame, whatever the video shows."""

    name = 'drifting'
    last_confidence = 0.9

    def init(self, image, box):
        """Start from ``box``."""
        self.box = tuple(box)

    def update(self, image):
        """Move right."""
        self.box = (self.box[0] + 4, *self.box[1:])
        return self.box


class Unsure(Drifting):
    """A teacher that does not move but is never confident."""

    last_confidence = 0.3

    def update(self, image):
        """Stay."""
        return self.box


class Oracle(Drifting):
    """A teacher that finds the square by its colour (exact on lossless frames)."""

    def update(self, image):
        """Box the pixels of the square."""
        rows, columns = np.nonzero(image[:, :, 2] == 200)
        self.box = (float(columns.min()), float(rows.min()),
                    float(columns.max() - columns.min() + 1), float(rows.max() - rows.min() + 1))
        return self.box


def test_pseudo_labels_chain_consistent_horizons_into_training_data(tmp_path):
    frames = ((index, square_frame(index)) for index in range(25))
    out = tmp_path / 'pseudo'
    checked = pseudo_label.pseudo_label(frames, square_box(0), Oracle(), out, 'video',
                                        horizon=10)
    assert [(h.start, h.accepted, len(h.boxes)) for h in checked] == [
        (0, True, 10), (9, True, 10), (18, True, 7)]  # horizons share their end frames
    segments = sorted(p for p in out.iterdir() if p.is_dir())
    assert [p.name for p in segments] == ['video_000000', 'video_000009', 'video_000018']
    for segment, first in zip(segments, (0, 9, 18), strict=True):
        boxes = read_boxes(segment / 'groundtruth.txt')
        assert len(boxes) == len(image_files(segment / 'img'))
        np.testing.assert_allclose(boxes, [square_box(first + i) for i in range(len(boxes))])
    # The output is training data as it is.
    assert cli.main([*TRAIN_ARGS[2:], '--data', f'simple={out}', '--steps', '1',
                     '--out', str(tmp_path / 'run')]) == 0


def test_pseudo_label_command_line(tmp_path, capsys):
    video = tmp_path / 'video'
    video.mkdir()
    for index in range(12):
        cv2.imwrite(str(video / f'{index:04d}.png'), square_frame(index))
    out = tmp_path / 'pseudo'
    # OpenCV's MIL lags a few pixels, so its forward-backward IoU is about 0.5 here.
    common = [str(video), '--box', ','.join(map(str, square_box(0))), '--tracker', 'mil',
              '--horizon', '6', '--out', str(out)]
    assert pseudo_label.main([*common, '--min-iou', '0.2', '--max-segments', '1']) == 0
    summary = json.loads((out / 'pseudo_labels.json').read_text())
    assert [h['accepted'] for h in summary['horizons']] == [True]
    assert len(read_boxes(out / 'video_000000' / 'groundtruth.txt')) == 6
    assert pseudo_label.main([*common, '--min-iou', '0.99']) == 1
    assert 'forward-backward IoU' in capsys.readouterr().err
    assert pseudo_label.main([*common, '--horizon', '1']) == 2
    assert pseudo_label.main([str(tmp_path / 'missing'), *common[1:]]) == 2
    with pytest.raises(SystemExit):
        pseudo_label.main([*common, '--box', '1,2,0,4'])


@pytest.mark.parametrize(('teacher', 'reason'), [(Drifting(), 'forward-backward IoU'),
                                                 (Unsure(), 'confidence 0.30')])
def test_pseudo_labels_reject_drift_and_low_confidence(tmp_path, teacher, reason):
    frames = ((index, square_frame(index)) for index in range(12))
    checked = pseudo_label.pseudo_label(frames, square_box(0), teacher, tmp_path, 'v',
                                        horizon=6)
    assert len(checked) == 1 and not checked[0].accepted
    assert reason in checked[0].reason
    assert not list(tmp_path.iterdir())  # nothing written
