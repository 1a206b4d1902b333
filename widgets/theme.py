"""One theme: a dark palette that matches the dark plots (the default), or the system's own.

Fusion style with a dark QPalette; "system" leaves the platform's style and palette alone.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("dark", "system")


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(30, 30, 34), QColor(42, 42, 47), QColor(222, 222, 226)
    roles = {
        QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: QColor(38, 38, 43),
        QPalette.ColorRole.ToolTipBase: QColor(20, 20, 24), QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text, QPalette.ColorRole.Button: QColor(52, 52, 58),
        QPalette.ColorRole.ButtonText: text, QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Link: QColor(110, 180, 255), QPalette.ColorRole.Highlight: QColor(60, 110, 190),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.PlaceholderText: QColor(130, 130, 138),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 126))
    return p


_system: tuple | None = None


def apply_theme(app: QApplication, theme: str) -> None:
    global _system
    if _system is None:
        _system = (app.style().name(), QPalette(app.palette()))
    if theme == "dark":
        app.setStyle(QStyleFactory.create("Fusion"))
        app.setPalette(dark_palette())
        app.setStyleSheet("QToolTip { color: #dedee2; background-color: #141418; border: 1px solid #555; }")
    else:
        app.setStyle(QStyleFactory.create(_system[0]) or app.style())
        app.setPalette(_system[1])
        app.setStyleSheet("")
