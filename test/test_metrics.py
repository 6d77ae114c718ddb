# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tracking metrics checked against values computed by hand."""

from litetrack_ros.evaluation.metrics import (
    aggregate,
    center_error,
    evaluate_sequence,
    iou,
    normalized_center_error,
    PRECISION_THRESHOLDS,
    success_curve,
    SUCCESS_THRESHOLDS,
)
import numpy as np
import pytest

NAN_BOX = [np.nan] * 4


def moving_boxes(count: int = 10) -> np.ndarray:
    """Float boxes like a real annotation: the target drifts right and grows."""
    steps = np.arange(count, dtype=np.float64)
    return np.stack([10.3 + 3.7 * steps, 20.1 + steps, 40.6 + steps, 30.2 + 0.5 * steps], axis=1)


@pytest.mark.parametrize('pred, gt, expected', [
    ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
    ((0, 0, 10, 10), (5, 0, 10, 10), 50 / 150),      # half shifted sideways
    ((0, 0, 10, 10), (5, 5, 10, 10), 25 / 175),      # quarter overlap
    ((2, 2, 5, 5), (0, 0, 10, 10), 25 / 100),        # contained
    ((0, 0, 10, 10), (10, 0, 10, 10), 0.0),          # edges touch, no area shared
    ((0, 0, 10, 10), (50, 50, 10, 10), 0.0),         # disjoint
])
def test_iou_known_values(pred, gt, expected):
    assert iou([pred], [gt])[0] == pytest.approx(expected)
    assert iou([gt], [pred])[0] == pytest.approx(expected)  # symmetric


@pytest.mark.parametrize('bad_box', [
    (5, 5, 0, 10), (5, 5, 10, 0), (5, 5, -4, 10), (0, 0, 0, 0), NAN_BOX, (np.inf, 0, 10, 10),
])
def test_empty_degenerate_and_nan_boxes_score_zero_not_nan(bad_box):
    good = (0, 0, 10, 10)
    assert iou([bad_box], [good])[0] == 0.0
    assert iou([good], [bad_box])[0] == 0.0
    assert np.isinf(center_error([bad_box], [good])[0])


def test_center_error_and_normalised_error():
    gt = [(10, 20, 100, 50)]
    pred = [(13, 24, 100, 50)]  # center moved by (3, 4)
    assert center_error(pred, gt)[0] == pytest.approx(5.0)
    # LaSOT normalises each axis by the ground-truth size: (3/100, 4/50).
    assert normalized_center_error(pred, gt)[0] == pytest.approx(np.hypot(0.03, 0.08))


def test_perfect_tracker_scores_one_everywhere():
    gt = moving_boxes()
    metrics = evaluate_sequence(gt.copy(), gt)
    assert metrics.auc == pytest.approx(1.0)
    assert np.all(metrics.success == 1.0)
    assert np.all(metrics.precision == 1.0)
    assert metrics.precision_20 == 1.0
    assert metrics.norm_precision_20 == 1.0
    assert metrics.mean_iou == pytest.approx(1.0)
    assert metrics.success_rate(0.5) == metrics.success_rate(0.75) == 1.0


def test_constant_offset_gives_a_step_in_the_precision_curve():
    gt = moving_boxes()
    pred = gt + np.array([6.0, 8.0, 0.0, 0.0])  # every center 10 px off
    metrics = evaluate_sequence(pred, gt)
    expected = (PRECISION_THRESHOLDS >= 10).astype(float)
    np.testing.assert_array_equal(metrics.precision, expected)
    assert metrics.precision[9] == 0.0 and metrics.precision[10] == 1.0
    assert metrics.precision_20 == 1.0
    np.testing.assert_allclose(metrics.center_errors, 10.0)


def test_success_curve_and_auc_by_hand():
    ious = np.array([1 / 3, 1 / 7])
    # Thresholds 0, .05, .10 pass both; .15-.30 pass 1/3 only; .35 and up none.
    expected = np.array([1, 1, 1] + [0.5] * 4 + [0] * 14, dtype=float)
    np.testing.assert_allclose(success_curve(ious), expected)
    gt = np.array([(0, 0, 10, 10)] * 3, dtype=float)
    pred = np.array([(0, 0, 10, 10), (5, 0, 10, 10), (5, 5, 10, 10)], dtype=float)
    metrics = evaluate_sequence(pred, gt)
    assert metrics.auc == pytest.approx(5 / 21)
    assert metrics.mean_iou == pytest.approx((1 / 3 + 1 / 7) / 2)
    assert metrics.success_rate(0.3) == 0.5


def test_lost_frame_never_counts_as_success_or_precise():
    assert success_curve(np.array([0.0]))[0] == 0.0  # IoU 0 fails even threshold 0
    gt = moving_boxes(3)
    pred = gt.copy()
    pred[2] = NAN_BOX  # tracker reported nothing
    metrics = evaluate_sequence(pred, gt)
    assert metrics.num_frames == 2
    assert metrics.auc == pytest.approx(0.5)
    assert metrics.precision[-1] == 0.5  # not even within 50 px


def test_first_frame_is_not_scored():
    gt = moving_boxes(4)
    pred = gt.copy()
    pred[0] = (500, 500, 1, 1)  # whatever a runner stores for the init frame
    metrics = evaluate_sequence(pred, gt)
    assert metrics.num_frames == 3
    assert metrics.auc == pytest.approx(1.0)


def test_absent_ground_truth_frames_are_skipped():
    gt = moving_boxes(6)
    pred = gt.copy()
    absent = [2, 4]
    gt[2] = NAN_BOX           # LaSOT/GOT-10k style absent frame
    gt[4] = (0, 0, 0, 0)      # zero-size box, also absent
    pred[absent] = (900, 900, 5, 5)  # a wrong guess there must not cost anything
    metrics = evaluate_sequence(pred, gt)
    assert metrics.num_frames == 6 - 1 - len(absent)
    assert metrics.auc == pytest.approx(1.0)
    assert metrics.precision_20 == 1.0


def test_shorter_prediction_scores_only_the_frames_run():
    gt = moving_boxes(10)
    metrics = evaluate_sequence(gt[:4], gt)  # e.g. a run with --max-frames 4
    assert metrics.num_frames == 3


def test_sequence_without_scored_frames_gives_nan_not_crash():
    gt = np.array([(0, 0, 10, 10), NAN_BOX, NAN_BOX])
    metrics = evaluate_sequence(gt, gt)
    assert metrics.num_frames == 0
    assert np.isnan(metrics.auc) and np.isnan(metrics.mean_iou)


def test_aggregate_averages_curves_per_sequence_and_pools_ao():
    gt = moving_boxes(2)  # one scored frame, tracked perfectly
    long_gt = moving_boxes(4)  # three scored frames, all lost
    lost = long_gt.copy()
    lost[1:] = NAN_BOX
    overall = aggregate([evaluate_sequence(gt, gt), evaluate_sequence(lost, long_gt)])
    # OTB/LaSOT: one vote per sequence.
    assert overall.auc == pytest.approx(0.5)
    assert overall.mean_iou == pytest.approx(0.5)
    assert overall.precision_20 == pytest.approx(0.5)
    # GOT-10k: AO and SR pooled over the 4 scored frames.
    assert overall.average_overlap == pytest.approx(0.25)
    assert overall.success_rate(0.5) == pytest.approx(0.25)
    assert overall.num_frames == 4


def test_summary_has_every_metric():
    gt = moving_boxes()
    summary = evaluate_sequence(gt + 1.0, gt).summary()
    assert set(summary) == {'auc', 'precision_20', 'norm_precision_20', 'mean_iou', 'ao',
                            'sr_50', 'sr_75', 'num_frames'}
    assert len(SUCCESS_THRESHOLDS) == 21 and len(PRECISION_THRESHOLDS) == 51
