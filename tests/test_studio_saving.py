"""Saving in the studio (issue 17, SPEC §15), driven by keys and clicks: Ctrl+S writes on a worker
thread and edits made meanwhile stay unsaved; a failed save changes nothing; closing waits for a
running save; Save As keeps the working state (defect 6); discarded recovered edits never come back
(defect 7); a bad file is reported before anything is asked (defect 16); a save on a
one-event-per-line track writes the edit alone. pytest-qt, offscreen."""
import json
import os
import shutil
import threading

import pytest
from helpers import ROOT

os.environ["LIPSYNC_NO_AUDIO"] = "1"
os.environ["LIPSYNC_NO_DIALOGS"] = "1"

from PySide6.QtCore import QEvent, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import contracts.journal  # noqa: E402
import widgets.flows.saving as saving_flows  # noqa: E402
from studio.io.recovery import Recovery  # noqa: E402
from studio_fixtures import lane_point  # noqa: E402
from test_faithful_saving import changed_lines  # noqa: E402
from widgets.main_window import MainWindow  # noqa: E402

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def open_zoomed(w, qtbot, session, t0=2.0, t1=3.0):
    assert w.open_session(session), w.last_error
    qtbot.waitUntil(lambda: w.preview.shown_frame == 0, timeout=5000)
    w.timeline.show_range(t0, t1)
    qtbot.wait(50)


def set_mouth(w, t, key):
    """Click the mouth event at t seconds and press a digit, as an animator does."""
    QTest.mouseClick(w.timeline.lane_widget("mouth").viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, lane_point(w, "mouth", t))
    w.timeline.setFocus()
    QTest.keyClick(w.timeline, key)


def double_click(w, kind, t):
    """What a real double click delivers: press, release, double-click, release."""
    vp, p, b, none = w.timeline.lane_widget(kind).viewport(), lane_point(w, kind, t), Qt.MouseButton.LeftButton, \
        Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(vp, b, none, p)
    QApplication.sendEvent(vp, QMouseEvent(QEvent.Type.MouseButtonDblClick, QPointF(p), vp.mapToGlobal(QPointF(p)),
                                           b, b, none))
    QTest.mouseRelease(vp, b, none, p)


def saved(w, qtbot):
    qtbot.waitUntil(lambda: w.files.saving.running is None, timeout=15000)


@pytest.fixture()
def gate(monkeypatch):
    """Saves wait at the gate until the test opens it: a long save, on demand."""
    opened = threading.Event()
    real = saving_flows.write_timelines
    monkeypatch.setattr(saving_flows, "write_timelines", lambda req: (opened.wait(20), real(req))[1])
    yield opened
    opened.set()


def test_s15_ctrl_s_saves_on_a_worker_and_edits_made_meanwhile_stay_unsaved(window, qtbot, demo, gate):
    open_zoomed(window, qtbot, demo)
    set_mouth(window, 2.42, Qt.Key.Key_3)
    snapshot = window.model.editor.docs["mouth"]
    QTest.keyClick(window, Qt.Key.Key_S, CTRL)
    assert window.files.saving.running is not None and window.statusBar().currentMessage() == "saving…"
    set_mouth(window, 2.62, Qt.Key.Key_5)             # the interface answers while it writes
    assert window.model.project.plan.mouth[window.model.frame_at(2.62)] == 5
    gate.set()
    saved(window, qtbot)
    on_disk = json.loads((demo.parent / "mouth_timeline.json").read_text())
    assert on_disk == snapshot                       # what was there when Ctrl+S was pressed
    assert window.model.dirty and "*" in window.windowTitle()
    QTest.keyClick(window, Qt.Key.Key_Z, CTRL)        # undo the later edit: back at the saved point
    assert not window.model.dirty and "*" not in window.windowTitle()
    QTest.keyClick(window, Qt.Key.Key_Z, CTRL | SHIFT)
    gate.clear()
    QTest.keyClick(window, Qt.Key.Key_S, CTRL)
    set_mouth(window, 2.82, Qt.Key.Key_1)
    QTest.keyClick(window, Qt.Key.Key_S, CTRL)        # Ctrl+S during a save: the newer edits are saved next
    gate.set()
    saved(window, qtbot)
    assert json.loads((demo.parent / "mouth_timeline.json").read_text()) == window.model.editor.docs["mouth"]
    assert not window.model.dirty and "*" not in window.windowTitle()


def test_s15_a_failed_save_reports_one_sentence_and_changes_nothing(window, qtbot, demo, monkeypatch):
    open_zoomed(window, qtbot, demo)
    set_mouth(window, 2.42, Qt.Key.Key_3)
    window.shift_timeline("expression", 40)
    files = {p.name: p.read_bytes() for p in demo.parent.iterdir() if p.suffix == ".json"}
    real, calls = contracts.journal.write_temp, []

    def disk_full(target, data, mode, temp=None):
        calls.append(target)
        if len(calls) == 2:                          # the second of the two files: the disk is full
            raise OSError(28, "No space left on device", str(temp))
        return real(target, data, mode, temp=temp)
    monkeypatch.setattr(contracts.journal, "write_temp", disk_full)
    QTest.keyClick(window, Qt.Key.Key_S, CTRL)
    saved(window, qtbot)
    msg = window.last_error
    assert msg.startswith("saving failed, nothing was changed on disk: cannot write ") and msg.count(".") <= 3
    assert msg.endswith(": no space left on device.") and ".save.tmp" not in msg and len(msg) <= 400
    assert {p.name: p.read_bytes() for p in demo.parent.iterdir() if p.suffix == ".json"} == files
    assert not [p for p in demo.parent.iterdir() if p.name.endswith((".tmp", ".save-journal"))]
    assert window.model.dirty and "*" in window.windowTitle()


def test_s15_closing_waits_for_a_running_save_and_save_and_quit_saves(qtbot, tmp_path, demo, gate, monkeypatch):
    monkeypatch.setenv("LIPSYNC_STATE_DIR", str(tmp_path / "state"))
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    open_zoomed(w, qtbot, demo)
    set_mouth(w, 2.42, Qt.Key.Key_3)
    w.autosave()
    QTest.keyClick(w, Qt.Key.Key_S, CTRL)
    QTest.keyClick(w, Qt.Key.Key_Q, CTRL)             # quit while it writes
    assert w.isVisible() and "closes when it is done" in w.statusBar().currentMessage()
    gate.set()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=15000)
    assert json.loads((demo.parent / "mouth_timeline.json").read_text()) == w.model.editor.docs["mouth"]
    assert Recovery().entries() == []
    # unsaved edits and Quit: the prompt's Save writes them, then the window closes
    w2 = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w2)
    w2.show()
    open_zoomed(w2, qtbot, demo)
    set_mouth(w2, 2.62, Qt.Key.Key_4)
    monkeypatch.setattr(w2, "ask_unsaved", lambda: "save")
    QTest.keyClick(w2, Qt.Key.Key_Q, CTRL)
    qtbot.waitUntil(lambda: not w2.isVisible(), timeout=15000)
    assert json.loads((demo.parent / "mouth_timeline.json").read_text()) == w2.model.editor.docs["mouth"]


def test_s15_defect_6_save_as_keeps_undo_view_playhead_markers_and_the_aligners_text(window, qtbot, demo, tmp_path,
                                                                                 monkeypatch):
    open_zoomed(window, qtbot, demo)
    set_mouth(window, 2.42, Qt.Key.Key_3)
    for _ in range(3):
        QTest.keyClick(window, Qt.Key.Key_Right)     # the playhead moves three frames
    QTest.keyClick(window, Qt.Key.Key_B, CTRL)        # a marker there
    window.align_panel.text.setFocus()
    QTest.keyClick(window.align_panel.text, Qt.Key.Key_A, CTRL)
    QTest.keyClicks(window.align_panel.text, "hello there")
    window.align_panel.lang.setFocus()
    QTest.keyClick(window.align_panel.lang, Qt.Key.Key_Down)   # English
    window.timeline.setFocus()
    frame, view, markers = window.model.frame, window.timeline.visible_range(), list(window.model.markers)
    assert frame == 3 and markers and window.align_panel.lang.currentData() == "en"
    new = tmp_path / "elsewhere" / "renamed.json"
    monkeypatch.setattr("widgets.flows.files.QFileDialog.getSaveFileName", lambda *a, **k: (str(new), ""))
    QTest.keyClick(window, Qt.Key.Key_S, CTRL | SHIFT)
    saved(window, qtbot)
    assert window.model.project.session.path == new and "renamed.json" in window.windowTitle()
    assert not window.model.dirty and "*" not in window.windowTitle()
    assert window.model.frame == frame and window.timeline.visible_range() == pytest.approx(view)
    assert window.model.markers == markers and window.align_panel.text.toPlainText() == "hello there"
    assert window.align_panel.lang.currentData() == "en"
    s = window.settings
    assert s.value(f"align_text/{new}") == "hello there" and [float(m) for m in s.value(f"markers/{new}")] == markers
    mouth = json.loads((new.parent / "mouth_timeline.json").read_text())
    assert (new.parent / mouth["audio"]).resolve() == (demo.parent / "demo.wav").resolve()   # still the same WAV
    assert mouth["frames"] == window.model.editor.docs["mouth"]["frames"]
    original = (demo.parent / "mouth_timeline.json").read_bytes()
    QTest.keyClick(window, Qt.Key.Key_Z, CTRL)        # the edit made before Save As is undone
    assert window.model.dirty and window.windowTitle().startswith("Lip-sync Studio — *")
    QTest.keyClick(window, Qt.Key.Key_S, CTRL)        # and saving writes the new place, not the old one
    saved(window, qtbot)
    assert (demo.parent / "mouth_timeline.json").read_bytes() == original
    assert json.loads((new.parent / "mouth_timeline.json").read_text())["audio"] == mouth["audio"]
    assert changed_lines(original, (new.parent / "mouth_timeline.json").read_bytes()) == \
        ([' "audio": "demo.wav",'], [f' "audio": "{mouth["audio"]}",'])


def _window(qtbot, tmp_path):
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()                                # shortcuts go to the active window
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    return w


def test_defect_7_discarded_recovered_edits_never_come_back(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LIPSYNC_STATE_DIR", str(tmp_path / "state"))
    demo = one_event_per_line(tmp_path)
    other = tmp_path / "other"
    shutil.copytree(demo.parent, other)
    crashed = _window(qtbot, tmp_path)
    open_zoomed(crashed, qtbot, demo)
    set_mouth(crashed, 2.42, Qt.Key.Key_3)
    crashed.autosave()                                # the 20 s timer; then the process dies
    crashed.hide()
    asked = []
    w = _window(qtbot, tmp_path)                      # a real crash: the next start offers the edits
    monkeypatch.setattr(w, "ask_recover", lambda session: asked.append(session) or True)
    assert w.offer_recovery() and asked == [demo] and w.model.dirty
    # open another session, Discard the recovered edits, quit cleanly
    monkeypatch.setattr("widgets.flows.files.QFileDialog.getOpenFileName",
                        lambda *a, **k: (str(other / "session.json"), ""))
    monkeypatch.setattr(w, "ask_unsaved", lambda: "discard")
    QTest.keyClick(w, Qt.Key.Key_O, CTRL)                # read in the background, then shown
    qtbot.waitUntil(lambda: w.model.project.session.path == other / "session.json", timeout=10000)
    QTest.keyClick(w, Qt.Key.Key_Q, CTRL)
    assert not w.isVisible()
    nxt = _window(qtbot, tmp_path)                   # the next start, on any session: nothing offered
    monkeypatch.setattr(nxt, "ask_recover", lambda session: asked.append(session) or True)
    assert not nxt.offer_recovery() and asked == [demo] and Recovery().entries() == []
    # recovered, then saved: gone too; recovered, declined at the prompt: gone
    crashed.autosave()
    monkeypatch.setattr(nxt, "ask_recover", lambda session: True)
    assert nxt.offer_recovery()
    QTest.keyClick(nxt, Qt.Key.Key_S, CTRL)
    saved(nxt, qtbot)
    assert Recovery().entries() == []
    crashed.autosave()
    monkeypatch.setattr(nxt, "ask_recover", lambda session: False)
    assert not nxt.offer_recovery() and Recovery().entries() == []
    crashed.model.editor.mark_saved()


def test_s11_defect_16_a_bad_file_is_reported_whole_before_anything_is_asked(window, qtbot, demo, tmp_path,
                                                                            monkeypatch):
    open_zoomed(window, qtbot, demo)
    set_mouth(window, 2.42, Qt.Key.Key_3)
    bad = tmp_path / "truncated.json"
    bad.write_text('{\n  "schema_version": "runtime_session_v0.1",\n  "session_id": "cut off')
    asked = []
    monkeypatch.setattr(window, "ask_unsaved", lambda: asked.append(1) or "cancel")
    monkeypatch.setattr("widgets.flows.files.QFileDialog.getOpenFileName", lambda *a, **k: (str(bad), ""))
    QTest.keyClick(window, Qt.Key.Key_O, CTRL)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10000)    # read in the background
    assert asked == []                                # nothing is lost, so nothing is asked
    assert window.last_error.endswith("truncated.json: the session is not valid JSON: unterminated string "
                                      "starting at line 3 column 17.")
    assert window.model.project.session.path == demo and window.model.dirty
    monkeypatch.setattr("widgets.flows.files.QFileDialog.getOpenFileName", lambda *a, **k: (str(demo), ""))
    QTest.keyClick(window, Qt.Key.Key_O, CTRL)        # a good file: now the edits are asked about
    qtbot.waitUntil(lambda: asked == [1], timeout=10000)
    assert window.model.dirty


def one_event_per_line(tmp_path, name="dense"):
    """A mouth track in the one-event-per-line layout — an event per 40 ms frame up to 3 s (production
    density), one per 200 ms after — and a session around it."""
    d = tmp_path / name
    d.mkdir()
    times = [*range(0, 3000, 40), *range(3000, 6000, 200)]
    lines = ",\n".join(f'    {{"t_ms": {t}, "mouth_id": {[0, 1, 2, 3, 4, 5, 1, 4][(t // 40) % 8]}}}' for t in times)
    (d / "mouth.json").write_text('{\n  "step_ms": 40,\n  "frames": [\n' + lines + "\n  ]\n}\n")
    shutil.copy(ROOT / "assets_min" / "demo" / "pose_timeline.json", d / "pose.json")
    (d / "session.json").write_text(json.dumps({
        "schema_version": "runtime_session_v0.1", "session_id": name, "audio_ms": 6000, "step_ms": 40,
        "inputs": {"pose_timeline": "pose.json", "mouth_timeline": "mouth.json",
                   "atlas_json": str(ROOT / "assets_min" / "atlas.min.json")}}))
    return d / "session.json"


def test_s15_saving_a_one_event_per_line_track_writes_the_edit_alone_also_an_insert(window, qtbot, tmp_path):
    session = one_event_per_line(tmp_path)
    mouth = session.parent / "mouth.json"
    open_zoomed(window, qtbot, session, 1.0, 2.0)
    before = mouth.read_bytes()
    set_mouth(window, 1.22, Qt.Key.Key_0)              # the event at 1200 ms, an 'a'
    QTest.keyClick(window, Qt.Key.Key_S, CTRL)
    saved(window, qtbot)
    assert changed_lines(before, mouth.read_bytes()) == \
        (['    {"t_ms": 1200, "mouth_id": 1},'], ['    {"t_ms": 1200, "mouth_id": 0},'])
    before = mouth.read_bytes()
    window.timeline.show_range(3.0, 4.0)
    qtbot.wait(50)
    double_click(window, "mouth", 3.49)               # the frame 3480–3520, between the events at 3400 and 3600 ms
    assert window.model.editor.undo_name == "insert a at 3480 ms"
    QTest.keyClick(window, Qt.Key.Key_S, CTRL)
    saved(window, qtbot)
    assert changed_lines(before, mouth.read_bytes()) == \
        ([], ['    {"t_ms": 3480, "mouth_id": 1},',      # t_ms first, as the file has it; one frame only:
              '    {"t_ms": 3520, "mouth_id": 5},'])     # the event in force there goes on after it


@pytest.fixture()
def stop_signals_restored():
    import signal
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    yield
    signal.set_wakeup_fd(-1)
    for s, handler in before.items():
        signal.signal(s, handler)


def test_s12_sigterm_keeps_unsaved_edits_for_the_next_start_and_closes_without_asking(
        qtbot, tmp_path, monkeypatch, stop_signals_restored):
    """Logout or a process manager sends SIGTERM: no prompt can be answered, so the unsaved edit goes
    to the recovery file, the window closes, and the next start offers the edit back."""
    import signal

    from widgets.app import stop_on_signals
    monkeypatch.setenv("LIPSYNC_STATE_DIR", str(tmp_path / "state"))
    demo = one_event_per_line(tmp_path)
    w = _window(qtbot, tmp_path)
    open_zoomed(w, qtbot, demo)
    set_mouth(w, 2.42, Qt.Key.Key_3)
    asked = []
    monkeypatch.setattr(w, "ask_unsaved", lambda: asked.append("asked") or "cancel")
    received = stop_on_signals(w)
    os.kill(os.getpid(), signal.SIGTERM)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=10000)
    assert received == [signal.SIGTERM] and asked == []
    assert [e["session"] for e in Recovery().entries()] == [str(demo)]
    nxt = _window(qtbot, tmp_path)
    monkeypatch.setattr(nxt, "ask_recover", lambda session: True)
    assert nxt.offer_recovery() and nxt.model.dirty
    assert nxt.model.unsaved_docs() == w.model.unsaved_docs()
    w.model.editor.mark_saved()
    nxt.model.editor.mark_saved()


def test_s12_the_studio_process_ends_with_143_on_sigterm_in_one_piece(tmp_path):
    """`./run` killed politely: exit 143 as the CLI, no traceback, no recovery file (nothing unsaved)."""
    import signal
    import subprocess
    import sys
    import time
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LIPSYNC_NO_AUDIO="1", LIPSYNC_STATE_DIR=str(tmp_path / "s"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), str(ROOT / "assets_min" / "demo" / "session.json")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)                                   # the window is up and the session opening or open
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert not list((tmp_path / "s").rglob("*.json"))


def test_s15_a_gesture_that_changes_nothing_is_no_edit(qtbot, tmp_path, monkeypatch):
    """Painting an event the shape it has, or double-clicking where an event of that shape already
    starts on an every-frame track: no undo step, nothing unsaved, and so nothing for Save to write."""
    monkeypatch.setenv("LIPSYNC_STATE_DIR", str(tmp_path / "state"))
    demo = one_event_per_line(tmp_path)
    w = _window(qtbot, tmp_path)
    open_zoomed(w, qtbot, demo)
    set_mouth(w, 2.42, Qt.Key.Key_3)
    assert len(w.model.editor.undo_stack) == 1
    w.model.editor.mark_saved()
    before = w.history_panel.list.count()
    set_mouth(w, 2.42, Qt.Key.Key_3)                      # already u
    double_click(w, "mouth", 2.49)                        # inserts `a` on the frame at 2480 ms: `a` already
    qtbot.wait(50)
    assert len(w.model.editor.undo_stack) == 1 and not w.model.dirty
    assert w.history_panel.list.count() == before
    assert "*" not in w.windowTitle()


def test_s15_saving_over_a_file_another_program_changed_asks_first(qtbot, tmp_path, monkeypatch):
    """Another program rewrites the mouth file while it is open here: Ctrl+S asks before replacing that
    change; Cancel writes nothing and keeps the edits; Overwrite saves, the other version in .bak."""
    monkeypatch.setenv("LIPSYNC_STATE_DIR", str(tmp_path / "state"))
    demo = one_event_per_line(tmp_path)
    mouth = demo.parent / "mouth.json"
    w = _window(qtbot, tmp_path)
    open_zoomed(w, qtbot, demo)
    set_mouth(w, 2.42, Qt.Key.Key_3)
    theirs = mouth.read_text().replace('{"t_ms": 40, "mouth_id": 1}', '{"t_ms": 40, "mouth_id": 5}')
    assert theirs != mouth.read_text()
    mouth.write_text(theirs)
    answers = []
    monkeypatch.setattr(w, "ask_overwrite", lambda changed: answers.append([p.name for p in changed]) or False)
    QTest.keyClick(w, Qt.Key.Key_S, CTRL)
    saved(w, qtbot)
    assert answers == [["mouth.json"]] and mouth.read_text() == theirs and w.model.dirty
    assert "changed on disk" in w.statusBar().currentMessage()
    monkeypatch.setattr(w, "ask_overwrite", lambda changed: answers.append("again") or True)
    QTest.keyClick(w, Qt.Key.Key_S, CTRL)
    saved(w, qtbot)
    assert answers[-1] == "again" and not w.model.dirty
    assert (demo.parent / "mouth.json.bak").read_text() == theirs
    set_mouth(w, 2.42, Qt.Key.Key_4)                      # our own save is not "another program"
    QTest.keyClick(w, Qt.Key.Key_S, CTRL)
    saved(w, qtbot)
    assert answers[-1] == "again" and len(answers) == 2 and not w.model.dirty


def test_s15_the_history_list_highlight_is_always_the_state_click_or_arrow_keys(qtbot, tmp_path, monkeypatch):
    """Up / Down in the History list moved the highlight away from the ● state without going there;
    now they step through the states, as a click does."""
    monkeypatch.setenv("LIPSYNC_STATE_DIR", str(tmp_path / "state"))
    demo = one_event_per_line(tmp_path)
    w = _window(qtbot, tmp_path)
    open_zoomed(w, qtbot, demo)
    set_mouth(w, 2.42, Qt.Key.Key_3)
    set_mouth(w, 2.46, Qt.Key.Key_4)
    w.show_dock("history")
    lst = w.history_panel.list
    assert lst.currentRow() == 2
    lst.setFocus()
    QTest.keyClick(lst, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: len(w.model.editor.undo_stack) == 1, timeout=3000)
    assert lst.currentRow() == 1 and lst.item(1).text().startswith("●")
    rect = lst.visualItemRect(lst.item(0))
    QTest.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    qtbot.waitUntil(lambda: not w.model.editor.undo_stack, timeout=3000)
    assert not w.model.dirty and lst.item(0).text().startswith("●")
    QTest.keyClick(lst, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: len(w.model.editor.undo_stack) == 1, timeout=3000)
    w.model.editor.mark_saved()
