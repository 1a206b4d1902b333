"""Preview rendering off the GUI thread: the newest request wins, older ones are dropped, never queued."""
from __future__ import annotations

import threading
import time

import numpy as np
from PySide6.QtCore import QObject, Signal

from widgets.qt_image import bgra_to_qimage


class FrameRenderer(QObject):
    frame_ready = Signal(int, object, float)   # frame, QImage, render ms (emitted from the worker)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._cv = threading.Condition()
        self._want: int | None = None
        self._project = None
        self._generation = 0
        self._closed = False
        self._buf = None          # the canvas, reused: a 720x720 frame allocates nothing once warm
        self._thread = threading.Thread(target=self._run, name="preview-render", daemon=True)
        self._thread.start()

    def set_project(self, project) -> None:
        with self._cv:
            self._project = project
            self._generation += 1
            self._want = None

    def request(self, frame: int) -> None:
        with self._cv:
            self._want = frame          # replaces any request not yet started
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while self._want is None and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                frame, project, gen = self._want, self._project, self._generation
                self._want = None
            if project is None:
                continue
            t0 = time.perf_counter()
            try:
                rs = project.session.render
                if self._buf is None or self._buf.shape[:2] != (rs.canvas_h, rs.canvas_w):
                    self._buf = np.zeros((rs.canvas_h, rs.canvas_w, 4), np.uint8)
                image = bgra_to_qimage(project.render_frame(frame, self._buf))  # QImage copies: reuse is safe
            except Exception:  # a sprite that cannot be decoded: the window reports it elsewhere
                continue
            ms = (time.perf_counter() - t0) * 1000
            with self._cv:
                stale = gen != self._generation
            if not stale:
                self.frame_ready.emit(frame, image, ms)

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()
        self._thread.join(timeout=2)
