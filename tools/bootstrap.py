#!/usr/bin/env python3
# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Create the development environment: a venv with ROS 2 from PyPI, built package.

Idempotent: each stage records a hash of its inputs in a stamp file and is
skipped when nothing changed, so a no-op run takes a second or two.

One venv per ROS distribution (``--distro``), each with its own build dir:
kilted (the default, the full development environment) in ``.venv/`` and
``build/``; jazzy (for the ROS-facing tests) in ``.venv-jazzy/`` and
``build-jazzy/``. The ``ros-jazzy-*`` wheels pin their own ``ros-*`` versions,
so the two cannot share a venv.

Stages:
1. The venv with the pinned wheels of the distro's requirements file.
2. Fix the paths that the ROS wheels' exported CMake files hard-code from the
   machine the wheels were built on.
3. ``vision_msgs`` from tools/vision_msgs (only when not importable already).
4. ``litetrack_ros`` itself with colcon, installed into the venv.

Optional (``--ros-tools DIR``, a development path): the real ROS 2 command-line
and launch tools (``launch``, ``launch_ros``, ``ros2cli`` with its verbs,
``rosidl_runtime_py``; ``composition_interfaces`` built with colcon) from a
folder of sources written by ``../shared/ros-tools/extract.sh`` (no package
index has them), so that the launch and CLI tests run for real. Without them
those tests skip.
"""

import argparse
from dataclasses import dataclass
import hashlib
import os
from pathlib import Path
import shutil
import subprocess
import sys
import sysconfig

ROOT = Path(__file__).resolve().parent.parent
VISION_MSGS = ROOT / 'tools' / 'vision_msgs'
# Sources whose change requires rebuilding the ROS package.
PACKAGE_INPUTS = ('CMakeLists.txt', 'package.xml', 'srv', 'scripts', 'litetrack_ros',
                  'launch', 'config', 'weights', 'test')
ROS_TOOLS_REQUIREMENTS = ROOT / 'tools' / 'requirements-ros-tools.txt'
# The interface package among the tools: built with colcon, the rest is pip-installed.
ROS_TOOLS_INTERFACES = ('composition_interfaces',)
# Where the ROS wheels were built (manylinux image); their CMake exports point there.
WHEEL_BUILD_PYTHON = '/opt/python/cp311-cp311'


@dataclass(frozen=True)
class Distro:
    """Where one ROS distribution's environment lives and what goes into it."""

    name: str
    venv: Path
    build: Path
    requirements: Path
    constraints: Path

    @property
    def python(self) -> Path:
        """Return the venv's interpreter."""
        return self.venv / 'bin' / 'python'


DISTROS = {
    'kilted': Distro('kilted', ROOT / '.venv', ROOT / 'build',
                     ROOT / 'tools' / 'requirements-dev.txt', ROOT / 'tools' / 'constraints.txt'),
    'jazzy': Distro('jazzy', ROOT / '.venv-jazzy', ROOT / 'build-jazzy',
                    ROOT / 'tools' / 'requirements-jazzy.txt',
                    ROOT / 'tools' / 'constraints-jazzy.txt'),
}


def log(message: str) -> None:
    """Print a bootstrap progress line."""
    print(f'[bootstrap] {message}', flush=True)


def hash_paths(paths: list[Path]) -> str:
    """Hash the names and contents of files (directories recursively)."""
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob('*') if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if '__pycache__' in file.parts or file.suffix == '.pyc':
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes() if file.exists() else b'')
    return digest.hexdigest()


def stage_is_current(distro: Distro, name: str, fingerprint: str) -> bool:
    """Tell whether a stage already ran with these inputs."""
    stamp = distro.venv / f'.bootstrap-{name}'
    return stamp.exists() and stamp.read_text() == fingerprint


def mark_stage_done(distro: Distro, name: str, fingerprint: str) -> None:
    """Record that a stage ran with these inputs."""
    (distro.venv / f'.bootstrap-{name}').write_text(fingerprint)


def run(command: list[str], **kwargs) -> None:
    """Run a command, failing the bootstrap with its exit code."""
    result = subprocess.run([str(c) for c in command], **kwargs)
    if result.returncode != 0:
        sys.exit(f'[bootstrap] failed ({result.returncode}): {" ".join(map(str, command))}')


def ros_environment(distro: Distro) -> dict[str, str]:
    """Environment for colcon and for ROS programs using the venv as a ROS prefix."""
    env = dict(os.environ)
    env['AMENT_PREFIX_PATH'] = str(distro.venv)
    env['CMAKE_PREFIX_PATH'] = str(distro.venv)
    env['PATH'] = f'{distro.venv / "bin"}{os.pathsep}{env.get("PATH", "")}'
    env['ROS_LOG_DIR'] = str(distro.build / 'ros_log')
    env['VIRTUAL_ENV'] = str(distro.venv)
    env.pop('PYTHONPATH', None)
    return env


def install_wheels(distro: Distro) -> None:
    """Stage 1: the venv and its pinned packages."""
    fingerprint = hash_paths([distro.requirements, distro.constraints]) + sys.version
    if distro.python.exists() and stage_is_current(distro, 'wheels', fingerprint):
        return
    if not distro.python.exists():
        log(f'creating {distro.venv}')
        run([sys.executable, '-m', 'venv', distro.venv])
    log(f'installing pinned packages (ROS 2 {distro.name} wheels, torch CPU, OpenCV)')
    pip = [distro.python, '-m', 'pip', '--disable-pip-version-check', '-q']
    run(pip + ['install', '-r', distro.requirements, '-c', distro.constraints])
    fix_wheel_cmake_paths(distro)
    mark_stage_done(distro, 'wheels', fingerprint)


def venv_paths(distro: Distro) -> tuple[str, str]:
    """Return the venv interpreter's Python include dir and numpy include dir."""
    code = ('import sysconfig, numpy; '
            "print(sysconfig.get_paths()['include']); print(numpy.get_include())")
    out = subprocess.run([distro.python, '-c', code], check=True, capture_output=True, text=True)
    python_include, numpy_include = out.stdout.split()
    return python_include, numpy_include


def fix_wheel_cmake_paths(distro: Distro) -> None:
    """Stage 2: point the wheels' CMake exports at this venv's include dirs.

    The wheels were built in a manylinux image and export its include paths;
    CMake refuses imported targets whose include directories do not exist.
    """
    python_include, numpy_include = venv_paths(distro)
    replacements = [
        (f'{WHEEL_BUILD_PYTHON}/include/python3.11', python_include),
        (f'{WHEEL_BUILD_PYTHON}/lib/python3.11/site-packages/numpy/_core/include',
         numpy_include),
    ]
    for cmake_file in (distro.venv / 'share').glob('*/cmake/*.cmake'):
        text = cmake_file.read_text()
        if WHEEL_BUILD_PYTHON not in text:
            continue
        for old, new in replacements:
            text = text.replace(old, new)
        cmake_file.write_text(text)
    log(f'CMake exports now use {python_include} and {numpy_include}')


def colcon_build(distro: Distro, base_path: Path, package: str) -> None:
    """Build one package with colcon and install it into the venv."""
    env = ros_environment(distro)
    python = str(distro.python)
    run([distro.venv / 'bin' / 'colcon', '--log-base', distro.build / 'colcon_log', 'build',
         '--merge-install', '--install-base', distro.venv,
         '--build-base', distro.build / 'colcon',
         '--base-paths', base_path, '--packages-select', package,
         '--event-handlers', 'console_cohesion-', 'console_stderr+', 'status-',
         '--cmake-args', f'-DPython3_EXECUTABLE={python}', f'-DPYTHON_EXECUTABLE={python}',
         '-DPython3_FIND_VIRTUALENV=ONLY', '-DBUILD_TESTING=OFF', '-DCMAKE_BUILD_TYPE=Release',
         '--no-warn-unused-cli'],
        cwd=ROOT, env=env)


def vision_msgs_importable(distro: Distro) -> bool:
    """Tell whether vision_msgs comes from somewhere other than our own build."""
    stamp = distro.venv / '.bootstrap-vision_msgs'
    if stamp.exists():
        return False  # ours: rebuild when the definitions change
    probe = subprocess.run([distro.python, '-c', 'import vision_msgs.msg'],
                           env=ros_environment(distro), capture_output=True)
    return probe.returncode == 0


def build_vision_msgs(distro: Distro) -> None:
    """Stage 3: vision_msgs from the repository's copy, where no distribution has it."""
    fingerprint = hash_paths([VISION_MSGS])
    if stage_is_current(distro, 'vision_msgs', fingerprint) or vision_msgs_importable(distro):
        return
    log('building vision_msgs (not on PyPI) from tools/vision_msgs')
    # tools/vision_msgs carries COLCON_IGNORE so that colcon on a robot never
    # builds it; build a copy without the marker.
    source = distro.build / 'vendored_src' / 'vision_msgs'
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(VISION_MSGS, source, ignore=shutil.ignore_patterns('COLCON_IGNORE'))
    colcon_build(distro, source.parent, 'vision_msgs')
    mark_stage_done(distro, 'vision_msgs', fingerprint)


def build_package(distro: Distro) -> None:
    """Stage 4: litetrack_ros (service, Python code, executables, share files)."""
    fingerprint = hash_paths([ROOT / p for p in PACKAGE_INPUTS if (ROOT / p).exists()])
    if stage_is_current(distro, 'package', fingerprint):
        return
    log(f'building litetrack_ros with colcon ({distro.name})')
    colcon_build(distro, ROOT, 'litetrack_ros')
    mark_stage_done(distro, 'package', fingerprint)


def install_ros_tools(distro: Distro, sources: Path) -> None:
    """Install the real launch and ros2 CLI tools from extracted sources (optional)."""
    sources = sources.resolve()
    packages = sorted(p.parent for p in sources.glob('*/setup.py'))
    if not packages:
        sys.exit(f'[bootstrap] no Python packages in {sources}: write them with '
                 '../shared/ros-tools/extract.sh MIRROR OUT rolling|jazzy')
    interfaces = [sources / name for name in ROS_TOOLS_INTERFACES]
    fingerprint = hash_paths([ROS_TOOLS_REQUIREMENTS, *interfaces])
    fingerprint += ''.join(sorted(hash_paths([p / 'setup.py', p / 'package.xml'])
                                  for p in packages))
    fingerprint += hash_paths(sorted(p for p in sources.glob('*/__init__.py')))
    if stage_is_current(distro, 'ros_tools', fingerprint):
        return
    log(f'installing the ROS 2 launch and CLI tools from {sources} ({distro.name})')
    pip = [distro.python, '-m', 'pip', '--disable-pip-version-check', '-q']
    run(pip + ['install', '-r', ROS_TOOLS_REQUIREMENTS, '-c', distro.constraints])
    run(pip + ['install', '--no-deps', '--no-build-isolation', *packages])
    # extract.sh takes rosidl_runtime_py's module folder alone (its setup.py is at the
    # top of its repository): copy such bare modules into site-packages.
    code = 'import sysconfig; print(sysconfig.get_paths()["purelib"])'
    purelib = subprocess.run([distro.python, '-c', code], check=True, capture_output=True,
                             text=True).stdout.strip()
    for module in sorted(p.parent for p in sources.glob('*/__init__.py')):
        shutil.copytree(module, Path(purelib) / module.name, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns('__pycache__'))
    for name in ROS_TOOLS_INTERFACES:
        colcon_build(distro, sources / name, name)
    mark_stage_done(distro, 'ros_tools', fingerprint)


def main() -> int:
    """Run every stage that is out of date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--distro', choices=sorted(DISTROS), default='kilted',
                        help='ROS 2 distribution to set up (default: kilted, in .venv/)')
    parser.add_argument('--deps-only', action='store_true',
                        help='only stages 1-3 (the environment, not the package)')
    parser.add_argument('--ros-tools', type=Path, metavar='DIR',
                        help='also install the real ROS 2 launch and CLI tools from DIR '
                             '(written by ../shared/ros-tools/extract.sh; optional)')
    args = parser.parse_args()
    if sys.version_info < (3, 10):
        sys.exit('[bootstrap] Python >= 3.10 is needed')
    distro = DISTROS[args.distro]
    install_wheels(distro)
    build_vision_msgs(distro)
    if args.ros_tools is not None:
        install_ros_tools(distro, args.ros_tools)
    if not args.deps_only:
        build_package(distro)
    log(f'ready: {distro.venv} (ROS 2 {distro.name}, python {sysconfig.get_python_version()})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
