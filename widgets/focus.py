"""Where the keyboard goes (SPEC §15 "keys reach the timeline").

Shortcuts work whatever has the focus, except while a text field is being edited (a text field
takes its own typing first, through Qt's shortcut override). Enter and Escape leave a text field:
the focus goes back to the timeline, so the next Space plays and the next digit paints. Nothing
starts with a text field focused: fields take the focus only when clicked.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QPlainTextEdit, QWidget

TEXT_FIELDS = (QLineEdit, QAbstractSpinBox, QPlainTextEdit)
ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def text_field(widget) -> QWidget | None:
    """The text field `widget` is (or is inside: a spin box's line edit), or None."""
    while widget is not None:
        if isinstance(widget, TEXT_FIELDS):
            return widget
        widget = widget.parentWidget()
    return None


class FocusReturn(QObject):
    """Installed on the application: Enter / Escape in one of `window`'s text fields hand the focus back
    to `home` after the field has handled the key (Enter in the go-to field still goes to the time).
    In a multi-line field Shift+Enter types a new line."""

    def __init__(self, window: QWidget, home):
        super().__init__(window)
        self.window, self.home = window, home

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt API)
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) or not isinstance(obj, QWidget) \
                or obj.window() is not self.window:
            return False
        field = text_field(obj)
        key = event.key()
        if field is None or (key not in ENTER and key != Qt.Key.Key_Escape):
            return False
        if kind == QEvent.Type.ShortcutOverride:   # Escape is the field's, not "clear the selection"
            event.accept()
            return False
        if isinstance(field, QAbstractSpinBox) and key == Qt.Key.Key_Escape:
            revert = getattr(field, "revert", None)     # the inspector's boxes go back to the key's value
            if callable(revert):
                revert()
        if isinstance(field, QPlainTextEdit) and key in ENTER and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            return False
        QTimer.singleShot(0, self.home)
        return isinstance(field, QPlainTextEdit)        # a multi-line field: Enter leaves instead of a new line
