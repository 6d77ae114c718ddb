# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Load and save LiteTrack and LightTrack weights without executing anything stored in them.

Official checkpoints are ``torch.save`` pickles of a dict whose ``'net'`` entry is the
state dict; they are read by ``litetrack_ros.model.torch_file`` (a restricted unpickler
with a memory budget: nothing in the file runs, nothing larger than the file is built).
``.safetensors`` files hold
tensors only and are the preferred format; :func:`save_safetensors` records the
config (and the model family) in their
metadata.

The model family is a property of the checkpoint: ``'litetrack'`` (:class:`LiteTrack`,
keys ``backbone.*``, ``box_head.*``) or ``'lighttrack'`` (:class:`LightTrack`, keys
``features.*``, ``neck.*``, ``feature_fusor.*``, ``head.*``), read from the safetensors
metadata or recognised from the key names; :func:`load_model` builds the right network.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
import re
import struct
from typing import Any, NamedTuple

from litetrack_ros.model.config import (
    LightTrackConfig,
    ModelConfig,
    NetworkConfig,
    official_num_interaction,
)
from litetrack_ros.model.errors import CheckpointError, UnsafeCheckpointError
from litetrack_ros.model.files import open_regular, quoted, shorten
from litetrack_ros.model.lighttrack import LightTrack
from litetrack_ros.model.litetrack import LiteTrack
from litetrack_ros.model.torch_file import load_pickled, RestrictedUnpickler, UnresolvedGlobal
import safetensors
import safetensors.torch
import torch
from torch import nn, Tensor

# Key of the safetensors metadata entry holding the network's config as JSON.
CONFIG_METADATA_KEY = 'litetrack_config'
# Key of the metadata entry naming the model family; absent: 'litetrack' (older files).
FAMILY_METADATA_KEY = 'litetrack_family'
# Config class and network class of each family, by the name stored in the metadata.
FAMILIES: dict[str, tuple[type, type]] = {
    ModelConfig.family: (ModelConfig, LiteTrack),
    LightTrackConfig.family: (LightTrackConfig, LightTrack),
}
# Key prefixes that only LightTrack state dicts have.
LIGHTTRACK_PREFIXES = ('features.', 'neck.BN_', 'feature_fusor.', 'head.')
# Keys under which training scripts commonly store the state dict, in order of preference.
STATE_DICT_KEYS = ('net', 'model', 'state_dict')
# Longest config JSON accepted in safetensors metadata (ours is ~600 characters).
MAX_CONFIG_METADATA_CHARS = 1 << 16
# How many key names an error message lists before summarising the rest.
MAX_LISTED_KEYS = 10

PathLike = str | os.PathLike


class Checkpoint(NamedTuple):
    """Weights read from a file, with the config they need."""

    state_dict: dict[str, Tensor]
    config: NetworkConfig


# --------------------------------------------------------------------------- reading


def _truncated(names: list[str]) -> str:
    listed = ', '.join(quoted(name) if not isinstance(name, str) or len(name) > 200 else name
                       for name in names[:MAX_LISTED_KEYS])
    if len(names) > MAX_LISTED_KEYS:
        listed += f', ... ({len(names) - MAX_LISTED_KEYS} more)'
    return listed


def _is_safetensors(path: Path) -> bool:
    # Layout: u64 little-endian header length, then a JSON header starting with '{'.
    with open_regular(path) as file:
        head = file.read(9)
        size = os.fstat(file.fileno()).st_size
    if len(head) < 9:
        return False
    (header_length,) = struct.unpack('<Q', head[:8])
    return head[8:9] == b'{' and 8 + header_length <= size


def _read_safetensors(path: Path) -> tuple[dict[str, Tensor], NetworkConfig | None]:
    try:
        with safetensors.safe_open(str(path), framework='pt') as file:
            metadata = file.metadata() or {}
            state_dict = {key: file.get_tensor(key) for key in file.keys()}
    except Exception as error:  # safetensors raises several unrelated types
        raise CheckpointError(f'{path}: not a readable safetensors file '
                              f'({shorten(str(error))})') from None
    return state_dict, _metadata_config(path, metadata)


def _metadata_config(path: Path, metadata: dict[str, str]) -> NetworkConfig | None:
    """Return the config stored in safetensors metadata (None: none stored)."""
    family = metadata.get(FAMILY_METADATA_KEY, ModelConfig.family)
    if family not in FAMILIES:
        raise CheckpointError(f'{path}: unknown model family {quoted(family, 60)} in the '
                              f'metadata (known: {", ".join(FAMILIES)})')
    if CONFIG_METADATA_KEY not in metadata:
        return None
    text = metadata[CONFIG_METADATA_KEY]
    try:
        if len(text) > MAX_CONFIG_METADATA_CHARS:
            raise ValueError(f'{len(text)} characters')
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError(f'a JSON {type(values).__name__}, not an object')
        return FAMILIES[family][0].from_dict(values)
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise CheckpointError(f'{path}: bad {CONFIG_METADATA_KEY} metadata: '
                              f'{shorten(str(error))}') from None


def _is_tensor_dict(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(key, str) and isinstance(item, Tensor) for key, item in value.items())


def _extract_state_dict(obj: Any, path: Path) -> dict[str, Tensor]:
    if isinstance(obj, dict):
        for key in STATE_DICT_KEYS:
            if _is_tensor_dict(obj.get(key)):
                return dict(obj[key])
        if _is_tensor_dict(obj):
            return dict(obj)
        if any(isinstance(value, Tensor) for value in obj.values()):
            bad = sorted(str(key) for key, value in obj.items() if not isinstance(value, Tensor))
            raise CheckpointError(f'{path}: state dict has non-tensor entries: {_truncated(bad)}')
    raise CheckpointError(
        f'{path}: no state dict found (expected a dict of tensors at the top level or under '
        f'one of {list(STATE_DICT_KEYS)}; got {type(obj).__name__})')


def _read_lighttrack_ir_folder(folder: Path) -> Checkpoint:
    from litetrack_ros.model.openvino_ir import is_lighttrack_ir, read_lighttrack_ir
    if not is_lighttrack_ir(folder):
        raise CheckpointError(f'{folder}: a folder must hold the LightTrack-M OpenVINO IR '
                              '(z_feature, x_feature, head .xml/.bin)')
    config = LightTrackConfig()
    return Checkpoint(read_lighttrack_ir(folder, config), config)


def _read_vittrack_onnx(path: Path) -> Checkpoint:
    from litetrack_ros.model.vittrack_onnx import read_vittrack_onnx, VitTrackOnnxError
    try:
        state_dict, config = read_vittrack_onnx(path)
    except ImportError as error:
        raise CheckpointError(f'{path}: reading ONNX needs the onnx package '
                              '(pip install onnx)') from error
    except VitTrackOnnxError as error:
        raise CheckpointError(f'{path}: not the VitTrack network: '
                              f'{shorten(str(error), 300)}') from None
    return Checkpoint(state_dict, config)


def _strip_prefix(state_dict: dict[str, Tensor], prefix: str = 'module.') -> dict[str, Tensor]:
    # DataParallel/DistributedDataParallel checkpoints prefix every key.
    if state_dict and all(key.startswith(prefix) for key in state_dict):
        return {key[len(prefix):]: value for key, value in state_dict.items()}
    return state_dict


def _read(path: PathLike) -> tuple[dict[str, Tensor], NetworkConfig | None]:
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f'{path}: no such file')
    if _is_safetensors(path):
        state_dict, config = _read_safetensors(path)
    else:
        state_dict, config = _extract_state_dict(load_pickled(path), path), None
    return _strip_prefix(state_dict), config


def load_state_dict(path: PathLike) -> dict[str, Tensor]:
    """Read the state dict of a ``.pth``/``.pth.tar``/``.pt``/``.safetensors`` file (on CPU).

    The file type is detected from its content.  Raises :class:`CheckpointError`.
    """
    return _read(path)[0]


def _require(state_dict: dict[str, Tensor], key: str, ndim: int) -> torch.Size:
    if key not in state_dict:
        raise CheckpointError(f'not a LiteTrack state dict: missing key {key!r}')
    shape = state_dict[key].shape
    if len(shape) != ndim:
        raise CheckpointError(f'{key!r} has shape {tuple(shape)}, expected {ndim} dimensions')
    return shape


def _grid_side(length: int, key: str) -> int:
    side = math.isqrt(length)
    if side * side != length:
        raise CheckpointError(f'{key!r} has {length} positions, which is not a square grid')
    return side


def infer_config(state_dict: dict[str, Tensor],
                 num_interaction: int | None = None) -> ModelConfig:
    """Infer the :class:`ModelConfig` from the key names and tensor shapes.

    The number of interaction layers is not visible in the weights: unless given, it is
    the official one for the depth (4 -> 2, otherwise 3).  The number of heads is not
    visible either: 12 for width 768, otherwise ``embed_dim // 64`` (the ViT convention).
    """
    embed_dim, _, patch_size, _ = _require(state_dict, 'backbone.patch_embed.proj.weight', 4)
    block_ids = {int(match.group(1)) for key in state_dict
                 if (match := re.match(r'backbone\.blocks\.(\d+)\.', key))}
    depth = len(block_ids)
    if depth == 0 or block_ids != set(range(depth)):
        raise CheckpointError(f'backbone blocks must be numbered 0..n-1, got {sorted(block_ids)}')
    hidden = _require(state_dict, 'backbone.blocks.0.mlp.fc1.weight', 2)[0]
    head_channels = _require(state_dict, 'box_head.conv1_ctr.0.weight', 4)[0]
    template_grid = _grid_side(_require(state_dict, 'backbone.pos_embed_z', 3)[1],
                               'backbone.pos_embed_z')
    search_grid = _grid_side(_require(state_dict, 'backbone.pos_embed_x', 3)[1],
                             'backbone.pos_embed_x')
    pretrain_grid = _grid_side(_require(state_dict, 'backbone.pos_embed', 3)[1] - 1,
                               'backbone.pos_embed (without the class position)')
    try:
        return ModelConfig(
            depth=depth,
            num_interaction=num_interaction or official_num_interaction(depth),
            embed_dim=embed_dim,
            num_heads=12 if embed_dim == 768 else max(1, embed_dim // 64),
            mlp_ratio=hidden / embed_dim,
            patch_size=patch_size,
            template_size=template_grid * patch_size,
            search_size=search_grid * patch_size,
            head_channels=head_channels,
            pretrain_grid=pretrain_grid,
        )
    except ValueError as error:
        raise CheckpointError(f'inconsistent state dict: {error}') from error


def detect_family(state_dict: dict[str, Tensor]) -> str:
    """Name the model family of a state dict from its keys: ``'lighttrack'`` or ``'litetrack'``.

    Any LightTrack key prefix (``features.``, ``neck.BN_``, ``feature_fusor.``, ``head.``)
    makes it LightTrack, so that a partial LightTrack checkpoint is reported as such.
    """
    if any(key.startswith(LIGHTTRACK_PREFIXES) for key in state_dict):
        return LightTrackConfig.family
    return ModelConfig.family


def infer_lighttrack_config(state_dict: dict[str, Tensor]) -> LightTrackConfig:
    """Return the config of a LightTrack state dict (only LightTrack-M exists).

    The template size is read from the correlation width (one kernel per template
    cell); the search size is not visible in the weights (fully convolutional): 256.
    """
    key = 'feature_fusor.pw_corr.CA_layer.fc1.weight'
    if key not in state_dict:
        return LightTrackConfig()  # the strict load names what is missing
    cells = _grid_side(_require(state_dict, key, 4)[0], key)
    try:
        return LightTrackConfig(template_size=cells * LightTrackConfig.stride)
    except ValueError as error:
        raise CheckpointError(f'inconsistent state dict: {error}') from error


def load_checkpoint(path: PathLike) -> Checkpoint:
    """Read a checkpoint and the config it needs (from safetensors metadata, else inferred).

    A folder must hold the LightTrack-M OpenVINO IR, and an ``.onnx`` file must be
    VitTrack's network (read into LiteTrack's ``C3`` shape); both are converted on the fly.
    """
    if Path(path).is_dir():
        return _read_lighttrack_ir_folder(Path(path))
    if Path(path).suffix.lower() == '.onnx':
        return _read_vittrack_onnx(Path(path))
    state_dict, config = _read(path)
    if config is None:
        try:
            if detect_family(state_dict) == LightTrackConfig.family:
                config = infer_lighttrack_config(state_dict)
            else:
                config = infer_config(state_dict)
        except CheckpointError as error:
            raise CheckpointError(f'{path}: {error}') from error
    return Checkpoint(state_dict, config)


def check_state_dict(model: nn.Module, state_dict: dict[str, Tensor]) -> None:
    """Raise :class:`CheckpointError` naming missing/unexpected keys and shape mismatches."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = sorted(
        f'{key} {tuple(state_dict[key].shape)} vs {tuple(expected[key].shape)} expected'
        for key in set(expected) & set(state_dict)
        if state_dict[key].shape != expected[key].shape)
    problems = []
    if missing:
        problems.append(f'{len(missing)} missing keys: {_truncated(missing)}')
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected keys: {_truncated(unexpected)}')
    if mismatched:
        problems.append(f'{len(mismatched)} shape mismatches: {_truncated(mismatched)}')
    if problems:
        raise CheckpointError('state dict does not match the model: ' + '; '.join(problems))


def network_class(config: NetworkConfig) -> type:
    """Return the network class that ``config`` describes (by its family)."""
    return FAMILIES[config.family][1]


def _with_batch_counters(model: nn.Module, state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    # BatchNorm's num_batches_tracked only counts training steps; LightTrack's trainer
    # loaded its checkpoints with strict=False, so files without the counters exist.
    counters = {key: torch.tensor(0, dtype=torch.long) for key in model.state_dict()
                if key.endswith('.num_batches_tracked') and key not in state_dict}
    return {**state_dict, **counters} if counters else state_dict


def build_model(checkpoint: Checkpoint) -> LiteTrack | LightTrack:
    """Build the checkpoint's network with a strict load (float32 or as stored, CPU)."""
    # Built on the meta device: random initialisation would be wasted work.
    with torch.device('meta'):
        model = network_class(checkpoint.config)(checkpoint.config)
    state_dict = checkpoint.state_dict
    if isinstance(model, LightTrack):
        state_dict = _with_batch_counters(model, state_dict)
    check_state_dict(model, state_dict)
    model.load_state_dict(state_dict, strict=True, assign=True)
    return model


def load_model(path: PathLike, device: torch.device | str = 'cpu',
               dtype: torch.dtype = torch.float32, search_size: int | None = None
               ) -> LiteTrack | LightTrack:
    """Load a LiteTrack or LightTrack (as the checkpoint says) in eval mode (strict).

    ``search_size`` other than the stored one resizes LiteTrack's ``pos_embed_x``
    bicubically (LightTrack is fully convolutional). Raises :class:`CheckpointError`
    for unreadable or mismatching files.
    """
    checkpoint = load_checkpoint(path)
    try:
        model = build_model(checkpoint)
    except CheckpointError as error:
        raise CheckpointError(f'{path}: {error}') from error
    model = model.float()
    if search_size is not None and search_size != model.config.search_size:
        model.set_search_size(search_size)
    return model.to(device=device, dtype=dtype).eval()


# --------------------------------------------------------------------------- writing


def save_safetensors(model_or_state_dict: nn.Module | dict[str, Tensor], path: PathLike,
                     config: NetworkConfig | None = None) -> None:
    """Write weights to ``path`` as safetensors, with ``config`` and its family in the metadata.

    ``config`` defaults to the model's own config, or to the one inferred from a bare
    state dict.
    """
    if isinstance(model_or_state_dict, nn.Module):
        state_dict = model_or_state_dict.state_dict()
        config = config or getattr(model_or_state_dict, 'config', None)
    else:
        state_dict = model_or_state_dict
    if config is None:
        if detect_family(state_dict) == LightTrackConfig.family:
            config = infer_lighttrack_config(state_dict)
        else:
            config = infer_config(state_dict)
    tensors = {key: value.detach().to('cpu').contiguous() for key, value in state_dict.items()}
    metadata = {'format': 'pt', CONFIG_METADATA_KEY: json.dumps(config.to_dict()),
                FAMILY_METADATA_KEY: config.family}
    # Write to memory first so that a failure does not leave half a file behind.
    data = safetensors.torch.save(tensors, metadata=metadata)
    with open(path, 'wb') as file:
        file.write(data)


__all__ = [
    'Checkpoint',
    'CheckpointError',
    'build_model',
    'check_state_dict',
    'detect_family',
    'infer_config',
    'infer_lighttrack_config',
    'load_checkpoint',
    'load_model',
    'load_pickled',
    'load_state_dict',
    'network_class',
    'save_safetensors',
    'RestrictedUnpickler',
    'UnresolvedGlobal',
    'UnsafeCheckpointError',
]
