# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""LiteTrack single-object tracking for ROS 2.

This file is copied over the ``__init__.py`` that rosidl generates for the
``litetrack_ros`` Python package, so it must stay free of rclpy and of
generated-interface imports: the ROS-free core (``model``, ``tracker``) has to
import on a machine without ROS.
"""

__version__ = '0.1.0'
