# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``python -m litetrack_ros.ros_tools.demo``: run the demo (see ``run``)."""

from litetrack_ros.ros_tools.demo.run import main

raise SystemExit(main())
