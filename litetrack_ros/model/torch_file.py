# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Unpickle ``torch.save`` files without running their code, in bounded memory and time.

Official checkpoints are ``torch.save`` pickles of a dict whose ``'net'`` entry is the
state dict and whose other entries hold pickled trainer objects (settings, statistics)
of classes that do not exist here. They are read with a restricted unpickler: it
rebuilds tensors and plain containers, and replaces every other pickled global with an
inert placeholder class, so that nothing named in the file is ever imported or called.
Objects of unknown classes (what trainers pickle) become placeholders; a pickle that
*calls* a global outside the allow-list (``os.system``, ``eval``, ``subprocess.Popen``...,
the way every pickle exploit works) is refused with :class:`UnsafeCheckpointError`
naming it, because no legitimate checkpoint does that.

A pickle of a few bytes can still ask an allowed constructor for gigabytes
(``bytes(6_000_000_000)``, ``list(range(10**9))``, a storage of 10**12 elements, the
same big list copied a million times). Every allowed callable is therefore wrapped, and
a :class:`Budget` per file, checked *before* anything is allocated, bounds:

* the opcodes of each pickle (objects built) and the nesting of its marks, counted by a
  scan of the pickle before it is loaded (which also refuses lengths past its end);
* the elements that calls build (sizes of their arguments, counts asked for);
* the bytes of the storages (never more than the file holds) and of the tensor views.
"""

from __future__ import annotations

import _codecs
import _compat_pickle
import builtins
import collections
from dataclasses import dataclass
import io
import math
import os
from pathlib import Path
import pickle
import pickletools
import tarfile
import threading
import types
from typing import Any, Callable
import zipfile

from litetrack_ros.model.errors import CheckpointError, UnsafeCheckpointError
from litetrack_ros.model.files import open_regular, quoted, read_regular, shorten
import torch
from torch import nn

# Opcodes one pickle may hold (an official checkpoint's has a few tens of thousands).
MAX_PICKLE_OPS = 2_000_000
# Nesting of MARKs (containers being built inside one another) in one pickle.
MAX_MARK_DEPTH = 256
# Elements that calls to allowed constructors may build, in all (not counting tensors).
MAX_CALL_ELEMENTS = 1 << 24
# Dimensions of a tensor.
MAX_TENSOR_DIMS = 16
# Headroom over the file's size for the bytes of storages and of tensor views.
STORAGE_SLACK_BYTES = 1 << 20
# Tensor views may cover their storages this many times in all (tied weights).
MAX_VIEW_FACTOR = 4
# Encodings protocol-2 pickles name for bytes (``_codecs.encode(text, 'latin1')``).
BYTES_ENCODINGS = frozenset({'latin1', 'latin-1', 'iso-8859-1', 'iso8859-1', 'ascii'})

PathLike = str | os.PathLike


@dataclass
class Budget:
    """What one file may still build; :meth:`spend` refuses before the work is done."""

    path: str
    storage_bytes: int
    view_bytes: int
    call_elements: int = MAX_CALL_ELEMENTS

    @classmethod
    def for_file(cls, path: PathLike, file_bytes: int) -> Budget:
        """Return the budget of a file of ``file_bytes`` bytes."""
        storage = file_bytes + STORAGE_SLACK_BYTES
        return cls(str(path), storage, MAX_VIEW_FACTOR * storage)

    def spend(self, what: str, amount: int, kind: str) -> None:
        """Take ``amount`` from the ``kind`` budget or raise :class:`CheckpointError`."""
        left = getattr(self, kind)
        if amount < 0 or amount > left:
            raise CheckpointError(f'{self.path}: refused: {what} asks for {amount} '
                                  f'{kind.replace("_", " ")}, more than the file may build '
                                  f'({left} left)')
        setattr(self, kind, left - amount)


# The budget of the file being loaded, per thread (the node and a tool may load at once).
_current = threading.local()


def _budget() -> Budget:
    budget = getattr(_current, 'budget', None)
    if budget is None:  # RestrictedUnpickler used on its own: a fixed budget
        budget = Budget('<pickle>', 1 << 30, 1 << 30)
        _current.budget = budget
    return budget


# --------------------------------------------------------------------------- placeholders


class UnresolvedGlobal:
    """Inert stand-in for a pickled global that the loader refuses to import.

    The unpickler creates one subclass per global name. Instances made the way pickle
    rebuilds objects of a class (``cls.__new__``, then state) ignore every piece of
    state they receive, so an object graph referring to unknown classes still loads.
    *Calling* the placeholder (pickle's REDUCE, INST and OBJ) raises
    :class:`UnsafeCheckpointError`, except for the few data constructors listed in
    ``INERT_CALLS``; nothing the pickle names can run either way.
    """

    pickled_name = ''
    inert_call = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not self.inert_call:
            raise UnsafeCheckpointError(self.pickled_name)

    def __setstate__(self, state: Any) -> None:
        pass

    # Pickled dict and list subclasses are filled through these.
    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, item: Any) -> None:
        """Ignore an item (pickle's APPEND on a list subclass)."""

    def extend(self, items: Any) -> None:
        """Ignore items (pickle's APPENDS on a list subclass)."""

    def __repr__(self) -> str:
        return f'<unresolved {self.pickled_name}>'


# Globals that legitimate checkpoints call while unpickling although they are not
# rebuilt here: data constructors (NumPy arrays and scalars in trainer statistics,
# protocol 0/1 object rebuilding, plain value classes). They stay inert placeholders.
INERT_CALLS = frozenset({
    ('copyreg', '_reconstructor'),
    ('numpy', 'dtype'), ('numpy', 'ndarray'),
    ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
    ('argparse', 'Namespace'), ('types', 'SimpleNamespace'),
    ('pathlib', 'Path'), ('pathlib', 'PosixPath'), ('pathlib', 'WindowsPath'),
    ('datetime', 'datetime'), ('datetime', 'date'), ('datetime', 'timedelta'),
})


def _placeholder(module: str, name: str) -> type:
    qualified = f'{module}.{name}'
    # Only strings are recorded: the placeholder holds nothing that can be called.
    return type(name if name.isidentifier() else 'Unresolved', (UnresolvedGlobal,),
                {'pickled_name': qualified[:200], 'inert_call': (module, name) in INERT_CALLS,
                 '__module__': __name__, '__slots__': ()})


# --------------------------------------------------------------------------- guarded calls


def _length(value: Any) -> int:
    """Elements a constructor builds from ``value`` (an iterable's length; 1 otherwise)."""
    if isinstance(value, range):
        try:
            return len(value)
        except OverflowError:
            return 1 << 62
    if isinstance(value, (str, bytes, bytearray, list, tuple, dict, set, frozenset)):
        return len(value)
    return 1


def _count(value: Any) -> int:
    """Elements a constructor that takes a count (``bytes(n)``, ``Tensor(n)``) builds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value)
    return _length(value)


def _guard(name: str, function: Callable[..., Any], counts: bool = False) -> Callable[..., Any]:
    """Wrap an allowed constructor so that it spends the budget before it runs."""
    measure = _count if counts else _length

    def guarded(*args: Any, **kwargs: Any) -> Any:
        cost = sum(measure(value) for value in args) + sum(map(measure, kwargs.values()))
        _budget().spend(f'{name}(...)', cost, 'call_elements')
        return function(*args, **kwargs)

    guarded.__name__ = guarded.__qualname__ = name.rpartition('.')[2]
    return guarded


def _text(value: Any = '', *args: Any) -> str:
    # str() of a container is its repr, which can be far larger than the pickle.
    if not isinstance(value, (str, bytes, bytearray, int, float, bool, type(None))):
        raise CheckpointError(f'refused: str() of a {type(value).__name__}')
    _budget().spend('str(...)', _length(value), 'call_elements')
    return str(value, *args)


def _encode(text: Any, encoding: str = 'utf-8', errors: str = 'strict') -> bytes:
    if not isinstance(text, str) or encoding not in BYTES_ENCODINGS:
        raise CheckpointError(f'refused: _codecs.encode of a {type(text).__name__} '
                              f'to {quoted(encoding, 40)}')
    _budget().spend('_codecs.encode(...)', len(text), 'call_elements')
    return _codecs.encode(text, encoding, errors)


def _storage_bytes(storage: Any) -> tuple[int, int]:
    """Return a storage's size in bytes and its element size."""
    if isinstance(storage, torch.storage.TypedStorage):
        return storage._untyped_storage.nbytes(), torch._utils._element_size(storage.dtype)
    if isinstance(storage, torch.UntypedStorage):
        return storage.nbytes(), 1
    raise CheckpointError(f'refused: a tensor built on a {type(storage).__name__}, '
                          'not a storage')


def _check_view(storage: Any, offset: Any, size: Any, stride: Any) -> None:
    """Refuse a tensor view larger than its storage, before it exists."""
    nbytes, element = _storage_bytes(storage)
    dims = tuple(size) if isinstance(size, (tuple, list, torch.Size)) else None
    if dims is None or len(dims) > MAX_TENSOR_DIMS or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise CheckpointError(f'refused: tensor size {quoted(size, 80)}')
    if not isinstance(offset, int) or offset < 0:
        raise CheckpointError(f'refused: tensor offset {quoted(offset, 40)}')
    view = math.prod(dims) * element
    if view + offset * element > nbytes:
        raise CheckpointError(f'refused: a tensor of {view} bytes on a storage of {nbytes}')
    _budget().spend('a tensor view', view, 'view_bytes')


def _tensor_rebuilder(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def rebuild(storage: Any, storage_offset: Any, size: Any, stride: Any,
                *args: Any, **kwargs: Any) -> Any:
        _check_view(storage, storage_offset, size, stride)
        return function(storage, storage_offset, size, stride, *args, **kwargs)

    rebuild.__name__ = rebuild.__qualname__ = name
    return rebuild


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    # torch's version calls func(*args); func is whatever the pickle names, so only the
    # tensor rebuilders (guarded) are accepted; a subclass is not rebuilt, its data is.
    if getattr(func, '__module__', None) != __name__ or not isinstance(args, tuple):
        raise CheckpointError(f'refused: _rebuild_from_type_v2 of {quoted(func, 80)}')
    return func(*args)


def _allowed_globals() -> dict[tuple[str, str], Any]:
    allowed: dict[tuple[str, str], Any] = {
        ('collections', 'OrderedDict'): _guard('OrderedDict', collections.OrderedDict),
        ('collections', 'defaultdict'): _guard('defaultdict', collections.defaultdict),
        ('collections', 'Counter'): _guard('Counter', collections.Counter),
        # Protocol-2 pickles store bytes as _codecs.encode(str, 'latin1').
        ('_codecs', 'encode'): _encode,
        ('torch', 'Size'): _guard('Size', torch.Size),
        ('torch', 'device'): _guard('device', torch.device),
        ('torch', 'Tensor'): _guard('Tensor', torch.Tensor, counts=True),
        ('torch.nn.parameter', 'Parameter'): _guard('Parameter', nn.Parameter),
        ('torch._tensor', '_rebuild_from_type_v2'): _rebuild_from_type_v2,
        ('builtins', 'str'): _text,
    }
    for name in ('set', 'frozenset', 'dict', 'list', 'tuple', 'int', 'float', 'complex',
                 'bool', 'slice', 'range'):
        allowed['builtins', name] = _guard(name, getattr(builtins, name))
    for name in ('bytes', 'bytearray'):
        allowed['builtins', name] = _guard(name, getattr(builtins, name), counts=True)
    for name in ('_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_tensor_v3'):
        function = getattr(torch._utils, name, None)
        if function is not None:
            allowed['torch._utils', name] = _tensor_rebuilder(name, function)
    for name in ('_rebuild_parameter', '_rebuild_parameter_with_state'):
        function = getattr(torch._utils, name, None)
        if function is not None:
            allowed['torch._utils', name] = _guard(name, function)
    for name in dir(torch):
        value = getattr(torch, name)
        if isinstance(value, torch.dtype):
            allowed['torch', name] = value
    return allowed


_ALLOWED_GLOBALS = _allowed_globals()
# The C unpickler's own persistent_load slot, which torch assigns after construction.
_PERSISTENT_LOAD = pickle.Unpickler.__dict__['persistent_load']


def _scan(file: Any) -> None:
    """Count the opcodes and mark nesting of the pickle at ``file``'s position; rewind."""
    if not isinstance(file, io.BytesIO):
        return  # torch hands in BytesIO (zip) or ours (legacy); others are bounded by caller
    start = file.tell()
    depth = 0
    try:
        for count, (opcode, _, _) in enumerate(pickletools.genops(file)):
            if count >= MAX_PICKLE_OPS:
                raise CheckpointError(f'refused: a pickle of more than {MAX_PICKLE_OPS} '
                                      'operations')
            if opcode.name == 'MARK':
                depth += 1
                if depth > MAX_MARK_DEPTH:
                    raise CheckpointError(f'refused: containers nested more than '
                                          f'{MAX_MARK_DEPTH} deep')
            elif opcode.stack_before and pickletools.markobject in opcode.stack_before:
                depth -= 1
    except ValueError as error:  # lengths past the end, unknown opcodes
        raise CheckpointError(f'not a well-formed pickle ({shorten(str(error), 120)})') from None
    finally:
        file.seek(start)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only an allow-list of globals; the rest become placeholders.

    The pickle is scanned (opcodes, nesting) before loading, and storages are checked
    against the budget before torch allocates them.
    """

    def __init__(self, file: Any, *args: Any, **kwargs: Any) -> None:
        _scan(file)
        super().__init__(file, *args, **kwargs)

    @property
    def persistent_load(self) -> Any:
        """Return the persistent-id loader (torch's storage loader, guarded)."""
        return _PERSISTENT_LOAD.__get__(self)

    @persistent_load.setter
    def persistent_load(self, load: Callable[[Any], Any]) -> None:
        seen: set[Any] = set()

        def guarded(saved_id: Any) -> Any:
            _check_storage(saved_id, seen)
            return load(saved_id)

        _PERSISTENT_LOAD.__set__(self, guarded)

    def find_class(self, module: str, name: str) -> Any:
        """Return the allowed global ``module.name``, or an inert placeholder class."""
        if not isinstance(module, str) or not isinstance(name, str):
            raise CheckpointError('refused: a global named by a non-string')
        # Protocol 0-2 pickles (torch.save uses 2) name Python 2 modules ('__builtin__');
        # the default find_class maps them, so an override has to do it too.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[module, name]
        else:
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        # Never import or look up anything named by the file outside the allow-list.
        found = _ALLOWED_GLOBALS.get((module, name))
        if found is not None:
            return found
        return _placeholder(module, name)


def _check_storage(saved_id: Any, seen: set[Any]) -> None:
    """Refuse a storage the file cannot hold, before torch allocates it."""
    # zip: ('storage', type, key, location, numel); legacy: (..., numel, view_metadata).
    if isinstance(saved_id, tuple) and saved_id and saved_id[0] in ('module', b'module'):
        return  # a legacy pickle's module source: nothing is allocated
    if not isinstance(saved_id, tuple) or len(saved_id) not in (5, 6) \
            or saved_id[0] not in ('storage', b'storage'):
        raise CheckpointError(f'refused: persistent id {quoted(saved_id, 80)}')
    storage_type, key, numel = saved_id[1], saved_id[2], saved_id[4]
    if not isinstance(numel, int) or isinstance(numel, bool) or numel < 0:
        raise CheckpointError(f'refused: storage size {quoted(numel, 40)}')
    dtype = getattr(storage_type, 'dtype', None)
    if storage_type is torch.UntypedStorage:
        dtype = torch.uint8
    if not isinstance(dtype, torch.dtype):
        raise CheckpointError(f'refused: storage type {quoted(storage_type, 80)}')
    try:
        hash(key)
    except TypeError:
        raise CheckpointError(f'refused: storage key {quoted(key, 40)}') from None
    if key in seen:
        return
    seen.add(key)
    element = torch._utils._element_size(dtype)
    _budget().spend(f'storage {quoted(key, 40)}', numel * element, 'storage_bytes')


def _restricted_load(file: Any, **kwargs: Any) -> Any:
    return RestrictedUnpickler(file, **kwargs).load()


# torch.load takes a module-like object with Unpickler and load; it subclasses our
# Unpickler to map storages and then defers to our find_class for everything else.
restricted_pickle = types.ModuleType('litetrack_restricted_pickle')
restricted_pickle.Unpickler = RestrictedUnpickler
restricted_pickle.load = _restricted_load
restricted_pickle.UnpicklingError = pickle.UnpicklingError


# --------------------------------------------------------------------------- files


def _check_zip(path: Path, file_bytes: int) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as error:
        raise CheckpointError(f'{path}: not a readable zip archive '
                              f'({shorten(str(error))})') from None
    names = [info.filename for info in infos]
    # torch.load hands TorchScript archives to torch.jit.load, which runs their code.
    if any(name.endswith('/constants.pkl') or name == 'constants.pkl' for name in names):
        raise CheckpointError(f'{path}: TorchScript archives are not supported')
    unpacked = sum(info.file_size for info in infos)
    if unpacked > 2 * file_bytes + STORAGE_SLACK_BYTES:
        raise CheckpointError(f'{path}: refused: the archive unpacks to {unpacked} bytes '
                              f'from {file_bytes}')


def load_pickled(path: PathLike) -> Any:
    """Unpickle a ``torch.save`` file (zip or legacy format) without running its code.

    Tensors and plain containers are rebuilt on CPU; other objects become inert
    :class:`UnresolvedGlobal` instances. Memory and work are bounded by the file's
    size (see :class:`Budget`). Raises :class:`CheckpointError`.
    """
    path = Path(path)
    with open_regular(path) as file:
        file_bytes = os.fstat(file.fileno()).st_size
        is_zip = zipfile.is_zipfile(file)
    source: Any = path
    if is_zip:
        _check_zip(path, file_bytes)
    else:
        # The legacy format: the pickles and the storages follow each other in the file,
        # read from memory so that every pickle can be scanned before it is loaded.
        data = read_regular(path)
        if tarfile.is_tarfile(io.BytesIO(data)):
            raise CheckpointError(f'{path}: the tar format of PyTorch < 0.4 is not supported')
        source = io.BytesIO(data)
    _current.budget = Budget.for_file(path, file_bytes)
    try:
        return torch.load(source, map_location='cpu', pickle_module=restricted_pickle,
                          weights_only=False)
    except UnsafeCheckpointError as error:
        raise UnsafeCheckpointError(error.global_name, path) from None
    except CheckpointError as error:
        message = str(error)
        raise CheckpointError(message if message.startswith(str(path))
                              else f'{path}: {message}') from None
    except (Exception, RecursionError) as error:  # torch, zip and pickle errors of many types
        raise CheckpointError(f'{path}: not a readable PyTorch checkpoint '
                              f'({type(error).__name__}: {shorten(str(error))})') from None
    finally:
        _current.budget = None


__all__ = [
    'Budget',
    'RestrictedUnpickler',
    'UnresolvedGlobal',
    'load_pickled',
    'restricted_pickle',
]
