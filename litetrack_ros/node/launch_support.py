# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""What the launch files decide, as plain functions (no ``launch`` import, unit-tested).

Both launch files read their arguments in an ``OpaqueFunction`` and pass them
here *before* any process starts, so a bad argument ends the launch with one
clear line and never leaves half of the processes running (the orphans of
ros2/launch#747). The conventions of launch_ros users:

* a launch argument left empty does not override the parameter file (the
  file first, then only the arguments that were given);
* the parameter file must exist and be a ROS parameter file;
* boolean arguments are ``true`` or ``false`` (as ``IfCondition`` reads them);
* RViz is optional: asked for on a machine without ``rviz2``, the launch goes
  on without it and says so.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
from litetrack_ros.node.transport import large_frame_environment
import yaml

# How IfCondition reads a boolean launch argument.
TRUE_WORDS = ('true', '1')
FALSE_WORDS = ('false', '0')


class LaunchArgumentError(ValueError):
    """A launch argument that cannot work; the message names it and what it accepts."""


def parse_bool(name: str, text: str) -> bool:
    """Read a boolean launch argument; raise LaunchArgumentError for anything else."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise LaunchArgumentError(f'launch argument {name} must be true or false, got {text!r}')


def check_params_file(text: str) -> Path:
    """Return the parameter file's path; raise LaunchArgumentError if it cannot be used."""
    path = Path(text).expanduser()
    if not text or not path.is_file():
        raise LaunchArgumentError(f'params_file {text!r} does not exist')
    try:
        content = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        problem = str(error).replace('\n', ' ')
        raise LaunchArgumentError(f'params_file {path} is not valid YAML: {problem}') from None
    nodes = content.values() if isinstance(content, dict) else ()
    if not nodes or not all(isinstance(n, dict) and isinstance(n.get('ros__parameters'), dict)
                            for n in nodes):
        raise LaunchArgumentError(
            f'params_file {path} is not a ROS parameter file: expected '
            '"<node name or /**>: {ros__parameters: {name: value, ...}}"')
    return path


def node_parameters(params_file: Path, overrides: dict[str, str],
                    wrap: Callable[[str], Any] = str) -> list[Any]:
    """Return launch_ros ``parameters``: the file, then only the non-empty arguments.

    ``wrap`` makes each given value a parameter value (the launch files pass
    launch_ros' ``ParameterValue(value, value_type=str)`` so that a path such as
    ``123`` stays a string).
    """
    given = {name: wrap(value) for name, value in overrides.items() if value.strip()}
    return [str(params_file), given] if given else [str(params_file)]


def rviz_node_options(namespace: str = '') -> dict[str, Any]:
    """Return launch_ros ``Node`` keyword arguments for RViz with the package's display config."""
    share = Path(get_package_share_directory('litetrack_ros'))
    return {'package': 'rviz2', 'executable': 'rviz2', 'namespace': namespace,
            'arguments': ['-d', str(share / 'config' / 'litetrack.rviz')],
            'additional_env': large_frame_environment()}


def rviz_installed() -> bool:
    """Tell whether rviz2 is installed (it is optional: headless robots lack it)."""
    try:
        get_package_share_directory('rviz2')
    except PackageNotFoundError:
        return False
    return True


class NodeExitedError(RuntimeError):
    """A node the launch depends on exited with a non-zero status."""


def end_launch(event: Any, context: Any) -> list[Any]:
    """``on_exit`` of the launch's own nodes: the launch ends with them.

    A non-zero exit status (1: the node could not configure) ends ``ros2 launch``
    with status 1 too (an exception in launch), so that systemd and scripts see
    it; a clean exit, or any exit while the launch is already shutting down
    (Ctrl-C), ends it with 0.
    """
    from launch.actions import Shutdown
    name = getattr(event.action, 'name', 'a node')
    if event.returncode and not context.is_shutdown:
        raise NodeExitedError(f'{name} exited with status {event.returncode}: '
                              'ending the launch (see its log above)')
    return [Shutdown(reason=f'{name} exited')]


@dataclass(frozen=True)
class RvizPlan:
    """Whether to start RViz, and a warning to log when it was asked for but cannot run."""

    start: bool
    warning: str = ''


def plan_rviz(use_rviz: str, rviz_installed: bool) -> RvizPlan:
    """Decide about RViz from the ``use_rviz`` argument and whether rviz2 is installed."""
    if not parse_bool('use_rviz', use_rviz):
        return RvizPlan(start=False)
    if not rviz_installed:
        return RvizPlan(start=False, warning=(
            'use_rviz:=true but rviz2 is not installed: going on without RViz (install '
            'ros-$ROS_DISTRO-rviz2, or pass use_rviz:=false to silence this)'))
    return RvizPlan(start=True)
