# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Choose the output cell of a dense tracker: window, scale/ratio penalty, size update rate.

One pure function for both model families. LightTrack's official test-time rule
(``lib/tracker/lighttrack.py``; SiamRPN's before it) is, per cell with score ``s`` and
predicted size ``(w, h)``, given the previous size ``(W, H)``:

* penalty ``p = exp(-(r * c - 1) * k)`` with the scale change
  ``c = change(sz(w, h) / sz(W, H))``, ``sz(w, h) = sqrt((w + q)(h + q))``,
  ``q = (w + h) / 2``, the aspect change ``r = change((W / H) / (w / h))`` and
  ``change(x) = max(x, 1 / x)``;
* ``ps = p * s``, then the cosine window: ``ps * (1 - i) + window * i``;
* the best cell is the argmax of ``ps``; the size update rate there is
  ``rate * p * s`` (score-weighted) or ``rate``.

LiteTrack's default (OSTrack's) is the special case ``k = 0``, window *multiplied*
(``window_influence=None``) and an unweighted rate: :func:`select_cell` then computes
exactly ``argmax(score * window)`` in the inputs' precision, so the default boxes stay
bit for bit what they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np


@dataclass(frozen=True)
class SelectionSettings:
    """How :func:`select_cell` weighs the cells (see the module docstring).

    window_influence: None to multiply the score by the window, else ``i`` in [0, 1].
    scale_penalty_k: ``k`` >= 0 of the scale/ratio penalty; 0 turns it off.
    size_update_rate: share of the predicted size change taken, in (0, 1].
    score_weighted: multiply the rate by the chosen cell's penalty times score.
    """

    window_influence: float | None = None
    scale_penalty_k: float = 0.0
    size_update_rate: float = 1.0
    score_weighted: bool = False

    @classmethod
    def from_config(cls, config: Any) -> SelectionSettings:
        """Read the settings from a network config (absent fields: the defaults)."""
        return cls(window_influence=getattr(config, 'window_influence', None),
                   scale_penalty_k=float(getattr(config, 'scale_penalty_k', 0.0)),
                   size_update_rate=float(getattr(config, 'size_update_rate', 1.0)),
                   score_weighted=bool(getattr(config, 'score_weighted_size_update', False)))


class Selection(NamedTuple):
    """The chosen cell and what the tracker needs from it."""

    row: int
    col: int
    score: float      # raw score of the cell (before penalty and window)
    penalty: float    # its scale/ratio penalty (1 when off)
    size_rate: float  # share of the size change to take this frame


def _change(ratio: np.ndarray) -> np.ndarray:
    return np.maximum(ratio, 1.0 / ratio)


def _padded_size(width: np.ndarray, height: np.ndarray) -> np.ndarray:
    pad = (width + height) * 0.5
    return np.sqrt((width + pad) * (height + pad))


def size_penalty(sizes: np.ndarray, previous_size: Sequence[float], k: float) -> np.ndarray:
    """Per-cell scale/ratio penalty in (0, 1] (float64); 1 where the size is unchanged.

    ``sizes`` is (..., 2) predicted (w, h), ``previous_size`` the last (w, h) in the same
    units. Cells with a degenerate (zero) size get 0 (the official code would compute NaN
    there and pick them).
    """
    width = sizes[..., 0].astype(np.float64)
    height = sizes[..., 1].astype(np.float64)
    previous_w, previous_h = (float(v) for v in previous_size)
    with np.errstate(divide='ignore', invalid='ignore'):
        scale = _change(_padded_size(width, height) / _padded_size(previous_w, previous_h))
        ratio = _change((previous_w / previous_h) / (width / height))
        penalty = np.exp(-(ratio * scale - 1.0) * k)
    return np.nan_to_num(penalty, nan=0.0)


def select_cell(scores: np.ndarray, sizes: np.ndarray, previous_size: Sequence[float],
                window: np.ndarray, settings: SelectionSettings) -> Selection:
    """Pick the cell to report from per-cell scores and predicted sizes.

    Args:
        scores: (F, F) scores in [0, 1].
        sizes: (F, F, 2) predicted (w, h) per cell, in the units of ``previous_size``
            (only their ratios matter).
        previous_size: (w, h) of the previous box.
        window: (F, F) window (Hann/cosine) preferring small motion.
        settings: window, penalty and size-rate rules.

    Returns:
        The chosen :class:`Selection`; on ties the first cell in row-major order.

    """
    if scores.ndim != 2 or window.shape != scores.shape or sizes.shape != scores.shape + (2,):
        raise ValueError(f'scores {scores.shape}, sizes {sizes.shape} and window '
                         f'{window.shape} must be (F, F), (F, F, 2) and (F, F)')
    weighted = scores
    penalty = None
    if settings.scale_penalty_k > 0:
        penalty = size_penalty(sizes, previous_size, settings.scale_penalty_k)
        weighted = penalty * scores
    influence = settings.window_influence
    if influence is None:
        weighted = weighted * window
    else:
        weighted = weighted * (1.0 - influence) + window * influence
    index = int(np.argmax(weighted))
    row, col = divmod(index, scores.shape[1])
    score = float(scores[row, col])
    cell_penalty = 1.0 if penalty is None else float(penalty[row, col])
    rate = settings.size_update_rate
    if settings.score_weighted:
        rate *= cell_penalty * score
    return Selection(row=row, col=col, score=score, penalty=cell_penalty, size_rate=rate)
