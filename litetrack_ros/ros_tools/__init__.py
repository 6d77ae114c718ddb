# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Small ROS 2 command-line tools around the tracking node.

``video_source`` publishes a video, image folder or camera as
``sensor_msgs/Image``; ``select_target`` calls the node's ``set_target``
service; ``latency_bench`` measures the node as a robot runs it; ``demo``
runs the whole pipeline with a report. They sit above the node layer and,
with ``litetrack_ros.node``, are the only places that may import rclpy.
"""
