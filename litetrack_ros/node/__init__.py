# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``litetrack`` ROS 2 node (rclpy): the node layer.

* ``lifecycle_node``: ``LiteTrackNode``, the managed node (lifecycle,
  subscriptions, services, publishing);
* ``parameters``: every parameter's default, description, range and choices;
* ``frames``: the newest frame and the ring buffer between executor and tracker;
* ``worker``: the tracking thread;
* ``diagnostics``: counters and the ``/diagnostics`` status;
* ``depth``, ``depth_buffer``: the optional depth input and 3D outputs, and the
  depth images matched to frames by stamp;
* ``main``: the ``litetrack_node`` executable;
* ``stamps``, ``transport``, ``stats``: small helpers (also used by ``ros_tools``).

Nothing here is imported by the ROS-free layers below.
"""
