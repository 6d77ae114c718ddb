# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The bootstrap's per-distribution environments are fully pinned and kept apart.

Each ROS 2 distribution gets its own venv and build dir (tools/bootstrap.py
``DISTROS``); a requirement without an exact pin would let pip resolve it
afresh on every new machine (for torch: gigabytes of CUDA packages).
"""

import importlib.util
from pathlib import Path
import re

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def load_bootstrap():
    """Import tools/bootstrap.py (a script, not part of the package)."""
    path = REPO_ROOT / 'tools' / 'bootstrap.py'
    spec = importlib.util.spec_from_file_location('bootstrap', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DISTROS = load_bootstrap().DISTROS


def normalise(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one dash."""
    return re.sub(r'[-_.]+', '-', name).lower()


def requirement_names(path: Path) -> list[str]:
    """Names in a requirements file (extras and comments dropped)."""
    lines = (line.split('#')[0].strip() for line in path.read_text().splitlines())
    return [normalise(re.split(r'[\[<>=!~; ]', line)[0]) for line in lines if line]


def constraint_pins(path: Path) -> dict[str, str]:
    """Map of name -> exact version in a constraints file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split('#')[0].strip()
        if line:
            name, separator, version = line.partition('==')
            assert separator, f'{path.name}: {line!r} is not an exact pin'
            pins[normalise(name)] = version
    return pins


def test_both_distributions_have_their_own_venv_and_build_dir():
    assert set(DISTROS) == {'kilted', 'jazzy'}
    kilted, jazzy = DISTROS['kilted'], DISTROS['jazzy']
    assert (kilted.venv.name, kilted.build.name) == ('.venv', 'build')
    assert (jazzy.venv.name, jazzy.build.name) == ('.venv-jazzy', 'build-jazzy')
    ignored = set((REPO_ROOT / '.gitignore').read_text().split())
    for distro in DISTROS.values():
        assert {f'/{distro.venv.name}/', f'/{distro.build.name}/'} <= ignored, distro.name


@pytest.mark.parametrize('name', sorted(DISTROS))
def test_every_requirement_is_pinned_and_torch_is_the_cpu_release(name):
    distro = DISTROS[name]
    pins = constraint_pins(distro.constraints)
    unpinned = [r for r in requirement_names(distro.requirements) if r not in pins]
    assert not unpinned, f'{distro.constraints.name} lacks pins for {unpinned}'
    assert pins['torch'] in ('2.13.0', '2.13.0+cpu')


def test_each_venv_gets_only_its_own_distributions_ros_wheels():
    kilted = requirement_names(DISTROS['kilted'].requirements)
    jazzy = requirement_names(DISTROS['jazzy'].requirements)
    assert not [r for r in kilted if r.startswith('ros-jazzy-')]
    # In the jazzy venv the plain ros-* wheels come only as the wrappers' pins.
    assert [r for r in jazzy if r.startswith('ros-')] == \
        [r for r in jazzy if r.startswith('ros-jazzy-')]
    jazzy_pins = constraint_pins(DISTROS['jazzy'].constraints)
    assert jazzy_pins['ros-jazzy-rclpy'].split('.')[0] == jazzy_pins['ros-rclpy'].split('.')[0]
    assert jazzy_pins['ros-rclpy'].split('.')[0] == '7', "Jazzy's rclpy is 7.x"


def test_vision_msgs_rebuilt_in_an_existing_venv_when_a_message_is_added(tmp_path, monkeypatch):
    bootstrap = load_bootstrap()
    source = tmp_path / 'tools' / 'vision_msgs'
    (source / 'msg').mkdir(parents=True)
    (source / 'msg' / 'Point2D.msg').write_text('float64 x\nfloat64 y\n')
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    (venv / 'bin' / 'python').symlink_to('/bin/false')  # no vision_msgs of its own
    monkeypatch.setattr(bootstrap, 'ROOT', tmp_path)
    monkeypatch.setattr(bootstrap, 'VISION_MSGS', source)
    builds = []
    monkeypatch.setattr(bootstrap, 'colcon_build', lambda *args: builds.append(args[2]))
    distro = bootstrap.Distro('test', venv, tmp_path / 'build', Path('r'), Path('c'))

    bootstrap.build_vision_msgs(distro)
    bootstrap.build_vision_msgs(distro)  # nothing changed: no rebuild
    assert builds == ['vision_msgs']
    (source / 'msg' / 'Detection3D.msg').write_text('string id\n')
    bootstrap.build_vision_msgs(distro)
    assert builds == ['vision_msgs', 'vision_msgs']
