"""Warnings, collected: everything the session, the atlas and the work found worth a look, in one list
that stays (a status-bar message is gone after seconds)."""
from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget


class WarningsPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.title = QLabel("No warnings")
        lay.addWidget(self.title)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setToolTip("Warnings of the open session (the CLI's `validate` prints the same)")
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        copy = QPushButton("Copy all")
        copy.setToolTip("Copy every warning to the clipboard")
        copy.clicked.connect(self.copy)
        row.addStretch(1)
        row.addWidget(copy)
        lay.addLayout(row)

    def set_warnings(self, warnings: list[str]) -> None:
        self.list.clear()
        self.list.addItems(warnings)
        self.title.setText(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else "No warnings")

    def copy(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(self.list.item(k).text() for k in range(self.list.count())))
