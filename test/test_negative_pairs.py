# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Negative pairs in training: search crops without the target teach the score to mean presence."""

import csv

from litetrack_ros.model.head import HeadOutput
from litetrack_ros.model.litetrack import LiteTrack
from litetrack_ros.train import cli
from litetrack_ros.train.data import (
    box_in_search_crop,
    collate,
    far_crop_box,
    PairDataset,
    ProcessingParams,
    SyntheticSource,
)
from litetrack_ros.train.targets import build_targets, tracking_loss
from litetrack_ros.train.trainer import MODEL_VARIANTS
import numpy as np
import pytest
import torch

PARAMS = {'template_size': 32, 'search_size': 64}


def test_negative_samples_are_flagged_and_their_heatmap_is_zero():
    dataset = PairDataset([SyntheticSource(seed=3, frame_heights=(64, 80))],
                          ProcessingParams(**PARAMS, negative_probability=0.5), seed=3)
    samples = [dataset[i] for i in range(16)]
    present = torch.stack([s.present for s in samples])
    assert 0 < int(present.sum()) < 16  # both kinds drawn
    targets = build_targets(torch.stack([s.search_box for s in samples]), 8, present)
    assert torch.all(targets.heatmap[~targets.present] == 0)
    assert torch.all(targets.heatmap[targets.present].flatten(1).amax(1) == 1)
    # Without negatives every sample shows its target.
    plain = PairDataset([SyntheticSource(seed=3, frame_heights=(64, 80))],
                        ProcessingParams(**PARAMS), seed=3)
    assert all(float(plain[i].present) == 1 for i in range(4))


def test_far_crop_misses_the_target():
    rng = np.random.default_rng(0)
    box = np.array([50.0, 60.0, 20.0, 10.0])
    for _ in range(20):
        crop = far_crop_box(rng, box, (240, 320), 4.0)
        assert crop is not None
        side = np.sqrt(crop[2] * crop[3]) * 4.0
        target = box_in_search_crop(box, crop, 64 / side, 64)
        centre_x, centre_y, width, height = target
        # The whole target box lies outside the crop.
        assert (centre_x + width / 2 <= 0 or centre_x - width / 2 >= 1
                or centre_y + height / 2 <= 0 or centre_y - height / 2 >= 1)
    assert far_crop_box(rng, np.array([0.0, 0.0, 100.0, 100.0]), (100, 100), 4.0) is None


def test_box_losses_ignore_negative_samples():
    boxes = torch.tensor([[0.4, 0.55, 0.2, 0.3], [0.5, 0.5, 0.25, 0.25]])
    present = torch.tensor([1.0, 0.0])
    targets = build_targets(boxes, 8, present)
    score = torch.full((2, 1, 8, 8), 0.3)
    size = torch.full((2, 2, 8, 8), 0.2)
    offset = torch.zeros(2, 2, 8, 8)
    first = tracking_loss(HeadOutput(score, size, offset), targets)
    size[1] = 0.9  # a wildly wrong box on the negative sample changes nothing
    second = tracking_loss(HeadOutput(score, size, offset), targets)
    assert first.l1 == second.l1 and first.giou == second.giou
    assert first.absent_score.item() == pytest.approx(0.3)
    only_negative = build_targets(boxes[1:], 8, present[1:])
    terms = tracking_loss(HeadOutput(score[1:].requires_grad_(), size[1:], offset[1:]),
                          only_negative)
    terms.total.backward()  # focal alone, still differentiable
    assert terms.l1 == 0


def peak_scores(model, batch):
    state = model.encode_template(batch['template'], batch['template_box'])
    return model.track_search(state, batch['search']).score_map.flatten(1).amax(1)


def test_score_falls_on_crops_without_the_target_after_a_few_steps_with_negatives():
    torch.manual_seed(0)
    # micro's 16 head channels leave 2 in the last ReLU layer, often dead: a wider head
    model = LiteTrack(MODEL_VARIANTS['micro'].replace(head_channels=64))
    dataset = PairDataset([SyntheticSource(seed=7, frame_heights=(64, 80))],
                          ProcessingParams(**PARAMS, negative_probability=0.5), seed=7)
    batch = collate([dataset[i] for i in range(16)])
    absent = batch['present'] < 0.5
    assert absent.any() and (~absent).any()
    with torch.no_grad():
        before = peak_scores(model, batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(40):
        state = model.encode_template(batch['template'], batch['template_box'])
        output = model.track_search(state, batch['search'])
        terms = tracking_loss(output, build_targets(batch['search_box'], 4, batch['present']))
        optimizer.zero_grad()
        terms.total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    with torch.no_grad():
        after = peak_scores(model, batch)  # batch statistics, as in training
    assert after[absent].mean() < 0.6 * before[absent].mean(), (before, after)
    # The score means presence: well below the score on the crops that show the target.
    assert after[absent].max() < 0.7 * after[~absent].mean(), (after, absent)


def test_train_logs_the_score_on_negative_pairs(tmp_path):
    logs = {}
    for probability in (0.5, 0.0):
        out = tmp_path / str(probability)
        status = cli.main(['--data', 'synthetic', '--synthetic-heights', '64,80',
                           '--variant', 'micro', '--steps', '4', '--batch-size', '8',
                           '--log-every', '2', '--negative-prob', str(probability),
                           '--out', str(out), '--no-progress', '--threads', '1'])
        assert status == 0
        with open(out / 'losses.csv', newline='') as file:
            logs[probability] = [float(row['absent_score']) for row in csv.DictReader(file)]
    assert len(logs[0.5]) == 2 and all(0 < value < 1 for value in logs[0.5])
    assert logs[0.0] == [0.0, 0.0]  # no negative pair drawn


def test_negative_prob_out_of_range_is_a_usage_error(tmp_path, capsys):
    status = cli.main(['--data', 'synthetic', '--variant', 'micro', '--negative-prob', '1.5',
                       '--out', str(tmp_path)])
    assert status == 2
    assert '--negative-prob' in capsys.readouterr().err
