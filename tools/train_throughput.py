#!/usr/bin/env python3
# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""Training throughput of ``litetrack-train`` in 1 process and under torchrun (README figures).

Runs, interleaved ``--repeats`` times: one process, then ``torchrun --standalone
--nproc_per_node N`` with the same effective batch; reads each run's ``losses.csv``
(its first row, start-up, left out) and prints the medians of pairs/s per process,
pairs/s of the whole run and the share of time spent waiting for data, and the
ratio of the N-process run to the one-process run.  Also times data loading alone
(``--measure-data``) with 0..``--workers`` loader processes.

Example (the README's figures)::

    tools/train_throughput.py --nproc 2 -- --data simple=../shared/data/train \\
        --variant S4 --batch-size 16 --steps 12 --log-every 2
"""

import argparse
import csv
import os
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile

BIN = Path(sys.executable).parent


def run(command: list[str]) -> str:
    """Run a command with one thread per process; its output, or exit with its error."""
    env = {**os.environ, 'OMP_NUM_THREADS': '1',
           'PATH': f'{BIN}{os.pathsep}{os.environ.get("PATH", "")}'}
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f'{" ".join(command)} failed:\n{result.stderr[-3000:]}')
    return result.stdout + result.stderr


def figures(out: Path) -> tuple[float, float]:
    """Return the medians of pairs/s per process and data-wait share of a run's log."""
    with open(out / 'losses.csv', newline='') as file:
        rows = list(csv.DictReader(file))[1:]
    return (statistics.median(float(row['pairs_per_s']) for row in rows),
            statistics.median(float(row['data_wait']) for row in rows))


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--nproc', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--workers', type=int, default=1, help='loader processes per process')
    parser.add_argument('train_args', nargs=argparse.REMAINDER,
                        help='-- then litetrack-train arguments (data, variant, batch, steps)')
    args = parser.parse_args()
    train_args = [a for a in args.train_args if a != '--']
    common = [*train_args, '--no-progress', '--threads', '1', '--workers', str(args.workers)]
    results: dict[str, list[tuple[float, float]]] = {'1': [], str(args.nproc): []}
    with tempfile.TemporaryDirectory() as root:
        for repeat in range(args.repeats):
            out = Path(root) / f'one{repeat}'
            run(['litetrack-train', *common, '--out', str(out)])
            results['1'].append(figures(out))
            out = Path(root) / f'ddp{repeat}'
            run([str(BIN / 'torchrun'), '--standalone', '--nproc_per_node', str(args.nproc),
                 '--no-python', 'litetrack-train', *common, '--out', str(out)])
            results[str(args.nproc)].append(figures(out))
        loading = {}
        for workers in range(args.workers + 1):
            printed = [run(['litetrack-train', *train_args, '--threads', '1', '--workers',
                            str(workers), '--measure-data', '8', '--out', root])
                       for _ in range(args.repeats)]
            loading[workers] = statistics.median(
                float(line.split('pairs/s')[0].rsplit(' ', 2)[-2])
                for text in printed for line in text.splitlines() if 'data loading' in line)
    print(f'{"processes":>9}  {"pairs/s per process":>19}  {"pairs/s in all":>14}  '
          f'{"data wait":>9}')
    medians = {}
    for name, values in results.items():
        per_process = statistics.median(v[0] for v in values)
        wait = statistics.median(v[1] for v in values)
        medians[name] = per_process * int(name)
        print(f'{name:>9}  {per_process:19.1f}  {medians[name]:14.1f}  {100 * wait:8.0f}%')
    print(f'{args.nproc} processes / 1 process, pairs/s in all: '
          f'{medians[str(args.nproc)] / medians["1"]:.2f}x (medians of {args.repeats} runs)')
    for workers, pairs in loading.items():
        print(f'data loading alone, {workers} loader process(es): {pairs:.0f} pairs/s')


if __name__ == '__main__':
    main()
