"""The hover readout: what is under the pointer in a lane, said twice — in a tooltip beside the pointer,
and in a line under the lanes that stays while the pointer rests (a tooltip alone is hidden again by
the view's own tooltip handling the moment it decides no item under the pointer has one).
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint
from PySide6.QtWidgets import QLabel, QToolTip


class HoverReadout(QObject):
    """Installed on each lane's viewport: answers the tooltip request with the readout, and clears the
    line when the pointer leaves."""

    def __init__(self, view, line: QLabel):
        super().__init__(view)
        self.view, self.line = view, line
        self.text = ""

    def show(self, text: str, widget, global_pos: QPoint) -> None:
        self.text = text
        self.line.setText(text.replace("\n", "  ·  ") if text else "")
        if text:
            QToolTip.showText(global_pos + QPoint(14, 10), text, widget)
        else:
            QToolTip.hideText()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt API)
        kind = event.type()
        if kind == QEvent.Type.ToolTip and self.text:
            QToolTip.showText(event.globalPos() + QPoint(14, 10), self.text, obj)
            return True                       # not the scene's: it would hide the readout
        if kind == QEvent.Type.Leave:
            self.text = ""
            self.line.setText("")
        return False
