# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Single-object tracker around a LiteTrack or LightTrack network, free of ROS.

The procedure is the official test-time pipeline of the network's family
(``litetrack_ros.tracking.procedures``): for LiteTrack OSTrack's (the template is cut
once around the initial box, 2x its size, and never updated; every frame a
search region 4x the size of the previous box is cut around it, the network
scores it, a Hann window penalises large jumps, and the best cell's box is
mapped back to the image and clipped to it), for LightTrack the official
SiamFC-style one (context crops padded with the mean colour, cosine window,
scale/ratio penalty, score-weighted size update).

Additions for use on a robot, shared by both families, which leave the boxes
of the official pipelines unchanged while the target is tracked:

* ``confidence`` is the raw score of the chosen cell (before the window);
* after ``lost_frames`` consecutive frames below ``lost_threshold`` the
  target is reported lost; while lost the search region stays on the last
  confidently tracked box (it is neither moved onto background by
  unconfident predictions nor widened) and tracking recovers as soon as the
  score is back above the threshold;
* a change of image size mid-track rescales the state proportionally (the
  camera resolution changed, not the scene);
* presence with hysteresis: a lost target is resumed only when the score reaches
  ``redetect_threshold`` (default: ``lost_threshold``); with ``redetect_tiles`` > 0
  the lost tracker also searches the whole frame at the target's last scale, that
  many search regions per frame in one batch (``litetrack_ros.tracking.redetect``),
  and resumes at the best candidate once a search cut around it confirms it;
  :meth:`Tracker.redetect_from` verifies outside candidates (a detector's boxes)
  the same way. The thresholds and the tile count are tracking settings stored
  with the weights (``lost_threshold``, ``redetect_threshold``, ``redetect_tiles``).

``TrackResult.state`` says which: ``'tracking'``, ``'searching'`` (lost, global
re-detection running) or ``'lost'`` (lost, searching near the last position only).

Example::

    tracker = Tracker(net)
    tracker.initialize(first_rgb, (x, y, w, h))
    for rgb in frames:
        result = tracker.track(rgb)
"""

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

from litetrack_ros.model.config import ModelConfig
from litetrack_ros.tracking.frame_guard import FrameSizeGuard, FrameSkipped
from litetrack_ros.tracking.geometry import Box, validate_box
from litetrack_ros.tracking.procedures import (  # noqa: F401 (damp_size_change: public here too)
    CLIP_MARGIN,
    damp_size_change,
    finite_or_miss,
    procedure_for,
)
from litetrack_ros.tracking.redetect import batch_item, search_tiles
import numpy as np
import torch

# Crop sizes for networks without a config (OSTrack's); a real network brings its own.
DEFAULT_TEMPLATE_SIZE = ModelConfig.template_size
DEFAULT_SEARCH_SIZE = ModelConfig.search_size
# Score below which a frame is a miss when neither the caller nor the weights say.
DEFAULT_LOST_THRESHOLD = 0.25
# The presence settings and their values when neither the caller nor the weights say
# (redetect_threshold None: the lost threshold; redetect_tiles 0: no global search).
PRESENCE_DEFAULTS = {'lost_threshold': DEFAULT_LOST_THRESHOLD, 'lost_frames': 5,
                     'redetect_threshold': None, 'redetect_tiles': 0}


@dataclass(frozen=True)
class TrackResult:
    """Outcome of tracking one frame.

    Attributes:
        box_xywh: ``(x, y, w, h)`` in pixels of the frame, clipped to it.
        confidence: raw network score (sigmoid, in ``(0, 1)``) of the chosen
            cell, before the window and any penalty.
        lost: True once the confidence has stayed below the threshold for
            ``lost_frames`` consecutive frames, until it rises above it again.
        frame_index: 1 for the first frame after ``initialize``, then 2, 3...
        state: ``'tracking'``, ``'searching'`` (lost; the global re-detection
            runs) or ``'lost'`` (lost; no global re-detection).

    """

    box_xywh: Tuple[float, float, float, float]
    confidence: float
    lost: bool
    frame_index: int
    state: str = 'tracking'


def as_rgb_image(image: Any) -> np.ndarray:
    """Check a frame and return it as ``H x W x 3`` uint8 (grey is replicated).

    Raises:
        ValueError: not a numpy uint8 array of shape ``H x W``, ``H x W x 1``
            or ``H x W x 3``, or an image with no pixels.

    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f'image must be a numpy array, got {type(image).__name__}')
    if image.dtype != np.uint8:
        raise ValueError(f'image must have dtype uint8, got {image.dtype}')
    if image.ndim == 3 and image.shape[2] == 3:
        rgb = image
    elif image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        rgb = np.repeat(image.reshape(image.shape[:2] + (1,)), 3, axis=2)
    else:
        raise ValueError(
            f'image must be H x W x 3 RGB or H x W grey, got shape {image.shape}'
        )
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ValueError(f'image is empty (shape {image.shape})')
    return rgb


def _scale_box(box: Box, scale_x: float, scale_y: float) -> Box:
    x, y, w, h = box
    return (x * scale_x, y * scale_y, w * scale_x, h * scale_y)


def _crop_size(net: Any, name: str, requested: Optional[int], default: int) -> int:
    """Crop size from ``net.config.<name>``, the request, or the default, in that order.

    A request that contradicts the network's config is an error: the network's
    position embeddings fix the crop size (``LiteTrack.set_search_size``
    changes it).
    """
    configured = getattr(getattr(net, 'config', None), name, None)
    if requested is not None and configured is not None and int(requested) != int(configured):
        raise ValueError(
            f'{name}={requested} differs from the network config ({configured}); '
            'change the network instead (LiteTrack.set_search_size)'
        )
    size = int(requested if requested is not None else configured or default)
    if size < 1:
        raise ValueError(f'{name} must be positive, got {size}')
    return size


class Tracker:
    """Track one object with a LiteTrack or LightTrack network (see the module docstring)."""

    def __init__(
        self,
        net: Any,
        device: str | torch.device = 'cpu',
        dtype: torch.dtype = torch.float32,
        lost_threshold: Optional[float] = None,
        lost_frames: Optional[int] = None,
        search_size: Optional[int] = None,
        template_size: Optional[int] = None,
        size_update_rate: Optional[float] = None,
        redetect_threshold: Optional[float] = None,
        redetect_tiles: Optional[int] = None,
        frame_guard: Optional[FrameSizeGuard] = None,
    ) -> None:
        """Wrap ``net`` (moved to ``device``/``dtype`` and set to eval mode).

        Args:
            net: object with ``encode_template(...)`` and
                ``track_search(state, search)`` as in docs/design.md, usually a
                ``LiteTrack`` or ``LightTrack``; ``net.config.family`` picks
                the procedure (LiteTrack's without a config).
            device: device the network runs on.
            dtype: dtype of the network's inputs (and weights).
            lost_threshold: confidence below which a frame counts as a miss;
                default ``net.config.lost_threshold`` (else 0.25).
            lost_frames: consecutive misses after which the target is lost;
                default ``net.config.lost_frames`` (else 5).
            redetect_threshold: confidence a lost target must reach again to be
                resumed; default ``net.config.redetect_threshold`` (else the
                lost threshold).
            redetect_tiles: search regions per frame of the global re-detection
                while lost (0: off); default ``net.config.redetect_tiles`` (else 0).
            search_size: side of the search crop; default
                ``net.config.search_size`` (else 256). Must agree with it.
            template_size: side of the template crop; default
                ``net.config.template_size`` (else 128). Must agree with it.
            size_update_rate: share of the predicted size change taken per
                frame, in ``(0, 1]``; default ``net.config.size_update_rate``
                (else 1, OSTrack's: the predicted size as it is; LightTrack's
                0.765 is weighted by the score).
            frame_guard: skips frames whose size cannot belong to the stream
                (``track`` raises ``FrameSkipped``); ``build_tracker`` gives every
                tool one, so the node and the offline tools skip the same frames.

        """
        self.frame_guard = frame_guard
        self.device = torch.device(device)
        self.dtype = dtype
        config = getattr(net, 'config', None)
        # What the weights say (None: nothing stored), for set_presence_setting(name, None).
        self._stored_presence = {name: getattr(config, name, None) for name in PRESENCE_DEFAULTS}
        # Sets lost_threshold, lost_frames, redetect_threshold (None: the lost
        # threshold) and redetect_tiles: the argument, else the weights', else the default.
        given = {'lost_threshold': lost_threshold, 'lost_frames': lost_frames,
                 'redetect_threshold': redetect_threshold, 'redetect_tiles': redetect_tiles}
        for name, value in given.items():
            self.set_presence_setting(name, value)
        self.nonfinite_outputs = 0  # frames whose output was NaN/inf: counted as misses
        self.search_size = _crop_size(net, 'search_size', search_size, DEFAULT_SEARCH_SIZE)
        self.template_size = _crop_size(
            net, 'template_size', template_size, DEFAULT_TEMPLATE_SIZE
        )
        self.procedure = procedure_for(net, self.template_size, self.search_size)
        if isinstance(net, torch.nn.Module):
            net = net.to(device=self.device, dtype=self.dtype).eval()
        self.net = net
        self.set_size_update_rate(size_update_rate)
        self.reset()

    @property
    def template_factor(self) -> Optional[float]:
        """Template crop side over the box size (OSTrack procedure; None otherwise)."""
        return getattr(self.procedure, 'template_factor', None)

    @property
    def search_factor(self) -> Optional[float]:
        """Search crop side over the box size (OSTrack procedure; None otherwise)."""
        return getattr(self.procedure, 'search_factor', None)

    @property
    def size_update_rate(self) -> float:
        """Share of the predicted size change taken per frame (before score weighting)."""
        return self.procedure.settings.size_update_rate

    def set_size_update_rate(self, rate: Optional[float] = None) -> None:
        """Set the share of the predicted size change taken per frame, in ``(0, 1]``.

        None: ``net.config.size_update_rate`` (1, OSTrack's, for a net without one).
        """
        if rate is None:
            rate = getattr(getattr(self.net, 'config', None), 'size_update_rate', 1.0)
        if not 0 < rate <= 1:
            raise ValueError(f'size_update_rate must be in (0, 1], got {rate}')
        self.procedure.settings = dataclasses.replace(self.procedure.settings,
                                                      size_update_rate=float(rate))

    def reset(self) -> None:
        """Forget the target; ``initialize`` must be called again before ``track``."""
        self._template_state: Any = None
        self._context: Any = None
        self._image_hw: Optional[Tuple[int, int]] = None
        self._box: Optional[Box] = None
        self._search_box: Optional[Box] = None
        self._confident_box: Optional[Box] = None
        self._misses = 0
        self._lost = False
        self._frame_index = 0
        self._tiles: list = []  # global-search tiles left in the current sweep

    @property
    def is_initialized(self) -> bool:
        """Whether a target is set (``initialize`` called since the last ``reset``)."""
        return self._image_hw is not None

    @property
    def box_xywh(self) -> Optional[Box]:
        """Latest box estimate (the initial box right after ``initialize``)."""
        return self._box

    @property
    def search_box(self) -> Optional[Box]:
        """Box the next search region is centred on and sized from.

        The latest box, except while lost: then the last confidently tracked box.
        """
        return self._search_box

    def set_presence_setting(self, name: str, value: Any = None) -> None:
        """Set ``lost_threshold``, ``lost_frames``, ``redetect_threshold`` or ``redetect_tiles``.

        None: the value stored with the weights, else the default (0.25, 5, the lost
        threshold, 0).

        Raises:
            ValueError: unknown name, a threshold outside [0, 1], lost frames < 1 or
                tiles < 0.

        """
        if name not in PRESENCE_DEFAULTS:
            raise ValueError(f'not a presence setting: {name!r}')
        if value is None:
            value = self._stored_presence.get(name)
        if value is None:
            value = PRESENCE_DEFAULTS[name]
        if name in ('redetect_tiles', 'lost_frames'):
            least = 1 if name == 'lost_frames' else 0
            if int(value) != value or value < least:
                raise ValueError(f'{name} must be a whole number >= {least}, got {value}')
            value = int(value)
        elif value is not None:
            value = float(value)
            if not 0 <= value <= 1:
                raise ValueError(f'{name} must be in [0, 1], got {value}')
        setattr(self, name, value)

    @property
    def resume_threshold(self) -> float:
        """Confidence a lost target must reach to be resumed (hysteresis)."""
        if self.redetect_threshold is None:
            return self.lost_threshold
        return max(self.redetect_threshold, self.lost_threshold)

    @property
    def state(self) -> str:
        """``'tracking'``, ``'searching'`` or ``'lost'`` (see :class:`TrackResult`)."""
        if not self._lost:
            return 'tracking'
        return 'searching' if self.redetect_tiles > 0 else 'lost'

    @property
    def frame_index(self) -> int:
        """Frames tracked since ``initialize`` (0 right after it)."""
        return self._frame_index

    def initialize(self, image: np.ndarray, box_xywh: Sequence[float]) -> None:
        """Set the target from its box in ``image`` and encode the template.

        Args:
            image: ``H x W x 3`` uint8 RGB or ``H x W`` uint8 grey.
            box_xywh: target box in pixels; the part outside the image is
                clipped away.

        Raises:
            ValueError: bad image or box (the previous state is kept).

        """
        rgb = as_rgb_image(image)
        box = validate_box(box_xywh, rgb.shape)
        inputs, context = self.procedure.template_inputs(rgb, box)
        with torch.inference_mode():
            template_state = self.net.encode_template(*map(self._to_input, inputs))

        self.reset()
        self._template_state = template_state
        self._context = context
        self._image_hw = rgb.shape[:2]
        self._box = self._search_box = self._confident_box = box
        if self.frame_guard is not None:
            self.frame_guard.reset(self._image_hw)

    def track(self, image: np.ndarray) -> TrackResult:
        """Locate the target in the next frame.

        Args:
            image: ``H x W x 3`` uint8 RGB or ``H x W`` uint8 grey, of any
                size; if it differs from the previous frame's, the state is
                rescaled proportionally first.

        Raises:
            RuntimeError: ``initialize`` has not been called.
            ValueError: bad image (the tracker state is left untouched);
                ``FrameSkipped`` for a frame the ``frame_guard`` skips.

        """
        if not self.is_initialized:
            raise RuntimeError('Tracker.track() called before Tracker.initialize()')
        rgb = as_rgb_image(image)
        image_h, image_w = rgb.shape[:2]
        skip = self.frame_guard.check(image_h, image_w) if self.frame_guard else None
        if skip is not None:
            raise FrameSkipped(skip)
        previous_h, previous_w = self._image_hw
        scale_x, scale_y = image_w / previous_w, image_h / previous_h
        search_box = _scale_box(self._search_box, scale_x, scale_y)
        confident_box = _scale_box(self._confident_box, scale_x, scale_y)

        state, box, confidence = self._locate(rgb, search_box)
        if self._lost and confidence < self.resume_threshold and self.redetect_tiles > 0:
            if (image_h, image_w) != tuple(self._image_hw):
                self._tiles = []
            found = self._global_search(rgb, confident_box)
            if found is not None:
                state, box, confidence = found

        # Commit the new state only now that nothing can fail any more.
        self._image_hw = (image_h, image_w)
        self._frame_index += 1
        self._box = box
        threshold = self.resume_threshold if self._lost else self.lost_threshold
        if confidence >= threshold:
            self._misses = 0
            self._lost = False
            self._tiles = []
            self._confident_box = self._search_box = state
        else:
            self._misses += 1
            self._lost = self._misses >= self.lost_frames
            self._confident_box = confident_box
            # Before the target counts as lost, follow the prediction as the
            # official pipelines do; once lost, search where it was last seen.
            self._search_box = confident_box if self._lost else state
        return TrackResult(
            box_xywh=box, confidence=confidence, lost=self._lost,
            frame_index=self._frame_index, state=self.state,
        )

    def redetect_from(
        self, image: np.ndarray, candidates: Sequence[Sequence[float]]
    ) -> Optional[TrackResult]:
        """Verify outside candidate boxes (e.g. a detector's) against the template.

        Each candidate gets a search region cut around it (one batch); the best
        answer is then confirmed by a search cut around the box found. When its
        confidence reaches ``resume_threshold`` the track resumes there, in this
        frame, and its result is returned (``frame_index`` unchanged: the same
        frame as the last ``track``); otherwise None and nothing changes.

        Raises:
            RuntimeError: ``initialize`` has not been called.
            ValueError: bad image (a bad candidate box is skipped).

        """
        if not self.is_initialized:
            raise RuntimeError('Tracker.redetect_from() called before Tracker.initialize()')
        rgb = as_rgb_image(image)
        boxes = []
        for candidate in candidates:
            try:
                boxes.append(validate_box(candidate, rgb.shape))
            except ValueError:
                continue
        found = self._verify(rgb, self._locate_batch(rgb, boxes)) if boxes else None
        if found is None:
            return None
        state, box, confidence = found
        self._image_hw = rgb.shape[:2]
        self._box = box
        self._misses = 0
        self._lost = False
        self._tiles = []
        self._confident_box = self._search_box = state
        return TrackResult(box_xywh=box, confidence=confidence, lost=False,
                           frame_index=self._frame_index, state='tracking')

    def _global_search(self, rgb: np.ndarray, last_box: Box) -> Optional[Tuple[Box, Box, float]]:
        """Search the next ``redetect_tiles`` tiles of the sweep; a confirmed find or None."""
        if not self._tiles:
            side = self.procedure.search_side(last_box)
            self._tiles = search_tiles(rgb.shape[:2], last_box, side)
        batch, self._tiles = (self._tiles[:self.redetect_tiles],
                              self._tiles[self.redetect_tiles:])
        return self._verify(rgb, self._locate_batch(rgb, batch))

    def _verify(self, rgb: np.ndarray, found: list) -> Optional[Tuple[Box, Box, float]]:
        """Confirm the best candidate with a search cut around it (the template decides)."""
        best = max(found, key=lambda item: item[2], default=None)  # (state, box, confidence)
        if best is None or best[2] < self.resume_threshold:
            return None
        confirmed = self._locate(rgb, best[0])
        return confirmed if confirmed[2] >= self.resume_threshold else None

    def _locate_batch(self, rgb: np.ndarray, boxes: Sequence[Box]) -> list:
        """:meth:`_locate` for several search boxes in one network call."""
        crops, geometries = [], []
        for box in boxes:
            search, geometry = self.procedure.search_input(rgb, box, self._context)
            crops.append(search)
            geometries.append(geometry)
        if not crops:
            return []
        # A network compiled for batch 1 gets the regions one at a time (no recompile).
        step = 1 if getattr(self.net, 'batch_one_only', False) else len(crops)
        found = []
        with torch.inference_mode():
            for start in range(0, len(crops), step):
                batch = self._to_input(np.concatenate(crops[start:start + step]))
                out = self.net.track_search(self._template_state, batch)
                found += [finite_or_miss(
                    self.procedure.decode(batch_item(out, i), boxes[start + i],
                                          geometries[start + i], rgb.shape[:2]),
                    boxes[start + i])
                          for i in range(min(step, len(crops) - start))]
        return found

    def predict_at(self, image: np.ndarray, box_xywh: Sequence[float]) -> Tuple[Box, float]:
        """Return the box and confidence found with the search region cut around ``box_xywh``.

        One frame of the procedure (window, penalty and size update relative to
        ``box_xywh``) that leaves the tracker's state untouched: ``track`` continues
        as if it had not been called. For diagnostics (how far the network corrects a
        wrong previous box, ``litetrack-eval --size-response``) and re-detection.

        Raises:
            RuntimeError: ``initialize`` has not been called.
            ValueError: bad image or box.

        """
        if not self.is_initialized:
            raise RuntimeError('Tracker.predict_at() called before Tracker.initialize()')
        rgb = as_rgb_image(image)
        _, box, confidence = self._locate(rgb, validate_box(box_xywh, rgb.shape))
        return box, confidence

    def _locate(self, rgb: np.ndarray, search_box: Box) -> Tuple[Box, Box, float]:
        """Run the network on the search region around ``search_box``: (state, box, score)."""
        search, geometry = self.procedure.search_input(rgb, search_box, self._context)
        with torch.inference_mode():
            out = self.net.track_search(self._template_state, self._to_input(search))
            # Decoded in float32 on the host whatever the network dtype.
            found = self.procedure.decode(out, search_box, geometry, rgb.shape[:2])
        checked = finite_or_miss(found, search_box)
        if checked is not found:
            self.nonfinite_outputs += 1
        return checked

    def _to_input(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(
            device=self.device, dtype=self.dtype
        )
