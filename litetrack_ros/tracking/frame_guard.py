# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Keep a track safe from frames that cannot belong to the stream.

A camera driver glitch can deliver one frame of a wildly different size (or a
few pixels). Tracking it would rescale the tracker's state to it, and the next
normal frames would then be searched with a crop thousands of pixels wide. The
guard skips such frames; a size that persists for ``confirm_frames``
consecutive frames is a genuine resolution change and is followed.

The guard lives in the ``Tracker`` (``build_tracker`` gives every tool one): the
node, ``litetrack-eval`` and ``litetrack-track`` skip the same frames, and
``Tracker.track`` raises :class:`FrameSkipped` for them, the state untouched.

Example::

    guard = FrameSizeGuard()
    reason = guard.check(height, width)
    if reason is None:
        tracker.track(image)
"""

from typing import Optional, Tuple

# Frames narrower or lower than this cannot hold a search region worth tracking.
MIN_FRAME_SIDE = 16
# Consecutive frames of a new size after which the stream is taken to have changed.
CONFIRM_FRAMES = 3


class FrameSkipped(ValueError):
    """A frame whose size cannot belong to the stream; the message says why."""


class FrameSizeGuard:
    """Accept frames of the stream's size; follow a new size only once it persists."""

    def __init__(self, confirm_frames: int = CONFIRM_FRAMES,
                 min_side: int = MIN_FRAME_SIDE) -> None:
        if confirm_frames < 1:
            raise ValueError(f'confirm_frames must be at least 1, got {confirm_frames}')
        self.confirm_frames = int(confirm_frames)
        self.min_side = int(min_side)
        self.reset()

    def reset(self, size_hw: Optional[Tuple[int, int]] = None) -> None:
        """Forget the stream's size, or set it (e.g. to the frame a target was set on)."""
        self._size = tuple(size_hw) if size_hw is not None else None
        self._candidate: Optional[Tuple[int, int]] = None
        self._candidate_count = 0

    @property
    def size_hw(self) -> Optional[Tuple[int, int]]:
        """Return the stream's current (height, width), None before the first frame."""
        return self._size

    def check(self, height: int, width: int) -> Optional[str]:
        """Return None to track a frame of this size, or the reason to skip it."""
        if height < self.min_side or width < self.min_side:
            return (f'frame of {width} x {height} is too small to track '
                    f'(minimum {self.min_side} x {self.min_side})')
        size = (int(height), int(width))
        if self._size is None or size == self._size:
            self.reset(size)
            return None
        if size == self._candidate:
            self._candidate_count += 1
        else:
            self._candidate, self._candidate_count = size, 1
        if self._candidate_count >= self.confirm_frames:
            self.reset(size)  # a genuine resolution change: follow it
            return None
        return (f"frame of {width} x {height} differs from the stream's "
                f'{self._size[1]} x {self._size[0]}; skipped unless '
                f'{self.confirm_frames} consecutive frames have that size')
