"""The words lane (SPEC §15): the words a mouth track was generated with, at their aligned times, under
the waveform — Papagayo-NG's main view. Drag the boundary between two words (or a word and a pause)
to re-time the mouth shapes of both sides (studio/edit/words.py), live, as one undo step.
Japanese words show their morae when zoomed in far enough to read them.
"""
from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen

from studio.edit import words as wordsmod
from studio.edit.editor import EditError
from widgets.timeline.style import SELECTION

EDGE_PX = 6
THROTTLE_MS = 60
WORD_FILL = QColor(70, 110, 160, 150)
MORA_PEN = QColor(170, 200, 235, 160)


class WordsLaneItem(pg.GraphicsObject):
    edit_failed = Signal(str)

    def __init__(self, model):
        super().__init__()
        self.model = model
        self._drag: dict | None = None
        self.setAcceptHoverEvents(True)
        self.setZValue(20)

    # ------------------------------------------------------------- data
    def words(self) -> list[dict]:
        return wordsmod.words_of(self.model.editor) if self.model.editor is not None else []

    def boundaries(self) -> list[wordsmod.Boundary]:
        return wordsmod.boundaries(self.words(), self.model.project.session.audio_ms)

    def word_at(self, t_s: float) -> dict | None:
        t = t_s * 1000.0
        return next((w for w in self.words() if w["t0_ms"] <= t < w["t1_ms"]), None)

    def describe(self, t_s: float) -> str:
        w = self.word_at(t_s)
        if w is None:
            return "pause" if self.words() else "no words: generate the mouth track with the text to see them"
        morae = "".join(f" [{m['text']}]" for m in w.get("morae", []))
        return (f"word “{w['text']}” {w['t0_ms'] / 1000:.3f}–{w['t1_ms'] / 1000:.3f} s{morae}\n"
                f"drag a boundary to re-time the mouth shapes either side")

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(0.0, 0.0, max(self.model.duration_s, 0.001) * 1.05, 1.0)

    def refresh(self) -> None:
        self.prepareGeometryChange()
        self.update()

    # ------------------------------------------------------------ paint
    def paint(self, p, *args):
        words = self.words()
        vb = self.getViewBox()
        if not words or vb is None:
            return
        (a, b), _ = vb.viewRange()
        px_per_s = vb.width() / max(b - a, 1e-9)
        tr = p.transform()
        p.setPen(QPen(QColor(20, 20, 24), 0))
        for w in words:
            t0, t1 = w["t0_ms"] / 1000.0, w["t1_ms"] / 1000.0
            if t1 < a or t0 > b or t1 <= t0:
                continue
            p.setBrush(QBrush(WORD_FILL))
            p.drawRect(QRectF(t0, 0.08, t1 - t0, 0.84))
            morae = w.get("morae", [])
            show_morae = len(morae) > 1 and (t1 - t0) * px_per_s > 26 * len(morae)
            if show_morae:
                p.setPen(QPen(MORA_PEN, 0))
                for m in morae[1:]:
                    x = m["t0_ms"] / 1000.0
                    p.drawLine(QPointF(x, 0.08), QPointF(x, 0.35))
                p.setPen(QPen(QColor(20, 20, 24), 0))
            # text in device pixels: the view's scale would stretch it
            p.save()
            p.resetTransform()
            box = tr.mapRect(QRectF(t0, 0.08, t1 - t0, 0.84)).adjusted(3, 0, -2, 0)
            p.setPen(QColor(240, 240, 245))
            if show_morae:
                top, bottom = box.adjusted(0, 0, 0, -box.height() / 2), box.adjusted(0, box.height() / 2, 0, 0)
                p.drawText(top, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, w["text"])
                for m in morae:
                    mb = tr.mapRect(QRectF(m["t0_ms"] / 1000.0, 0, (m["t1_ms"] - m["t0_ms"]) / 1000.0, 1))
                    p.drawText(QRectF(mb.left() + 2, bottom.top(), mb.width(), bottom.height()),
                               Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, m["text"])
            elif p.fontMetrics().horizontalAdvance(w["text"]) + 4 <= box.width():
                p.drawText(box, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, w["text"])
            p.restore()
        if self._drag is not None and self._drag.get("at") is not None:
            p.setPen(QPen(QColor(*SELECTION), 0))
            x = self._drag["at"] / 1000.0
            p.drawLine(QPointF(x, 0.0), QPointF(x, 1.0))
            p.save()                                # where the boundary lands (on the frame grid), in pixels
            p.resetTransform()
            at = tr.map(QPointF(x, 0.5))
            p.setPen(QColor(*SELECTION))
            p.drawText(QPointF(at.x() + 4, at.y() + 4), f"{x:.3f} s")
            p.restore()

    # ------------------------------------------------------------ mouse
    def _boundary_near(self, t_s: float) -> wordsmod.Boundary | None:
        vb = self.getViewBox()
        tol = EDGE_PX * (vb.viewPixelSize()[0] if vb is not None else 0.01)
        near = [b for b in self.boundaries() if abs(b.t_ms / 1000.0 - t_s) <= tol]
        return min(near, key=lambda b: abs(b.t_ms / 1000.0 - t_s)) if near else None

    def hoverEvent(self, ev):  # noqa: N802
        if ev.isExit():
            self.setCursor(Qt.CursorShape.ArrowCursor)
            return
        near = self._boundary_near(ev.pos().x())
        self.setCursor(Qt.CursorShape.SizeHorCursor if near else Qt.CursorShape.ArrowCursor)

    def mouseDragEvent(self, ev):  # noqa: N802
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ed = self.model.editor
        if ev.isStart():
            b = self._boundary_near(ev.buttonDownPos().x())
            if b is None or ed is None:
                ev.ignore()
                return
            self._drag = {"boundary": b, "last": 0.0, "at": b.t_ms}
            ed.begin(f"drag word boundary {b.name}")
        if self._drag is None:
            ev.ignore()
            return
        ev.accept()
        if time.monotonic() - self._drag["last"] >= THROTTLE_MS / 1000.0 or ev.isFinish():
            try:   # from where the drag began, every time (nothing it passed over is touched)
                self._drag["at"] = ed.restart_group(wordsmod.retime, ed, self._drag["boundary"], ev.pos().x() * 1000.0)
            except EditError as err:
                self.edit_failed.emit(str(err))
            self._drag["last"] = time.monotonic()
            self.update()
        if ev.isFinish():
            ed.end()
            self._drag = None
            self.update()
