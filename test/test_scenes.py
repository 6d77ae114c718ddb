# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the procedural scene generator (litetrack_ros.images.scenes)."""

from litetrack_ros.images import scenes
import numpy as np
import pytest

SMALL = (120, 160)


@pytest.fixture(scope='module')
def small_video():
    return scenes.render_scene_video(num_frames=40, size=SMALL, seed=3)


def test_render_scene_video_shapes(small_video):
    frames, boxes = small_video
    assert len(frames) == 40
    assert boxes.shape == (40, 4)
    assert boxes.dtype == np.float64
    for frame in frames:
        assert frame.shape == SMALL + (3,)
        assert frame.dtype == np.uint8


def test_render_scene_video_is_deterministic(small_video):
    frames, boxes = small_video
    again_frames, again_boxes = scenes.render_scene_video(num_frames=40, size=SMALL, seed=3)
    np.testing.assert_array_equal(boxes, again_boxes)
    for frame, again in zip(frames, again_frames, strict=True):
        np.testing.assert_array_equal(frame, again)
    other_frames, other_boxes = scenes.render_scene_video(num_frames=40, size=SMALL, seed=4)
    assert not np.array_equal(boxes, other_boxes)


def test_boxes_lie_inside_the_frame(small_video):
    _, boxes = small_video
    height, width = SMALL
    assert np.all(boxes[:, 2:] > 1)
    assert np.all(boxes[:, :2] >= 0)
    assert np.all(boxes[:, 0] + boxes[:, 2] <= width)
    assert np.all(boxes[:, 1] + boxes[:, 3] <= height)


@pytest.mark.parametrize('material', [False, None])
def test_target_pixels_lie_inside_their_box_which_they_fill(material):
    scene = scenes.random_scene(7, 30, SMALL, material=material,
                                options=scenes.SceneOptions(keep_inside=False))
    for index in range(0, 30, 3):
        rendered = scene.render(index)
        x, y, w, h = rendered.box_xywh
        rows, cols = np.nonzero(rendered.target_alpha > 0.5)
        if w < 1 or h < 1:
            assert rows.size == 0
            continue
        # Every pixel the target touches at all overlaps its box.
        any_rows, any_cols = np.nonzero(rendered.target_alpha > 0)
        assert any_cols.min() + 1 > x and any_cols.max() < x + w
        assert any_rows.min() + 1 > y and any_rows.max() < y + h
        # ... and the box is tight: the opaque part reaches (close to) every edge.
        assert cols.min() <= x + 1.5 and cols.max() + 1 >= x + w - 1.5
        assert rows.min() <= y + 1.5 and rows.max() + 1 >= y + h - 1.5


def test_demo_scene_has_an_occlusion_of_about_ten_frames():
    scene = scenes.demo_scene(num_frames=60, size=SMALL, seed=0)
    visible = np.array([scene.render(i).visible_fraction for i in range(60)])
    hidden = np.flatnonzero(visible < 0.5)
    assert 3 <= hidden.size <= 14
    assert np.all(np.abs(hidden - 0.55 * 60) < 10)
    assert visible[0] == pytest.approx(1.0)


def test_procedural_only_material_works_without_images():
    rng = np.random.default_rng(0)
    material = scenes.Material()
    background = scenes.make_background(rng, 50, 70, material)
    sprite = scenes.make_sprite(rng, material)
    assert background.shape == (50, 70, 3)
    assert sprite.rgb.shape[:2] == sprite.alpha.shape
    # Tightly cropped: the alpha reaches every edge.
    assert sprite.alpha[0].max() > 0 and sprite.alpha[-1].max() > 0
    assert sprite.alpha[:, 0].max() > 0 and sprite.alpha[:, -1].max() > 0


def test_composite_blends_only_inside_the_box():
    frame = np.zeros((40, 40, 3), np.float32)
    sprite = scenes.Sprite(np.full((8, 8, 3), 200, np.uint8), np.ones((8, 8), np.float32))
    placed = scenes.composite(frame, sprite, np.array([10.0, 12.0, 16.0, 8.0]))
    assert placed is not None
    np.testing.assert_allclose(frame[12:20, 10:26], 200, atol=1e-3)
    assert frame[:12].max() == 0 and frame[20:].max() == 0
    assert frame[:, :10].max() == 0 and frame[:, 26:].max() == 0
    # A half-covered pixel gets half the sprite.
    frame = np.zeros((40, 40, 3), np.float32)
    scenes.composite(frame, sprite, np.array([10.5, 12.0, 16.0, 8.0]))
    np.testing.assert_allclose(frame[15, 10], 100, atol=1e-3)


def test_motion_blur_and_lighting_keep_shape():
    image = np.random.default_rng(0).uniform(0, 255, (20, 30, 3)).astype(np.float32)
    blurred = scenes.motion_blur(image, 7.0, 0.3)
    assert blurred.shape == image.shape
    assert blurred.std() < image.std()
    lit = scenes.apply_lighting(image.copy(), np.array([1.2, 1.0, 0.8]), 5.0)
    np.testing.assert_allclose(lit[..., 0], image[..., 0] * 1.2 + 5, rtol=1e-5)


def test_bundled_material_reads_only_packaged_files():
    material = scenes.bundled_material()
    pytest.importorskip('skimage')
    assert len(material.photos) >= 5
    assert all(photo.ndim == 3 and photo.shape[2] == 3 for photo in material.photos)
