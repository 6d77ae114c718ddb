# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Presence and re-detection in Tracker: absent reported, the target found again elsewhere.

The stand-in network finds the generated target (the only pixels where red exceeds
green) in each search crop of a batch, and scores it by how much of it the crop holds:
a crop without it scores the floor, as a presence-trained network should.
"""

import math
from types import SimpleNamespace

from litetrack_ros.model.config import ModelConfig
from litetrack_ros.model.head import HeadOutput
from litetrack_ros.tracking.redetect import count_tiles, search_tiles
from litetrack_ros.tracking.tracker import Tracker
import numpy as np
import pytest
from sequences import render_target, TARGET_RED_MINUS_GREEN
import torch

MEAN = torch.tensor((0.485, 0.456, 0.406)).view(3, 1, 1)
STD = torch.tensor((0.229, 0.224, 0.225)).view(3, 1, 1)
FLOOR = 1e-4
IMAGE_HW = (240, 320)
FIRST_BOX = (40.0, 100.0, 40.0, 36.0)
RETURN_BOX = (250.0, 30.0, 40.0, 36.0)  # 5 target sizes from where it left


class PresenceNet:
    """Finds the red target in every crop of a batch; the score is the share of it in view."""

    def __init__(self, search_size=128, template_size=64, **stored):
        self.config = SimpleNamespace(search_size=search_size, template_size=template_size,
                                      search_factor=4.0, **stored)
        self.batch_sizes = []

    def encode_template(self, template, box_xyxy):
        """Nothing to encode: the target is known by its colour."""
        return 'template'

    def track_search(self, state, search):
        """Answer each crop of the batch with the target's box and its share in view."""
        self.batch_sizes.append(search.shape[0])
        cells = self.config.search_size // 16
        batch = search.shape[0]
        score = torch.full((batch, 1, cells, cells), FLOOR)
        size = torch.full((batch, 2, cells, cells), 0.25)
        offset = torch.full((batch, 2, cells, cells), 0.5)
        for item in range(batch):
            rgb = search[item].float() * STD + MEAN
            coverage = ((rgb[0] - rgb[1]) * 255 / TARGET_RED_MINUS_GREEN).clamp(0, 1)
            coverage[coverage < 0.02] = 0
            area = float(coverage.sum())
            if area < 4:
                continue
            side = search.shape[-1]
            centres = torch.arange(side, dtype=torch.float32) + 0.5
            cx = float((coverage.sum(0) * centres).sum() / area) / side
            cy = float((coverage.sum(1) * centres).sum() / area) / side
            height = float(coverage.sum(0).max())
            ix, iy = min(int(cx * cells), cells - 1), min(int(cy * cells), cells - 1)
            score[item, 0, iy, ix] = min(0.95, area / (side * side / 16))
            size[item, :, iy, ix] = torch.tensor((area / height / side, height / side))
            offset[item, :, iy, ix] = torch.tensor((cx * cells - ix, cy * cells - iy))
        return HeadOutput(score_map=score, size_map=size, offset_map=offset)


def iou_xywh(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    inter = (max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
             * max(0.0, min(ay + ah, by + bh) - max(ay, by)))
    return inter / (aw * ah + bw * bh - inter)


def leave_and_return_scene(seed=0):
    """10 frames with the target, 20 without (it left), 15 with it back elsewhere."""
    rng = np.random.default_rng(seed)
    grey = np.clip(rng.normal(120, 25, IMAGE_HW), 0, 255)
    background = np.repeat(grey[..., None], 3, axis=2)
    frames, boxes = [], []
    for index in range(45):
        if index < 10:
            box = (FIRST_BOX[0] + 2 * index, FIRST_BOX[1], *FIRST_BOX[2:])
        elif index < 30:
            box = None
        else:
            box = (RETURN_BOX[0] - (index - 30), RETURN_BOX[1] + (index - 30), *RETURN_BOX[2:])
        frames.append(render_target(background, box) if box else
                      np.round(background).astype(np.uint8))
        boxes.append(box)
    return frames, boxes


def run(tracker, frames, boxes):
    tracker.initialize(frames[0], boxes[0])
    return [tracker.track(frame) for frame in frames[1:]]


def test_absent_is_reported_and_the_target_is_found_again_elsewhere():
    frames, boxes = leave_and_return_scene()
    net = PresenceNet()
    tracker = Tracker(net, lost_threshold=0.3, lost_frames=3, redetect_threshold=0.5,
                      redetect_tiles=4)
    results = run(tracker, frames, boxes)
    truth = boxes[1:]
    absent = [r for r, box in zip(results, truth, strict=True) if box is None]
    # Reported absent from the third missed frame on, through the whole absence.
    assert [r.lost for r in absent[:2]] == [False, False]
    assert all(r.lost and r.state == 'searching' for r in absent[2:])
    # Back at frame 30, 5 target sizes away: found within one sweep of the frame's tiles.
    back = results[29:]
    sweep = math.ceil(count_tiles(IMAGE_HW, math.sqrt(40 * 36) * 4) / 4)
    recovered = next(i for i, r in enumerate(back) if not r.lost)
    assert recovered <= sweep, [r.state for r in back]
    for result, box in zip(back[recovered:], truth[29 + recovered:], strict=True):
        assert result.state == 'tracking'
        assert iou_xywh(result.box_xywh, box) > 0.7, (result, box)
    # Bounded cost: never more than 4 tiles in one call.
    assert max(net.batch_sizes) == 4


def test_a_network_compiled_for_batch_one_gets_one_tile_per_call():
    frames, boxes = leave_and_return_scene()
    net = PresenceNet()
    net.batch_one_only = True
    tracker = Tracker(net, lost_threshold=0.3, lost_frames=3, redetect_threshold=0.5,
                      redetect_tiles=4)
    results = run(tracker, frames, boxes)
    assert max(net.batch_sizes) == 1
    assert not results[-1].lost  # found all the same


def test_without_global_search_the_far_return_is_not_found():
    frames, boxes = leave_and_return_scene()
    tracker = Tracker(PresenceNet(), lost_threshold=0.3, lost_frames=3, redetect_tiles=0)
    results = run(tracker, frames, boxes)
    assert all(r.lost and r.state == 'lost' for r in results[29:])


def test_hysteresis_needs_the_redetect_threshold_to_resume():
    frames, boxes = leave_and_return_scene()
    # The returned target scores at most 0.95: a resume threshold above it never resumes.
    tracker = Tracker(PresenceNet(), lost_threshold=0.3, lost_frames=3, redetect_threshold=0.97,
                      redetect_tiles=4)
    results = run(tracker, frames, boxes)
    assert all(r.lost for r in results[11:])
    assert tracker.resume_threshold == pytest.approx(0.97)


def test_presence_settings_come_from_the_weights_unless_given():
    net = PresenceNet(lost_threshold=0.4, redetect_threshold=0.6, redetect_tiles=2,
                      lost_frames=2)
    tracker = Tracker(net)
    assert (tracker.lost_threshold, tracker.resume_threshold, tracker.redetect_tiles) == \
        (0.4, 0.6, 2)
    assert tracker.lost_frames == 2
    tracker.set_presence_setting('lost_frames', 7)
    tracker.set_presence_setting('lost_frames', None)  # back to the stored value
    assert tracker.lost_frames == 2
    with pytest.raises(ValueError, match='lost_frames'):
        tracker.set_presence_setting('lost_frames', 0)
    tracker = Tracker(net, lost_threshold=0.2, redetect_threshold=0.3, redetect_tiles=0)
    assert (tracker.lost_threshold, tracker.resume_threshold, tracker.redetect_tiles) == \
        (0.2, 0.3, 0)
    plain = Tracker(PresenceNet())  # nothing stored: the old behaviour
    assert (plain.lost_threshold, plain.resume_threshold, plain.redetect_tiles) == (0.25, 0.25, 0)
    with pytest.raises(ValueError, match='redetect_tiles'):
        Tracker(PresenceNet(), redetect_tiles=-1)
    with pytest.raises(ValueError, match='lost_threshold'):
        ModelConfig(lost_threshold=1.5)
    with pytest.raises(ValueError, match='redetect_tiles'):
        ModelConfig(redetect_tiles=2.5)
    assert ModelConfig(redetect_tiles=8).architecture == ModelConfig()


def test_redetect_from_verifies_outside_candidates():
    frames, boxes = leave_and_return_scene()
    tracker = Tracker(PresenceNet(), lost_threshold=0.3, lost_frames=3, redetect_threshold=0.5)
    results = run(tracker, frames[:31], boxes[:31])
    assert results[-1].lost
    # A box on background is refused, and so is a malformed one; nothing changes.
    assert tracker.redetect_from(frames[30], [(150, 150, 40, 36), (0, 0, -5, 3)]) is None
    assert tracker.state == 'lost'
    # A detector's rough box around the target: verified, and tracking resumes there.
    rough = (RETURN_BOX[0] - 12, RETURN_BOX[1] + 8, 50, 30)
    result = tracker.redetect_from(frames[30], [(150, 150, 40, 36), rough])
    assert result is not None and result.state == 'tracking' and not result.lost
    assert result.frame_index == 30
    assert iou_xywh(result.box_xywh, boxes[30]) > 0.7
    following = tracker.track(frames[31])
    assert not following.lost and iou_xywh(following.box_xywh, boxes[31]) > 0.7
    with pytest.raises(RuntimeError):
        Tracker(PresenceNet()).redetect_from(frames[0], [boxes[0]])


def test_tiles_cover_the_frame_to_its_borders_nearest_first():
    box = (10.0, 10.0, 20.0, 20.0)
    tiles = search_tiles((240, 320), box, 80.0)
    assert len(tiles) == count_tiles((240, 320), 80.0)
    centres = np.array([(x + w / 2, y + h / 2) for x, y, w, h in tiles])
    # Every pixel lies inside a tile's region; between the outer centres, within a quarter
    # region of a centre (where the network's window still lets it through).
    grid = np.stack(np.meshgrid(np.arange(0, 320, 4), np.arange(0, 240, 4)), -1).reshape(-1, 2)
    reach = np.abs(grid[:, None, :] - centres[None, :, :]).max(axis=2).min(axis=1)
    assert reach.max() <= 40
    inner = ((grid >= centres.min(axis=0)) & (grid <= centres.max(axis=0))).all(axis=1)
    assert reach[inner].max() <= 20
    distances = np.hypot(centres[:, 0] - 20, centres[:, 1] - 20)
    assert np.all(np.diff(distances) >= -1e-9)
    assert search_tiles((50, 60), box, 100.0) == [(20.0, 15.0, 20.0, 20.0)]


def test_presence_settings_travel_with_converted_weights(tmp_path):
    from litetrack_ros.cli import convert
    from litetrack_ros.model import LiteTrack
    from litetrack_ros.model.checkpoint import save_safetensors
    from litetrack_ros.tracking.runtime import build_tracker
    config = ModelConfig(depth=1, num_interaction=1, embed_dim=32, num_heads=1,
                         template_size=32, search_size=64, head_channels=16)
    save_safetensors(LiteTrack(config), tmp_path / 'in.safetensors', config)
    status = convert.main([str(tmp_path / 'in.safetensors'), str(tmp_path / 'out.safetensors'),
                           '--tracking', 'lost_threshold=0.35', '--tracking', 'lost_frames=2',
                           '--tracking', 'redetect_threshold=0.45',
                           '--tracking', 'redetect_tiles=6'])
    assert status == 0
    tracker, _ = build_tracker(tmp_path / 'out.safetensors', device='cpu', precision='fp32')
    assert (tracker.lost_threshold, tracker.lost_frames, tracker.resume_threshold,
            tracker.redetect_tiles) == (0.35, 2, 0.45, 6)
    assert convert.main([str(tmp_path / 'in.safetensors'), str(tmp_path / 'bad.safetensors'),
                         '--tracking', 'redetect_tiles=2.5']) == 2


def test_default_weights_report_absent_and_find_the_target_again_in_generated_scenes():
    """images/scenes.py videos: 15 frames, 20 of another scene, then the scene 40 frames on."""
    from pathlib import Path

    from litetrack_ros.images import scenes
    from litetrack_ros.tracking.runtime import build_tracker
    weights = Path(__file__).resolve().parents[1] / 'weights' / 'litetrack_default_s.safetensors'
    options = scenes.SceneOptions(min_target_size=0.12, max_target_size=0.2, max_distractors=0,
                                  occlusion_probability=0.0, blur_probability=0.0,
                                  min_period=60.0)
    for seed, far in ((0, False), (1, True)):
        scene = scenes.random_scene(seed, 80, (240, 320), material=False, options=options)
        other = scenes.random_scene(100 + seed, 80, (240, 320), material=False, options=options)
        shown = ([scene.render(i) for i in range(15)] + [other.render(i) for i in range(20)]
                 + [scene.render(i) for i in range(55, 70)])
        truth = [r.box_xywh if i < 15 or i >= 35 else None for i, r in enumerate(shown)]
        last, back = truth[14], truth[35]
        distance = math.hypot(back[0] - last[0], back[1] - last[1]) / math.sqrt(last[2] * last[3])
        assert (distance > 3) == far  # seed 1's target comes back 5 sizes away
        tracker, _ = build_tracker(weights, device='cpu', precision='fp32')
        tracker.initialize(shown[0].image, truth[0])
        results = [tracker.track(r.image) for r in shown[1:]]
        # Absent from the second frame without the target (lost_frames 2 with the weights).
        assert all(r.lost for r in results[15:34]), [r.state for r in results[14:34]]
        assert results[15].state == 'searching'
        # Found again within 3 frames of the return, then tracked.
        found = next(i for i, r in enumerate(results[34:]) if not r.lost)
        assert found <= 3
        for result, box in zip(results[34 + found:], truth[35 + found:], strict=True):
            assert iou_xywh(result.box_xywh, box) > 0.5
