# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Training with torchrun/DDP (gloo, 2 CPU processes) and sharded evaluation.

The torchrun tests start real process groups on this machine (gloo on the
loopback); they skip when torchrun or the console scripts are not installed.
"""

import json
import os
from pathlib import Path
import shutil
import subprocess
import sys

from litetrack_ros.evaluation import cli as eval_cli
from litetrack_ros.evaluation.datasets import Sequence
from litetrack_ros.evaluation.ranks import RankError, split_sequences, torchrun_place
from litetrack_ros.model import LiteTrack
from litetrack_ros.model.checkpoint import load_checkpoint, save_safetensors
from litetrack_ros.train import cli
from litetrack_ros.train.distributed import (
    DistributedSetupError,
    micro_batch_plan,
    RankBatches,
)
from litetrack_ros.train.trainer import MODEL_VARIANTS
import numpy as np
import pytest
import torch

BIN = Path(sys.executable).parent
REPO_ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = BIN / 'torchrun'
# Small crops, logging every step, a seed and a learning rate that moves the weights.
EXTRA = ['--synthetic-heights', '64,80', '--pairs-per-scene', '2', '--lr', '1e-3',
         '--backbone-lr-mult', '1', '--grad-clip', '1', '--log-every', '1', '--save-every', '2',
         '--no-progress', '--threads', '1', '--seed', '3']
TRAIN = ['--data', 'synthetic', '--variant', 'micro', '--batch-size', '4', *EXTRA]
needs_torchrun = pytest.mark.skipif(
    not TORCHRUN.is_file() or shutil.which('litetrack-train', path=str(BIN)) is None,
    reason='torchrun / litetrack-train not installed next to this Python')


def torchrun(nproc: int, *command: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``torchrun --standalone --nproc_per_node N --no-python COMMAND`` (as in README)."""
    env = {**os.environ, 'PATH': f'{BIN}{os.pathsep}{os.environ.get("PATH", "")}',
           'OMP_NUM_THREADS': '1'}
    for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'):
        env.pop(name, None)
    result = subprocess.run(
        [str(TORCHRUN), '--standalone', '--nproc_per_node', str(nproc), '--no-python',
         *command], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def readme_cpu_command() -> list[str]:
    """Return the README's 2-process CPU training command, without its torchrun part."""
    lines = (REPO_ROOT / 'README.md').read_text().splitlines()
    start = lines.index('torchrun --standalone --nproc_per_node 2 --no-python \\')
    words = lines[start + 1].split()
    assert words[0] == 'litetrack-train' and words[-2] == '--out', words
    return words[:-2]


def parameters(path: Path) -> dict[str, torch.Tensor]:
    """Return the trainable tensors of saved weights (BatchNorm statistics are rank 0's)."""
    names = {name for name, _ in LiteTrack(MODEL_VARIANTS['micro']).named_parameters()}
    state = load_checkpoint(path).state_dict
    return {name: value for name, value in state.items() if name in names}


def assert_same_weights(first: Path, second: Path) -> None:
    a, b = parameters(first), parameters(second)
    assert a.keys() == b.keys() and a
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5, msg=name)


def assert_trained(path: Path) -> None:
    """Check that the weights moved away from the seed's initialisation."""
    torch.manual_seed(3)
    initial = LiteTrack(MODEL_VARIANTS['micro']).state_dict()
    moved = [not torch.equal(value, initial[name]) for name, value in parameters(path).items()]
    assert sum(moved) > len(moved) // 2


def log_steps(path: Path) -> list[dict[str, str]]:
    import csv  # noqa: PLC0415
    with open(path, newline='') as file:
        return list(csv.DictReader(file))


# --------------------------------------------------------------------------- sharing a step


@pytest.mark.parametrize('world, micro', [(1, 4), (1, 2), (2, 2), (2, 1), (4, 1)])
def test_every_step_sees_the_same_pairs_whatever_the_world_size(world, micro):
    per_rank = [list(RankBatches(4, micro, rank, world, 1, 3)) for rank in range(world)]
    steps = {len(batches) for batches in per_rank}
    assert steps == {2 * 4 // (micro * world)}
    accumulation = 4 // (micro * world)
    for step in range(2):
        seen = sorted(i for batches in per_rank
                      for batch in batches[step * accumulation:(step + 1) * accumulation]
                      for i in batch)
        assert seen == list(range(4 * (step + 1), 4 * (step + 2)))  # steps 1 and 2


def test_micro_batch_plan_keeps_the_effective_batch_or_says_why():
    assert micro_batch_plan(16, None, 4) == (4, 1)
    assert micro_batch_plan(16, 2, 4) == (2, 2)
    assert micro_batch_plan(16, 16, 1) == (16, 1)
    with pytest.raises(DistributedSetupError, match='multiple of the 3 processes'):
        micro_batch_plan(16, None, 3)
    with pytest.raises(DistributedSetupError, match='--micro-batch 3'):
        micro_batch_plan(16, 3, 2)


def test_torchrun_environment_is_read_and_checked():
    assert torchrun_place({}) == (0, 1, 0)
    assert torchrun_place({'RANK': '3', 'WORLD_SIZE': '4', 'LOCAL_RANK': '1'}) == (3, 4, 1)
    with pytest.raises(RankError, match='RANK=4'):
        torchrun_place({'RANK': '4', 'WORLD_SIZE': '4'})
    with pytest.raises(RankError):
        torchrun_place({'WORLD_SIZE': 'two'})


def test_bad_batch_split_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    assert cli.main([*TRAIN, '--micro-batch', '3', '--out', str(tmp_path / 'r')]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and 'multiple of --micro-batch 3' in error[0]


def test_launch_style_local_rank_arguments_are_accepted(tmp_path, monkeypatch, capsys):
    for spelling in ('--local-rank', '--local_rank'):
        monkeypatch.delenv('LOCAL_RANK', raising=False)
        assert cli.main([*TRAIN, spelling, '0', '--measure-data', '1',
                         '--out', str(tmp_path)]) == 0
        assert os.environ['LOCAL_RANK'] == '0'  # where torchrun would have put it
    monkeypatch.setenv('LOCAL_RANK', '0')  # the environment wins over the argument
    assert cli.build_parser().parse_args([*TRAIN, '--local-rank', '1']).local_rank == 1
    assert cli.main([*TRAIN, '--local-rank', '1', '--measure-data', '1',
                     '--out', str(tmp_path)]) == 0
    assert os.environ['LOCAL_RANK'] == '0'
    assert 'pairs/s' in capsys.readouterr().out


def test_measure_data_prints_pairs_per_second(tmp_path, capsys):
    assert cli.main([*TRAIN, '--measure-data', '2', '--out', str(tmp_path / 'r')]) == 0
    printed = capsys.readouterr().out
    assert 'pairs/s' in printed and 'ms per pair' in printed
    assert not (tmp_path / 'r').exists()


# --------------------------------------------------------------------------- torchrun


@pytest.mark.slow
@needs_torchrun
def test_two_processes_equal_one_and_resume_with_another_world_size(tmp_path):
    two, one = tmp_path / 'two', tmp_path / 'one'
    # The README's command (2 CPU processes, gloo), 2 steps of 4 pairs: 2 per process.
    command = readme_cpu_command()
    assert command[command.index('--steps') + 1] == '2'
    result = torchrun(2, *command, *EXTRA, '--out', str(two), cwd=tmp_path)
    assert 'rank 0/2' in result.stderr and 'rank 1/2' in result.stderr  # both trained
    same = [*command[1:], *EXTRA]
    assert cli.main([*same, '--micro-batch', '2', '--out', str(one)]) == 0
    assert_trained(two / 'weights_last.safetensors')
    assert_same_weights(two / 'weights_last.safetensors', one / 'weights_last.safetensors')
    rows = log_steps(two / 'losses.csv')
    assert [row['step'] for row in rows] == ['1', '2']
    assert all(float(row['pairs_per_s']) > 0 and 0 <= float(row['data_wait']) <= 1
               for row in rows)
    assert torch.load(two / 'checkpoint_last.pth', weights_only=True)['step'] == 2

    # Swap the world sizes: the 2-process run resumes in one process, the 1-process run
    # in two; after 4 steps they are still equal.
    resume = ['--steps', '4', '--micro-batch', '2']
    assert cli.main([*same, *resume, '--out', str(two),
                     '--resume', str(two / 'checkpoint_last.pth')]) == 0
    torchrun(2, *command, *EXTRA, *resume, '--out', str(one),
             '--resume', str(one / 'checkpoint_last.pth'), cwd=tmp_path)
    for out in (two, one):
        assert [row['step'] for row in log_steps(out / 'losses.csv')] == ['1', '2', '3', '4']
    assert_same_weights(two / 'weights_last.safetensors', one / 'weights_last.safetensors')


RANK_OUT = """
import os, sys
from litetrack_ros.train import cli
rank = os.environ['RANK']
sys.exit(cli.main(sys.argv[1:] + ['--out', os.path.join('{root}', 'rank' + rank)]))
"""


@pytest.mark.slow
@needs_torchrun
def test_rank_zero_alone_writes_and_teachers_work_in_every_rank(tmp_path):
    torch.manual_seed(5)
    teacher = LiteTrack(MODEL_VARIANTS['micro'].replace(depth=3)).eval()
    save_safetensors(teacher, tmp_path / 'teacher.safetensors')
    script = tmp_path / 'each_rank_its_out.py'
    script.write_text(RANK_OUT.format(root=tmp_path))
    dataset = make_dataset(tmp_path / 'val')
    result = torchrun(2, sys.executable, str(script), *TRAIN, '--steps', '2',
                      '--teacher', str(tmp_path / 'teacher.safetensors'),
                      '--distill', 'compress', '--eval-dataset', str(dataset),
                      '--eval-every', '2', cwd=tmp_path)
    assert 'rank 1/2' in result.stderr
    assert sorted(p.name for p in (tmp_path / 'rank0').iterdir()) == [
        'checkpoint_last.pth', 'eval', 'losses.csv', 'losses.png', 'weights_last.safetensors',
        'weights_step0000002.safetensors']
    report = json.loads((tmp_path / 'rank0' / 'eval' / 'step0000002' / 'results.json')
                        .read_text())
    assert report['sequences'] == ['first', 'second', 'third']  # rank 0 evaluated alone
    assert not (tmp_path / 'rank1').exists()  # rank 1 trained but wrote nothing
    rows = log_steps(tmp_path / 'rank0' / 'losses.csv')
    assert len(rows) == 2 and all(float(row['distill']) > 0 for row in rows)
    assert_trained(tmp_path / 'rank0' / 'weights_last.safetensors')


# --------------------------------------------------------------------------- sharded evaluation


def sequence(name: str, frames: int) -> Sequence:
    return Sequence(name, tuple(Path(f'{i}.jpg') for i in range(frames)), np.zeros((frames, 4)))


def test_split_balances_frames_keeps_order_and_is_deterministic():
    sequences = [sequence(name, frames) for name, frames in
                 [('a', 10), ('b', 90), ('c', 40), ('d', 50), ('e', 10)]]
    shards = split_sequences(sequences, 2)
    assert [[s.name for s in shard] for shard in shards] == [['a', 'b'], ['c', 'd', 'e']]
    assert [sum(map(len, shard)) for shard in shards] == [100, 100]
    assert [s.name for s in split_sequences(sequences[::-1], 2)[0]] == ['b', 'a']  # their order
    assert [len(shard) for shard in split_sequences(sequences[:1], 3)] == [1, 0, 0]


def without_timings(value):
    """``results.json`` less what depends on the clock and the machine."""
    if isinstance(value, dict):
        return {key: without_timings(item) for key, item in value.items()
                if key not in ('fps', 'update_ms_median', 'environment')}
    if isinstance(value, list):
        return [without_timings(item) for item in value]
    return value


def make_dataset(root: Path) -> Path:
    from test_eval import make_simple_sequence  # noqa: PLC0415 - shared generator
    for index, name in enumerate(['first', 'second', 'third']):
        make_simple_sequence(root / name, 4 + 2 * index)
    return root


@pytest.mark.slow
def test_sharded_evaluation_writes_the_results_of_one_process(tmp_path):
    dataset = make_dataset(tmp_path / 'data')
    torch.manual_seed(1)
    save_safetensors(LiteTrack(MODEL_VARIANTS['micro']).eval(), tmp_path / 'w.safetensors')
    # Deterministic trackers only: OpenCV's MIL, even seeded, gives a sequence other boxes
    # after other sequences in the same process (so also with --sequences).
    trackers = ['--tracker', f'litetrack:weights={tmp_path / "w.safetensors"},device=cpu,name=lt',
                '--tracker', f'litetrack:weights={tmp_path / "w.safetensors"},device=cpu,'
                'search_size=96,name=wide']
    outs = {kind: tmp_path / kind for kind in ('one', 'workers', 'ranks')}
    assert eval_cli.main([str(dataset), *trackers, '--out', str(outs['one']),
                          '--no-progress']) == 0
    assert eval_cli.main([str(dataset), *trackers, '--out', str(outs['workers']),
                          '--no-progress', '--workers', '2']) == 0
    if TORCHRUN.is_file() and shutil.which('litetrack-eval', path=str(BIN)):
        torchrun(2, 'litetrack-eval', str(dataset), *trackers, '--out', str(outs['ranks']),
                 '--no-progress', cwd=tmp_path)
    else:
        del outs['ranks']
    reference = without_timings(json.loads((outs.pop('one') / 'results.json').read_text()))
    assert reference['sequences'] == ['first', 'second', 'third']
    for kind, out in outs.items():
        report = json.loads((out / 'results.json').read_text())
        assert without_timings(report) == reference, kind
        for name in reference['sequences']:
            assert (out / 'lt' / f'{name}.txt').read_text() == (
                tmp_path / 'one' / 'lt' / f'{name}.txt').read_text()


def test_workers_and_torchrun_together_are_refused(tmp_path, capsys, monkeypatch):
    dataset = make_dataset(tmp_path / 'data')
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '2')
    assert eval_cli.main([str(dataset), '--tracker', 'mil', '--workers', '2',
                          '--out', str(tmp_path / 'o')]) == 2
    assert 'use one or the other' in capsys.readouterr().err
