# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Boxes from an object detector as candidates for the lost target (re-acquisition).

With ``detections_topic`` set, the node subscribes to a ``vision_msgs/Detection2DArray``
topic (a yolo_ros or any other detector) and keeps the newest array's boxes of the
classes in ``detection_classes`` (all classes when empty). While the target is lost,
the boxes of the array closest in time to the frame (within ``detection_max_age``
seconds of its stamp) are verified against the template
(``Tracker.redetect_from``); a verified one resumes the track. With
``start_on_detection`` (``first`` or ``best``) a node without a target starts on the
first listed or the highest-scoring box of those classes.
"""

from collections import deque
import math
import threading
from typing import Any, NamedTuple, Sequence

from litetrack_ros.node.stamps import stamp_to_ns
from vision_msgs.msg import Detection2DArray

# Arrays kept, to match a frame with the detections of its own stamp.
KEPT_ARRAYS = 30
# Boxes read from one array, and hypotheses from one box (a detector lists tens): the
# callback's work and the memory kept stay bounded whatever an array holds.
MAX_DETECTIONS = 256
MAX_HYPOTHESES = 16


class Candidate(NamedTuple):
    """One detector box: ``(x, y, w, h)`` pixels, its best score and class."""

    box_xywh: tuple[float, float, float, float]
    score: float
    class_id: str


def parse_classes(text: str) -> frozenset[str]:
    """Split the comma-separated ``detection_classes`` parameter (empty: every class)."""
    return frozenset(part.strip() for part in str(text).split(',') if part.strip())


def candidates_from(message: Detection2DArray, classes: frozenset[str]) -> list[Candidate]:
    """Boxes of the wanted classes in a detection array (a box without results: class '').

    Only the first ``MAX_DETECTIONS`` boxes and ``MAX_HYPOTHESES`` results of each are read.
    """
    found = []
    for detection in message.detections[:MAX_DETECTIONS]:
        w, h = float(detection.bbox.size_x), float(detection.bbox.size_y)
        x = float(detection.bbox.center.position.x) - w / 2
        y = float(detection.bbox.center.position.y) - h / 2
        if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
            continue
        hypotheses = [(float(r.hypothesis.score), str(r.hypothesis.class_id))
                      for r in detection.results[:MAX_HYPOTHESES]] or [(0.0, '')]
        wanted = [item for item in hypotheses if not classes or item[1] in classes]
        if wanted:
            score, class_id = max(wanted)
            found.append(Candidate((x, y, w, h), score, class_id))
    return found


def pick_start(candidates: Sequence[Candidate], mode: str) -> Candidate | None:
    """Return the candidate to start on: ``first`` listed or ``best`` scoring, or None."""
    if not candidates or mode not in ('first', 'best'):
        return None
    return candidates[0] if mode == 'first' else max(candidates, key=lambda c: c.score)


class DetectorCandidates:
    """The newest detection arrays of the detector topic, filtered by class."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrays: deque[tuple[int, list[Candidate]]] = deque(maxlen=KEPT_ARRAYS)
        self.classes: frozenset[str] = frozenset()
        self.received = 0

    def clear(self) -> None:
        """Forget every kept array."""
        with self._lock:
            self._arrays.clear()

    def on_detections(self, message: Detection2DArray) -> None:
        """Keep the wanted boxes of an array (subscription callback)."""
        found = candidates_from(message, self.classes)
        with self._lock:
            self.received += 1
            self._arrays.append((stamp_to_ns(message.header.stamp), found))

    def for_frame(self, stamp: Any, max_age_s: float) -> list[Candidate]:
        """Boxes of the kept array closest in stamp to the frame's, if within ``max_age_s``."""
        frame_ns = stamp_to_ns(stamp)
        with self._lock:
            arrays = list(self._arrays)
        if not arrays:
            return []
        stamp_ns, found = min(arrays, key=lambda item: abs(item[0] - frame_ns))
        return found if abs(stamp_ns - frame_ns) <= max_age_s * 1e9 else []
