# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The demo's child processes (``video_source`` and the node): commands, start and stop."""

import os
from pathlib import Path
import signal
import subprocess
import sys

from litetrack_ros.node.transport import use_large_frame_profile
from litetrack_ros.ros_tools.demo.scene import SourcePlan, WeightsPlan

NAMESPACE = '/litetrack_demo'
NODE_NAME = 'litetrack'
IMAGE_TOPIC = f'{NAMESPACE}/image'
NODE_PATH = f'{NAMESPACE}/{NODE_NAME}'

# video_source waits this long before its first frame so that the node and the
# recorder, already subscribed, are matched. Local discovery usually takes a
# fraction of a second, but when a busy machine misses a participant's first
# announcements, Fast DDS repeats them only every 3 s. Frames published before
# the match are not lost to the numbering (see above) but cost waiting for the
# next pass of the video.
SOURCE_START_DELAY_S = 3.5


# ----------------------------------------------------------------- environment


def configure_ros_environment() -> None:
    """Keep DDS on this machine, in a domain of this run, with the venv as ROS prefix."""
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    # The pid spread over the valid domains 1..101, as the tests do: parallel
    # demos and test runs do not see each other.
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 101))
    # In the bootstrap venv the venv itself is the ROS prefix (`make demo` sets
    # this too; a plain `.venv/bin/python -m ...` does not).
    prefix = Path(sys.prefix)
    paths = [p for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]
    if (prefix / 'share' / 'ament_index').is_dir() and str(prefix) not in paths:
        os.environ['AMENT_PREFIX_PATH'] = os.pathsep.join([str(prefix)] + paths)
    # The large-frame Fast DDS profile for this process and the children it starts.
    use_large_frame_profile()


def installed_executable(name: str) -> Path:
    """Path of an executable the package installs into lib/litetrack_ros."""
    from ament_index_python.packages import get_package_prefix
    return Path(get_package_prefix('litetrack_ros')) / 'lib' / 'litetrack_ros' / name


# -------------------------------------------------------------------- children


class ChildProcess:
    """A ROS executable run for the demo, its output in a log file."""

    def __init__(self, name: str, command: list[str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        env = dict(os.environ, PYTHONUNBUFFERED='1', RCUTILS_COLORIZED_OUTPUT='0')
        self._log = open(log_path, 'w')
        self._process = subprocess.Popen([str(part) for part in command], env=env,
                                         stdout=self._log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    @property
    def returncode(self) -> int | None:
        """Exit status, or None while it runs."""
        return self._process.poll()

    def log_text(self) -> str:
        """Return what the process printed so far."""
        return self.log_path.read_text(errors='replace') if self.log_path.exists() else ''

    def log_tail(self, lines: int = 15) -> str:
        """Return the last lines it printed, indented, for error messages."""
        tail = self.log_text().strip().splitlines()[-lines:]
        return '\n'.join(f'    {line}' for line in tail) or '    (no output)'

    def request_stop(self) -> None:
        """Ask it to shut down (SIGINT) without waiting."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)

    def stop(self, timeout_s: float = 8.0) -> None:
        """Stop it (SIGINT: a clean ROS shutdown; then SIGTERM, SIGKILL) and wait."""
        for send in (lambda: self._process.send_signal(signal.SIGINT),
                     self._process.terminate, self._process.kill):
            if self._process.poll() is not None:
                break
            send()
            try:
                self._process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                continue
        self._process.wait()
        self._log.close()

    def kill(self) -> None:
        """Kill it now (a second Ctrl-C does not wait for clean shutdowns)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._log.close()


def stop_all(children: list[ChildProcess]) -> None:
    """Stop the children, newest first; an interrupt meanwhile kills the rest at once."""
    try:
        for child in reversed(children):
            child.stop()
    except KeyboardInterrupt:
        for child in children:
            child.kill()
        raise


def node_command(weights: WeightsPlan, device: str) -> list[str]:
    """Command line of the tracking node."""
    # Reliable images: the node must hold the frame set_target names, and
    # best-effort delivery of large frames loses many of them on a busy machine
    # (every fragment must arrive). The node still skips frames it has no time for.
    command = [installed_executable('litetrack_node'), '--ros-args',
               '-r', f'__ns:={NAMESPACE}', '-r', f'__node:={NODE_NAME}',
               '-p', f'allow_untrained:={str(weights.path is None).lower()}',
               '-p', f'device:={device}', '-p', 'image_qos:=reliable']
    if weights.path is not None:
        command += ['-p', f'weights:={weights.path}']
    return command


def source_command(plan: SourcePlan) -> list[str]:
    """Command line of video_source."""
    command = [installed_executable('video_source'), plan.source, '--frame-id', 'camera',
               '--start-delay', str(SOURCE_START_DELAY_S)]
    if plan.rate_hz is not None:
        command += ['--rate', f'{plan.rate_hz:g}']
    if plan.max_frames is not None:
        command += ['--max-frames', str(plan.max_frames)]
    if plan.loop:
        command.append('--loop')
    return command + ['--ros-args', '-r', f'__ns:={NAMESPACE}']
