"""Sessions of every length (SPEC §1, §9, §12): one frame, 0.3 ms, 255 ms, 1 s through every command
and the studio; an hour validates and scores in bounded memory."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile
from helpers import ROOT, make_atlas, make_session, run_cli

LENGTHS = [0.3, 40, 255, 1000]


def edge_session(folder, audio_ms):
    sr = 48000
    n = max(1, int(round(audio_ms * sr / 1000)))
    t = np.arange(n) / sr
    folder.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(folder / "a.wav"), (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), sr)
    atlas = make_atlas(folder / "at", views=("front",), expressions=())
    return make_session(folder, atlas=atlas, audio_ms=audio_ms, pose=[{"t_ms": 0, "roll_deg": 2}],
                        mouth=[{"t_ms": 0, "mouth_id": 1}, {"t_ms": 120, "mouth_id": 0}],
                        extra={"inputs": {"pose_timeline": "pose.json", "mouth_timeline": "mouth.json",
                                          "atlas_json": "at/atlas.min.json", "audio": "a.wav"}})


@pytest.mark.parametrize("audio_ms", LENGTHS)
def test_s1_s9_s12_every_command_on_short_sessions(tmp_path, audio_ms):
    s = edge_session(tmp_path / "s", audio_ms)
    frames = max(1, int(np.ceil(audio_ms / 40 - 1e-9)))
    v = run_cli("validate", s, "--json")
    assert v.returncode == 0, v.stderr
    assert json.loads(v.stdout)["target_frames"] == frames
    sc = run_cli("score", s, "--json")
    assert sc.returncode in (0, 3), sc.stderr
    rep = json.loads(sc.stdout)
    assert rep["verdict"] in ("pass", "warn", "fail")
    if audio_ms < 1000:   # the lag search shrinks to what the audio allows, and says so
        assert any("lag search" in n or "too short" in n for n in rep["notes"])
    ex = run_cli("export", s, "--out", tmp_path / "out")
    assert ex.returncode == 0, ex.stderr
    assert len(list((tmp_path / "out" / "in" / "fg").glob("*.png"))) == frames
    r = json.loads((tmp_path / "out" / "run_report.json").read_text())
    assert r["sync"] is not None and r["rendered_frames"] == frames and r["audio_ms"] == audio_ms


def test_s9_score_without_audio_is_exit_2_but_validate_passes_with_a_warning(tmp_path):
    s = make_session(tmp_path, audio_ms=400)
    v = run_cli("validate", s)
    assert v.returncode == 0 and "no audio file" in v.stdout
    sc = run_cli("score", s)
    assert sc.returncode == 2 and "nothing to score" in sc.stderr
    ex = run_cli("export", s, "--out", tmp_path / "out")
    assert ex.returncode == 0, ex.stderr


def test_s9_scoring_failure_never_blocks_an_export(tmp_path, monkeypatch):
    from studio.export.fg import ExportOptions, export_fg
    from studio.plan import open_project
    from studio.qa import sync

    def broken(*a, **k):
        raise RuntimeError("the scorer broke")
    monkeypatch.setattr(sync, "score_project", broken)
    p = open_project(edge_session(tmp_path / "s", 400))
    rep, note = sync.sync_for_report(p)
    assert rep is None and "the scorer broke" in note
    res = export_fg(p, ExportOptions(out_dir=tmp_path / "out"), sync=rep, sync_note=note)
    assert res.exit_code == 0 and res.report["sync"] is None
    assert any("sync scoring failed" in w for w in res.report["warnings"])


@pytest.mark.parametrize("audio_ms", [0.3, 255])
def test_studio_opens_plays_scrubs_and_exports_short_sessions(qtbot, tmp_path, audio_ms):
    os.environ["LIPSYNC_NO_AUDIO"] = "1"
    os.environ["LIPSYNC_NO_DIALOGS"] = "1"
    from PySide6.QtCore import QSettings, Qt

    from widgets.main_window import MainWindow
    s = edge_session(tmp_path / "s", audio_ms)
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    assert w.open_session(s), w.last_error
    qtbot.waitUntil(lambda: w.preview.shown_frame == 0, timeout=5000)
    qtbot.waitUntil(lambda: w.model.sync is not None, timeout=15000)
    qtbot.keyClick(w, Qt.Key.Key_Space)
    qtbot.wait(400)
    assert not w.playback.playing                      # it reached the end and stopped by itself
    qtbot.keyClick(w, Qt.Key.Key_End)
    assert w.model.frame == w.model.n_frames - 1
    w.timeline.playheads[0].setValue(5.0)              # a scrub past the end lands on the last frame
    w.timeline._on_drag(w.timeline.playheads[0])
    assert w.model.frame == w.model.n_frames - 1
    dlg = w.export_dialog()
    dlg.out_edit.setText(str(tmp_path / "out"))
    dlg.start()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=20000)
    assert dlg.result.report["rendered_frames"] == w.model.n_frames
    w.close()


HOUR_SCRIPT = """
import resource, sys, json
sys.path.insert(0, {root!r})
from studio.cli import main
code = main([{cmd!r}, {session!r}])
print(json.dumps({{"code": code, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


@pytest.fixture(scope="module")
def hour_session(tmp_path_factory):
    d = tmp_path_factory.mktemp("hour")
    sr = 16000
    with soundfile.SoundFile(str(d / "a.wav"), "w", sr, 1, "PCM_16") as f:
        rng = np.random.default_rng(0)
        for k in range(360):   # 10 s blocks: speech-like bursts
            t = np.arange(10 * sr) / sr
            burst = (np.sin(2 * np.pi * 3 * t) > 0).astype(np.float32)
            f.write((0.2 * burst * rng.standard_normal(10 * sr)).astype(np.float32))
    atlas = make_atlas(d / "at", views=("front", "left15", "right15"))
    pose = [{"t_ms": t, "yaw_deg": 8 * np.sin(t / 3000), "roll_deg": 1} for t in range(0, 3_600_000, 40)]
    mouth = {"step_ms": 40, "frames": [{"t_ms": t, "mouth_id": (t // 160) % 6} for t in range(0, 3_600_000, 40)]}
    return make_session(d, atlas=atlas, audio_ms=None, pose=pose, mouth=mouth,
                        extra={"inputs": {"pose_timeline": "pose.json", "mouth_timeline": "mouth.json",
                                          "atlas_json": "at/atlas.min.json", "audio": "a.wav"}})


@pytest.mark.parametrize("cmd", ["validate", "score"])
def test_s12_an_hour_validates_and_scores_under_1_gib(hour_session, cmd):
    res = subprocess.run([sys.executable, "-c", HOUR_SCRIPT.format(root=str(ROOT), cmd=cmd, session=str(hour_session))],
                         capture_output=True, text=True, timeout=300)
    last = json.loads(res.stdout.strip().splitlines()[-1])
    assert last["code"] in (0, 3), res.stderr
    assert last["peak_mb"] < 1024, last


def test_s9_score_names_the_missing_wav(tmp_path):
    s = make_session(tmp_path, audio_ms=400, extra={"inputs": {"pose_timeline": "pose.json", "audio": "gone.wav",
                                                               "atlas_json": "atlas/atlas.min.json"}})
    sc = run_cli("score", s)
    assert sc.returncode == 2 and "gone.wav" in sc.stderr and "nothing to score" in sc.stderr, sc.stderr
