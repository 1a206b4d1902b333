"""The main window: wires the model, preview, timeline, transport, QA panel and export together.

It holds no domain logic: the StudioModel (Qt-free) owns state, the engine owns time, the
render worker owns pixels; this class connects their signals and the user's actions.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QCursor, QImage, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QColorDialog, QDockWidget, QFileDialog, QHBoxLayout, QInputDialog,
                               QLabel, QMainWindow, QMenu, QMessageBox, QSplitter, QVBoxLayout, QWidget)

from studio.edit.editor import EditError
from contracts.errors import ContractError
from studio.io.recovery import Recovery
from studio.model import RecentFiles, StudioModel
from widgets.export_dialog import ExportDialog
from widgets.playback import PlaybackController
from widgets.pose_inspector import PoseInspector
from widgets.preview import PreviewWidget
from widgets.qa_panel import QAPanel
from widgets.render_worker import FrameRenderer
from widgets.timeline import POSE_CURVES, TimelineView
from widgets.transport_bar import TransportBar
from widgets.workers import Job

SHORTCUTS = [
    ("Space", "Play / pause"), ("Left / Right", "Previous / next frame"),
    ("Shift+Left / Shift+Right", "Back / forward 1 second"), ("Home / End", "Jump to start / end"),
    ("J / K / L", "Shuttle: back 1 s / pause / play"), ("Ctrl+L", "Loop the visible range"),
    ("Ctrl+1 / Ctrl+2 / Ctrl+3", "Rate 1x / 0.5x / 0.25x"), ("M", "Mute"),
    ("N / Shift+N", "Next / previous sync problem"), ("F", "Preview: fit / 1:1"),
    ("Click / Shift+click / drag on empty lane", "Select events / add to selection / rubber band"),
    ("Drag an event / its edge", "Move / resize (snaps to the frame grid; Ctrl+G toggles snapping)"),
    ("Double-click a lane", "Insert an event"), ("Delete", "Delete the selected events"),
    ("0 … 5", "Set the selected mouth events to closed, a, i, u, e, o"),
    ("Right-click an event", "Context menu: mouth, expression, split, merge, delete"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo"), ("Ctrl+S / Ctrl+Shift+S", "Save / save as"),
    ("Ctrl+O", "Open session"), ("Ctrl+E", "Export FG sequence"), ("F1", "This list"),
]
AUTOSAVE_MS = 20000


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("Lip-sync Studio")
        self.setAcceptDrops(True)
        self.settings = settings or QSettings()
        self.model = StudioModel()
        self.recent = RecentFiles(self.settings.value("recent", [], list) or [])
        self.last_error: str | None = None
        self.recovery = Recovery()
        self._score_job: Job | None = None
        self._score_gen = 0
        self._warm_job: Job | None = None

        self.preview = PreviewWidget()
        self.readout = QLabel("")
        self.readout.setStyleSheet("font-family: monospace; font-size: 9pt;")
        self.readout.setWordWrap(True)
        self.timeline = TimelineView()
        self.transport = TransportBar()
        self.qa = QAPanel()
        self.renderer = FrameRenderer(self)
        self.playback = PlaybackController(self.model, self)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.preview, 1)
        lv.addWidget(self.readout)
        toggles = QHBoxLayout()
        self.curve_boxes = {}
        for name, _, _ in POSE_CURVES:
            box = QCheckBox(name.replace("_deg", ""))
            box.setChecked(True)
            box.toggled.connect(lambda on, n=name: self.timeline.set_curve_visible(n, on))
            toggles.addWidget(box)
            self.curve_boxes[name] = box
        lv.addLayout(toggles)
        self.inspector = PoseInspector(self.model)
        lv.addWidget(self.inspector)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.timeline)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        split.setSizes([520, 900])
        central = QWidget()
        cv = QVBoxLayout(central)
        cv.setContentsMargins(2, 2, 2, 2)
        cv.addWidget(split, 1)
        cv.addWidget(self.transport)
        self.setCentralWidget(central)
        self.splitter = split
        dock = QDockWidget("Sync QA", self)
        dock.setObjectName("qa_dock")
        dock.setWidget(self.qa)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.status_drift = QLabel("")
        self.statusBar().addPermanentWidget(self.status_drift)

        self._rescore_timer = QTimer(self)
        self._rescore_timer.setSingleShot(True)
        self._rescore_timer.setInterval(300)  # re-score once edits pause (a drag applies every 60 ms)
        self._rescore_timer.timeout.connect(self.start_scoring)
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setInterval(AUTOSAVE_MS)
        self._autosave_timer.timeout.connect(self.autosave)
        self._autosave_timer.start()
        self._build_menus()
        self._connect()
        self.resize(1500, 860)
        geo = self.settings.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = self.settings.value("state")
        if state is not None:
            self.restoreState(state)

    # ------------------------------------------------------------- wiring
    def _connect(self) -> None:
        m = self.model
        m.project_changed.connect(self._on_project)
        m.frame_changed.connect(self._on_frame)
        m.sync_changed.connect(self._on_sync)
        m.timelines_changed.connect(self._on_timelines)
        m.dirty_changed.connect(lambda _: self._update_title())
        self.inspector.edit_failed.connect(self.report_edit_error)
        self.timeline.scene().sigMouseClicked.connect(self._lane_context)
        self.renderer.frame_ready.connect(self._on_frame_ready)
        self.timeline.scrubbed.connect(self._scrub_to)
        self.timeline.scrub_finished.connect(self._scrub_to)
        self.timeline.seek_requested.connect(self._scrub_to)
        self.playback.position_changed.connect(self.timeline.set_playhead)
        self.playback.playing_changed.connect(self._on_playing)
        t = self.transport
        t.play_toggled.connect(self.playback.toggle)
        t.stop_clicked.connect(self.playback.stop)
        t.step.connect(self.step_frames)
        t.jump.connect(lambda where: self.go_to_frame(0 if where == "start" else m.n_frames - 1))
        t.rate_changed.connect(self.set_rate)
        t.loop_toggled.connect(self.set_loop)
        t.volume_changed.connect(lambda v: self.playback.engine and self.playback.engine.set_volume(v))
        t.mute_toggled.connect(lambda on: self.playback.engine and self.playback.engine.set_muted(on))
        self.qa.jump_to.connect(self.go_to_time)
        self.qa.jump_to_frame.connect(self.go_to_frame)
        self.qa.step_problem.connect(self.step_problem)
        self.qa.rescore.connect(self.start_scoring)
        self.qa.apply_offset.connect(self.apply_measured_offset)
        self.qa.fix_span.connect(self.fix_span)

    def _action(self, menu, text, slot, shortcut=None, lanes_only: bool = False) -> QAction:
        """A menu action; `lanes_only` shortcuts (digits, Delete) act only while the timeline has focus,
        so typing into the pose inspector is never taken for an edit."""
        act = QAction(text, self)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
            if lanes_only:
                act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.timeline.addAction(act)
            else:
                act.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        bar = self.menuBar()
        f = bar.addMenu("&File")
        self._action(f, "&Open session…", self.open_dialog, "Ctrl+O")
        self.recent_menu = f.addMenu("Open &recent")
        self._action(f, "&Save", self.save, "Ctrl+S")
        self._action(f, "Save &as…", self.save_as_dialog, "Ctrl+Shift+S")
        self._action(f, "&Export FG sequence…", self.export_dialog, "Ctrl+E")
        f.addSeparator()
        self._action(f, "&Quit", self.close, "Ctrl+Q")
        e = bar.addMenu("&Edit")
        self._action(e, "&Undo", self.undo, "Ctrl+Z")
        self._action(e, "&Redo", self.redo, "Ctrl+Shift+Z")
        e.addSeparator()
        self._action(e, "&Delete selected events", self.delete_selected, "Delete", lanes_only=True)
        for mid, label in enumerate(("closed", "a", "i", "u", "e", "o")):
            self._action(e, f"Mouth: {label}", lambda _=False, m=mid: self.set_mouth_selected(m), str(mid),
                         lanes_only=True)
        self._action(e, "Split selected event at playhead", self.split_selected)
        self._action(e, "Merge selected event with next", self.merge_selected)
        self._action(e, "Shift mouth track…", lambda: self.shift_dialog("mouth"))
        self._action(e, "Shift expression track…", lambda: self.shift_dialog("expression"))
        self._action(e, "Shift pose track…", lambda: self.shift_dialog("pose"))
        self.snap_action = self._action(e, "Snap to frame grid", lambda on: self.timeline.set_snap(on), "Ctrl+G")
        self.snap_action.setCheckable(True)
        self.snap_action.setChecked(True)
        p = bar.addMenu("&Playback")
        self._action(p, "Play / pause", self.playback.toggle, "Space")
        self._action(p, "Previous frame", lambda: self.step_frames(-1), "Left")
        self._action(p, "Next frame", lambda: self.step_frames(1), "Right")
        self._action(p, "Back 1 second", lambda: self.step_frames(-self._fps()), "Shift+Left")
        self._action(p, "Forward 1 second", lambda: self.step_frames(self._fps()), "Shift+Right")
        self._action(p, "Jump to start", lambda: self.go_to_frame(0), "Home")
        self._action(p, "Jump to end", lambda: self.go_to_frame(self.model.n_frames - 1), "End")
        self._action(p, "Shuttle back (J)", lambda: self.step_frames(-self._fps()), "J")
        self._action(p, "Pause (K)", self.playback.pause, "K")
        self._action(p, "Play (L)", self.playback.play, "L")
        self._action(p, "Loop visible range", lambda: self.transport.loop.toggle(), "Ctrl+L")
        for key, rate in (("Ctrl+1", 1.0), ("Ctrl+2", 0.5), ("Ctrl+3", 0.25)):
            self._action(p, f"Rate {rate:g}x", lambda r=rate: self.set_rate(r), key)
        self._action(p, "Mute", lambda: self.transport.mute.toggle(), "M")
        v = bar.addMenu("&View")
        self._action(v, "Preview fit / 1:1", lambda: self.preview.set_fit(not self.preview.fit), "F")
        self._action(v, "Background: checkerboard", lambda: self.preview.set_background(None))
        self._action(v, "Background: colour…", self._pick_background_colour)
        self._action(v, "Background: image…", self._pick_background_image)
        q = bar.addMenu("&QA")
        self._action(q, "Next problem", lambda: self.step_problem(1), "N")
        self._action(q, "Previous problem", lambda: self.step_problem(-1), "Shift+N")
        self._action(q, "Re-score", self.start_scoring)
        h = bar.addMenu("&Help")
        self._action(h, "Keyboard shortcuts", self.show_shortcuts, "F1")
        self._refresh_recent_menu()

    # --------------------------------------------------------------- open
    def open_session(self, path: str | Path) -> bool:
        """Open a session; a bad file shows the CLI's sentence and keeps what was open."""
        if not self.confirm_unsaved():
            return False
        if self.model.project is not None and not self.model.dirty:
            self.recovery.discard(self.model.project.session.path)
        try:
            self.model.open(path)
        except ContractError as err:
            self.report_error(str(err))
            return False
        except Exception as exc:  # an unexpected failure must not take the window down
            self.report_error(f"{Path(path).name}: could not be opened ({exc.__class__.__name__}: {exc})")
            return False
        self.recent.add(path)
        self.settings.setValue("recent", self.recent.items)
        self._refresh_recent_menu()
        return True

    def report_error(self, message: str) -> None:
        self.last_error = message
        self.statusBar().showMessage(message, 15000)
        if not os.environ.get("LIPSYNC_NO_DIALOGS"):
            QMessageBox.critical(self, "Lip-sync Studio", message)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session", "", "Session (*.json)")
        if path:
            self.open_session(path)

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in self.recent.items:
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda _=False, p=p: self.open_session(p))
        self.recent_menu.setEnabled(bool(self.recent.items))

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if any(u.toLocalFile().endswith(".json") for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for u in event.mimeData().urls():
            if u.toLocalFile().endswith(".json"):
                self.open_session(u.toLocalFile())
                return

    def _update_title(self) -> None:
        if not self.model.project:
            return
        s = self.model.project.session
        mark = "*" if self.model.dirty else ""
        self.setWindowTitle(f"Lip-sync Studio — {mark}{s.session_id} ({Path(s.path).name})")

    def _on_project(self, project) -> None:
        self._update_title()
        self.renderer.set_project(project)
        self.playback.load(project)
        self.transport.set_output_status(self.playback.engine.output_status)
        self.transport.set_rate(1.0)
        self.timeline.set_project(self.model)
        for lane in self.timeline.lanes.values():
            lane.edit_failed.connect(self.report_edit_error)
        self.qa.set_report(None)
        self.qa.set_fallbacks(self.model.fallback_runs())
        for w in project.warnings:
            self.statusBar().showMessage(f"warning: {w}", 8000)
        if self._warm_job is not None:
            self._warm_job.cancel.set()
        self._warm_job = Job(project.warm_sprites, parent=self, with_cancel=True).start()
        self.start_scoring()

    # ------------------------------------------------------------- frames
    def _fps(self) -> int:
        return max(1, round(1000.0 / self.model.step_ms))

    def _on_frame(self, frame: int) -> None:
        self.renderer.request(frame)
        if not self.playback.playing:
            self.timeline.set_playhead(self.model.time_of(frame))
        self.timeline.ensure_visible(self.model.time_of(frame))
        self._update_readout(frame)
        if not self.playback.playing:
            self.inspector.show_frame(frame)

    def _on_frame_ready(self, frame: int, image: QImage, ms: float) -> None:
        if frame != self.model.frame and not self.playback.playing:
            return  # an older scrub position: the newer one is on its way
        self.preview.set_image(image, frame)
        self.preview.shown_generation += 1
        self.playback.presented(frame)

    def _update_readout(self, frame: int) -> None:
        if not self.model.project:
            return
        r = self.model.readout(frame)
        fb = f"  FALLBACK: {r['fallback']}" if r["fallback"] else ""
        missing = ("\nwhy: " + "; ".join(r["missing"])) if r["fallback"] else ""
        self.readout.setText(
            f"frame {frame}/{self.model.n_frames - 1}  t {r['time_s']:.3f} s  view {r['view']}  "
            f"expr {r['expression']}  mouth {r['mouth']}{fb}\n"
            f"yaw {r['yaw_deg']:+.1f}°  pitch {r['pitch_deg']:+.1f}°  roll {r['roll_deg']:+.1f}°  "
            f"tx {r['tx']:+.1f}  ty {r['ty']:+.1f}  scale {r['scale']:.3f}  sprite {r['sprite']}{missing}")
        self.readout.setStyleSheet("font-family: monospace; font-size: 9pt;"
                                   + (" color: #ff6060;" if fb else ""))
        self.transport.time_label.setText(f"{r['time_s']:8.3f} s / {self.model.duration_s:.3f} s")

    def go_to_frame(self, frame: int) -> None:
        if self.playback.playing:
            self.playback.seek(self.model.time_of(frame))
        self.model.set_frame(frame)

    def go_to_time(self, seconds: float) -> None:
        self.go_to_frame(self.model.frame_at(seconds))

    def step_frames(self, n: int) -> None:
        if self.playback.playing:
            self.playback.pause()
        self.go_to_frame(self.model.frame + n)

    def _scrub_to(self, seconds: float) -> None:
        self.go_to_time(seconds)

    def _on_playing(self, playing: bool) -> None:
        self.transport.set_playing(playing)
        if not playing and self.playback.drift:
            hist = [self.playback.drift.describe(h) for h in self.playback.drift.history]
            last = hist[-1] if hist else "drift: —"
            self.qa.set_drift(last, hist)
            self.status_drift.setText(last)
            self.timeline.set_playhead(self.model.time_of(self.model.frame))

    # ----------------------------------------------------------- transport
    def set_rate(self, rate: float) -> None:
        if self.playback.engine is None:
            return
        self.transport.set_rate(rate)
        self.playback.engine.set_rate(rate)

    def set_loop(self, on: bool) -> None:
        if self.playback.engine is None:
            return
        if on:
            a, b = self.timeline.visible_range()
            self.playback.engine.set_loop(max(a, 0.0), min(b, self.model.duration_s))
        else:
            self.playback.engine.set_loop(None)

    # ---------------------------------------------------------------- edits
    def _on_timelines(self, kinds) -> None:
        self.timeline.update_data()
        self.renderer.request(self.model.frame)      # same frame, new inputs: render it again
        self._update_readout(self.model.frame)
        self.inspector.show_frame(self.model.frame)
        self.qa.set_fallbacks(self.model.fallback_runs())
        self._rescore_timer.start()  # debounced: a drag re-scores once it settles

    def report_edit_error(self, message: str) -> None:
        self.statusBar().showMessage(f"edit not applied: {message}", 6000)
        self.last_error = message

    def _edit(self, fn, *args) -> bool:
        if self.model.editor is None:
            return False
        try:
            fn(*args)
            return True
        except EditError as err:
            self.report_edit_error(str(err))
            return False

    def undo(self) -> None:
        if self.model.editor and self.model.editor.undo():
            self.statusBar().showMessage("undone", 2000)

    def redo(self) -> None:
        if self.model.editor and self.model.editor.redo():
            self.statusBar().showMessage("redone", 2000)

    def _selection(self):
        """(kind, indices) of the lane with a selection, mouth first."""
        for kind in ("mouth", "expression"):
            lane = self.timeline.lanes.get(kind)
            if lane is not None and lane.selected:
                return kind, sorted(lane.selected)
        return None, []

    def delete_selected(self) -> None:
        kind, sel = self._selection()
        if kind and self._edit(self.model.editor.delete, kind, sel):
            self.timeline.lanes[kind].selected.clear()

    def set_mouth_selected(self, mouth_id: int) -> None:
        lane = self.timeline.lanes.get("mouth")
        if lane is not None and lane.selected:
            self._edit(self.model.editor.set_mouth, sorted(lane.selected), mouth_id)

    def set_expression_selected(self, label: str) -> None:
        lane = self.timeline.lanes.get("expression")
        if lane is not None and lane.selected:
            self._edit(self.model.editor.set_expression, sorted(lane.selected), label)

    def split_selected(self) -> None:
        kind, sel = self._selection()
        if kind and len(sel) == 1:
            self._edit(self.model.editor.split, kind, sel[0], self.model.time_of(self.model.frame) * 1000.0)

    def merge_selected(self) -> None:
        kind, sel = self._selection()
        if kind and sel:
            if self._edit(self.model.editor.merge, kind, sel[0]):
                self.timeline.lanes[kind].selected = {sel[0]}

    def shift_timeline(self, kind: str, ms: float) -> bool:
        return self._edit(self.model.editor.shift, kind, ms)

    def shift_dialog(self, kind: str) -> None:
        if self.model.editor is None or kind not in self.model.editor.docs:
            return
        ms, ok = QInputDialog.getInt(self, "Shift timeline", f"Shift the {kind} track by (ms, + later):",
                                     0, -60000, 60000, int(self.model.step_ms))
        if ok and ms:
            self.shift_timeline(kind, ms)

    def apply_measured_offset(self) -> None:
        """Shift the mouth track by -offset_ms (one undoable command)."""
        rep = self.model.sync
        if rep is None or rep.offset_ms is None or "mouth" not in self.model.editor.docs:
            return
        if self.shift_timeline("mouth", -rep.offset_ms):
            self.statusBar().showMessage(f"mouth track shifted by {-rep.offset_ms:+.0f} ms", 5000)

    def fix_span(self, t0_ms: float, t1_ms: float, kind: str) -> None:
        """Per-span fix: close the mouth in a silent span; open it ('a') in a span of speech."""
        mouth = 0 if kind == "open in silence" else 1
        self._edit(self.model.editor.paint_mouth, t0_ms, t1_ms, mouth, f"fix {kind} span")

    def _lane_context(self, event) -> None:
        if event.button() != Qt.MouseButton.RightButton:
            return
        for kind, lane in self.timeline.lanes.items():
            vb = lane.getViewBox()
            if vb is None or not vb.sceneBoundingRect().contains(event.scenePos()):
                continue
            t = vb.mapSceneToView(event.scenePos()).x()
            i = lane.event_at(t)
            if i is None:
                return
            if i not in lane.selected:
                lane.selected = {i}
                lane.update()
            menu = QMenu(self)
            if kind == "mouth":
                for mid, label in enumerate(("closed", "a", "i", "u", "e", "o")):
                    menu.addAction(f"{mid}: {label}", lambda m=mid: self.set_mouth_selected(m))
            else:
                for label in self.model.project.atlas.labels:
                    menu.addAction(f"expression: {label}", lambda lb=label: self.set_expression_selected(lb))
            menu.addSeparator()
            menu.addAction("Split at playhead", self.split_selected)
            menu.addAction("Merge with next", self.merge_selected)
            menu.addAction("Delete", self.delete_selected)
            event.accept()
            self._context_menu = menu
            if not os.environ.get("LIPSYNC_NO_DIALOGS"):
                menu.popup(QCursor.pos())
            return

    # --------------------------------------------------------------- saving
    def save(self) -> bool:
        if not self.model.project or not self.model.dirty:
            return True
        try:
            written = self.model.save()
        except OSError as exc:
            self.report_error(f"saving failed, nothing was changed on disk: {exc}")
            return False
        self.recovery.discard(self.model.project.session.path)
        self._update_title()
        self.statusBar().showMessage("saved " + ", ".join(p.name for p in written), 5000)
        return True

    def save_as_dialog(self) -> None:
        if not self.model.project:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save session as", "", "Session (*.json)")
        if path:
            self.save_as(path)

    def save_as(self, path: str | Path) -> bool:
        old = self.model.project.session.path
        try:
            new = self.model.save_as(path)
        except (OSError, ContractError) as exc:
            self.report_error(f"save as failed: {exc}")
            return False
        self.recovery.discard(old)
        self.recent.add(new)
        self.settings.setValue("recent", self.recent.items)
        self._refresh_recent_menu()
        return True

    def confirm_unsaved(self) -> bool:
        """With unsaved edits: save, discard or cancel. True when it is fine to go on."""
        if not self.model.dirty:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def ask_unsaved(self) -> str:
        if os.environ.get("LIPSYNC_NO_DIALOGS"):  # non-interactive (tests, screenshots): nobody to ask
            return "discard"
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved edits",
                          "The timelines have unsaved edits. Save them?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        choice = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(choice), "cancel")

    def autosave(self) -> None:
        if self.model.project and self.model.dirty:
            self.recovery.save(self.model.project.session.path, self.model.editor.docs)

    def offer_recovery(self) -> bool:
        """At start: unsaved edits from a session that ended without saving are offered back."""
        for entry in self.recovery.entries():
            session = Path(entry["session"])
            if not session.exists():
                continue
            if self.ask_recover(session) and self.open_session(session):
                self.model.restore_docs(entry["docs"])
                self.statusBar().showMessage(f"recovered unsaved edits of {session.name}", 8000)
                return True
            self.recovery.discard(session)
        return False

    def ask_recover(self, session: Path) -> bool:
        if os.environ.get("LIPSYNC_NO_DIALOGS"):
            return False
        answer = QMessageBox.question(self, "Recover edits",
                                      f"{session.name} has unsaved edits from a session that did not end "
                                      "normally. Recover them?")
        return answer == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------------ QA
    def start_scoring(self) -> None:
        if not self.model.project:
            return
        from studio.qa.sync import score_project
        self.qa.set_scoring()
        self._score_gen += 1
        gen = self._score_gen
        audio = (self.model.audio, self.model.sample_rate) if self.model.audio is not None else None
        job = Job(score_project, self.model.project, None, audio, parent=self)
        # several scorings may overlap while edits come in: only the newest one's result counts
        job.finished.connect(lambda report: gen == self._score_gen and self.model.set_sync(report))
        job.failed.connect(lambda msg: self.statusBar().showMessage(f"sync scoring failed: {msg}", 10000))
        self._score_job = job.start()

    def _on_sync(self, report) -> None:
        self.qa.set_report(report)
        self.timeline.set_sync(report)

    def step_problem(self, direction: int) -> None:
        span = self.model.next_problem(self.model.time_of(self.model.frame), backwards=direction < 0)
        if span is None:
            self.statusBar().showMessage("no further problem in that direction", 3000)
            return
        self.go_to_time(span[0] / 1000.0)
        self.statusBar().showMessage(f"{span[2]}: {span[0] / 1000:.2f}–{span[1] / 1000:.2f} s", 5000)

    # -------------------------------------------------------------- export
    def export_dialog(self) -> ExportDialog | None:
        if not self.model.project:
            return None
        out = Path(self.settings.value("export_dir", str(Path.cwd() / "out" / "fg")))
        dlg = ExportDialog(self.model.project, out, self)
        dlg.jump_to_frame.connect(self.go_to_frame)
        dlg.finished.connect(lambda _: self.settings.setValue("export_dir", dlg.out_edit.text()))
        if not os.environ.get("LIPSYNC_NO_DIALOGS"):
            dlg.open()
        return dlg

    # ---------------------------------------------------------------- misc
    def _pick_background_colour(self) -> None:
        c = QColorDialog.getColor(QColor(0, 177, 64), self, "Preview background")
        if c.isValid():
            self.preview.set_background(c)

    def _pick_background_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Background image", "", "Images (*.png *.jpg *.jpeg)")
        if path:
            self.preview.set_background(QImage(path))

    def show_shortcuts(self) -> None:
        text = "<table>" + "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in SHORTCUTS) + "</table>"
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setText(text)
        if not os.environ.get("LIPSYNC_NO_DIALOGS"):
            box.open()
        self._shortcuts_box = box

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self.confirm_unsaved():
            event.ignore()
            return
        if self.model.project is not None:
            self.recovery.discard(self.model.project.session.path)
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        for job in (self._warm_job, self._score_job):
            if job is not None:
                job.cancel.set()
                job.wait(5)
        self.playback.close()
        self.renderer.close()
        super().closeEvent(event)


