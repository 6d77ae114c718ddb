# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``set_target``'s heavy half, run by the tracking thread rather than the executor.

The service checks the request against the frame's fields and header (O(1)),
hands out the track id and answers; decoding the frame and encoding the template
can take long on a large or crafted frame, so they run in the tracking thread,
before its next frame, where they cannot stall the executor (images, services,
diagnostics). A newer ``set_target`` or a ``reset`` before the task runs replaces
or cancels it; a frame that then fails to decode is counted as rejected and the
previous target is kept.
"""

from typing import Any, Callable, Sequence

from litetrack_ros.images.image_codec import decode_message, ImageDecodeError


def set_target_task(node: Any, message: Any, xywh: Sequence[float],
                    track_id: int) -> Callable[[], None]:
    """Return the task that starts tracking ``xywh`` on ``message`` as ``track_id``.

    ``node`` is the ``LiteTrackNode`` (its tracker, lock and ids).
    """
    def initialize() -> None:
        try:
            image = decode_message(message, max_pixels=node._max_pixels)
        except ImageDecodeError as error:
            node._reject(f'set_target frame: {error}')
            return
        with node._tracker_lock:
            if node._tracker is None or node._pending_id != track_id:
                return  # cleaned up, reset, or superseded by a newer request
            try:
                node._tracker.initialize(image, xywh)
            except ValueError as error:
                node._reject(f'set_target: {error}')
                return
            node._tracked_id = track_id
            node._pending_id = 0
            node._last_result = None

    return initialize
