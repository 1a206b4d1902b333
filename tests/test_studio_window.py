"""The studio window (pytest-qt, offscreen, silent audio clock): open, scrub, play, rate, export, errors.
The `window` fixture is in studio_fixtures.py."""
import os
import time

import numpy as np
from helpers import ROOT, make_atlas, make_session, write_json

os.environ["LIPSYNC_NO_AUDIO"] = "1"      # the silent clock: no sound card on CI
os.environ["LIPSYNC_NO_DIALOGS"] = "1"    # errors go to the status bar and last_error

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from widgets.main_window import MainWindow  # noqa: E402

WINDOW_SIZE = (1200, 800)
DEMO = ROOT / "assets_min" / "demo" / "session.json"


def open_demo(w, qtbot):
    assert w.open_session(DEMO)
    qtbot.waitUntil(lambda: w.preview.shown_frame == 0, timeout=5000)


def test_open_demo_shows_frame_lanes_and_sync(window, qtbot):
    open_demo(window, qtbot)
    assert "demo" in window.windowTitle()
    assert window.model.n_frames == 177
    assert "view" in window.readout.text() and "frame 0/176" in window.readout.text()
    qtbot.waitUntil(lambda: window.model.sync is not None, timeout=15000)
    assert window.qa.verdict.text().startswith("sync: ")
    assert window.transport.output_label.text() == "no audio" and "silent clock" in window.transport.output_label.toolTip()
    assert len(window.timeline.curves) == 6
    assert window.recent.items[0] == str(DEMO.resolve())


def test_scrub_renders_the_newest_position(window, qtbot):
    open_demo(window, qtbot)
    for s in (0.5, 1.0, 2.4, 3.1):               # a drag: many positions, the last one wins
        window.timeline.playheads[0].setValue(s)
        window.timeline._on_drag(window.timeline.playheads[0])
    qtbot.waitUntil(lambda: window.preview.shown_frame == 77, timeout=5000)
    assert window.model.frame == 77
    assert all(abs(p.value() - 3.08) < 1e-9 for p in window.timeline.playheads)  # snapped to the frame


def test_frame_keys_step_and_jump(window, qtbot):
    open_demo(window, qtbot)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.model.frame == 2
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert window.model.frame == 1
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert window.model.frame == 176
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert window.model.frame == 0


def test_play_follows_the_audio_clock_and_pause_holds(window, qtbot):
    open_demo(window, qtbot)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.playback.playing
    t0 = time.monotonic()
    qtbot.wait(600)
    frame = window.model.frame
    elapsed = time.monotonic() - t0
    assert 0.5 * elapsed * 25 < frame <= elapsed * 25 + 2
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.playback.playing
    held = window.model.frame
    qtbot.wait(200)
    assert window.model.frame == held
    stats = window.playback.drift.history[-1]
    assert stats["frames"] > 3 and stats["p95_ms"] < 200
    assert "drift mean" in window.status_drift.text()


def test_rate_change_slows_media_time(window, qtbot):
    open_demo(window, qtbot)
    window.set_rate(0.5)
    qtbot.waitUntil(lambda: window.playback.engine.get_transport_state().extensions["rate"] == 0.5, timeout=10000)
    assert window.transport.rate.currentText() == "0.5x"
    window.playback.play()
    t0 = time.monotonic()
    qtbot.wait(800)
    pos = window.playback.engine.position_seconds()
    rate = pos / (time.monotonic() - t0)
    window.playback.pause()
    assert 0.25 < rate < 0.75            # half speed (1x would be ~1.0); wide: a busy machine starts late


def test_playing_to_the_end_stops(window, qtbot):
    open_demo(window, qtbot)
    window.go_to_frame(170)
    window.playback.play()
    qtbot.waitUntil(lambda: not window.playback.playing, timeout=5000)
    assert window.model.frame == 176


def test_bad_session_keeps_the_window_and_the_open_session(window, qtbot, tmp_path):
    open_demo(window, qtbot)
    s = make_session(tmp_path / "bad", audio_ms=400)
    write_json(tmp_path / "bad" / "pose.json", [{"t_ms": 40}, {"t_ms": 0}])
    assert not window.open_session(s)
    assert "pose.json" in window.last_error and "sorted" in window.last_error
    assert window.model.project.session.session_id == "demo"     # nothing changed
    (tmp_path / "junk.json").write_text("{nope")
    assert not window.open_session(tmp_path / "junk.json")
    assert "not valid JSON" in window.last_error


def test_export_success_and_jump_to_fallback(window, qtbot, tmp_path):
    atlas = make_atlas(tmp_path / "at", expressions=())
    s = make_session(tmp_path / "s", atlas=atlas, audio_ms=800, expression=[{"t_ms": 200, "expression": "sad"}])
    assert window.open_session(s)
    dlg = window.export_dialog()
    dlg.out_edit.setText(str(tmp_path / "out"))
    dlg.start()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=20000)
    r = dlg.result.report
    assert r["rendered_frames"] == 20 and not r["passed"] and r["fallback_frames"] == 15
    assert "NOT PASSED" in dlg.status.text() and dlg.jump_button.isVisibleTo(dlg)
    dlg.jump_button.click()
    assert window.model.frame == 5
    assert len(list((tmp_path / "out" / "in" / "fg").glob("*.png"))) == 20


def test_export_cancel_keeps_previous_sequence(window, qtbot, tmp_path):
    open_demo(window, qtbot)
    out = tmp_path / "out"
    dlg = window.export_dialog()
    dlg.out_edit.setText(str(out))
    dlg.start()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=30000)
    before = sorted(p.name for p in (out / "in" / "fg").iterdir())
    stamp = (out / "run_report.json").read_text()
    dlg2 = window.export_dialog()
    dlg2.out_edit.setText(str(out))
    dlg2.start()
    qtbot.waitUntil(lambda: dlg2.bar.value() > 0, timeout=30000)
    dlg2.cancel_button.click()
    qtbot.waitUntil(lambda: dlg2.job is None or dlg2.result is not None, timeout=30000)
    if dlg2.result is None:
        assert "cancelled" in dlg2.status.text()
        assert sorted(p.name for p in (out / "in" / "fg").iterdir()) == before
        assert (out / "run_report.json").read_text() == stamp
    assert [p.name for p in (out / "in").iterdir()] == ["fg"]


def test_next_problem_navigation(window, qtbot, tmp_path):
    open_demo(window, qtbot)
    qtbot.waitUntil(lambda: window.model.sync is not None, timeout=15000)
    from studio.qa.sync import SyncReport
    rep = window.model.sync
    fake = SyncReport(rep.offset_ms, rep.confidence, rep.confident, "warn", rep.windows,
                      [[1000.0, 1400.0]], [[3000.0, 3400.0]], rep.timelines, rep.vowels, rep.policy)
    window.model.set_sync(fake)
    qtbot.keyClick(window, Qt.Key.Key_N)
    assert window.model.frame == 25
    qtbot.keyClick(window, Qt.Key.Key_N)
    assert window.model.frame == 75
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)
    assert window.model.frame == 25
    assert window.qa.problems.count() == 2


def test_preview_equals_export_frame(window, qtbot):
    open_demo(window, qtbot)
    window.go_to_frame(42)
    qtbot.waitUntil(lambda: window.preview.shown_frame == 42, timeout=5000)
    img = window.preview._image
    ptr = img.constBits()
    arr = np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine())[:, : img.width() * 4]
    assert np.array_equal(arr.reshape(img.height(), img.width(), 4), window.model.project.render_frame(42))


def test_layout_and_recent_files_are_remembered(qtbot, tmp_path):
    ini = str(tmp_path / "s.ini")
    w = MainWindow(QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.open_session(DEMO)
    w.resize(701, 503)  # within the offscreen screen, so the window manager does not clamp it
    w.close()
    w2 = MainWindow(QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(w2)
    assert w2.recent.items == [str(DEMO.resolve())]
    assert w2.menus.recent_menu.actions()[0].text() == str(DEMO.resolve())
    assert (w2.size().width(), w2.size().height()) == (701, 503)
    w2.close()


def test_shortcuts_dialog_lists_keys(window):
    window.show_shortcuts()
    t = window._shortcuts_box.table
    keys = [t.item(r, 0).text() for r in range(t.rowCount())]
    assert "Space" in keys and "Ctrl+E" in keys


def test_s15_export_says_what_it_does_before_its_first_frame_and_reuses_the_studios_score(window, qtbot, tmp_path,
                                                                                         monkeypatch):
    """An hour's export spent 11-15 s silent while it scored the sync for the report: the dialog says
    so, and the score's audio side comes from the disk cache the studio's own scoring filled."""
    from studio.qa import articulation
    open_demo(window, qtbot)
    qtbot.waitUntil(lambda: window.model.sync is not None, timeout=15000)   # the studio scored the WAV
    computed = []
    real = articulation._compute
    monkeypatch.setattr(articulation, "_compute", lambda *a, **k: computed.append(1) or real(*a, **k))
    articulation._CACHE.clear()                 # this process has not scored it: only the disk can answer
    dlg = window.export_dialog()
    dlg.out_edit.setText(str(tmp_path / "out"))
    seen = []
    dlg.relay.phase.connect(seen.append)
    dlg.start()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=30000)
    assert seen[0].startswith("Scoring the sync") and seen[1].startswith("Checking which frames")
    assert computed == [] and dlg.result.report["sync"]["verdict"] in ("pass", "warn", "fail")


def test_generate_progress_never_shows_a_full_bar_beside_aligning(window, qtbot):
    panel = window.align_panel
    panel.set_busy(True)
    panel.set_progress(50, 100)
    assert panel.bar.maximum() == 100 and panel.status.text() == "aligning…"
    panel.set_progress(100, 100)                     # features done; decoding has no count
    assert panel.bar.maximum() == 0 and panel.status.text() == "placing the mouth shapes…"
    panel.set_busy(False)
