"""QA panel: offset, confidence and verdict; problem list with previous/next; live drift."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

VERDICT_STYLE = {"pass": "#46b45a", "warn": "#f0b428", "fail": "#dc3c32"}


class QAPanel(QWidget):
    jump_to = Signal(float)        # seconds
    jump_to_frame = Signal(int)
    step_problem = Signal(int)     # -1 previous, +1 next
    rescore = Signal()
    apply_offset = Signal()
    fix_span = Signal(float, float, str)  # t0_ms, t1_ms, kind

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.verdict = QLabel("sync: —")
        self.verdict.setStyleSheet("font-size: 15pt; font-weight: bold;")
        lay.addWidget(self.verdict)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        lay.addWidget(self.details)
        row = QHBoxLayout()
        prev_b, next_b, again = QPushButton("◀ Previous problem"), QPushButton("Next problem ▶"), QPushButton("Re-score")
        prev_b.setToolTip("Shift+N")
        next_b.setToolTip("N")
        prev_b.clicked.connect(lambda: self.step_problem.emit(-1))
        next_b.clicked.connect(lambda: self.step_problem.emit(1))
        again.clicked.connect(self.rescore)
        for b in (prev_b, next_b, again):
            row.addWidget(b)
        lay.addLayout(row)
        fixes = QHBoxLayout()
        self.offset_button = QPushButton("Apply measured offset")
        self.offset_button.setToolTip("Shift the mouth track by -offset (one undoable edit)")
        self.offset_button.clicked.connect(self.apply_offset)
        self.fix_button = QPushButton("Fix selected span")
        self.fix_button.setToolTip("Close the mouth in a silent span / open it in a span of speech")
        self.fix_button.clicked.connect(self._fix_selected)
        fixes.addWidget(self.offset_button)
        fixes.addWidget(self.fix_button)
        lay.addLayout(fixes)
        self.problems = QListWidget()
        self.problems.itemActivated.connect(lambda it: self.jump_to.emit(it.data(256)))
        self.problems.itemClicked.connect(lambda it: self.jump_to.emit(it.data(256)))
        lay.addWidget(self.problems, 1)
        self.fallback_title = QLabel("")
        self.fallback_title.setStyleSheet("color: #ff6060; font-weight: bold;")
        lay.addWidget(self.fallback_title)
        self.fallbacks = QListWidget()
        self.fallbacks.setWordWrap(True)
        self.fallbacks.itemClicked.connect(lambda it: self.jump_to_frame.emit(it.data(256)))
        lay.addWidget(self.fallbacks)
        self.set_fallbacks([])
        self.drift = QLabel("drift: —")
        self.drift.setWordWrap(True)
        lay.addWidget(self.drift)
        self.history = QLabel("")
        self.history.setWordWrap(True)
        self.history.setStyleSheet("color: #999;")
        lay.addWidget(self.history)

    def set_scoring(self) -> None:
        self.verdict.setText("sync: scoring…")
        self.verdict.setStyleSheet("font-size: 15pt; font-weight: bold; color: #999;")

    def set_report(self, report) -> None:
        self.problems.clear()
        if report is None:
            self.verdict.setText("sync: —")
            self.details.setText("")
            return
        color = VERDICT_STYLE.get(report.verdict, "#999")
        self.verdict.setText(f"sync: {report.verdict.upper()}")
        self.verdict.setStyleSheet(f"font-size: 15pt; font-weight: bold; color: {color};")
        off = "n/a" if report.offset_ms is None else f"{report.offset_ms:+.0f} ms"
        guess = "" if report.confident else " — low confidence (a guess)"
        vow = report.vowels
        lines = [f"offset {off} (positive = mouth late), confidence {report.confidence:.2f}{guess}",
                 f"open mouth in silence: {report.open_in_silence_ms:.0f} ms; "
                 f"closed mouth in speech: {report.closed_in_speech_ms:.0f} ms"]
        if vow and vow.get("frames_compared"):
            lines.append(f"vowel agreement: {vow['agreement']:.0%} of {vow['frames_compared']} frames")
        lines += report.notes
        self.details.setText("\n".join(lines))
        for a, b, kind in report.problem_spans():
            item = QListWidgetItem(f"{a / 1000:7.2f}–{b / 1000:.2f} s  {kind}")
            item.setData(256, a / 1000.0)
            item.setData(257, (a, b, kind))
            self.problems.addItem(item)

    def set_fallbacks(self, runs: list[dict]) -> None:
        """Fallback frames, run by run, each naming what is missing (not only the reason)."""
        self.fallbacks.clear()
        total = sum(r["last"] - r["first"] + 1 for r in runs)
        self.fallback_title.setText(f"fallback frames: {total}" if runs else "")
        self.fallback_title.setVisible(bool(runs))
        self.fallbacks.setVisible(bool(runs))
        for r in runs:
            span = f"frame {r['first']}" if r["first"] == r["last"] else f"frames {r['first']}–{r['last']}"
            item = QListWidgetItem(f"{span}: {'|'.join(r['reasons'])} — {'; '.join(r['missing'])}")
            item.setData(256, r["first"])
            item.setToolTip(f"drawn instead: {r['sprite']}")
            self.fallbacks.addItem(item)

    def _fix_selected(self) -> None:
        item = self.problems.currentItem()
        if item is None:
            return
        a, b, kind = item.data(257)
        if kind in ("open in silence", "closed in speech"):
            self.fix_span.emit(float(a), float(b), kind)

    def set_drift(self, text: str, history: list[str]) -> None:
        self.drift.setText(text)
        self.history.setText("\n".join(history[-5:]))
