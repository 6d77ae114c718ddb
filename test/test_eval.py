# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Dataset discovery, runner, report and the litetrack-eval command, on generated data.

The last tests rerun OpenCV trackers on the shared sequences and compare with
reference figures; they are skipped when ``../shared`` is not there.
"""

import json
from pathlib import Path
import subprocess
import sys

import cv2
from litetrack_ros.evaluation import cli, runner
from litetrack_ros.evaluation.baselines import (
    create_tracker,
    litetrack_tracker,
    LiteTrackAdapter,
    TrackerSetupError,
)
from litetrack_ros.evaluation.datasets import DatasetError, discover_sequences, load_sequence
from litetrack_ros.evaluation.report import build_report, format_table, write_json
from litetrack_ros.evaluation.runner import result_paths, run_trackers
import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / 'shared' / 'data'
SHARED_SEQUENCES = SHARED_DATA / 'sequences'
PEERS = SHARED_DATA / 'peers'
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# A textured square moving right on a textured background: something MIL can follow.
FRAME_H, FRAME_W, SQUARE = 72, 96, 20


def square_box(index: int) -> tuple[int, int, int, int]:
    return (10 + 3 * index, 24 + index, SQUARE, SQUARE)


def draw_frame(index: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    image = rng.integers(60, 120, (FRAME_H, FRAME_W, 3), dtype=np.uint8)
    x, y, w, h = square_box(index)
    checker = (np.indices((h, w)).sum(axis=0) // 4 % 2 * 255).astype(np.uint8)
    image[y:y + h, x:x + w] = checker[..., None]
    image[y:y + h, x:x + w, 2] = 200  # colour, so a BGR/RGB swap is visible
    return image


def write_frames(folder: Path, count: int, name_format: str = '{:08d}.jpg') -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        cv2.imwrite(str(folder / name_format.format(index + 1)), draw_frame(index))


def write_boxes(path: Path, count: int, separator: str = ',') -> None:
    path.write_text(''.join(separator.join(str(v) for v in square_box(index)) + '\n'
                            for index in range(count)))


def make_simple_sequence(folder: Path, count: int = 6) -> Path:
    write_frames(folder / 'img', count)
    write_boxes(folder / 'groundtruth.txt', count)
    return folder


# --------------------------------------------------------------------------- datasets


def test_simple_layout_root_and_single_sequence_folder(tmp_path):
    make_simple_sequence(tmp_path / 'zebra', 5)
    make_simple_sequence(tmp_path / 'apple', 4)
    (tmp_path / 'notes').mkdir()  # not a sequence: ignored

    sequences = discover_sequences(tmp_path)
    assert [sequence.name for sequence in sequences] == ['apple', 'zebra']
    apple = sequences[0]
    assert apple.layout == 'simple' and len(apple) == 4
    assert apple.groundtruth.shape == (4, 4) and apple.groundtruth.dtype == np.float64
    np.testing.assert_array_equal(apple.groundtruth[2], square_box(2))
    assert apple.load_frame(3).shape == (FRAME_H, FRAME_W, 3)

    single = discover_sequences(tmp_path / 'zebra')
    assert [sequence.name for sequence in single] == ['zebra']


@pytest.mark.parametrize('separator', ['\t', ' ', ','])
def test_otb_layout_with_any_separator(tmp_path, separator):
    write_frames(tmp_path / 'Basketball' / 'img', 3, '{:04d}.jpg')
    write_boxes(tmp_path / 'Basketball' / 'groundtruth_rect.txt', 3, separator)
    (sequence,) = discover_sequences(tmp_path)
    assert sequence.layout == 'otb' and sequence.name == 'Basketball'
    np.testing.assert_array_equal(sequence.groundtruth[1], square_box(1))


def test_got10k_layout_marks_absent_frames(tmp_path):
    folder = tmp_path / 'val' / 'GOT-10k_Val_000001'
    write_frames(folder, 4)
    write_boxes(folder / 'groundtruth.txt', 4)
    (folder / 'absence.label').write_text('0\n0\n1\n0\n')
    (folder / 'meta_info.ini').write_text('[METAINFO]\n')
    (tmp_path / 'val' / 'list.txt').write_text('GOT-10k_Val_000001\n')

    (sequence,) = discover_sequences(tmp_path / 'val')
    assert sequence.layout == 'got10k' and len(sequence) == 4
    assert np.isnan(sequence.groundtruth[2]).all()
    assert not np.isnan(sequence.groundtruth[[0, 1, 3]]).any()


def test_lasot_layout_groups_classes_and_marks_occlusion(tmp_path):
    for name in ('airplane-1', 'airplane-2'):
        folder = tmp_path / 'airplane' / name
        write_frames(folder / 'img', 5)
        write_boxes(folder / 'groundtruth.txt', 5)
        (folder / 'full_occlusion.txt').write_text('0,0,0,1,0')
        (folder / 'out_of_view.txt').write_text('0,1,0,0,0')
    make_simple_sequence(tmp_path / 'bird' / 'bird-3', 3)  # flag files are optional

    sequences = discover_sequences(tmp_path)
    assert [sequence.name for sequence in sequences] == ['airplane-1', 'airplane-2', 'bird-3']
    airplane = sequences[0]
    assert airplane.layout == 'lasot'
    assert np.isnan(airplane.groundtruth[[1, 3]]).all()
    assert not np.isnan(airplane.groundtruth[[0, 2, 4]]).any()


def test_frames_are_in_numeric_order_even_without_zero_padding(tmp_path):
    write_frames(tmp_path / 'img', 11, '{}.png')
    write_boxes(tmp_path / 'groundtruth.txt', 11)
    sequence = load_sequence(tmp_path)
    assert [path.name for path in sequence.frame_paths][8:] == ['9.png', '10.png', '11.png']


def test_sequence_selection_and_errors(tmp_path):
    for name in ('a', 'b', 'c'):
        make_simple_sequence(tmp_path / name, 3)
    selected = discover_sequences(tmp_path, ['c', 'a'])
    assert [sequence.name for sequence in selected] == ['c', 'a']
    with pytest.raises(DatasetError, match='unknown sequence.*nope.*available: a, b, c'):
        discover_sequences(tmp_path, ['nope'])
    with pytest.raises(DatasetError, match='not found'):
        discover_sequences(tmp_path / 'missing')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DatasetError, match='no tracking sequences'):
        discover_sequences(tmp_path / 'empty')


# --------------------------------------------------------------------------- runner


class ScriptedTracker:
    """Returns the ground truth shifted by a fixed offset; None on chosen frames."""

    def __init__(self, name: str, offset: float = 0.0, give_up_on: tuple[int, ...] = ()):
        self.name = name
        self.offset = offset
        self.give_up_on = give_up_on
        self.frame = 0
        self.updates = 0

    def init(self, image_bgr, box_xywh):
        """Restart the frame count."""
        self.frame = 0

    def update(self, image_bgr):
        """Return the scripted box of the next frame."""
        self.frame += 1
        self.updates += 1
        if self.frame in self.give_up_on:
            return None
        x, y, w, h = square_box(self.frame)
        return (x + self.offset, y, w, h)


def test_runner_writes_got10k_format_and_resumes_only_complete_results(tmp_path):
    folder = tmp_path / 'data' / 'GOT-10k_Test_000007'
    write_frames(folder, 5)
    write_boxes(folder / 'groundtruth.txt', 5)
    sequences = discover_sequences(tmp_path / 'data')
    tracker = ScriptedTracker('scripted', give_up_on=(3,))

    results = run_trackers([tracker], sequences, tmp_path / 'out', progress=False)
    name = 'GOT-10k_Test_000007'
    box_path = tmp_path / 'out' / 'scripted' / name / f'{name}_001.txt'
    time_path = box_path.with_name(f'{name}_time.txt')
    assert (box_path, time_path) == result_paths(tmp_path / 'out', 'scripted', sequences[0])
    lines = box_path.read_text().splitlines()
    assert len(lines) == 5 and len(time_path.read_text().split()) == 5
    assert [float(v) for v in lines[0].split(',')] == list(square_box(0))  # the init box
    assert lines[3] == 'nan,nan,nan,nan'  # the frame the tracker gave up on
    assert results['scripted']['GOT-10k_Test_000007'].fps > 0

    run_trackers([tracker], sequences, tmp_path / 'out', progress=False)
    assert tracker.updates == 4  # complete: loaded, not rerun

    box_path.write_text('\n'.join(lines[:3]) + '\n')  # as if cut short mid-write
    rerun = run_trackers([tracker], sequences, tmp_path / 'out', progress=False)
    assert tracker.updates == 8
    assert len(box_path.read_text().splitlines()) == 5
    assert not rerun['scripted']['GOT-10k_Test_000007'].resumed


def test_runner_rejects_duplicate_names(tmp_path):
    sequences = [load_sequence(make_simple_sequence(tmp_path / 'seq', 3))]
    with pytest.raises(ValueError, match='unique'):
        run_trackers([ScriptedTracker('x'), ScriptedTracker('x')], sequences, tmp_path / 'out',
                     progress=False)


def test_report_scores_trackers_and_stays_strict_json(tmp_path):
    sequence = load_sequence(make_simple_sequence(tmp_path / 'seq', 6))
    blind_folder = make_simple_sequence(tmp_path / 'blind', 3)
    # Only the first box given, as in test splits: it can be run but not scored.
    write_boxes(blind_folder / 'groundtruth.txt', 1)
    blind = load_sequence(blind_folder)
    trackers = [ScriptedTracker('exact'), ScriptedTracker('off-by-30', offset=30.0)]
    results = run_trackers(trackers, [sequence, blind], tmp_path / 'out', progress=False)
    report = build_report(results, [sequence, blind])

    exact = report['trackers']['exact']
    assert exact['overall']['auc'] == pytest.approx(1.0)
    assert exact['overall']['num_sequences'] == 1  # the blind sequence is not averaged in
    assert exact['sequences']['blind']['auc'] is None
    assert report['trackers']['off-by-30']['overall']['precision_20'] == 0.0
    write_json(report, tmp_path / 'results.json')  # raises on NaN
    table = format_table(report, per_sequence=True)
    assert 'exact' in table and 'off-by-30' in table and '  blind' in table


# --------------------------------------------------------------------------- trackers


class RecordingTracker:
    """Stands in for litetrack_ros.tracker.Tracker and keeps what it was given."""

    def initialize(self, image, box):
        """Keep the first image."""
        self.init_image = image

    def track(self, image):
        """Keep the image and return a fixed result."""
        class Result:
            box_xywh = (1.0, 2.0, 3.0, 4.0)
            confidence = 0.9
        self.track_image = image
        return Result()


def test_litetrack_adapter_feeds_rgb_to_the_tracker():
    recorder = RecordingTracker()
    adapter = LiteTrackAdapter(recorder, 'litetrack')
    bgr = draw_frame(0)
    adapter.init(bgr, (10, 24, 20, 20))
    assert adapter.update(bgr) == (1.0, 2.0, 3.0, 4.0)
    np.testing.assert_array_equal(recorder.init_image, bgr[..., ::-1])
    np.testing.assert_array_equal(recorder.track_image, bgr[..., ::-1])
    assert adapter.last_confidence == 0.9


def test_litetrack_without_weights_is_named_untrained_and_tracks(tmp_path):
    adapter = litetrack_tracker(device='cpu', precision='fp32')
    assert adapter.name == 'litetrack-untrained'
    sequences = [load_sequence(make_simple_sequence(tmp_path / 'seq', 3))]
    result = run_trackers([adapter], sequences, tmp_path / 'out', progress=False)
    boxes = result['litetrack-untrained']['seq'].boxes
    assert boxes.shape == (3, 4) and np.isfinite(boxes).all()


def test_untrained_small_variant_is_built_at_its_own_sizes():
    adapter = create_tracker('litetrack', variant='S4', device='cpu')
    assert (adapter.info.variant, adapter.info.search_size) == ('S4', 160)
    with pytest.raises(TrackerSetupError, match="'S4', 'S6'"):
        create_tracker('litetrack', variant='S5', device='cpu')
    damped = create_tracker('litetrack', variant='S4', device='cpu', size_update_rate='0.5')
    assert damped.name == 'litetrack-untrained-u0.5'
    with pytest.raises(TrackerSetupError, match='size_update_rate must be a number'):
        create_tracker('litetrack', variant='S4', device='cpu', size_update_rate='fast')


def test_tracker_factory_errors_are_clear(tmp_path):
    with pytest.raises(TrackerSetupError, match='NanoTrack backbone ONNX not found'):
        create_tracker('nano', backbone=str(tmp_path / 'b.onnx'), head=str(tmp_path / 'h.onnx'))
    with pytest.raises(TrackerSetupError, match='needs net'):
        create_tracker('vit')
    with pytest.raises(TrackerSetupError, match='does not take'):
        create_tracker('mil', weights='x')
    assert create_tracker('mil', name='mil-2').name == 'mil-2'


# --------------------------------------------------------------------------- command line


def test_cli_end_to_end_with_mil_and_resume(tmp_path, monkeypatch, capsys):
    dataset = tmp_path / 'data'
    make_simple_sequence(dataset / 'square', 8)
    make_simple_sequence(dataset / 'other', 4)
    out = tmp_path / 'out'
    argv = [str(dataset), '--sequences', 'square', '--tracker', 'mil', '--out', str(out),
            '--no-progress']

    calls = []
    real_run_sequence = runner.run_sequence

    def counting_run_sequence(tracker, sequence, *args, **kwargs):
        calls.append((tracker.name, sequence.name))
        return real_run_sequence(tracker, sequence, *args, **kwargs)

    monkeypatch.setattr(runner, 'run_sequence', counting_run_sequence)
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert 'mil' in printed and 'AUC' in printed
    assert calls == [('mil', 'square')]

    report = json.loads((out / 'results.json').read_text())
    assert report['sequences'] == ['square']
    overall = report['trackers']['mil']['overall']
    for key in ('auc', 'precision_20', 'norm_precision_20', 'mean_iou', 'ao', 'sr_50', 'sr_75',
                'fps', 'success_curve', 'precision_curve'):
        assert key in overall
    assert 0.0 <= overall['auc'] <= 1.0 and overall['fps'] > 0
    assert set(report['trackers']['mil']['sequences']) == {'square'}
    for plot in ('success.png', 'precision.png'):
        assert (out / plot).read_bytes()[:8] == PNG_SIGNATURE

    box_file = out / 'mil' / 'square.txt'
    rows = [line.split(',') for line in box_file.read_text().splitlines()]
    assert len(rows) == 8 and all(len(row) == 4 for row in rows)
    assert [float(value) for value in rows[0]] == list(square_box(0))
    assert len((out / 'mil' / 'square_time.txt').read_text().split()) == 8

    modified = box_file.stat().st_mtime_ns
    assert cli.main(argv) == 0
    assert calls == [('mil', 'square')]  # resumed: nothing rerun
    assert box_file.stat().st_mtime_ns == modified
    assert 'loaded from an earlier run' in capsys.readouterr().out

    assert cli.main(argv + ['--no-resume', '--max-frames', '3']) == 0
    assert calls[-1] == ('mil', 'square')
    assert len(box_file.read_text().splitlines()) == 3


@pytest.mark.parametrize('extra, message', [
    (['--tracker', 'vit:net=/nonexistent/vit.onnx'], 'VitTrack ONNX not found'),
    (['--tracker', 'nano:backbone=/nonexistent/b.onnx'], 'needs head'),
    (['--tracker', 'siamrpn'], 'unknown tracker'),
    (['--tracker', 'mil', '--tracker', 'mil'], 'two trackers are named mil'),
    (['--tracker', 'mil', '--sequences', 'nope'], 'unknown sequence'),
])
def test_cli_reports_bad_input_without_traceback(tmp_path, capsys, extra, message):
    make_simple_sequence(tmp_path / 'seq', 3)
    assert cli.main([str(tmp_path), '--out', str(tmp_path / 'out')] + extra) == 2
    stderr = capsys.readouterr().err
    assert message in stderr and 'Traceback' not in stderr


def test_cli_missing_dataset_exits_2(tmp_path, capsys):
    assert cli.main([str(tmp_path / 'nowhere'), '--tracker', 'mil']) == 2
    stderr = capsys.readouterr().err
    assert 'dataset folder not found' in stderr and 'Traceback' not in stderr


# --------------------------------------------------------------------------- reference figures


def run_cli_subprocess(tmp_path: Path, *args: str) -> dict:
    """Run litetrack-eval in a fresh process and return its results.json.

    A fresh process matters for MIL: part of its random state lives in OpenCV
    and survives between trackers, so in-process results depend on test order.
    """
    out = tmp_path / 'out'
    completed = subprocess.run(
        [sys.executable, '-m', 'litetrack_ros.evaluation.cli', str(SHARED_SEQUENCES),
         '--out', str(out), '--no-progress', *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads((out / 'results.json').read_text())


@pytest.mark.skipif(not SHARED_SEQUENCES.is_dir(), reason='../shared/data not available')
def test_mil_on_crossing_matches_reference(tmp_path):
    # About 120 frames of MIL at ~40 fps: a few seconds.
    report = run_cli_subprocess(tmp_path, '--sequences', 'crossing', '--tracker', 'mil')
    assert report['trackers']['mil']['sequences']['crossing']['auc'] == pytest.approx(
        0.16, abs=0.05)


@pytest.mark.skipif(not (PEERS / 'vitTracker_2023-09-08.onnx').is_file(),
                    reason='../shared/data/peers not available')
def test_nano_and_vit_match_reference(tmp_path):
    # Deterministic networks at a few hundred fps: about a second of tracking.
    report = run_cli_subprocess(
        tmp_path,
        '--tracker', f'nano:backbone={PEERS / "nanotrackv2_backbone_sim.onnx"},'
                     f'head={PEERS / "nanotrackv2_head_sim.onnx"}',
        '--tracker', f'vit:net={PEERS / "vitTracker_2023-09-08.onnx"}')
    reference = {('nano', 'bag'): 0.79, ('nano', 'crossing'): 0.76,
                 ('vit', 'bag'): 0.78, ('vit', 'crossing'): 0.15}
    for (tracker, sequence), auc in reference.items():
        measured = report['trackers'][tracker]['sequences'][sequence]['auc']
        assert measured == pytest.approx(auc, abs=0.02), (tracker, sequence)


def test_synthetic_validation_sequences_load_as_a_dataset(tmp_path):
    # tools/synthetic_sequences.py writes the held-out validation set of the default weights.
    tool = REPO_ROOT / 'tools' / 'synthetic_sequences.py'
    completed = subprocess.run([sys.executable, str(tool), str(tmp_path), '--count', '2',
                                '--frames', '4', '--size', '60,80'],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    sequences = discover_sequences(tmp_path)
    assert [s.name for s in sequences] == ['synthetic_10000', 'synthetic_10001']
    for sequence in sequences:
        assert len(sequence) == 4 and sequence.groundtruth.shape == (4, 4)
        assert sequence.load_frame(0).shape == (60, 80, 3)
        assert (sequence.groundtruth[:, 2:] > 0).all()
