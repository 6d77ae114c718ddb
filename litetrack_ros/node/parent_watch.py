# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Notice that the process that started the node is gone (the node is an orphan).

``ros2 launch`` that gets SIGTERM (systemd, ``docker stop``) or SIGKILL can end
without stopping its nodes (ros2/launch#666); they then run on, reparented to
init or a subreaper, holding the camera, the GPU and their names. The node
checks its parent in its spin loop and shuts down cleanly when it changed.
"""

import os


class ParentWatch:
    """Remember the parent process at start; tell when it has gone."""

    def __init__(self) -> None:
        self.parent = os.getppid()

    def orphaned(self) -> bool:
        """Tell whether the parent has exited (the process was reparented).

        A process started by init itself (parent 1 from the start, e.g. PID 1's
        child in a container) is never called orphaned.
        """
        return os.getppid() != self.parent
