# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The shared cell selection and LightTrack's SiamFC procedure, against hand-computed numbers."""

import math
from types import SimpleNamespace

from litetrack_ros.model.config import LightTrackConfig
from litetrack_ros.model.head import decode_boxes, hann_window, HeadOutput
from litetrack_ros.model.lighttrack import SiamOutput
from litetrack_ros.tracking.geometry import (
    clip_box,
    context_side,
    crop_context,
    map_box_back,
    python2_round,
)
from litetrack_ros.tracking.procedures import OSTrackProcedure, SiamFCProcedure
from litetrack_ros.tracking.selection import select_cell, SelectionSettings, size_penalty
from litetrack_ros.tracking.tracker import Tracker
import numpy as np
import pytest
from sequences import synthetic_sequence
import torch

OFFICIAL = SelectionSettings(window_influence=0.38, scale_penalty_k=0.062,
                             size_update_rate=0.765, score_weighted=True)


# --------------------------------------------------------------------------- selection


def test_penalty_is_one_for_an_unchanged_box_and_follows_the_formula():
    previous = (40.0, 20.0)
    sizes = np.array([[[40.0, 20.0], [80.0, 40.0], [20.0, 40.0], [0.0, 0.0]]])
    penalty = size_penalty(sizes, previous, k=0.062)
    assert penalty[0, 0] == 1.0
    assert penalty[0, 1] == pytest.approx(math.exp(-(2 - 1) * 0.062))  # scale x2, same ratio

    def padded(w, h):
        return math.sqrt((w + (w + h) / 2) * (h + (w + h) / 2))
    scale = max(padded(20, 40) / padded(40, 20), padded(40, 20) / padded(20, 40))
    assert penalty[0, 2] == pytest.approx(math.exp(-(4 * scale - 1) * 0.062))  # ratio 2 -> 1/2
    assert penalty[0, 3] == 0.0  # a degenerate box is never preferred


def test_default_settings_are_ostrack_argmax_of_score_times_window():
    rng = np.random.default_rng(0)
    window = hann_window(16).numpy()
    for _ in range(20):
        scores = rng.random((16, 16), dtype=np.float32)
        sizes = rng.random((16, 16, 2), dtype=np.float32)
        chosen = select_cell(scores, sizes, (0.2, 0.3), window, SelectionSettings())
        assert divmod(int(np.argmax(scores * window)), 16) == (chosen.row, chosen.col)
        assert (chosen.score, chosen.penalty, chosen.size_rate) == (
            float(scores[chosen.row, chosen.col]), 1.0, 1.0)


def test_window_influence_blends_instead_of_multiplying():
    scores = np.full((5, 5), 0.1)
    scores[0, 0] = 0.9  # strong but far from the centre
    window = np.outer(np.hanning(5), np.hanning(5))  # zero at the border
    sizes = np.ones((5, 5, 2))
    multiplied = select_cell(scores, sizes, (1, 1), window, SelectionSettings())
    assert (multiplied.row, multiplied.col) != (0, 0)  # 0.9 x 0 loses
    blended = select_cell(scores, sizes, (1, 1), window,
                          SelectionSettings(window_influence=0.3))
    assert (blended.row, blended.col) == (0, 0)  # 0.9 * 0.7 > 0.1 * 0.7 + 1.0 * 0.3
    centre = select_cell(scores, sizes, (1, 1), window, SelectionSettings(window_influence=0.7))
    assert (centre.row, centre.col) == (2, 2)


def test_score_weighted_rate_is_rate_times_penalty_times_score():
    scores = np.full((3, 3), 0.1)
    scores[1, 1] = 0.8
    sizes = np.full((3, 3, 2), 10.0)
    sizes[1, 1] = (20.0, 10.0)
    chosen = select_cell(scores, sizes, (10.0, 10.0), np.ones((3, 3)), OFFICIAL)
    penalty = size_penalty(sizes[1:2, 1:2], (10.0, 10.0), 0.062)[0, 0]
    assert (chosen.row, chosen.col) == (1, 1)
    assert chosen.size_rate == pytest.approx(0.765 * penalty * 0.8)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match='must be'):
        select_cell(np.zeros((4, 4)), np.zeros((4, 4)), (1, 1), np.zeros((4, 4)),
                    SelectionSettings())


def test_ostrack_procedure_decodes_exactly_like_decode_boxes():
    # The LiteTrack default must stay bit for bit what decode_boxes + map_box_back gave.
    generator = torch.Generator().manual_seed(0)
    procedure = OSTrackProcedure(SimpleNamespace(), 128, 256)
    window = hann_window(16)
    box = (100.0, 80.0, 40.0, 30.0)
    resize_factor = 256 / math.ceil(math.sqrt(40 * 30) * 4)
    for _ in range(20):
        maps = HeadOutput(torch.rand(1, 1, 16, 16, generator=generator),
                          torch.rand(1, 2, 16, 16, generator=generator),
                          torch.rand(1, 2, 16, 16, generator=generator))
        boxes, scores = decode_boxes(*maps, window)
        expected = clip_box(map_box_back(boxes[0].tolist(), box, 256, resize_factor), 4000,
                            4000, margin=10)
        decoded = procedure.decode(maps, box, resize_factor, (4000, 4000))
        assert decoded.state_box == expected and decoded.report_box == expected
        assert decoded.confidence == scores[0].item()


# --------------------------------------------------------------------------- SiamFC crops


def test_python2_rounding_rounds_halves_away_from_zero():
    assert [python2_round(v) for v in (2.5, 3.5, -2.5, 2.4, 7.0)] == [3.0, 4.0, -3.0, 2.0, 7.0]


def test_context_crop_follows_the_official_rounding_and_mean_padding():
    image = np.zeros((20, 30, 3), dtype=np.uint8)
    image[..., 0] = np.arange(30)  # red = column, green = row
    image[..., 1] = np.arange(20)[:, None]
    fill = (7.9, 8.2, 9.99)  # truncated to 7, 8, 9 like the official uint8 assignment
    # side 6 around x = 3.5: first column round(3.5 - 3.5) = 0; y = 2.5: round(-1) = -1.
    crop = crop_context(image, (3.5, 2.5), 6, 6, fill)
    assert crop.shape == (6, 6, 3)
    assert crop[0].tolist() == [[7, 8, 9]] * 6  # the row above the image
    assert crop[1:, :, 0].tolist() == [list(range(6))] * 5
    assert crop[1:, 0, 1].tolist() == list(range(5))
    # Half-to-even: 4.5 - 3.5 = 1.0 -> 1, but 5.0 - 3.5 = 1.5 -> 2, 6.0 - 3.5 = 2.5 -> 2.
    assert crop_context(image, (4.5, 10), 6, 6, fill)[0, 0, 0] == 1
    assert crop_context(image, (5.0, 10), 6, 6, fill)[0, 0, 0] == 2
    assert crop_context(image, (6.0, 10), 6, 6, fill)[0, 0, 0] == 2
    # Entirely outside: all fill; resized crops keep their channels.
    assert (crop_context(image, (-50, -50), 8, 4, fill) == (7, 8, 9)).all()
    assert crop_context(image[..., :1], (10, 10), 8, 4, (3,)).shape == (4, 4, 1)
    with pytest.raises(ValueError, match='at least 1 pixel'):
        crop_context(image, (10, 10), 0, 4, fill)


def test_context_side_is_the_siamfc_one():
    assert context_side(40, 20) == pytest.approx(math.sqrt((40 + 30) * (20 + 30)))
    assert context_side(40, 20, context_amount=0) == pytest.approx(math.sqrt(800))


# --------------------------------------------------------------------------- SiamFC procedure


def siam_maps(cells: int, peak: tuple, score: float, ltrb: tuple) -> SiamOutput:
    """Make maps with one confident cell; elsewhere tiny scores and 16 px boxes."""
    logits = torch.full((1, 1, cells, cells), -9.0)
    logits[0, 0, peak[0], peak[1]] = math.log(score / (1 - score))
    distances = torch.full((1, 4, cells, cells), 8.0)
    distances[0, :, peak[0], peak[1]] = torch.tensor(ltrb)
    return SiamOutput(logits, distances)


def test_siamfc_decode_matches_the_official_formulas():
    procedure = SiamFCProcedure(LightTrackConfig(), 128, 256)
    box = (80.0, 70.0, 40.0, 20.0)  # centre (100, 80)
    scale = 128 / math.sqrt(70 * 50)
    # Cell (row 9, col 10): grid point (160, 144); box x 130..210, y 134..164 in the crop.
    out = siam_maps(16, (9, 10), 0.9, (30.0, 10.0, 50.0, 20.0))
    decoded = procedure.decode(out, box, scale, (480, 640))

    centre = (100 + (170 - 128) / scale, 80 + (149 - 128) / scale)
    predicted = (80 / scale, 30 / scale)
    penalty = size_penalty(np.array([[80.0, 30.0]]), (40 * scale, 20 * scale), 0.062)[0]
    rate = 0.765 * penalty * float(np.float32(0.9))
    # The official code blends twice with the same rate.
    size = [p * (1 - rate) + rate * (q * rate + (1 - rate) * p)
            for p, q in zip((40, 20), predicted, strict=True)]
    expected = (centre[0] - size[0] / 2, centre[1] - size[1] / 2, size[0], size[1])
    assert decoded.state_box == pytest.approx(expected, abs=1e-9)
    assert decoded.report_box == pytest.approx(expected, abs=1e-9)
    assert decoded.confidence == pytest.approx(0.9, abs=1e-6)


def test_siamfc_clipping_keeps_the_state_and_reports_clipped_corners():
    procedure = SiamFCProcedure(LightTrackConfig(size_update_rate=1.0,
                                                 score_weighted_size_update=False,
                                                 scale_penalty_k=0.0, window_influence=0.0),
                                128, 256)
    box = (-10.0, 50.0, 30.0, 30.0)  # centre (5, 65): the box sticks out on the left
    scale = 128 / context_side(30, 30)
    # Same cell and size as before: grid point (128, 128), ltrb 15 crop px.
    out = siam_maps(16, (8, 8), 0.99, (15 * scale, 15 * scale, 15 * scale, 15 * scale))
    decoded = procedure.decode(out, box, scale, (100, 100))
    assert decoded.state_box == pytest.approx(box)  # the centre is inside, kept
    assert decoded.report_box == pytest.approx((0.0, 50.0, 30.0, 30.0))  # x clipped at 0
    # Centre outside the image is pulled in, sizes clamped to [10, image size].
    far = siam_maps(16, (8, 15), 0.99, (1.0, 1.0, 1.0, 1.0))
    x, y, w, h = procedure.decode(far, (80.0, 40.0, 20.0, 20.0), 1.0, (100, 100)).state_box
    assert (x + w / 2, w, h) == pytest.approx((100.0, 10.0, 10.0))


class SiamOracle:
    """Stand-in LightTrack that answers with the box it is told, from its own crop model."""

    def __init__(self) -> None:
        self.config = LightTrackConfig(window_influence=0.0, scale_penalty_k=0.0,
                                       size_update_rate=1.0, score_weighted_size_update=False)
        self.templates = []
        self.target = None
        self.search_box = None
        self.score = 0.99

    def encode_template(self, template: torch.Tensor) -> str:
        """Record the template."""
        self.templates.append(template)
        return 'template'

    def track_search(self, state: str, search: torch.Tensor) -> SiamOutput:
        """Encode the target as ltrb from the nearest grid point of the true crop."""
        x, y, w, h = self.search_box
        side = python2_round(2 * context_side(w, h))
        left = round(x + w / 2 - (side + 1) / 2)
        top = round(y + h / 2 - (side + 1) / 2)
        scale = 256 / side
        tx, ty, tw, th = self.target
        x1, y1 = (tx - left) * scale, (ty - top) * scale
        x2, y2 = x1 + tw * scale, y1 + th * scale
        col = min(max(round((x1 + x2) / 2 / 16), 0), 15)
        row = min(max(round((y1 + y2) / 2 / 16), 0), 15)
        gx, gy = col * 16, row * 16
        return siam_maps(16, (row, col), self.score, (gx - x1, gy - y1, x2 - gx, y2 - gy))


def test_lighttrack_tracker_follows_a_sequence_to_the_official_rounding():
    # The official map-back assumes a crop of exactly 2 s_z centred on the box; the
    # real crop has a whole-pixel side and corner: up to ~1 px, nothing more.
    sequence = synthetic_sequence()
    net = SiamOracle()
    tracker = Tracker(net)
    assert isinstance(tracker.procedure, SiamFCProcedure)
    assert (tracker.template_size, tracker.search_size) == (128, 256)
    tracker.initialize(sequence.frame(0), sequence.boxes[0])
    (template,) = net.templates
    assert template.shape == (1, 3, 128, 128)
    checked = 0
    for index in range(1, len(sequence)):
        truth = sequence.boxes[index]
        net.search_box, net.target = tracker.search_box, truth
        result = tracker.track(sequence.frame(index))
        x, y, w, h = truth
        if x >= 0 and y >= 0 and x + w <= 320 and y + h <= 240:
            assert np.abs(np.subtract(result.box_xywh, truth)).max() < 1.5, index
            checked += 1
    assert checked >= len(sequence) // 2


def test_lighttrack_tracker_shares_the_lost_logic():
    net = SiamOracle()
    tracker = Tracker(net, lost_threshold=0.5, lost_frames=2)
    frame = np.full((240, 320, 3), 90, dtype=np.uint8)
    tracker.initialize(frame, (100, 80, 40, 30))
    confident = tracker.search_box
    net.score = 0.1
    for frames, lost in ((1, False), (2, True)):
        net.search_box, net.target = tracker.search_box, (140, 110, 40, 30)
        result = tracker.track(frame)
        assert result.lost is lost and result.frame_index == frames
        assert result.confidence == pytest.approx(0.1, abs=1e-6)
    assert tracker.search_box == confident  # lost: search where it was last seen
    net.score = 0.9
    net.search_box, net.target = tracker.search_box, (104, 82, 40, 30)
    assert not tracker.track(frame).lost
