"""The timeline: waveform, sync lane, pose curves, mouth / expression / view lanes on one time axis.

Built with pyqtgraph. Every plot shares the waveform's x range (seconds), so zoom and pan move
together; each carries a playhead line that can be dragged to scrub. Lanes are drawn as image
strips (one pixel per frame), so an hour of dense events costs one texture, and labels appear
only when zoomed in far enough to read them.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsItem

from render.views import VIEWS
from widgets.event_lane import EventLaneItem

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

MOUTH_COLORS = [(90, 90, 96), (230, 80, 70), (240, 200, 60), (80, 140, 230), (90, 190, 110), (240, 150, 50)]
EXPR_COLORS = {"normal": (170, 170, 176), "smile": (240, 140, 180), "angry": (220, 70, 60),
               "sad": (90, 120, 220), "blink": (40, 30, 70)}
VERDICT_COLORS = {"pass": (70, 180, 90), "warn": (240, 180, 40), "fail": (220, 60, 50), "none": (70, 70, 76)}
POSE_CURVES = [("yaw_deg", 0, (255, 120, 80)), ("pitch_deg", 1, (90, 170, 255)), ("roll_deg", 2, (200, 200, 90)),
               ("tx", 3, (255, 120, 200)), ("ty", 4, (120, 230, 200)), ("scale", 5, (230, 230, 230))]
LABEL_LIMIT = 160  # most text labels drawn at once in a lane


def _palette(n: int) -> list[tuple[int, int, int]]:
    return [tuple(int(c) for c in pg.intColor(i, hues=n, values=1, maxValue=220).getRgb()[:3]) for i in range(n)]


VIEW_COLORS = _palette(len(VIEWS))


class FrameAxis(pg.AxisItem):
    """Time axis in seconds that adds a tick per frame (step_ms) when zoomed in."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.step_s = 0.04

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph API)
        levels = super().tickSpacing(minVal, maxVal, size)
        if maxVal - minVal < 60 * self.step_s and levels:
            return [levels[0], (self.step_s, 0.0)]
        return levels


def cache(item):
    """Paint a static item once per zoom level: moving the playhead over it then only blits."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return item


def _remove_all(items: list) -> None:
    """Take every item out of its view box and empty the list."""
    for item in items:
        vb = item.getViewBox()
        if vb is not None:
            vb.removeItem(item)
    items.clear()


def strip_image(values: np.ndarray, colors) -> np.ndarray:
    """(1, N, 4) RGBA strip, one pixel per frame."""
    lut = np.array([(*c, 255) for c in colors], np.uint8)
    return lut[np.asarray(values, np.int64)][None, :, :]


class TimelineView(pg.GraphicsLayoutWidget):
    scrubbed = Signal(float)        # playhead dragged (live), seconds
    scrub_finished = Signal(float)  # drag released
    seek_requested = Signal(float)  # click on a lane

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground((30, 30, 34))
        self.ci.layout.setSpacing(2)
        self.plots: dict[str, pg.PlotItem] = {}
        self.playheads: list[pg.InfiniteLine] = []
        self._dynamic: list = []       # items rebuilt on every project load
        self._data_items: list = []    # items rebuilt on every edit
        self._sync_items: list = []    # items rebuilt on every sync report
        self.lanes: dict = {}          # editable event lanes: kind -> EventLaneItem
        self.snap = True
        self._labels: list = []        # text labels rebuilt on zoom
        self._data = None
        self.pyramid = None
        self.curves: dict[str, pg.PlotDataItem] = {}
        heights = {"wave": 70, "sync": 22, "angles": 110, "offsets": 80, "mouth": 34, "expression": 44, "view": 24}
        names = {"wave": "audio", "sync": "sync", "angles": "deg", "offsets": "px / %", "mouth": "mouth",
                 "expression": "expr", "view": "view"}
        self.axis = FrameAxis("bottom")
        first = None
        for row, key in enumerate(heights):
            axis = {"bottom": self.axis} if key == "view" else {}
            p = self.addPlot(row=row, col=0, axisItems=axis)
            p.setMouseEnabled(x=True, y=False)
            p.hideButtons()
            p.setMenuEnabled(False)
            p.getAxis("left").setWidth(52)
            p.setLabel("left", names[key])
            if key != "view":
                p.getAxis("bottom").setStyle(showValues=False)
                p.getAxis("bottom").setHeight(4)
            p.setMinimumHeight(heights[key])
            self.ci.layout.setRowStretchFactor(row, heights[key])
            if key in ("sync", "mouth", "expression", "view"):  # strips: fixed height
                p.setMaximumHeight(heights[key] + (24 if key == "view" else 0))
            if first is None:
                first = p
            else:
                p.setXLink(first)
            line = pg.InfiniteLine(0.0, angle=90, movable=True, pen=pg.mkPen((255, 255, 255), width=1.5),
                                   hoverPen=pg.mkPen((255, 220, 80), width=3))
            line.setZValue(100)
            line.sigDragged.connect(self._on_drag)
            line.sigPositionChangeFinished.connect(lambda ln: self.scrub_finished.emit(ln.value()))
            p.addItem(line, ignoreBounds=True)
            self.playheads.append(line)
            self.plots[key] = p
        for key in ("mouth", "expression", "view", "sync"):
            self.plots[key].getAxis("left").setStyle(showValues=False)
        self.plots["angles"].addLegend(offset=(-4, 4), labelTextSize="8pt")
        self.wave_curve = cache(pg.PlotCurveItem(pen=pg.mkPen((120, 190, 255), width=1)))
        self.plots["wave"].addItem(self.wave_curve)
        self.plots["wave"].setYRange(-1, 1, padding=0.02)
        self._wave_proxy = pg.SignalProxy(first.getViewBox().sigXRangeChanged, rateLimit=30, slot=self._on_range)
        self.scene().sigMouseClicked.connect(self._on_click)

    # ------------------------------------------------------------------ data
    def set_project(self, model) -> None:
        """Rebuild every lane from the studio model's open project."""
        _remove_all(self._dynamic)
        _remove_all(self._data_items)
        self._clear_labels()
        self.curves.clear()
        project = model.project
        step = project.plan.step_ms / 1000.0
        self.axis.step_s = step
        self._data = {"model": model, "step": step, "n": len(project.plan)}
        self.pyramid = model.waveform
        rules = project.atlas.rules
        for key in ("left30_max_yaw_deg", "left15_max_yaw_deg", "right15_min_yaw_deg", "right30_min_yaw_deg"):
            self._threshold("angles", rules[key], (255, 120, 80), key.split("_")[0])
        for key in ("up15_max_pitch_deg", "up7_max_pitch_deg", "down7_min_pitch_deg", "down15_min_pitch_deg"):
            self._threshold("angles", rules[key], (90, 170, 255), key.split("_")[0])
        for kind, (plot, y0, h) in {"mouth": ("mouth", 0.0, 1.0), "expression": ("expression", 0.5, 0.45)}.items():
            lane = EventLaneItem(kind, model, y0, h)
            lane.snap = self.snap
            self._add(plot, lane)
            self.lanes[kind] = lane
        for key in ("mouth", "view", "expression", "sync"):
            self.plots[key].setYRange(0, 1, padding=0)
        self.update_data()
        self.set_sync(None)
        dur = model.duration_s
        self.plots["wave"].setXRange(0, max(dur, step), padding=0.01)
        self._refresh_wave()

    def update_data(self) -> None:
        """Redraw what depends on the timelines (after an edit): curves, strips, events, end markers."""
        _remove_all(self._data_items)
        model = self._data["model"]
        plan = model.project.plan
        step, n, dur = self._data["step"], len(plan), model.duration_s
        t = plan.t_ms / 1000.0
        for name, col, color in POSE_CURVES:
            y = plan.raw_pose[:, col] if col != 5 else (plan.raw_pose[:, col] - 1.0) * 100.0
            if name in self.curves:
                self.curves[name].setData(t, y)
                continue
            curve = pg.PlotDataItem(t, y, pen=pg.mkPen(color, width=1.3), name=name if col < 3 else None)
            self._add("angles" if col < 3 else "offsets", curve)
            # set after adding: with clipToView on, adding looks up a view before the item has one
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            cache(curve.curve)
            self.curves[name] = curve
        self._strip("mouth", plan.mouth, MOUTH_COLORS, step, 0.0, 1.0)
        expr_colors = [EXPR_COLORS.get(lbl, (150, 150, 150)) for lbl in plan.labels]
        self._strip("expression", plan.expression, expr_colors, step, 0.0, 0.45)
        self._strip("view", plan.view, VIEW_COLORS, step, 0.0, 1.0)
        fb = plan.fallback_mask()
        if fb.any():
            img = np.zeros((1, n, 4), np.uint8)
            img[0, fb] = (255, 60, 60, 255)
            self._image("view", img, step, 0.85, 0.15)
        self._expression_events(model, dur)
        # end markers: audio end everywhere, each timeline's end in its lanes, held frames shaded
        ends = model.end_markers()
        lanes = {"pose": ("angles", "offsets"), "mouth": ("mouth",), "expression": ("expression",)}
        for key in self.plots:
            self._vline(key, ends["audio_ms"] / 1000.0, (255, 80, 80), "audio end" if key == "wave" else None)
        for name, info in ends["timelines"].items():
            end_s = info["end_ms"] / 1000.0
            for key in lanes[name]:
                self._vline(key, end_s, (255, 200, 80), f"{name} end" if key == lanes[name][0] else None)
                if info["held_frames"]:
                    start = (n - info["held_frames"]) * step
                    region = pg.LinearRegionItem((start, dur), movable=False, brush=pg.mkBrush(255, 255, 255, 28),
                                                 pen=pg.mkPen(None))
                    self._add_data(key, region)
        for lane in self.lanes.values():
            lane.refresh()
        self._refresh_labels()

    def set_snap(self, on: bool) -> None:
        self.snap = on
        for lane in self.lanes.values():
            lane.snap = on

    def _add_data(self, key: str, item) -> None:
        self.plots[key].addItem(item)
        self._data_items.append(item)

    def _add(self, key: str, item) -> None:
        self.plots[key].addItem(item)
        self._dynamic.append(item)

    def _strip(self, key, values, colors, step, y0, h) -> None:
        self._image(key, strip_image(values, colors), step, y0, h)

    def _image(self, key, img, step, y0, h) -> None:
        item = cache(pg.ImageItem(img))
        item.setRect(QRectF(0.0, y0, img.shape[1] * step, h))
        self._add_data(key, item)

    def _threshold(self, key, value, color, label) -> None:
        line = pg.InfiniteLine(value, angle=0, movable=False,
                               pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine),
                               label=label, labelOpts={"position": 0.0, "color": color, "anchors": [(0, 1), (0, 1)]})
        self._add(key, line)

    def _vline(self, key, x, color, label) -> None:
        line = pg.InfiniteLine(x, angle=90, movable=False, pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine),
                               label=label, labelOpts={"position": 0.85, "color": color})
        self._add_data(key, line)

    def _expression_events(self, model, dur) -> None:
        expr = model.project.session.expression
        if expr is None:
            return
        events = expr.intervals(dur * 1000.0)
        events.sort(key=lambda e: e[2] == "blink")  # blinks drawn last, on top
        if not events:
            return
        bars = pg.BarGraphItem(
            x0=[e[0] / 1000.0 for e in events], width=[max(e[1] - e[0], 1.0) / 1000.0 for e in events],
            y0=[0.55 if e[2] == "blink" else 0.5 for e in events],
            height=[0.35 if e[2] == "blink" else 0.45 for e in events],
            brushes=[pg.mkBrush(*EXPR_COLORS.get(e[2] or "normal", (150, 150, 150)), 230) for e in events],
            pen=pg.mkPen((20, 20, 20)))
        self._add_data("expression", bars)

    # ------------------------------------------------------------------ sync
    def set_sync(self, report) -> None:
        _remove_all(self._sync_items)
        if report is None:
            return
        hop = report.policy.get("window_hop_ms", 1000) / 1000.0
        x0, w, brushes, h = [], [], [], []
        for win in report.windows:
            mid = (win["t0_ms"] + win["t1_ms"]) / 2000.0
            x0.append(mid - hop / 2)
            w.append(hop)
            h.append(0.3 + 0.7 * (win["score"] or 0.0))
            brushes.append(pg.mkBrush(*VERDICT_COLORS.get(win["verdict"], (80, 80, 80)), 220))
        if x0:
            bars = pg.BarGraphItem(x0=x0, width=w, y0=0, height=h, brushes=brushes, pen=pg.mkPen(None))
            self.plots["sync"].addItem(bars)
            self._sync_items.append(bars)
        for a, b, _ in report.problem_spans():
            if _.startswith("window"):
                continue
            region = pg.LinearRegionItem((a / 1000.0, b / 1000.0), movable=False,
                                         brush=pg.mkBrush(255, 60, 60, 70), pen=pg.mkPen((255, 80, 80)))
            self.plots["mouth"].addItem(region)
            self._sync_items.append(region)

    # --------------------------------------------------------------- playhead
    def set_playhead(self, seconds: float) -> None:
        for line in self.playheads:
            if line.value() != seconds:
                line.blockSignals(True)
                line.setValue(seconds)
                line.blockSignals(False)

    def _on_drag(self, line) -> None:
        self.set_playhead(line.value())
        self.scrubbed.emit(line.value())

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double() or event.isAccepted():
            return  # an editable lane took the click
        for p in self.plots.values():
            vb = p.getViewBox()
            if vb.sceneBoundingRect().contains(event.scenePos()):
                self.seek_requested.emit(vb.mapSceneToView(event.scenePos()).x())
                return

    # ------------------------------------------------------------- zoom/view
    def visible_range(self) -> tuple[float, float]:
        (a, b), _ = self.plots["wave"].getViewBox().viewRange()
        return a, b

    def show_range(self, t0: float, t1: float) -> None:
        self.plots["wave"].setXRange(t0, t1, padding=0)

    def ensure_visible(self, seconds: float) -> None:
        a, b = self.visible_range()
        if not a <= seconds <= b:
            span = b - a
            self.show_range(seconds - span * 0.1, seconds + span * 0.9)

    def set_curve_visible(self, name: str, visible: bool) -> None:
        if name in self.curves:
            self.curves[name].setVisible(visible)

    def _on_range(self, *_):
        self._refresh_wave()
        self._refresh_labels()

    def _refresh_wave(self) -> None:
        if self.pyramid is None:
            self.wave_curve.setData([], [])
            return
        a, b = self.visible_range()
        x, y = self.pyramid.envelope(max(a, 0.0), b, max(int(self.width()), 200))
        self.wave_curve.setData(x, y)

    def _clear_labels(self) -> None:
        _remove_all(self._labels)

    def _refresh_labels(self) -> None:
        """Mouth labels on runs when few enough are visible to read."""
        self._clear_labels()
        if not self._data:
            return
        model, step = self._data["model"], self._data["step"]
        a, b = self.visible_range()
        i0, i1 = max(0, int(a / step)), min(self._data["n"], int(b / step) + 1)
        mouth = model.project.plan.mouth[i0:i1]
        if not len(mouth):
            return
        change = np.flatnonzero(np.diff(np.concatenate([[-1], mouth])) != 0)
        px_per_s = self.plots["mouth"].getViewBox().width() / max(b - a, 1e-9)
        if len(change) > min(LABEL_LIMIT, px_per_s * (b - a) / 34):  # ~34 px per label or none at all
            return
        for k in change:
            m = int(mouth[k])
            text = pg.TextItem("close" if m == 0 else "aiueo"[m - 1], color=(255, 255, 255), anchor=(0, 0.5))
            text.setPos((i0 + k) * step, 0.5)
            self.plots["mouth"].addItem(text)
            self._labels.append(text)
