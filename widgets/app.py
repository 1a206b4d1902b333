"""Start the studio: a QApplication, the main window, the session to open."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from widgets.main_window import MainWindow


def run(session: Path | None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Lip-sync Studio")
    app.setOrganizationName("LipsyncStudio")
    win = MainWindow()
    win.show()
    if not win.offer_recovery() and session is not None:
        win.open_session(session, background=True)   # the window paints at once; the session follows
    return app.exec()
