# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""What the launch files decide before anything starts (litetrack_ros.node.launch_support).

Plain function tests: they need neither ``launch`` nor a running ROS graph.
The launch files themselves run for real in test_ros_cli.py where the real
tools are installed.
"""

import ast
from pathlib import Path

from litetrack_ros.node.launch_support import (
    check_params_file,
    LaunchArgumentError,
    node_parameters,
    parse_bool,
    plan_rviz,
    rviz_node_options,
)
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG = REPO_ROOT / 'config' / 'litetrack.yaml'


def test_empty_launch_arguments_keep_the_params_file_values():
    parameters = node_parameters(CONFIG, {'weights': '', 'variant': ' ', 'device': 'cuda:1'})
    assert parameters == [str(CONFIG), {'device': 'cuda:1'}]
    assert node_parameters(CONFIG, {'weights': '', 'variant': '', 'device': ''}) == \
        [str(CONFIG)]


def test_given_arguments_come_after_the_file_and_are_wrapped():
    parameters = node_parameters(CONFIG, {'weights': '123'}, wrap=lambda v: ('str', v))
    assert parameters == [str(CONFIG), {'weights': ('str', '123')}]


def test_params_file_must_exist(tmp_path):
    with pytest.raises(LaunchArgumentError, match='params_file .*missing.yaml.* does not exist'):
        check_params_file(str(tmp_path / 'missing.yaml'))
    with pytest.raises(LaunchArgumentError, match='does not exist'):
        check_params_file('')


def test_malformed_params_file_is_named(tmp_path):
    broken = tmp_path / 'broken.yaml'
    broken.write_text('/**:\n  ros__parameters:\n    weights: [unclosed\n')
    with pytest.raises(LaunchArgumentError, match=r'broken.yaml is not valid YAML'):
        check_params_file(str(broken))
    flat = tmp_path / 'flat.yaml'
    flat.write_text('weights: /tmp/w.safetensors\n')
    with pytest.raises(LaunchArgumentError, match='not a ROS parameter file'):
        check_params_file(str(flat))


def test_the_package_params_file_is_accepted():
    assert check_params_file(str(CONFIG)) == CONFIG


@pytest.mark.parametrize('text, value', [('true', True), ('True', True), ('1', True),
                                         ('false', False), ('FALSE', False), ('0', False)])
def test_boolean_arguments_read_as_ifcondition_does(text, value):
    assert parse_bool('use_rviz', text) is value


def test_a_non_boolean_use_rviz_is_refused_before_anything_starts():
    with pytest.raises(LaunchArgumentError,
                       match="use_rviz must be true or false, got 'maybe'"):
        plan_rviz('maybe', rviz_installed=True)


def test_rviz_is_skipped_with_a_warning_where_it_is_missing():
    assert plan_rviz('true', rviz_installed=True).start
    missing = plan_rviz('true', rviz_installed=False)
    assert not missing.start and 'rviz2 is not installed' in missing.warning
    assert 'use_rviz:=false' in missing.warning
    assert plan_rviz('false', rviz_installed=False).warning == ''


def launch_calls(path: Path, function: str) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == function]


@pytest.mark.parametrize('launch_file', sorted((REPO_ROOT / 'launch').glob('*.launch.py')),
                         ids=lambda p: p.name)
def test_launch_files_check_first_and_end_with_the_tracker(launch_file):
    source = launch_file.read_text()
    # The nodes are made in an OpaqueFunction, after the checks (no half-started launch).
    assert 'OpaqueFunction(function=start)' in source
    for check in ('check_params_file', 'plan_rviz', 'node_parameters'):
        assert launch_calls(launch_file, check), check
    trackers = [call for call in launch_calls(launch_file, 'Node')
                if any(k.arg == 'executable' and getattr(k.value, 'value', '') ==
                       'litetrack_node' for k in call.keywords)]
    assert len(trackers) == 1
    assert 'on_exit' in {k.arg for k in trackers[0].keywords}, 'launch ends with the node'


def test_node_overrides_default_to_empty():
    """weights, variant and device left out do not override a params_file."""
    launch_file = REPO_ROOT / 'launch' / 'litetrack.launch.py'
    defaults = {call.args[0].value: next(getattr(k.value, 'value', None) for k in call.keywords
                                         if k.arg == 'default_value')
                for call in launch_calls(launch_file, 'DeclareLaunchArgument')}
    for name in ('weights', 'variant', 'device'):
        assert defaults[name] == '', name


@pytest.mark.ros
def test_rviz_runs_in_the_namespace_with_the_installed_display_config():
    options = rviz_node_options('/front')
    assert (options['package'], options['executable'], options['namespace']) == \
        ('rviz2', 'rviz2', '/front')
    flag, config = options['arguments']
    assert flag == '-d' and Path(config).name == 'litetrack.rviz' and Path(config).is_file()
    assert rviz_node_options()['namespace'] == ''
