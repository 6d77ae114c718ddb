# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Image I/O, free of ROS and of the network: pixels in and out of the package.

* ``image_codec``: ``sensor_msgs/Image`` and ``CompressedImage`` fields to RGB arrays
  and back (read by field names only, no ROS import);
* ``depth_image``: depth images (16UC1 mm, 32FC1 m) as metres, by field names;
* ``frame_reader``: frames of a video file, an image folder or a camera;
* ``overlay``: drawing the track on a frame;
* ``scenes``: generated videos with exact ground truth (tests, demo, training);
* ``gui``: opening an OpenCV window where one can open.

May import numpy and OpenCV only.
"""
