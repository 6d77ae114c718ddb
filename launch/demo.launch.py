# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""A video source, the tracker and RViz: the whole pipeline on one machine.

ros2 launch litetrack_ros demo.launch.py source:=/path/to/video.mp4
then pick a target: ros2 run litetrack_ros select_target --gui
(or: ros2 run litetrack_ros select_target X Y W H).
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from litetrack_ros.node.transport import large_frame_environment

SHARE = Path(get_package_share_directory('litetrack_ros'))


def generate_launch_description() -> LaunchDescription:
    """Declare the arguments, the video source, the tracker and RViz."""
    arguments = [
        DeclareLaunchArgument('source', default_value='0',
                              description='Video file, image folder or camera index.'),
        DeclareLaunchArgument('rate', default_value='30.0', description='Frames per second.'),
        DeclareLaunchArgument('weights', default_value='',
                              description='Checkpoint file/folder ("" = package weights/).'),
        DeclareLaunchArgument('use_rviz', default_value='true', description='Start RViz.'),
    ]
    source = Node(
        package='litetrack_ros',
        executable='video_source',
        name='video_source',
        arguments=[LaunchConfiguration('source'), '--rate', LaunchConfiguration('rate'),
                   '--loop', '--topic', 'image', '--frame-id', 'camera'],
        output='screen',
    )
    tracker = Node(
        package='litetrack_ros',
        executable='litetrack_node',
        name='litetrack',
        parameters=[str(SHARE / 'config' / 'litetrack.yaml'),
                    {'weights': LaunchConfiguration('weights'), 'allow_untrained': True}],
        remappings=[('image', 'image')],
        output='screen',
        emulate_tty=True,
    )
    rviz = Node(
        package='rviz2',
        executable='rviz2',
        arguments=['-d', str(SHARE / 'config' / 'litetrack.rviz')],
        additional_env=large_frame_environment(),
        condition=IfCondition(LaunchConfiguration('use_rviz')),
    )
    return LaunchDescription(arguments + [source, tracker, rviz])
