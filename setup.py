# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS-free install of the core: ``pip install .`` (model, tracker, offline tools).

On a ROS 2 system the package is built with colcon from CMakeLists.txt
(ament_cmake); this file is not used there.
"""

from setuptools import find_packages, setup

setup(
    name='litetrack_ros',
    version='0.1.0',
    description='LiteTrack transformer single-object tracker (ROS 2 package, ROS-free core)',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['litetrack_ros', 'litetrack_ros.*']),
    # torch is not pinned to a build here; install the build for your machine
    # first (CPU: `pip install torch==2.13.0`), so pip does not pick one for you.
    install_requires=[
        'numpy>=1.24',
        'opencv-python-headless>=4.8',
        'torch>=2.1',
        'safetensors>=0.4',
        'matplotlib>=3.7',
        'tqdm>=4.60',
    ],
    package_data={'litetrack_ros.train': ['DATA_LICENSES.md']},
    # The default weights go where a ROS install puts them (share/litetrack_ros/weights),
    # so `litetrack-track` and `litetrack-eval` find them after a plain pip install too.
    data_files=[('share/litetrack_ros/weights',
                 ['weights/litetrack_default_s.safetensors', 'weights/MODEL_CARD.md'])],
    extras_require={
        'test': ['pytest>=7', 'ruff>=0.6'],
        # litetrack-export: torch.onnx's exporter needs onnxscript; --check runs onnxruntime.
        'export': ['onnx>=1.16', 'onnxscript>=0.5', 'onnxruntime>=1.18'],
    },
    entry_points={
        'console_scripts': [
            'litetrack-convert = litetrack_ros.cli.convert:main',
            'litetrack-bench = litetrack_ros.cli.bench:main',
            'litetrack-export = litetrack_ros.cli.export:main',
            'litetrack-eval = litetrack_ros.evaluation.cli:main',
            'litetrack-track = litetrack_ros.cli.track:main',
            'litetrack-train = litetrack_ros.train.cli:main',
            'litetrack-prune = litetrack_ros.train.prune:main',
            'litetrack-pseudo-label = litetrack_ros.train.pseudo_label:main',
        ],
    },
)
