# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Small checkpoint files that ask for gigabytes are refused before anything is allocated.

Each crafted file is a few bytes to a few kilobytes. Before the budget, every one of
them either allocated gigabytes or failed with a MemoryError; now each is refused with
a :class:`CheckpointError` naming the refusal, quickly, and the whole set stays far
under 1 GB of peak memory (measured in a child process).
"""

import collections
import io
import os
from pathlib import Path
import pickle
import resource
import stat
import subprocess
import sys
import time
import zipfile

from litetrack_ros.model.checkpoint import CheckpointError, load_checkpoint, load_pickled
import pytest
import torch

GIGA = 6 * 10 ** 9


class Call:
    """Pickles as a call of ``function(*args)``."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


class StorageRef:
    """Pickles as torch's persistent id of a storage (zip layout)."""

    def __init__(self, numel, key='0'):
        self.numel, self.key = numel, key


class Pickler(pickle.Pickler):
    """Pickler writing :class:`StorageRef` as torch's zip storage ids."""

    def persistent_id(self, obj):
        """Return the storage id of a :class:`StorageRef`."""
        if isinstance(obj, StorageRef):
            return ('storage', torch.FloatStorage, obj.key, 'cpu', obj.numel)
        return None


def torch_zip(path: Path, data_pkl: bytes, records: dict | None = None,
              compression=zipfile.ZIP_STORED) -> Path:
    """Write a torch zip checkpoint whose data.pkl is ``data_pkl``."""
    with zipfile.ZipFile(path, 'w', compression) as archive:
        archive.writestr('archive/data.pkl', data_pkl)
        archive.writestr('archive/byteorder', 'little')
        archive.writestr('archive/version', '3\n')
        for name, data in (records or {}).items():
            archive.writestr(f'archive/data/{name}', data)
    return path


def pickled(obj) -> bytes:
    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def legacy(path: Path, main: bytes) -> Path:
    """Write an old-format (non-zip) torch file around the main pickle ``main``."""
    from torch.serialization import MAGIC_NUMBER, PROTOCOL_VERSION
    head = b''.join(pickle.dumps(value, protocol=2) for value in (
        MAGIC_NUMBER, PROTOCOL_VERSION,
        {'protocol_version': PROTOCOL_VERSION, 'little_endian': True,
         'type_sizes': {'short': 2, 'int': 4, 'long': 4}}))
    path.write_bytes(head + main + pickle.dumps(['0'], protocol=2))
    return path


class LegacyPickler(pickle.Pickler):
    """Pickler writing :class:`StorageRef` as torch's legacy storage ids."""

    def persistent_id(self, obj):
        """Return the legacy storage id of a :class:`StorageRef`."""
        if isinstance(obj, StorageRef):
            return ('storage', torch.FloatStorage, obj.key, 'cpu', obj.numel, None)
        return None


def legacy_pickled(obj) -> bytes:
    buffer = io.BytesIO()
    LegacyPickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def view(storage, size):
    return Call(torch._utils._rebuild_tensor_v2, storage, 0, size, (0,) * len(size), False,
                collections.OrderedDict())


def crafted(folder: Path) -> dict[str, Path]:
    """Every crafted file by name; each must be refused (message includes 'refused')."""
    folder.mkdir(exist_ok=True)
    small = list(range(100_000))
    files = {
        'bytes': Call(bytes, GIGA),
        'bytearray': Call(bytearray, GIGA),
        'list-of-range': Call(list, range(GIGA)),
        'tuple-of-range': Call(tuple, range(GIGA)),
        'size-of-range': Call(torch.Size, range(GIGA)),
        'tensor-count': Call(torch.Tensor, GIGA),
        'copies': [Call(list, small) for _ in range(400)],
        'repr': Call(str, [small] * 1000),
        'storage': view(StorageRef(GIGA), (GIGA,)),
        'view': view(StorageRef(4), (100_000, 100_000)),
    }
    paths = {name: torch_zip(folder / f'{name}.pth', pickled({'net': obj}), {'0': bytes(16)})
             for name, obj in files.items()}
    paths['legacy-storage'] = legacy(folder / 'legacy.pth',
                                     legacy_pickled({'net': view(StorageRef(GIGA), (GIGA,))}))
    # BINBYTES8 of 2**40 bytes in a 20-byte pickle.
    paths['bytes8'] = torch_zip(folder / 'bytes8.pth',
                                b'\x80\x04\x8e' + (1 << 40).to_bytes(8, 'little') + b'.')
    paths['deflate'] = torch_zip(folder / 'deflate.pth', pickled({'net': 1}),
                                 {'0': bytes(200 << 20)}, zipfile.ZIP_DEFLATED)
    paths['marks'] = torch_zip(folder / 'marks.pth', b'\x80\x02' + b'(' * 100_000 + b'.')
    return paths


@pytest.fixture(scope='module')
def files(tmp_path_factory) -> dict[str, Path]:
    return crafted(tmp_path_factory.mktemp('crafted'))


@pytest.mark.parametrize('name', [
    'bytes', 'bytearray', 'list-of-range', 'tuple-of-range', 'size-of-range', 'tensor-count',
    'copies', 'repr', 'storage', 'view', 'legacy-storage', 'bytes8', 'deflate', 'marks'])
def test_small_file_asking_for_gigabytes_is_refused(files, name):
    path = files[name]
    assert path.stat().st_size < 1 << 20
    start = time.monotonic()
    with pytest.raises(CheckpointError) as raised:
        load_pickled(path)
    assert time.monotonic() - start < 10
    message = str(raised.value)
    assert 'refused' in message or 'well-formed' in message, message
    assert message.startswith(str(path)) and len(message) < 600 and '\n' not in message


def test_budgets_leave_real_checkpoints_alone(tmp_path):
    tied = torch.arange(12.0)
    state = collections.OrderedDict(a=tied, b=tied.view(3, 4), c=torch.zeros(2, dtype=torch.int64))
    for zip_format in (True, False):
        path = tmp_path / f'ok{zip_format}.pth'
        torch.save({'net': state, 'epoch': 3, 'stats': {'loss': [0.5] * 100},
                    'name': 'run', 'blob': b'x' * 1000}, path,
                   _use_new_zipfile_serialization=zip_format)
        loaded = load_pickled(path)
        assert torch.equal(loaded['net']['b'], tied.view(3, 4))
        assert loaded['stats']['loss'] == [0.5] * 100 and loaded['blob'] == b'x' * 1000


def test_special_files_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / 'weights.pth'
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    start = time.monotonic()
    for path in (fifo, Path('/dev/zero'), tmp_path):
        with pytest.raises(CheckpointError, match='regular file|folder'):
            load_pickled(path)
    with pytest.raises(CheckpointError, match='regular file'):
        load_checkpoint(fifo)
    assert time.monotonic() - start < 5


PEAK_SCRIPT = """
import resource, sys
from pathlib import Path
sys.path[:0] = [{test_dir!r}]
from test_checkpoint_budget import crafted
from litetrack_ros.model.checkpoint import CheckpointError, load_checkpoint
files = crafted(Path({folder!r}))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for path in files.values():
    try:
        load_checkpoint(path)
    except CheckpointError:
        pass
    else:
        raise SystemExit(f'{{path}} loaded')
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024)
"""


def test_crafted_files_stay_far_under_a_gigabyte(tmp_path):
    """Peak memory of loading every crafted file, measured in a fresh process."""
    script = PEAK_SCRIPT.format(test_dir=str(Path(__file__).parent), folder=str(tmp_path))
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=120, env=env,
                            preexec_fn=lambda: resource.setrlimit(
                                resource.RLIMIT_AS, (8 << 30, 8 << 30)))
    assert result.returncode == 0, result.stderr[-2000:]
    grown_mib = int(result.stdout.split()[-1])
    assert grown_mib < 1024, grown_mib
