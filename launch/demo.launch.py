# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""A video source, the tracker and RViz: the whole pipeline on one machine.

ros2 launch litetrack_ros demo.launch.py source:=/path/to/video.mp4
then pick a target: ros2 run litetrack_ros select_target --gui
(or: ros2 run litetrack_ros select_target X Y W H).
The arguments are checked before anything starts, RViz is skipped with a warning where
rviz2 is not installed, and when either node exits the launch ends (no orphans).
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


def start(context: LaunchContext) -> list:
    """Check the arguments, then make the source, the tracker (and RViz)."""
    def argument(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    params_file = check_params_file(str(SHARE / 'config' / 'litetrack.yaml'))
    rviz_plan = plan_rviz(argument('use_rviz'), rviz_installed())
    parameters = node_parameters(params_file, {'weights': argument('weights')},
                                 wrap=lambda value: ParameterValue(value, value_type=str))
    parameters.append({'allow_untrained': True})
    source = Node(
        package='litetrack_ros',
        executable='video_source',
        name='video_source',
        arguments=[argument('source'), '--rate', argument('rate'),
                   '--loop', '--topic', 'image', '--frame-id', 'camera'],
        output='screen',
        on_exit=end_launch,
    )
    tracker = Node(
        package='litetrack_ros',
        executable='litetrack_node',
        name='litetrack',
        parameters=parameters,
        remappings=[('image', 'image')],
        output='screen',
        emulate_tty=True,
        on_exit=end_launch,
    )
    actions: list = [source, tracker]
    if rviz_plan.warning:
        actions.append(LogInfo(msg=rviz_plan.warning))
    if rviz_plan.start:
        actions.append(Node(**rviz_node_options()))
    return actions


def generate_launch_description() -> LaunchDescription:
    """Declare the arguments; the nodes are made once they are checked."""
    arguments = [
        DeclareLaunchArgument('source', default_value='0',
                              description='Video file, image folder or camera index.'),
        DeclareLaunchArgument('rate', default_value='30.0', description='Frames per second.'),
        DeclareLaunchArgument('weights', default_value='',
                              description='Checkpoint file/folder (empty: package weights/).'),
        DeclareLaunchArgument('use_rviz', default_value='true',
                              description='Start RViz (true/false; skipped with a warning '
                                          'where rviz2 is missing).'),
    ]
    return LaunchDescription(arguments + [OpaqueFunction(function=start)])
