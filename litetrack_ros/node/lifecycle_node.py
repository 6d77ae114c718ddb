# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``litetrack`` node: camera images in, the target's box out.

A managed (lifecycle) node. configure loads the network, activate subscribes
to the camera, deactivate stops work, cleanup frees the network (and GPU
memory). With ``autostart`` (default) it configures and activates itself, so
it also runs without a lifecycle manager.

Threads: the executor (single-threaded, ``litetrack_ros.node.main``) runs
only light callbacks: the image callback checks a frame's fields and offers it
to the ``FrameBuffer`` (``frames.py``), which wakes the ``TrackingWorker``
(``worker.py``), a plain thread that decodes, tracks and publishes the newest
frame only. Services run in the executor thread and wait at most for one
tracking step (the tracker lock); ``set_target`` decodes nothing there: it hands
the frame to the tracking thread (``targets.py``) and answers at once.
Parameters are in ``parameters.py``, the diagnostics in ``diagnostics.py``.

No exception escapes a callback: bad frames are counted (``frames_rejected``
and ``last_rejection`` in diagnostics) and reported in a throttled warning
naming the reason; a failing request gets ``success: false`` with the reason.
"""

import gc
import math
import os
import threading
import time
from typing import Any, Callable

from diagnostic_msgs.msg import DiagnosticArray
from litetrack_ros.images.image_codec import (
    check_message,
    decode_message,
    encode_rgb8,
    ImageDecodeError,
)
from litetrack_ros.images.overlay import draw_track
from litetrack_ros.node.depth import TargetDepth
from litetrack_ros.node.detector_candidates import (
    DetectorCandidates,
    parse_classes,
    pick_start,
)
from litetrack_ros.node.diagnostics import diagnostic_status, NodeStats
from litetrack_ros.node.frames import FrameBuffer
from litetrack_ros.node.parameters import (
    check_choice,
    check_live_value,
    describe,
    PARAMETERS,
)
from litetrack_ros.node.stamps import format_stamp, stamp_to_ns
from litetrack_ros.node.targets import set_target_task
from litetrack_ros.node.worker import TrackingWorker
from litetrack_ros.srv import SetTarget
from litetrack_ros.tracking.frame_guard import FrameSkipped
from litetrack_ros.tracking.geometry import validate_box
from litetrack_ros.tracking.runtime import (
    build_tracker,
    package_weights_folder,
    resolve_weights,
    TrackerInfo,
)
from litetrack_ros.tracking.tracker import TrackResult
from rcl_interfaces.msg import SetParametersResult
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image
from std_srvs.srv import Trigger
from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

# Seconds between two warnings about rejected frames (each names its reason).
WARNING_PERIOD_S = 5.0
# How long deactivate/cleanup wait for the tracking thread to finish its frame.
WORKER_JOIN_TIMEOUT_S = 10.0


class LiteTrackNode(LifecycleNode):
    """Track one target in a camera stream (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('litetrack', **kwargs)
        for spec in PARAMETERS:
            self.declare_parameter(spec.name, spec.default, describe(spec))
        self.add_on_set_parameters_callback(self._on_set_parameters)

        # Guards the tracker (and its frame-size guard) and the target id: the tracking
        # thread and set_target/reset (executor thread) both use them.
        self._tracker_lock = threading.Lock()
        self._tracker = None
        self._info: TrackerInfo | None = None
        self._track_id = 0  # the last id handed out by set_target
        self._tracked_id = 0  # the id of the target being tracked (set by its task)
        self._pending_id = 0  # the set_target whose task has not run yet (0: none)
        self._last_result: TrackResult | None = None
        self._max_pixels = int(self._param('max_image_pixels'))
        self._frames = FrameBuffer(self._param('frame_buffer_size'))
        self._worker = TrackingWorker(self._frames, self._track_frame, self._tracking_failed)
        self._stats = NodeStats()
        self._subscription = None
        self._qos_timer = None
        self._image_reliability = ReliabilityPolicy.BEST_EFFORT
        # Made by configure, destroyed by cleanup.
        self._detections_pub = self._debug_pub = self._diagnostics_pub = None
        self._set_target_srv = self._reset_srv = None
        self._diagnostics_timer = None
        # Depth input and 3D outputs, off unless depth_topic is set (node/depth.py).
        self._depth = TargetDepth(self, self._wanted_reliability, self._guarded, self._publish)
        # Detector boxes as candidates while lost, off unless detections_topic is set.
        self._detector = DetectorCandidates()
        self._detector.classes = parse_classes(self._param('detection_classes'))
        self._detector_sub = None
        self._lost_since = 0  # frame index of the last loss (for the recovery log)

        # Read by main: a failed autostart exits 1, the shutdown transition exits 0.
        self.start_failed = False
        self.shut_down = False
        if self._param('autostart'):
            self.start_failed = not (
                self.trigger_configure() == TransitionCallbackReturn.SUCCESS
                and self.trigger_activate() == TransitionCallbackReturn.SUCCESS)

    # ---------------------------------------------------------------- lifecycle

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load the network and create publishers and services."""
        try:
            self._check_choices()
            self._load_tracker()
            self._detections_pub = self.create_lifecycle_publisher(
                Detection2DArray, '~/detections', 10)
            self._debug_pub = self.create_lifecycle_publisher(Image, '~/debug_image', 2)
            # Not a lifecycle publisher: diagnostics also say "inactive".
            self._diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
            self._set_target_srv = self.create_service(SetTarget, '~/set_target',
                                                       self._on_set_target)
            self._reset_srv = self.create_service(Trigger, '~/reset', self._on_reset)
            self._diagnostics_timer = self.create_timer(
                self._param('diagnostics_period'), self._guarded(self._publish_diagnostics))
            self._depth.configure(self._max_pixels)
        except Exception as error:  # noqa: B902 - a failed configure must not kill the node
            self.get_logger().error(f'configure failed: {error}')
            self._destroy_configured_entities()
            return TransitionCallbackReturn.FAILURE
        # What configure allocated lives as long as the node: keep the collector
        # from scanning it again and again (fewer, shorter pauses while tracking).
        gc.collect()
        gc.freeze()
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Start listening to the camera and the tracking thread."""
        try:
            self._stats = NodeStats()
            self._worker.start()
            self._subscription = self._subscribe_images()
            self._depth.activate()
            if self._param('detections_topic'):
                self._detector_sub = self.create_subscription(
                    Detection2DArray, self._param('detections_topic'),
                    self._guarded(self._detector.on_detections), 10)
            self._qos_timer = self.create_timer(2.0, self._guarded(self._follow_publisher_qos))
        except Exception as error:  # noqa: B902
            self.get_logger().error(f'activate failed: {error}')
            self._stop_listening()
            return TransitionCallbackReturn.FAILURE
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop listening and tracking; the target and the network are kept."""
        if not self._release('deactivate', self._stop_listening):
            return TransitionCallbackReturn.FAILURE
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Free the network (and its GPU memory) and everything configure made."""
        if not self._release('cleanup', self._stop_listening,
                             self._destroy_configured_entities):
            return TransitionCallbackReturn.FAILURE
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything; the process then exits (main watches ``shut_down``)."""
        self._release('shutdown', self._stop_listening, self._destroy_configured_entities)
        self.shut_down = True
        return super().on_shutdown(state)

    def _release(self, transition: str, *steps: Callable[[], None]) -> bool:
        """Run teardown steps; log (never raise) a failure and say whether all succeeded."""
        try:
            for step in steps:
                step()
        except Exception as error:  # noqa: B902 - a transition must not kill the node
            self.get_logger().error(f'{transition} failed: {error!r}')
            return False
        return True

    def _stop_listening(self) -> None:
        for name, destroy in (('_qos_timer', self.destroy_timer),
                              ('_subscription', self.destroy_subscription),
                              ('_detector_sub', self.destroy_subscription)):
            entity = getattr(self, name)
            if entity is not None:
                destroy(entity)
                setattr(self, name, None)
        self._depth.deactivate()
        if not self._worker.stop(WORKER_JOIN_TIMEOUT_S):
            self.get_logger().warning('tracking thread did not stop within '
                                      f'{WORKER_JOIN_TIMEOUT_S:g} s; it ends after its frame')
        self._frames.drop_pending()

    def _destroy_configured_entities(self) -> None:
        for name in ('_detections_pub', '_debug_pub'):
            publisher = getattr(self, name, None)
            if publisher is not None:
                self.destroy_lifecycle_publisher(publisher)
                setattr(self, name, None)
        for name, destroy in (('_diagnostics_pub', self.destroy_publisher),
                              ('_set_target_srv', self.destroy_service),
                              ('_reset_srv', self.destroy_service),
                              ('_diagnostics_timer', self.destroy_timer)):
            entity = getattr(self, name, None)
            if entity is not None:
                destroy(entity)
                setattr(self, name, None)
        self._depth.cleanup()
        with self._tracker_lock:
            self._tracker = None
            self._last_result = None
        self._frames.clear()
        gc.unfreeze()  # what configure froze may go now
        import torch
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # ------------------------------------------------------------------- setup

    def _param(self, name: str) -> Any:
        return self.get_parameter(name).value

    def _on_set_parameters(self, parameters: list) -> SetParametersResult:
        """Apply live changes of the tracker thresholds; refuse values that do not fit."""
        try:
            with self._tracker_lock:
                for parameter in parameters:
                    self._apply_parameter(parameter.name, parameter.value)
        except (TypeError, ValueError) as error:
            return SetParametersResult(successful=False, reason=str(error))
        except Exception as error:  # noqa: B902 - never let a parameter kill the node
            self.get_logger().error(f'parameter change failed: {error!r}')
            return SetParametersResult(successful=False, reason=f'internal error: {error!r}')
        return SetParametersResult(successful=True)

    def _apply_parameter(self, name: str, value: Any) -> None:
        """Check one live parameter (raises ValueError) and pass it to the tracker."""
        tracker = self._tracker
        if name == 'detection_classes':
            self._detector.classes = parse_classes(value)
            return
        if name not in LIVE_SETTERS:
            return
        value = check_live_value(name, value)
        if tracker is not None:
            LIVE_SETTERS[name](tracker, value)

    def _check_choices(self) -> None:
        """Refuse a misspelt choice now rather than silently running with another."""
        for spec in PARAMETERS:
            check_choice(spec, self._param(spec.name))

    def _load_tracker(self) -> None:
        threads = self._param('cpu_threads') or max(1, (os.cpu_count() or 2) - 1)
        import torch
        torch.set_num_threads(int(threads))
        weights = resolve_weights(self._param('weights'), package_weights_folder())
        if weights is None and self._param('allow_untrained'):
            self.get_logger().warning('no checkpoint found: running an UNTRAINED network')
        tracker, info = build_tracker(
            weights, device=self._param('device'), precision=self._param('precision'),
            variant=self._param('variant'), search_size=self._param('search_size'),
            allow_untrained=self._param('allow_untrained'),
            size_update_rate=self._param('size_update_rate') or None,
            compile=self._param('compile'))
        for name in ('lost_threshold', 'lost_frames', 'redetect_threshold', 'redetect_tiles'):
            LIVE_SETTERS[name](tracker, self._param(name))
        with self._tracker_lock:
            self._tracker, self._info = tracker, info
        self._max_pixels = int(self._param('max_image_pixels'))
        self.get_logger().info(
            f'{info.network} ({info.parameters / 1e6:.1f} M parameters, search '
            f'{info.search_size} px, size update rate {tracker.size_update_rate:g}) on '
            f'{info.device} in {info.precision} ({threads} CPU threads), weights {info.weights}; '
            f'lost below {tracker.lost_threshold:g}, resumed from {tracker.resume_threshold:g}, '
            f'{tracker.redetect_tiles} re-detection tiles per frame')
        self.get_logger().info(f'precision {info.precision} ({info.precision_reason}); compile: '
                               f'{info.compile_message or "off"}')

    def _image_topic(self) -> tuple[type, str]:
        if self._param('input_transport') == 'compressed':
            # image_transport's convention: <base topic>/compressed, after remapping.
            return CompressedImage, self.resolve_topic_name('image') + '/compressed'
        return Image, self.resolve_topic_name('image')

    def _wanted_reliability(self, topic: str) -> ReliabilityPolicy:
        choice = self._param('image_qos')
        if choice == 'reliable':
            return ReliabilityPolicy.RELIABLE
        if choice == 'sensor_data':
            return ReliabilityPolicy.BEST_EFFORT
        # auto, as `ros2 topic echo` does: match the publishers. A best-effort
        # subscription loses whole frames when a fragment of a large image is
        # lost (most 640x480 frames on a loaded machine here), while a reliable
        # one cannot connect to a best-effort camera at all.
        publishers = self.get_publishers_info_by_topic(topic)
        if publishers and all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                              for p in publishers):
            return ReliabilityPolicy.RELIABLE
        return ReliabilityPolicy.BEST_EFFORT

    def _subscribe_images(self):
        message_type, topic = self._image_topic()
        self._image_reliability = self._wanted_reliability(topic)
        qos = QoSProfile(depth=5, reliability=self._image_reliability)
        return self.create_subscription(message_type, topic, self._guarded(self._on_image), qos)

    def _follow_publisher_qos(self) -> None:
        """Resubscribe when the publishers' reliability changed (image_qos: auto)."""
        if self._subscription is None or self._param('image_qos') != 'auto':
            return
        self._depth.follow_publisher_qos()
        _, topic = self._image_topic()
        wanted = self._wanted_reliability(topic)
        if wanted == self._image_reliability:
            return
        self.get_logger().info(f'publishers of {topic} changed: subscribing '
                               f'{wanted.name.lower()}')
        self.destroy_subscription(self._subscription)
        self._subscription = self._subscribe_images()

    def _guarded(self, callback: Callable[..., None]) -> Callable[..., None]:
        """Wrap a callback so that no exception can escape into the executor."""
        def call(*args: Any) -> None:
            try:
                callback(*args)
            except Exception as error:  # noqa: B902 - the node must outlive any bug
                self.get_logger().error(f'{callback.__name__} failed: {error!r}',
                                        throttle_duration_sec=WARNING_PERIOD_S)
        return call

    def _reject(self, reason: str) -> None:
        """Count a frame that cannot be tracked and say why (throttled)."""
        self._stats.reject(reason)
        self.get_logger().warning(f'frame rejected ({self._stats.rejected} so far): {reason}',
                                  throttle_duration_sec=WARNING_PERIOD_S)

    # ------------------------------------------------------------------ frames

    def _on_image(self, message: Image | CompressedImage) -> None:
        """Keep the newest frame and wake the tracking thread; never does heavy work."""
        stats = self._stats
        stats.received += 1
        stats.input_rate.tick()
        try:
            # Fields only (no copy): a malformed frame is neither buffered nor tracked.
            check_message(message, self._max_pixels)
        except ImageDecodeError as error:
            self._reject(str(error))
            return
        stamp_ns = stamp_to_ns(message.header.stamp)
        if stamp_ns:  # how long the middleware and the executor took to hand it over
            stats.arrival_latency.add(max(0.0, (time.time_ns() - stamp_ns) * 1e-9))
        self._frames.offer(message)

    # ---------------------------------------------------------------- tracking

    def shutdown_tracking(self) -> None:
        """Stop the tracking thread (call before destroying the node)."""
        self._worker.stop(WORKER_JOIN_TIMEOUT_S)

    def _tracking_failed(self, error: Exception) -> None:
        self._reject(f'tracking failed: {error!r}')

    def _track_frame(self, message: Image | CompressedImage) -> None:
        started = time.monotonic()
        try:
            image = decode_message(message, max_pixels=self._max_pixels)
        except ImageDecodeError as error:
            self._reject(str(error))
            return
        try:
            detections, result = self._track(message.header, image)
        except FrameSkipped as skipped:  # the tracker's size guard: nothing is published
            self._reject(str(skipped))
            return
        self._publish(self._detections_pub, detections)
        stats = self._stats
        stats.latency.add(time.monotonic() - started)
        stamp_ns = stamp_to_ns(message.header.stamp)
        if stamp_ns:
            stats.stamp_latency.add(max(0.0, (time.time_ns() - stamp_ns) * 1e-9))
        stats.tracking_rate.tick()
        distance = self._depth.publish(detections, (image.shape[1], image.shape[0]))
        self._publish_debug_image(message.header, image, result, distance)

    def _track(self, header: Any, image: Any) -> tuple[Detection2DArray, TrackResult | None]:
        detections = Detection2DArray(header=header)
        with self._tracker_lock:
            if self._tracker is None:
                return detections, None
            if not self._tracker.is_initialized:
                self._start_on_detection(header, image)
                return detections, None
            previous = self._last_result
            nonfinite = self._tracker.nonfinite_outputs
            result = self._tracker.track(image)
            nonfinite = self._tracker.nonfinite_outputs != nonfinite
            if result.lost and self._detector_sub is not None:
                boxes = self._detector.for_frame(header.stamp, self._param('detection_max_age'))
                found = self._tracker.redetect_from(image, [c.box_xywh for c in boxes])
                result = found or result
            self._last_result = result
            track_id = self._tracked_id
            self._log_transition(previous, result)
        if nonfinite:  # a miss for the tracker; no box at all on the wire
            self._reject('network output not finite (NaN or infinity): no detection')
        elif not result.lost:
            detections.detections.append(self._detection(header, result, track_id))
        return detections, result

    def _start_on_detection(self, header: Any, image: Any) -> None:
        """Without a target: start on a detector box (start_on_detection); lock held."""
        mode = self._param('start_on_detection')
        if mode == 'off' or self._detector_sub is None:
            return
        chosen = pick_start(self._detector.for_frame(header.stamp,
                                                     self._param('detection_max_age')), mode)
        if chosen is None:
            return
        try:
            self._tracker.initialize(image, chosen.box_xywh)
        except ValueError as error:
            self.get_logger().warning(f'cannot start on detection {chosen}: {error}',
                                      throttle_duration_sec=WARNING_PERIOD_S)
            return
        self._track_id += 1
        self._tracked_id = self._track_id
        self._last_result = None
        self.get_logger().info(
            f'started tracking id {self._track_id} on the {mode} {chosen.class_id!r} '
            f'detection (score {chosen.score:.2f}), box '
            f'{tuple(round(v, 1) for v in chosen.box_xywh)}')

    def _log_transition(self, previous: TrackResult | None, result: TrackResult) -> None:
        """Log each loss and each recovery of the target."""
        was_lost = previous is not None and previous.lost
        if result.lost and not was_lost:
            self._lost_since = result.frame_index
            self.get_logger().info(
                f'target lost at frame {result.frame_index} (confidence '
                f'{result.confidence:.2f}); {result.state}')
        elif was_lost and not result.lost:
            self.get_logger().info(
                f'target recovered at frame {result.frame_index} after '
                f'{result.frame_index - self._lost_since} frames, confidence '
                f'{result.confidence:.2f}, box {tuple(round(v, 1) for v in result.box_xywh)}')

    def _detection(self, header: Any, result: TrackResult, track_id: int) -> Detection2D:
        x, y, w, h = result.box_xywh
        detection = Detection2D(header=header, id=str(track_id))
        detection.bbox.center.position.x = x + w / 2.0
        detection.bbox.center.position.y = y + h / 2.0
        detection.bbox.size_x = float(w)
        detection.bbox.size_y = float(h)
        hypothesis = ObjectHypothesisWithPose()
        hypothesis.hypothesis.class_id = str(self._param('label'))
        hypothesis.hypothesis.score = float(result.confidence)
        detection.results.append(hypothesis)
        return detection

    def _publish_debug_image(self, header: Any, image: Any, result: TrackResult | None,
                             distance: float | None = None) -> None:
        publisher = self._debug_pub
        if (publisher is None or not self._param('publish_debug_image')
                or publisher.get_subscription_count() == 0):
            return  # drawing costs time: only for an audience
        if result is None:
            state, box, confidence = 'idle', None, None
        else:
            state = result.state
            box, confidence = result.box_xywh, result.confidence
        canvas = draw_track(image, box, confidence=confidence, state=state,
                            fps=self._stats.tracking_rate.rate(), distance_m=distance,
                            untrained=bool(self._info and self._info.untrained))
        height, width, step, data = encode_rgb8(canvas)
        self._publish(publisher, Image(header=header, height=height, width=width,
                                       encoding='rgb8', is_bigendian=0, step=step, data=data))

    def _publish(self, publisher: Any, message: Any) -> None:
        """Publish unless the node is shutting down (Ctrl-C lands between callbacks)."""
        if publisher is None or not self.context.ok():
            return
        try:
            publisher.publish(message)
        except Exception as error:  # noqa: B902 - the context may close mid-publish
            if self.context.ok():
                raise
            self.get_logger().debug(f'dropped a message during shutdown: {error}')

    # ---------------------------------------------------------------- services

    def _on_set_target(self, request: SetTarget.Request,
                       response: SetTarget.Response) -> SetTarget.Response:
        """Start tracking the requested box on the frame with the requested stamp."""
        response.success, response.track_id = False, 0
        try:
            response.message = self._set_target(request, response)
        except Exception as error:  # noqa: B902 - a request must never kill the node
            self.get_logger().error(f'set_target failed: {error!r}',
                                    throttle_duration_sec=WARNING_PERIOD_S)
            response.success, response.track_id = False, 0
            response.message = f'internal error: {error!r}'
        if response.success:
            self.get_logger().info(f'set_target: {response.message}')
        return response

    def _set_target(self, request: SetTarget.Request, response: SetTarget.Response) -> str:
        """Fill ``response`` (success, track id) and return its message."""
        if self._subscription is None:  # not active: no frames arrive, the buffer is stale
            return 'node is not active: activate it first (ros2 lifecycle set <node> activate)'
        message = self._frames.find(request.stamp)
        if message is None:
            return ('no frame received yet' if stamp_to_ns(request.stamp) == 0
                    else f'no buffered frame has stamp {format_stamp(request.stamp)}')
        box = request.bbox
        w, h = float(box.size_x), float(box.size_y)
        xywh = (float(box.center.position.x) - w / 2.0,
                float(box.center.position.y) - h / 2.0, w, h)
        if not all(math.isfinite(v) for v in xywh):
            return f'box is not finite: {xywh}'
        try:
            # Fields and header only: the decode and the template run in the tracking
            # thread (set_target_task), so this answers at once whatever the frame costs.
            validate_box(xywh, check_message(message, self._max_pixels))
            with self._tracker_lock:
                if self._tracker is None:
                    return 'node is not configured'
                self._track_id += 1
                response.track_id = self._pending_id = self._track_id
        except ValueError as error:
            return f'rejected: {error}'
        self._frames.post(set_target_task(self, message, xywh, response.track_id))
        response.success = True
        return (f'tracking id {response.track_id} from frame '
                f'{format_stamp(message.header.stamp)}, box {tuple(round(v, 1) for v in xywh)}')

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response
                  ) -> Trigger.Response:
        """Drop the target; detections become empty arrays."""
        try:
            with self._tracker_lock:
                self._frames.cancel_task()  # a set_target not yet run
                self._pending_id = 0  # nor one running now
                if self._tracker is not None:
                    self._tracker.reset()
                self._last_result = None
            response.success, response.message = True, 'target dropped'
        except Exception as error:  # noqa: B902
            response.success, response.message = False, f'internal error: {error!r}'
        return response

    # ------------------------------------------------------------- diagnostics

    def _state_word(self) -> str:
        if self._tracker is None or not self._tracker.is_initialized:
            return 'idle'
        if self._last_result is not None:
            return self._last_result.state
        return 'tracking'

    def _publish_diagnostics(self) -> None:
        if self._diagnostics_pub is None:
            return
        extra: dict[str, Any] = {'lifecycle': 'active' if self._subscription else 'inactive',
                                 'track_id': self._track_id,
                                 'image_reliability': self._image_reliability.name.lower()}
        if self._info is not None:
            extra.update(device=self._info.device, precision=self._info.precision,
                         variant=self._info.variant, weights=self._info.weights,
                         compile=self._info.compile)
        extra.update(self._depth.diagnostics())
        if self._detector_sub is not None:
            extra['detection_arrays_received'] = self._detector.received
        status = diagnostic_status(
            f'{self.get_fully_qualified_name()}: tracker',
            self._info.device if self._info else '', self._state_word(), self._stats,
            dropped=self._frames.dropped, listening=self._subscription is not None,
            extra=extra)
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._publish(self._diagnostics_pub, array)


# What a live parameter change does to the tracker (the ranges are in parameters.py).
LIVE_SETTERS: dict[str, Callable[[Any, Any], None]] = {
    # Negative: back to the value stored with the weights.
    'lost_threshold': lambda tracker, value: tracker.set_presence_setting(
        'lost_threshold', float(value) if value >= 0 else None),
    'redetect_threshold': lambda tracker, value: tracker.set_presence_setting(
        'redetect_threshold', float(value) if value >= 0 else None),
    'redetect_tiles': lambda tracker, value: tracker.set_presence_setting(
        'redetect_tiles', int(value) if value >= 0 else None),
    'lost_frames': lambda tracker, value: tracker.set_presence_setting(
        'lost_frames', int(value) if value > 0 else None),
    # 0: back to the rate stored with the weights.
    'size_update_rate': lambda tracker, value: tracker.set_size_update_rate(float(value) or None),
}
