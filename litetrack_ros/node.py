# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``litetrack`` node: camera images in, the target's box out.

A managed (lifecycle) node. configure loads the network, activate subscribes
to the camera, deactivate stops work, cleanup frees the network (and GPU
memory). With ``autostart`` (default) it configures and activates itself, so
it also runs without a lifecycle manager.

Threads: the executor (single-threaded) runs only light callbacks: the image
callback stores the newest frame (plus a short ring buffer for ``set_target``
requests that name an older stamp) and wakes the tracking thread, a plain
Python thread that decodes, tracks and publishes the newest frame only. A slow
network therefore drops stale frames (counted in diagnostics) instead of
queueing them. Measured on 2 cores (``latency_bench``), rclpy's
MultiThreadedExecutor lost a fifth of the frames and had p95 latencies of
hundreds of milliseconds with a 5 ms network, because its threads contend for
the GIL with the tracking callback; a dedicated thread that holds the GIL
only between torch kernels does not. Services run in the executor thread and
wait at most for one tracking step (the tracker lock).

No exception escapes a callback: bad frames are counted (``frames_rejected``
and ``last_rejection`` in diagnostics) and reported in a throttled warning
naming the reason; a failing request gets ``success: false`` with the reason.

This is the only module of the package that imports rclpy.
"""

from collections import deque
from dataclasses import dataclass
import gc
import math
import os
import signal
import threading
import time
from typing import Any, Callable

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from litetrack_ros.frame_guard import FrameSizeGuard
from litetrack_ros.image_codec import (
    check_message,
    decode_message,
    encode_rgb8,
    ImageDecodeError,
)
from litetrack_ros.overlay import draw_track
from litetrack_ros.ros_tools.stamps import format_stamp, stamp_to_ns
from litetrack_ros.ros_tools.transport import use_large_frame_profile
from litetrack_ros.runtime import (
    build_tracker,
    package_weights_folder,
    resolve_weights,
    TrackerInfo,
)
from litetrack_ros.srv import SetTarget
from litetrack_ros.stats import LatencyWindow, RateMeter
from litetrack_ros.tracker import TrackResult
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import CompressedImage, Image
from std_srvs.srv import Trigger
from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

# Seconds between two warnings about rejected frames (each names its reason).
WARNING_PERIOD_S = 5.0
# How long deactivate/cleanup wait for the tracking thread to finish its frame.
WORKER_JOIN_TIMEOUT_S = 10.0
# Longest wait of one executor slice (how soon a signal is seen).
SPIN_SLICE_S = 0.2


@dataclass(frozen=True)
class ParameterSpec:
    """One node parameter: default, description and limits."""

    name: str
    default: Any
    description: str
    read_only: bool = True
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


# Changing the network, the device or the input wiring at run time would need a
# new configure, so those are read-only; thresholds and labels may change live.
PARAMETERS = (
    ParameterSpec('weights', '', 'Checkpoint file or folder (.safetensors, .pth.tar); empty: '
                  'first checkpoint in the package weights/ folder.'),
    ParameterSpec('variant', 'auto', 'auto (from the checkpoint), B4, B6, B8, B9 (official) '
                  'or S4, S6, M6, C3 (small members) for LiteTrack, LightTrack-M for LightTrack; '
                  'a checkpoint of another variant fails configure.'),
    ParameterSpec('device', 'auto', 'auto (CUDA when available, else CPU), cpu, cuda, cuda:N.'),
    ParameterSpec('precision', 'auto', 'auto (fp16 on CUDA; on CPU bf16 for the wide '
                  'ViT-B networks where it has native bf16 matmul, AMX or AVX512-BF16, else '
                  'fp32), fp32, fp16, bf16.'),
    ParameterSpec('compile', False, 'Compile the network at configure (torch.compile; tens of '
                  'seconds the first time, cached in TORCHINDUCTOR_CACHE_DIR, default '
                  '~/.cache/litetrack_ros/inductor); eager with a warning if that fails.'),
    ParameterSpec('search_size', 0, 'Search crop side in px (multiple of 16); 0 = the '
                  "checkpoint's (256). Smaller is faster and less accurate.", low=0, high=512),
    ParameterSpec('cpu_threads', 0, 'Threads of the network on CPU; 0 = one less than the '
                  'CPU cores (at least 1), leaving a core to the middleware and the executor.',
                  low=0, high=256),
    ParameterSpec('allow_untrained', False, 'Run a random network when no checkpoint is '
                  'found (output labelled UNTRAINED; for demos and tests only).'),
    ParameterSpec('image_qos', 'auto', 'Image subscription reliability: auto (reliable when '
                  'every publisher is reliable, else best effort; rechecked every 2 s), '
                  'sensor_data (best effort) or reliable.',
                  choices=('auto', 'sensor_data', 'reliable')),
    ParameterSpec('input_transport', 'raw', 'raw (sensor_msgs/Image on image) or compressed '
                  '(sensor_msgs/CompressedImage on <image>/compressed).',
                  choices=('raw', 'compressed')),
    ParameterSpec('lost_threshold', 0.25, 'Confidence below which a frame counts as a miss.',
                  read_only=False, low=0.0, high=1.0),
    ParameterSpec('lost_frames', 5, 'Consecutive misses after which the target is lost.',
                  read_only=False, low=1, high=1000),
    ParameterSpec('size_update_rate', 0.0, 'Share of the predicted box-size change taken per '
                  'frame (1: all, as OSTrack); 0 = the value stored with the weights.',
                  read_only=False, low=0.0, high=1.0),
    ParameterSpec('label', 'target', 'class_id of the published hypothesis.', read_only=False),
    ParameterSpec('publish_debug_image', True, 'Publish ~/debug_image (drawn only while '
                  'someone subscribes).', read_only=False),
    ParameterSpec('max_image_pixels', 4096 * 4096, 'Largest frame accepted (width x height); '
                  'larger ones, or compressed ones whose header claims more, are rejected '
                  'before anything is allocated.', low=1, high=100_000_000),
    ParameterSpec('frame_buffer_size', 30, 'Frames kept for set_target requests naming an '
                  'older stamp.', low=1, high=600),
    ParameterSpec('diagnostics_period', 1.0, 'Seconds between /diagnostics messages.',
                  low=0.1, high=60.0),
    ParameterSpec('autostart', True, 'Configure and activate at start, without a lifecycle '
                  'manager.'),
)


def describe(spec: ParameterSpec) -> ParameterDescriptor:
    """Build the ROS descriptor (description, range, read-only) of a parameter."""
    descriptor = ParameterDescriptor(description=spec.description, read_only=spec.read_only)
    if spec.low is not None and isinstance(spec.default, bool) is False:
        if isinstance(spec.default, int):
            descriptor.integer_range = [IntegerRange(from_value=int(spec.low),
                                                     to_value=int(spec.high), step=1)]
        elif isinstance(spec.default, float):
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=float(spec.low), to_value=float(spec.high), step=0.0)]
    return descriptor


class LiteTrackNode(LifecycleNode):
    """Track one target in a camera stream (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('litetrack', **kwargs)
        for spec in PARAMETERS:
            self.declare_parameter(spec.name, spec.default, describe(spec))
        self.add_on_set_parameters_callback(self._on_set_parameters)

        # Guards the tracker, the frame-size guard and the target id: the tracking
        # thread and set_target/reset (executor thread) both use them.
        self._tracker_lock = threading.Lock()
        # Guards the newest frame and the ring buffer; wakes the tracking thread.
        self._frame_ready = threading.Condition()

        self._tracker = None
        self._info: TrackerInfo | None = None
        self._track_id = 0
        self._last_result: TrackResult | None = None
        self._size_guard = FrameSizeGuard()
        self._max_pixels = int(self._param('max_image_pixels'))
        self._frames: deque = deque(maxlen=self._param('frame_buffer_size'))
        self._newest: Any = None  # message not yet tracked
        self._worker: threading.Thread | None = None
        self._stop_worker = threading.Event()
        self._subscription = None
        self._qos_timer = None
        self._image_reliability = ReliabilityPolicy.BEST_EFFORT
        # Made by configure, destroyed by cleanup.
        self._detections_pub = self._debug_pub = self._diagnostics_pub = None
        self._set_target_srv = self._reset_srv = None
        self._diagnostics_timer = None
        self._reset_counters()

        if self._param('autostart'):
            if self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
                self.trigger_activate()

    # ---------------------------------------------------------------- lifecycle

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load the network and create publishers and services."""
        try:
            self._check_choices()
            self._load_tracker()
            self._detections_pub = self.create_lifecycle_publisher(
                Detection2DArray, '~/detections', 10)
            self._debug_pub = self.create_lifecycle_publisher(Image, '~/debug_image', 2)
            self._diagnostics_pub = self.create_lifecycle_publisher(
                DiagnosticArray, '/diagnostics', 10)
            self._set_target_srv = self.create_service(SetTarget, '~/set_target',
                                                       self._on_set_target)
            self._reset_srv = self.create_service(Trigger, '~/reset', self._on_reset)
            self._diagnostics_timer = self.create_timer(
                self._param('diagnostics_period'), self._guarded(self._publish_diagnostics))
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
            self._reset_counters()
            self._start_worker()
            self._subscription = self._subscribe_images()
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
        """Release everything on the way out."""
        self._release('shutdown', self._stop_listening, self._destroy_configured_entities)
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
                              ('_subscription', self.destroy_subscription)):
            entity = getattr(self, name)
            if entity is not None:
                destroy(entity)
                setattr(self, name, None)
        self._stop_worker_thread()
        with self._frame_ready:
            self._newest = None

    def _destroy_configured_entities(self) -> None:
        for name in ('_detections_pub', '_debug_pub', '_diagnostics_pub'):
            publisher = getattr(self, name, None)
            if publisher is not None:
                self.destroy_lifecycle_publisher(publisher)
                setattr(self, name, None)
        for name, destroy in (('_set_target_srv', self.destroy_service),
                              ('_reset_srv', self.destroy_service),
                              ('_diagnostics_timer', self.destroy_timer)):
            entity = getattr(self, name, None)
            if entity is not None:
                destroy(entity)
                setattr(self, name, None)
        with self._tracker_lock:
            self._tracker = None
            self._last_result = None
            self._size_guard.reset()
        with self._frame_ready:
            self._frames.clear()
            self._newest = None
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
        if name == 'lost_threshold':
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f'lost_threshold must be in [0, 1], got {value}')
            if tracker is not None:
                tracker.lost_threshold = float(value)
        elif name == 'lost_frames':
            if int(value) < 1:
                raise ValueError(f'lost_frames must be at least 1, got {value}')
            if tracker is not None:
                tracker.lost_frames = int(value)
        elif name == 'size_update_rate':
            # 0: back to the rate stored with the weights.
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f'size_update_rate must be in [0, 1], got {value}')
            if tracker is not None:
                tracker.set_size_update_rate(float(value) or None)

    def _check_choices(self) -> None:
        """Refuse a misspelt choice now rather than silently running with another."""
        for spec in PARAMETERS:
            value = self._param(spec.name)
            if spec.choices and value not in spec.choices:
                raise ValueError(f'parameter {spec.name} must be one of '
                                 f'{", ".join(spec.choices)}; got {value!r}')

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
            lost_threshold=self._param('lost_threshold'), lost_frames=self._param('lost_frames'),
            size_update_rate=self._param('size_update_rate') or None,
            compile=self._param('compile'))
        with self._tracker_lock:
            self._tracker, self._info = tracker, info
            self._size_guard.reset()
        self._max_pixels = int(self._param('max_image_pixels'))
        self.get_logger().info(
            f'{info.network} ({info.parameters / 1e6:.1f} M parameters, search '
            f'{info.search_size} px, size update rate {tracker.size_update_rate:g}) on '
            f'{info.device} in {info.precision} ({threads} CPU threads), weights {info.weights}')
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
        _, topic = self._image_topic()
        wanted = self._wanted_reliability(topic)
        if wanted == self._image_reliability:
            return
        self.get_logger().info(f'publishers of {topic} changed: subscribing '
                               f'{wanted.name.lower()}')
        self.destroy_subscription(self._subscription)
        self._subscription = self._subscribe_images()

    def _reset_counters(self) -> None:
        self._received = 0
        self._dropped = 0
        self._rejected = 0
        self._last_rejection = ''
        self._input_rate = RateMeter()
        self._tracking_rate = RateMeter()
        self._latency = LatencyWindow()
        self._stamp_latency = LatencyWindow()
        self._arrival_latency = LatencyWindow()

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
        self._rejected += 1
        self._last_rejection = reason
        self.get_logger().warning(f'frame rejected ({self._rejected} so far): {reason}',
                                  throttle_duration_sec=WARNING_PERIOD_S)

    # ------------------------------------------------------------------ frames

    def _on_image(self, message: Image | CompressedImage) -> None:
        """Keep the newest frame and wake the tracking thread; never does heavy work."""
        self._received += 1
        self._input_rate.tick()
        try:
            # Fields only (no copy): a malformed frame is neither buffered nor tracked.
            check_message(message, self._max_pixels)
        except ImageDecodeError as error:
            self._reject(str(error))
            return
        stamp_ns = stamp_to_ns(message.header.stamp)
        if stamp_ns:  # how long the middleware and the executor took to hand it over
            self._arrival_latency.add(max(0.0, (time.time_ns() - stamp_ns) * 1e-9))
        with self._frame_ready:
            if self._newest is not None:
                self._dropped += 1  # the tracker did not get to the previous one
            self._newest = message
            self._frames.append(message)
            self._frame_ready.notify()

    def _find_frame(self, stamp: Any) -> Image | CompressedImage | None:
        wanted = stamp_to_ns(stamp)
        with self._frame_ready:
            if wanted == 0:
                return self._frames[-1] if self._frames else None
            for message in reversed(self._frames):
                if stamp_to_ns(message.header.stamp) == wanted:
                    return message
        return None

    # ---------------------------------------------------------------- tracking

    def shutdown_tracking(self) -> None:
        """Stop the tracking thread (call before destroying the node)."""
        self._stop_worker_thread()

    def _start_worker(self) -> None:
        self._stop_worker_thread()
        self._stop_worker.clear()
        self._worker = threading.Thread(target=self._tracking_loop, name='litetrack_tracking',
                                        daemon=True)
        self._worker.start()

    def _stop_worker_thread(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        self._stop_worker.set()
        with self._frame_ready:
            self._frame_ready.notify_all()
        worker.join(WORKER_JOIN_TIMEOUT_S)
        if worker.is_alive():
            self.get_logger().warning('tracking thread did not stop within '
                                      f'{WORKER_JOIN_TIMEOUT_S:g} s')

    def _tracking_loop(self) -> None:
        """Track the newest frame whenever one arrives, until told to stop."""
        while not self._stop_worker.is_set():
            with self._frame_ready:
                while self._newest is None and not self._stop_worker.is_set():
                    self._frame_ready.wait(timeout=0.5)
                message, self._newest = self._newest, None
            if message is None:
                continue
            try:
                self._track_frame(message)
            except Exception as error:  # noqa: B902 - a bad frame must never stop tracking
                self._reject(f'tracking failed: {error!r}')

    def _track_frame(self, message: Image | CompressedImage) -> None:
        started = time.monotonic()
        try:
            image = decode_message(message, max_pixels=self._max_pixels)
        except ImageDecodeError as error:
            self._reject(str(error))
            return
        with self._tracker_lock:
            reason = self._size_guard.check(*image.shape[:2])
        if reason is not None:
            self._reject(reason)
            return
        detections, result = self._track(message.header, image)
        self._publish(self._detections_pub, detections)
        self._latency.add(time.monotonic() - started)
        stamp_ns = stamp_to_ns(message.header.stamp)
        if stamp_ns:
            self._stamp_latency.add(max(0.0, (time.time_ns() - stamp_ns) * 1e-9))
        self._tracking_rate.tick()
        self._publish_debug_image(message.header, image, result)

    def _track(self, header: Any, image: Any) -> tuple[Detection2DArray, TrackResult | None]:
        detections = Detection2DArray(header=header)
        with self._tracker_lock:
            if self._tracker is None or not self._tracker.is_initialized:
                return detections, None
            result = self._tracker.track(image)
            self._last_result = result
            track_id = self._track_id
        if not result.lost:
            detections.detections.append(self._detection(header, result, track_id))
        return detections, result

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

    def _publish_debug_image(self, header: Any, image: Any, result: TrackResult | None) -> None:
        publisher = self._debug_pub
        if (publisher is None or not self._param('publish_debug_image')
                or publisher.get_subscription_count() == 0):
            return  # drawing costs time: only for an audience
        if result is None:
            state, box, confidence = 'idle', None, None
        else:
            state = 'lost' if result.lost else 'tracking'
            box, confidence = result.box_xywh, result.confidence
        canvas = draw_track(image, box, confidence=confidence, state=state,
                            fps=self._tracking_rate.rate(),
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
        message = self._find_frame(request.stamp)
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
            image = decode_message(message, max_pixels=self._max_pixels)
            with self._tracker_lock:
                if self._tracker is None:
                    return 'node is not configured'
                self._tracker.initialize(image, xywh)
                self._size_guard.reset(image.shape[:2])
                self._track_id += 1
                self._last_result = None
                response.track_id = self._track_id
        except ValueError as error:
            return f'rejected: {error}'
        response.success = True
        return (f'tracking id {response.track_id} from frame '
                f'{format_stamp(message.header.stamp)}, box {tuple(round(v, 1) for v in xywh)}')

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response
                  ) -> Trigger.Response:
        """Drop the target; detections become empty arrays."""
        try:
            with self._tracker_lock:
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
        if self._last_result is not None and self._last_result.lost:
            return 'lost'
        return 'tracking'

    def _publish_diagnostics(self) -> None:
        if self._diagnostics_pub is None:
            return
        state = self._state_word()
        input_rate = self._input_rate.rate()
        status = DiagnosticStatus(name=f'{self.get_fully_qualified_name()}: tracker',
                                  hardware_id=self._info.device if self._info else '')
        if self._subscription is not None and input_rate == 0.0:
            status.level, status.message = DiagnosticStatus.WARN, 'no images received'
        elif state == 'lost':
            status.level, status.message = DiagnosticStatus.WARN, 'target lost'
        else:
            status.level, status.message = DiagnosticStatus.OK, state

        def milliseconds(window: LatencyWindow, q: float) -> str:
            value = window.percentile(q)
            return f'{value * 1e3:.1f}' if value is not None else 'n/a'

        values = {
            'state': state,
            'track_id': self._track_id,
            'input_rate_hz': f'{input_rate:.1f}',
            'tracking_rate_hz': f'{self._tracking_rate.rate():.1f}',
            'frames_received': self._received,
            'frames_dropped': self._dropped,
            'frames_rejected': self._rejected,
            'last_rejection': self._last_rejection or 'none',
            'image_reliability': self._image_reliability.name.lower(),
            'latency_p50_ms': milliseconds(self._latency, 50),
            'latency_p95_ms': milliseconds(self._latency, 95),
            'arrival_latency_p50_ms': milliseconds(self._arrival_latency, 50),
            'arrival_latency_p95_ms': milliseconds(self._arrival_latency, 95),
            'stamp_latency_p50_ms': milliseconds(self._stamp_latency, 50),
            'stamp_latency_p95_ms': milliseconds(self._stamp_latency, 95),
        }
        if self._info is not None:
            values.update(device=self._info.device, precision=self._info.precision,
                          variant=self._info.variant, weights=self._info.weights,
                          compile=self._info.compile)
        status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._publish(self._diagnostics_pub, array)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(args: list[str] | None = None) -> int:
    """Run the node until SIGINT/SIGTERM or shutdown."""
    profile = use_large_frame_profile()
    # Own signal handling: rclpy's SIGTERM handler did not wake an executor created
    # after the signal (a node terminated during start-up then never exited). The
    # executor spins in short slices so that Python sees the signal promptly.
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    # One executor thread for the light callbacks (images, services, timers); tracking
    # has its own thread (see the module docstring). Made before the handlers are in
    # place: a signal raised inside its constructor (right after a failed autostart
    # configure, when a supervisor stops the node) left a half-made executor whose
    # finaliser printed a traceback at exit (rclpy jazzy).
    executor = SingleThreadedExecutor()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    node = None
    try:
        node = LiteTrackNode()
        if profile:
            node.get_logger().info(f'Fast DDS profile for large frames: {profile}')
        executor.add_node(node)
        while rclpy.ok():
            executor.spin_once(timeout_sec=SPIN_SLICE_S)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        if node is not None:
            node.shutdown_tracking()
        executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
