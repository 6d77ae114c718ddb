# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the training side: data layouts, targets, losses, the CLI and pruning."""

import csv
import json
from pathlib import Path
import time

import cv2
from litetrack_ros.images import scenes
from litetrack_ros.model import LiteTrack
from litetrack_ros.model.checkpoint import load_model, save_safetensors
from litetrack_ros.model.config import ModelConfig, SMALL_VARIANTS, VARIANTS
from litetrack_ros.tracking.geometry import map_box_back
from litetrack_ros.tracking.tracker import Tracker
from litetrack_ros.train import cli, prune
from litetrack_ros.train.data import (
    box_in_search_crop,
    open_source,
    PairDataset,
    ProcessingParams,
    read_boxes,
    SyntheticSource,
)
from litetrack_ros.train.targets import (
    build_targets,
    gaussian_heatmap,
    generalized_iou,
    tracking_loss,
)
from litetrack_ros.train.trainer import build_model, MODEL_VARIANTS
import numpy as np
import pytest
import torch

FRAMES = 6
FRAME_SIZE = (72, 96)
MICRO = ['--variant', 'micro', '--batch-size', '2', '--no-progress', '--threads', '1']


def render_sequence(seed):
    """Render a short synthetic video: frames and boxes."""
    scene = scenes.random_scene(seed, FRAMES, FRAME_SIZE, material=False,
                                options=scenes.SceneOptions(min_target_size=0.25,
                                                            max_target_size=0.35))
    rendered = [scene.render(i) for i in range(FRAMES)]
    return [r.image for r in rendered], np.array([r.box_xywh for r in rendered])


def write_frames(folder, frames, name_format='{:08d}.jpg', start=1):
    folder.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        cv2.imwrite(str(folder / name_format.format(index + start)), frame[:, :, ::-1])


def write_boxes(path, boxes, separator=','):
    path.write_text(''.join(separator.join(f'{v:.2f}' for v in box) + '\n' for box in boxes))


def make_got10k(root):
    for i in range(2):
        frames, boxes = render_sequence(i)
        folder = root / 'train' / f'GOT-10k_Train_{i + 1:06d}'
        write_frames(folder, frames)
        write_boxes(folder / 'groundtruth.txt', boxes)
        (folder / 'absence.label').write_text('0\n' * FRAMES)


def make_lasot(root):
    for i in range(2):
        frames, boxes = render_sequence(10 + i)
        folder = root / 'cup' / f'cup-{i + 1}'
        write_frames(folder / 'img', frames)
        write_boxes(folder / 'groundtruth.txt', boxes)
        (folder / 'full_occlusion.txt').write_text(','.join(['0'] * FRAMES))
        (folder / 'out_of_view.txt').write_text(','.join(['0'] * FRAMES))


def make_trackingnet(root):
    for i in range(2):
        frames, boxes = render_sequence(20 + i)
        write_frames(root / 'TRAIN_0' / 'frames' / f'video{i}', frames, '{}.jpg', start=0)
        (root / 'TRAIN_0' / 'anno').mkdir(parents=True, exist_ok=True)
        write_boxes(root / 'TRAIN_0' / 'anno' / f'video{i}.txt', boxes)


def make_simple(root):
    for i in range(2):
        frames, boxes = render_sequence(30 + i)
        write_frames(root / f'seq{i}' / 'img', frames)
        write_boxes(root / f'seq{i}' / 'groundtruth.txt', boxes, separator='\t')


def make_coco(root):
    images, annotations = [], []
    for i in range(2):
        frames, boxes = render_sequence(40 + i)
        write_frames(root / 'train2017', frames[:1], 'img{:d}.jpg', start=i)
        images.append({'id': i, 'file_name': f'img{i}.jpg', 'height': FRAME_SIZE[0],
                       'width': FRAME_SIZE[1]})
        annotations.append({'id': i, 'image_id': i, 'bbox': boxes[0].tolist(), 'iscrowd': 0,
                            'category_id': 1})
        annotations.append({'id': 100 + i, 'image_id': i, 'bbox': [0, 0, 2, 2], 'iscrowd': 0,
                            'category_id': 1})  # too small: skipped
    (root / 'annotations').mkdir(parents=True)
    (root / 'annotations' / 'instances_train2017.json').write_text(
        json.dumps({'images': images, 'annotations': annotations}))


LAYOUTS = {'got10k': make_got10k, 'lasot': make_lasot, 'trackingnet': make_trackingnet,
           'simple': make_simple, 'coco': make_coco}


def read_log(path):
    with open(path, newline='') as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize('kind', sorted(LAYOUTS))
def test_train_runs_on_every_dataset_layout(tmp_path, kind):
    LAYOUTS[kind](tmp_path / 'data')
    out = tmp_path / 'run'
    status = cli.main(['--data', f'{kind}={tmp_path / "data"}', '--steps', '3', '--out', str(out),
                       '--log-every', '1', '--save-every', '3', *MICRO])
    assert status == 0
    rows = read_log(out / 'losses.csv')
    assert [int(row['step']) for row in rows] == [1, 2, 3]
    assert all(np.isfinite(float(row['loss'])) for row in rows)
    assert (out / 'losses.png').is_file()
    net = load_model(out / 'weights_last.safetensors')
    tracker = Tracker(net)
    frames, boxes = render_sequence(99)
    tracker.initialize(frames[0], boxes[0])
    assert len(tracker.track(frames[1]).box_xywh) == 4


def test_train_runs_on_synthetic_data_and_resumes(tmp_path):
    out = tmp_path / 'run'
    common = ['--data', 'synthetic', '--synthetic-heights', '64,80', '--out', str(out),
              '--log-every', '1', '--save-every', '2', *MICRO]
    assert cli.main(['--steps', '2', *common]) == 0
    assert cli.main(['--steps', '4', '--resume', str(out / 'checkpoint_last.pth'), *common]) == 0
    assert [int(row['step']) for row in read_log(out / 'losses.csv')] == [1, 2, 3, 4]
    state = torch.load(out / 'checkpoint_last.pth', weights_only=True)
    assert state['step'] == 4


def test_init_weights_are_resized_to_the_requested_crop_sizes(tmp_path):
    config = MODEL_VARIANTS['micro']
    stored = LiteTrack(config)
    path = tmp_path / 'micro.safetensors'
    save_safetensors(stored, path)
    model = build_model(config.replace(template_size=48, search_size=96), path)
    assert (model.config.template_size, model.config.search_size) == (48, 96)
    assert model.backbone.pos_embed_z.shape[1] == 3 * 3
    assert model.backbone.pos_embed_x.shape[1] == 6 * 6
    # Everything but the position embeddings starts from the stored weights.
    torch.testing.assert_close(model.backbone.blocks[0].attn.qkv.weight,
                               stored.backbone.blocks[0].attn.qkv.weight)
    frames, boxes = render_sequence(5)
    tracker = Tracker(model)
    tracker.initialize(frames[0], boxes[0])
    assert len(tracker.track(frames[1]).box_xywh) == 4


def test_trained_crop_factors_travel_with_the_weights(tmp_path):
    out = tmp_path / 'run'
    assert cli.main(['--data', 'synthetic', '--synthetic-heights', '64,80', '--steps', '1',
                     '--search-factor', '5', '--out', str(out), *MICRO]) == 0
    tracker = Tracker(load_model(out / 'weights_last.safetensors'))
    assert (tracker.template_factor, tracker.search_factor) == (2.0, 5.0)


def test_train_rejects_bad_arguments(tmp_path, capsys):
    assert cli.main(['--data', f'got10k={tmp_path / "missing"}', *MICRO]) == 2
    assert cli.main(['--data', 'imagenet=/x', *MICRO]) == 2
    assert cli.main(['--data', 'synthetic', '--search-factor', '0', *MICRO]) == 2
    assert cli.main(['--data', 'synthetic', '--embed-dim', '30', '--num-heads', '4',
                     *MICRO]) == 2
    assert 'error' in capsys.readouterr().err


def test_two_hundred_steps_lower_the_loss(tmp_path):
    out = tmp_path / 'run'
    started = time.monotonic()
    status = cli.main(['--data', 'synthetic', '--synthetic-heights', '64,80',
                       '--pairs-per-scene', '8', '--variant', 'micro', '--steps', '200',
                       '--batch-size', '16', '--lr', '2e-3', '--backbone-lr-mult', '1',
                       '--grad-clip', '1', '--log-every', '20', '--save-every', '200',
                       '--out', str(out), '--no-progress', '--threads', '2'])
    elapsed = time.monotonic() - started
    assert status == 0
    losses = [float(row['loss']) for row in read_log(out / 'losses.csv')]
    assert len(losses) == 10
    # Rows average 20 steps each; compare the first 40 steps with the last 40.
    assert np.mean(losses[-2:]) < 0.8 * np.mean(losses[:2]), losses
    assert elapsed < 60, f'200 micro steps took {elapsed:.0f} s'


def test_pair_dataset_is_deterministic():
    params = ProcessingParams(template_size=32, search_size=64)
    first = PairDataset([SyntheticSource(seed=5, frame_heights=(64, 80))], params, seed=5)
    second = PairDataset([SyntheticSource(seed=5, frame_heights=(64, 80))], params, seed=5)
    for index in (0, 3, 7):
        a, b = first[index], second[index]
        assert torch.equal(a.search, b.search) and torch.equal(a.search_box, b.search_box)
        assert torch.equal(a.template, b.template)
        assert a.search.shape == (3, 64, 64) and a.template.shape == (3, 32, 32)
        assert torch.all((a.search_box[:2] >= 0) & (a.search_box[:2] < 1))


def test_search_target_is_the_inverse_of_map_box_back():
    rng = np.random.default_rng(0)
    for _ in range(20):
        box = np.concatenate((rng.uniform(0, 300, 2), rng.uniform(5, 80, 2)))
        crop_box = np.concatenate((box[:2] + rng.uniform(-20, 20, 2), box[2:] * 1.1))
        side = np.ceil(np.sqrt(crop_box[2] * crop_box[3]) * 4)
        resize_factor = 128 / side
        target = box_in_search_crop(box, crop_box, resize_factor, 128)
        np.testing.assert_allclose(map_box_back(target, crop_box, 128, resize_factor), box,
                                   atol=1e-9)


def test_heatmap_peaks_at_the_rounded_center_with_value_one():
    heatmap = gaussian_heatmap(np.array([0.5, 0.3, 0.4, 0.3]), 16)
    assert heatmap.max() == 1.0
    row, column = np.unravel_index(heatmap.argmax(), heatmap.shape)
    assert (column, row) == (8, 5)  # round(0.5 * 16), round(0.3 * 16)
    assert (heatmap > 0).sum() > 1  # a Gaussian, not a single cell, for a large box
    tiny = gaussian_heatmap(np.array([0.99, 0.01, 0.01, 0.01]), 16)
    assert tiny[0, 15] == 1.0 and (tiny > 0).sum() == 1  # clamped onto the grid


def test_loss_is_small_for_a_perfect_prediction():
    boxes = torch.tensor([[0.4, 0.55, 0.2, 0.3]])
    targets = build_targets(boxes, 8)
    column, row = targets.cells[0].tolist()
    score = targets.heatmap.clamp(1e-4, 1 - 1e-4)
    size = torch.zeros(1, 2, 8, 8)
    size[0, :, row, column] = boxes[0, 2:]
    offset = torch.zeros(1, 2, 8, 8)
    offset[0, 0, row, column] = 0.4 * 8 - column
    offset[0, 1, row, column] = 0.55 * 8 - row
    from litetrack_ros.model.head import HeadOutput
    terms = tracking_loss(HeadOutput(score, size, offset), targets)
    assert terms.l1 < 1e-6 and terms.giou < 1e-6 and terms.iou > 0.999
    giou, iou = generalized_iou(torch.tensor([[0., 0, 1, 1]]), torch.tensor([[2., 0, 3, 1]]))
    assert iou.item() == 0 and giou.item() == pytest.approx(-1 / 3)


def test_read_boxes_accepts_separators_and_missing_values(tmp_path):
    path = tmp_path / 'groundtruth.txt'
    path.write_text('1,2,3,4\n5\t6\t7\t8\nNaN,NaN,NaN,NaN\n9 10 11 12\n')
    boxes = read_boxes(path)
    assert boxes.shape == (4, 4)
    assert np.isnan(boxes[2]).all()
    np.testing.assert_array_equal(boxes[3], [9, 10, 11, 12])


def test_open_source_counts_sequences(tmp_path):
    make_lasot(tmp_path / 'lasot')
    assert len(open_source('lasot', tmp_path / 'lasot')) == 2
    make_coco(tmp_path / 'coco')
    assert len(open_source('coco', tmp_path / 'coco')) == 2


# --------------------------------------------------------------------------- pruning

NARROW_B9 = ModelConfig(depth=9, num_interaction=3, embed_dim=32, num_heads=2,
                        template_size=32, search_size=64, head_channels=16)


@pytest.mark.parametrize(('keep', 'interaction'), [('0,1,2,5,7,8', 3), ('0,3,6,8', 2)])
def test_prune_builds_a_loadable_shallower_model(tmp_path, keep, interaction):
    torch.manual_seed(0)
    deep = LiteTrack(NARROW_B9).eval()
    save_safetensors(deep, tmp_path / 'b9.safetensors')
    out = tmp_path / 'pruned.safetensors'
    assert prune.main([str(tmp_path / 'b9.safetensors'), str(out), '--keep', keep,
                       '--interaction', str(interaction)]) == 0
    shallow = load_model(out)
    kept = prune.parse_keep(keep)
    assert shallow.config.depth == len(kept)
    assert shallow.config.num_interaction == interaction
    for new, old in enumerate(kept):
        assert torch.equal(shallow.backbone.blocks[new].mlp.fc1.weight,
                           deep.backbone.blocks[old].mlp.fc1.weight)
    assert torch.equal(shallow.box_head.conv5_ctr.weight, deep.box_head.conv5_ctr.weight)
    frames, boxes = render_sequence(1)
    tracker = Tracker(shallow)
    tracker.initialize(frames[0], boxes[0])
    assert np.isfinite(tracker.track(frames[1]).box_xywh).all()


def test_prune_maps_the_official_b9_layout_to_b6():
    with torch.device('meta'):
        b9_keys = list(LiteTrack(VARIANTS['B9']).state_dict())
        b6_keys = set(LiteTrack(VARIANTS['B6']).state_dict())
    # Distinct tiny tensors stand in for the real weights: only the mapping is checked.
    b9 = {key: torch.tensor([float(i)]) for i, key in enumerate(b9_keys)}
    keep = [0, 1, 2, 5, 7, 8]
    b6, config = prune.prune_state_dict(b9, VARIANTS['B9'], keep, 3)
    assert config == VARIANTS['B6']
    assert set(b6) == b6_keys
    for key, value in b6.items():
        if key.startswith('backbone.blocks.'):
            index, rest = key.removeprefix('backbone.blocks.').split('.', 1)
            assert value is b9[f'backbone.blocks.{keep[int(index)]}.{rest}']
        else:
            assert value is b9[key]


def test_prune_rejects_bad_selections(tmp_path):
    save_safetensors(LiteTrack(NARROW_B9), tmp_path / 'b9.safetensors')
    for keep in ('', '0,0,1', '2,1', '0,9'):
        assert prune.main([str(tmp_path / 'b9.safetensors'), str(tmp_path / 'x.safetensors'),
                           '--keep', keep]) == 2
    assert prune.main([str(tmp_path / 'b9.safetensors'), str(tmp_path / 'x.safetensors'),
                       '--keep', '0,1', '--interaction', '3']) == 2
    assert not (tmp_path / 'x.safetensors').exists()


def test_eval_hook_runs_litetrack_eval(tmp_path):
    pytest.importorskip('litetrack_ros.evaluation.cli')
    make_simple(tmp_path / 'data')
    out = tmp_path / 'run'
    status = cli.main(['--data', f'simple={tmp_path / "data"}', '--steps', '2',
                       '--eval-dataset', str(tmp_path / 'data'), '--eval-every', '2',
                       '--eval-max-frames', '3', '--out', str(out), *MICRO])
    assert status == 0
    assert (out / 'eval' / 'step0000002').is_dir()
    assert Path(out / 'weights_step0000002.safetensors').is_file()


def test_init_from_another_architecture_is_refused(tmp_path):
    path = tmp_path / 'c3.safetensors'
    save_safetensors(LiteTrack(SMALL_VARIANTS['C3']), path)
    # The weights would load into a C3 with other tracking settings or crops...
    model = build_model(SMALL_VARIANTS['C3'].replace(search_size=192, size_update_rate=0.5),
                        path)
    assert model.config.search_size == 192 and model.config.template_kv == 'layer'
    # ...but a config that computes another network is refused, naming both.
    with pytest.raises(ValueError, match='C3 network, not the custom'):
        build_model(SMALL_VARIANTS['C3'].replace(template_kv='final'), path)
