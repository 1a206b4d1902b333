"""Start the studio: a QApplication, the main window, the session to open; stop it cleanly when the
system asks (SIGTERM, SIGHUP, SIGINT)."""
from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

from PySide6.QtCore import QSocketNotifier
from PySide6.QtWidgets import QApplication

from widgets.main_window import MainWindow

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def run(session: Path | None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Lip-sync Studio")
    app.setOrganizationName("LipsyncStudio")
    win = MainWindow()
    stopped = stop_on_signals(win)
    win.show()
    if not win.offer_recovery() and session is not None:
        win.open_session(session, background=True)   # the window paints at once; the session follows
    code = app.exec()
    return 128 + stopped[0] if stopped else code     # 143 after SIGTERM, as the CLI (SPEC §11)


def stop_on_signals(win: MainWindow) -> list[int]:
    """Route the stop signals to `win.terminate()` on the GUI thread; returns the list the signal
    received is put in. Qt's event loop runs in C++, where Python's own handlers wait for the next
    Python code; the wakeup fd makes the signal wake the loop at once."""
    received: list[int] = []
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda signum, frame: received.append(signum))
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, win)

    def woken() -> None:
        try:
            reader.recv(256)
        except BlockingIOError:
            pass
        if received and not win.terminating:
            win.terminate()
    notifier.activated.connect(woken)
    win._signal_pipe = (reader, writer, notifier)     # kept as long as the window
    return received
