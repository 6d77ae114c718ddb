# Copyright 2026 The litetrack_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Dataset discovery, runner, report and the litetrack-eval command, on generated data.

The last tests rerun OpenCV trackers on the shared sequences and compare with
reference figures; they are skipped when ``../shared`` is not there.
"""

import hashlib
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
    OpenCVTracker,
    TrackerSetupError,
)
from litetrack_ros.evaluation.datasets import DatasetError, discover_sequences, load_sequence
from litetrack_ros.evaluation.metrics import evaluate_sequence
from litetrack_ros.evaluation.report import build_report, format_table, write_json
from litetrack_ros.evaluation.runner import result_paths, run_trackers
from litetrack_ros.evaluation.settings import (
    settings_differences,
    SettingsMismatchError,
    tracker_settings,
)
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
    assert results['scripted']['GOT-10k_Test_000007'][0].fps > 0

    run_trackers([tracker], sequences, tmp_path / 'out', progress=False)
    assert tracker.updates == 4  # complete: loaded, not rerun

    box_path.write_text('\n'.join(lines[:3]) + '\n')  # as if cut short mid-write
    rerun = run_trackers([tracker], sequences, tmp_path / 'out', progress=False)
    assert tracker.updates == 8
    assert len(box_path.read_text().splitlines()) == 5
    assert not rerun['scripted']['GOT-10k_Test_000007'][0].resumed


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
    """Stands in for litetrack_ros.tracking.tracker.Tracker and keeps what it was given."""

    def initialize(self, image, box):
        """Keep the first image."""
        self.init_image = image

    def track(self, image):
        """Keep the image and return a fixed result."""
        class Result:
            box_xywh = (1.0, 2.0, 3.0, 4.0)
            confidence = 0.9
            lost = False
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
    assert adapter.last_lost is False


def test_litetrack_without_weights_is_named_untrained_and_tracks(tmp_path):
    adapter = litetrack_tracker(device='cpu', precision='fp32')
    assert adapter.name == 'litetrack-untrained'
    sequences = [load_sequence(make_simple_sequence(tmp_path / 'seq', 3))]
    result = run_trackers([adapter], sequences, tmp_path / 'out', progress=False)
    (run,) = result['litetrack-untrained']['seq']
    boxes = run.boxes
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
    assert 'mil (3 seeds)' in printed and 'AUC' in printed
    assert calls == [('mil', 'square')] * 3  # seeds 0, 1, 2

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

    box_file = out / 'mil' / 'seed0' / 'square.txt'
    rows = [line.split(',') for line in box_file.read_text().splitlines()]
    assert len(rows) == 8 and all(len(row) == 4 for row in rows)
    assert [float(value) for value in rows[0]] == list(square_box(0))
    assert len((out / 'mil' / 'seed0' / 'square_time.txt').read_text().split()) == 8
    assert (out / 'mil' / 'seed2' / 'square.txt').is_file()

    modified = box_file.stat().st_mtime_ns
    assert cli.main(argv) == 0
    assert len(calls) == 3  # resumed: nothing rerun
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


# --------------------------------------------------------------------------- evaluation integrity


class SeededTracker(ScriptedTracker):
    """A 'random' tracker whose offset is its seed: seed s is off by 10 * s pixels."""

    def __init__(self, name: str, seeds=(0, 1, 2)):
        super().__init__(name)
        self.seeds = tuple(seeds)
        self.seen_seeds = []

    def set_seed(self, seed):
        """Take the seed of the next run."""
        self.offset = 10.0 * seed
        self.seen_seeds.append(seed)


class ClockTracker(ScriptedTracker):
    """Advances a fake clock by scripted seconds: one script per sequence, init first."""

    def __init__(self, name: str, clock: list[float], scripts: list[list[float]]):
        super().__init__(name)
        self.clock, self.scripts, self.script = clock, list(scripts), []

    def init(self, image_bgr, box_xywh):
        """Start the next sequence's script."""
        super().init(image_bgr, box_xywh)
        self.script = list(self.scripts.pop(0))
        self.clock[0] += self.script.pop(0)

    def update(self, image_bgr):
        """Take the scripted time."""
        self.clock[0] += self.script.pop(0)
        return super().update(image_bgr)


def test_fps_is_one_over_the_median_update_time(tmp_path, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(runner, 'perf_counter', lambda: clock[0])
    sequences = [load_sequence(make_simple_sequence(tmp_path / 'seq0', 6)),
                 load_sequence(make_simple_sequence(tmp_path / 'seq1', 4))]
    # Init 5 s (not counted), then one very slow frame that a total-time figure would follow.
    scripts = [[5.0, 0.01, 0.01, 0.01, 0.01, 2.0], [5.0, 0.02, 0.02, 0.02]]
    tracker = ClockTracker('clocked', clock, scripts)
    results = run_trackers([tracker], sequences, tmp_path / 'out', progress=False)
    assert results['clocked']['seq0'][0].fps == pytest.approx(100.0)  # not 5 / 2.04 s
    report = build_report(results, sequences)
    entry = report['trackers']['clocked']
    assert entry['sequences']['seq0']['fps'] == pytest.approx(100.0)
    assert entry['sequences']['seq1']['fps'] == pytest.approx(50.0)
    # Overall: the median of all 8 update times (4 x 10 ms, 3 x 20 ms, 2 s), not a mean of fps.
    assert entry['overall']['fps'] == pytest.approx(1 / 0.015)
    assert entry['overall']['update_ms_median'] == pytest.approx(15.0)
    # Resumed results give the same figure from the stored times.
    monkeypatch.setattr(runner, 'perf_counter', lambda: pytest.fail('rerun instead of resumed'))
    resumed = run_trackers([tracker], sequences, tmp_path / 'out', progress=False)
    assert build_report(resumed, sequences)['trackers']['clocked']['overall']['fps'] == (
        pytest.approx(1 / 0.015))


def test_seeded_tracker_reports_mean_and_spread_over_seeds(tmp_path):
    sequence = load_sequence(make_simple_sequence(tmp_path / 'seq', 6))
    tracker = SeededTracker('random')
    results = run_trackers([tracker, ScriptedTracker('exact')], [sequence], tmp_path / 'out',
                           progress=False)
    assert tracker.seen_seeds == [0, 1, 2]
    assert [run.seed for run in results['random']['seq']] == [0, 1, 2]
    for seed in (0, 1, 2):
        assert (tmp_path / 'out' / 'random' / f'seed{seed}' / 'seq.txt').is_file()
    report = build_report(results, [sequence])
    overall = report['trackers']['random']['overall']
    # Offsets 0, 10 and 20 px on a 20 px square.
    per_seed = [evaluate_sequence(run.boxes, sequence.groundtruth).auc
                for run in results['random']['seq']]
    assert per_seed[0] == pytest.approx(1.0) and per_seed[2] < per_seed[1] < 1.0
    assert overall['auc'] == pytest.approx(np.mean(per_seed))
    assert overall['auc_std'] == pytest.approx(np.std(per_seed, ddof=1))
    assert overall['seeds'] == [0, 1, 2]
    assert [run['auc'] for run in overall['runs']] == pytest.approx(per_seed)
    assert report['trackers']['random']['sequences']['seq']['auc_std'] == pytest.approx(
        np.std(per_seed, ddof=1))
    assert 'auc_std' not in report['trackers']['exact']['overall']  # deterministic: one run
    write_json(report, tmp_path / 'results.json')
    table = format_table(report)
    assert f'{np.mean(per_seed):.3f}+-{np.std(per_seed, ddof=1):.3f}' in table
    assert 'random (3 seeds)' in table

    # More seeds later: the stored ones are reused, only the new one runs.
    more = SeededTracker('random', seeds=(0, 1, 2, 3))
    rerun = run_trackers([more], [sequence], tmp_path / 'out', progress=False)
    assert more.seen_seeds == [3]
    assert [run.resumed for run in rerun['random']['seq']] == [True, True, True, False]


def test_mil_takes_seeds_and_seeds_opencv_before_every_init(monkeypatch):
    assert create_tracker('mil').seeds == (0, 1, 2)
    mil = create_tracker('mil', seeds='5')
    assert mil.seeds == (0, 1, 2, 3, 4)
    assert tracker_settings(mil) == {'kind': 'mil', 'seeds': [0, 1, 2, 3, 4]}
    with pytest.raises(TrackerSetupError, match='seeds >= 1'):
        create_tracker('mil', seeds='0')
    with pytest.raises(TrackerSetupError, match='seeds must be a number'):
        create_tracker('mil', seeds='many')
    seeded = []
    monkeypatch.setattr(cv2, 'setRNGSeed', seeded.append)
    mil.set_seed(3)
    mil.init(draw_frame(0), square_box(0))
    mil.set_seed(1)
    mil.init(draw_frame(0), square_box(0))
    assert seeded == [3, 1]


class FakeOpenCVTracker:
    """Stands in for a cv2.Tracker."""

    def init(self, image, rect):
        """Accept anything."""

    def update(self, image):
        """Report the target lost."""
        return False, (0, 0, 0, 0)


def test_opencv_warnings_are_muted_while_a_tracker_is_created():
    logging = cv2.utils.logging
    levels = []

    def factory():
        levels.append(logging.getLogLevel())
        return FakeOpenCVTracker()

    before = logging.getLogLevel()
    tracker = OpenCVTracker('fake', factory)
    tracker.init(draw_frame(0), square_box(0))
    tracker.init(draw_frame(0), square_box(0))
    # Warnings (the default level) muted, errors kept; a quieter setting stays as it was.
    assert levels == [min(before, logging.LOG_LEVEL_ERROR)] * 2
    assert logging.getLogLevel() == before  # restored
    assert tracker.update(draw_frame(1)) is None


def test_settings_record_litetrack_fields_and_the_weights_hash(tmp_path):
    from litetrack_ros.tracking.runtime import TrackerInfo

    weights = tmp_path / 'w.safetensors'
    weights.write_bytes(b'not really weights')
    info = TrackerInfo(weights=str(weights), variant='B6', device='cpu', precision='bf16',
                       search_size=192, parameters=123)

    class RateTracker(RecordingTracker):
        size_update_rate = 0.25

    settings = tracker_settings(LiteTrackAdapter(RateTracker(), 'lt', info))
    assert settings == {
        'kind': 'litetrack', 'weights': str(weights),
        'weights_sha256': hashlib.sha256(b'not really weights').hexdigest()[:16],
        'variant': 'B6', 'device': 'cpu', 'precision': 'bf16', 'search_size': 192,
        'parameters': 123, 'precision_reason': 'requested', 'compile': 'off',
        'compile_message': '', 'size_update_rate': 0.25}
    # The path is recorded; the hash is what is compared.
    moved = dict(settings, weights='/elsewhere/w.safetensors')
    assert settings_differences(settings, moved) == []
    # The compile line holds its timing and the reason only says why: neither refuses resume.
    recompiled = dict(settings, compile_message='compiled template and search steps in 31.0 s',
                      precision_reason='auto: native bf16 matmul (amx_bf16)')
    assert settings_differences(settings, recompiled) == []
    assert settings_differences(settings, dict(settings, compile='compiled')) == [
        "compile: stored 'off', now 'compiled'"]
    retrained = dict(settings, weights_sha256='0' * 16)
    assert settings_differences(settings, retrained) == [
        f"weights_sha256: stored {settings['weights_sha256']!r}, now {'0' * 16!r}"]

    untrained = tracker_settings(create_tracker('litetrack', variant='S4', device='cpu',
                                                size_update_rate='0.5'))
    assert untrained['weights'] == 'UNTRAINED' and untrained['weights_sha256'] is None
    # 'auto' precision: whatever this CPU gets (bf16 only with native bf16 matmul).
    from litetrack_ros.model.config import SMALL_VARIANTS
    from litetrack_ros.tracking.runtime import resolve_precision
    assert (untrained['variant'], untrained['device'], untrained['precision'],
            untrained['search_size'], untrained['size_update_rate']) == (
        'S4', 'cpu', resolve_precision('auto', 'cpu', config=SMALL_VARIANTS['S4']), 160, 0.5)
    assert untrained['precision_reason'].startswith('auto: ')


def test_resume_refuses_results_of_other_settings_and_reuses_identical_ones(tmp_path, capsys):
    dataset = tmp_path / 'data'
    make_simple_sequence(dataset / 'square', 4)
    out = tmp_path / 'out'

    def run(rate: str, *extra: str) -> int:
        return cli.main([str(dataset), '--out', str(out), '--no-progress', '--tracker',
                         f'litetrack:variant=S4,device=cpu,size_update_rate={rate},name=lt',
                         *extra])

    assert run('0.5') == 0
    stored = json.loads((out / 'lt' / 'settings.json').read_text())
    assert stored['size_update_rate'] == 0.5 and stored['variant'] == 'S4'
    report = json.loads((out / 'results.json').read_text())
    assert report['trackers']['lt']['settings'] == stored
    assert report['environment']['opencv'] == cv2.__version__
    assert report['environment']['torch'] and report['environment']['cpu']
    box_file = out / 'lt' / 'square.txt'
    modified = box_file.stat().st_mtime_ns
    capsys.readouterr()

    assert run('0.5') == 0  # the same settings: reused
    assert 'loaded from an earlier run' in capsys.readouterr().out
    assert box_file.stat().st_mtime_ns == modified

    for extra in ((), ('--no-resume',)):  # --no-resume would leave other sequences stale
        assert run('0.25', *extra) == 2
        stderr = capsys.readouterr().err
        assert 'size_update_rate: stored 0.5, now 0.25' in stderr
        assert 'name=' in stderr and '--out' in stderr and '--overwrite' in stderr
        assert 'Traceback' not in stderr
        assert box_file.stat().st_mtime_ns == modified  # nothing touched
        assert json.loads((out / 'lt' / 'settings.json').read_text()) == stored

    assert run('0.25', '--overwrite') == 0
    assert json.loads((out / 'lt' / 'settings.json').read_text())['size_update_rate'] == 0.25
    assert 'loaded from an earlier run' not in capsys.readouterr().out


def test_resume_refuses_a_folder_without_settings_and_bad_names(tmp_path, capsys):
    sequences = [load_sequence(make_simple_sequence(tmp_path / 'seq', 3))]
    legacy = tmp_path / 'out' / 'old'
    legacy.mkdir(parents=True)
    (legacy / 'seq.txt').write_text('1,2,3,4\n')  # results from before settings.json
    with pytest.raises(SettingsMismatchError, match='no readable settings.json'):
        run_trackers([ScriptedTracker('old')], sequences, tmp_path / 'out', progress=False)
    assert (legacy / 'seq.txt').read_text() == '1,2,3,4\n'
    other = ScriptedTracker('other')
    other.settings = {'threshold': 0.5}
    run_trackers([other], sequences, tmp_path / 'out', progress=False)
    other.settings = {'threshold': 0.7}
    with pytest.raises(SettingsMismatchError, match='threshold: stored 0.5, now 0.7'):
        run_trackers([other], sequences, tmp_path / 'out', progress=False)
    with pytest.raises(ValueError, match='cannot be a folder name'):
        run_trackers([ScriptedTracker('../up')], sequences, tmp_path / 'out', progress=False)
    assert cli.main([str(tmp_path / 'seq'), '--out', str(tmp_path / 'out'),
                     '--tracker', 'mil:name=..']) == 2
    assert 'cannot be a folder name' in capsys.readouterr().err


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
    # OpenCV 5's DNN trackers warn about it on every creation unless muted.
    assert 'setPreferableTarget' not in completed.stderr
    return json.loads((out / 'results.json').read_text())


@pytest.mark.skipif(not SHARED_SEQUENCES.is_dir(), reason='../shared/data not available')
def test_mil_on_crossing_matches_reference(tmp_path):
    # About 120 frames of MIL at ~40 fps: a few seconds.
    # Seeds 0, 1, 2 (the default); seed 0 is the run the reference figure was made with.
    report = run_cli_subprocess(tmp_path, '--sequences', 'crossing', '--tracker', 'mil')
    crossing = report['trackers']['mil']['sequences']['crossing']
    runs = [run['auc'] for run in crossing['runs']]
    assert [run['seed'] for run in crossing['runs']] == [0, 1, 2]
    assert runs[0] == pytest.approx(0.16, abs=0.05)
    assert crossing['auc'] == pytest.approx(np.mean(runs))
    assert crossing['auc_std'] == pytest.approx(np.std(runs, ddof=1))


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
