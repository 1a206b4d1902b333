"""The undo history: every edit by name, the current one marked; click a row to go back (or forward)
to just after that edit."""
from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget


class HistoryPanel(QWidget):
    go_to = Signal(int)     # how many edits should be applied (0 = the file as opened)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Edits (click one, or Up / Down, to go back to it):"))
        self.list = QListWidget()
        self.list.setToolTip("Undo history: the top row is the session as opened; greyed rows are undone edits "
                             "that Redo would bring back")
        self.list.currentRowChanged.connect(self._picked)    # a click, or Up / Down in the list
        self._state = 0
        self._setting = False
        lay.addWidget(self.list, 1)

    def _picked(self, row: int) -> None:
        """The highlighted row is always the state: picking another goes there (after this signal: going
        there rebuilds the list)."""
        if not self._setting and row >= 0 and row != self._state:
            QTimer.singleShot(0, lambda: self.go_to.emit(row))

    def set_history(self, done: list[str], undone: list[str], saved_at: int | None) -> None:
        """`done`: applied edits, oldest first; `undone`: redo-able ones, next first."""
        self._setting = True
        self.list.clear()
        rows = ["(as opened)"] + done + undone
        for k, name in enumerate(rows):
            mark = "● " if k == len(done) else "   "
            saved = "  [saved]" if saved_at is not None and k == saved_at else ""
            item = QListWidgetItem(f"{mark}{name}{saved}")
            item.setToolTip(name)     # a narrow dock elides the row; the whole name is one hover away
            if k > len(done):
                item.setForeground(self.palette().placeholderText())
            self.list.addItem(item)
        self.list.setCurrentRow(len(done))
        self._state = len(done)
        self._setting = False
