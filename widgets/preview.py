"""The rendered character over a checkerboard or a chosen background, at fit or 1:1."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget


def checker_brush(cell: int = 12) -> QBrush:
    tile = QPixmap(cell * 2, cell * 2)
    tile.fill(QColor(204, 204, 204))
    p = QPainter(tile)
    p.fillRect(0, 0, cell, cell, QColor(160, 160, 160))
    p.fillRect(cell, cell, cell, cell, QColor(160, 160, 160))
    p.end()
    return QBrush(tile)


class PreviewWidget(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(240, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image: QImage | None = None
        self._checker = checker_brush()
        self.background: QColor | QImage | None = None  # None: checkerboard
        self.fit = True
        self.shown_frame = -1
        self.shown_generation = 0  # counts images shown (tests wait for a re-render of the same frame)

    def set_image(self, image: QImage, frame: int) -> None:
        self._image = image
        self.shown_frame = frame
        self.update()

    def clear(self) -> None:
        self._image = None
        self.shown_frame = -1
        self.update()

    def set_background(self, bg: QColor | QImage | None) -> None:
        self.background = bg
        self.update()

    def set_fit(self, fit: bool) -> None:
        self.fit = fit
        self.update()

    def image_rect(self) -> QRectF:
        if self._image is None:
            return QRectF()
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih) if self.fit else 1.0
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(48, 48, 52))
        if self._image is not None:
            r = self.image_rect()
            if isinstance(self.background, QColor):
                p.fillRect(r, self.background)
            elif isinstance(self.background, QImage):
                p.drawImage(r, self.background)
            else:
                p.setBrushOrigin(QPointF(r.left(), r.top()))
                p.fillRect(r, self._checker)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.fit)
            p.drawImage(r, self._image)
        else:
            p.setPen(QColor(200, 200, 200))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No session open")
        p.end()
