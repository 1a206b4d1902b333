"""Long work off the GUI thread (export, scoring): a thread that reports through Qt signals."""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal


class Job(QObject):
    progress = Signal(int, int)
    finished = Signal(object)     # the function's result
    failed = Signal(str)          # one sentence
    failed_with = Signal(object)  # the exception itself (when its type matters to the caller)

    def __init__(self, fn, *args, parent=None, with_cancel: bool = False, with_progress: bool = False, **kwargs):
        """Run fn(*args, **kwargs) on a thread; with_cancel passes this job's cancel event as `cancel`,
        with_progress its progress signal's emit as `progress(done, total)`."""
        super().__init__(parent)
        self.cancel = threading.Event()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        if with_cancel:
            self._kwargs["cancel"] = self.cancel
        if with_progress:
            self._kwargs["progress"] = self.progress.emit
        self._thread = threading.Thread(target=self._run, daemon=True, name=getattr(fn, "__name__", "job"))

    def start(self) -> "Job":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            result = self._fn(*self._args, **self._kwargs)
        except Exception as exc:  # reported as a sentence, never a crash of the window
            self._emit(self.failed_with, exc)
            self._emit(self.failed, str(exc) if str(exc) else exc.__class__.__name__)
            return
        self._emit(self.finished, result)

    def _emit(self, signal, value) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the window that asked is gone: nobody to tell
            pass

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()
