# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Command-line tools around the tracker, free of ROS.

``bench`` (``litetrack-bench``), ``convert`` (``litetrack-convert``), ``export``
(``litetrack-export``) and ``track`` (``litetrack-track``). ``litetrack-eval`` lives in
``evaluation``; ``litetrack-train``, ``-prune`` and ``-pseudo-label`` in ``train``.
May import every ROS-free layer.
"""
