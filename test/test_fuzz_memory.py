# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Peak memory and time of every input surface under crafted and random inputs.

Each surface (message fields and payloads, dataset folders, video sources) is fuzzed in
a fresh process whose peak RSS growth and wall time are measured: every input must end
in the surface's own error (never a MemoryError or another exception), within the
issue's bars (1 GB, 30 s) with a wide margin. The checkpoint formats have their own
tests (test_checkpoint_budget.py, test_weight_files_fuzz.py).
"""

import os
from pathlib import Path
import subprocess
import sys

import pytest

# The bars: no input under 1 MB may make a tool exceed these.
PEAK_MB = 1024
SECONDS = 30

SCRIPT = """
import random, resource, struct, sys, time, zlib
from pathlib import Path
from types import SimpleNamespace
import cv2, numpy as np
from litetrack_ros.images.image_codec import (check_message, decode_message,
                                              ImageDecodeError)
from litetrack_ros.images.frame_reader import FrameSourceError, open_frames
from litetrack_ros.evaluation.datasets import DatasetError, load_sequence

surface, folder = sys.argv[1], Path(sys.argv[2])
rng = random.Random(20)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
cases = 0


def png_claiming(width, height):
    png = cv2.imencode('.png', np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack('>I', 13) + b'IHDR' + ihdr + struct.pack('>I', zlib.crc32(b'IHDR' + ihdr))
    return png[:8] + chunk + png[33:]


def jpeg_payloads():
    base = cv2.imencode('.jpg', np.zeros((48, 64, 3), np.uint8),
                        [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()
    scan = base[base.rfind(b'\\xff\\xda'):-2]
    yield b'\\xff\\xd8' + b'\\xff' * 900_000
    yield b'\\xff\\xd8' + b'\\xff\\xfe\\x00\\x02' * 200_000 + base[2:]
    yield base[:-2] + scan * 3000 + b'\\xff\\xd9'
    yield png_claiming(100_000, 100_000)
    yield png_claiming(4096, 4096)  # legal size, corrupt data
    for _ in range(200):  # random byte flips of a real JPEG
        data = bytearray(base)
        for _ in range(rng.randrange(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        yield bytes(data)


def decode_or_refuse(message):
    try:
        check_message(message, 4096 * 4096)
        decode_message(message, 4096 * 4096)
    except ImageDecodeError:
        pass


if surface == 'messages':
    for data in jpeg_payloads():
        decode_or_refuse(SimpleNamespace(format='jpeg', data=data))
        cases += 1
    for _ in range(300):  # random raw fields
        height, width = rng.choice([0, 1, 2, 480, 2 ** 31]), rng.choice([0, 1, 640, 2 ** 31])
        step = rng.choice([0, width * 3, width * 3 + 1, 2 ** 33, 60_000_000])
        size = rng.choice([0, 16, 1000, height * step if height * step < 2 ** 22 else 8])
        message = SimpleNamespace(encoding=rng.choice(['rgb8', 'mono16', '32FC1', 'yuv']),
                                  height=height, width=width, step=step, is_bigendian=0,
                                  data=bytes(size))
        decode_or_refuse(message)
        cases += 1
elif surface == 'datasets':
    for index, data in enumerate(jpeg_payloads()):
        sequence = folder / f'seq{index}'
        (sequence / 'img').mkdir(parents=True)
        (sequence / 'img' / '00000001.jpg').write_bytes(data)
        (sequence / 'groundtruth.txt').write_text('1,1,5,5\\n')
        try:
            load_sequence(sequence).load_frame(0)
        except DatasetError:
            pass
        cases += 1
elif surface == 'videos':
    writer = cv2.VideoWriter(str(folder / 'clip.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 10,
                             (64, 48))
    for _ in range(10):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    clean = (folder / 'clip.avi').read_bytes()
    for index in range(60):
        data = bytearray(clean)
        for _ in range(rng.randrange(1, 50)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path = folder / f'fuzz{index}.avi'
        path.write_bytes(bytes(data))
        try:
            for _ in open_frames(path):
                pass
        except FrameSourceError:
            pass
        cases += 1
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(cases, (after - before) // 1024, round(time.monotonic() - start, 2))
"""


@pytest.mark.parametrize('surface', ['messages', 'datasets', 'videos'])
def test_surface_fuzz_stays_within_memory_and_time(tmp_path, surface):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    result = subprocess.run([sys.executable, '-c', SCRIPT, surface, str(tmp_path)],
                            capture_output=True, text=True, errors='replace', timeout=2 * SECONDS,
                            env=env,
                            cwd=Path(__file__).parent)
    assert result.returncode == 0, result.stderr[-3000:]
    cases, grown_mb, seconds = result.stdout.split()[-3:]
    assert int(cases) > 50
    assert int(grown_mb) < PEAK_MB / 4, grown_mb
    assert float(seconds) < SECONDS, seconds
    print(f'{surface}: {cases} cases, peak RSS +{grown_mb} MB, {seconds} s')
