# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""config/litetrack.rviz shows what a running node really advertises.

RViz itself cannot run here; instead every display's topic is resolved in the
namespace the launch file gives RViz, and the running node must publish that
topic with the message type the display expects and a QoS the display's
subscription is compatible with.
"""

from pathlib import Path
import uuid

import pytest
from ros_support import background_process, ros_node, spin_until, write_tiny_checkpoint
from test_node import node_command
import yaml

pytestmark = pytest.mark.ros

RVIZ = Path(__file__).resolve().parent.parent / 'config' / 'litetrack.rviz'
# What each RViz display class subscribes to.
DISPLAY_TYPES = {
    'rviz_default_plugins/Image': 'sensor_msgs/msg/Image',
    'rviz_default_plugins/Camera': 'sensor_msgs/msg/Image',
    'rviz_default_plugins/PointStamped': 'geometry_msgs/msg/PointStamped',
}


def displays_with_topics(config: dict) -> list[dict]:
    """Return every display (nested groups included) that subscribes to a topic."""
    found, stack = [], list(config['Visualization Manager']['Displays'])
    while stack:
        display = stack.pop()
        stack.extend(display.get('Displays', []))
        if isinstance(display.get('Topic'), dict):
            found.append(display)
    return found


def test_every_rviz_display_matches_an_advertised_topic(tmp_path):
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

    config = yaml.safe_load(RVIZ.read_text())
    displays = displays_with_topics(config)
    assert displays, 'the RViz config shows nothing'
    namespace = f'/rviz_{uuid.uuid4().hex[:8]}'
    weights = write_tiny_checkpoint(tmp_path / 'tiny.safetensors')
    # With a depth topic, so that the 3D outputs are advertised too.
    command = node_command(namespace, f'{namespace}/image', weights=weights,
                           depth_topic=f'{namespace}/depth')
    with background_process(command), \
            ros_node('rviz_stand_in') as node:
        for display in displays:
            topic = display['Topic']['Value']
            # launch/litetrack.launch.py starts RViz in the node's namespace.
            resolved = topic if topic.startswith('/') else f'{namespace}/{topic}'
            assert spin_until(node, lambda r=resolved: node.get_publishers_info_by_topic(r),
                              timeout_s=60), f'{display["Name"]}: nobody publishes {resolved}'
            (publisher,) = node.get_publishers_info_by_topic(resolved)
            assert publisher.topic_type == DISPLAY_TYPES[display['Class']], display['Name']
            # (node_name may still be unknown to the graph cache right after discovery)
            wanted = display['Topic']
            qos = publisher.qos_profile
            if wanted.get('Reliability Policy') == 'Reliable':
                assert qos.reliability == ReliabilityPolicy.RELIABLE, display['Name']
            if wanted.get('Durability Policy') == 'Transient Local':
                assert qos.durability == DurabilityPolicy.TRANSIENT_LOCAL, display['Name']
    assert config['Visualization Manager']['Global Options']['Fixed Frame']
