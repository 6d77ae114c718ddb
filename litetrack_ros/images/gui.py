# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Open an OpenCV window only where one can open, with a reason where not."""

import os
import re
import sys

import cv2


class GuiUnavailableError(RuntimeError):
    """No window can be opened here; the message says why and what to do instead."""


def open_window(name: str, instead: str) -> None:
    """Open a window, or raise GuiUnavailableError ending with ``instead``.

    Checked before the first window because some GUI backends abort the whole
    process when there is no display.
    """
    if re.search(r'GUI:\s*NONE', cv2.getBuildInformation()):
        raise GuiUnavailableError(
            'this needs OpenCV with GUI support, but this build has no GUI support '
            '(opencv-python-headless, which the package installs, cannot open windows). On a '
            f'desktop, `pip install opencv-python` instead, or {instead}')
    if sys.platform.startswith('linux') and not (os.environ.get('DISPLAY')
                                                 or os.environ.get('WAYLAND_DISPLAY')):
        raise GuiUnavailableError('this needs a desktop, but neither DISPLAY nor '
                                  f'WAYLAND_DISPLAY is set; {instead}')
    try:
        cv2.namedWindow(name, cv2.WINDOW_AUTOSIZE)
    except cv2.error as error:
        raise GuiUnavailableError(f'OpenCV cannot open a window ({error}); {instead}') from error
