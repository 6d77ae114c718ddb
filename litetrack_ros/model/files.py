# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Open weight files with bounded work: regular files only, sizes checked before reading.

A path can name a FIFO (``open`` blocks until a writer comes), a device (``/dev/zero``
reads forever) or a folder. Every checkpoint reader opens its files through
:func:`open_regular`, which opens without blocking, refuses anything but a regular
file, and checks the size against a limit before a byte is read.
"""

from __future__ import annotations

import os
from pathlib import Path
import reprlib
import stat
from typing import BinaryIO

from litetrack_ros.model.errors import CheckpointError

# Largest weight file any reader accepts (the largest official checkpoint is ~0.4 GB).
MAX_WEIGHT_FILE_BYTES = 4 << 30
# How many characters of a value an error message quotes.
MAX_QUOTED_CHARS = 200
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, MAX_QUOTED_CHARS, MAX_QUOTED_CHARS


def shorten(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters (for error messages)."""
    text = ' '.join(text.split())
    return text if len(text) <= limit else f'{text[:limit]}... ({len(text)} characters)'


def quoted(value: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """``repr`` of ``value`` cut to ``limit`` characters (error messages stay one line)."""
    try:  # reprlib: containers are cut by depth and width before they are formatted
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails (recursion, a bad object) is named
        text = f'<{type(value).__name__}>'
    return text if len(text) <= limit else f'{text[:limit]}... ({len(text)} characters)'


def open_regular(path: str | os.PathLike, max_bytes: int = MAX_WEIGHT_FILE_BYTES) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file of at most ``max_bytes``.

    Opened with ``O_NONBLOCK`` so that a FIFO cannot block; the type and size are read
    from the open descriptor (no race with the path). Raises :class:`CheckpointError`.
    """
    path = Path(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0))
    except FileNotFoundError:
        raise CheckpointError(f'{path}: no such file') from None
    except OSError as error:
        raise CheckpointError(f'{path}: cannot open ({error.strerror})') from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = 'a folder' if stat.S_ISDIR(info.st_mode) else 'not a regular file'
            raise CheckpointError(f'{path}: {kind} (a FIFO, device or socket is refused)'
                                  if kind != 'a folder' else f'{path}: {kind}, not a file')
        if info.st_size > max_bytes:
            raise CheckpointError(f'{path}: {info.st_size} bytes, more than the '
                                  f'{max_bytes} this reader accepts')
        return os.fdopen(descriptor, 'rb')
    except BaseException:
        os.close(descriptor)
        raise


def read_regular(path: str | os.PathLike, max_bytes: int = MAX_WEIGHT_FILE_BYTES) -> bytes:
    """Return the content of a regular file of at most ``max_bytes`` (see :func:`open_regular`)."""
    with open_regular(path, max_bytes) as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:  # the file grew while it was read
        raise CheckpointError(f'{path}: more than the {max_bytes} bytes this reader accepts')
    return data


def regular_size(path: str | os.PathLike, max_bytes: int = MAX_WEIGHT_FILE_BYTES) -> int:
    """Return the size of a regular file of at most ``max_bytes`` (see :func:`open_regular`)."""
    with open_regular(path, max_bytes) as file:
        return os.fstat(file.fileno()).st_size
