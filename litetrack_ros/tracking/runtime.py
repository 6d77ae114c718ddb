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
from typing import Any

from litetrack_ros.tracking.cpu_features import cpu_features, CpuFeatures
from litetrack_ros.tracking.frame_guard import FrameSizeGuard
from litetrack_ros.tracking.tracker import Tracker
import torch

_LOG = logging.getLogger(__name__)

WEIGHTS_HELP = (
    'Download an official LiteTrack checkpoint (B4/B6/B8/B9 .pth.tar, linked from '
    'https://github.com/TsingWei/LiteTrack) or LightTrack-M (LightTrackM.pth, linked from '
    'https://github.com/researchmm/LightTrack) into the weights/ folder or pass its path '
    '(weights parameter / --weights); convert it once with `litetrack-convert IN OUT.safetensors`.'
)
CHECKPOINT_SUFFIXES = ('.safetensors', '.pth.tar', '.pth', '.pt')
# The project's own small weights: used only when no official checkpoint is there.
PROJECT_WEIGHTS_PREFIX = 'litetrack_default'
DTYPES = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}
UNTRAINED_VARIANT = 'B6'


class WeightsError(RuntimeError):
    """No usable checkpoint: the message says where to get one."""


def _with_tracking(config: Any, tracking: dict[str, Any]) -> Any:
    """Return ``config`` with tracking fields replaced; ValueError for any other field."""
    fields = getattr(config, 'tracking_fields', ())
    unknown = sorted(set(tracking) - set(fields))
    if unknown:
        raise ValueError(f'{", ".join(unknown)}: not a tracking setting of this network '
                         f'(it has {", ".join(fields)})')
    return config.replace(**tracking)


@dataclass(frozen=True)
class TrackerInfo:
    """What a tracker was built from, for logs, overlays and diagnostics."""

    weights: str  # path, or 'UNTRAINED'
    variant: str  # 'B6', 'S4', ... for LiteTrack; 'LightTrack-M' for LightTrack
    device: str
    precision: str
    search_size: int
    parameters: int
    precision_reason: str = 'requested'  # why this precision (what 'auto' found)
    compile: str = 'off'  # noqa: A003 - 'off', 'compiled' or 'eager (compile failed)'
    compile_message: str = ''  # the compile step's log line ('' when off)

    @property
    def summary(self) -> str:
        """One log line: device, precision and why, compiled or not."""
        line = f'{self.device} in {self.precision} ({self.precision_reason})'
        return line + (f'; {self.compile_message}' if self.compile_message else '')

    @property
    def untrained(self) -> bool:
        """Whether the network has random weights (tracks nothing useful)."""
        return self.weights == 'UNTRAINED'

    @property
    def network(self) -> str:
        """Human-readable network name: ``'LiteTrack-B6'``, ``'LightTrack-M'``."""
        return self.variant if self.variant.startswith('LightTrack') else \
            f'LiteTrack-{self.variant}'


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


def resolve_precision(name: str, device: str, cpu: CpuFeatures | None = None,
                      config: Any = None) -> str:
    """Map 'auto' to fp16 on CUDA; on CPU to bf16 where it is native and pays, else fp32.

    Native means the CPU multiplies bf16 matrices in hardware (AMX or AVX512-BF16,
    see :mod:`litetrack_ros.tracking.cpu_features`); elsewhere bf16 is emulated and slower
    than fp32. It pays for wide networks only (the network config's ``cpu_bf16_pays``;
    without a config, as for a wide one). ``cpu`` defaults to this machine's features.
    """
    if name in ('', 'auto'):
        if device.startswith('cuda'):
            return 'fp16'
        native = (cpu or cpu_features()).native_bf16
        return 'bf16' if native and getattr(config, 'cpu_bf16_pays', True) else 'fp32'
    if name not in DTYPES:
        raise ValueError(f"precision must be 'auto' or one of {sorted(DTYPES)}, got {name!r}")
    return name


def precision_reason(name: str, device: str, cpu: CpuFeatures | None = None,
                     config: Any = None) -> str:
    """Why :func:`resolve_precision` chose what it chose, for logs and diagnostics."""
    if name not in ('', 'auto'):
        return 'requested'
    if device.startswith('cuda'):
        return 'auto: CUDA'
    cpu = cpu or cpu_features()
    if not cpu.native_bf16:
        return 'auto: no native bf16 matmul on this CPU'
    flags = ', '.join(flag for flag in cpu.flags if flag.endswith('bf16'))
    if not getattr(config, 'cpu_bf16_pays', True):
        return (f'auto: fp32, faster than bf16 for a network of width '
                f'{getattr(config, "embed_dim", "?")} (CPU has {flags})')
    return f'auto: CPU has native bf16 matmul ({flags})'


def prepare_network(net: torch.nn.Module, device: str, dtype: torch.dtype) -> torch.nn.Module:
    """Return a copy of a network for inference on its device and dtype, in the fastest layout.

    BatchNorms are folded into their convolutions in float32 (the network's ``fused()``;
    LiteTrack's head then runs as one tower): the same maps, faster. Convolution weights
    are stored channels-last (NHWC): oneDNN runs the head's 3x3 convolutions fastest so
    (their input already is NHWC in memory), and the patch embedding then emits tokens
    without a copy. LayerNorm and the decoding stay float32 whatever ``dtype`` is.
    """
    net = net.to(device=device, dtype=torch.float32).eval().fused().to(dtype=dtype)
    if torch.device(device).type == 'cpu':
        net = net.to(memory_format=torch.channels_last)
    return net


def warm_up(net: torch.nn.Module) -> None:
    """Run both steps once on dummy inputs of the tracker's shapes; refuse non-finite outputs.

    The first call of a shape creates the backend's kernels (oneDNN JIT-compiles its
    bf16 kernels, CUDA loads its own), which can take far longer than a frame; done
    here, at configure, the first ``set_target`` and frame do not pay it. Weights
    that load but compute NaN or infinity (a diverged training run, a corrupt file)
    are refused here with :class:`WeightsError` rather than tracked with.
    """
    from litetrack_ros.model.compiled import dummy_inputs
    from litetrack_ros.model.lighttrack import LightTrack

    template, box, search = dummy_inputs(net)
    with torch.inference_mode():
        state = (net.encode_template(template) if isinstance(net, LightTrack)
                 else net.encode_template(template, box))
        output = net.track_search(state, search)
        bad = [name for name, value in output._asdict().items()
               if not bool(torch.isfinite(value).all())]
    if bad:
        raise WeightsError(f'the network computes non-finite values (NaN or infinity) in '
                           f'{", ".join(bad)} on a test input: the weights are broken')


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
    except (ImportError, LookupError, ValueError, OSError):
        pass  # OSError: ament_index without AMENT_PREFIX_PATH (a venv not sourced)
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
                  lost_threshold: float | None = None, lost_frames: int | None = None,
                  size_update_rate: float | None = None,
                  tracking: dict[str, Any] | None = None,
                  compile: bool = False,  # noqa: A002 - the parameter's name
                  ) -> tuple[Tracker, TrackerInfo]:
    """Load the network (LiteTrack or LightTrack, as the checkpoint says) in a Tracker.

    ``tracking`` overrides tracking fields of the network's config for this run
    (e.g. ``{'window_influence': 0.3, 'scale_penalty_k': 0.05}``), to try settings
    without retraining; the weights are unchanged.

    With ``compile`` the template and search steps are compiled here, once, and
    warmed up (see :mod:`litetrack_ros.model.compiled`); when that fails the
    tracker runs eager and ``TrackerInfo.compile_message`` says why.

    Raises:
        WeightsError: no weights and ``allow_untrained`` is false, the file
            cannot be read, or it is not the requested variant.
        ValueError: bad device, precision, search size, size update rate
            (``None``: the one stored with the weights) or tracking setting.

    """
    from litetrack_ros.model import KNOWN_VARIANTS
    from litetrack_ros.model.checkpoint import CheckpointError, load_model, network_class
    from litetrack_ros.model.config import LIGHTTRACK_VARIANTS, variant_name
    from litetrack_ros.model.lighttrack import LightTrack
    from litetrack_ros.model.litetrack import enable_flush_denormal

    known = {**KNOWN_VARIANTS, **LIGHTTRACK_VARIANTS}
    if variant not in ('', 'auto') and variant not in known:
        raise ValueError(f'invalid variant {variant!r}: use auto or one of '
                         f'{", ".join(known)}')
    device = resolve_device(device)
    requested = precision
    resolve_precision(precision, device)  # a bad name fails before anything is loaded
    if device == 'cpu':
        enable_flush_denormal()
    size = search_size or None
    if weights is None:
        if not allow_untrained:
            raise WeightsError(f'no checkpoint found. {WEIGHTS_HELP}')
        name = UNTRAINED_VARIANT if variant in ('', 'auto') else variant
        torch.manual_seed(0)
        net = network_class(known[name])(known[name])
        if size:
            net.set_search_size(size)
        label = 'UNTRAINED'  # prepare_network moves it to the device and dtype
    else:
        try:
            net = load_model(weights, device=device, search_size=size)
        except (CheckpointError, OSError) as error:
            raise WeightsError(f'cannot load {weights}: {error}. {WEIGHTS_HELP}') from error
        name = variant_name(net.config)
        if variant not in ('', 'auto') and variant != name:
            raise WeightsError(f'{weights} holds a {name} network, not the requested {variant}')
        label = str(weights)
    if tracking:
        net.config = _with_tracking(net.config, tracking)
    parameters = net.num_parameters
    # 'auto' depends on the network (bf16 pays on a CPU for wide ones only).
    reason = precision_reason(requested, device, config=net.config)
    precision = resolve_precision(requested, device, config=net.config)
    dtype = DTYPES[precision]
    compile_status, compile_message = 'off', ''
    net = prepare_network(net, device, dtype)
    if compile and isinstance(net, LightTrack):
        compile_message = 'compile is implemented for LiteTrack networks only: eager'
        _LOG.warning(compile_message)
    network = net
    warm_up(net)  # eager, both families: kernels made, non-finite outputs refused
    if compile and not isinstance(net, LightTrack):  # compiles and warms up both steps
        from litetrack_ros.model.compiled import compile_litetrack
        result = compile_litetrack(net)
        network, compile_status, compile_message = result.network, result.status, result.message
        (_LOG.info if result.compiled else _LOG.warning)(compile_message)
    tracker = Tracker(network, device=device, dtype=dtype, lost_threshold=lost_threshold,
                      lost_frames=lost_frames, size_update_rate=size_update_rate,
                      frame_guard=FrameSizeGuard())
    info = TrackerInfo(weights=label, variant=name, device=device, precision=precision,
                       search_size=net.config.search_size, parameters=parameters,
                       precision_reason=reason, compile=compile_status,
                       compile_message=compile_message)
    return tracker, info
