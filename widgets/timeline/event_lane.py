"""An editable event lane (mouth or expression): select, move, resize, insert, rubber-band.

Gestures become commands on the StudioModel's TimelineEditor; a drag is one undo step. While a
drag goes on, moves are applied at most every THROTTLE_MS (the preview and lanes follow live) and
an indicator shows where the dragged edge lands (time, frame, snapped or not, how many events it
replaces). The editor's overwrite rule (studio/edit/limits.py) never leaves an event hidden under
another and never moves the rest of the track, however far the drag goes.
"""
from __future__ import annotations

import math
import time

import numpy as np

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen

from contracts.timelines import MOUTHS
from studio.edit.editor import EditError
from widgets.timeline.style import SELECTION

EDGE_PX = 5          # how close to an event's edge a press resizes instead of moving
THROTTLE_MS = 60     # live drag updates at most this often
MAX_DRAWN = 3000     # beyond this many visible events, outlines are skipped (the strip shows them)


class EventLaneItem(pg.GraphicsObject):
    edit_failed = Signal(str)
    selection_changed = Signal()
    drag_finished = Signal()

    def __init__(self, kind: str, model, y0: float = 0.0, height: float = 1.0):
        super().__init__()
        self.kind, self.model = kind, model
        self.y0, self.height = y0, height
        self.selected: set[int] = set()
        self.snap = True
        self._drag = None
        self._band = None
        self._indicator: tuple | None = None      # (line, text) while a drag goes on
        self._starts_s, self._starts_of = np.zeros(0), None
        self.setZValue(20)
        self.setAcceptHoverEvents(True)

    # ------------------------------------------------------------ geometry
    @property
    def editor(self):
        return self.model.editor

    def events(self) -> list:
        return self.editor.events(self.kind) if self.editor and self.kind in self.editor.docs else []

    def span(self, i: int) -> tuple[float, float]:
        """(start, end) in seconds of event i as it is shown."""
        return self.events()[i]["t_ms"] / 1000.0, self.editor.event_end(self.kind, i) / 1000.0

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return QRectF(0.0, self.y0, max(self.model.duration_s, 0.001) * 1.05, self.height)

    def refresh(self) -> None:
        self.selected = {i for i in self.selected if i < len(self.events())}
        self.prepareGeometryChange()
        self.update()

    def starts(self) -> np.ndarray:
        """Event starts in seconds (the parsed track's array where it has one per event; cached per document)."""
        doc = self.editor.docs.get(self.kind) if self.editor else None
        if self._starts_of is not doc:
            track = self.editor.tracks.get(self.kind) if doc is not None else None
            arr = getattr(track, "starts", None)
            if arr is None or len(arr) != len(self.events()):
                arr = np.array([float(e["t_ms"]) for e in self.events()], np.float64)
            self._starts_s, self._starts_of = arr / 1000.0, doc
        return self._starts_s

    def event_at(self, t: float) -> int | None:
        """The event drawn at time t (the latest-starting one that covers it)."""
        starts = self.starts()
        k = int(np.searchsorted(starts, t, side="right")) - 1
        for i in range(k, max(-1, k - 8), -1):
            a, b = self.span(i)
            if a <= t < b:
                return i
        return None

    def _px_seconds(self) -> float:
        vb = self.getViewBox()
        return vb.viewPixelSize()[0] if vb is not None else 0.01

    def selected_range(self) -> tuple[float, float] | None:
        """(start, end) in seconds covering the selected events."""
        if not self.selected:
            return None
        spans = [self.span(i) for i in self.selected if i < len(self.events())]
        return (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None

    # --------------------------------------------------------------- paint
    def paint(self, p, *args):
        ev = self.events()
        if not ev:
            return
        vb = self.getViewBox()
        (a, b), _ = vb.viewRange() if vb is not None else ((0, self.model.duration_s), None)
        starts = self.starts()
        i0 = max(0, int(np.searchsorted(starts, a, side="right")) - 2)
        i1 = min(len(ev), int(np.searchsorted(starts, b, side="right")) + 1)
        pen_sel = QPen(QColor(*SELECTION), 0)
        pen_sel.setCosmetic(True)
        pen_sel.setWidth(2)
        pen = QPen(QColor(20, 20, 24, 200), 0)
        pen.setCosmetic(True)
        p.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        px = self._px_seconds()
        if i1 - i0 <= MAX_DRAWN and (b - a) / max(i1 - i0, 1) > 6 * px:  # outlines only when readable
            p.setPen(pen)
            for i in range(i0, i1):
                if i not in self.selected:
                    s, e = self.span(i)
                    p.drawRect(QRectF(s, self.y0, e - s, self.height))
        p.setPen(pen_sel)
        p.setBrush(QBrush(QColor(*SELECTION, 60)))
        for i in self.selected:
            if i0 <= i < i1:
                s, e = self.span(i)
                p.drawRect(QRectF(s, self.y0, e - s, self.height))
        if self._band is not None:
            s, e = sorted(self._band)
            p.setPen(pen_sel)
            p.setBrush(QBrush(QColor(*SELECTION, 40)))
            p.drawRect(QRectF(s, self.y0, e - s, self.height))

    # --------------------------------------------------------------- mouse
    def hoverEvent(self, ev):  # noqa: N802 (pyqtgraph API)
        if ev.isExit():
            self.setCursor(Qt.CursorShape.ArrowCursor)
            return
        mode, i = self._hit(ev.pos().x())
        self.setCursor({"start": Qt.CursorShape.SizeHorCursor, "end": Qt.CursorShape.SizeHorCursor,
                        "body": Qt.CursorShape.OpenHandCursor}.get(mode, Qt.CursorShape.ArrowCursor))
        # the value under the pointer is the timeline's hover readout (TimelineView.hover_text)

    def describe(self, i: int) -> str:
        """What the hover shows for event i: its value, start, length, position in the lane."""
        e = self.events()[i]
        s, end = self.span(i)
        what = e.get("expression") or e.get("mouth") or e.get("mouth6")
        if what is None and "mouth_id" in e:
            what = MOUTHS[int(e["mouth_id"])]
        if what is None and "emo_id" in e:
            what = f"emo_id {e['emo_id']}"
        return (f"{self.kind} event {i + 1} of {len(self.events())}: {what}\n"
                f"{s:.3f}–{end:.3f} s ({(end - s) * 1000:.0f} ms)\n"
                f"drag to move, drag an edge to resize, double-click to insert, right-click for more")

    def _hit(self, t: float):
        i = self.event_at(t)
        tol = EDGE_PX * self._px_seconds()
        if i is not None:
            s, e = self.span(i)
            if t - s <= tol and e - s > 3 * tol:
                return "start", i
            if e - t <= tol and e - s > 3 * tol:
                return "end", i
            return "body", i
        return "empty", None

    def mouseClickEvent(self, ev):  # noqa: N802 (pyqtgraph API)
        if ev.button() == Qt.MouseButton.RightButton:
            return  # the window's context menu handles it
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        ev.accept()
        t = ev.pos().x()
        if ev.double():
            self.insert_at(t)
            return
        i = self.event_at(t)
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if i is None:
            if not shift:
                self.selected.clear()
        elif shift:
            self.selected ^= {i}
        else:
            self.selected = {i}
        self.update()
        self.selection_changed.emit()

    def mouseDragEvent(self, ev):  # noqa: N802 (pyqtgraph API)
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        t = ev.pos().x()
        if ev.isStart():
            mode, i = self._hit(ev.buttonDownPos().x())
            # Ctrl+drag is a rubber band everywhere: a production track has no empty lane space to start one
            if mode == "empty" or ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self._drag = {"mode": "band", "from": ev.buttonDownPos().x()}
            else:
                if mode == "body" and i not in self.selected:
                    self.selected = {i}
                sel = sorted(self.selected) if mode == "body" else [i]
                self._drag = {"mode": mode, "sel": sel, "orig": list(sel), "from": ev.buttonDownPos().x(),
                              "last": 0.0, "index": i, "start": self.span(sel[0])[0]}
                self.editor.begin(f"drag {self.kind}")
        d = self._drag
        if d is None:
            return
        if d["mode"] == "band":
            self._band = (d["from"], t)
            self.update()
        elif time.monotonic() - d["last"] >= THROTTLE_MS / 1000.0 or ev.isFinish():
            self._apply_drag(t)
            d["last"] = time.monotonic()
        if ev.isFinish():
            if d["mode"] == "band":
                a, b = sorted(self._band)
                starts = self.starts()   # events starting before b; an expression change point may start far earlier
                lo = 0 if self.kind == "expression" else max(0, int(np.searchsorted(starts, a, side="right")) - 1)
                hi = int(np.searchsorted(starts, b, side="left"))
                picked = {i for i in range(lo, hi) if self.span(i)[1] > a}
                self.selected = picked if not (ev.modifiers() & Qt.KeyboardModifier.ShiftModifier) \
                    else self.selected | picked
                self._band = None
                self.selection_changed.emit()
            else:
                self.editor.end()
                self._hide_indicator()
                self.drag_finished.emit()
            self._drag = None
            self.update()

    def _apply_drag(self, t: float) -> None:
        """The drag from where it began to where the pointer is now, as one step from the state the drag
        started in (the editor takes back the previous position first): what the drag passed over on
        the way is never touched, and back at the start nothing has changed."""
        d = self._drag
        ed = self.editor
        try:
            if d["mode"] == "body":
                d["sel"] = ed.restart_group(ed.move, self.kind, d["orig"], (t - d["from"]) * 1000.0, snap=self.snap)
                self.selected = set(d["sel"])   # "at the edge" compares where the event is with where it was asked to go
                self._show_indicator(self.events()[d["sel"][0]]["t_ms"] / 1000.0, d["start"] + t - d["from"])
            elif d["mode"] == "start":
                ed.restart_group(ed.resize, self.kind, d["index"], start_ms=t * 1000.0, snap=self.snap)
                self._show_indicator(self.events()[d["index"]]["t_ms"] / 1000.0, t)
            elif d["mode"] == "end":
                ed.restart_group(ed.resize, self.kind, d["index"], end_ms=t * 1000.0, snap=self.snap)
                self._show_indicator(ed.event_end(self.kind, d["index"]) / 1000.0, t)
        except EditError as err:
            self.edit_failed.emit(str(err))

    # ------------------------------------------------------- drag indicator
    def _show_indicator(self, landed_s: float, wanted_s: float) -> None:
        """A line where the dragged edge landed and its time, frame and snapping, near the pointer."""
        vb = self.getViewBox()
        if vb is None:
            return
        if self._indicator is None:
            line = pg.InfiniteLine(landed_s, angle=90, movable=False,
                                   pen=pg.mkPen(SELECTION, width=1, style=Qt.PenStyle.DashLine))
            text = pg.TextItem("", color=SELECTION, anchor=(0, 0), fill=pg.mkBrush(20, 20, 24, 220))
            for item in (line, text):
                item.setZValue(60)
                vb.addItem(item, ignoreBounds=True)
            self._indicator = (line, text)
        line, text = self._indicator
        step = self.editor.step_ms
        frame = int(round(landed_s * 1000.0 / step))
        held = abs(landed_s - wanted_s) > 1.5 * step / 1000.0
        n = self.editor.last_replaced
        replacing = f"replacing {n}" if n else ""
        text.setText(f"{landed_s:.3f} s · frame {frame}" + (" · snapped" if self.snap else "")
                     + (f" · {replacing}" if replacing else "") + (" · at the session's edge" if held else ""))
        line.setValue(landed_s)
        (a, b), (_, top) = vb.viewRange()
        right = landed_s > a + 0.6 * (b - a)       # near the right edge the label hangs to the left
        text.setAnchor((1, 0) if right else (0, 0))
        text.setPos(landed_s, min(self.y0 + self.height, top))   # inside the lane, from its top edge down

    def _hide_indicator(self) -> None:
        if self._indicator is not None:
            for item in self._indicator:
                vb = item.getViewBox()
                if vb is not None:
                    vb.removeItem(item)
            self._indicator = None

    # -------------------------------------------------------------- verbs
    def insert_at(self, t: float) -> None:
        """Double-click: a new event on the clicked frame (the frame under the pointer, not the nearest
        boundary). A mouth event takes that one frame, overwriting what showed there and no more (the
        overwrite rule); an expression gets a blink there."""
        step = self.editor.step_ms
        t_ms = math.floor(t * 1000.0 / step) * step if self.snap else round(t * 1000.0)
        try:
            if self.kind == "mouth":
                self.editor.paint_mouth_runs([(t_ms, t_ms + step, 1)], f"insert a at {t_ms:g} ms")
                i = self.event_at(t_ms / 1000.0)
            else:
                i = self.editor.insert(self.kind, {"t_ms": t_ms, "dur_ms": 120, "expression": "blink"})
            self.selected = {i} if i is not None else set()
            self.selection_changed.emit()
        except EditError as err:
            self.edit_failed.emit(str(err))
