# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Training side of litetrack_ros (ROS-free): data, losses, the training loop and pruning.

Command-line tools: ``litetrack-train`` (:mod:`litetrack_ros.train.cli`) and
``litetrack-prune`` (:mod:`litetrack_ros.train.prune`).
"""
