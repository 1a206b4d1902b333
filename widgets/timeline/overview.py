"""The overview strip: the whole session at a glance — mouth colours, sync problems, markers, the
playhead — with the visible range as a window to drag (pan) or to pull by its edges (zoom). A click
outside the window centres the view there. An hour is navigable without the wheel.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel

from widgets.timeline import strips, style

HEIGHT = 22


SHARE_ROWS = 14


def share_columns(values: np.ndarray, columns: int, kinds: int, rows: int = SHARE_ROWS) -> np.ndarray | None:
    """`values` (0..kinds-1) binned into `columns` equal runs of frames; each column a stack of `rows`
    cells, bottom up, in which each value takes its share of the run's frames (kind 0 at the bottom).
    None when there are no more frames than columns (then each frame gets its own column)."""
    n = len(values)
    if n <= columns:
        return None
    column = np.arange(n, dtype=np.int64) * columns // n
    counts = np.bincount(column * kinds + values, minlength=columns * kinds).reshape(columns, kinds)
    share = np.cumsum(counts, axis=1) / counts.sum(axis=1, keepdims=True)
    level = (np.arange(rows) + 0.5) / rows
    return (share[:, None, :] > level[None, :, None]).argmax(axis=2).T      # rows x columns


NARROW_PX = 16        # a window narrower than this on screen is grabbed whole: its edges cannot be pulled


class OverviewBox(pg.ViewBox):
    clicked = Signal(float)
    dragged = Signal(object)      # pyqtgraph's drag event, for a press that did not land on the window

    def mouseClickEvent(self, ev):  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(self.mapSceneToView(ev.scenePos()).x())

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 - the window is dragged, not the strip
        ev.ignore()
        if ev.button() == Qt.MouseButton.LeftButton:
            self.dragged.emit(ev)

    def wheelEvent(self, ev, axis=None):  # noqa: N802
        ev.ignore()


class Overview(pg.PlotWidget):
    range_requested = Signal(float, float)     # the visible range the user asks for, seconds

    duration = 1.0
    _mouth = None      # (values, seconds) of the mouth track shown

    def __init__(self, axis_width: int, parent=None):
        self.box = OverviewBox(enableMenu=False)
        super().__init__(parent, viewBox=self.box, background=style.BACKGROUND)
        self.setFixedHeight(HEIGHT)
        p = self.getPlotItem()
        p.hideAxis("bottom")
        p.getAxis("left").setWidth(axis_width)        # lined up with the lanes' time axis below
        p.getAxis("left").setStyle(showValues=False, tickLength=0)
        name = QLabel("all", self)
        name.setStyleSheet("color: #b4b4bc; font-size: 8pt; background: transparent;")
        name.move(3, 3)
        p.hideButtons()
        p.setMenuEnabled(False)
        p.layout.setContentsMargins(0, 0, 0, 0)
        self.box.setMouseEnabled(x=False, y=False)
        self.box.setYRange(0, 1, padding=0)
        self.mouth = strips.StripItem(0.15, 0.7)
        self.problems = strips.StripItem(0.0, 0.15, z=2)
        for item in (self.mouth, self.problems):
            p.addItem(item)
        self.window = pg.LinearRegionItem((0, 1), movable=True, brush=pg.mkBrush(255, 255, 255, 60),
                                          pen=pg.mkPen(style.SELECTION, width=2))   # seen even when a few px wide
        self.window.setZValue(10)
        p.addItem(self.window)
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=False, pen=pg.mkPen(style.PLAYHEAD, width=2))
        self.playhead.setZValue(11)
        p.addItem(self.playhead)
        self._markers: list = []
        self._updating = False
        self.window.sigRegionChanged.connect(self._on_window)
        self.box.clicked.connect(self._centre_on)
        self.box.dragged.connect(self._drag_narrow_window)
        self._grab: float | None = None       # a narrow window's drag: pointer time minus window start
        self.box.sigResized.connect(self._show_mouth)     # a column per pixel of the strip as laid out
        self.setToolTip("The whole session: drag the window to move through it, pull its edges to zoom, "
                        "click to go there. Magenta: mouth problems.")

    def set_session(self, duration_s: float, plan) -> None:
        self.duration = max(duration_s, 1e-3)
        self.box.setLimits(xMin=0, xMax=self.duration)     # first: the previous session's limits clamp a range
        self.box.setXRange(0, self.duration, padding=0)
        self.window.setBounds((0, self.duration))
        self.set_mouth(plan)
        self.problems.show_image(None, 0, 0)

    def set_mouth(self, plan) -> None:
        self._mouth = (plan.mouth, len(plan) * plan.step_ms / 1000.0)
        self._show_mouth()

    def _show_mouth(self) -> None:
        """A frame per column while they fit; past that (an hour is 90,000 frames on ~1,500 pixels) a
        column per pixel showing the share of each shape among its frames. Drawing one frame out of
        sixty made periodic speech false stripes; the most frequent shape per column, long false bands."""
        if self._mouth is None:
            return
        values, seconds = self._mouth
        columns = max(1, int(self.box.width() * self.devicePixelRatioF()))
        stack = share_columns(np.asarray(values, np.int64), columns, len(style.MOUTH_COLORS))
        if stack is None:
            self.mouth.show_values(values, style.MOUTH_COLORS, seconds)
            return
        self.mouth.show_stacks(stack, style.MOUTH_COLORS, seconds)

    def mousePressEvent(self, ev):  # noqa: N802 - a press on the strip is ours (a click centres the view)
        super().mousePressEvent(ev)
        ev.accept()

    def mouseReleaseEvent(self, ev):  # noqa: N802
        super().mouseReleaseEvent(ev)
        ev.accept()


    def set_markers(self, markers_ms) -> None:
        for line in self._markers:
            self.getPlotItem().removeItem(line)
        self._markers = []
        for m in markers_ms:
            line = pg.InfiniteLine(m / 1000.0, angle=90, movable=False, pen=pg.mkPen(style.MARKER, width=1))
            self.getPlotItem().addItem(line)
            self._markers.append(line)

    def show_visible(self, t0: float, t1: float) -> None:
        """The main view moved: the window follows (without asking for a range back)."""
        self._updating = True
        self.window.setRegion((max(0.0, t0), min(self.duration, t1)))
        self._updating = False
        narrow = self._window_px() < NARROW_PX
        for edge in self.window.lines:     # a few pixels wide, a press meant for the window caught an edge
            edge.setMovable(not narrow)

    def _window_px(self) -> float:
        a, b = self.window.getRegion()
        return (b - a) / self.duration * self.box.width()

    def _drag_narrow_window(self, ev) -> None:
        """A press within a few pixels of a narrow window drags the window whole (its body is too thin
        to hit)."""
        a, b = self.window.getRegion()
        t = self.box.mapSceneToView(ev.scenePos()).x()
        if ev.isStart():
            t_press = self.box.mapSceneToView(ev.buttonDownScenePos()).x()
            near = NARROW_PX / max(self.box.width(), 1.0) * self.duration
            narrow = self._window_px() < NARROW_PX
            self._grab = t_press - a if narrow and a - near <= t_press <= b + near else None
        if self._grab is None:
            return
        ev.accept()
        start = float(np.clip(t - self._grab, 0.0, self.duration - (b - a)))
        self.window.setRegion((start, start + (b - a)))      # emits range_requested through _on_window
        if ev.isFinish():
            self._grab = None

    def set_playhead(self, seconds: float) -> None:
        self.playhead.setValue(seconds)

    def _on_window(self) -> None:
        if not self._updating:
            a, b = self.window.getRegion()
            self.range_requested.emit(float(a), float(b))

    def _centre_on(self, t: float) -> None:
        a, b = self.window.getRegion()
        half = (b - a) / 2
        t = float(np.clip(t, half, self.duration - half))
        self.range_requested.emit(t - half, t + half)
