# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Small ROS 2 command-line tools around the tracking node.

``video_source`` publishes a video, image folder or camera as
``sensor_msgs/Image``; ``select_target`` calls the node's ``set_target``
service. They belong to the node layer and are the only place besides
``litetrack_ros.node`` that may import rclpy.
"""
