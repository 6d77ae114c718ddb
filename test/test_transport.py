# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The Fast DDS profile for large frames is chosen only where it belongs."""

from pathlib import Path
import xml.etree.ElementTree as ElementTree

from litetrack_ros.node.transport import large_frame_profile, use_large_frame_profile

PROFILE = Path(__file__).resolve().parent.parent / 'config' / 'fastdds_large_frames.xml'


def test_profile_selected_for_fast_dds_by_the_variable_its_version_reads():
    kilted = {'ROS_DISTRO': 'kilted'}
    assert use_large_frame_profile(kilted) == str(large_frame_profile())
    assert set(kilted) == {'ROS_DISTRO', 'FASTDDS_DEFAULT_PROFILES_FILE'}
    jazzy = {'ROS_DISTRO': 'jazzy', 'RMW_IMPLEMENTATION': 'rmw_fastrtps_cpp'}
    assert use_large_frame_profile(jazzy)
    assert 'FASTRTPS_DEFAULT_PROFILES_FILE' in jazzy
    assert 'FASTDDS_DEFAULT_PROFILES_FILE' not in jazzy


def test_a_users_profile_or_another_middleware_is_left_alone():
    own = {'FASTDDS_DEFAULT_PROFILES_FILE': '/etc/my_profile.xml'}
    assert use_large_frame_profile(own) is None
    assert own == {'FASTDDS_DEFAULT_PROFILES_FILE': '/etc/my_profile.xml'}
    cyclone = {'RMW_IMPLEMENTATION': 'rmw_cyclonedds_cpp'}
    assert use_large_frame_profile(cyclone) is None and len(cyclone) == 1


def test_profile_uses_shared_memory_and_large_socket_buffers():
    namespace = {'dds': 'http://www.eprosima.com'}
    root = ElementTree.parse(PROFILE).getroot()
    descriptors = {d.find('dds:transport_id', namespace).text: d
                   for d in root.iterfind('.//dds:transport_descriptor', namespace)}
    kinds = {d.find('dds:type', namespace).text for d in descriptors.values()}
    assert kinds == {'SHM', 'UDPv4'}
    for descriptor in descriptors.values():
        if descriptor.find('dds:type', namespace).text == 'SHM':
            assert int(descriptor.find('dds:segment_size', namespace).text) >= 16 * 2 ** 20
        else:
            for name in ('sendBufferSize', 'receiveBufferSize'):
                assert int(descriptor.find(f'dds:{name}', namespace).text) >= 4 * 2 ** 20
    participant = root.find('.//dds:participant', namespace)
    assert participant.get('is_default_profile') == 'true'
    used = {t.text for t in participant.iterfind('.//dds:userTransports/dds:transport_id',
                                                 namespace)}
    assert used == set(descriptors)
