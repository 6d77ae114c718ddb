# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""What each tracker ran with, recorded beside its results so that resume can check it.

:func:`tracker_settings` is the one place that turns an adapter into its
settings: a flat JSON dict written to ``<out>/<tracker>/settings.json`` (before
any sequence result) and into ``results.json``.  For LiteTrack it holds every
field of ``runtime.TrackerInfo`` (so a field added there is recorded and
compared with no change here), the weights file's SHA-256 and the size update
rate; for OpenCV trackers their kind, model files with their hashes, and seeds.

A model file is identified by its hash: ``weights`` (the path) is recorded but
only ``weights_sha256`` is compared, so the same file under another path
resumes and a retrained file under the same path does not.
"""

import dataclasses
import functools
import hashlib
import json
from pathlib import Path
import platform
import sys
from typing import Any

import cv2
from litetrack_ros.evaluation.baselines import LiteTrackAdapter, OpenCVTracker, TrackerAdapter

SETTINGS_FILE = 'settings.json'
HASH_SUFFIX = '_sha256'
HASH_CHARS = 16
# Not compared on resume: results are stored per seed, so adding seeds reuses the old
# ones; the compile log line holds timings, and why a precision was chosen does not change
# what ran (``precision`` and ``compile`` are compared).
NOT_COMPARED = frozenset({'seeds', 'compile_message', 'precision_reason'})


class SettingsMismatchError(ValueError):
    """Stored results were made with other settings than the tracker about to run."""


def file_sha256(path: str | Path) -> str:
    """Return the first 16 hex digits of the SHA-256 of a file's bytes.

    Remembered per (path, size, modification time): a large checkpoint is
    read once however often its settings are asked for.
    """
    status = Path(path).stat()
    return _sha256(str(Path(path).resolve()), status.st_size, status.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()[:HASH_CHARS]


def _file_entries(role: str, path: str) -> dict[str, str | None]:
    # 'UNTRAINED' (no file) gets no hash.
    hashed = Path(path).is_file()
    return {role: path, role + HASH_SUFFIX: file_sha256(path) if hashed else None}


def _litetrack_settings(adapter: LiteTrackAdapter) -> dict[str, Any]:
    settings: dict[str, Any] = {'kind': 'litetrack'}
    info = adapter.info
    if info is not None:
        # Every TrackerInfo field, in its order; the weights hash right after the path.
        fields = {field.name: getattr(info, field.name) for field in dataclasses.fields(info)}
        settings.update(_file_entries('weights', fields.pop('weights')))
        settings.update(fields)
    settings['size_update_rate'] = adapter.size_update_rate
    # The family's test-time procedure and its cell-selection settings (window,
    # scale penalty, score-weighted size update), as the tracker really runs them.
    procedure = getattr(getattr(adapter, '_tracker', None), 'procedure', None)
    if procedure is not None:
        settings['procedure'] = type(procedure).__name__
        selection = getattr(procedure, 'settings', None)
        if dataclasses.is_dataclass(selection):
            settings.update(dataclasses.asdict(selection))
    return settings


def tracker_settings(tracker: TrackerAdapter) -> dict[str, Any]:
    """Return what ``tracker`` runs with, as a JSON-ready flat dict (see the module doc).

    Adapters that are neither LiteTrack nor OpenCV (tests, user code) may
    provide a ``settings`` dict; otherwise their class name is all there is.
    """
    if isinstance(tracker, LiteTrackAdapter):
        settings = _litetrack_settings(tracker)
    elif isinstance(tracker, OpenCVTracker):
        settings = {'kind': tracker.kind}
        for role, path in tracker.files.items():
            settings.update(_file_entries(role, path))
        if tracker.seeds is not None:
            settings['seeds'] = list(tracker.seeds)
    else:
        settings = {'kind': type(tracker).__name__, **getattr(tracker, 'settings', {})}
    # As it reads back from JSON (tuples become lists, other objects their str),
    # so that comparisons with stored settings are exact.
    return json.loads(json.dumps(settings, default=str))


def settings_differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Describe each compared field that differs (``size_update_rate: stored 0.2, now 0.5``)."""
    keys = list(current) + [key for key in stored if key not in current]
    missing = '(not recorded)'
    differences = []
    for key in keys:
        if key in NOT_COMPARED or key + HASH_SUFFIX in current or key + HASH_SUFFIX in stored:
            continue
        before, now = stored.get(key, missing), current.get(key, missing)
        if before != now:
            differences.append(f'{key}: stored {before!r}, now {now!r}')
    return differences


def read_settings(folder: Path) -> dict[str, Any] | None:
    """Return the settings stored in ``folder``, or None when there are none (or unreadable)."""
    try:
        stored = json.loads((Path(folder) / SETTINGS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return stored if isinstance(stored, dict) else None


def write_settings(folder: Path, settings: dict[str, Any]) -> None:
    """Write ``settings`` to ``folder/settings.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + '\n')


def _cpu_name() -> str:
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict[str, Any]:
    """Where the figures were measured (recorded in ``results.json``, never compared)."""
    torch = sys.modules.get('torch')  # only when a LiteTrack tracker loaded it
    return {
        'cpu': _cpu_name(),
        'python': platform.python_version(),
        'opencv': cv2.__version__,
        'opencv_threads': cv2.getNumThreads(),
        'torch': torch.__version__ if torch is not None else None,
        'torch_threads': torch.get_num_threads() if torch is not None else None,
    }
