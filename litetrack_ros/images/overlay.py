# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Draw the track on a frame (debug image, demo video, offline tool)."""

from collections.abc import Sequence

import cv2
import numpy as np

TRACKING_COLOUR = (0, 220, 0)  # RGB
LOST_COLOUR = (230, 40, 40)
TEXT_COLOUR = (255, 255, 255)


def draw_track(image_rgb: np.ndarray, box_xywh: Sequence[float] | None, *,
               confidence: float | None, state: str, fps: float | None = None,
               untrained: bool = False, distance_m: float | None = None) -> np.ndarray:
    """Return a copy of the frame with the box, score, state and rate drawn on it.

    ``state`` is a short word ('tracking', 'searching', 'lost', 'idle'); the box is drawn in
    green while tracking and red while lost or searching, and a network with random weights
    is labelled UNTRAINED so nobody mistakes its output for tracking.
    ``distance_m`` (the target's depth, when known) is written after the score.
    """
    canvas = np.ascontiguousarray(image_rgb).copy()
    scale = max(canvas.shape[0], canvas.shape[1]) / 640.0
    thickness = max(1, round(2 * scale))
    colour = LOST_COLOUR if state in ('lost', 'searching') else TRACKING_COLOUR
    if box_xywh is not None:
        x, y, w, h = (int(round(v)) for v in box_xywh)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), colour, thickness)
    parts = [state]
    if confidence is not None:
        parts.append(f'score {confidence:.2f}')
    if distance_m is not None:
        parts.append(f'{distance_m:.2f} m')
    if fps is not None:
        parts.append(f'{fps:.1f} fps')
    if untrained:
        parts.append('UNTRAINED')
    _label(canvas, '  '.join(parts), scale)
    return canvas


def _label(canvas: np.ndarray, text: str, scale: float) -> None:
    """Write text on a dark strip at the top left so it reads on any background."""
    font_scale = 0.5 * scale
    thickness = max(1, round(scale))
    (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                                                thickness)
    pad = max(2, round(4 * scale))
    cv2.rectangle(canvas, (0, 0), (width + 2 * pad, height + baseline + 2 * pad), (0, 0, 0), -1)
    cv2.putText(canvas, text, (pad, pad + height), cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                TEXT_COLOUR, thickness, cv2.LINE_AA)
