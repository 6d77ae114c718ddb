# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Trackers behind one small interface, so the runner can compare them fairly.

Every adapter takes BGR uint8 frames (what ``cv2.imread`` gives) and
``(x, y, w, h)`` pixel boxes::

    tracker.init(first_bgr, box_xywh)
    box = tracker.update(next_bgr)   # (x, y, w, h) floats, or None when it gave up

Adapters: OpenCV ``TrackerMIL``, ``TrackerNano`` and ``TrackerVit`` (the ONNX
models are not shipped: pass their paths) and LiteTrack.
"""

from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import cv2
import numpy as np

Box = tuple[float, float, float, float]


class TrackerSetupError(ValueError):
    """A tracker cannot be built (missing model file, bad option)."""


class TrackerAdapter(Protocol):
    """What the runner needs from a tracker."""

    name: str

    def init(self, image_bgr: np.ndarray, box_xywh: Sequence[float]) -> None:
        """Start tracking the object in ``box_xywh`` of ``image_bgr``."""

    def update(self, image_bgr: np.ndarray) -> Box | None:
        """Return the box in the next frame, or None when the tracker reports failure."""


def _require_file(path: str | Path, what: str) -> str:
    path = Path(path).expanduser()
    if not path.is_file():
        raise TrackerSetupError(f'{what} not found: {path}')
    return str(path)


def _pixel_rect(box_xywh: Sequence[float]) -> tuple[int, int, int, int]:
    # OpenCV trackers take an integer Rect.  Rounding (not truncating) keeps the
    # box centred on the annotation; it is also what the reference figures used.
    x, y, w, h = (float(value) for value in box_xywh)
    return (int(round(x)), int(round(y)), max(1, int(round(w))), max(1, int(round(h))))


class OpenCVTracker:
    """Adapter for the ``cv2.Tracker`` family; a new instance is created per ``init``."""

    def __init__(self, name: str, factory: Callable[[], Any]) -> None:
        self.name = name
        self._factory = factory
        self._tracker = None

    def init(self, image_bgr: np.ndarray, box_xywh: Sequence[float]) -> None:
        """Create a fresh OpenCV tracker and initialise it on ``box_xywh``."""
        # OpenCV trackers cannot be re-initialised cleanly: always start from a new one.
        self._tracker = self._factory()
        self._tracker.init(image_bgr, _pixel_rect(box_xywh))

    def update(self, image_bgr: np.ndarray) -> Box | None:
        """Track one frame; None when OpenCV reports the target lost."""
        if self._tracker is None:
            raise RuntimeError(f'{self.name}: update() called before init()')
        found, rect = self._tracker.update(image_bgr)
        return tuple(float(value) for value in rect) if found else None


def mil_tracker(name: str = 'mil') -> OpenCVTracker:
    """OpenCV's MIL tracker (no model file; a weak classical baseline).

    MIL draws random samples.  The OpenCV RNG is reseeded at every ``init``,
    but part of MIL's random state is out of reach from Python, so results on
    a sequence depend somewhat on what ran before in the same process.
    """
    def create():
        cv2.setRNGSeed(0)
        return cv2.TrackerMIL_create()
    return OpenCVTracker(name, create)


def nano_tracker(backbone: str | Path, head: str | Path, name: str = 'nano') -> OpenCVTracker:
    """OpenCV's NanoTrack v2 from its two ONNX files (``backbone``, ``neckhead``)."""
    params = cv2.TrackerNano_Params()
    params.backbone = _require_file(backbone, 'NanoTrack backbone ONNX')
    params.neckhead = _require_file(head, 'NanoTrack head ONNX')
    return OpenCVTracker(name, lambda: cv2.TrackerNano_create(params))


def vit_tracker(net: str | Path, name: str = 'vit') -> OpenCVTracker:
    """OpenCV's VitTrack from its ONNX file."""
    params = cv2.TrackerVit_Params()
    params.net = _require_file(net, 'VitTrack ONNX')
    return OpenCVTracker(name, lambda: cv2.TrackerVit_create(params))


class LiteTrackAdapter:
    """Adapter for a ``litetrack_ros.tracker.Tracker`` (build one with :func:`litetrack_tracker`).

    The box is reported on every frame, lost or not, as benchmark protocols
    expect; the confidence of the last frame is kept in ``last_confidence``.
    """

    def __init__(self, tracker: Any, name: str = 'litetrack', info: Any = None) -> None:
        self.name = name
        self.info = info  # litetrack_ros.runtime.TrackerInfo when built from settings
        self._tracker = tracker
        self.last_confidence = float('nan')

    def init(self, image_bgr: np.ndarray, box_xywh: Sequence[float]) -> None:
        """Encode the template from the first frame."""
        self._tracker.initialize(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB), tuple(box_xywh))

    def update(self, image_bgr: np.ndarray) -> Box:
        """Track one frame (the network expects RGB, hence the conversion)."""
        result = self._tracker.track(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
        self.last_confidence = result.confidence
        return tuple(float(value) for value in result.box_xywh)


def litetrack_tracker(weights: str | Path | None = None, device: str = 'auto',
                      precision: str = 'auto', search_size: int | None = None,
                      variant: str = 'auto', name: str | None = None,
                      size_update_rate: float | None = None,
                      compile: bool = False) -> LiteTrackAdapter:
    """Build LiteTrack from settings, the same way the ROS node does.

    Without ``weights`` the network is untrained (seeded random weights) and
    is named ``litetrack-untrained`` so that it cannot pass for the real thing.
    Non-default precision or search size are appended to the default name so
    that variants can be compared in one run.
    """
    # Imported here so that the OpenCV baselines work without torch installed.
    from litetrack_ros.runtime import WeightsError, build_tracker, resolve_weights

    try:
        weights_path = resolve_weights(str(weights), None) if weights else None
        tracker, info = build_tracker(
            weights_path, device=device, precision=precision, variant=variant,
            search_size=search_size or 0, allow_untrained=True,
            size_update_rate=size_update_rate, compile=compile)
    except (WeightsError, ValueError) as error:
        raise TrackerSetupError(str(error)) from error
    if name is None:
        name = 'litetrack-untrained' if info.untrained else 'litetrack'
        if precision not in ('', 'auto', 'fp32'):
            name += f'-{info.precision}'
        if search_size:
            name += f'-s{info.search_size}'
        if size_update_rate is not None:
            name += f'-u{size_update_rate:g}'
    return LiteTrackAdapter(tracker, name, info)


# Options each tracker kind accepts (``name`` is accepted by all of them).
TRACKER_OPTIONS: dict[str, tuple[str, ...]] = {
    'litetrack': ('weights', 'device', 'precision', 'search_size', 'variant', 'size_update_rate',
                  'compile'),
    'mil': (),
    'nano': ('backbone', 'head'),
    'vit': ('net',),
}


def _number(options: dict[str, str], key: str, kind: type) -> Any:
    """Parse an optional numeric option; None when absent or empty."""
    text = options.get(key)
    try:
        return kind(text) if text else None
    except ValueError as error:
        raise TrackerSetupError(f'{key} must be a number ({kind.__name__}), got {text!r}'
                                ) from error


def create_tracker(kind: str, **options: str) -> TrackerAdapter:
    """Build a tracker from its kind and string options (as given on the command line).

    Raises:
        TrackerSetupError: unknown kind or option, missing required option or file.

    """
    if kind not in TRACKER_OPTIONS:
        raise TrackerSetupError(f'unknown tracker {kind!r}; choose from '
                                f'{", ".join(TRACKER_OPTIONS)}')
    allowed = TRACKER_OPTIONS[kind] + ('name',)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TrackerSetupError(f'tracker {kind!r} does not take option(s) '
                                f'{", ".join(unknown)}; it takes {", ".join(allowed)}')
    name = options.get('name') or None
    if kind == 'mil':
        return mil_tracker(name or 'mil')
    if kind == 'litetrack':
        return litetrack_tracker(weights=options.get('weights') or None,
                                 device=options.get('device', 'auto'),
                                 precision=options.get('precision', 'auto'),
                                 search_size=_number(options, 'search_size', int),
                                 variant=options.get('variant', 'auto'), name=name,
                                 size_update_rate=_number(options, 'size_update_rate', float),
                                 compile=_number(options, 'compile', int) == 1)
    missing = [key for key in TRACKER_OPTIONS[kind] if not options.get(key)]
    if missing:
        example = ','.join(f'{key}=PATH' for key in TRACKER_OPTIONS[kind])
        raise TrackerSetupError(f'tracker {kind!r} needs {", ".join(missing)} '
                                f'(e.g. --tracker {kind}:{example})')
    if kind == 'nano':
        return nano_tracker(options['backbone'], options['head'], name or 'nano')
    return vit_tracker(options['net'], name or 'vit')
