# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The errors of reading weights, owned here so that every reader raises the same type.

``checkpoint`` (safetensors, pickles, ONNX) and ``openvino_ir`` (the LightTrack-M IR)
both raise :class:`CheckpointError`; the tools catch it and print its message.
"""

from __future__ import annotations

import os


class CheckpointError(RuntimeError):
    """A checkpoint file is unreadable, malformed, or does not match the model."""


class UnsafeCheckpointError(CheckpointError):
    """A pickle that calls a function outside the allow-list: possibly malicious."""

    def __init__(self, global_name: str, path: str | os.PathLike | None = None) -> None:
        self.global_name = global_name
        where = f'{path}: ' if path is not None else ''
        super().__init__(
            f'{where}refused: the pickle calls {global_name}, which no checkpoint needs; '
            'the file may be malicious (nothing in it was run)')
