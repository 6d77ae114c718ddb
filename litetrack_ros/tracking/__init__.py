# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The tracking core: numpy frames in, boxes out (no ROS).

* ``tracker``: ``Tracker`` (initialize / track / reset), shared by both families;
* ``procedures``: what differs per model family (crops, normalisation, decoding);
* ``selection``: choosing a cell (window, scale penalty, size update rate);
* ``geometry``: boxes and crops, with upstream's rounding and padding;
* ``frame_guard``: skipping frames whose size cannot belong to the stream;
* ``depth``: a box and a depth image to a 3D position (median depth, back-projection);
* ``runtime``: user settings (weights, device, precision, compile) to a ready Tracker;
* ``cpu_features``: whether this CPU multiplies bf16 natively.

May import ``litetrack_ros.model``, torch, numpy and OpenCV; never ROS.
"""
