"""Save, Save As and save-before-close, written on a worker thread (SPEC §15: a 1-hour session never
blocks the interface while it saves).

The model hands out a request (its documents are never changed in place, so they are a snapshot);
a worker writes it through the save journal (all or nothing); back on this thread the model marks
saved the undo step that was on top when the request was taken, so edits made meanwhile stay
unsaved. A failed save reports one sentence and changes nothing. Closing the window while a save
runs closes it when the save is done.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QTimer

from contracts.errors import ContractError, OutputError, os_reason
from studio.io.saving import write_session_as, write_timelines
from widgets.workers import Job

# settings remembered per session path that follow the session to its new place
PER_SESSION = ("markers", "align_text", "export_dir")


class _Running:
    """A save on its way: the worker fills result or error; `done` runs once, on this thread."""

    def __init__(self, fn, req, on_saved, what: str):
        self.fn, self.req, self.on_saved, self.what = fn, req, on_saved, what
        self.result = self.error = None
        self.handled = False
        self.job: Job | None = None

    def run(self):
        try:
            self.result = self.fn(self.req)
        except (OutputError, ContractError) as exc:
            self.error = str(exc)
        except OSError as exc:
            self.error = f"{os_reason(exc)}"
        except Exception as exc:  # a bug must not take the window (or the edits) down
            self.error = f"{exc.__class__.__name__}: {exc}"
        return self.result


class SaveFlows:
    def __init__(self, window):
        self.w = window
        self.running: _Running | None = None
        self.close_after = False
        self.again = False      # Ctrl+S during a save: save again when it is done
        self.count = 0          # saves completed: opening a session knows when its files changed

    # ----------------------------------------------------------------- starting
    def save(self, wait: bool = False) -> bool:
        """Ctrl+S: write the edited timelines. With `wait`, return only when written (True when saved)."""
        m = self.w.model
        if self.running is not None:
            if not wait:                         # the newer edits are saved when this save is done
                self.again = True
                self.w.statusBar().showMessage("saving… (the newer edits next)")
                return True
            self.finish()
        if not m.project or not m.dirty:
            return True
        req = m.save_request()
        if not req.docs:                         # undone back to what the files hold
            m.saved(req)
            self._after_save(req, [])
            return True
        changed = m.changed_on_disk()
        if changed and not self.w.ask_overwrite(changed):
            self.close_after = False
            self.w.statusBar().showMessage(f"not saved: {', '.join(p.name for p in changed)} changed on disk since "
                                           f"it was opened; your edits are still here (Save As keeps both)", 15000)
            return False
        self._start(_Running(write_timelines, req, lambda run: self._after_save(run.req, run.result), "saving"))
        return self.finish() if wait else True

    def save_as(self, path: str | Path, wait: bool = False) -> bool:
        """Save As: the session and its timelines to a new place; the open session moves there."""
        m = self.w.model
        if not m.project:
            return False
        self.finish()
        req = m.save_as_request(path)
        self._start(_Running(write_session_as, req, self._after_save_as, "save as"))
        return self.finish() if wait else True

    def _start(self, run: _Running) -> None:
        self.running = run
        run.job = Job(run.run, parent=self.w)
        run.job.finished.connect(lambda _: self._done(run))
        self.w.statusBar().showMessage("saving…")
        run.job.start()

    # ---------------------------------------------------------------- finishing
    def finish(self) -> bool:
        """Wait for a running save and apply its result now; True when it saved (or none ran)."""
        run = self.running
        if run is None:
            return True
        run.job.wait()
        return self._done(run)

    def _done(self, run: _Running) -> bool:
        if run.handled:
            return run.error is None
        run.handled = True
        self.running = None
        w = self.w
        if run.error is not None:
            self.close_after = self.again = False
            w.report_error(f"{'saving' if run.what == 'saving' else 'save as'} failed, nothing was changed on disk: "
                           f"{run.error}")
            return False
        run.on_saved(run)
        self.count += 1
        if self.again:
            self.again = False
            self.save()
        if self.close_after:
            self.close_after = False
            QTimer.singleShot(0, w.close)
        return True

    def _after_save(self, req, written) -> None:
        w, m = self.w, self.w.model
        m.saved(req)
        if not m.dirty:
            w.recovery.discard(req.session_path)
        w.update_title()
        names = ", ".join(p.name for p in written) or "(nothing changed)"
        w.statusBar().showMessage(f"saved {names}" + (" (edits made since are not saved)" if m.dirty else ""), 5000)

    def _after_save_as(self, run: _Running) -> None:
        w, m, req, out = self.w, self.w.model, run.req, run.result
        m.saved_as(req, out)
        w.recovery.discard(req.session_path)
        if m.dirty:                       # edits made while it wrote: their autosave follows the session
            w.files.autosave()
        old, new = os.path.abspath(req.session_path), os.path.abspath(out.session_path)
        for prefix in PER_SESSION:
            for suffix in ("", "/lang"):
                value = w.settings.value(f"{prefix}/{old}{suffix}")
                if value is not None:
                    w.settings.setValue(f"{prefix}/{new}{suffix}", value)
        w.recent.add(new)
        w.settings.setValue("recent", w.recent.items)
        w.menus.refresh_recent()
        w.update_title()
        w.statusBar().showMessage(f"saved as {Path(new).name}", 5000)

    # ------------------------------------------------------------------ closing
    def ready_to_close(self) -> bool:
        """Whether the window may close now. A running save, or a save chosen at the prompt, closes it
        when done (the interface answers meanwhile); Cancel keeps it open."""
        if self.running is not None:
            self.close_after = True
            self.w.statusBar().showMessage("saving… the window closes when it is done")
            return False
        if not self.w.model.dirty:
            return True
        answer = self.w.ask_unsaved()
        if answer == "discard":
            return True
        if answer == "save" and self.save():
            if self.running is None:
                return True
            self.close_after = True
        return False
