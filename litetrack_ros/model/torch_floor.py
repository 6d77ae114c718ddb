# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The oldest torch the networks run on, checked once with a message that says what to do.

The attention calls ``torch.nn.functional.scaled_dot_product_attention``
(torch 2.0; the project tests 2.1 and later, as ``setup.py`` requires). Debian
bookworm's ``python3-torch`` is 1.13: without this check the first frame would
fail with an ``AttributeError`` deep in the network.
"""

import re

TORCH_FLOOR = (2, 1)
INSTALL_HELP = ('install a newer torch for this machine: x86 with CUDA or CPU: '
                '`pip install torch` (https://pytorch.org/get-started/locally/); '
                "Jetson: NVIDIA's JetPack torch wheel (https://docs.nvidia.com/deeplearning/"
                'frameworks/install-pytorch-jetson-platform/)')


class TorchTooOldError(ImportError):
    """The installed torch lacks what the networks need."""


def parse_version(version: str) -> tuple[int, int]:
    """Return (major, minor) of a torch version string such as ``2.13.0+cpu``."""
    match = re.match(r'(\d+)\.(\d+)', version)
    if match is None:
        raise TorchTooOldError(f'cannot read the torch version {version!r}; {INSTALL_HELP}')
    return int(match.group(1)), int(match.group(2))


def check_torch(version: str, has_attention: bool) -> None:
    """Raise TorchTooOldError when torch is older than the floor or lacks the attention."""
    floor = '.'.join(map(str, TORCH_FLOOR))
    if parse_version(version) < TORCH_FLOOR or not has_attention:
        raise TorchTooOldError(
            f'torch {version} is too old: litetrack_ros needs torch >= {floor} '
            f'(scaled_dot_product_attention); {INSTALL_HELP}')


def check_installed_torch() -> None:
    """Check the torch that is installed (see ``check_torch``)."""
    import torch
    import torch.nn.functional as F
    check_torch(torch.__version__, hasattr(F, 'scaled_dot_product_attention'))
