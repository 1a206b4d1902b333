"""QA flows: scoring off the GUI thread (the newest scoring wins), applying the measured offset (only
when it is a measurement, snapped to the grid, with the score before and after), fixing spans,
and stepping through problems (the timeline frames each one, the list highlights it)."""
from __future__ import annotations

from PySide6.QtCore import QTimer

from studio.qa.problems import offset_fix, open_run_in_silence, problems
from studio.background import run_in_process
from studio.io.recovery import cache_folder
from widgets.workers import Job


class QAFlows:
    def __init__(self, window):
        self.w = window
        self._job: Job | None = None
        self._gen = 0
        self._pending = False        # edits came while a scoring ran: score once more when it ends
        self._before = None          # the report an applied offset started from
        self._applied = None         # the undo step of that apply
        self.timer = QTimer(window)
        self.timer.setSingleShot(True)
        self.timer.setInterval(300)  # re-score once edits pause (a drag applies every 60 ms)
        self.timer.timeout.connect(self.start_scoring)

    def start_scoring(self, fresh: bool = False) -> None:
        """Score in another process (an hour takes seconds; the interface never waits for it). One
        scoring runs at a time — it also fills the cache the next one uses — and edits made while it
        runs are scored by one more run when it ends: only the newest result is shown. `fresh` (a new
        session) ends a running one instead: it scores audio nobody looks at any more."""
        w = self.w
        if not w.model.project:
            return
        self._gen += 1
        w.qa.set_scoring()
        if fresh and self._job is not None:
            self._job.cancel.set()
            self._job = None
        if self._job is not None and not self._job.wait(0):
            self._pending = True
            return
        self._pending = False
        gen = self._gen
        fn, args = w.model.scoring_work(cache_folder())
        job = Job(run_in_process, fn, *args, parent=w, with_cancel=True)
        job.finished.connect(lambda report: self._scored(gen, report))
        job.failed.connect(lambda msg: self._scored(gen, None, msg))
        self._job = job.start()

    def _scored(self, gen: int, report, failure: str | None = None) -> None:
        self._job = None
        if gen == self._gen:
            if failure is None:
                self.w.model.set_sync(report)
            else:
                self._failed(failure)
        if self._pending:
            self.start_scoring()

    def _failed(self, msg: str) -> None:
        if msg == "cancelled":
            return
        self.w.model.warn(f"sync scoring failed: {msg}")
        self.w.statusBar().showMessage(f"sync scoring failed: {msg}", 10000)

    def on_report(self, report) -> None:
        w = self.w
        w.qa.set_report(report, w.model.step_ms)
        w.timeline.set_sync(report)
        if self._before is not None and report is not None:
            w.qa.show_before_after(self._before, report)
            self._before = None

    def apply_measured_offset(self) -> None:
        """Shift the mouth track by -offset_ms on the frame grid (one undoable command); refused, with the
        reason, when the offset is a guess or the edge of the search."""
        w = self.w
        rep = w.model.sync
        shift, why = offset_fix(rep, w.model.step_ms)
        if shift is None or "mouth" not in w.model.editor.docs:
            w.statusBar().showMessage(f"offset not applied: {why}", 8000)
            return
        shift = w.model.editor.grid_shift("mouth", shift)
        if shift == 0:
            w.statusBar().showMessage("the offset rounds to less than a frame: nothing to shift", 5000)
            return
        self._before = rep
        w.qa.clear_before_after()
        if w.edits.shift("mouth", shift):
            self._applied = w.model.editor.undo_stack[-1]
            w.statusBar().showMessage(f"mouth track shifted by {shift:+.0f} ms", 5000)
        else:
            self._before = None

    def fix_span(self, t0_ms: float, t1_ms: float, kind: str) -> None:
        """Per-span fix: close the mouth in a silent span; open it ('a') in a span of speech."""
        w = self.w
        mouth = 0 if kind == "open in silence" else 1
        step = w.model.step_ms
        a, b = round(t0_ms / step), max(round(t1_ms / step), round(t0_ms / step) + 1)
        if mouth == 0 and w.model.sync is not None and w.model.sync.speech is not None:
            a, b = open_run_in_silence(w.model.project.plan.mouth, w.model.sync.speech, a, b)
        w.edits.run(w.model.editor.paint_mouth, a * step, b * step, mouth, f"fix {kind} span")

    def step_problem(self, direction: int) -> None:
        """N / Shift+N: the next (previous) problem in the list, counted from the highlighted one when the
        playhead is still at its start, else from the playhead (a problem at 0.00 s included). The list
        row, the timeline and the status bar all name the same problem."""
        w = self.w
        items = w.qa.items
        k, f = w.qa.problems.currentRow(), w.model.frame
        start = [w.model.frame_at(p.t0_ms / 1000.0) for p in items]
        if 0 <= k < len(items) and start[k] == f:
            j = k + direction
        elif direction > 0:
            j = next((i for i, s in enumerate(start) if s >= f), len(items))
        else:
            j = max((i for i, s in enumerate(start) if s < f), default=-1)
        if not 0 <= j < len(items):
            w.statusBar().showMessage("no further problem in that direction", 3000)
            return
        p = items[j]
        w.go_to_time(p.t0_ms / 1000.0)
        w.timeline.frame_span(p.t0_ms / 1000.0, p.t1_ms / 1000.0)
        w.qa.select_row(j)
        w.statusBar().showMessage(p.label.strip(), 6000)

    def on_edit(self) -> None:
        """After any edit: a before/after note belongs only to the offset apply still on top of the undo stack."""
        ed = self.w.model.editor
        if self._applied is not None and not (ed.undo_stack and ed.undo_stack[-1] is self._applied):
            self._applied = self._before = None
            self.w.qa.clear_before_after()

    def frame_problem(self, t0_ms: float, t1_ms: float) -> None:
        self.w.timeline.frame_span(t0_ms / 1000.0, t1_ms / 1000.0)

    def close(self) -> None:
        if self._job is not None:
            self._job.cancel.set()
            self._job.wait(5)
