"""Generate a mouth track in the studio (SPEC §13): the aligner runs on a worker with progress; the
result replaces the mouth track (the whole session or the selected range) as one undoable edit,
and the session is re-scored at once. The spoken text is remembered per session (a session's
`text` key is the default)."""
from __future__ import annotations

import os
from pathlib import Path

from studio.background import run_in_process
from studio.qa.align.text import text_language
from widgets.workers import Job


def guess_lang(text: str) -> str:
    """A session that names no language: the one its text is written in, else the aligner's default
    (Japanese)."""
    return text_language(text) or "ja"


class AlignFlows:
    def __init__(self, window):
        self.w = window
        self.job: Job | None = None

    def _key(self) -> str:
        return f"align_text/{os.path.abspath(self.w.model.project.session.path)}"

    def on_project(self) -> None:
        """A new session: its text and language, nothing left of the last one (a running generation is
        dropped, its note cleared)."""
        if self.job is not None:
            self.cancel()
        self.w.align_panel.status.setText("")
        s = self.w.model.project.session
        remembered = self.w.settings.value(self._key())
        text = str(remembered if remembered is not None else (s.text or ""))
        lang = self.w.settings.value(self._key() + "/lang", s.lang or guess_lang(text))
        self.w.align_panel.set_text(text, str(lang))

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
        """The aligned track becomes one edit, computed on a worker thread against a fork of the editor
        (an hour is 90,000 events) and taken over here in one step."""
        w = self.w
        t0, t1 = (rng[0] * 1000.0, rng[1] * 1000.0) if rng else (None, None)
        w.align_panel.status.setText("putting the track in…")
        job = Job(w.model.prepare_generated, result, t0, t1, parent=w)
        self.job = job
        job.finished.connect(lambda fork: job is self.job and self._adopt(fork, result, t0, t1))
        job.failed.connect(lambda msg: job is self.job and self._failed(msg))
        job.start()

    def _adopt(self, fork, result, t0, t1) -> None:
        w = self.w
        self.job = None
        w.align_panel.set_busy(False)
        if w.edits.run(w.model.adopt_generated, fork, result, t0, t1):
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
