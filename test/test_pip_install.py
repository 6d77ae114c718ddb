# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``pip install .`` gives a working ROS-free core.

The wheel is installed into a fresh venv that can see this environment's
third-party packages (torch, numpy, OpenCV) but where every ROS module is
made unimportable, so any ROS import in the core shows up as a failure.
"""

import os
from pathlib import Path
import subprocess
import sys
import sysconfig
import zipfile

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Modules that are allowed to need ROS (the node layer).
ROS_LAYER = ('litetrack_ros.node', 'litetrack_ros.ros_tools', 'litetrack_ros.srv')

BLOCK_ROS = '''
import importlib.abc, sys

class NoRos(importlib.abc.MetaPathFinder):
    """Refuse every ROS 2 module, as on a machine without ROS (and OpenVINO: test-only)."""
    def find_spec(self, name, path=None, target=None):
        top = name.split('.')[0]
        if top in ('rclpy', 'rosidl_runtime_py', 'rpyutils', 'ament_index_python') or \\
                top.endswith('_msgs') or top.endswith('_srvs') or top.startswith('rosidl'):
            raise ImportError(f'{name}: ROS is not available here')
        if top == 'openvino':
            raise ImportError(f'{name}: a development dependency only')
        return None

sys.meta_path.insert(0, NoRos())
'''

IMPORT_EVERYTHING_WITHOUT_ROS = BLOCK_ROS + """
import importlib, pkgutil
import litetrack_ros
imported = []
for module in pkgutil.walk_packages(litetrack_ros.__path__, 'litetrack_ros.'):
    if module.name.startswith(%r):
        continue
    importlib.import_module(module.name)
    imported.append(module.name)
print(litetrack_ros.__file__)
print(' '.join(imported))
""" % (ROS_LAYER,)


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('wheel')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
                    '-q', '-w', str(out), str(REPO_ROOT)], check=True)
    (built,) = out.glob('litetrack_ros-*.whl')
    return built


@pytest.mark.slow
def test_wheel_holds_the_core_and_no_build_leftovers(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert 'litetrack_ros/__init__.py' in names
    assert any(n.startswith('litetrack_ros/model/') for n in names)
    assert not any('/srv/' in n or n.endswith('.so') for n in names), 'generated code leaked'


@pytest.mark.slow
def test_core_imports_and_clis_run_without_ros(wheel, tmp_path):
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], check=True)
    python = venv / 'bin' / 'python'
    site = Path(subprocess.run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()'
                                "['purelib'])"], check=True, capture_output=True,
                               text=True).stdout.strip())
    subprocess.run([sys.executable, '-m', 'pip', '--python', str(python), 'install', '-q',
                    '--no-deps', '--no-index', str(wheel)], check=True)
    # Third-party packages come from this environment (appended, so the wheel wins).
    (site / 'third_party.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')

    # colcon test and sourced ROS set PYTHONPATH, which would reach the ROS install.
    clean_env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    result = subprocess.run([python, '-c', IMPORT_EVERYTHING_WITHOUT_ROS], cwd=tmp_path,
                            capture_output=True, text=True, env=clean_env)
    assert result.returncode == 0, result.stderr
    installed_from, imported = result.stdout.splitlines()
    assert installed_from.startswith(str(venv))
    assert 'litetrack_ros.model' in imported.split()

    # The default weights come with the wheel and are found without ROS.
    find_weights = BLOCK_ROS + (
        'from litetrack_ros.tracking.runtime import package_weights_folder, resolve_weights\n'
        "print(resolve_weights('', package_weights_folder()))")
    found = subprocess.run([python, '-c', find_weights], cwd=tmp_path, capture_output=True,
                           text=True, env=clean_env)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == str(
        venv / 'share' / 'litetrack_ros' / 'weights' / 'litetrack_default_s.safetensors')

    for script in ('litetrack-convert', 'litetrack-bench', 'litetrack-export', 'litetrack-eval',
                   'litetrack-track', 'litetrack-train', 'litetrack-prune',
                   'litetrack-pseudo-label'):
        run = subprocess.run([venv / 'bin' / script, '--help'], capture_output=True, text=True,
                             env=clean_env)
        assert run.returncode == 0 and 'usage' in run.stdout.lower(), (script, run.stderr)
