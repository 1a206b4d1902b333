"""The main window: builds the parts and wires them together; it holds no logic of its own.

State lives in the Qt-free StudioModel, time in the audio engine, pixels in the render worker.
What the user's actions do lives in flows/ (files, edits, QA, aligning); the menus and keys in
menus.py. Docks: Sync QA, Warnings, History, Generate mouth track (View ▸ Panels brings any back).
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import (QApplication, QColorDialog, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QPushButton, QSplitter, QTabBar, QVBoxLayout, QWidget)

from studio.io.recovery import Recovery
from studio.model import RecentFiles, StudioModel
from widgets.flows.align import AlignFlows
from widgets.flows.edits import EditFlows
from widgets.flows.files import FileFlows
from widgets.flows.qa import QAFlows
from widgets.focus import FocusReturn
from widgets.menus import HIDEABLE_LANES, Menus
from widgets.panels.align_panel import AlignPanel
from widgets.panels.history_panel import HistoryPanel
from widgets.panels.pose_inspector import PoseInspector
from widgets.panels.qa_panel import QAPanel
from widgets.panels.warnings_panel import WarningsPanel
from widgets.playback import PlaybackController
from widgets.preview import PreviewWidget
from widgets.render_worker import FrameRenderer
from widgets.theme import apply_theme
from widgets.timeline.view import TimelineView
from widgets.transport_bar import TransportBar
from widgets.workers import Job

AUTOSAVE_MS = 20000
LAYOUT_VERSION = 3   # saved window states of an older layout are not restored


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("Lip-sync Studio")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.settings = settings or QSettings()
        self.model = StudioModel()
        self.recent = RecentFiles(self.settings.value("recent", [], list) or [])
        self.last_error: str | None = None
        self.recovery = Recovery()
        self.terminating = False
        self._warm_job: Job | None = None
        self._context_menu = None

        self.files, self.edits = FileFlows(self), EditFlows(self)
        self.qa_flows, self.align_flows = QAFlows(self), AlignFlows(self)
        self._build_parts()
        self.menus = Menus(self)
        for dock in self.docks.values():
            self.menus.add_panel(dock)
        self.menus.refresh_recent()
        self.menus.update_undo(None)
        self._connect()
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setInterval(AUTOSAVE_MS)
        self._autosave_timer.timeout.connect(self.files.autosave)
        self._autosave_timer.start()
        self._restore_layout()
        self._focus_return = FocusReturn(self, self.focus_timeline)
        QApplication.instance().installEventFilter(self._focus_return)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not getattr(self, "_sized", False):   # first show without a saved layout: a dock a fifth as wide
            self._sized = True
            QTimer.singleShot(0, self.focus_timeline)   # nothing starts with a text field focused
        self._unelide_tabs()

    def _unelide_tabs(self) -> None:
        """Dock tabs show their whole names (Qt elides them to "Sy…" in a narrow dock area; scroll instead)."""
        for bar in self.findChildren(QTabBar):
            bar.setElideMode(Qt.TextElideMode.ElideNone)
            bar.setUsesScrollButtons(True)
            if self.settings.value("state") is None:
                self.resizeDocks([self.docks["qa"]], [max(220, min(360, self.width() // 5))],
                                 Qt.Orientation.Horizontal)

    # --------------------------------------------------------------- parts
    def _build_parts(self) -> None:
        self.preview = PreviewWidget()
        self.preview.setToolTip("The rendered frame: the same pixels the export writes (F: fit / 1:1)")
        self.readout = QLabel("")
        self.readout.setStyleSheet("font-family: monospace; font-size: 9pt;")
        self.readout.setWordWrap(True)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.timeline = TimelineView()
        self.transport = TransportBar()
        self.qa = QAPanel()
        self.warnings_panel = WarningsPanel()
        self.history_panel = HistoryPanel()
        self.align_panel = AlignPanel()
        self.renderer = FrameRenderer(self)
        self.playback = PlaybackController(self.model, self)
        self.inspector = PoseInspector(self.model)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.preview, 1)
        lv.addWidget(self.readout)
        lv.addWidget(self.inspector)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.timeline)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setSizes([360, 900])
        central = QWidget()
        cv = QVBoxLayout(central)
        cv.setContentsMargins(2, 2, 2, 2)
        cv.addWidget(split, 1)
        cv.addWidget(self.transport)
        self.setCentralWidget(central)
        self.splitter = split
        self.docks = {}
        for key, title, widget in (("qa", "Sync QA", self.qa), ("warnings", "Warnings", self.warnings_panel),
                                   ("history", "History", self.history_panel),
                                   ("align", "Generate", self.align_panel)):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{key}_dock")
            dock.setWidget(widget)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            self.docks[key] = dock
        self.tabifyDockWidget(self.docks["qa"], self.docks["warnings"])
        self.tabifyDockWidget(self.docks["warnings"], self.docks["history"])
        self.tabifyDockWidget(self.docks["history"], self.docks["align"])
        self.docks["qa"].raise_()
        self.status_warnings = QPushButton("")
        self.status_warnings.setFlat(True)
        self.status_warnings.setToolTip("Show the warnings panel")
        self.status_warnings.clicked.connect(lambda: self.show_dock("warnings"))
        self.statusBar().addPermanentWidget(self.status_warnings)
        self.status_drift = QLabel("")
        self.statusBar().addPermanentWidget(self.status_drift)
        self.status_snap = QLabel("")          # a reminder while drags do not snap to frames
        self.status_snap.setStyleSheet("color: #f0b040;")
        self.statusBar().addPermanentWidget(self.status_snap)
        self.statusBar().addPermanentWidget(self.transport.output_label)

    def _connect(self) -> None:
        m, t, q = self.model, self.transport, self.qa
        m.project_changed.connect(self._on_project)
        m.frame_changed.connect(self._on_frame)
        m.sync_changed.connect(self.qa_flows.on_report)
        m.timelines_changed.connect(self._on_timelines)
        m.dirty_changed.connect(lambda _: self.update_title())
        m.history_changed.connect(self._on_history)
        m.markers_changed.connect(self._on_markers)
        m.warnings_changed.connect(self._on_warnings)
        self.inspector.edit_failed.connect(self.report_edit_error)
        self.inspector.applied.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self.renderer.frame_ready.connect(self._on_frame_ready)
        self.timeline.scrubbed.connect(self.go_to_time)
        self.timeline.scrub_finished.connect(self.go_to_time)
        self.timeline.seek_requested.connect(self.go_to_time)
        self.timeline.lane_context.connect(self.edits.lane_context)
        self.timeline.range_changed.connect(self.align_panel.set_range)
        self.playback.position_changed.connect(self.timeline.set_playhead)
        self.playback.playing_changed.connect(self._on_playing)
        t.play_toggled.connect(self.playback.toggle)
        t.stop_clicked.connect(self.playback.stop)
        t.step.connect(self.step_frames)
        t.jump.connect(lambda where: self.go_to_frame(0 if where == "start" else m.n_frames - 1))
        t.rate_changed.connect(self.set_rate)
        t.loop_toggled.connect(self.set_loop)
        t.volume_changed.connect(lambda v: self.playback.engine and self.playback.engine.set_volume(v))
        t.mute_toggled.connect(lambda on: self.playback.engine and self.playback.engine.set_muted(on))
        t.go_to_time.connect(self.go_to_typed_time)
        t.bad_time.connect(lambda msg: self.statusBar().showMessage(msg, 5000))
        q.jump_to.connect(self.go_to_time)
        q.jump_to_frame.connect(self.go_to_frame)
        q.problem_selected.connect(self.qa_flows.frame_problem)
        q.step_problem.connect(self.qa_flows.step_problem)
        q.rescore.connect(self.qa_flows.start_scoring)
        q.apply_offset.connect(self.apply_measured_offset)
        q.fix_span.connect(self.fix_span)
        self.history_panel.go_to.connect(self.edits.undo_to)
        self.align_panel.generate.connect(self.align_flows.generate)
        self.align_panel.cancel.connect(self.align_flows.cancel)
        self.align_panel.text_edited.connect(self.align_flows.remember)

    # ----------------------------------------------------------- layout
    def _restore_layout(self) -> None:
        self.resize(1500, 900)
        geo = self.settings.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        if int(self.settings.value("layout_version", 0) or 0) == LAYOUT_VERSION:
            state = self.settings.value("state")
            if state is not None:
                self.restoreState(state)
            hidden = self.settings.value("hidden_lanes", [], list) or []
            for key in hidden:
                self.menus.actions[f"lane:{key}"].setChecked(False)
            self.timeline.restore_state(self.settings.value("timeline_state"))
        theme = str(self.settings.value("theme", "dark"))
        self.menus.actions[f"theme:{theme if theme in ('dark', 'system') else 'dark'}"].setChecked(True)
        self.set_theme(theme, remember=False)

    def reset_layout(self) -> None:
        for key in HIDEABLE_LANES:
            self.menus.actions[f"lane:{key}"].setChecked(True)
        from widgets.timeline.view import LANES
        self.timeline.splitter.setSizes([h for _, _, h, _, _ in LANES])
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.docks["qa"].raise_()

    def set_theme(self, theme: str, remember: bool = True) -> None:
        app = QApplication.instance()
        if app is not None:
            apply_theme(app, theme)
        if remember:
            self.settings.setValue("theme", theme)

    def set_snap(self, on: bool) -> None:
        self.timeline.set_snap(on)
        self.status_snap.setText("" if on else "snap off")
        self.statusBar().showMessage("drags snap to frames" if on else
                                     "snap off: drags land on whole milliseconds (Ctrl+G snaps again)", 4000)

    def set_lane_visible(self, key: str, on: bool) -> None:
        self.timeline.set_lane_visible(key, on)

    def show_dock(self, key: str) -> None:
        self.docks[key].show()
        self.docks[key].raise_()

    # ------------------------------------------------------------ open
    def open_session(self, path: str | Path, background: bool = False) -> bool:
        return self.files.open_session(path, background)

    def report_error(self, message: str) -> None:
        self.last_error = message
        self.statusBar().showMessage(message, 15000)
        if not os.environ.get("LIPSYNC_NO_DIALOGS"):
            QMessageBox.critical(self, "Lip-sync Studio", message)

    def report_edit_error(self, message: str) -> None:
        self.statusBar().showMessage(f"edit not applied: {message}", 6000)
        self.last_error = message

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if any(u.toLocalFile().endswith(".json") for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for u in event.mimeData().urls():
            if u.toLocalFile().endswith(".json"):
                self.open_session(u.toLocalFile(), background=True)
                return

    def update_title(self) -> None:
        if not self.model.project:
            return
        s = self.model.project.session
        mark = "*" if self.model.dirty else ""
        where = Path(s.path).absolute()         # the folder too: sessions are often all called session.json
        self.setWindowTitle(f"Lip-sync Studio — {mark}{s.session_id} ({where.parent.name}/{where.name})")

    def _on_project(self, project) -> None:
        self.update_title()
        self.renderer.set_project(project)
        self.playback.load(project)
        self.transport.set_output_status(self.playback.engine.output_status)
        self.transport.set_rate(1.0)
        self.menus.actions["rate:1"].setChecked(True)
        self.transport.step_ms = project.session.step_ms
        self.timeline.set_project(self.model)
        why = self.model.no_audio_reason()
        self.timeline.set_note("wave", why)
        self.timeline.set_note("sync", "not scored: there is no audio to score against" if why else None)
        for lane in (*self.timeline.lanes.values(), self.timeline.words_lane):
            lane.edit_failed.connect(self.report_edit_error)
        self.qa.set_report(None, project.session.step_ms)
        self.qa.clear_before_after()
        self.qa.clear_drift()
        self.status_drift.setText("")
        self.transport.goto.clear()
        self.qa.set_fallbacks(self.model.fallback_runs())
        markers = self.settings.value(f"markers/{os.path.abspath(project.session.path)}", [], list) or []
        self.model.set_markers([float(m) for m in markers])
        self.align_flows.on_project()
        self._on_history()
        if self._warm_job is not None:
            self._warm_job.cancel.set()
        self._warm_job = Job(project.warm_sprites, parent=self, with_cancel=True).start()
        self.qa_flows.start_scoring(fresh=True)

    def _on_warnings(self, warnings: list[str]) -> None:
        self.warnings_panel.set_warnings(warnings)
        n = len(warnings)
        self.status_warnings.setText(f"⚠ {n} warning{'s' if n != 1 else ''}" if n else "")
        self.status_warnings.setVisible(bool(n))

    def _on_history(self) -> None:
        ed = self.model.editor
        self.menus.update_undo(ed)
        self.update_title()
        if ed is not None:
            saved = ed.undo_stack.index(ed.saved_marker) + 1 if ed.saved_marker in ed.undo_stack else \
                (0 if ed.saved_marker is None else None)
            self.history_panel.set_history(ed.history(), [c.name for c in reversed(ed.redo_stack)], saved)

    def _on_markers(self, markers: list[float]) -> None:
        self.timeline.set_markers(markers)
        if self.model.project is not None:
            self.settings.setValue(f"markers/{os.path.abspath(self.model.project.session.path)}", markers)

    # ------------------------------------------------------------- frames
    def fps(self) -> int:
        return max(1, round(1000.0 / self.model.step_ms))

    def _on_frame(self, frame: int) -> None:
        self.renderer.request(frame)
        if not self.playback.playing:
            self.timeline.set_playhead(self.model.time_of(frame))
            self.inspector.show_frame(frame)
        self.timeline.ensure_visible(self.model.time_of(frame))
        self._update_readout(frame)

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
        self.readout.setStyleSheet("font-family: monospace; font-size: 9pt;" + (" color: #ff6060;" if fb else ""))
        self.transport.time_label.setText(f"{r['time_s']:.3f} / {self.model.duration_s:.3f} s")

    def go_to_frame(self, frame: int) -> None:
        if self.playback.playing:
            self.playback.seek(self.model.time_of(frame))
        self.model.set_frame(frame)

    def go_to_time(self, seconds: float) -> None:
        self.go_to_frame(self.model.frame_at(seconds))

    def go_to_typed_time(self, seconds: float) -> None:
        """The go-to field: there, and in view — also when the playhead is already there, out of view."""
        self.go_to_time(seconds)
        self.timeline.ensure_visible(self.model.time_of(self.model.frame))

    def step_frames(self, n: int) -> None:
        if self.playback.playing:
            self.playback.pause()
        self.go_to_frame(self.model.frame + n)

    def step_event(self, direction: int) -> None:
        f = self.model.next_event(self.model.frame, "mouth", backwards=direction < 0)
        if f is not None:
            self.go_to_frame(f)

    def toggle_marker(self) -> None:
        if self.model.project:
            self.model.toggle_marker(self.model.frame)

    def step_marker(self, direction: int) -> None:
        f = self.model.next_marker(self.model.frame, backwards=direction < 0) if self.model.project else None
        if f is None:
            self.statusBar().showMessage("no marker in that direction (Ctrl+B adds one)", 3000)
            return
        self.go_to_frame(f)

    def focus_goto(self) -> None:
        self.transport.goto.setFocus()
        self.transport.goto.selectAll()

    def focus_timeline(self) -> None:
        """Keys go to the timeline (after Enter / Escape in a text field, and at start)."""
        self.timeline.setFocus()

    def zoom_to_selection(self) -> None:
        if not self.timeline.zoom_to_selection():
            self.statusBar().showMessage("nothing selected: select events or drag a range on the ruler", 4000)

    def _on_playing(self, playing: bool) -> None:
        self.transport.set_playing(playing)
        if not playing:
            frame = self.model.frame      # the pose inspector and readout follow the paused frame
            self.inspector.show_frame(frame)
            self._update_readout(frame)
            self.timeline.set_playhead(self.model.time_of(frame))
            if self.playback.drift:
                hist = [self.playback.drift.describe(h) for h in self.playback.drift.history]
                last = hist[-1] if hist else "drift: —"
                self.qa.set_drift(last, hist)
                self.status_drift.setText(last)

    # ----------------------------------------------------------- transport
    def set_rate(self, rate: float) -> None:
        """One rate for the dropdown and the audio (menu, keys and dropdown all come here)."""
        if self.playback.engine is None:
            return
        self.transport.set_rate(rate)
        self.menus.actions[f"rate:{rate:g}"].setChecked(True)
        self.playback.engine.set_rate(rate)

    def set_loop(self, on: bool) -> None:
        if self.playback.engine is None:
            return
        if on:
            a, b = self.timeline.selected_range() or self.timeline.visible_range()
            self.playback.engine.set_loop(max(a, 0.0), min(b, self.model.duration_s))
        else:
            self.playback.engine.set_loop(None)

    # --------------------------------------------------------------- edits
    def _on_timelines(self, kinds) -> None:
        self.timeline.update_data(kinds)
        self.renderer.request(self.model.frame)      # same frame, new inputs: render it again
        self._update_readout(self.model.frame)
        self.inspector.show_frame(self.model.frame)
        self.qa.set_fallbacks(self.model.fallback_runs())
        self.qa_flows.on_edit()
        self.qa_flows.timer.start()                  # debounced: a drag re-scores once it settles

    def undo(self) -> None:
        self.edits.undo()

    def redo(self) -> None:
        self.edits.redo()

    def shift_timeline(self, kind: str, ms: float) -> bool:
        return self.edits.shift(kind, ms)

    def apply_measured_offset(self) -> None:
        self.qa_flows.apply_measured_offset()

    def fix_span(self, t0_ms: float, t1_ms: float, kind: str) -> None:
        self.qa_flows.fix_span(t0_ms, t1_ms, kind)

    # ---------------------------------------------------- files (facade)
    def save(self) -> bool:
        return self.files.save()

    def save_as(self, path) -> bool:
        return self.files.save_as(path)

    def confirm_unsaved(self) -> bool:
        return self.files.confirm_unsaved()

    def ask_unsaved(self) -> str:
        return self.files.ask_unsaved()

    def ask_overwrite(self, changed: list[Path]) -> bool:
        return self.files.ask_overwrite(changed)

    def ask_recover(self, session: Path) -> bool:
        return self.files.ask_recover(session)

    def offer_recovery(self) -> bool:
        return self.files.offer_recovery()

    def autosave(self) -> None:
        self.files.autosave(wait=True)

    def export_dialog(self):
        return self.files.export_dialog()

    # ---------------------------------------------------------------- misc
    def pick_background_colour(self) -> None:
        c = QColorDialog.getColor(QColor(0, 177, 64), self, "Preview background")
        if c.isValid():
            self.preview.set_background(c)

    def pick_background_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Background image", self.files.start_folder(),
                                              "Images (*.png *.jpg *.jpeg)")
        if path:
            self.preview.set_background(QImage(path))

    def show_shortcuts(self) -> None:
        from widgets.shortcuts_dialog import ShortcutsDialog
        self._shortcuts_box = ShortcutsDialog(self.menus.shortcut_rows(), self)
        if not os.environ.get("LIPSYNC_NO_DIALOGS"):
            self._shortcuts_box.open()

    def terminate(self) -> None:
        """Asked to stop by the system (SIGTERM at logout or from a process manager, SIGHUP, Ctrl+C in
        the terminal): a running save finishes, unsaved edits go to the recovery file (offered at the
        next start), and the window closes without asking anything."""
        self.terminating = True
        self.files.saving.finish()
        self.files.autosave(wait=True)
        self.close()

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self.terminating and not self.files.ready_to_close():   # unsaved edits asked about; a
            event.ignore()                                                # running save finishes first
            return
        if self.model.project is not None and not (self.terminating and self.model.dirty):
            self.recovery.discard(self.model.project.session.path)
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.setValue("timeline_state", self.timeline.save_state())
        self.settings.setValue("hidden_lanes", [k for k in HIDEABLE_LANES if not self.timeline.lane_visible(k)])
        self.settings.setValue("layout_version", LAYOUT_VERSION)
        if self._warm_job is not None:
            self._warm_job.cancel.set()
            self._warm_job.wait(5)
        self.qa_flows.close()
        self.playback.close()
        self.renderer.close()
        super().closeEvent(event)
