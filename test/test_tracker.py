# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tracker behaviour with stand-in networks whose answers are known exactly.

The stand-ins encode a chosen image box into score/size/offset maps using
their own, independent model of the search crop (side ``ceil(sqrt(w*h) * 4)``
with its corner at ``round(centre - side / 2)``), so a tracker that crops,
decodes or maps boxes back wrongly does not reproduce the box.
"""

import math
from types import SimpleNamespace
from typing import List, Optional, Sequence, Tuple

from litetrack_ros.model import LiteTrack, ModelConfig
from litetrack_ros.model.head import HeadOutput
from litetrack_ros.tracking.tracker import Tracker, TrackResult
import numpy as np
import pytest
from sequences import load_sequence, synthetic_sequence, TARGET_RED_MINUS_GREEN
import torch

SCORE_FLOOR = 1e-4  # the network's clamped sigmoid never goes lower
# The official pipeline maps boxes back as if the search crop were centred
# exactly on the previous box, but cuts it at a corner rounded to whole pixels:
# that <= 0.5 px is the only error an exact network leaves (plus float32 noise).
EXACT_TOLERANCE = 0.5 + 1e-3
MEAN = torch.tensor((0.485, 0.456, 0.406)).view(3, 1, 1)
STD = torch.tensor((0.229, 0.224, 0.225)).view(3, 1, 1)
BoxTuple = Tuple[float, float, float, float]


def search_crop_corner_and_side(search_box: Sequence[float],
                                factor: float = 4.0) -> Tuple[int, int, int]:
    """Return the search crop's top-left corner and side, as the official pipeline cuts it."""
    x, y, w, h = search_box
    side = math.ceil(math.sqrt(w * h) * factor)
    return round(x + w / 2 - side / 2), round(y + h / 2 - side / 2), side


class OracleNet:
    """Stand-in network that 'finds' whatever box it is told to in the search crop.

    Before each ``track`` the test calls ``expect(target, search_box, score)``;
    ``track_search`` then returns maps with a single peak of ``score`` at the
    cell of the target centre, carrying the exact sub-cell offset and size.
    """

    def __init__(self, search_size: int = 256, template_size: int = 128,
                 search_factor: float = 4.0) -> None:
        self.config = SimpleNamespace(search_size=search_size, template_size=template_size,
                                      search_factor=search_factor)
        self.templates: List[Tuple[torch.Tensor, torch.Tensor]] = []
        self.searches: List[torch.Tensor] = []
        self.target: Optional[BoxTuple] = None
        self.search_box: Optional[BoxTuple] = None
        self.score = 1 - SCORE_FLOOR

    def expect(self, target: Sequence[float], search_box: Sequence[float],
               score: float = 1 - SCORE_FLOOR) -> bool:
        """Set the next answer; return whether the maps can represent it exactly."""
        self.target = tuple(float(v) for v in target)
        self.search_box = tuple(float(v) for v in search_box)
        self.score = score
        fractions = self.target_in_crop()
        return all(0 <= f < 1 for f in fractions)

    def target_in_crop(self) -> BoxTuple:
        """Target (cx, cy, w, h) as fractions of the search crop."""
        crop_x, crop_y, side = search_crop_corner_and_side(self.search_box,
                                                           self.config.search_factor)
        x, y, w, h = self.target
        return ((x + w / 2 - crop_x) / side, (y + h / 2 - crop_y) / side, w / side, h / side)

    def encode_template(self, template: torch.Tensor, box_xyxy: torch.Tensor) -> str:
        """Record the template inputs."""
        assert torch.is_inference_mode_enabled()
        self.templates.append((template, box_xyxy))
        return 'template state'

    def track_search(self, state: str, search: torch.Tensor) -> HeadOutput:
        """Record the search crop and answer with the expected box."""
        assert torch.is_inference_mode_enabled()
        assert state == 'template state'
        self.searches.append(search)
        return self.maps_for(self.target_in_crop())

    def maps_for(self, box_cxcywh: Sequence[float]) -> HeadOutput:
        """Encode a box given in crop fractions like the network's head would."""
        cells = self.config.search_size // 16
        cx, cy, w, h = box_cxcywh
        ix = min(max(math.floor(cx * cells), 0), cells - 1)
        iy = min(max(math.floor(cy * cells), 0), cells - 1)
        score = torch.full((1, 1, cells, cells), SCORE_FLOOR)
        size = torch.full((1, 2, cells, cells), 0.5)
        offset = torch.full((1, 2, cells, cells), 0.5)
        score[0, 0, iy, ix] = self.score
        size[0, :, iy, ix] = torch.tensor((w, h))
        offset[0, :, iy, ix] = torch.tensor((cx * cells - ix, cy * cells - iy))
        return HeadOutput(score_map=score, size_map=size, offset_map=offset)


class ColourNet(OracleNet):
    """Stand-in that finds the synthetic target from the search crop's pixels alone.

    The synthetic target is the only place where red exceeds green, by exactly
    ``TARGET_RED_MINUS_GREEN``, so ``(R - G) / TARGET_RED_MINUS_GREEN`` of the
    de-normalised crop is the target's coverage of each crop pixel. Its
    centroid is the box centre; its total over the fullest column is the
    height, and the area over the height is the width.
    """

    def track_search(self, state: str, search: torch.Tensor) -> HeadOutput:
        """Answer with the box of the target's pixels in the search crop."""
        self.searches.append(search)
        rgb = search[0].float() * STD + MEAN
        coverage = ((rgb[0] - rgb[1]) * 255 / TARGET_RED_MINUS_GREEN).clamp(0, 1)
        coverage[coverage < 0.02] = 0  # uint8 rounding noise on the grey background
        size = search.shape[-1]
        centres = torch.arange(size, dtype=torch.float32) + 0.5
        area = coverage.sum()
        cx = float((coverage.sum(0) * centres).sum() / area) / size
        cy = float((coverage.sum(1) * centres).sum() / area) / size
        height = float(coverage.sum(0).max())
        width = float(area) / height
        return self.maps_for((cx, cy, width / size, height / size))


def is_clear_of_clip(box: Sequence[float], image_shape: Sequence[int], margin: float = 10):
    """Whether the clip rule leaves this box unchanged."""
    x, y, w, h = box
    height, width = image_shape[:2]
    return x >= 0 and y >= 0 and x + w <= width and y + h <= height and min(w, h) >= margin


def track_sequence_with(net: OracleNet, sequence, search_size: int, tolerance: float):
    """Track a sequence with an oracle told each next ground truth; return frames checked."""
    tracker = Tracker(net)
    assert tracker.search_size == search_size
    tracker.initialize(sequence.frame(0), sequence.boxes[0])
    checked = 0
    for index in range(1, len(sequence)):
        frame, truth = sequence.frame(index), sequence.boxes[index]
        representable = net.expect(truth, tracker.search_box)
        result = tracker.track(frame)
        assert result.frame_index == index
        if representable and is_clear_of_clip(truth, frame.shape):
            error = np.abs(np.subtract(result.box_xywh, truth)).max()
            assert error <= tolerance, f'{sequence.name} frame {index}: {result} vs {truth}'
            checked += 1
    return checked


@pytest.mark.parametrize('search_size', [128, 192, 256])
def test_geometry_is_exact_on_synthetic_sequence(search_size):
    sequence = synthetic_sequence()
    checked = track_sequence_with(OracleNet(search_size), sequence, search_size,
                                  tolerance=EXACT_TOLERANCE)
    assert checked == len(sequence) - 1


@pytest.mark.parametrize('search_factor', [3.0, 5.0])
def test_tracker_crops_with_the_network_search_factor(search_factor):
    # A model trained on other crop factors stores them in its config; cropping with
    # the default 4 instead would show it the target at the wrong scale.
    sequence = synthetic_sequence()
    net = OracleNet(128, search_factor=search_factor)
    checked = track_sequence_with(net, sequence, 128, tolerance=EXACT_TOLERANCE)
    assert checked == len(sequence) - 1
    template, _ = net.templates[0]
    assert template.shape[-1] == 128  # the template factor is untouched (default 2)


@pytest.mark.parametrize('name', ['bag', 'crossing'])
def test_geometry_is_exact_on_real_sequences(name):
    sequence = load_sequence(name)
    if sequence is None:
        pytest.skip(f'shared/data/sequences/{name} not available')
    checked = track_sequence_with(OracleNet(256), sequence, 256, tolerance=EXACT_TOLERANCE)
    # Nearly every frame must be checked, or the test proves nothing.
    assert checked >= 0.9 * (len(sequence) - 1)


@pytest.mark.parametrize('search_size', [128, 256])
def test_search_crop_pixels_show_the_target_where_the_geometry_says(search_size):
    # End to end through the pixels: crop, RGB order and normalisation are right
    # if a net that only looks at the crop reports the ground truth.
    sequence = synthetic_sequence()
    net = ColourNet(search_size)
    tracker = Tracker(net)
    tracker.initialize(sequence.frame(0), sequence.boxes[0])
    for index in range(1, len(sequence)):
        result = tracker.track(sequence.frame(index))
        np.testing.assert_allclose(result.box_xywh, sequence.boxes[index], atol=1.0,
                                   err_msg=f'frame {index}')


def test_template_crop_and_target_box_reach_the_network():
    sequence = synthetic_sequence(num_frames=2)
    net = OracleNet()
    tracker = Tracker(net)
    x, y, w, h = sequence.boxes[0]
    tracker.initialize(sequence.frame(0), (x, y, w, h))

    ((template, box_xyxy),) = net.templates
    assert template.shape == (1, 3, 128, 128)
    assert template.dtype == torch.float32
    side = math.ceil(math.sqrt(w * h) * 2)
    half_w, half_h = w / side / 2, h / side / 2
    centre = 63.5 / 128
    expected = [centre - half_w, centre - half_h, centre + half_w, centre + half_h]
    np.testing.assert_allclose(box_xyxy.numpy(), [expected], rtol=1e-5)
    # The template's centre pixel shows the target (red well above green).
    rgb_centre = template[0, :, 64, 64] * STD[:, 0, 0] + MEAN[:, 0, 0]
    assert rgb_centre[0] - rgb_centre[1] > 0.5
    assert tracker.box_xywh == pytest.approx(sequence.boxes[0])
    assert tracker.frame_index == 0


def test_hann_window_prefers_the_peak_near_the_previous_position():
    net = OracleNet()
    tracker = Tracker(net)
    tracker.initialize(make_frame(), (100, 80, 40, 30))
    corner_and_centre = net.maps_for((0.5 / 16, 0.5 / 16, 0.1, 0.1))
    corner_and_centre.score_map[0, 0, 8, 8] = 0.6  # weaker than the corner's raw score
    net.maps_for = lambda box: corner_and_centre
    net.expect((0, 0, 1, 1), tracker.search_box, score=0.9)

    result = tracker.track(make_frame())
    assert result.confidence == pytest.approx(0.6)  # raw score of the chosen cell
    x, y, w, h = result.box_xywh
    _, _, side = search_crop_corner_and_side((100, 80, 40, 30))
    # Cell (8, 8) with offset 0.5 is 0.5 / 16 of the crop right of and below the old centre.
    assert (x + w / 2, y + h / 2) == pytest.approx((120 + side / 32, 95 + side / 32), abs=0.5)


def make_frame(height: int = 200, width: int = 300) -> np.ndarray:
    """Return a noise RGB frame (the oracle does not look at it)."""
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


def shifted(box: Sequence[float], dx: float, dy: float) -> BoxTuple:
    """Return the box moved by (dx, dy)."""
    x, y, w, h = box
    return (x + dx, y + dy, w, h)


@pytest.mark.parametrize('stored, requested, expected_rate', [
    (None, None, 1.0),  # no config: OSTrack's, the size as predicted
    (0.3, None, 0.3),  # the value stored with the weights
    (0.3, 0.5, 0.5),  # an explicit request wins
])
def test_size_update_rate_damps_size_changes_around_the_new_centre(stored, requested,
                                                                   expected_rate):
    net = OracleNet()
    if stored is not None:
        net.config.size_update_rate = stored
    tracker = Tracker(net, size_update_rate=requested)
    assert tracker.size_update_rate == expected_rate
    tracker.initialize(make_frame(), (100, 80, 40, 30))
    # The network claims the target moved by (4, 2) and grew to 60 x 20.
    claimed = (100 + 4 - 10, 80 + 2 + 5, 60, 20)
    net.expect(claimed, tracker.search_box)
    x, y, w, h = tracker.track(make_frame()).box_xywh
    assert (x + w / 2, y + h / 2) == pytest.approx((124, 97), abs=EXACT_TOLERANCE)  # as claimed
    expected_size = (40 + expected_rate * 20, 30 - expected_rate * 10)
    assert (w, h) == pytest.approx(expected_size, abs=1e-3)
    assert tracker.search_box == pytest.approx((x, y, w, h))


def test_size_update_rate_can_change_live_and_return_to_the_stored_one():
    net = OracleNet()
    net.config.size_update_rate = 0.3
    tracker = Tracker(net, size_update_rate=0.5)
    tracker.set_size_update_rate(1.0)
    assert tracker.size_update_rate == 1.0
    tracker.set_size_update_rate(None)  # what the node's 0 means
    assert tracker.size_update_rate == 0.3
    with pytest.raises(ValueError, match='size_update_rate'):
        tracker.set_size_update_rate(2.0)
    assert tracker.size_update_rate == 0.3


@pytest.mark.parametrize('rate', [0.0, -0.5, 1.5])
def test_size_update_rate_outside_zero_to_one_is_refused(rate):
    with pytest.raises(ValueError, match='size_update_rate'):
        Tracker(OracleNet(), size_update_rate=rate)


def test_lost_after_consecutive_misses_and_recovers():
    net = OracleNet()
    tracker = Tracker(net, lost_threshold=0.25, lost_frames=5)
    frame = make_frame()
    tracker.initialize(frame, (100, 80, 40, 30))

    # Two confident frames.
    for _ in range(2):
        net.expect(shifted(tracker.search_box, 2, 1), tracker.search_box, score=0.9)
        result = tracker.track(frame)
        assert not result.lost
    last_confident = result.box_xywh

    # Misses: the net drifts 6 px right every frame with a low score.
    lost_flags = []
    for miss in range(1, 8):
        search_box = tracker.search_box
        target = shifted(search_box, 6, 0)
        net.expect(target, search_box, score=0.1)
        result = tracker.track(frame)
        lost_flags.append(result.lost)
        assert result.confidence == pytest.approx(0.1)
        assert result.box_xywh == pytest.approx(target, abs=1.0)  # best guess still reported
        if miss < 5:
            # Not lost yet: follow the predictions like the official pipeline.
            assert tracker.search_box == result.box_xywh
        else:
            # Lost: search where the target was last seen confidently.
            assert tracker.search_box == last_confident
    assert lost_flags == [False, False, False, False, True, True, True]

    # Score back above the threshold: recovered at once.
    target = shifted(last_confident, -3, 2)
    net.expect(target, tracker.search_box, score=0.6)
    result = tracker.track(frame)
    assert not result.lost
    assert result.confidence == pytest.approx(0.6)
    assert result.box_xywh == pytest.approx(target, abs=1.0)
    assert tracker.search_box == result.box_xywh
    assert result.frame_index == 10


def test_an_isolated_miss_does_not_count_towards_lost():
    net = OracleNet()
    tracker = Tracker(net, lost_threshold=0.5, lost_frames=2)
    frame = make_frame()
    tracker.initialize(frame, (100, 80, 40, 30))
    flags = []
    for score in (0.4, 0.6, 0.4, 0.4, 0.4):  # 0.4 is a miss with this threshold
        net.expect(tracker.search_box, tracker.search_box, score=score)
        flags.append(tracker.track(frame).lost)
    assert flags == [False, False, False, True, True]


@pytest.mark.parametrize('new_shape', [(400, 600), (100, 450)])
def test_image_size_change_rescales_state(new_shape):
    net = OracleNet()
    tracker = Tracker(net)
    tracker.initialize(make_frame(200, 300), (100, 80, 40, 30))
    scale_y, scale_x = new_shape[0] / 200, new_shape[1] / 300
    scaled = (100 * scale_x, 80 * scale_y, 40 * scale_x, 30 * scale_y)

    # The target did not move: it must be found at the rescaled box, which only
    # works if the search crop was cut around the rescaled state.
    net.expect(scaled, scaled)
    result = tracker.track(make_frame(*new_shape))
    assert result.box_xywh == pytest.approx(scaled, abs=1.0)
    assert tracker.search_box == result.box_xywh


def test_grey_images_are_tracked_as_three_equal_channels():
    net = OracleNet()
    tracker = Tracker(net)
    grey = make_frame()[..., 0]
    tracker.initialize(grey, (100, 80, 40, 30))
    net.expect((104, 82, 40, 30), tracker.search_box)
    result = tracker.track(grey[..., None])
    assert result.box_xywh == pytest.approx((104, 82, 40, 30), abs=1.0)
    for tensor in (net.templates[0][0], net.searches[0]):
        rgb = tensor[0] * STD + MEAN
        torch.testing.assert_close(rgb[0], rgb[1], atol=1e-5, rtol=0)
        torch.testing.assert_close(rgb[0], rgb[2], atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ('image', 'message'),
    [
        (np.zeros((20, 30, 3), dtype=np.float32), 'uint8'),
        (np.zeros((1, 20, 30, 3), dtype=np.uint8), 'shape'),
        (np.zeros((20, 30, 4), dtype=np.uint8), 'shape'),
        (np.zeros((0, 30, 3), dtype=np.uint8), 'empty'),
        (np.zeros((20, 0), dtype=np.uint8), 'empty'),
        ([[1, 2], [3, 4]], 'numpy'),
    ],
)
def test_bad_images_raise_and_leave_state_untouched(image, message):
    net = OracleNet()
    tracker = Tracker(net)
    tracker.initialize(make_frame(), (100, 80, 40, 30))
    net.expect((103, 80, 40, 30), tracker.search_box)
    tracker.track(make_frame())
    before = (tracker.box_xywh, tracker.search_box, tracker.frame_index)

    with pytest.raises(ValueError, match=message):
        tracker.track(image)
    with pytest.raises(ValueError, match=message):
        tracker.initialize(image, (1, 1, 5, 5))
    assert (tracker.box_xywh, tracker.search_box, tracker.frame_index) == before
    assert len(net.searches) == 1 and len(net.templates) == 1

    net.expect((106, 80, 40, 30), tracker.search_box)
    result = tracker.track(make_frame())
    assert result.frame_index == 2
    assert result.box_xywh == pytest.approx((106, 80, 40, 30), abs=1.0)


@pytest.mark.parametrize('box', [(10, 10, 0, 5), (10, 10, 5, float('nan')), (400, 10, 5, 5)])
def test_bad_initial_box_raises_and_keeps_tracker_uninitialised(box):
    tracker = Tracker(OracleNet())
    with pytest.raises(ValueError):
        tracker.initialize(make_frame(), box)
    assert not tracker.is_initialized
    with pytest.raises(RuntimeError, match='initialize'):
        tracker.track(make_frame())


def test_initial_box_partly_outside_is_clipped():
    tracker = Tracker(OracleNet())
    tracker.initialize(make_frame(200, 300), (-10, 180, 50, 40))
    assert tracker.box_xywh == pytest.approx((0, 180, 40, 20))


def test_track_before_initialize_and_after_reset_raises():
    tracker = Tracker(OracleNet())
    with pytest.raises(RuntimeError, match='initialize'):
        tracker.track(make_frame())
    tracker.initialize(make_frame(), (100, 80, 40, 30))
    assert tracker.is_initialized
    tracker.reset()
    assert not tracker.is_initialized
    assert tracker.box_xywh is None
    with pytest.raises(RuntimeError, match='initialize'):
        tracker.track(make_frame())


def test_inputs_follow_the_tracker_dtype():
    net = OracleNet(search_size=192)
    tracker = Tracker(net, dtype=torch.float64)
    tracker.initialize(make_frame(), (100, 80, 40, 30))
    net.expect((101, 80, 40, 30), tracker.search_box)
    result = tracker.track(make_frame())
    template, box_xyxy = net.templates[0]
    assert template.dtype == box_xyxy.dtype == net.searches[0].dtype == torch.float64
    assert box_xyxy.shape == (1, 4)
    assert net.searches[0].shape == (1, 3, 192, 192)
    assert isinstance(result, TrackResult)
    assert all(isinstance(v, float) for v in result.box_xywh)


def test_search_size_must_match_the_network():
    with pytest.raises(ValueError, match='search_size'):
        Tracker(OracleNet(search_size=256), search_size=192)
    assert Tracker(SimpleNamespace(), search_size=192).search_size == 192
    assert Tracker(SimpleNamespace()).search_size == 256


@pytest.fixture(scope='module')
def tiny_litetrack_state():
    torch.manual_seed(0)
    config = ModelConfig(depth=2, num_interaction=1, embed_dim=32, num_heads=2,
                         head_channels=16, search_size=128)
    return config, LiteTrack(config).state_dict()


def test_real_network_runs_in_the_requested_dtype(tiny_litetrack_state):
    # The tracker moves the network to its dtype; float64 and float32 must agree.
    config, state_dict = tiny_litetrack_state
    sequence = synthetic_sequence(num_frames=4)
    boxes = {}
    for dtype in (torch.float32, torch.float64):
        net = LiteTrack(config)
        net.load_state_dict(state_dict)
        tracker = Tracker(net, dtype=dtype)
        assert net.dtype == dtype and not net.training
        tracker.initialize(sequence.frame(0), sequence.boxes[0])
        results = [tracker.track(sequence.frame(i)) for i in range(1, len(sequence))]
        for result in results:
            x, y, w, h = result.box_xywh
            assert 0 <= x <= 320 - 10 and 0 <= y <= 240 - 10 and w >= 10 and h >= 10
            assert 1e-4 <= result.confidence <= 1 - 1e-4
        boxes[dtype] = [r.box_xywh for r in results]
    np.testing.assert_allclose(boxes[torch.float64], boxes[torch.float32], atol=1e-2)


def test_template_is_cut_with_the_network_template_factor():
    # A network trained with another template factor stores it; the template crop
    # (and the box given with it) must follow, or it sees the target at the wrong scale.
    net = OracleNet()
    net.config.template_factor = 3.0
    tracker = Tracker(net)
    w, h = 40.0, 30.0
    tracker.initialize(make_frame(), (100, 80, w, h))
    ((_, box_xyxy),) = net.templates
    side = math.ceil(math.sqrt(w * h) * 3)
    x1, y1, x2, y2 = box_xyxy[0].tolist()
    assert (x2 - x1, y2 - y1) == pytest.approx((w / side, h / side), rel=1e-5)
    assert tracker.template_factor == 3.0


def test_score_weighted_size_update_for_litetrack():
    # LightTrack's rule on a LiteTrack network: the size moves rate x score of the way.
    net = OracleNet()
    net.config.score_weighted_size_update = True
    net.config.size_update_rate = 0.8
    tracker = Tracker(net)
    tracker.initialize(make_frame(), (100, 80, 40, 30))
    net.expect((100 + 4 - 10, 80 + 2 + 5, 60, 20), tracker.search_box, score=0.5)
    x, y, w, h = tracker.track(make_frame()).box_xywh
    assert (w, h) == pytest.approx((40 + 0.4 * 20, 30 - 0.4 * 10), abs=1e-3)
    assert (x + w / 2, y + h / 2) == pytest.approx((124, 97), abs=EXACT_TOLERANCE)


def test_scale_penalty_and_window_influence_for_litetrack():
    # Two candidates: a slightly stronger one that would double the box, and one that
    # keeps its size. Without a penalty the first wins; with k = 0.5 the second.
    net = OracleNet()
    tracker = Tracker(net)
    tracker.initialize(make_frame(), (100, 80, 40, 30))
    _, _, side = search_crop_corner_and_side((100, 80, 40, 30))
    maps = net.maps_for((9.5 / 16, 8.5 / 16, 80 / side, 60 / side))
    maps.score_map[0, 0, 8, 9] = 0.9
    maps.score_map[0, 0, 8, 7] = 0.8
    maps.size_map[0, :, 8, 7] = torch.tensor((40 / side, 30 / side))
    net.maps_for = lambda box: maps
    net.expect((0, 0, 1, 1), tracker.search_box)
    grown = tracker.track(make_frame()).box_xywh
    assert grown[2] == pytest.approx(80, abs=1e-3)

    for settings in ({'scale_penalty_k': 0.5}, {'scale_penalty_k': 0.5, 'window_influence': 0.3}):
        net = OracleNet()
        for key, value in settings.items():
            setattr(net.config, key, value)
        tracker = Tracker(net)
        tracker.initialize(make_frame(), (100, 80, 40, 30))
        net.maps_for = lambda box: maps
        net.expect((0, 0, 1, 1), tracker.search_box)
        result = tracker.track(make_frame())
        assert result.box_xywh[2] == pytest.approx(40, abs=1e-3), settings
        assert result.confidence == pytest.approx(0.8)
