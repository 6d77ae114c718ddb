# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Long-term evaluation: absent-segment sequences, metrics, litetrack-eval --absent-frames."""

import json
from pathlib import Path

import cv2
from litetrack_ros.evaluation import cli
from litetrack_ros.evaluation.datasets import discover_sequences
from litetrack_ros.evaluation.long_term import (
    absent_segment_sequences,
    LongTermRun,
    run_long_term_sequence,
    summarise,
)
import numpy as np
import pytest


def box_at(index):
    return (10 + index, 20 + (index % 7), 16, 12)


def write_sequence(folder: Path, count: int, size: tuple, colour: int, layout='simple',
                   red=True):
    (folder / 'img').mkdir(parents=True)
    for index in range(count):
        image = np.full(size + (3,), colour, np.uint8)
        x, y, w, h = box_at(index)
        image[y:y + h, x:x + w] = (0, 0, 255) if red else (255, 0, 0)
        cv2.imwrite(str(folder / 'img' / f'{index + 1:08d}.png'), image)
    (folder / 'groundtruth.txt').write_text(
        ''.join(','.join(map(str, box_at(i))) + '\n' for i in range(count)))
    if layout == 'lasot':
        flags = ['1' if 5 <= i < 8 else '0' for i in range(count)]
        (folder / 'out_of_view.txt').write_text(','.join(flags))
        (folder / 'full_occlusion.txt').write_text(','.join(['0'] * count))


@pytest.fixture
def dataset(tmp_path):
    write_sequence(tmp_path / 'data' / 'alpha', 45, (80, 100), 60)
    write_sequence(tmp_path / 'data' / 'beta', 30, (60, 90), 200, red=False)
    return tmp_path / 'data'


def test_absent_segment_inserts_another_sequence_and_resumes_later(dataset):
    alpha, beta = absent_segment_sequences(discover_sequences(dataset), 8)
    # alpha: frames 0-14, 8 frames of beta, then alpha again from frame 15 + 8 = 23.
    assert len(alpha) == 15 + 8 + (45 - 23)
    assert alpha.absent.tolist() == [False] * 15 + [True] * 8 + [False] * 22
    assert np.isnan(alpha.groundtruth[15:23]).all()
    np.testing.assert_array_equal(alpha.groundtruth[23], box_at(23))
    inserted = alpha.load_frame(15)
    assert inserted.shape == (80, 100, 3)  # beta's frame resized to alpha's size
    assert abs(int(inserted[0, 0, 0]) - 200) <= 1  # ... and it is beta's
    assert abs(int(alpha.load_frame(23)[0, 0, 0]) - 60) <= 1
    # beta (30 frames) is kept 10 frames after the return.
    assert beta.absent.sum() == 8 and len(beta) - 10 - 8 == 12
    # --absent-frames 0: the sequence as it is.
    plain = absent_segment_sequences(discover_sequences(dataset), 0)[0]
    assert len(plain) == 45 and not plain.absent.any()


def test_mirrored_return_flips_frames_and_boxes(dataset):
    alpha = absent_segment_sequences(discover_sequences(dataset), 8, mirror=True)[0]
    x, y, w, h = box_at(23)
    np.testing.assert_array_equal(alpha.groundtruth[23], (100 - x - w, y, w, h))
    np.testing.assert_array_equal(alpha.groundtruth[14], box_at(14))  # before: as it was
    frame = alpha.load_frame(23)
    red = np.argwhere(frame[..., 2] > 200)
    assert red[:, 1].min() == 100 - x - w and red[:, 1].max() == 100 - x - 1


def test_lasot_flags_count_as_absent(tmp_path):
    write_sequence(tmp_path / 'cat' / 'cat-1', 20, (60, 80), 90, layout='lasot')
    (sequence,) = absent_segment_sequences(discover_sequences(tmp_path), 0)
    assert np.flatnonzero(sequence.absent).tolist() == [5, 6, 7]


def test_metrics_of_a_perfect_and_of_an_always_present_tracker(dataset):
    alpha = absent_segment_sequences(discover_sequences(dataset), 8)[0]
    truth = np.nan_to_num(alpha.groundtruth)
    frames = len(alpha)
    perfect = LongTermRun(truth, ~alpha.absent, (~alpha.absent).astype(float), np.zeros(frames))
    report = summarise([(alpha, perfect)])
    assert report['absent_reported'] == 1 and report['present_tracked'] == 1
    assert report['precision'] == report['recall'] == report['f_score'] == report['f_max'] == 1
    assert report['returns'] == 1 and report['sequences']['alpha']['returns'][0]['delay'] == 0
    distance = report['sequences']['alpha']['returns'][0]['distance']
    assert distance == pytest.approx(np.hypot(9, 2) / np.sqrt(16 * 12), rel=1e-6)

    # Reports a box everywhere, the old box while the target is away, and finds it 3
    # frames after the return.
    stale = truth.copy()
    stale[15:26] = truth[14]
    always = LongTermRun(stale, np.ones(frames, bool), np.ones(frames), np.zeros(frames))
    report = summarise([(alpha, always)])
    assert report['absent_reported'] == 0
    assert report['sequences']['alpha']['returns'][0]['delay'] == 3
    assert report['precision'] < 1 and report['recall'] < 1
    assert report['present_tracked'] == pytest.approx((frames - 1 - 8 - 3) / (frames - 1 - 8))


def test_never_recovered_is_counted(dataset):
    alpha = absent_segment_sequences(discover_sequences(dataset), 8)[0]
    frames = len(alpha)
    run = LongTermRun(np.nan_to_num(alpha.groundtruth), np.arange(frames) < 15,
                      np.zeros(frames), np.zeros(frames))
    report = summarise([(alpha, run)])
    assert report['never_recovered'] == 1 and report['mean_recovery_delay'] is None
    assert report['absent_reported'] == 1


class RedSquareFinder:
    """Stand-in tracker: reports the box of the red square, absent when it sees none."""

    name = 'stand-in'
    last_lost = False
    last_confidence = float('nan')

    def init(self, image, box):
        """Nothing to remember: the target is the red square."""

    def update(self, image):
        """Return the red square's box, or a dummy box marked lost without one."""
        red = np.argwhere((image[..., 2] > 200) & (image[..., 0] < 50))
        self.last_lost = len(red) == 0
        if self.last_lost:
            return (0.0, 0.0, 5.0, 5.0)
        (y0, x0), (y1, x1) = red.min(0), red.max(0)
        return (float(x0), float(y0), float(x1 - x0 + 1), float(y1 - y0 + 1))


def test_the_runner_reads_the_trackers_presence_decision(dataset, tmp_path):
    alpha = absent_segment_sequences(discover_sequences(dataset), 8)[0]
    run = run_long_term_sequence(RedSquareFinder(), alpha)
    assert run.reported[23:].all() and run.reported[1:15].all()
    assert not run.reported[15:23].any()  # beta's frames: no red square
    report = summarise([(alpha, run)])
    assert report['present_tracked'] == 1
    assert report['sequences']['alpha']['returns'][0]['delay'] == 0


def test_cli_absent_frames_with_an_opencv_tracker(dataset, tmp_path, capsys):
    out = tmp_path / 'out'
    status = cli.main([str(dataset), '--tracker', 'mil:seeds=1', '--absent-frames', '8',
                       '--out', str(out), '--no-progress'])
    assert status == 0
    printed = capsys.readouterr().out
    assert 'absent reported' in printed and 'mil' in printed
    report = json.loads((out / 'long_term.json').read_text())
    entry = report['trackers']['mil']
    assert entry['absent_frames'] == 16 and entry['returns'] == 2
    for key in ('absent_reported', 'present_tracked', 'precision', 'recall', 'f_score',
                'f_max', 'mean_recovery_delay'):
        assert key in entry
    assert cli.main([str(dataset), '--tracker', 'mil', '--absent-frames', '-1',
                     '--out', str(out)]) == 2
    assert '--absent-frames' in capsys.readouterr().err
