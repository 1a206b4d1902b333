"""QA panel: offset, confidence and verdict; problem list with previous/next; live drift."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

VERDICT_STYLE = {"pass": "#46b45a", "warn": "#f0b428", "fail": "#dc3c32"}


class QAPanel(QWidget):
    jump_to = Signal(float)        # seconds
    step_problem = Signal(int)     # -1 previous, +1 next
    rescore = Signal()

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
        self.problems = QListWidget()
        self.problems.itemActivated.connect(lambda it: self.jump_to.emit(it.data(256)))
        self.problems.itemClicked.connect(lambda it: self.jump_to.emit(it.data(256)))
        lay.addWidget(self.problems, 1)
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
            self.problems.addItem(item)

    def set_drift(self, text: str, history: list[str]) -> None:
        self.drift.setText(text)
        self.history.setText("\n".join(history[-5:]))
