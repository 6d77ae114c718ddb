# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Training side of litetrack_ros (ROS-free): data, losses, training, pruning, distillation.

Command-line tools: ``litetrack-train`` (:mod:`litetrack_ros.train.cli`),
``litetrack-prune`` (:mod:`litetrack_ros.train.prune`) and ``litetrack-pseudo-label``
(:mod:`litetrack_ros.train.pseudo_label`).
"""
