"""The studio for a working day (issue 13): each reported defect reproduced and fixed, editing at
production density with real mouse gestures, navigation, the QA list, self-explanation, the theme,
and generating a mouth track in the studio (issue 14). pytest-qt, offscreen, silent audio clock."""
import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import ROOT, make_session, write_json

os.environ["LIPSYNC_NO_AUDIO"] = "1"
os.environ["LIPSYNC_NO_DIALOGS"] = "1"

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from studio.qa.sync import SyncReport  # noqa: E402
from widgets.main_window import MainWindow  # noqa: E402
from studio_fixtures import drag  # noqa: E402
from widgets.timeline import style  # noqa: E402

SYNC = ROOT / "tests" / "data" / "sync"


@pytest.fixture()
def dense(tmp_path):
    """A production-density session: one mouth event per 40 ms frame, 8 s, real speech."""
    d = tmp_path / "dense"
    d.mkdir()
    shutil.copy(SYNC / "ja_1.wav", d / "utt.wav")
    frames = [{"t_ms": t, "mouth_id": [0, 1, 2, 3, 4, 5, 1, 4][(t // 40) % 8]} for t in range(0, 6000, 40)]
    write_json(d / "mouth.json", {"step_ms": 40, "frames": frames})
    return make_session(d, audio_ms=None, mouth=None, extra={"inputs": {
        "pose_timeline": "pose.json", "mouth_timeline": "mouth.json", "atlas_json": "atlas/atlas.min.json",
        "audio": "utt.wav"}})


def open_(w, qtbot, session, t0=None, t1=None):
    assert w.open_session(session), w.last_error
    qtbot.waitUntil(lambda: w.preview.shown_frame == 0, timeout=5000)
    if t0 is not None:
        w.timeline.show_range(t0, t1)
        qtbot.wait(50)


def no_hidden(w):
    t = [e["t_ms"] for e in w.model.editor.events("mouth")]
    return all(b - a >= 40 for a, b in zip(t, t[1:]))


# ----------------------------------------------------------------- numbered defects
def test_defect_1_rate_keys_change_dropdown_and_audio_together(window, qtbot, demo):
    open_(window, qtbot, demo)
    for keys, rate in ((Qt.Key.Key_2, 0.5), (Qt.Key.Key_3, 0.25), (Qt.Key.Key_1, 1.0)):
        QTest.keyClick(window, keys, Qt.KeyboardModifier.ControlModifier)   # raised ValueError before
        assert window.transport.rate.currentData() == rate
        qtbot.waitUntil(lambda r=rate: window.playback.engine.get_transport_state().extensions["rate"] == r,
                        timeout=20000)


def test_defect_2_pose_inspector_follows_the_frame_after_pausing(window, qtbot, demo):
    open_(window, qtbot, demo)
    window.go_to_frame(38)
    assert window.inspector.index == 38
    QTest.keyClick(window, Qt.Key.Key_Space)
    qtbot.wait(500)
    QTest.keyClick(window, Qt.Key.Key_Space)
    frame = window.model.frame
    assert frame > 40
    assert window.inspector.index == frame and f"frame {frame}/" in window.readout.text()


def guess_report(base, **kw):
    r = SyncReport(kw.get("offset", -820.0), kw.get("confidence", 0.05), kw.get("confident", False), "warn",
                   base.windows, [], [], base.timelines, base.vowels, base.policy)
    r.at_search_edge, r.search_ms = kw.get("edge", True), 800.0
    return r


def test_defect_3_apply_offset_is_refused_for_a_guess_with_the_reason(window, qtbot, demo):
    open_(window, qtbot, demo)
    qtbot.waitUntil(lambda: window.model.sync is not None, timeout=15000)
    window.model.set_sync(guess_report(window.model.sync))
    button = window.qa.offset_button
    assert not button.isEnabled() and "edge of the ±800 ms search" in button.toolTip()
    n = len(window.model.editor.undo_stack)
    window.apply_measured_offset()
    assert len(window.model.editor.undo_stack) == n                 # nothing shifted
    window.model.set_sync(guess_report(window.model.sync, edge=False, offset=-300.0))
    assert not button.isEnabled() and "a guess" in button.toolTip()


def test_defect_4_applied_offsets_stay_on_the_grid_and_show_before_after(window, qtbot, demo):
    open_(window, qtbot, demo)
    window.shift_timeline("mouth", 200)
    qtbot.waitUntil(lambda: window.model.sync is not None and window.model.sync.offset_ms > 120, timeout=15000)
    assert window.qa.offset_button.isEnabled()
    window.apply_measured_offset()
    ev = window.model.editor.events("mouth")
    assert all(isinstance(e["t_ms"], int) and e["t_ms"] % 40 == 0 for e in ev)
    qtbot.waitUntil(lambda: "before:" in window.qa.before_after.text(), timeout=15000)
    assert "after:" in window.qa.before_after.text()
    window.save()
    window.files.saving.finish()                              # saving runs on a worker thread
    saved = json.loads((demo.parent / "mouth_timeline.json").read_text())
    assert all(isinstance(f["t_ms"], int) and f["t_ms"] % 40 == 0 for f in saved["frames"])


def test_a_typed_shift_lands_on_the_grid_while_snapping(window, qtbot, demo, monkeypatch):
    """Edit ▸ Shift mouth track… 250 ms with "Snap to frame grid" on: the track moves 240 ms (a user
    trial saved 250, 370, 410…); with snapping off it moves the 250 typed."""
    open_(window, qtbot, demo)
    monkeypatch.setattr("widgets.flows.edits.QInputDialog.getInt", lambda *a, **k: (250, True))
    before = [e["t_ms"] for e in window.model.editor.events("mouth")]
    act = next(a for a in window.findChildren(type(window.menus.actions["undo"])) if a.text() == "Shift mouth track…")
    act.trigger()
    after = [e["t_ms"] for e in window.model.editor.events("mouth")]
    assert after == [t + 240 for t in before] and all(t % 40 == 0 for t in after)
    assert "snapped to +240" in window.statusBar().currentMessage()
    window.undo()
    window.menus.actions["snap"].trigger()                     # Ctrl+G: snapping off
    act.trigger()
    assert [e["t_ms"] for e in window.model.editor.events("mouth")] == [t + 250 for t in before]


def test_defect_5_dense_drag_and_resize_never_hide_events_and_save_on_the_grid(window, qtbot, dense):
    open_(window, qtbot, dense, 1.0, 2.0)
    ed = window.model.editor
    shown = window.model.project.plan.mouth.copy()
    moved = dict(ed.events("mouth")[35])
    drag(window, qtbot, "mouth", 1.42, 1.75)                 # drag an event far over its neighbours
    assert no_hidden(window)
    mouth = window.model.project.plan.mouth
    assert mouth[43] == moved["mouth_id"] and ed.undo_stack[-1].name.startswith("move 1 mouth event")
    assert (mouth[:35] == shown[:35]).all() and (mouth[44:] == shown[44:]).all()   # nothing else moved
    lane = window.timeline.lanes["mouth"]
    i = lane.event_at(1.62)
    s, e = lane.span(i)
    inside = 2 * lane._px_seconds()
    drag(window, qtbot, "mouth", e - inside, e + 0.3)       # resize over the next ones
    assert no_hidden(window) and len({x["t_ms"] for x in ed.events("mouth")}) == len(ed.events("mouth"))
    window.timeline.set_range((1.2, 1.4))                     # paint a range: digit with nothing selected
    lane.selected.clear()
    window.timeline.setFocus()
    QTest.keyClick(window.timeline.lane_widget("mouth"), Qt.Key.Key_0)
    assert all(window.model.project.plan.mouth[30:35] == 0)
    steps = len(ed.undo_stack)
    assert steps >= 3
    window.undo()
    assert len(ed.undo_stack) == steps - 1
    window.save()
    window.files.saving.finish()
    saved = json.loads((dense.parent / "mouth.json").read_text())["frames"]
    t = [f["t_ms"] for f in saved]
    assert all(isinstance(x, int) and x % 40 == 0 for x in t) and len(t) == len(set(t)), [x for x in t if not isinstance(x, int) or x % 40]


def test_defect_6_reopening_adds_no_duplicate_curves_or_items(window, qtbot, demo):
    def settled():
        open_(window, qtbot, demo)
        qtbot.waitUntil(lambda: window.model.sync is not None, timeout=15000)
        return {k: len(p.items) for k, p in window.timeline.plots.items()}
    counts = settled()
    assert settled() == counts and settled() == counts
    assert len(window.timeline.curves) == 6


def test_defect_7_front_is_not_the_fallback_red(window, qtbot, demo):
    assert style.VIEW_COLORS["front"] != style.FALLBACK
    assert all(max(abs(a - b) for a, b in zip(c, style.FALLBACK)) > 60 for c in style.VIEW_COLORS.values())
    assert "fallback frame" in window.timeline.legend.text()


def test_defect_8_looping_is_not_reported_as_drift(window, qtbot, demo):
    open_(window, qtbot, demo)
    window.timeline.set_range((1.0, 1.4))
    window.go_to_frame(25)
    window.transport.loop.setChecked(True)
    window.playback.play()
    qtbot.wait(1500)                                         # several loops of 0.4 s
    window.playback.pause()
    s = window.playback.drift.history[-1]
    # a loop counted as drift would show its 400 ms jump back; a busy machine may add a few late frames
    assert s["max_ms"] < 150 and s["dropped"] <= 10, s


def test_defect_9_recovered_edits_mark_the_title_unsaved(qtbot, tmp_path, demo, monkeypatch):
    monkeypatch.setenv("LIPSYNC_STATE_DIR", str(tmp_path / "state"))
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    assert w.open_session(demo)
    w.shift_timeline("mouth", 80)
    w.autosave()
    qtbot.waitUntil(lambda: bool(w.recovery.entries()), timeout=10000)
    w2 = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w2)
    monkeypatch.setattr(w2, "ask_recover", lambda session: True)
    assert w2.offer_recovery()
    assert w2.windowTitle().startswith("Lip-sync Studio — *") and w2.model.dirty
    for x in (w2, w):
        x.model.editor.mark_saved()
        x.close()


def test_defect_10_a_closed_qa_panel_comes_back_from_the_view_menu(window, qtbot, demo):
    open_(window, qtbot, demo)
    dock = window.docks["qa"]
    dock.close()
    assert not dock.isVisible()
    act = [a for a in window.menus.panels_menu.actions() if a.text() == "Sync QA"][0]
    act.trigger()
    assert dock.isVisible()


def test_defect_11_dialogs_start_in_the_session_folder_and_export_follows_the_folder(window, qtbot, demo):
    open_(window, qtbot, demo)
    assert window.files.start_folder() == str(demo.parent)
    dlg = window.export_dialog()
    assert dlg.out_edit.text().startswith(str(demo.parent)) and dlg.browse_button.toolTip()
    dlg.out_edit.setText("/elsewhere/export")
    assert "/elsewhere/export/in/fg" in dlg.status.text() and "177 frames" in dlg.status.text()
    dlg.close()


def test_defect_11_save_as_keeps_absolute_paths_absolute(window, qtbot, demo, tmp_path):
    open_(window, qtbot, demo)
    atlas = json.loads(demo.read_text())["inputs"]["atlas_json"]
    assert os.path.isabs(atlas)
    window.shift_timeline("mouth", 40)
    assert window.save_as(tmp_path / "copy" / "s.json") and window.files.saving.finish()
    doc = json.loads((tmp_path / "copy" / "s.json").read_text())
    assert doc["inputs"]["atlas_json"] == atlas                    # not turned into ../../…
    assert (tmp_path / "copy" / doc["inputs"]["audio"]).resolve() == (demo.parent / "demo.wav").resolve()


def test_defect_12_fits_1024x700_readout_whole_and_qa_panel_bounded(qtbot, tmp_path, demo):
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1024, 700)
    w.show()
    open_(w, qtbot, demo)
    assert w.minimumSizeHint().width() <= 1024 and w.width() <= 1024
    label = w.transport.time_label
    assert label.width() >= label.fontMetrics().horizontalAdvance(label.text())
    assert w.timeline.height() > 380                                  # was ~270 px
    width = w.qa.width()
    w.qa.set_drift("drift mean +0.0 ms, p95 1.0 ms, max 2.0 ms, 0 dropped " * 6, ["x" * 400])
    qtbot.wait(50)
    assert w.qa.width() <= max(width, w.qa.maximumWidth())
    w.close()


# ------------------------------------------------------------------- working day
def test_lanes_resize_hide_and_are_remembered(qtbot, tmp_path, demo):
    ini = str(tmp_path / "s.ini")
    w = MainWindow(QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    open_(w, qtbot, demo)
    sizes = w.timeline.splitter.sizes()
    mouth = list(w.timeline.widgets).index("mouth")
    assert sizes[mouth] == max(sizes)                             # the mouth lane is the tallest
    sizes[mouth] += 80
    sizes[0] -= 80
    w.timeline.splitter.setSizes(sizes)
    w.menus.actions["lane:offsets"].setChecked(False)
    assert not w.timeline.lane_visible("offsets")
    qtbot.wait(50)
    want = w.timeline.splitter.sizes()
    w.close()
    w2 = MainWindow(QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(w2)
    w2.show()
    assert not w2.timeline.lane_visible("offsets")
    got = w2.timeline.splitter.sizes()
    assert abs(got[mouth] / sum(got) - want[mouth] / sum(want)) < 0.02   # the same share of the height
    w2.close()


def test_tx_ty_and_scale_have_their_own_axes(window, qtbot, demo):
    open_(window, qtbot, demo)
    items = {k: window.timeline.plots[k].items for k in ("angles", "offsets", "scale")}
    assert window.timeline.curves["tx"] in items["offsets"] and window.timeline.curves["scale"] in items["scale"]
    assert window.timeline.curves["yaw_deg"] in items["angles"]


def test_navigation_keys_markers_go_to_and_zoom(window, qtbot, dense):
    open_(window, qtbot, dense)
    window.go_to_frame(10)
    QTest.keyClick(window, Qt.Key.Key_Period)
    assert window.model.frame == 11                           # next mouth event (one per frame)
    QTest.keyClick(window, Qt.Key.Key_Comma)
    assert window.model.frame == 10
    QTest.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    window.go_to_frame(80)
    QTest.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    window.go_to_frame(0)
    QTest.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.model.frame == 10
    QTest.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.model.frame == 80
    assert window.model.markers == [400.0, 3200.0]
    window.transport.goto.setText("f42")
    QTest.keyClick(window.transport.goto, Qt.Key.Key_Return)
    assert window.model.frame == 42
    window.transport.goto.setText("1:02")     # past the end: the last frame
    QTest.keyClick(window.transport.goto, Qt.Key.Key_Return)
    assert window.model.frame == window.model.n_frames - 1
    QTest.keyClick(window, Qt.Key.Key_Z)
    a, b = window.timeline.visible_range()
    assert a <= 0.01 and b >= window.model.duration_s - 0.01
    window.timeline.set_range((2.0, 2.4))
    lanes_z = max(lane.zValue() for lane in window.timeline.lanes.values())
    assert all(region.zValue() > lanes_z for _, region in window.timeline._range_items)  # edges over outlines
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ShiftModifier)
    a, b = window.timeline.visible_range()
    assert a < 2.0 and b > 2.4 and b - a < 1.0
    window.timeline.show_range(-50, 500)                     # zoom stops at the session's ends
    qtbot.wait(30)
    a, b = window.timeline.visible_range()
    assert a >= -0.2 and b <= window.model.duration_s * 1.05


def offset_report(base, spans):
    windows = []
    for t in range(0, 6000, 1000):
        bad = any(a <= t < b for a, b in spans)
        windows.append({"t0_ms": t, "t1_ms": t + 2000, "offset_ms": 160.0 + t / 100 if bad else 10.0,
                        "score": 0.5, "confidence": 0.3, "verdict": "fail" if bad else "pass"})
    return SyncReport(10.0, 0.5, True, "warn", windows, [[5000.0, 5400.0]], [], base.timelines, base.vowels,
                      base.policy)


def test_qa_list_merges_windows_frames_problems_and_highlights_them(window, qtbot, dense):
    open_(window, qtbot, dense)
    qtbot.waitUntil(lambda: window.model.sync is not None, timeout=15000)
    window.model.set_sync(offset_report(window.model.sync, [(1000, 3000)]))
    rows = [window.qa.problems.item(k).text() for k in range(window.qa.problems.count())]
    assert len(rows) == 2                                   # two overlapping windows -> one span
    assert "1.00–4.00 s" in rows[0] and "local offset +170…+180 ms" in rows[0] and "confidence" in rows[0]
    QTest.keyClick(window, Qt.Key.Key_N)
    assert window.model.frame == 25 and window.qa.problems.currentRow() == 0
    a, b = window.timeline.visible_range()
    assert a < 1.0 and b > 4.0 and b - a < 6.0                # framed, not just jumped to
    QTest.keyClick(window, Qt.Key.Key_N)
    assert window.model.frame == 125 and window.qa.problems.currentRow() == 1
    assert window.qa.fix_button.isEnabled()                # an open-in-silence span: the panel can fix it
    qtbot.mouseClick(window.qa.fix_button, Qt.MouseButton.LeftButton)
    mouth = window.model.project.plan.mouth
    assert not mouth[window.model.frame_at(5.0):window.model.frame_at(5.4)].any()   # closed over 5.0–5.4 s
    window.qa.problems.setCurrentRow(0)
    assert not window.qa.fix_button.isEnabled()            # an offset stretch is not a span to paint


def test_warnings_are_collected_in_a_panel(window, qtbot, tmp_path):
    s = make_session(tmp_path / "w", audio_ms=400, extra={"session_audio_ms": 400})
    doc = json.loads(s.read_text())
    del doc["inputs"]["atlas_json"]
    write_json(s, doc)
    open_(window, qtbot, s)
    texts = [window.warnings_panel.list.item(k).text() for k in range(window.warnings_panel.list.count())]
    assert any("names no atlas" in t for t in texts) and any("no audio file" in t for t in texts)
    assert "warning" in window.status_warnings.text()


def test_self_explanation_tooltips_hover_legend_and_named_undo(window, qtbot, demo):
    open_(window, qtbot, demo)
    for w in (window.qa.next_button, window.qa.offset_button, window.transport.play_button, window.transport.goto,
              window.timeline.plots["mouth"].getAxis("left"), window.timeline.plots["sync"].getAxis("left"),
              window.timeline.ruler):
        assert w.toolTip(), w
    lane = window.timeline.lanes["mouth"]
    assert "mouth event" in lane.describe(3) and " ms)" in lane.describe(3)
    qtbot.waitUntil(lambda: window.model.sync is not None, timeout=15000)
    assert "local offset" in window.timeline.hover_text("sync", 3.0) or "score" in window.timeline.hover_text("sync", 3.0)
    assert "yaw" in window.timeline.hover_text("angles", 1.0)
    legend = window.timeline.legend.text()
    assert all(x in legend for x in ("closed", "front", "pass", "fallback frame"))
    window.shift_timeline("mouth", 40)
    assert window.menus.actions["undo"].text() == "&Undo shift mouth +40 ms"
    window.undo()
    assert window.menus.actions["redo"].text() == "&Redo shift mouth +40 ms"
    window.redo()
    hist = [window.history_panel.list.item(k).text() for k in range(window.history_panel.list.count())]
    assert "shift mouth +40 ms" in hist[-1]
    last = window.history_panel.list.item(len(hist) - 1)
    assert last.toolTip() == "shift mouth +40 ms"          # the whole name where a narrow dock elides the row
    window.history_panel.go_to.emit(0)                    # click "(as opened)"
    assert not window.model.dirty


def test_theme_is_dark_and_can_follow_the_system(window, qtbot):
    from PySide6.QtWidgets import QApplication
    pal = QApplication.instance().palette()
    assert pal.window().color().lightness() < 80
    window.menus.actions["theme:system"].trigger()
    assert window.settings.value("theme") == "system"
    window.menus.actions["theme:dark"].trigger()
    assert QApplication.instance().palette().window().color().lightness() < 80


# ---------------------------------------------------------- issue 14 in the studio
def test_generate_mouth_track_in_the_studio_is_one_undoable_edit(window, qtbot, dense):
    open_(window, qtbot, dense)
    before = json.loads(json.dumps(window.model.editor.docs["mouth"]))
    text = json.loads((SYNC / "ja_1.json").read_text())["text"]
    window.align_panel.text.setPlainText(text)
    assert window.settings.value(f"align_text/{os.path.abspath(dense)}") == text     # remembered per session
    window.align_panel.whole.click()
    qtbot.waitUntil(lambda: window.align_flows.job is None and "generated" in window.align_panel.status.text(),
                    timeout=30000)
    ed = window.model.editor
    assert ed.undo_stack[-1].name.startswith("generate mouth track with text")
    qtbot.waitUntil(lambda: window.model.sync is not None and window.model.sync.verdict in ("pass", "warn"),
                    timeout=20000)
    window.undo()
    assert ed.docs["mouth"] == before
    window.timeline.set_range((1.0, 2.0))
    assert window.align_panel.part.isEnabled()
    window.align_panel.part.click()
    qtbot.waitUntil(lambda: window.align_flows.job is None and "generated" in window.align_panel.status.text(),
                    timeout=30000)
    mouth = window.model.project.plan.mouth
    assert list(mouth[:25]) == [[0, 1, 2, 3, 4, 5, 1, 4][i % 8] for i in range(25)]   # outside: untouched
    assert ed.undo_stack[-1].name.endswith("1000–2000 ms")
    assert no_hidden(window)
    # the words lane: a range generation replaces the words inside the range only (a user trial found
    # every word of the session gone, and the new text's words placed outside the range)
    window.undo()
    window.align_panel.whole.click()
    qtbot.waitUntil(lambda: window.align_flows.job is None and "generated" in window.align_panel.status.text(),
                    timeout=30000)
    words = ed.docs["mouth"]["units"]
    window.align_panel.text.setPlainText(text[: len(text) // 2])     # another text this time
    window.align_panel.part.click()
    qtbot.waitUntil(lambda: window.align_flows.job is None and ed.undo_stack[-1].name.endswith("1000–2000 ms"),
                    timeout=30000)

    def outside(units):
        return [u["text"] for u in units if not 1000 <= (u["t0_ms"] + u["t1_ms"]) / 2 < 2000]
    after = ed.docs["mouth"]["units"]
    assert outside(words) and outside(after) == outside(words)
    times = [(u["t0_ms"], u["t1_ms"]) for u in after]       # in order, none overlapping, new ones in the range
    assert all(a < b <= c for (a, b), (c, _) in zip(times, times[1:])), times
    assert all(1000 <= u["t0_ms"] and u["t1_ms"] <= 2000 for u in after if 1000 <= (u["t0_ms"] + u["t1_ms"]) / 2 < 2000)
    assert all(u["t1_ms"] <= 1000 or u["t0_ms"] >= 2000 for u in after if u["text"] in outside(words) and u not in words)
    for u in after:                                          # morae inside their word
        assert all(u["t0_ms"] <= m["t0_ms"] < m["t1_ms"] <= u["t1_ms"] for m in u.get("morae", []))


def test_the_title_names_the_sessions_folder_when_opened_by_a_relative_path(window, qtbot, demo, monkeypatch):
    """`./run session.json` from inside the session's folder: the title read "(/session.json)"."""
    monkeypatch.chdir(demo.parent)
    open_(window, qtbot, Path(demo.name))
    assert f"({demo.parent.name}/{demo.name})" in window.windowTitle(), window.windowTitle()
