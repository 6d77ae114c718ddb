# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""builtin_interfaces/Time helpers, exact to the nanosecond (read by fields only)."""

from typing import Any

NANOSECONDS_PER_SECOND = 1_000_000_000


def stamp_to_ns(stamp: Any) -> int:
    """Return a builtin_interfaces/Time as integer nanoseconds."""
    return int(stamp.sec) * NANOSECONDS_PER_SECOND + int(stamp.nanosec)


def format_stamp(stamp: Any) -> str:
    """Write a Time (or integer nanoseconds) as ``sec.nanosec`` with nine digits, no rounding."""
    nanoseconds = stamp if isinstance(stamp, int) else stamp_to_ns(stamp)
    seconds, nanos = divmod(nanoseconds, NANOSECONDS_PER_SECOND)
    return f'{seconds}.{nanos:09d}'
