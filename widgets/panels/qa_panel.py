"""Sync QA panel: verdict, offset with its confidence, the problem list, fixes, fallback frames, drift.

Problems come merged into spans (studio/qa/problems.py), each window span with its local offsets
and confidence. "Apply measured offset" is enabled only for a measurement (not a guess, not the
edge of the search); its tooltip says why when it is not. After an apply the panel shows the score
before and after.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QSizePolicy,
                               QToolTip, QVBoxLayout, QWidget)

from studio.qa.problems import offset_fix, problems

VERDICT_STYLE = {"pass": "#46b45a", "warn": "#f0b428", "fail": "#dc3c32"}
PANEL_W = 340


class QAPanel(QWidget):
    jump_to = Signal(float)               # seconds
    jump_to_frame = Signal(int)
    problem_selected = Signal(float, float)   # t0_ms, t1_ms: frame it in the timeline
    step_problem = Signal(int)            # -1 previous, +1 next
    rescore = Signal()
    apply_offset = Signal()
    fix_span = Signal(float, float, str)  # t0_ms, t1_ms, kind

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumWidth(200)
        self.setMaximumWidth(PANEL_W + 120)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        lay = QVBoxLayout(self)
        self.verdict = QLabel("sync: —")
        self.verdict.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.verdict.setToolTip("The sync verdict (ITU-R BT.1359 windows: pass within +45/−125 ms, warn within "
                                "+90/−185 ms; low confidence turns pass into warn).")
        lay.addWidget(self.verdict)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.details)
        self.before_after = QLabel("")
        self.before_after.setWordWrap(True)
        self.before_after.setStyleSheet("color: #9fd3ff;")
        lay.addWidget(self.before_after)
        row = QHBoxLayout()
        self.prev_button, self.next_button = QPushButton("◀ Prev"), QPushButton("Next ▶")
        self.rescore_button = QPushButton("Re-score")
        self.prev_button.setToolTip("Previous problem (Shift+N): frames it in the timeline")
        self.next_button.setToolTip("Next problem (N): frames it in the timeline")
        self.rescore_button.setToolTip("Score the session again (it is re-scored by itself after every edit)")
        self.prev_button.clicked.connect(lambda: self.step_problem.emit(-1))
        self.next_button.clicked.connect(lambda: self.step_problem.emit(1))
        self.rescore_button.clicked.connect(self.rescore)
        for b in (self.prev_button, self.next_button, self.rescore_button):
            row.addWidget(b)
        lay.addLayout(row)
        fixes = QHBoxLayout()
        self.offset_button = QPushButton("Apply offset")
        self.offset_button.clicked.connect(self.apply_offset)
        self.fix_button = QPushButton("Fix span")
        self.fix_button.setToolTip("Close the mouth over an open-in-silence span / open it over a closed-in-speech span")
        self.fix_button.clicked.connect(self._fix_selected)
        fixes.addWidget(self.offset_button)
        fixes.addWidget(self.fix_button)
        lay.addLayout(fixes)
        title = QLabel("Problems (click to go there):")
        title.setWordWrap(True)
        lay.addWidget(title)
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        self.problems.setToolTip("Open mouth in silence, closed mouth in speech, and stretches where the local "
                                 "offset fails or warns (overlapping windows merged), in time order.")
        self.problems.itemActivated.connect(self._on_item)
        self.problems.itemClicked.connect(self._on_item)
        self.problems.currentItemChanged.connect(lambda cur, _: self._update_fix_button())
        lay.addWidget(self.problems, 2)
        self.fallback_title = QLabel("")
        self.fallback_title.setStyleSheet("color: #ff6060; font-weight: bold;")
        lay.addWidget(self.fallback_title)
        self.fallbacks = QListWidget()
        self.fallbacks.setWordWrap(True)
        self.fallbacks.itemClicked.connect(lambda it: self.jump_to_frame.emit(it.data(256)))
        lay.addWidget(self.fallbacks, 1)
        self.set_fallbacks([])
        self.drift = QLabel("drift: —")
        self.drift.setWordWrap(True)
        self.drift.setToolTip("How far each shown frame was from the audio clock in the last playback runs")
        lay.addWidget(self.drift)
        self.history = QLabel("")
        self.history.setWordWrap(True)
        self.history.setStyleSheet("color: #999;")
        lay.addWidget(self.history)
        self.report = None
        self.step_ms = 40.0
        self._items: list = []
        self.set_report(None)

    def set_scoring(self) -> None:
        self.verdict.setText("sync: scoring…")
        self.verdict.setStyleSheet("font-size: 15pt; font-weight: bold; color: #999;")

    def set_report(self, report, step_ms: float | None = None) -> None:
        self.report = report
        if step_ms is not None:
            self.step_ms = step_ms
        self.problems.clear()
        self._items = problems(report)
        shift, why = offset_fix(report, self.step_ms)
        if self.offset_button.isEnabled() != (shift is not None) and QToolTip.isVisible():
            QToolTip.hideText()          # a shown tooltip is not redrawn by setToolTip: it would go stale
        self.offset_button.setEnabled(shift is not None)
        self.offset_button.setToolTip(why if shift is not None else f"Not available: {why}")
        if report is None:
            self.verdict.setText("sync: —")
            self.verdict.setStyleSheet("font-size: 15pt; font-weight: bold;")
            self.details.setText("")
            self._update_fix_button()
            return
        color = VERDICT_STYLE.get(report.verdict, "#999")
        self.verdict.setText(f"sync: {report.verdict.upper()}")
        self.verdict.setStyleSheet(f"font-size: 15pt; font-weight: bold; color: {color};")
        if report.offset_ms is None:
            off = "offset: not measured"
        else:
            kind = "a guess" if not report.confident else "measured"
            edge = ", at the edge of the search" if report.at_search_edge else ""
            off = (f"offset {report.offset_ms:+.0f} ms (positive = mouth late), confidence "
                   f"{report.confidence:.2f}: {kind}{edge}")
        vow = report.vowels
        lines = [off, f"open mouth in silence: {report.open_in_silence_ms:.0f} ms; "
                      f"closed mouth in speech: {report.closed_in_speech_ms:.0f} ms"]
        if vow and vow.get("frames_compared"):
            lines.append(f"vowel agreement: {vow['agreement']:.0%} of {vow['frames_compared']} frames")
        lines += report.notes
        self.details.setText("\n".join(lines))
        for p in self._items:             # row k shows self._items[k]
            item = QListWidgetItem(p.label)
            if p.kind.startswith("offset"):
                item.setToolTip("Local offsets of the windows in this stretch, each with its confidence")
            self.problems.addItem(item)
        self._update_fix_button()

    def show_before_after(self, before, after) -> None:
        """After an applied offset: what the score was and what it is now."""
        def fmt(r):
            off = "n/a" if r.offset_ms is None else f"{r.offset_ms:+.0f} ms"
            return f"{off} ({r.verdict}, confidence {r.confidence:.2f})"
        self.before_after.setText(f"offset applied — before: {fmt(before)} → after: {fmt(after)}")

    def clear_before_after(self) -> None:
        self.before_after.setText("")

    @property
    def items(self) -> list:
        """The problems in list order (row k shows items[k])."""
        return self._items

    def select_row(self, k: int) -> None:
        """Highlight problem k (N / Shift+N)."""
        self.problems.setCurrentRow(k)
        self.problems.scrollToItem(self.problems.item(k))

    def _current(self):
        """The Problem of the selected row, or None."""
        k = self.problems.currentRow()
        return self._items[k] if 0 <= k < len(self._items) else None

    def _on_item(self, item) -> None:
        p = self._items[self.problems.row(item)]
        self.jump_to.emit(p.t0_ms / 1000.0)
        self.problem_selected.emit(float(p.t0_ms), float(p.t1_ms))

    def _update_fix_button(self) -> None:
        p = self._current()
        self.fix_button.setEnabled(p is not None and p.fixable)

    def _fix_selected(self) -> None:
        p = self._current()
        if p is not None and p.fixable:
            self.fix_span.emit(float(p.t0_ms), float(p.t1_ms), p.kind)

    def set_fallbacks(self, runs: list[dict]) -> None:
        """Fallback frames, run by run, each naming what is missing (not only the reason)."""
        self.fallbacks.clear()
        total = sum(r["last"] - r["first"] + 1 for r in runs)
        self.fallback_title.setText(f"Fallback frames: {total} (click to go there)" if runs else "")
        self.fallback_title.setVisible(bool(runs))
        self.fallbacks.setVisible(bool(runs))
        for r in runs:
            span = f"frame {r['first']}" if r["first"] == r["last"] else f"frames {r['first']}–{r['last']}"
            item = QListWidgetItem(f"{span}: {'|'.join(r['reasons'])} — {'; '.join(r['missing'])}")
            item.setData(256, r["first"])
            item.setToolTip(f"drawn instead: {r['sprite']}")
            self.fallbacks.addItem(item)

    def clear_drift(self) -> None:
        """A new session: the last one's playback runs say nothing about it."""
        self.drift.setText("drift: —")
        self.history.setText("")

    def set_drift(self, text: str, history: list[str]) -> None:
        """`text` is the last run; `history` all runs, oldest first (the last one is `text`)."""
        self.drift.setText(f"last run: {text}")
        earlier = history[:-1][-4:]
        self.history.setText("earlier runs:\n" + "\n".join(earlier) if earlier else "")
