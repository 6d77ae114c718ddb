# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The recorder node: sets the target on the first frame and records what the node publishes."""

from dataclasses import dataclass, field
from pathlib import Path
import time

import cv2
from diagnostic_msgs.msg import DiagnosticArray
from litetrack_ros.images.image_codec import decode_message
from litetrack_ros.images.overlay import draw_track
from litetrack_ros.node.stamps import format_stamp, NANOSECONDS_PER_SECOND, stamp_to_ns
from litetrack_ros.ros_tools.demo.processes import IMAGE_TOPIC, NAMESPACE, NODE_NAME, NODE_PATH
from litetrack_ros.ros_tools.demo.scene import DemoError, frame_digest, log, SourcePlan
from litetrack_ros.ros_tools.select_target import make_request
from litetrack_ros.srv import SetTarget
import numpy as np
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

# A set_target on a frame the node did not get starts the recording over (on
# the next pass of a video, the next frame of a camera), at most this often.
SET_TARGET_ATTEMPTS = 5
# Frames kept for the annotated video while their debug image may still come.
MAX_PENDING_FRAMES = 60
# Subscriber queues deep enough that a short stall here loses nothing.
RECORDER_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


# -------------------------------------------------------------------- recording


@dataclass
class FrameRecord:
    """Everything the recorder learnt about one frame."""

    position: int  # among the frames recorded
    index: int  # in the video (the same as position, except for the generated video)
    stamp_ns: int
    image: Image | None  # dropped once its annotated frame is written
    debug: Image | None = None
    processed: bool = False  # the node published detections for this frame
    latency_ms: float | None = None
    box: tuple[float, float, float, float] | None = None
    score: float | None = None
    track_id: str = ''
    initial: bool = False  # the frame set_target named

    def status(self) -> str:
        """One word for the CSV: what happened to this frame."""
        if self.initial:
            return 'initial'
        if self.box is not None:
            return 'tracked'
        # Processed without a box: target lost (or not set yet); not processed:
        # the node was busy and went on with a newer frame.
        return 'no detection' if self.processed else 'skipped'


@dataclass
class NodeReport:
    """What the node said about itself in /diagnostics."""

    values: dict[str, str] = field(default_factory=dict)


class AnnotatedVideo:
    """The annotated video, one frame per frame received, written in order."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path, self._fps = path, fps
        self._writer: cv2.VideoWriter | None = None

    def write(self, rgb: np.ndarray) -> None:
        """Append a frame (the size of the first one)."""
        if self._writer is None:
            height, width = rgb.shape[:2]
            self._size = (width, height)
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*'mp4v'),
                                           self._fps, self._size)
            if not self._writer.isOpened():
                raise DemoError(f'OpenCV cannot write {self.path}')
        if (rgb.shape[1], rgb.shape[0]) != self._size:
            rgb = cv2.resize(rgb, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()


class Recorder(Node):
    """Sets the target on the first frame and records what the node publishes."""

    def __init__(self, plan: SourcePlan, video: AnnotatedVideo, untrained: bool) -> None:
        super().__init__('litetrack_demo_recorder')
        self.plan = plan
        self.video = video
        self.expected_untrained = untrained
        self.frames: list[FrameRecord] = []
        self.node_report = NodeReport()
        self.initial: FrameRecord | None = None  # the frame set_target named
        self.initial_box: tuple[float, float, float, float] | None = None
        self.track_id = ''
        self.failure: str | None = None
        # Looping source: set once the last frame of the pass is recorded.
        self.pass_complete = False
        self.foreign_frames = 0  # not frames of the video being recorded
        self.last_message_s = time.monotonic()
        self._by_stamp: dict[int, FrameRecord] = {}
        # Detections and debug images can overtake their image (other topics).
        self._early_detections: dict[int, tuple[Detection2DArray, int]] = {}
        self._early_debug: dict[int, Image] = {}
        self._newest_debug_position = -1
        self._next_to_write = 0
        self._target_request = None
        self._target_attempts = 0
        self.set_target_client = self.create_client(SetTarget, f'{NODE_PATH}/set_target')
        self.create_subscription(Image, IMAGE_TOPIC, self._on_image, RECORDER_QOS)
        self.create_subscription(Detection2DArray, f'{NODE_PATH}/detections',
                                 self._on_detections, RECORDER_QOS)
        self.create_subscription(Image, f'{NODE_PATH}/debug_image', self._on_debug,
                                 RECORDER_QOS)
        self.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)

    # ------------------------------------------------------------- readiness

    def node_subscribed_to_images(self) -> bool:
        """Tell whether the tracking node (activated) subscribes to the image topic."""
        return any(info.node_name == NODE_NAME and info.node_namespace == NAMESPACE
                   for info in self.get_subscriptions_info_by_topic(IMAGE_TOPIC))

    @property
    def untrained(self) -> bool:
        """Tell whether the node runs a random network (its own word once it said it)."""
        weights = self.node_report.values.get('weights')
        return self.expected_untrained if weights is None else weights == 'UNTRAINED'

    @property
    def initial_position(self) -> int | None:
        """Position of the initial frame among those recorded."""
        return None if self.initial is None else self.initial.position

    def frames_after_initial(self) -> list[FrameRecord]:
        """Return the frames recorded after the one the target was set on."""
        return [] if self.initial is None else self.frames[self.initial.position + 1:]

    # ------------------------------------------------------------- callbacks

    def _frame_index(self, message: Image) -> int | None:
        """Index in the video of a frame received, None for a frame not to record."""
        if self.plan.frame_digests is None:
            return len(self.frames)
        candidates = self.plan.frame_digests.get(frame_digest(message.data), [])
        if not candidates:
            self.foreign_frames += 1
            return None
        if not self.frames:
            # A pass is recorded from its first frame: earlier ones may have
            # reached only some subscribers while DDS was still matching.
            return 0 if 0 in candidates else None
        later = [index for index in candidates if index > self.frames[-1].index]
        if not later:
            # The source started over: the end of the pass did not arrive.
            self.pass_complete = True
            return None
        return later[0]

    def _on_image(self, message: Image) -> None:
        if self.pass_complete:
            return
        self.last_message_s = time.monotonic()
        index = self._frame_index(message)
        if index is None:
            return
        stamp = stamp_to_ns(message.header.stamp)
        record = FrameRecord(position=len(self.frames), index=index, stamp_ns=stamp,
                             image=message)
        self.frames.append(record)
        self._by_stamp[stamp] = record
        if self.plan.loop and index == self.plan.num_frames - 1:
            self.pass_complete = True
        if stamp in self._early_detections:
            self._attach_detections(record, *self._early_detections.pop(stamp))
        if stamp in self._early_debug:
            self._attach_debug(record, self._early_debug.pop(stamp))
        if self.initial is None and self._target_request is None:
            self._request_target(record)
        self._write_decided_frames()

    def _on_detections(self, message: Detection2DArray, info: dict) -> None:  # MessageInfo
        # When the middleware received it: this process's own backlog (it also
        # handles every image) is not the pipeline's latency.
        received_ns = info.get('received_timestamp') or self.get_clock().now().nanoseconds
        self.last_message_s = time.monotonic()
        stamp = stamp_to_ns(message.header.stamp)
        record = self._by_stamp.get(stamp)
        if record is None:
            keep_newest(self._early_detections, stamp, (message, received_ns))
        else:
            self._attach_detections(record, message, received_ns)

    def _on_debug(self, message: Image) -> None:
        self.last_message_s = time.monotonic()
        stamp = stamp_to_ns(message.header.stamp)
        record = self._by_stamp.get(stamp)
        if record is None:
            keep_newest(self._early_debug, stamp, message)
        else:
            self._attach_debug(record, message)
            self._write_decided_frames()

    def _on_diagnostics(self, message: DiagnosticArray) -> None:
        for status in message.status:
            if status.name.startswith(f'{NODE_PATH}:'):
                self.node_report.values = {kv.key: kv.value for kv in status.values}

    def _attach_detections(self, record: FrameRecord, message: Detection2DArray,
                           received_ns: int) -> None:
        record.processed = True
        record.latency_ms = (received_ns - record.stamp_ns) / 1e6
        if message.detections:
            detection = message.detections[0]
            w, h = detection.bbox.size_x, detection.bbox.size_y
            record.box = (detection.bbox.center.position.x - w / 2.0,
                          detection.bbox.center.position.y - h / 2.0, w, h)
            record.score = (detection.results[0].hypothesis.score if detection.results
                            else None)
            record.track_id = detection.id

    def _attach_debug(self, record: FrameRecord, message: Image) -> None:
        record.debug = message
        self._newest_debug_position = max(self._newest_debug_position, record.position)

    # ------------------------------------------------------------- set_target

    def _request_target(self, record: FrameRecord) -> None:
        """Ask the node to track the initial box on this frame (by its stamp)."""
        if self._target_attempts >= SET_TARGET_ATTEMPTS:
            return
        self._target_attempts += 1
        if self.plan.initial_box is not None:
            box = self.plan.initial_box
        else:
            box = tuple(float(v) for v in self.plan.groundtruth[record.index])
        request = make_request(box, divmod(record.stamp_ns, NANOSECONDS_PER_SECOND))
        future = self.set_target_client.call_async(request)
        self._target_request = future
        future.add_done_callback(lambda done: self._on_target_set(done, record, box))

    def _on_target_set(self, future, record: FrameRecord,
                       box: tuple[float, float, float, float]) -> None:
        self._target_request = None
        response = future.result()
        if response is not None and response.success:
            self.initial, self.initial_box = record, box
            self.track_id = str(response.track_id)
            record.initial = True
            log(f'target set on frame {record.index} (stamp {format_stamp(record.stamp_ns)}), '
                f'box {", ".join(f"{v:.1f}" for v in box)}: tracking id {response.track_id}')
            self._write_decided_frames()
            return
        reason = response.message if response is not None else 'no response'
        if self._target_attempts >= SET_TARGET_ATTEMPTS:
            self.failure = f'set_target refused {SET_TARGET_ATTEMPTS} times; last: {reason}'
            return
        # Typically the node did not get that frame: the recording starts over,
        # so that it still begins with the frame the target was set on.
        log(f'set_target on frame {record.index} refused ({reason}); starting over on the '
            + ('next pass of the video' if self.plan.loop else 'next frame'))
        self._start_over()

    def _start_over(self) -> None:
        """Forget the frames recorded so far (none was written yet)."""
        self.frames.clear()
        self._by_stamp.clear()
        self._early_detections.clear()
        self._early_debug.clear()
        self._newest_debug_position = -1
        self._next_to_write = 0

    # ------------------------------------------------------------- video

    def _write_decided_frames(self, final: bool = False) -> None:
        """Write frames in order once nothing more can arrive for them."""
        if self.initial is None and not final:
            return  # until set_target answers, the frame showing the initial box is unknown
        while self._next_to_write < len(self.frames):
            record = self.frames[self._next_to_write]
            # Debug images come in order: once a later one is here, this one never will.
            decided = (final or record.debug is not None or record.initial
                       or self._newest_debug_position > record.position
                       or len(self.frames) - record.position > MAX_PENDING_FRAMES)
            if not decided:
                break
            self.video.write(self._annotated(record))
            record.image = record.debug = None
            self._next_to_write += 1

    def _annotated(self, record: FrameRecord) -> np.ndarray:
        if record.initial:
            return draw_track(decode_message(record.image), self.initial_box, confidence=None,
                              state='target set', untrained=self.untrained)
        if record.debug is not None:
            return decode_message(record.debug)
        state = {'skipped': 'skipped (node busy)'}.get(record.status(), record.status())
        return draw_track(decode_message(record.image), record.box, confidence=record.score,
                          state=state, untrained=self.untrained)

    def finish(self) -> None:
        """Write the frames still waiting and close the video."""
        self._write_decided_frames(final=True)
        self.video.close()

    def caught_up(self) -> bool:
        """Tell whether the node is done with the newest frame recorded (or skipped it)."""
        if not self.frames:
            return False
        last = self.frames[-1]
        # Detections of a newer frame (the next pass) mean the node went past it.
        skipped = any(stamp > last.stamp_ns for stamp in self._early_detections)
        debug_done = (last.debug is not None or self._next_to_write == len(self.frames)
                      or not last.processed)
        return (last.processed or skipped) and debug_done


def keep_newest(pending: dict, key: int, value) -> None:
    """Remember a message that overtook its image, forgetting the oldest beyond a bound."""
    pending[key] = value
    while len(pending) > MAX_PENDING_FRAMES:
        del pending[next(iter(pending))]
