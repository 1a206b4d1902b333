"""Editing in the studio (issue 6): real mouse gestures and keys on the lanes, undo/redo, saving,
the dirty marker, unsaved-changes prompt and recovery (pytest-qt, offscreen)."""
import json
import os


os.environ["LIPSYNC_NO_AUDIO"] = "1"
os.environ["LIPSYNC_NO_DIALOGS"] = "1"

from PySide6.QtCore import QEvent, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.io.recovery import Recovery  # noqa: E402
from widgets.main_window import MainWindow  # noqa: E402
from studio_fixtures import drag, lane_point  # noqa: E402

WINDOW_SIZE = (1400, 850)


def open_zoomed(w, qtbot, session, t0=2.0, t1=3.0):
    assert w.open_session(session)
    qtbot.waitUntil(lambda: w.preview.shown_frame == 0, timeout=5000)
    w.timeline.show_range(t0, t1)
    qtbot.wait(50)


def click(w, kind, t, modifier=Qt.KeyboardModifier.NoModifier, double=False, button=Qt.MouseButton.LeftButton):
    vp = w.timeline.lane_widget(kind).viewport()
    p = lane_point(w, kind, t)
    QTest.mouseClick(vp, button, modifier, p)
    if double:  # what a real double click delivers: press, release, double-click, release
        ev = QMouseEvent(QEvent.Type.MouseButtonDblClick, QPointF(p), vp.mapToGlobal(QPointF(p)), button, button,
                         modifier)
        QApplication.sendEvent(vp, ev)
        QTest.mouseRelease(vp, button, modifier, p)


def mouth_at(w, t):
    return int(w.model.project.plan.mouth[w.model.frame_at(t)])


def test_click_select_and_number_key_sets_mouth_then_undo(window, qtbot, demo):
    open_zoomed(window, qtbot, demo)
    before = json.loads(json.dumps(window.model.editor.docs))
    click(window, "mouth", 2.42)
    lane = window.timeline.lanes["mouth"]
    assert len(lane.selected) == 1
    window.timeline.setFocus()
    QTest.keyClick(window.timeline, Qt.Key.Key_5)
    assert mouth_at(window, 2.42) == 5
    assert window.windowTitle().startswith("Lip-sync Studio — *demo") and window.model.dirty
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.model.editor.docs == before and not window.model.dirty


def test_shift_click_and_rubber_band_select(window, qtbot, tmp_path):
    from helpers import make_session
    sparse = {"step_ms": 40, "frames": [{"t_ms": 0, "dur_ms": 200, "mouth_id": 1},
                                         {"t_ms": 400, "dur_ms": 200, "mouth_id": 2},
                                         {"t_ms": 800, "dur_ms": 200, "mouth_id": 5}]}
    s = make_session(tmp_path / "sparse", audio_ms=1200, mouth=sparse)
    open_zoomed(window, qtbot, s, 0.0, 1.2)
    lane = window.timeline.lanes["mouth"]
    click(window, "mouth", 0.1)
    click(window, "mouth", 0.9, Qt.KeyboardModifier.ShiftModifier)
    assert lane.selected == {0, 2}
    click(window, "mouth", 0.9, Qt.KeyboardModifier.ShiftModifier)   # shift-click again: deselect
    assert lane.selected == {0}
    drag(window, qtbot, "mouth", 0.3, 0.9)                              # from a gap: rubber band
    assert lane.selected == {1, 2} and not window.model.editor.undo_stack
    click(window, "mouth", 0.7)                                         # click in a gap clears
    assert lane.selected == set()


def test_drag_moves_a_blink_and_is_one_undo_step(window, qtbot, demo):
    open_zoomed(window, qtbot, demo, 0.0, 7.1)
    ed = window.model.editor
    blink = [i for i, e in enumerate(ed.events("expression")) if e["expression"] == "blink"][0]
    t0 = ed.events("expression")[blink]["t_ms"] / 1000
    n_before = len(ed.undo_stack)
    drag(window, qtbot, "expression", t0 + 0.06, t0 + 0.06 + 0.8)
    moved = [e for e in ed.events("expression") if e["expression"] == "blink"][0]
    assert abs(moved["t_ms"] - (t0 + 0.8) * 1000) <= 80 and moved["t_ms"] % 40 == 0   # snapped to frames
    assert len(ed.undo_stack) == n_before + 1                                            # one step
    labels = [window.model.project.plan.labels[i] for i in window.model.project.plan.expression]
    assert labels[window.model.frame_at(moved["t_ms"] / 1000 + 0.05)] == "blink"        # plan follows
    window.undo()
    assert ed.events("expression")[blink]["t_ms"] == t0 * 1000


def test_drags_reach_the_blocks_under_a_range_selection_and_problem_highlights(window, qtbot, demo):
    open_zoomed(window, qtbot, demo, 0.0, 7.1)
    ed = window.model.editor
    blink = [i for i, e in enumerate(ed.events("expression")) if e["expression"] == "blink"][0]
    t0 = ed.events("expression")[blink]["t_ms"] / 1000
    window.timeline.set_range((t0 - 0.5, t0 + 1.5))       # drawn over the lanes (translucent)
    drag(window, qtbot, "expression", t0 + 0.06, t0 + 0.06 + 0.8)
    moved = [e for e in ed.events("expression") if e["expression"] == "blink"][0]
    assert abs(moved["t_ms"] - (t0 + 0.8) * 1000) <= 80


def test_drag_edge_resizes(window, qtbot, demo):
    open_zoomed(window, qtbot, demo, 1.2, 2.0)
    ed = window.model.editor
    blink = [i for i, e in enumerate(ed.events("expression")) if e["expression"] == "blink"][0]
    e = ed.events("expression")[blink]
    end = (e["t_ms"] + e["dur_ms"]) / 1000
    inside = 2 * window.timeline.lanes["expression"]._px_seconds()   # 2 px inside the end edge
    drag(window, qtbot, "expression", end - inside, end + 0.16)
    assert ed.events("expression")[blink]["dur_ms"] == e["dur_ms"] + 160


def test_double_click_inserts_and_delete_removes(window, qtbot, demo):
    open_zoomed(window, qtbot, demo, 0.0, 7.1)
    ed = window.model.editor
    n = len(ed.events("expression"))
    click(window, "expression", 5.02, double=True)       # on the frame 5.00–5.04
    assert len(ed.events("expression")) == n + 1
    new = [e for e in ed.events("expression") if e["t_ms"] == 5000]
    assert new and new[0]["expression"] == "blink"
    window.timeline.setFocus()
    QTest.keyClick(window.timeline, Qt.Key.Key_Delete)
    assert len(ed.events("expression")) == n


def test_context_menu_sets_expression(window, qtbot, demo):
    open_zoomed(window, qtbot, demo, 0.0, 7.1)
    click(window, "expression", 5.0, button=Qt.MouseButton.RightButton)
    menu = window._context_menu
    act = [a for a in menu.actions() if a.text() == "expression: sad"][0]
    act.trigger()
    labels = [window.model.project.plan.labels[i] for i in window.model.project.plan.expression]
    assert labels[window.model.frame_at(5.0)] == "sad"


def test_pose_inspector_edits_a_key(window, qtbot, demo):
    open_zoomed(window, qtbot, demo)
    window.go_to_frame(50)
    insp = window.inspector
    assert insp.index == 50
    insp.boxes["yaw_deg"].setValue(-30.0)
    insp.apply_button.click()
    assert window.model.project.plan.raw_pose[50, 0] == -30.0
    assert window.model.readout(50)["view"] == "left30"
    qtbot.waitUntil(lambda: window.preview.shown_frame == 50, timeout=3000)


def test_apply_measured_offset_and_fix_span(window, qtbot, demo):
    open_zoomed(window, qtbot, demo)
    window.shift_timeline("mouth", 200)                      # make the mouth late
    qtbot.waitUntil(lambda: window.model.sync is not None and window.model.sync.offset_ms > 120, timeout=15000)
    off = window.model.sync.offset_ms
    window.apply_measured_offset()
    assert window.model.editor.undo_stack[-1].name.startswith("shift mouth")
    qtbot.waitUntil(lambda: window.model.sync is not None and abs(window.model.sync.offset_ms) < 60, timeout=15000)
    assert abs(off - 200) < 60
    window.fix_span(0.0, 200.0, "open in silence")
    assert all(window.model.project.plan.mouth[:5] == 0)


def test_save_writes_original_form_and_reload_matches(window, qtbot, demo):
    open_zoomed(window, qtbot, demo)
    click(window, "mouth", 2.42)
    window.timeline.setFocus()
    QTest.keyClick(window.timeline, Qt.Key.Key_3)
    shown = window.model.project.plan.mouth.copy()
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)   # written on a worker thread
    qtbot.waitUntil(lambda: window.files.saving.running is None, timeout=10000)
    assert not window.model.dirty and "*" not in window.windowTitle()
    saved = json.loads((demo.parent / "mouth_timeline.json").read_text())
    assert saved["audio"] == "demo.wav" and saved["step_ms"] == 40             # wrapper keys kept
    assert (demo.parent / "mouth_timeline.json.bak").exists()
    window.open_session(demo)
    assert (window.model.project.plan.mouth == shown).all()


def test_unsaved_prompt_on_open_and_close(window, qtbot, demo, monkeypatch):
    open_zoomed(window, qtbot, demo)
    window.shift_timeline("mouth", 40)
    answers = []
    monkeypatch.setattr(window, "ask_unsaved", lambda: answers.append(1) or "cancel")
    assert not window.open_session(demo) and window.model.dirty
    window.close()
    assert window.isVisible() and len(answers) == 2   # cancel kept the window open
    monkeypatch.setattr(window, "ask_unsaved", lambda: "discard")
    assert window.open_session(demo) and not window.model.dirty


def test_autosave_recovery_is_offered_back(qtbot, tmp_path, demo, monkeypatch):
    monkeypatch.setenv("LIPSYNC_STATE_DIR", str(tmp_path / "state"))
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    assert w.open_session(demo)
    w.shift_timeline("mouth", 120)
    edited = json.loads(json.dumps(w.model.editor.docs["mouth"]))
    w.autosave()                                   # what the 20 s timer does (it writes on a worker thread)
    qtbot.waitUntil(lambda: bool(Recovery().entries()), timeout=10000)
    assert Recovery().entries()[0]["docs"]["mouth"] == edited
    # the process dies here: no save, no close
    w2 = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w2)
    monkeypatch.setattr(w2, "ask_recover", lambda session: True)
    assert w2.offer_recovery()
    assert w2.model.editor.docs["mouth"] == edited and w2.model.dirty
    w2.undo()                                      # the recovery itself is one undoable step
    assert not w2.model.dirty
    w2.model.editor.mark_saved()
    w2.close()
    w.model.editor.mark_saved()
    w.close()
