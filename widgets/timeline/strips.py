"""Lane contents drawn as images on the frame grid, so an hour costs one item, not thousands.

A pyqtgraph item per event (bars, regions) costs a millisecond or more each to build and to paint;
a 1-hour session has thousands of blinks, sync windows and problem spans. Here each of them is a
column range of one RGBA image (one column per frame, or per sync window), kept in a StripItem
that is updated in place (setImage) when its data changes.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from widgets.timeline import style


class StripItem(pg.ImageItem):
    """An image spanning [x0, x0 + width) × [y0, y0 + height) in view coordinates."""

    def __init__(self, y0: float, height: float, z: float = 0.0):
        super().__init__()
        self.y0, self.h = y0, height
        self.setZValue(z)
        self._values: np.ndarray | None = None     # what show_values last drew, one value per column
        self._img: np.ndarray | None = None

    def show_values(self, values: np.ndarray, colors, width: float) -> None:
        """One column per value in its colour; after an edit only the columns whose value changed are
        repainted in the image (an hour is 90,000 columns)."""
        lut = _lut(colors)
        old = self._values
        if old is None or len(old) != len(values) or self._img is None:
            self._img = lut[np.asarray(values, np.int64)][None, :, :]
        else:
            changed = np.flatnonzero(old != values)
            if not len(changed):
                return
            self._img[0, changed] = lut[np.asarray(values[changed], np.int64)]
        self._values = np.array(values, copy=True)
        self.show_image(self._img, 0.0, width)

    def show_stacks(self, stack: np.ndarray, colors, width: float) -> None:
        """Rows x columns of values (a column stacks several), each cell in its colour."""
        self._values, self._img = None, None     # the next show_values draws its image anew
        self.show_image(_lut(colors)[stack], 0.0, width)

    def show_image(self, img: np.ndarray | None, x0: float, width: float) -> None:
        if img is None or img.shape[1] == 0:
            self.setVisible(False)
            return
        # never pyqtgraph's automatic downsampling (on for images over 32767 wide): it averages the
        # colours into floats and then cannot draw them; Qt samples the frames it needs itself
        self.setImage(img, autoLevels=False, autoDownsample=False)
        self.setRect(QRectF(x0, self.y0, max(width, 1e-9), self.h))
        self.setVisible(True)


def _lut(colors) -> np.ndarray:
    return np.array([(*c, 255) for c in colors], np.uint8)


def _frames(t0_ms: float, t1_ms: float, step_ms: float, n: int) -> tuple[int, int]:
    """Frames [a, b) whose time lies in [t0, t1) (SPEC §1: frame i shows t_i = i·step)."""
    a = int(np.clip(np.ceil(t0_ms / step_ms - 1e-9), 0, n))
    b = int(np.clip(np.ceil(t1_ms / step_ms - 1e-9), 0, n))
    return a, b


def expression_events(track, n: int, step_ms: float, session_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """(change points, overlays) as (1, n, 4) images: each event's frames in its label's colour (the
    lane's outlines, drawn over them when zoomed in, tell neighbouring events of one label apart)."""
    changes = np.zeros((1, n, 4), np.uint8)
    overlays = np.zeros((1, n, 4), np.uint8)
    if track is None:
        return changes, overlays
    for ev, (start, end, label, _) in zip(track.events, track.intervals(session_ms)):   # one interval per event
        img = changes if ev.dur_ms is None else overlays
        a, b = _frames(start, end, step_ms, n)
        if b <= a:
            continue
        color = style.EXPR_COLORS.get(label or "normal", (150, 150, 150))
        img[0, a:b] = (*color, 235)
    return changes, overlays


def sync_bars(report, rows: int = 24) -> tuple[np.ndarray, float, float] | None:
    """The sync lane: one column per window hop, coloured by verdict, filled up to its score
    (0.3 + 0.7·score of the lane's height). Returns (image, x0 s, width s) or None."""
    wins = report.windows if report is not None else []
    if not wins:
        return None
    hop = report.policy.get("window_hop_ms", 1000) / 1000.0
    mids = np.array([(w["t0_ms"] + w["t1_ms"]) / 2000.0 for w in wins])
    x0 = float(mids[0] - hop / 2)
    cols = np.clip(np.round((mids - hop / 2 - x0) / hop).astype(np.int64), 0, None)
    img = np.zeros((rows, int(cols.max()) + 1, 4), np.uint8)
    for c, w in zip(cols.tolist(), wins):
        filled = int(round(rows * (0.3 + 0.7 * (w["score"] or 0.0))))
        img[:filled, c] = (*style.VERDICT_COLORS.get(w["verdict"], (80, 80, 80)), 220)
    return img, x0, img.shape[1] * hop


def problem_band(report, n: int, step_ms: float) -> np.ndarray | None:
    """(1, n, 4): magenta where the mouth is open in silence or closed in speech (every span at least a frame)."""
    if report is None:
        return None
    spans = np.array(report.open_in_silence_spans + report.closed_in_speech_spans, np.float64).reshape(-1, 2)
    if not len(spans):
        return None
    a = np.clip(np.ceil(spans[:, 0] / step_ms - 1e-9), 0, n).astype(np.int64)
    b = np.maximum(np.clip(np.ceil(spans[:, 1] / step_ms - 1e-9), 0, n).astype(np.int64), np.minimum(a + 1, n))
    cover = np.zeros(n + 1, np.int64)            # +1 at each start, -1 at each end: covered where the sum > 0
    np.add.at(cover, a, 1)
    np.add.at(cover, b, -1)
    img = np.zeros((1, n, 4), np.uint8)
    img[0, np.cumsum(cover[:n]) > 0] = (*style.PROBLEM, 230)
    return img


def problem_at(report, t_ms: float) -> str | None:
    """The kind of mouth problem at t_ms, for the hover readout."""
    if report is None:
        return None
    for kind, spans in (("open mouth in silence", report.open_in_silence_spans),
                        ("closed mouth in speech", report.closed_in_speech_spans)):
        if any(a <= t_ms < b for a, b in spans):
            return kind
    return None
