"""Generate a mouth track in the studio (SPEC §13): the aligner runs on a worker with progress; the
result replaces the mouth track (the whole session or the selected range) as one undoable edit,
and the session is re-scored at once. The spoken text is remembered per session (a session's
`text` key is the default)."""
from __future__ import annotations

import os
from pathlib import Path

from studio.background import run_in_process
from widgets.workers import Job


class AlignFlows:
    def __init__(self, window):
        self.w = window
        self.job: Job | None = None

    def _key(self) -> str:
        return f"align_text/{os.path.abspath(self.w.model.project.session.path)}"

    def on_project(self) -> None:
        s = self.w.model.project.session
        remembered = self.w.settings.value(self._key())
        text = remembered if remembered is not None else (s.text or "")
        lang = self.w.settings.value(self._key() + "/lang", s.lang or "ja")
        self.w.align_panel.set_text(str(text), str(lang))

    def remember(self, text: str) -> None:
        if self.w.model.project is not None:
            self.w.settings.setValue(self._key(), text)

    def generate(self, text: str, lang: str, only_range: bool) -> None:
        w = self.w
        m = w.model
        if m.project is None or self.job is not None:
            return
        if m.audio is None:
            w.report_error("the session has no audio to align a mouth track to")
            return
        if "mouth" not in m.editor.docs:
            w.report_error(f"{Path(m.project.session.path).name} has no mouth timeline to put a generated track in; "
                           f"run `main.py align` to write one and name it in the session")
            return
        rng = w.timeline.selected_range() if only_range else None
        if only_range and rng is None:
            w.statusBar().showMessage("select a time range on the ruler first (drag on it)", 5000)
            return
        w.settings.setValue(self._key() + "/lang", lang)
        w.align_panel.set_busy(True)
        fn, args = m.generation_work(text or None, lang)
        job = Job(run_in_process, fn, *args, parent=w, with_progress=True, with_cancel=True)
        job.progress.connect(lambda done, total: job is self.job and w.align_panel.set_progress(done, total))
        job.finished.connect(lambda result: job is self.job and self._done(result, rng))
        job.failed.connect(lambda msg: job is self.job and self._failed(msg))
        self.job = job.start()

    def cancel(self) -> None:
        """Cancel answers at once: the aligning process is ended on its thread; its result, if any, is dropped."""
        if self.job is None:
            return
        self.job.cancel.set()
        self.job = None
        self.w.align_panel.set_busy(False)
        self.w.align_panel.status.setText("cancelled: the mouth track is as it was")

    def _done(self, result, rng) -> None:
        w = self.w
        self.job = None
        w.align_panel.set_busy(False)
        t0, t1 = (rng[0] * 1000.0, rng[1] * 1000.0) if rng else (None, None)
        if w.edits.run(w.model.apply_generated, result, t0, t1):
            how = "with the text" if result.mode == "text" else "from the audio alone"
            w.align_panel.status.setText(f"mouth track generated {how}; Ctrl+Z undoes it" +
                                         ("".join(f"\n{n}" for n in result.notes)))
            w.qa_flows.timer.stop()
            w.qa_flows.start_scoring()        # the sync lane and the QA panel follow at once

    def _failed(self, msg: str) -> None:
        self.job = None
        self.w.align_panel.set_busy(False)
        self.w.align_panel.status.setText(f"could not generate: {msg}")
        self.w.model.warn(f"mouth track generation failed: {msg}")
