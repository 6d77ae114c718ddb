# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Turn user settings (weights, device, precision) into a ready Tracker.

Shared by the ROS node, the demo and the offline tools so that all of them
pick weights, devices and precisions the same way. No ROS here.
"""

from dataclasses import dataclass
import logging
from pathlib import Path
import sys

from litetrack_ros.tracker import Tracker
import torch

_LOG = logging.getLogger(__name__)

WEIGHTS_HELP = (
    'Download an official LiteTrack checkpoint (B4/B6/B8/B9 .pth.tar, linked from '
    'https://github.com/TsingWei/LiteTrack) into the weights/ folder or pass its path '
    '(weights parameter / --weights); convert it once with `litetrack-convert IN OUT.safetensors`.'
)
CHECKPOINT_SUFFIXES = ('.safetensors', '.pth.tar', '.pth', '.pt')
# The project's own small weights: used only when no official checkpoint is there.
PROJECT_WEIGHTS_PREFIX = 'litetrack_default'
DTYPES = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}
UNTRAINED_VARIANT = 'B6'


class WeightsError(RuntimeError):
    """No usable checkpoint: the message says where to get one."""


@dataclass(frozen=True)
class TrackerInfo:
    """What a tracker was built from, for logs, overlays and diagnostics."""

    weights: str  # path, or 'UNTRAINED'
    variant: str
    device: str
    precision: str
    search_size: int
    parameters: int

    @property
    def untrained(self) -> bool:
        """Whether the network has random weights (tracks nothing useful)."""
        return self.weights == 'UNTRAINED'


def resolve_device(name: str) -> str:
    """Map 'auto' to CUDA when available, else CPU; check explicit choices."""
    if name in ('', 'auto'):
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if name.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f'device {name!r} requested but CUDA is not available '
                         f'(torch {torch.__version__} built without CUDA or no GPU visible)')
    if not (name == 'cpu' or name.startswith('cuda')):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {name!r}")
    return name


def resolve_precision(name: str, device: str) -> str:
    """Map 'auto' to fp16 on CUDA and fp32 on CPU (half precision is slow on CPUs)."""
    if name in ('', 'auto'):
        return 'fp16' if device.startswith('cuda') else 'fp32'
    if name not in DTYPES:
        raise ValueError(f"precision must be 'auto' or one of {sorted(DTYPES)}, got {name!r}")
    return name


def find_checkpoint(folder: Path) -> Path | None:
    """Return the checkpoint to use from a folder: official ones before the project's own."""
    if not folder.is_dir():
        return None
    candidates = sorted(p for p in folder.iterdir()
                        if p.is_file() and p.name.endswith(CHECKPOINT_SUFFIXES))
    official = [p for p in candidates if not p.name.startswith(PROJECT_WEIGHTS_PREFIX)]
    return (official or candidates or [None])[0]


def package_weights_folder() -> Path | None:
    """Return the installed package's weights/ folder, if the package is installed.

    A ROS install is found through the ament index; a pip install keeps the same
    share/litetrack_ros/weights folder under its environment's prefix.
    """
    # Only the file index of a ROS install, no ROS runtime: fine in this layer.
    try:
        from ament_index_python.packages import get_package_share_directory
        return Path(get_package_share_directory('litetrack_ros')) / 'weights'
    except (ImportError, LookupError, ValueError):
        pass
    pip_folder = Path(sys.prefix) / 'share' / 'litetrack_ros' / 'weights'
    return pip_folder if pip_folder.is_dir() else None


def resolve_weights(weights: str, default_folder: Path | None) -> Path | None:
    """Find the checkpoint file named by a setting ('' = first one in the default folder)."""
    if weights:
        path = Path(weights).expanduser()
        if path.is_dir():
            found = find_checkpoint(path)
            if found is None:
                raise WeightsError(f'no checkpoint ({", ".join(CHECKPOINT_SUFFIXES)}) in '
                                   f'{path}. {WEIGHTS_HELP}')
            return found
        if not path.is_file():
            raise WeightsError(f'checkpoint {path} does not exist. {WEIGHTS_HELP}')
        return path
    return find_checkpoint(default_folder) if default_folder else None


def build_tracker(weights: Path | None, *, device: str = 'auto', precision: str = 'auto',
                  variant: str = 'auto', search_size: int = 0, allow_untrained: bool = False,
                  lost_threshold: float = 0.25, lost_frames: int = 5,
                  size_update_rate: float | None = None) -> tuple[Tracker, TrackerInfo]:
    """Load the network and wrap it in a Tracker.

    Raises:
        WeightsError: no weights and ``allow_untrained`` is false, the file
            cannot be read, or it is not the requested variant.
        ValueError: bad device, precision, search size or size update rate
            (``None``: the one stored with the weights).

    """
    from litetrack_ros.model import KNOWN_VARIANTS, LiteTrack
    from litetrack_ros.model.checkpoint import CheckpointError, load_model
    from litetrack_ros.model.config import variant_name
    from litetrack_ros.model.litetrack import enable_flush_denormal

    device = resolve_device(device)
    precision = resolve_precision(precision, device)
    dtype = DTYPES[precision]
    if device == 'cpu':
        enable_flush_denormal()
    size = search_size or None
    if weights is None:
        if not allow_untrained:
            raise WeightsError(f'no checkpoint found. {WEIGHTS_HELP}')
        name = UNTRAINED_VARIANT if variant in ('', 'auto') else variant
        if name not in KNOWN_VARIANTS:
            raise ValueError(
                f'variant must be auto or one of {sorted(KNOWN_VARIANTS)}, got {name!r}')
        torch.manual_seed(0)
        net = LiteTrack(KNOWN_VARIANTS[name])
        if size:
            net.set_search_size(size)
        label = 'UNTRAINED'  # Tracker moves the network to the device and dtype
    else:
        try:
            net = load_model(weights, device=device, dtype=dtype, search_size=size)
        except (CheckpointError, OSError) as error:
            raise WeightsError(f'cannot load {weights}: {error}. {WEIGHTS_HELP}') from error
        name = variant_name(net.config)
        if variant not in ('', 'auto') and variant != name:
            raise WeightsError(f'{weights} holds a {name} network, not the requested {variant}')
        label = str(weights)
    tracker = Tracker(net, device=device, dtype=dtype, lost_threshold=lost_threshold,
                      lost_frames=lost_frames, size_update_rate=size_update_rate)
    info = TrackerInfo(weights=label, variant=name, device=device, precision=precision,
                       search_size=net.config.search_size,
                       parameters=net.num_parameters)
    return tracker, info
