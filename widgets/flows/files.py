"""File flows: open, save, save as, unsaved-edits prompt, autosave and recovery, export dialog.

Every file dialog starts in the open session's folder (else the last folder used). A bad session
shows the CLI's sentence and keeps what was open.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from contracts.errors import ContractError
from widgets.export_dialog import ExportDialog
from widgets.flows.saving import SaveFlows
from widgets.workers import Job


class FileFlows:
    def __init__(self, window):
        self.w = window
        self.saving = SaveFlows(window)
        self._autosave_job: Job | None = None
        self._autosaved = None             # the undo step the last autosave wrote
        self._opening: Job | None = None   # the newest background open: an older one's result is dropped

    # ------------------------------------------------------------------ where
    def start_folder(self) -> str:
        """The folder dialogs open in: the session's, else the last one used, else the working folder."""
        m = self.w.model
        if m.project is not None:
            return str(Path(os.path.abspath(m.project.session.path)).parent)
        return str(self.w.settings.value("last_folder", str(Path.cwd())))

    # ------------------------------------------------------------------- open
    def open_session(self, path: str | Path, background: bool = False) -> bool:
        """Open a session. The files are read and checked first (on a worker thread with `background`,
        the window staying live and the current session open meanwhile); only a session that loaded is
        offered the Save / Discard / Cancel prompt for unsaved edits — a bad file is reported and
        changes nothing. Without `background`, returns whether the session is now open."""
        w = self.w
        self._opening = None
        if not background:
            loaded = self._load(path)
            return loaded is not None and self._show(path, loaded)
        job = Job(w.model.load, path, parent=w)
        self._opening = job
        w.statusBar().showMessage(f"opening {Path(path).name}…")
        job.finished.connect(lambda loaded: job is self._opening and self._show(path, loaded))
        job.failed_with.connect(lambda exc: job is self._opening and self._load_failed(path, exc))
        job.start()
        return False

    @property
    def opening(self) -> bool:
        """A session is being read in the background."""
        return self._opening is not None

    def _load(self, path):
        try:
            return self.w.model.load(path)
        except Exception as exc:  # noqa: BLE001 - reported, never a crash of the window
            self._load_failed(path, exc)
            return None

    def _load_failed(self, path, exc: BaseException) -> None:
        self._opening = None
        if isinstance(exc, ContractError):
            self.w.report_error(str(exc))
        else:
            self.w.report_error(f"{Path(path).name}: could not be opened ({exc.__class__.__name__}: {exc})")

    def _show(self, path, loaded) -> bool:
        w = self.w
        self._opening = None
        self.saving.finish()                    # a save on its way lands in the session it was made for
        saves = self.saving.count
        if not self.confirm_unsaved():
            w.statusBar().showMessage(f"{Path(path).name} not opened: the current session stays open", 5000)
            return False
        if self.saving.count != saves:          # the edits were just saved: the files may have changed
            loaded = self._load(path)
            if loaded is None:
                return False
        old = w.model.project.session.path if w.model.project is not None else None
        w.model.adopt(loaded)
        if old is not None:                     # saved or discarded: its recovery file is done with
            w.recovery.discard(old)
        w.statusBar().showMessage(f"opened {Path(path).name}", 3000)
        w.recent.add(path)
        w.settings.setValue("recent", w.recent.items)
        w.settings.setValue("last_folder", str(Path(os.path.abspath(path)).parent))
        w.menus.refresh_recent()
        return True

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.w, "Open session", self.start_folder(), "Session (*.json)")
        if path:
            self.open_session(path, background=True)

    # ------------------------------------------------------------------- save
    def save(self) -> bool:
        """Ctrl+S: the edited timelines are written on a worker thread (widgets/flows/saving.py)."""
        return self.saving.save()

    def save_as_dialog(self) -> None:
        if not self.w.model.project:
            return
        name = Path(self.w.model.project.session.path).name
        path, _ = QFileDialog.getSaveFileName(self.w, "Save session as", str(Path(self.start_folder()) / name),
                                              "Session (*.json)")
        if path:
            self.save_as(path)

    def save_as(self, path: str | Path) -> bool:
        return self.saving.save_as(path)

    def confirm_unsaved(self) -> bool:
        """With unsaved edits: save (and wait for it), discard or cancel. True when it is fine to go on."""
        if not self.w.model.dirty:
            return True
        answer = self.w.ask_unsaved()
        if answer == "save":
            return self.saving.save(wait=True)
        return answer == "discard"

    def ready_to_close(self) -> bool:
        return self.saving.ready_to_close()

    def ask_unsaved(self) -> str:
        if os.environ.get("LIPSYNC_NO_DIALOGS"):  # non-interactive (tests, screenshots): nobody to ask
            return "discard"
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved edits", "The timelines have unsaved edits. Save them?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.w)
        choice = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(choice), "cancel")

    def ask_overwrite(self, changed: list[Path]) -> bool:
        """Another program rewrote files Save would write: replace its change with these edits?"""
        if os.environ.get("LIPSYNC_NO_DIALOGS"):  # nobody to ask: never overwrite someone else's work
            return False
        names = ", ".join(p.name for p in changed)
        box = QMessageBox(QMessageBox.Icon.Warning, "Changed on disk",
                          f"{names} {'was' if len(changed) == 1 else 'were'} changed by another program after "
                          f"{'it was' if len(changed) == 1 else 'they were'} opened here.\n\nSaving replaces that "
                          f"change with your edits (the other version is kept as a .bak file beside it). Cancel "
                          f"keeps both: your edits stay here, unsaved (Save As writes them elsewhere).",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel, self.w)
        box.button(QMessageBox.StandardButton.Save).setText("Overwrite")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Save

    # -------------------------------------------------------------- recovery
    def autosave(self, wait: bool = False) -> None:
        """The timer's autosave of unsaved edits, written on a worker thread (one at a time), only when
        something changed since the last one."""
        m = self.w.model
        job = self._autosave_job
        if job is not None and not job.wait(None if wait else 0):
            return
        if not (m.project and m.dirty):
            return
        docs, rec = m.unsaved_docs(), self.w.recovery
        top = m.editor.undo_stack[-1] if m.editor.undo_stack else None
        if not docs or (top is self._autosaved and rec.path_for(m.project.session.path).exists()):
            return                             # this state is in the recovery file already
        self._autosaved = top
        job = Job(rec.save, m.project.session.path, docs, rec.ticket(), parent=self.w)
        job.failed.connect(lambda msg: self.w.statusBar().showMessage(f"autosave failed: {msg}", 8000))
        self._autosave_job = job.start()
        if wait:
            job.wait()

    def offer_recovery(self) -> bool:
        """At start: unsaved edits from a session that ended without saving are offered back."""
        w = self.w
        for entry in w.recovery.entries():
            session = Path(entry["session"])
            if not session.exists():
                continue
            if w.ask_recover(session) and self.open_session(session):
                w.model.restore_docs(entry["docs"])
                w.statusBar().showMessage(f"recovered unsaved edits of {session.name}", 8000)
                return True
            w.recovery.discard(session)
        return False

    def ask_recover(self, session: Path) -> bool:
        if os.environ.get("LIPSYNC_NO_DIALOGS"):
            return False
        answer = QMessageBox.question(self.w, "Recover edits", f"{session} has unsaved edits from a session that "
                                                               "did not end normally. Recover them?")
        return answer == QMessageBox.StandardButton.Yes

    # ---------------------------------------------------------------- export
    def export_dialog(self) -> ExportDialog | None:
        w = self.w
        if not w.model.project:
            return None
        session = str(Path(os.path.abspath(w.model.project.session.path)))
        remembered = w.settings.value(f"export_dir/{session}")
        out = Path(remembered) if remembered else Path(self.start_folder()) / "out" / "fg"
        dlg = ExportDialog(w.model.project, out, w, unsaved=w.model.dirty)
        dlg.jump_to_frame.connect(w.go_to_frame)
        dlg.finished.connect(lambda _: w.settings.setValue(f"export_dir/{session}", dlg.out_edit.text()))
        if not os.environ.get("LIPSYNC_NO_DIALOGS"):
            dlg.open()
        return dlg
