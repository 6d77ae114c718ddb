# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Start the litetrack node on one camera (optionally with RViz).

ros2 launch litetrack_ros litetrack.launch.py image:=/camera/image_raw namespace:=front
Run it once per camera with different namespaces to track on several cameras.
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
    """Declare the arguments, the tracker node and the optional RViz."""
    arguments = [
        DeclareLaunchArgument('image', default_value='image',
                              description='Camera image topic (sensor_msgs/Image).'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the node (one per camera).'),
        DeclareLaunchArgument('params_file', default_value=str(SHARE / 'config' /
                                                               'litetrack.yaml'),
                              description='Parameter file.'),
        DeclareLaunchArgument('weights', default_value='',
                              description='Checkpoint file/folder ("" = package weights/).'),
        DeclareLaunchArgument('variant', default_value='auto',
                              description='auto, B4, B6, B8, B9, S4, S6, M6, C3 or LightTrack-M.'),
        DeclareLaunchArgument('device', default_value='auto',
                              description='auto, cpu, cuda or cuda:N.'),
        DeclareLaunchArgument('use_rviz', default_value='false',
                              description='Start RViz showing the debug image.'),
    ]
    tracker = Node(
        package='litetrack_ros',
        executable='litetrack_node',
        name='litetrack',
        namespace=LaunchConfiguration('namespace'),
        parameters=[
            LaunchConfiguration('params_file'),
            {
                'weights': LaunchConfiguration('weights'),
                'variant': LaunchConfiguration('variant'),
                'device': LaunchConfiguration('device'),
            },
        ],
        remappings=[('image', LaunchConfiguration('image'))],
        output='screen',
        emulate_tty=True,
    )
    rviz = Node(
        package='rviz2',
        executable='rviz2',
        namespace=LaunchConfiguration('namespace'),
        arguments=['-d', str(SHARE / 'config' / 'litetrack.rviz')],
        additional_env=large_frame_environment(),
        condition=IfCondition(LaunchConfiguration('use_rviz')),
    )
    return LaunchDescription(arguments + [tracker, rviz])
