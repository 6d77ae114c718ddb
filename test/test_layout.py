# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The package's folders are its layers, and imports only go down (docs/design.md).

Read from the sources with ``ast`` (every import, also those inside functions),
so the check needs neither ROS nor torch.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / 'litetrack_ros'
ROS_FREE = ('model', 'images', 'tracking', 'evaluation', 'train', 'cli')
# What each folder may import from the package, besides itself.
ALLOWED = {
    'model': set(),
    'images': set(),
    'tracking': {'model'},
    'evaluation': {'model', 'images', 'tracking'},
    'train': {'model', 'images', 'tracking', 'evaluation'},
    'cli': {'model', 'images', 'tracking', 'evaluation', 'train'},
    'node': {'model', 'images', 'tracking', 'srv'},
    'ros_tools': {*ROS_FREE, 'node', 'srv'},
}
# Third-party packages a layer must not import.
FORBIDDEN = {
    'model': {'cv2', 'rclpy', 'openvino'},
    'images': {'torch', 'rclpy'},
    **{folder: {'rclpy'} for folder in ROS_FREE[2:]},
}
ROS_MESSAGE_SUFFIXES = ('_msgs', '_srvs', '_interfaces')


def modules() -> dict[str, Path]:
    """Return every module of the package by dotted name."""
    found = {}
    for path in sorted(PACKAGE.rglob('*.py')):
        if '__pycache__' in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
        if parts[-1] == '__init__':
            parts = parts[:-1]
        found['.'.join(parts)] = path
    return found


def imports(path: Path) -> set[str]:
    """Return the absolute module names a file imports, at any depth."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from litetrack_ros.images import scenes` imports a module too.
            names.update(f'{node.module}.{alias.name}' for alias in node.names)
    return names


def folder_of(module: str) -> str | None:
    parts = module.split('.')
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[0] == 'litetrack_ros'
                                          and (PACKAGE / parts[1]).is_dir()) else None


def test_no_modules_at_the_top_of_the_package():
    top = sorted(p.name for p in PACKAGE.glob('*.py') if p.name != '__init__.py')
    assert not top, f'modules outside a layer folder: {top}'


def test_every_folder_is_a_known_layer():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != '__pycache__'}
    assert folders <= set(ALLOWED) | {'srv'}, folders - set(ALLOWED)


def wrong_imports(found: dict[str, Path]) -> list[str]:
    """Return the imports of the package that go up or sideways between layer folders."""
    wrong = []
    for module, path in found.items():
        own = folder_of(module)
        if own is None:
            continue
        for name in imports(path):
            if not name.startswith('litetrack_ros.'):
                continue
            target = name.split('.')[1]
            if target != own and target not in ALLOWED[own]:
                wrong.append(f'{module} imports {name}')
    return sorted(set(wrong))


def find_cycles(graph: dict[str, set[str]]) -> list[str]:
    """Return the import cycles of a module graph (one per back edge of a depth-first search)."""
    cycles = []
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(' -> '.join(trail[trail.index(target):] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_imports_only_go_down_the_layers():
    wrong = wrong_imports(modules())
    assert not wrong, '\n'.join(wrong)


def test_ros_free_layers_import_no_ros_and_no_forbidden_packages():
    wrong = []
    for module, path in modules().items():
        own = folder_of(module)
        if own not in FORBIDDEN:
            continue
        for name in imports(path):
            top = name.split('.')[0]
            if top in FORBIDDEN[own] or (own in ROS_FREE and (
                    top.endswith(ROS_MESSAGE_SUFFIXES) or name == 'litetrack_ros.srv')):
                wrong.append(f'{module} imports {name}')
    assert not wrong, '\n'.join(sorted(wrong))


def test_no_import_cycles_between_modules():
    known = modules()
    # A package's modules may import its __init__ (the package itself): not a cycle.
    graph = {module: {name for name in imports(path) if name in known and name != module
                      and not module.startswith(name + '.')}
             for module, path in known.items()}
    cycles = find_cycles(graph)
    assert not cycles, '\n'.join(cycles)


def test_the_checks_catch_an_upward_import_and_a_cycle(tmp_path):
    up = tmp_path / 'up.py'
    up.write_text('def f():\n    from litetrack_ros.node.stamps import stamp_to_ns\n')
    sideways = tmp_path / 'sideways.py'
    sideways.write_text('from litetrack_ros.images import scenes\n')
    assert wrong_imports({'litetrack_ros.tracking.up': up,
                          'litetrack_ros.model.sideways': sideways}) == [
        'litetrack_ros.model.sideways imports litetrack_ros.images',
        'litetrack_ros.model.sideways imports litetrack_ros.images.scenes',
        'litetrack_ros.tracking.up imports litetrack_ros.node.stamps',
        'litetrack_ros.tracking.up imports litetrack_ros.node.stamps.stamp_to_ns']
    graph = {'a.checkpoint': {'a.openvino_ir'}, 'a.openvino_ir': {'a.checkpoint'}, 'a.c': set()}
    assert find_cycles(graph) == ['a.checkpoint -> a.openvino_ir -> a.checkpoint']
