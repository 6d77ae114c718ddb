# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Single-object tracking metrics (OTB / LaSOT / GOT-10k conventions), numpy only.

Boxes are ``(x, y, w, h)`` rows in pixels, ``x, y`` the top-left corner.

Protocol shared by every function here: frame 1 initialises the tracker, so
it is never scored; frames whose ground truth is absent (NaN or zero-size, the
way LaSOT and GOT-10k mark occluded / out-of-view frames) are skipped.  A
*prediction* that is missing or degenerate is not skipped: it scores IoU 0 and
an infinite center error, so a tracker cannot gain by reporting nothing.
"""

from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: IoU thresholds of the success plot (OTB: 0..1 step 0.05).
SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
#: Center-error thresholds in pixels of the precision plot (OTB: 0..50).
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
#: Normalised center-error thresholds (LaSOT: 0..0.5 step 0.01).
NORM_PRECISION_THRESHOLDS = np.linspace(0.0, 0.5, 51)
PRECISION_AT_PX = 20.0
NORM_PRECISION_AT = 0.2
# The IoU of two identical float boxes can land a hair below 1: (x + w) - x != w.
PERFECT_IOU = 1.0 - 1e-9


def _as_boxes(boxes: np.ndarray | Sequence) -> np.ndarray:
    array = np.asarray(boxes, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f'expected (N, 4) xywh boxes, got shape {array.shape}')
    return array


def valid_boxes(boxes: np.ndarray | Sequence) -> np.ndarray:
    """Return a boolean mask of boxes that are finite with positive width and height."""
    array = _as_boxes(boxes)
    return np.isfinite(array).all(axis=1) & (array[:, 2] > 0) & (array[:, 3] > 0)


def iou(pred: np.ndarray | Sequence, gt: np.ndarray | Sequence) -> np.ndarray:
    """Intersection over union of matching rows of two ``(N, 4)`` xywh arrays.

    A pair where either box is empty, degenerate or NaN gets IoU 0, as in the
    GOT-10k toolkit, instead of NaN that would poison any mean taken later.
    """
    pred, gt = _as_boxes(pred), _as_boxes(gt)
    if pred.shape != gt.shape:
        raise ValueError(f'box arrays differ in shape: {pred.shape} vs {gt.shape}')
    both_valid = valid_boxes(pred) & valid_boxes(gt)
    # Zero out invalid rows first so NaN never reaches the arithmetic.
    pred = np.where(both_valid[:, None], pred, 0.0)
    gt = np.where(both_valid[:, None], gt, 0.0)
    left = np.maximum(pred[:, 0], gt[:, 0])
    top = np.maximum(pred[:, 1], gt[:, 1])
    right = np.minimum(pred[:, 0] + pred[:, 2], gt[:, 0] + gt[:, 2])
    bottom = np.minimum(pred[:, 1] + pred[:, 3], gt[:, 1] + gt[:, 3])
    intersection = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = pred[:, 2] * pred[:, 3] + gt[:, 2] * gt[:, 3] - intersection
    result = np.zeros(len(pred))
    np.divide(intersection, union, out=result, where=both_valid & (union > 0))
    return np.clip(result, 0.0, 1.0)


def _centers(boxes: np.ndarray) -> np.ndarray:
    return boxes[:, :2] + boxes[:, 2:] / 2.0


def center_error(pred: np.ndarray | Sequence, gt: np.ndarray | Sequence) -> np.ndarray:
    """Euclidean distance in pixels between box centers; ``inf`` for a missing prediction."""
    pred, gt = _as_boxes(pred), _as_boxes(gt)
    error = np.linalg.norm(_centers(pred) - _centers(gt), axis=1)
    return np.where(valid_boxes(pred) & valid_boxes(gt), error, np.inf)


def normalized_center_error(
    pred: np.ndarray | Sequence, gt: np.ndarray | Sequence
) -> np.ndarray:
    """Center error with each axis divided by the ground-truth size (LaSOT).

    This makes the error comparable between small and large targets.
    """
    pred, gt = _as_boxes(pred), _as_boxes(gt)
    valid = valid_boxes(pred) & valid_boxes(gt)
    safe_size = np.where(valid[:, None], gt[:, 2:], 1.0)
    error = np.linalg.norm((_centers(pred) - _centers(gt)) / safe_size, axis=1)
    return np.where(valid, error, np.inf)


def success_curve(ious: np.ndarray) -> np.ndarray:
    """Fraction of frames whose IoU is above each of ``SUCCESS_THRESHOLDS``.

    Strictly above, as in the OTB and GOT-10k toolkits, so that a lost frame
    (IoU 0) never succeeds.  One deliberate difference: a perfect overlap
    succeeds at threshold 1 too, so a perfect tracker scores AUC 1 instead of
    20/21.  Real trackers practically never overlap a float annotation
    exactly, so published figures stay comparable.
    """
    ious = np.asarray(ious, dtype=np.float64)
    if ious.size == 0:
        return np.full(len(SUCCESS_THRESHOLDS), np.nan)
    above = ious[None, :] > SUCCESS_THRESHOLDS[:, None]
    perfect = ious[None, :] >= PERFECT_IOU
    return (above | perfect).mean(axis=1)


def precision_curve(errors: np.ndarray, thresholds: np.ndarray = PRECISION_THRESHOLDS
                    ) -> np.ndarray:
    """Fraction of frames whose (normalised) center error is at most each threshold."""
    errors = np.asarray(errors, dtype=np.float64)
    if errors.size == 0:
        return np.full(len(thresholds), np.nan)
    return (errors[None, :] <= thresholds[:, None]).mean(axis=1)


def _value_at(curve: np.ndarray, thresholds: np.ndarray, threshold: float) -> float:
    index = int(np.argmin(np.abs(thresholds - threshold)))
    return float(curve[index])


def scored_frames(gt: np.ndarray | Sequence) -> np.ndarray:
    """Boolean mask of frames that count: frame 1 excluded, absent ground truth excluded."""
    mask = valid_boxes(gt)
    mask[:1] = False
    return mask


@dataclass(frozen=True)
class TrackingMetrics:
    """Metrics of one sequence, or of a whole dataset when aggregated.

    ``ious`` and ``center_errors`` hold the per-frame values of the scored
    frames so that dataset-level metrics can be pooled over frames.
    ``sequence_mean_ious`` is set on aggregates only: one mean IoU per sequence.
    """

    ious: np.ndarray
    center_errors: np.ndarray
    success: np.ndarray
    precision: np.ndarray
    norm_precision: np.ndarray
    sequence_mean_ious: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        """Return the number of scored frames."""
        return int(len(self.ious))

    @property
    def auc(self) -> float:
        """Success AUC: mean of the success curve (OTB)."""
        return float(np.mean(self.success))

    @property
    def precision_20(self) -> float:
        """Fraction of frames with center error at most 20 px."""
        return _value_at(self.precision, PRECISION_THRESHOLDS, PRECISION_AT_PX)

    @property
    def norm_precision_20(self) -> float:
        """Fraction of frames with normalised center error at most 0.2 (LaSOT)."""
        return _value_at(self.norm_precision, NORM_PRECISION_THRESHOLDS, NORM_PRECISION_AT)

    @property
    def mean_iou(self) -> float:
        """Mean IoU (NaN without scored frames); averaged per sequence on aggregates."""
        if self.sequence_mean_ious is not None and len(self.sequence_mean_ious):
            return float(np.mean(self.sequence_mean_ious))
        return float(np.mean(self.ious)) if self.num_frames else float('nan')

    @property
    def average_overlap(self) -> float:
        """GOT-10k AO: mean IoU pooled over every scored frame."""
        return float(np.mean(self.ious)) if self.num_frames else float('nan')

    def success_rate(self, threshold: float) -> float:
        """GOT-10k SR: fraction of scored frames with IoU above ``threshold``."""
        return float(np.mean(self.ious > threshold)) if self.num_frames else float('nan')

    def summary(self) -> dict[str, float | int]:
        """Scalar metrics as a JSON-friendly dict."""
        return {
            'auc': self.auc,
            'precision_20': self.precision_20,
            'norm_precision_20': self.norm_precision_20,
            'mean_iou': self.mean_iou,
            'ao': self.average_overlap,
            'sr_50': self.success_rate(0.5),
            'sr_75': self.success_rate(0.75),
            'num_frames': self.num_frames,
        }


def evaluate_sequence(pred: np.ndarray | Sequence, gt: np.ndarray | Sequence
                      ) -> TrackingMetrics:
    """Score predicted boxes against ground truth over frames 2..N.

    ``pred`` may be shorter than ``gt`` (a run cut short with ``--max-frames``):
    only the frames both cover are scored.
    """
    pred, gt = _as_boxes(pred), _as_boxes(gt)
    count = min(len(pred), len(gt))
    pred, gt = pred[:count], gt[:count]
    mask = scored_frames(gt)
    pred, gt = pred[mask], gt[mask]
    ious = iou(pred, gt)
    errors = center_error(pred, gt)
    return TrackingMetrics(
        ious=ious,
        center_errors=errors,
        success=success_curve(ious),
        precision=precision_curve(errors),
        norm_precision=precision_curve(normalized_center_error(pred, gt),
                                       NORM_PRECISION_THRESHOLDS),
    )


def aggregate(per_sequence: Sequence[TrackingMetrics]) -> TrackingMetrics:
    """Combine sequences the way the reference toolkits do.

    Curves (hence AUC and precisions) are averaged over sequences, as in the
    OTB / LaSOT toolkits, so long sequences do not dominate.  ``ious`` are
    concatenated, so AO and SR are pooled over frames, as in the GOT-10k
    toolkit, while ``mean_iou`` stays a mean over sequences like the curves.
    Sequences without a single scored frame are left out.
    """
    scored = [metrics for metrics in per_sequence if metrics.num_frames]
    if not scored:
        return evaluate_sequence(np.zeros((0, 4)), np.zeros((0, 4)))
    return TrackingMetrics(
        ious=np.concatenate([metrics.ious for metrics in scored]),
        center_errors=np.concatenate([metrics.center_errors for metrics in scored]),
        success=np.mean([metrics.success for metrics in scored], axis=0),
        precision=np.mean([metrics.precision for metrics in scored], axis=0),
        norm_precision=np.mean([metrics.norm_precision for metrics in scored], axis=0),
        sequence_mean_ious=np.array([metrics.mean_iou for metrics in scored]),
    )
