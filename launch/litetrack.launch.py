# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Start the litetrack node on one camera (optionally with RViz).

ros2 launch litetrack_ros litetrack.launch.py image:=/camera/image_raw namespace:=front
Run it once per camera with different namespaces to track on several cameras.
The arguments are checked before anything starts (litetrack_ros.node.launch_support);
weights, variant and device left empty keep the parameter file's values. When the
node exits (e.g. configure failed: exit status 1), the launch ends too.
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, LogInfo, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from litetrack_ros.node.launch_support import (
    check_params_file,
    end_launch,
    node_parameters,
    plan_rviz,
    rviz_installed,
    rviz_node_options,
)

SHARE = Path(get_package_share_directory('litetrack_ros'))
# Launch arguments that override the parameter file when given (not empty).
OVERRIDES = ('weights', 'variant', 'device')


def start(context: LaunchContext) -> list:
    """Check the arguments, then make the tracker (and RViz)."""
    def argument(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    params_file = check_params_file(argument('params_file'))
    rviz_plan = plan_rviz(argument('use_rviz'), rviz_installed())
    parameters = node_parameters(params_file, {name: argument(name) for name in OVERRIDES},
                                 wrap=lambda value: ParameterValue(value, value_type=str))
    namespace = argument('namespace')
    tracker = Node(
        package='litetrack_ros',
        executable='litetrack_node',
        name='litetrack',
        namespace=namespace,
        parameters=parameters,
        remappings=[('image', argument('image'))],
        output='screen',
        emulate_tty=True,
        on_exit=end_launch,
    )
    actions: list = [tracker]
    if rviz_plan.warning:
        actions.append(LogInfo(msg=rviz_plan.warning))
    if rviz_plan.start:
        actions.append(Node(**rviz_node_options(namespace)))
    return actions


def generate_launch_description() -> LaunchDescription:
    """Declare the arguments; the nodes are made once they are checked."""
    arguments = [
        DeclareLaunchArgument('image', default_value='image',
                              description='Camera image topic (sensor_msgs/Image).'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the node (one per camera).'),
        DeclareLaunchArgument('params_file', default_value=str(SHARE / 'config' /
                                                               'litetrack.yaml'),
                              description='Parameter file (must exist).'),
        DeclareLaunchArgument('weights', default_value='',
                              description='Checkpoint file/folder (empty: the parameter '
                                          "file's, by default the package weights/)."),
        DeclareLaunchArgument('variant', default_value='',
                              description="Empty: the parameter file's (default auto); or "
                                          'auto, B4, B6, B8, B9, S4, S6, M6, C3, LightTrack-M.'),
        DeclareLaunchArgument('device', default_value='',
                              description="Empty: the parameter file's (default auto); or "
                                          'auto, cpu, cuda or cuda:N.'),
        DeclareLaunchArgument('use_rviz', default_value='false',
                              description='Start RViz showing the debug image (true/false; '
                                          'skipped with a warning where rviz2 is missing).'),
    ]
    return LaunchDescription(arguments + [OpaqueFunction(function=start)])
