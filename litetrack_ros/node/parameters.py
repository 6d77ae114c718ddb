# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's parameters: one table of names, defaults, limits and choices.

Everything the node knows about a parameter comes from ``PARAMETERS``: the
declaration (with its ROS descriptor: description, range, read-only), the
check of a choice at configure and the check of a live change.
"""

from dataclasses import dataclass
from typing import Any

from litetrack_ros.model.config import MAX_CROP_SIZE
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor


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
                  "checkpoint's (256). Smaller is faster and less accurate.", low=0,
                  high=MAX_CROP_SIZE),
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
    ParameterSpec('lost_threshold', -1.0, 'Confidence below which a frame counts as a miss; '
                  '-1 = the value stored with the weights (0.25 without one).',
                  read_only=False, low=-1.0, high=1.0),
    ParameterSpec('lost_frames', 0, 'Consecutive misses after which the target is lost; 0 = '
                  'the value stored with the weights (5 without one).',
                  read_only=False, low=0, high=1000),
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
    # Presence and re-detection (tracking/redetect.py, node/detector_candidates.py).
    ParameterSpec('redetect_threshold', -1.0, 'Confidence a lost target must reach again to '
                  'be resumed (hysteresis); -1 = the value stored with the weights (else '
                  'lost_threshold).', read_only=False, low=-1.0, high=1.0),
    ParameterSpec('redetect_tiles', -1, 'Search regions per frame of the global '
                  're-detection over the whole frame while lost (0: off); -1 = the value '
                  'stored with the weights.', read_only=False, low=-1, high=256),
    ParameterSpec('detections_topic', '', 'vision_msgs/Detection2DArray topic of an object '
                  'detector whose boxes are verified against the template while the target '
                  'is lost; empty: none.'),
    ParameterSpec('detection_classes', '', 'Comma-separated class_ids taken from '
                  'detections_topic; empty: every class.', read_only=False),
    ParameterSpec('detection_max_age', 0.5, 'Largest stamp difference (s) between a frame '
                  'and the detections used for it.', read_only=False, low=0.0, high=10.0),
    ParameterSpec('start_on_detection', 'off', 'Without a target, start on the first listed '
                  '(first) or highest-scoring (best) detection of detection_classes; off: '
                  'only set_target starts.', choices=('off', 'first', 'best')),
    # The target in 3D (litetrack_ros.node.depth); off while depth_topic is empty.
    ParameterSpec('depth_topic', '', 'Depth image registered to the colour image (aligned '
                  'depth; sensor_msgs/Image, 16UC1 millimetres or 32FC1 metres); empty: no '
                  'depth input and no 3D outputs.'),
    ParameterSpec('depth_info_topic', '', 'camera_info of the depth image; empty: '
                  'camera_info next to depth_topic.'),
    ParameterSpec('depth_tolerance', 0.02, 'Largest stamp difference (s) between a colour '
                  'frame and the depth image used for it.', low=0.0, high=1.0),
    ParameterSpec('depth_timeout', 0.05, 'Longest wait (s) of the tracking thread for the '
                  'depth image of a frame that has not arrived yet.', low=0.0, high=1.0),
    ParameterSpec('depth_region', 0.5, "Central share of the box's width and height whose "
                  'depths are read.', low=0.05, high=1.0),
    ParameterSpec('depth_min_valid', 0.25, 'Least share of that region with measured depth; '
                  'below it the frame has no 3D position.', low=0.01, high=1.0),
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


SPECS = {spec.name: spec for spec in PARAMETERS}


def check_choice(spec: ParameterSpec, value: Any) -> None:
    """Raise ValueError naming the choices when ``value`` is not one of them."""
    if spec.choices and value not in spec.choices:
        raise ValueError(f'parameter {spec.name} must be one of '
                         f'{", ".join(spec.choices)}; got {value!r}')


def check_live_value(name: str, value: Any) -> Any:
    """Return a live parameter's value for the tracker, or raise ValueError if out of range."""
    spec = SPECS[name]
    if spec.low is not None and not spec.low <= value <= spec.high:
        raise ValueError(f'{name} must be in [{spec.low:g}, {spec.high:g}], got {value}')
    return value
