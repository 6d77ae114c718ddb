# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""What a robot runs: ``colcon build`` + ``colcon test`` of the package in a fresh workspace.

The workspace overlays the venv (the ROS prefix here), like ``~/ros2_ws`` overlays
``/opt/ros/<distro>``. A checkpoint put into ``weights/`` must be installed
(``.pth`` included), and ``colcon test`` (the CMake-registered pytest suite and the
ament linters) must pass; to keep CI time modest the pytest part runs the launch
tests only (``PYTEST_ADDOPTS``; test_ros_cli.py runs the CLI ones), which start the
node for real where ``launch`` is installed and skip where it is not.
"""

import os
from pathlib import Path
import shutil
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.ros, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
COLCON = VENV / 'bin' / 'colcon'
# Not sources: the venvs, build trees and outputs next to them.
NOT_SOURCES = ('.git', '.venv', '.venv-jazzy', 'build', 'build-jazzy', 'build-ros-tools', 'log',
               'install', 'demo_output', 'eval_output', '__pycache__', '*.pyc', '.pytest_cache',
               '.ruff_cache', '*.pth', '*.pth.tar')


def colcon(workspace: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(COLCON), '--log-base', str(workspace / 'log'), *args],
                          cwd=workspace, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=1500)


@pytest.mark.skipif(not COLCON.exists() or not (VENV / 'bin' / 'ament_flake8').exists(),
                    reason='colcon or the ament linters (ament_flake8) are not installed here')
def test_colcon_build_and_test_in_a_workspace(tmp_path):
    workspace = tmp_path / 'ws'
    source = workspace / 'src' / 'litetrack_ros'
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    (source / 'weights' / 'robot_checkpoint.pth').write_bytes(b'not a real checkpoint')
    install = workspace / 'install'
    env = dict(os.environ)
    env.update(AMENT_PREFIX_PATH=str(VENV), CMAKE_PREFIX_PATH=str(VENV),
               PATH=f'{VENV / "bin"}{os.pathsep}{env.get("PATH", "")}',
               ROS_LOG_DIR=str(workspace / 'ros_log'))
    python = sys.executable
    built = colcon(workspace, 'build', '--merge-install', '--packages-select', 'litetrack_ros',
                   '--event-handlers', 'console_cohesion-', 'status-', '--cmake-args',
                   f'-DPython3_EXECUTABLE={python}', f'-DPYTHON_EXECUTABLE={python}',
                   '-DPython3_FIND_VIRTUALENV=ONLY', '-DBUILD_TESTING=ON', env=env)
    assert built.returncode == 0, built.stdout[-4000:]
    share = install / 'share' / 'litetrack_ros'
    assert (share / 'weights' / 'robot_checkpoint.pth').is_file(), 'weights/*.pth not installed'
    assert (share / 'launch' / 'litetrack.launch.py').is_file()

    # As after `source install/setup.bash`: the overlay first, then the venv.
    env['AMENT_PREFIX_PATH'] = f'{install}{os.pathsep}{VENV}'
    env['PYTHONPATH'] = next(str(p) for p in (install / 'lib').glob('python3*/site-packages'))
    env['PATH'] = f'{install / "bin"}{os.pathsep}{env["PATH"]}'
    env['PYTEST_ADDOPTS'] = '-k "launch_file or launch_support" -p no:cacheprovider'
    tested = colcon(workspace, 'test', '--merge-install', '--packages-select', 'litetrack_ros',
                    '--event-handlers', 'console_cohesion-', 'status-', env=env)
    results = colcon(workspace, 'test-result', '--test-result-base',
                     str(workspace / 'build' / 'litetrack_ros'), '--all', env=env)
    assert tested.returncode == 0 and results.returncode == 0, \
        tested.stdout[-4000:] + results.stdout[-4000:]
    assert 'litetrack_ros_tests' in results.stdout and '0 failures' in results.stdout, \
        results.stdout
