# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Trackers behind one small interface, so the runner can compare them fairly.

Every adapter takes BGR uint8 frames (what ``cv2.imread`` gives) and
``(x, y, w, h)`` pixel boxes::

    tracker.init(first_bgr, box_xywh)
    box = tracker.update(next_bgr)   # (x, y, w, h) floats, or None when it gave up

Adapters: OpenCV ``TrackerMIL``, ``TrackerNano`` and ``TrackerVit`` (the ONNX
models are not shipped: pass their paths) and this package's tracker (LiteTrack or
LightTrack, as the checkpoint says).

A random tracker (MIL) also has ``seeds``, the seeds to run it with, and
``set_seed(seed)``, which the next ``init`` uses; the runner runs it once per
seed and the report gives mean and spread over the seeds.
"""

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import cv2
from litetrack_ros.tracking.frame_guard import FrameSkipped
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


@contextmanager
def quiet_opencv_log():
    """Mute OpenCV's warnings (errors still show) inside the block, then restore the level.

    OpenCV 5's DNN trackers (Nano, Vit) log ``setPreferableTarget Targets are
    not supported by the new graph engine`` each time one is created, that is
    once per sequence, and it says nothing about the results.
    """
    logging = cv2.utils.logging
    level = logging.getLogLevel()
    logging.setLogLevel(min(level, logging.LOG_LEVEL_ERROR))
    try:
        yield
    finally:
        logging.setLogLevel(level)


class OpenCVTracker:
    """Adapter for the ``cv2.Tracker`` family; a new instance is created per ``init``.

    ``kind`` and ``files`` (role -> model file) describe it for the results'
    settings; ``seeds`` is None for deterministic trackers.
    """

    def __init__(self, name: str, factory: Callable[[], Any], kind: str = 'opencv',
                 files: dict[str, str] | None = None,
                 seeds: Sequence[int] | None = None) -> None:
        self.name = name
        self.kind = kind
        self.files = dict(files or {})
        self.seeds = tuple(seeds) if seeds is not None else None
        self.seed = self.seeds[0] if self.seeds else None
        self._factory = factory
        self._tracker = None

    def set_seed(self, seed: int) -> None:
        """Seed OpenCV's random generator with ``seed`` at the next ``init``."""
        self.seed = int(seed)

    def init(self, image_bgr: np.ndarray, box_xywh: Sequence[float]) -> None:
        """Create a fresh OpenCV tracker and initialise it on ``box_xywh``."""
        # OpenCV trackers cannot be re-initialised cleanly: always start from a new one.
        if self.seed is not None:
            cv2.setRNGSeed(self.seed)
        with quiet_opencv_log():
            self._tracker = self._factory()
        self._tracker.init(image_bgr, _pixel_rect(box_xywh))

    def update(self, image_bgr: np.ndarray) -> Box | None:
        """Track one frame; None when OpenCV reports the target lost."""
        if self._tracker is None:
            raise RuntimeError(f'{self.name}: update() called before init()')
        found, rect = self._tracker.update(image_bgr)
        return tuple(float(value) for value in rect) if found else None


DEFAULT_MIL_SEEDS = 3


def mil_tracker(name: str = 'mil', seeds: int = DEFAULT_MIL_SEEDS) -> OpenCVTracker:
    """Return OpenCV's MIL tracker (a weak classical baseline), run with seeds 0..seeds-1.

    MIL draws random samples: on one sequence its AUC varied from 0.14 to 0.80
    between seeds, so a single run says little.  The OpenCV RNG is seeded
    before every ``init``, but part of MIL's random state is out of reach from
    Python, so results on a sequence still depend somewhat on what ran before
    in the same process.
    """
    if seeds < 1:
        raise TrackerSetupError(f'mil needs seeds >= 1, got {seeds}')
    return OpenCVTracker(name, cv2.TrackerMIL_create, kind='mil', seeds=range(seeds))


def nano_tracker(backbone: str | Path, head: str | Path, name: str = 'nano') -> OpenCVTracker:
    """Return OpenCV's NanoTrack v2 from its two ONNX files (``backbone``, ``neckhead``)."""
    params = cv2.TrackerNano_Params()
    params.backbone = _require_file(backbone, 'NanoTrack backbone ONNX')
    params.neckhead = _require_file(head, 'NanoTrack head ONNX')
    return OpenCVTracker(name, lambda: cv2.TrackerNano_create(params), kind='nano',
                         files={'backbone': params.backbone, 'head': params.neckhead})


def vit_tracker(net: str | Path, name: str = 'vit') -> OpenCVTracker:
    """Return OpenCV's VitTrack from its ONNX file."""
    params = cv2.TrackerVit_Params()
    params.net = _require_file(net, 'VitTrack ONNX')
    return OpenCVTracker(name, lambda: cv2.TrackerVit_create(params), kind='vit',
                         files={'net': params.net})


class LiteTrackAdapter:
    """Adapter for a ``tracking.tracker.Tracker`` (build one with :func:`litetrack_tracker`).

    The box is reported on every frame, lost or not, as benchmark protocols
    expect; the confidence of the last frame is kept in ``last_confidence``.
    """

    def __init__(self, tracker: Any, name: str = 'litetrack', info: Any = None) -> None:
        self.name = name
        self.info = info  # litetrack_ros.tracking.runtime.TrackerInfo when built from settings
        self._tracker = tracker
        self.last_confidence = float('nan')
        self.last_lost = False  # the tracker's presence decision (litetrack-eval --absent-frames)

    @property
    def size_update_rate(self) -> float | None:
        """Return the tracker's share of the predicted size change taken per frame."""
        rate = getattr(self._tracker, 'size_update_rate', None)
        return float(rate) if rate is not None else None

    def init(self, image_bgr: np.ndarray, box_xywh: Sequence[float]) -> None:
        """Encode the template from the first frame."""
        self._tracker.initialize(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB), tuple(box_xywh))
        self._last_box = tuple(float(value) for value in box_xywh)

    def update(self, image_bgr: np.ndarray) -> Box:
        """Track one frame (the network expects RGB, hence the conversion).

        A frame the tracker's size guard skips (a 1 x 1 glitch in a folder) reports the
        previous box, as the node publishes nothing for it; the track is untouched.
        """
        try:
            result = self._tracker.track(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
        except FrameSkipped:
            return self._last_box
        self.last_confidence = result.confidence
        self.last_lost = bool(getattr(result, 'lost', False))
        self._last_box = tuple(float(value) for value in result.box_xywh)
        return self._last_box

    def predict_at(self, image_bgr: np.ndarray, box_xywh: Sequence[float]) -> tuple[Box, float]:
        """Return the box and confidence found around ``box_xywh`` (``Tracker.predict_at``)."""
        box, confidence = self._tracker.predict_at(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB),
                                                   tuple(box_xywh))
        return tuple(float(value) for value in box), confidence


def litetrack_tracker(weights: str | Path | None = None, device: str = 'auto',
                      precision: str = 'auto', search_size: int | None = None,
                      variant: str = 'auto', name: str | None = None,
                      size_update_rate: float | None = None,
                      tracking: dict[str, Any] | None = None,
                      compile: bool = False,  # noqa: A002 - the option's name
                      ) -> LiteTrackAdapter:
    """Build the package's tracker from settings, the same way the ROS node does.

    The model family (LiteTrack or LightTrack) comes from the checkpoint. Without
    ``weights`` the network is untrained (seeded random weights) and is named
    ``litetrack-untrained`` so that it cannot pass for the real thing.
    ``tracking`` overrides tracking settings of the network's config (see
    :func:`litetrack_ros.tracking.runtime.build_tracker`). Non-default precision, search size
    and settings are appended to the default name so that variants can be compared
    in one run.
    """
    # Imported here so that the OpenCV baselines work without torch installed.
    from litetrack_ros.tracking.runtime import build_tracker, resolve_weights, WeightsError

    try:
        weights_path = resolve_weights(str(weights), None) if weights else None
        tracker, info = build_tracker(
            weights_path, device=device, precision=precision, variant=variant,
            search_size=search_size or 0, allow_untrained=True,
            size_update_rate=size_update_rate, tracking=tracking, compile=compile)
    except (WeightsError, ValueError) as error:
        raise TrackerSetupError(str(error)) from error
    if name is None:
        family = 'lighttrack' if info.variant.startswith('LightTrack') else 'litetrack'
        name = f'{family}-untrained' if info.untrained else family
        if precision not in ('', 'auto', 'fp32'):
            name += f'-{info.precision}'
        if search_size:
            name += f'-s{info.search_size}'
        if size_update_rate is not None:
            name += f'-u{size_update_rate:g}'
        for key, value in (tracking or {}).items():
            name += f'-{SETTING_LABELS[key]}{value if value is None else f"{value:g}"}'
    return LiteTrackAdapter(tracker, name, info)


# Tracking settings litetrack-eval can override, with their name suffixes.
SETTING_LABELS = {'window_influence': 'w', 'scale_penalty_k': 'k',
                  'score_weighted_size_update': 'sw', 'lost_threshold': 'lt', 'lost_frames': 'lf',
                  'redetect_threshold': 'rt', 'redetect_tiles': 'rd'}


# Options each tracker kind accepts (``name`` is accepted by all of them).
TRACKER_OPTIONS: dict[str, tuple[str, ...]] = {
    'litetrack': ('weights', 'device', 'precision', 'search_size', 'variant', 'size_update_rate',
                  'window_influence', 'scale_penalty_k', 'score_weighted_size_update',
                  'compile', 'lost_threshold', 'lost_frames', 'redetect_threshold',
                  'redetect_tiles'),
    'mil': ('seeds',),
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


def _tracking_options(options: dict[str, str]) -> dict[str, Any]:
    """Parse the tracking-setting options that are given (``none``: no window influence)."""
    settings: dict[str, Any] = {}
    text = options.get('window_influence')
    if text:
        settings['window_influence'] = None if text.lower() == 'none' else \
            _number(options, 'window_influence', float)
    if options.get('scale_penalty_k'):
        settings['scale_penalty_k'] = _number(options, 'scale_penalty_k', float)
    for key in ('lost_threshold', 'redetect_threshold'):
        if options.get(key):
            settings[key] = _number(options, key, float)
    for key in ('lost_frames', 'redetect_tiles'):
        if options.get(key):
            settings[key] = _number(options, key, int)
    text = options.get('score_weighted_size_update')
    if text:
        if text.lower() not in ('0', '1', 'true', 'false'):
            raise TrackerSetupError(f'score_weighted_size_update must be 0/1/true/false, '
                                    f'got {text!r}')
        settings['score_weighted_size_update'] = text.lower() in ('1', 'true')
    return settings


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
        seeds = _number(options, 'seeds', int)
        return mil_tracker(name or 'mil', DEFAULT_MIL_SEEDS if seeds is None else seeds)
    if kind == 'litetrack':
        return litetrack_tracker(weights=options.get('weights') or None,
                                 device=options.get('device', 'auto'),
                                 precision=options.get('precision', 'auto'),
                                 search_size=_number(options, 'search_size', int),
                                 variant=options.get('variant', 'auto'), name=name,
                                 size_update_rate=_number(options, 'size_update_rate', float),
                                 tracking=_tracking_options(options),
                                 compile=_number(options, 'compile', int) == 1)
    missing = [key for key in TRACKER_OPTIONS[kind] if not options.get(key)]
    if missing:
        example = ','.join(f'{key}=PATH' for key in TRACKER_OPTIONS[kind])
        raise TrackerSetupError(f'tracker {kind!r} needs {", ".join(missing)} '
                                f'(e.g. --tracker {kind}:{example})')
    if kind == 'nano':
        return nano_tracker(options['backbone'], options['head'], name or 'nano')
    return vit_tracker(options['net'], name or 'vit')
