"""A working day in the studio, acted only through input events (issue 17, SPEC §15): mouse presses,
moves and releases at the pixels where things are on screen, hovering, keys sent to whatever has
the focus. One test per reported defect; then every row of the key table, from wherever the focus
is. The editor and the widgets are only read, never called to perform an action. pytest-qt,
offscreen."""
import json
import os
import shutil

import numpy as np
import pytest
import soundfile
from helpers import ROOT, write_json

os.environ["LIPSYNC_NO_AUDIO"] = "1"
os.environ["LIPSYNC_NO_DIALOGS"] = "1"

from PySide6.QtCore import QPoint, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtCore import QEvent  # noqa: E402
from PySide6.QtGui import QHelpEvent, QWheelEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QAbstractSpinBox, QTabBar, QToolTip  # noqa: E402

from studio_fixtures import demo, lane_point  # noqa: E402,F401 - demo: a fixture
from test_studio_saving import double_click  # noqa: E402
from widgets.main_window import MainWindow  # noqa: E402

SAMPLES = ROOT / "tests" / "data" / "production_samples"
SYNC = ROOT / "tests" / "data" / "sync"
CTRL, SHIFT, NONE = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.NoModifier
LEFT = Qt.MouseButton.LeftButton


# ------------------------------------------------------------------------------------ sessions
def speech_wav(path, ms):
    """Real speech (the ja_1 test clip) repeated to `ms` milliseconds."""
    x, sr = soundfile.read(str(SYNC / "ja_1.wav"), dtype="float32")
    n = int(ms * sr / 1000)
    soundfile.write(str(path), np.resize(x, n), sr, subtype="PCM_16")


@pytest.fixture()
def cat(tmp_path):
    """The real 36 s production session's files as they are (a mouth event per 40 ms frame, the legacy pose
    wrapper, the change-point expressions), with speech of its length; the bundled character."""
    d = tmp_path / "cat"
    d.mkdir()
    for name in ("mouth_timeline_test1.json", "pose_timeline_m0_wrapper_scroll6.json",
                 "sess_real_01.expression_timeline.json"):
        shutil.copy(SAMPLES / name, d / name)
    speech_wav(d / "1_0_72.wav", 36040)
    write_json(d / "session.json", {
        "schema_version": "session_runtime_v0.2", "session_id": "sess_cat", "session_audio_ms": 36040,
        "mouth_timeline": "mouth_timeline_test1.json", "pose_timeline": "pose_timeline_m0_wrapper_scroll6.json",
        "expression_timeline": "sess_real_01.expression_timeline.json", "audio_path": "1_0_72.wav",
        "atlas_json": str(ROOT / "assets_min" / "atlas.min.json")})
    return d / "session.json"


@pytest.fixture()
def euler(tmp_path):
    """The face-tracking pose sample (pose_timeline.v1, angles in `euler`) in a session of its length."""
    d = tmp_path / "euler"
    d.mkdir()
    shutil.copy(SAMPLES / "pose_timeline_v1_euler.json", d / "pose.json")
    write_json(d / "session.json", {"schema_version": "runtime_session_v0.1", "session_id": "euler", "audio_ms": 1200,
                                    "inputs": {"pose_timeline": "pose.json",
                                               "atlas_json": str(ROOT / "assets_min" / "atlas.min.json")}})
    return d / "session.json"


@pytest.fixture()
def w(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LIPSYNC_STATE_DIR", str(tmp_path / "state"))
    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.resize(1500, 900)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    yield win
    if win.model.editor:
        win.model.editor.mark_saved()
    win.close()


# -------------------------------------------------------------------------------- hands
def open_(w, qtbot, session):
    """File ▸ Open: the session is read in the background, then shown."""
    w.open_session(session, background=True)
    qtbot.waitUntil(lambda: w.model.project is not None and str(w.model.project.session.path) == str(session)
                    and w.preview.shown_frame is not None, timeout=20000)
    qtbot.wait(50)


def zoom(w, qtbot, center_s, px_per_frame):
    """Show the timeline around `center_s` at `px_per_frame` (as the wheel would; the range is set directly)."""
    width = w.timeline.plots["mouth"].getViewBox().width()
    span = width / px_per_frame * w.model.step_ms / 1000.0
    w.timeline.show_range(center_s - span / 2, center_s + span / 2)
    qtbot.wait(30)


def key(k, mod=NONE):
    """A key press where the keyboard focus really is."""
    QTest.keyClick(QApplication.focusWidget(), k, mod)


def drag_path(w, qtbot, kind, times, release=True, y=None):
    vp = w.timeline.lane_widget(kind).viewport()
    pts = [lane_point(w, kind, t, y) for t in times]
    QTest.mousePress(vp, LEFT, NONE, pts[0])
    for a, b in zip(pts, pts[1:]):
        for k in range(1, 5):
            QTest.mouseMove(vp, a + (b - a) * k / 4)
            qtbot.wait(20)
    if release:
        QTest.mouseRelease(vp, LEFT, NONE, pts[-1])
        qtbot.wait(30)


def ruler_drag(w, qtbot, t0, t1):
    ruler = w.timeline.ruler
    vb = w.timeline.ruler_box

    def pt(t):
        p = ruler.mapFromScene(vb.mapViewToScene(QPointF(t, 0.5)))
        return QPoint(p.x(), p.y())
    QTest.mousePress(ruler.viewport(), LEFT, NONE, pt(t0))
    for k in range(1, 7):
        QTest.mouseMove(ruler.viewport(), pt(t0 + (t1 - t0) * k / 6))
        qtbot.wait(15)
    QTest.mouseRelease(ruler.viewport(), LEFT, NONE, pt(t1))


def hover(w, qtbot, kind, t, y=None):
    vp = w.timeline.lane_widget(kind).viewport()
    vb = w.timeline.plots[kind].getViewBox()
    (_, _), (y0, y1) = vb.viewRange()
    p = w.timeline.lane_widget(kind).mapFromScene(vb.mapViewToScene(QPointF(t, (y0 + y1) / 2 if y is None else y)))
    QTest.mouseMove(vp, QPoint(p.x() + 1, p.y()))     # a move, even if the pointer was left right there
    QTest.mouseMove(vp, QPoint(p.x(), p.y()))
    qtbot.wait(30)
    shown = w.timeline.hover_line.text()
    assert shown and shown == QToolTip.text().replace("\n", "  ·  ")   # the line and the tooltip agree
    return QToolTip.text()


def save(w, qtbot):
    key(Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: not w.model.dirty and w.files.saving.running is None, timeout=20000)


def mouth_at(w, t_ms):
    return {e["t_ms"]: e["mouth_id"] for e in w.model.editor.events("mouth")}.get(t_ms)


# ------------------------------------------------------------------------ 1-4: gestures
def test_defect_1_a_drag_replaces_only_what_it_ends_on_and_back_at_the_start_changes_nothing(w, qtbot, cat):
    open_(w, qtbot, cat)
    raw = (cat.parent / "mouth_timeline_test1.json").read_bytes()
    zoom(w, qtbot, 27.7, 32)
    drag_path(w, qtbot, "mouth", [27.62, 27.70, 27.62, 27.70])          # `i` two frames right, over `a`
    assert mouth_at(w, 27640) == 1, "`a` was passed over, not dropped on: it stays"
    assert mouth_at(w, 27680) == 2 and mouth_at(w, 27720) == 0 and mouth_at(w, 27760) == 5
    assert w.model.editor.undo_name == "move 1 mouth event (drag)"
    key(Qt.Key.Key_Z, CTRL)
    drag_path(w, qtbot, "mouth", [27.62, 27.70, 27.66, 27.62])          # there and back in one gesture
    assert not w.model.dirty and w.model.editor.undo_stack == []
    save(w, qtbot)
    assert (cat.parent / "mouth_timeline_test1.json").read_bytes() == raw


def test_defect_2_the_pose_inspector_edits_a_v1_key_in_its_euler_form(w, qtbot, euler):
    open_(w, qtbot, euler)
    w.timeline.setFocus()
    for _ in range(15):
        key(Qt.Key.Key_Right)                                             # to 0.600 s
    qtbot.waitUntil(lambda: w.model.frame == 15, timeout=3000)
    yaw = w.model.readout(15)["yaw_deg"]
    assert abs(w.inspector.boxes["yaw_deg"].value() - yaw) < 1e-3 and abs(yaw) > 1   # what the preview uses
    roll = w.inspector.boxes["roll_deg"]
    QTest.mouseDClick(roll.lineEdit(), LEFT)
    roll.lineEdit().selectAll()
    QTest.keyClicks(QApplication.focusWidget(), "3")
    key(Qt.Key.Key_Return)                                                # Enter applies and leaves the field
    qtbot.waitUntil(lambda: w.model.dirty, timeout=3000)
    save(w, qtbot)
    before = json.loads((SAMPLES / "pose_timeline_v1_euler.json").read_text())["timeline"][15]
    after = json.loads((euler.parent / "pose.json").read_text())["timeline"][15]
    assert after == dict(before, euler=dict(before["euler"], roll_deg=3))
    assert w.model.readout(15)["view"] == w.model.project.plan.row(15)["view"] and abs(
        w.model.readout(15)["yaw_deg"] - yaw) < 1e-6
    assert QApplication.focusWidget() is not roll.lineEdit()


def test_defect_3_digits_paint_the_ruler_range_and_escape_clears_every_selection(w, qtbot, cat):
    open_(w, qtbot, cat)
    zoom(w, qtbot, 27.8, 24)
    QTest.mouseClick(w.timeline.lane_widget("mouth").viewport(), LEFT, NONE, lane_point(w, "mouth", 27.62))
    assert w.timeline.lanes["mouth"].selected                             # an event selected earlier …
    ruler_drag(w, qtbot, 27.80, 28.00)                                     # … then a range on the ruler
    key(Qt.Key.Key_5)
    assert w.model.editor.undo_name.startswith("paint o over 27800–28000")
    assert all(mouth_at(w, t) == 5 for t in range(27800, 28000, 40)) and mouth_at(w, 27600) == 2
    key(Qt.Key.Key_Escape)
    assert w.timeline.selected_range() is None and not w.timeline.lanes["mouth"].selected
    ruler_drag(w, qtbot, 28.40, 28.60)                                     # the lane's menu paints a range too
    QTest.mouseClick(w.timeline.lane_widget("mouth").viewport(), Qt.MouseButton.RightButton, NONE,
                     lane_point(w, "mouth", 28.5))
    menu = w._context_menu
    assert menu is not None and any(a.text().startswith("Paint the range") for a in menu.actions())


def test_defect_4_a_generated_track_reaches_the_end_of_the_session(w, qtbot, cat):
    open_(w, qtbot, cat)
    w.show_dock("align")
    QTest.mouseClick(w.align_panel.whole, LEFT)
    qtbot.waitUntil(lambda: (w.model.editor.undo_name or "").startswith("generate"), timeout=120000)
    ends = w.model.end_markers()["timelines"]["mouth"]
    assert ends["held_frames"] == 0 and ends["end_ms"] >= 36000
    events = w.model.editor.events("mouth")
    assert all(b["t_ms"] - a["t_ms"] == 40 for a, b in zip(events, events[1:]))   # still one event per frame


def test_s13_generating_for_the_session_leaves_nothing_past_its_end(w, qtbot, cat):
    """The production track runs 36 s; the session (and its speech) only 10 s: Generate for the session
    writes the 10 s and drops what the track held after them (validate said "drift +26000 ms")."""
    doc = json.loads(cat.read_text())
    doc["session_audio_ms"] = 10000
    cat.write_text(json.dumps(doc))
    speech_wav(cat.parent / "1_0_72.wav", 10000)
    open_(w, qtbot, cat)
    assert w.model.editor.events("mouth")[-1]["t_ms"] > 30000
    w.show_dock("align")
    QTest.mouseClick(w.align_panel.whole, LEFT)
    qtbot.waitUntil(lambda: (w.model.editor.undo_name or "").startswith("generate"), timeout=120000)
    events = w.model.editor.events("mouth")
    assert events[-1]["t_ms"] == 9960 and all(b["t_ms"] - a["t_ms"] == 40 for a, b in zip(events, events[1:]))
    ends = w.model.end_markers()["timelines"]["mouth"]
    assert ends["held_frames"] == 0 and ends["end_ms"] == 9960          # the last frame's event


def test_s15_the_readout_under_a_resting_pointer_follows_an_edit(w, qtbot, cat):
    """The pointer rests on an event while a key changes it: the readout says the new shape at once
    (it said the old one until the mouse moved again; during drags it lagged a step)."""
    open_(w, qtbot, cat)
    zoom(w, qtbot, 27.7, 32)
    QTest.mouseClick(w.timeline.lane_widget("mouth").viewport(), LEFT, NONE, lane_point(w, "mouth", 27.62))
    assert ": i" in hover(w, qtbot, "mouth", 27.62)
    key(Qt.Key.Key_4)
    qtbot.wait(30)
    assert ": e" in QToolTip.text() and ": e" in w.timeline.hover_line.text()


# ---------------------------------------------------------------- 8-9: nothing freezes, Cancel answers
def test_defect_8_generate_can_be_cancelled_and_changes_nothing(w, qtbot, cat):
    open_(w, qtbot, cat)
    before = w.model.editor.docs["mouth"]
    w.show_dock("align")
    QTest.mouseClick(w.align_panel.whole, LEFT)
    assert w.align_panel.cancel_button.isVisible()
    qtbot.wait(300)
    QTest.mouseClick(w.align_panel.cancel_button, LEFT)
    assert w.align_panel.whole.isEnabled() and not w.align_panel.cancel_button.isVisible()   # at once
    assert "cancelled" in w.align_panel.status.text()
    qtbot.wait(800)                                                        # a late result is never applied
    assert w.model.editor.docs["mouth"] is before and not w.model.dirty


def test_defect_9_scoring_runs_in_a_process_of_its_own_and_the_newest_result_wins(w, qtbot, cat, monkeypatch):
    import studio.background as background
    names = []
    real = background.run_in_process

    def spy(fn, *a, **k):
        names.append(fn)
        return real(fn, *a, **k)
    monkeypatch.setattr("widgets.flows.qa.run_in_process", spy)
    open_(w, qtbot, cat)
    zoom(w, qtbot, 27.7, 32)
    QTest.mouseClick(w.timeline.lane_widget("mouth").viewport(), LEFT, NONE, lane_point(w, "mouth", 27.62))
    key(Qt.Key.Key_1)
    key(Qt.Key.Key_2)                                                      # two edits: the later one's score counts
    qtbot.waitUntil(lambda: w.model.sync is not None and "scoring" not in w.qa.verdict.text(), timeout=30000)
    assert names and all(n == "studio.qa.sync:score_with_cache" for n in names)
    assert w.model.sync.timelines["mouth"]["end_ms"] == w.model.end_markers()["timelines"]["mouth"]["end_ms"]


# ------------------------------------------------------------------- 10-17: what is shown is true
def test_defect_10_hovering_every_lane_names_what_is_under_the_pointer(w, qtbot, cat):
    open_(w, qtbot, cat)
    qtbot.waitUntil(lambda: w.model.sync is not None, timeout=30000)
    zoom(w, qtbot, 27.7, 32)
    assert "mouth event" in hover(w, qtbot, "mouth", 27.62) and ": i" in QToolTip.text()
    assert "yaw" in hover(w, qtbot, "angles", 27.62)
    assert "tx" in hover(w, qtbot, "offsets", 27.62)
    assert "scale" in hover(w, qtbot, "scale", 27.62)
    assert "expression event" in hover(w, qtbot, "expression", 27.62, 0.7) or "no expression" in QToolTip.text()
    assert "view" in hover(w, qtbot, "view", 27.62)
    assert "window" in hover(w, qtbot, "sync", 27.62)
    assert "frame" in hover(w, qtbot, "wave", 27.62)
    vp = w.timeline.lane_widget("mouth").viewport()            # the view's own tooltip request, after the
    QApplication.sendEvent(vp, QHelpEvent(QEvent.Type.ToolTip, QPoint(40, 20), vp.mapToGlobal(QPoint(40, 20))))
    assert QToolTip.text() and "frame" in QToolTip.text()       # pointer rests, keeps the readout shown


def test_defect_11_the_waveform_is_drawn_where_its_samples_are_after_a_wheel_zoom(w, qtbot, tmp_path):
    d = tmp_path / "click"
    d.mkdir()
    sr = 16000
    x = np.zeros(20 * sr, np.float32)
    x[int(11.15 * sr):int(11.25 * sr)] = 0.9                               # one loud burst at 11.15–11.25 s
    soundfile.write(str(d / "a.wav"), x, sr, subtype="PCM_16")
    write_json(d / "pose.json", [{"t_ms": 0}])
    write_json(d / "session.json", {"schema_version": "runtime_session_v0.1", "session_id": "click",
                                    "inputs": {"pose_timeline": "pose.json", "audio": "a.wav",
                                               "atlas_json": str(ROOT / "assets_min" / "atlas.min.json")}})
    open_(w, qtbot, d / "session.json")
    wave = w.timeline.lane_widget("wave")
    vb = w.timeline.plots["wave"].getViewBox()
    for _ in range(6):                                                     # wheel in around 11.2 s
        p = wave.mapFromScene(vb.mapViewToScene(QPointF(11.2, 0.0)))
        ev = QWheelEvent(QPointF(p), QPointF(wave.viewport().mapToGlobal(p)), QPoint(0, 0), QPoint(0, 120),
                         Qt.MouseButton.NoButton, NONE, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(wave.viewport(), ev)
        qtbot.wait(20)
    a, b = w.timeline.visible_range()
    assert b - a < 10
    xs, ys = w.timeline.wave_curve.getData()
    loud = xs[np.abs(ys) > 0.5]
    assert xs.min() <= a + 0.05 and xs.max() >= b - 0.05                  # the whole visible range is drawn
    assert 11.14 <= loud.min() and loud.max() <= 11.26                    # … where its samples are


def test_defect_12_the_drag_label_is_inside_the_lane_while_dragging(w, qtbot, cat):
    open_(w, qtbot, cat)
    zoom(w, qtbot, 27.7, 32)
    drag_path(w, qtbot, "mouth", [27.62, 27.70], release=False)
    lane = w.timeline.lanes["mouth"]
    line, text = lane._indicator
    view = w.timeline.lane_widget("mouth")
    shown = view.mapFromScene(text.sceneBoundingRect()).boundingRect()
    assert view.viewport().rect().contains(shown) and "frame" in text.textItem.toPlainText()
    QTest.mouseRelease(view.viewport(), LEFT, NONE, lane_point(w, "mouth", 27.70))


def test_defect_13_stale_notes_leave_with_what_they_describe(w, qtbot, tmp_path):
    d = tmp_path / "late"
    shutil.copytree(ROOT / "assets_min" / "demo", d)
    doc = json.loads((d / "session.json").read_text())
    doc["inputs"]["atlas_json"] = str(ROOT / "assets_min" / "atlas.min.json")
    write_json(d / "session.json", doc)
    mouth = json.loads((d / "mouth_timeline.json").read_text())           # the mouth 200 ms late
    mouth["frames"] = [dict(e, t_ms=e["t_ms"] + 200) for e in mouth["frames"]]
    write_json(d / "mouth_timeline.json", mouth)
    open_(w, qtbot, d / "session.json")
    qtbot.waitUntil(lambda: w.qa.offset_button.isEnabled(), timeout=30000)
    QTest.mouseClick(w.qa.offset_button, LEFT)
    qtbot.waitUntil(lambda: "before" in w.qa.before_after.text(), timeout=30000)
    w.timeline.setFocus()
    key(Qt.Key.Key_Z, CTRL)                                                # the offset undone: its note goes
    assert w.qa.before_after.text() == ""
    key(Qt.Key.Key_Space)
    qtbot.wait(400)
    key(Qt.Key.Key_Space)
    assert "last run" in w.qa.drift.text()
    open_(w, qtbot, ROOT / "assets_min" / "demo" / "session.json")         # another session: no old drift
    assert w.qa.drift.text() == "drift: —" and w.status_drift.text() == ""


def test_defect_14_next_problem_finds_one_at_zero_and_every_part_names_the_same_one(w, qtbot, tmp_path):
    d = tmp_path / "open0"
    d.mkdir()
    speech_wav(d / "a.wav", 6000)
    frames = [{"t_ms": 0, "mouth_id": 1}] + [{"t_ms": t, "mouth_id": 0} for t in range(400, 6000, 40)]
    write_json(d / "mouth.json", {"step_ms": 40, "frames": frames})
    sx, sr = soundfile.read(str(d / "a.wav"))
    sx[:int(0.5 * sr)] = 0                                                  # silence under the open mouth at 0
    soundfile.write(str(d / "a.wav"), sx, sr, subtype="PCM_16")
    write_json(d / "pose.json", [{"t_ms": 0}])
    write_json(d / "session.json", {"schema_version": "runtime_session_v0.1", "session_id": "p0", "inputs": {
        "pose_timeline": "pose.json", "mouth_timeline": "mouth.json", "audio": "a.wav",
        "atlas_json": str(ROOT / "assets_min" / "atlas.min.json")}})
    open_(w, qtbot, d / "session.json")
    qtbot.waitUntil(lambda: w.model.sync is not None and bool(w.qa.items), timeout=30000)
    assert w.qa.items[0].t0_ms == 0
    w.timeline.setFocus()
    key(Qt.Key.Key_N)
    assert w.qa.problems.currentRow() == 0 and w.model.frame == 0
    assert w.statusBar().currentMessage() == w.qa.items[0].label.strip()
    if len(w.qa.items) > 1:
        key(Qt.Key.Key_N)
        key(Qt.Key.Key_N, SHIFT)
        assert w.qa.problems.currentRow() == 0 and w.statusBar().currentMessage() == w.qa.items[0].label.strip()


def test_defect_15_a_missing_wav_is_said_in_the_empty_lanes(w, qtbot, tmp_path):
    d = tmp_path / "nowav"
    d.mkdir()
    write_json(d / "pose.json", [{"t_ms": 0}])
    write_json(d / "session.json", {"schema_version": "runtime_session_v0.1", "session_id": "nowav", "audio_ms": 2000,
                                    "inputs": {"pose_timeline": "pose.json", "audio": "gone.wav",
                                               "atlas_json": str(ROOT / "assets_min" / "atlas.min.json")}})
    open_(w, qtbot, d / "session.json")
    note = w.timeline.notes["wave"]
    assert note.isVisible() and "gone.wav" in note.text() and "audio missing" in note.text()
    assert w.timeline.notes["sync"].isVisible()


WINDOW_1024 = (1024, 700)


def test_defect_17_at_1024x700_nothing_written_runs_into_anything_else(w, qtbot, cat):
    w.resize(*WINDOW_1024)
    open_(w, qtbot, cat)
    qtbot.wait(200)
    for px in (26, 40, 64):                                                # mouth names never run together
        zoom(w, qtbot, 27.7, px)
        view = w.timeline.lane_widget("mouth")
        rects = [view.mapFromScene(t.sceneBoundingRect()).boundingRect() for t in w.timeline.run_labels.items
                 if t.isVisible()]
        rects.sort(key=lambda r: r.left())
        assert all(a.right() - 2 <= b.left() for a, b in zip(rects, rects[1:])), px
    angles = w.timeline.lane_widget("angles")
    shown = [angles.mapFromScene(line.label.sceneBoundingRect()).boundingRect()
             for line, _, _ in w.timeline._thresholds if line.label.isVisible()]
    assert all(not a.intersects(b) for i, a in enumerate(shown) for b in shown[i + 1:]), shown
    for bar in w.findChildren(QTabBar):                                    # dock tabs: whole names
        if bar.isVisible() and bar.count() > 1:
            assert bar.elideMode() == Qt.TextElideMode.ElideNone
    for key_ in ("offsets", "scale"):                                      # a flat curve keeps a plain axis
        axis = w.timeline.plots[key_].getAxis("left")
        assert not axis.autoSIPrefix
    w.timeline.setFocus()
    key(Qt.Key.Key_F1)
    dlg = w._shortcuts_box
    assert dlg.height() <= w.screen().availableGeometry().height()
    gestures = " ".join(k for k, _ in w.menus.shortcut_rows()).lower()   # every gesture the README's table lists
    assert all(g in gestures for g in ("word boundary", "overview", "time ruler", "double-click", "right-click"))


# ---------------------------------------------------------------------------- 18-21: input
def test_defect_18_keys_reach_the_timeline_and_text_fields_give_them_back(w, qtbot, cat):
    open_(w, qtbot, cat)
    qtbot.wait(100)
    assert not isinstance(QApplication.focusWidget(), (QLineEdit, QAbstractSpinBox, QPlainTextEdit))
    key(Qt.Key.Key_Space)
    assert w.playback.playing
    key(Qt.Key.Key_Space)
    assert not w.playback.playing
    key(Qt.Key.Key_T, CTRL)
    assert QApplication.focusWidget() is w.transport.goto
    QTest.keyClicks(w.transport.goto, "12.5")
    key(Qt.Key.Key_Return)
    qtbot.wait(20)
    assert w.model.frame == 312 and QApplication.focusWidget() is not w.transport.goto
    key(Qt.Key.Key_Right)
    assert w.model.frame == 313
    yaw = w.inspector.boxes["yaw_deg"]
    QTest.mouseClick(yaw.lineEdit(), LEFT)
    QTest.keyClicks(QApplication.focusWidget(), "5")                      # typing in a field stays in the field
    assert w.model.frame == 313
    key(Qt.Key.Key_Escape)                                                 # Escape leaves it, the key's value back
    qtbot.wait(20)
    assert abs(yaw.value() - w.inspector.shown["yaw_deg"]) < 1e-9 and QApplication.focusWidget() is not yaw.lineEdit()
    key(Qt.Key.Key_Right)
    assert w.model.frame == 314


def test_defect_19_ctrl_j_merges_one_selected_event_with_its_identical_neighbours(w, qtbot, cat):
    open_(w, qtbot, cat)
    zoom(w, qtbot, 27.7, 32)
    QTest.mouseClick(w.timeline.lane_widget("mouth").viewport(), LEFT, NONE, lane_point(w, "mouth", 27.69))
    key(Qt.Key.Key_J, CTRL)                                                # closed@27680 and closed@27720
    assert mouth_at(w, 27680) == 0 and mouth_at(w, 27720) is None
    assert "merged 1" in w.statusBar().currentMessage()


def test_defect_20_the_inspector_waits_for_a_session(w, qtbot):
    assert not w.inspector.add_button.isEnabled() and not w.inspector.apply_button.isEnabled()
    QTest.mouseClick(w.inspector.add_button, LEFT)                         # nothing happens, nothing raises
    assert w.model.project is None


def test_defect_21_the_rate_menu_ticks_the_rate_and_a_panel_comes_back_in_front(w, qtbot, cat):
    open_(w, qtbot, cat)
    w.timeline.setFocus()
    key(Qt.Key.Key_2, CTRL)
    assert w.menus.actions["rate:0.5"].isChecked() and not w.menus.actions["rate:1"].isChecked()
    dock = w.docks["warnings"]
    dock.close()
    w.docks["qa"].raise_()
    dock.toggleViewAction().trigger()                                      # View ▸ Panels ▸ Warnings
    qtbot.wait(50)
    assert dock.isVisible() and not dock.visibleRegion().isEmpty()


# ------------------------------------------------------------------- every row of the key table
FOCUS_PLACES = ("timeline", "qa list", "history list", "rate box")


def _focus(w, place):
    {"timeline": w.timeline.setFocus, "qa list": w.qa.problems.setFocus,
     "history list": lambda: (w.show_dock("history"), w.history_panel.list.setFocus()),
     "rate box": w.transport.rate.setFocus}[place]()


def test_s15_every_shortcut_of_the_key_table_works_from_wherever_the_focus_is(w, qtbot, cat, monkeypatch):
    monkeypatch.setattr("widgets.flows.files.QFileDialog.getOpenFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr("widgets.flows.files.QFileDialog.getSaveFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr("widgets.flows.edits.QInputDialog.getInt", lambda *a, **k: (0, False))
    monkeypatch.setattr(w, "close", lambda: True)                          # Ctrl+Q: counted, not carried out
    open_(w, qtbot, cat)
    zoom(w, qtbot, 27.7, 32)
    QTest.mouseClick(w.timeline.lane_widget("mouth").viewport(), LEFT, NONE, lane_point(w, "mouth", 27.62))
    key(Qt.Key.Key_3)                                                      # something to undo, then to redo
    from PySide6.QtGui import QKeySequence
    entries = [e for e in w.menus.entries if e.keys]
    for n, entry in enumerate(entries):
        place = FOCUS_PLACES[n % len(FOCUS_PLACES)]
        _focus(w, place)
        fired = []
        act = next(a for a in w.findChildren(type(w.menus.actions["undo"])) if a.shortcut().toString() ==
                   QKeySequence(entry.keys).toString())
        act.triggered.connect(lambda *_: fired.append(1))
        seq = QKeySequence(entry.keys)[0]
        QTest.keyClick(QApplication.focusWidget() or w, seq.key(), seq.keyboardModifiers())
        qtbot.wait(5)
        assert fired, f"{entry.keys} ({entry.text}) did not reach its action with the focus on the {place}"
        if w.playback.playing:
            w.playback.pause()


# ----------------------------------------------------- found by a working day on the studio (a user's report)
def test_s15_double_click_inserts_on_the_frame_under_the_pointer_and_only_there(w, qtbot, cat):
    open_(w, qtbot, cat)
    zoom(w, qtbot, 11.68, 59)
    before = {e["t_ms"]: e["mouth_id"] for e in w.model.editor.events("mouth")}
    double_click(w, "mouth", 11.635)                                       # right half of 11600–11640
    after = {e["t_ms"]: e["mouth_id"] for e in w.model.editor.events("mouth")}
    assert after[11600] == 1 and after[11640] == before[11640]
    assert {t for t in after if after[t] != before.get(t)} == {11600}


def test_s15_without_snapping_a_drag_lands_on_whole_milliseconds(w, qtbot, cat):
    open_(w, qtbot, cat)
    zoom(w, qtbot, 15.24, 50)
    w.timeline.setFocus()
    key(Qt.Key.Key_G, CTRL)
    assert w.status_snap.text() == "snap off"
    lane = w.timeline.lanes["mouth"]
    i = lane.event_at(15.25)
    s, e = lane.span(i)
    drag_path(w, qtbot, "mouth", [e - 0.002, e + 0.0173])
    assert all(float(x["t_ms"]).is_integer() and float(x.get("dur_ms", 0)).is_integer()
               for x in w.model.editor.events("mouth"))


def test_s15_a_new_session_forgets_the_last_ones_range_and_notes(w, qtbot, cat, tmp_path):
    open_(w, qtbot, cat)
    ruler_drag(w, qtbot, 10.0, 11.0)
    assert w.align_panel.part.isEnabled()
    open_(w, qtbot, ROOT / "assets_min" / "demo" / "session.json")
    assert w.timeline.selected_range() is None and not w.align_panel.part.isEnabled()
    assert w.align_panel.status.text() == "" and w.transport.goto.text() == ""
    assert "demo/session.json" in w.windowTitle()                         # which session.json: its folder


def test_s13_words_of_an_earlier_text_leave_with_a_track_generated_from_the_audio_alone():
    from studio.edit.editor import TimelineEditor
    from studio.model import _paint_generated
    from studio.qa.align.aligner import AlignResult
    doc = {"step_ms": 40, "frames": [{"t_ms": 0, "mouth_id": 0}], "units": [{"text": "ka", "t0_ms": 0, "t1_ms": 40}]}
    ed = TimelineEditor({"mouth": doc}, 40, audio_ms=80)
    r = AlignResult(np.array([1, 0], np.int8), 40.0, 80.0, "audio", np.zeros(8, np.int8), np.zeros(8, bool))
    _paint_generated(ed, r, None, None)
    assert "units" not in ed.docs["mouth"] and len(ed.undo_stack) == 1
    ed.undo()
    assert ed.docs["mouth"]["units"] == doc["units"]


def test_s8_escape_cancels_a_running_export_instead_of_hiding_it(w, qtbot, cat, tmp_path):
    open_(w, qtbot, cat)
    QTest.mouseClick(w.timeline.lane_widget("mouth").viewport(), LEFT, NONE, lane_point(w, "mouth", 5.0))
    key(Qt.Key.Key_3)                                                      # an unsaved edit
    dlg = w.export_dialog()
    assert any("unsaved edits included" in lbl.text() for lbl in dlg.findChildren(type(w.readout)))
    dlg.out_edit.setText(str(tmp_path / "out"))
    dlg.show()
    dlg.activateWindow()                                                   # as the opened dialog is
    qtbot.waitUntil(dlg.isActiveWindow, timeout=5000)
    QTest.mouseClick(dlg.start_button, LEFT)
    QTest.keyClick(dlg, Qt.Key.Key_Escape)
    assert dlg.isVisible() and dlg.job is not None and dlg.job.cancel.is_set()
    qtbot.waitUntil(lambda: dlg.job is None or dlg.result is not None, timeout=60000)
    dlg.close()


def test_s15_home_and_framing_a_problem_at_0_s_show_no_time_before_it(w, qtbot, cat):
    open_(w, qtbot, cat)
    zoom(w, qtbot, 20.0, 40)
    wave, vb = w.timeline.lane_widget("wave"), w.timeline.plots["wave"].getViewBox()
    p = wave.mapFromScene(vb.mapViewToScene(QPointF(20.0, 0.0)))
    QTest.mouseClick(wave.viewport(), LEFT, NONE, QPoint(p.x(), p.y()))
    qtbot.waitUntil(lambda: abs(w.model.frame - 500) <= 1, timeout=3000)        # the playhead at 20 s
    w.timeline.setFocus()
    key(Qt.Key.Key_Home)
    qtbot.wait(30)
    a, b = w.timeline.visible_range()
    assert a == 0.0 and w.model.frame == 0 and b - a < 5.0            # the start in view, nothing before it


def test_s15_the_last_expression_moved_still_lasts_to_the_end(w, qtbot, demo):
    """The demo's `smile` starts at 3.40 s and holds to the end (7.08 s). Dragged to 3.00 s: it starts
    there and still holds to the end — the move added a `normal` at 6.68 s, off screen. Dragged
    right, it can move at all (the end held it in place)."""
    open_(w, qtbot, demo)
    w.timeline.show_range(2.05, 3.7)
    qtbot.wait(30)
    lane = w.timeline.lanes["expression"]
    y = lane.y0 + lane.height * 0.25                     # the change points' row
    drag_path(w, qtbot, "expression", [3.50, 3.10], y=y)
    events = w.model.editor.events("expression")
    assert [(e["t_ms"], e["expression"]) for e in events if "dur_ms" not in e] == [(0, "normal"), (3000, "smile")]
    shown = set(w.model.project.plan.labels[i] for i in w.model.project.plan.expression[75:])
    assert shown == {"smile", "blink"}                   # smile to the end, under its two blinks
    drag_path(w, qtbot, "expression", [3.10, 3.60], y=y)
    events = w.model.editor.events("expression")
    assert [(e["t_ms"], e["expression"]) for e in events if "dur_ms" not in e] == [(0, "normal"), (3480, "smile")]
