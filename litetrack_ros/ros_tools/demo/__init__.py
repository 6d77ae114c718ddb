# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``make demo``: the whole ROS 2 pipeline on a generated video, with a report.

``python -m litetrack_ros.ros_tools.demo`` (see ``run`` for the options and the
outputs). Parts, each usable on its own, in import order:

* ``scene``: what is played (the generated scene with its ground truth, or a
  user's video, folder or camera) and which weights;
* ``processes``: ``video_source`` and the node as child processes;
* ``recorder``: the ROS node that sets the target and records what the node
  publishes, frame by frame;
* ``report``: CSV, plot and summary of a recording;
* ``run``: the command line and the run itself.
"""
