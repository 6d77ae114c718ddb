# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Launch and config files name only things that exist.

`launch` and `launch_ros` are not on PyPI, so the launch files cannot run
here; instead each one must compile, and every executable, package-share file
and parameter it names must exist.
"""

import ast
from pathlib import Path
import py_compile
import re
import uuid

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
LAUNCH_FILES = sorted((REPO_ROOT / 'launch').glob('*.launch.py'))
EXTERNAL_EXECUTABLES = {('rviz2', 'rviz2')}


def cmake_entry_points(list_name: str) -> dict[str, str]:
    """Return the `name=module` entries of a CMakeLists.txt list."""
    cmake = (REPO_ROOT / 'CMakeLists.txt').read_text()
    body = re.search(rf'set\({list_name}\n(.*?)\)', cmake, re.DOTALL).group(1)
    return dict(entry.strip('"').split('=') for entry in body.split())


def installed_executables() -> set[str]:
    return set(cmake_entry_points('LITETRACK_EXECUTABLES'))


def keyword_strings(tree: ast.AST, keyword: str) -> list[str]:
    return [k.value.value for node in ast.walk(tree) if isinstance(node, ast.Call)
            for k in node.keywords
            if k.arg == keyword and isinstance(k.value, ast.Constant)]


def share_paths(tree: ast.AST) -> list[Path]:
    """Paths written as SHARE / 'a' / 'b' in a launch file."""
    paths = []
    for node in ast.walk(tree):
        parts = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            if not isinstance(node.right, ast.Constant):
                break
            parts.insert(0, node.right.value)
            node = node.left
        if parts and isinstance(node, ast.Name) and node.id == 'SHARE':
            paths.append(Path(*parts))
    # ast.walk also visits the inner `SHARE / 'a'` of `SHARE / 'a' / 'b'`: keep whole paths.
    return [p for p in paths if not any(q != p and p in q.parents for q in paths)]


def node_parameter_names() -> set[str]:
    from litetrack_ros.node.parameters import PARAMETERS
    return {spec.name for spec in PARAMETERS}


@pytest.mark.parametrize('launch_file', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_compiles_and_names_what_exists(launch_file):
    py_compile.compile(str(launch_file), doraise=True)
    tree = ast.parse(launch_file.read_text())
    packages = keyword_strings(tree, 'package')
    executables = keyword_strings(tree, 'executable')
    assert len(packages) == len(executables) > 0
    for package, executable in zip(packages, executables, strict=True):
        if (package, executable) in EXTERNAL_EXECUTABLES:
            continue
        assert package == 'litetrack_ros'
        assert executable in installed_executables(), executable
    for path in share_paths(tree):
        assert (REPO_ROOT / path).is_file(), f'{launch_file.name} names missing {path}'
        assert path.parts[0] in ('config', 'launch', 'weights'), 'installed to share/'


def launch_overrides(tree: ast.AST) -> list[str]:
    """Parameter names a launch file overrides: dict keys and its OVERRIDES tuple."""
    names = [key.value for node in ast.walk(tree) if isinstance(node, ast.Dict)
             for key in node.keys if isinstance(key, ast.Constant)]
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'OVERRIDES'
                and isinstance(node.value, ast.Tuple)):
            names += [element.value for element in node.value.elts]
    return names


@pytest.mark.ros
@pytest.mark.parametrize('launch_file', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_parameters_are_node_parameters(launch_file):
    overrides = launch_overrides(ast.parse(launch_file.read_text()))
    assert overrides, 'expected parameter overrides'
    assert set(overrides) <= node_parameter_names()


def test_checkpoints_put_into_weights_are_installed():
    """README: "put a checkpoint into weights/": no pattern may exclude one from the install."""
    cmake = (REPO_ROOT / 'CMakeLists.txt').read_text()
    rule = re.search(r'install\(\s*DIRECTORY[^)]*\bweights\b[^)]*\)', cmake).group(0)
    assert 'EXCLUDE' not in rule, rule


@pytest.mark.ros
def test_config_file_lists_every_parameter_with_its_default():
    from litetrack_ros.node.parameters import PARAMETERS
    config = yaml.safe_load((REPO_ROOT / 'config' / 'litetrack.yaml').read_text())
    values = config['/**']['ros__parameters']
    assert set(values) == node_parameter_names()
    for spec in PARAMETERS:
        assert values[spec.name] == spec.default, spec.name
        assert type(values[spec.name]) is type(spec.default), spec.name


def test_rviz_config_shows_the_debug_image():
    rviz = yaml.safe_load((REPO_ROOT / 'config' / 'litetrack.rviz').read_text())
    displays = rviz['Visualization Manager']['Displays']
    topics = [d['Topic']['Value'] for d in displays if d['Class'].endswith('/Image')]
    assert topics and all(t.endswith('litetrack/debug_image') for t in topics)


def test_entry_points_name_modules_with_main():
    entries = {**cmake_entry_points('LITETRACK_EXECUTABLES'),
               **cmake_entry_points('LITETRACK_CLIS')}
    for name, module in entries.items():
        path = REPO_ROOT / (module.replace('.', '/') + '.py')
        assert path.is_file(), (name, module)
        assert re.search(r'^def main\(', path.read_text(), re.MULTILINE), (name, module)


def test_cmake_and_setup_py_install_the_same_command_line_tools():
    setup = (REPO_ROOT / 'setup.py').read_text()
    declared = dict(re.findall(r"'([\w-]+) = ([\w.]+):main'", setup))
    assert declared == cmake_entry_points('LITETRACK_CLIS')


def _launch_available() -> bool:
    try:
        import launch  # noqa: F401
        import launch_ros  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.ros
@pytest.mark.skipif(not _launch_available(), reason='launch/launch_ros are not installed '
                    '(not on PyPI): runs on a robot')
@pytest.mark.parametrize('launch_file', ['litetrack.launch.py'])
def test_launch_file_starts_the_node(launch_file, tmp_path):
    """Run the launch file for real and wait for the node's services (a robot only)."""
    import asyncio

    from launch import LaunchDescription, LaunchService
    from launch.actions import IncludeLaunchDescription
    from launch.launch_description_sources import PythonLaunchDescriptionSource
    from ros_support import ros_node, spin_until, write_tiny_checkpoint
    weights = write_tiny_checkpoint(tmp_path / 'tiny.safetensors')
    # rcl rejects a double underscore in a name (tmp_path's tail can start with one).
    namespace = f'launch_{uuid.uuid4().hex[:8]}'
    assert '__' not in namespace
    service = LaunchService()
    service.include_launch_description(LaunchDescription([IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(REPO_ROOT / 'launch' / launch_file)),
        launch_arguments={'namespace': namespace, 'weights': str(weights)}.items())]))
    loop = asyncio.new_event_loop()
    task = loop.create_task(service.run_async())
    try:
        with ros_node('launch_checker') as node:
            def advertised() -> bool:
                loop.run_until_complete(asyncio.sleep(0.1))
                names = dict(node.get_service_names_and_types())
                return f'/{namespace}/litetrack/set_target' in names
            assert spin_until(node, advertised, timeout_s=60)
    finally:
        # From outside the loop's thread shutdown() would wait for the loop (not running
        # here): force_sync queues the event; the task then stops the node and ends.
        service.shutdown(force_sync=True)
        assert loop.run_until_complete(asyncio.wait_for(task, timeout=60)) == 0
        loop.close()
