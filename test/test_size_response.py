# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``Tracker.predict_at`` and the size response (``litetrack-eval --size-response``).

An exact stand-in network (``ColourNet``, which reads the synthetic target's box
from the crop's pixels) corrects any size error at once; a tracker that answers
with the box it was given keeps all of it. The real default weights lie between.
"""

import json
from pathlib import Path

import cv2
from litetrack_ros.evaluation import cli
from litetrack_ros.evaluation.baselines import LiteTrackAdapter
from litetrack_ros.evaluation.datasets import discover_sequences
from litetrack_ros.evaluation.size_response import measure_size_response, sample_frames
from litetrack_ros.tracking.tracker import Tracker
import numpy as np
import pytest
from sequences import synthetic_sequence
from test_tracker import ColourNet

SCALES = (0.5, 0.7, 1.0, 1.4, 2.0)
WEIGHTS = Path(__file__).resolve().parent.parent / 'weights' / 'litetrack_default_s.safetensors'


def write_synthetic_dataset(root: Path, frames: int = 12) -> Path:
    """Write the synthetic sequence (PNG: lossless, so ColourNet's colour test holds)."""
    sequence = synthetic_sequence(num_frames=frames)
    folder = root / 'synthetic' / 'img'
    folder.mkdir(parents=True)
    for index in range(frames):
        cv2.imwrite(str(folder / f'{index + 1:04d}.png'),
                    cv2.cvtColor(sequence.frame(index), cv2.COLOR_RGB2BGR))
    np.savetxt(root / 'synthetic' / 'groundtruth.txt', sequence.boxes, delimiter=',')
    return root


def scaled(box, scale):
    x, y, w, h = box
    return (x + w * (1 - scale) / 2, y + h * (1 - scale) / 2, w * scale, h * scale)


def test_predict_at_answers_around_the_given_box_and_leaves_the_state():
    sequence = synthetic_sequence(num_frames=8)
    tracker, untouched = Tracker(ColourNet(search_size=256)), Tracker(ColourNet(search_size=256))
    for each in (tracker, untouched):
        each.initialize(sequence.frame(0), sequence.boxes[0])
    truth = sequence.boxes[4]
    box, confidence = tracker.predict_at(sequence.frame(4), scaled(truth, 1.6))
    np.testing.assert_allclose(box, truth, atol=1.0)  # found the true size, not 1.6x
    assert confidence > 0.9
    assert tracker.frame_index == 0 and tracker.box_xywh == tuple(sequence.boxes[0])
    assert tracker.track(sequence.frame(1)) == untouched.track(sequence.frame(1))


def test_predict_at_refuses_bad_calls_without_touching_the_state():
    sequence = synthetic_sequence(num_frames=3)
    tracker = Tracker(ColourNet(search_size=256))
    with pytest.raises(RuntimeError, match='before Tracker.initialize'):
        tracker.predict_at(sequence.frame(1), sequence.boxes[1])
    tracker.initialize(sequence.frame(0), sequence.boxes[0])
    with pytest.raises(ValueError):
        tracker.predict_at(sequence.frame(1), (10, 10, 0, 5))
    with pytest.raises(ValueError):
        tracker.predict_at(np.zeros((4, 4), np.float32), sequence.boxes[1])
    assert tracker.box_xywh == tuple(sequence.boxes[0]) and tracker.frame_index == 0


def test_an_exact_network_keeps_none_of_a_size_error(tmp_path):
    sequences = discover_sequences(write_synthetic_dataset(tmp_path))
    exact = LiteTrackAdapter(Tracker(ColourNet(search_size=256)), 'colour')
    response = measure_size_response(exact, sequences, SCALES)
    assert response.frames == 11 and response.scales == SCALES
    np.testing.assert_allclose(response.median_ratio, 1.0, atol=0.03)
    assert abs(response.kept) < 0.03 and response.noise < 0.02


class BoxKeeper:
    """A tracker that answers with the box it was given: it keeps every size error."""

    def init(self, image, box):
        """Nothing to encode."""
        self.initialized = True

    def predict_at(self, image, box):
        """Answer with the given box."""
        return tuple(box), 1.0


def test_a_tracker_that_keeps_the_box_keeps_all_of_a_size_error(tmp_path):
    sequences = discover_sequences(write_synthetic_dataset(tmp_path, frames=5))
    response = measure_size_response(BoxKeeper(), sequences, SCALES, frames_per_sequence=3)
    assert response.frames == 3
    np.testing.assert_allclose(response.median_ratio, SCALES, rtol=1e-9)
    assert response.kept == pytest.approx(1.0) and response.noise == pytest.approx(0.0)
    with pytest.raises(ValueError, match='include 1'):
        measure_size_response(BoxKeeper(), sequences, (0.5, 2.0))


def test_frames_are_sampled_evenly_after_the_first():
    assert sample_frames(100, 4) == [1, 34, 66, 99]
    assert sample_frames(3, 10) == [1, 2]
    assert sample_frames(1, 5) == []


def test_litetrack_eval_size_response_with_the_default_weights(tmp_path, capsys):
    dataset = write_synthetic_dataset(tmp_path / 'data')
    out = tmp_path / 'out'
    assert cli.main([str(dataset), '--tracker', f'litetrack:weights={WEIGHTS},precision=fp32,'
                     'size_update_rate=1,scale_penalty_k=0,name=net', '--size-response', '0.5,1,2',
                     '--size-frames', '6', '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'kept' in printed and 'net' in printed
    stored = json.loads((out / 'size_response.json').read_text())['trackers']['net']
    assert stored['scales'] == [0.5, 1.0, 2.0] and stored['frames'] == 6
    assert stored['settings']['weights_sha256']
    # A trained network finds some of the true size, and its box still follows the crop.
    ratio_small, ratio_one, ratio_large = stored['median_ratio']
    assert ratio_small < ratio_one < ratio_large and 0.7 < ratio_one < 1.4
    assert 0 < stored['kept'] < 1.1
    assert not (out / 'results.json').exists()  # nothing was tracked


@pytest.mark.parametrize('arguments, message', [
    (['--tracker', 'mil', '--size-response'], 'needs LiteTrack or LightTrack'),
    (['--tracker', f'litetrack:weights={WEIGHTS}', '--size-response', '0.5,2'], 'include 1'),
    (['--tracker', f'litetrack:weights={WEIGHTS}', '--size-response', 'big'], 'bad scales'),
    (['--tracker', f'litetrack:weights={WEIGHTS}', '--size-response', '--size-frames', '0'],
     'at least 1'),
])
def test_litetrack_eval_size_response_refuses_bad_requests(tmp_path, capsys, arguments, message):
    dataset = write_synthetic_dataset(tmp_path / 'data', frames=3)
    assert cli.main([str(dataset), *arguments, '--out', str(tmp_path / 'out')]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'out' / 'size_response.json').exists()
