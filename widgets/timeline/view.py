"""The timeline: lanes on one time axis, each in a resizable row.

Rows (top to bottom): audio waveform, sync score, head angles (deg), head offsets tx/ty (px),
scale (%), mouth (the main editing lane, tallest), expression, chosen view; under them the time
ruler, where a drag selects a time range, and a colour legend. Every row is a pyqtgraph plot
x-linked to the ruler, so zoom and pan move together; rows sit in a splitter (drag the handles;
heights and hidden rows are remembered); the pose rows can be hidden from the View menu. Zoom stops
at the session's ends and at a few frames. Hovering shows the value under the pointer.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtWidgets import QGraphicsItem, QLabel, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from contracts.timelines import MOUTHS
from render.views import FIRST_DIAGONAL, VIEWS
from widgets.timeline import strips, style
from widgets.timeline.event_lane import EventLaneItem
from widgets.timeline.hover import HoverReadout
from widgets.timeline.labels import RunLabels
from widgets.timeline.overview import Overview
from widgets.timeline.words import WordsLaneItem

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

LANES = [  # key, title, default height, minimum height, tooltip
    ("wave", "audio", 70, 36, "The session audio (min/max envelope)."),
    ("words", "words", 30, 26, "The words the mouth track was generated with, at their aligned times (Japanese: "
                               "with their morae when zoomed in). Drag a boundary to re-time the mouth either side."),
    ("sync", "sync", 34, 22, "Sync score per 2 s window, coloured by verdict (green pass, amber warn, red fail); "
                             "taller = better correlation. Hover a window for its offset and confidence."),
    ("angles", "deg", 100, 44, "Head yaw, pitch and roll in degrees; dashed lines are the atlas's view thresholds "
                               "(yaw on the left, pitch on the right)."),
    ("offsets", "px", 60, 32, "Head position tx and ty in canvas pixels."),
    ("scale", "%", 46, 28, "Head scale, in percent away from 1.0."),
    ("mouth", "mouth", 120, 56, "Mouth shapes: the main editing lane. Click to select, drag to move, drag an edge "
                                "to resize, double-click to insert, 0–5 to set the shape, right-click for more."),
    ("expression", "expr", 58, 32, "Expressions: change points below, blinks above, the resolved expression as "
                                   "the strip underneath."),
    ("view", "view", 30, 20, "The view each frame draws; red ticks on top mark fallback frames."),
]
POSE_LANES = ("angles", "offsets", "scale")
MIN_Y_RANGE = {"angles": 10.0, "offsets": 20.0, "scale": 4.0}   # a flat curve still gets a readable axis
STRIPS = [  # key, lane, y0, height, z: images on the frame grid (strips.py)
    ("mouth", "mouth", 0.0, 1.0, 0), ("problems", "mouth", 0.86, 0.14, 24),   # over the event outlines (z 20)
    ("expression", "expression", 0.0, 0.45, 0), ("expression_changes", "expression", 0.5, 0.45, 1),
    ("expression_overlays", "expression", 0.55, 0.35, 2), ("view", "view", 0.0, 0.78, 0),
    ("fallback", "view", 0.8, 0.2, 1), ("sync", "sync", 0.0, 1.0, 0),
]
AXIS_W = 56


class FrameAxis(pg.AxisItem):
    """Time axis in seconds with a minor tick per frame when zoomed in (frames carry no labels)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.step_s = 0.04

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph API)
        levels = super().tickSpacing(minVal, maxVal, size)
        px_per_frame = size / max((maxVal - minVal) / self.step_s, 1e-9)
        if levels and px_per_frame >= 6:
            return [levels[0], (self.step_s, 0.0)]
        return levels[:2]


class RulerBox(pg.ViewBox):
    """The ruler's view box: drag selects a time range, click seeks, wheel zooms."""

    range_dragged = Signal(float, float, bool)   # t0, t1, finished
    clicked = Signal(float)

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        a = self.mapSceneToView(ev.buttonDownScenePos()).x()
        b = self.mapSceneToView(ev.scenePos()).x()
        self.range_dragged.emit(min(a, b), max(a, b), ev.isFinish())

    def mouseClickEvent(self, ev):  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(self.mapSceneToView(ev.scenePos()).x())
        else:
            super().mouseClickEvent(ev)


_TEXT_PX: dict[str, float] = {}


def _text_px(text: str) -> float:
    """Drawn width of a text item's text, measured once per text."""
    if text not in _TEXT_PX:
        probe = pg.TextItem(text)            # kept in a name: its text item dies with it
        _TEXT_PX[text] = probe.textItem.boundingRect().width()
    return _TEXT_PX[text]


def _cached(item):
    """Keep a line item's pixels until its data or the zoom changes: the moving playhead then costs a blit,
    not a redraw of thousands of segments (Qt drops the cache on any transform other than a pan)."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return item


def _remove_all(items: list) -> None:
    """Take every (plot, item) out of its plot (the plot's own list too: nothing accumulates) and empty the list."""
    for plot, item in items:
        plot.removeItem(item)
    items.clear()


class TimelineView(QWidget):
    scrubbed = Signal(float)         # playhead dragged (live), seconds
    scrub_finished = Signal(float)   # drag released
    seek_requested = Signal(float)   # click on a lane or the ruler
    range_changed = Signal(object)   # (t0, t1) seconds or None
    lane_context = Signal(str, float, object)   # kind, seconds, global position (right-click on an editable lane)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.overview = Overview(AXIS_W)
        self.overview.range_requested.connect(self.show_range)
        lay.addWidget(self.overview)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(5)
        lay.addWidget(self.splitter, 1)
        self.plots: dict[str, pg.PlotItem] = {}
        self.widgets: dict[str, pg.PlotWidget] = {}
        self.playheads: list[pg.InfiniteLine] = []
        self.lanes: dict[str, EventLaneItem] = {}    # editable lanes: kind -> item
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.words_lane: WordsLaneItem | None = None
        self._wanted: dict[str, bool] = {}   # lanes the user asked to see (View ▸ Lanes)
        self._dynamic, self._data_items, self._marker_items = [], [], []
        self._ends_key = None
        self._thresholds: list = []          # (line, value, on the left)
        self._end_texts: list = []           # (ruler text item) naming where the audio and timelines end
        self._ends: list = []                # (seconds, name, colour)
        self._strips: dict[str, strips.StripItem] = {}
        self._range_items: list = []
        self._range: tuple[float, float] | None = None
        self._data = None
        self.pyramid = None
        self.snap = True
        self.sync_report = None

        self.axis = FrameAxis("bottom")
        self.ruler_box = RulerBox()
        self.ruler = pg.PlotWidget(viewBox=self.ruler_box, axisItems={"bottom": self.axis}, background=style.BACKGROUND)
        self._setup_plot(self.ruler.getPlotItem(), "")
        self.ruler.setFixedHeight(30)
        self.ruler.getPlotItem().getAxis("left").setStyle(showValues=False)
        self.ruler.setToolTip("Time in seconds. Drag here to select a time range (paint a mouth shape over it, "
                              "zoom to it, generate a mouth track for it); click to move the playhead.")
        self.ruler_box.range_dragged.connect(self._on_ruler_drag)
        self.ruler_box.clicked.connect(self.seek_requested)
        self._add_playhead(self.ruler.getPlotItem())
        for key, title, height, minimum, tip in LANES:
            w = pg.PlotWidget(background=style.BACKGROUND)
            w.setMinimumHeight(minimum)
            p = w.getPlotItem()
            self._setup_plot(p, title)
            name = QLabel(title, w)         # written across, in the axis margin: a rotated title is cut in a short lane
            name.setStyleSheet("color: #b4b4bc; font-size: 8pt; background: transparent;")
            name.move(3, 1)
            name.setToolTip(tip)
            p.getAxis("left").setToolTip(tip)     # the lane's data area shows the value under the pointer
            p.getAxis("bottom").hide()
            p.setXLink(self.ruler.getPlotItem())
            if key in ("sync", "mouth", "expression", "view", "words"):
                p.getAxis("left").setStyle(showValues=False)
                p.setYRange(0, 1, padding=0)
            if key in MIN_Y_RANGE:
                p.getAxis("left").enableAutoSIPrefix(False)      # no "(x0.001)" over a flat curve
                p.getViewBox().setLimits(minYRange=MIN_Y_RANGE[key])
            self._add_playhead(p)
            w.scene().sigMouseClicked.connect(lambda ev, k=key: self._on_click(k, ev))
            w.scene().sigMouseMoved.connect(lambda pos, k=key: self._on_hover(k, pos))
            self.splitter.addWidget(w)
            self.widgets[key] = w
            self.plots[key] = p
        self.splitter.setSizes([h for _, _, h, _, _ in LANES])
        self.widgets["words"].hide()            # shown while the open mouth track has words
        for i, (_, _, height, _, _) in enumerate(LANES):
            self.splitter.setStretchFactor(i, height)
        lay.addWidget(self.ruler)
        self.hover_line = QLabel("")
        self.hover_line.setStyleSheet("font-size: 8pt; padding: 1px 6px; color: #d8d8e0;")
        self.hover_line.setToolTip("What is under the pointer in the lanes")
        # a fixed box: its text changes with every pointer move and must never reflow the lanes above it
        self.hover_line.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.hover_line.setFixedHeight(self.hover_line.fontMetrics().height() + 4)
        lay.addWidget(self.hover_line)
        self.hover = HoverReadout(self, self.hover_line)
        for w in self.widgets.values():
            w.viewport().installEventFilter(self.hover)
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet("font-size: 8pt; padding: 2px 6px;")
        lay.addWidget(self.legend)
        self.run_labels = RunLabels(self.plots["mouth"])
        self.notes: dict[str, QLabel] = {}          # a lane with nothing to draw says why, in the lane itself
        for key in ("wave", "sync"):
            note = QLabel("", self.widgets[key])
            note.setStyleSheet("color: #f0b040; background: rgba(20, 20, 24, 200); padding: 1px 6px;")
            note.move(AXIS_W + 8, 3)
            note.hide()
            self.notes[key] = note
        # its envelope is computed again for every visible range, at once (no delay), so it is always drawn where
        # its samples are; cached as pixels so a moving playhead does not redraw its lines
        self.wave_curve = _cached(pg.PlotCurveItem(pen=pg.mkPen((120, 190, 255), width=1)))
        self.plots["wave"].addItem(self.wave_curve)
        self.plots["wave"].setYRange(-1, 1, padding=0.02)
        self.plots["wave"].getAxis("left").setStyle(showValues=False)
        self.ruler_box.sigXRangeChanged.connect(self._on_range)
        angles = self.plots["angles"].getViewBox()
        angles.sigYRangeChanged.connect(self._place_threshold_labels)
        angles.sigResized.connect(self._place_threshold_labels)
        self.plots["mouth"].getViewBox().sigResized.connect(self._on_range)   # names fit a new width
        self._legend_text()

    # ------------------------------------------------------------ structure
    @staticmethod
    def _setup_plot(p: pg.PlotItem, title: str) -> None:
        p.setMouseEnabled(x=True, y=False)
        p.hideButtons()
        p.setMenuEnabled(False)
        p.getAxis("left").setWidth(AXIS_W)
        p.layout.setContentsMargins(0, 1, 4, 1)

    def _add_playhead(self, p: pg.PlotItem) -> None:
        line = pg.InfiniteLine(0.0, angle=90, movable=True, pen=pg.mkPen(style.PLAYHEAD, width=1.5),
                               hoverPen=pg.mkPen((255, 220, 80), width=3))
        line.setZValue(100)
        line.sigDragged.connect(self._on_drag)
        line.sigPositionChangeFinished.connect(lambda ln: self.scrub_finished.emit(ln.value()))
        p.addItem(line, ignoreBounds=True)
        self.playheads.append(line)

    def lane_widget(self, key: str) -> pg.PlotWidget:
        return self.widgets[key]

    def set_note(self, key: str, text: str | None) -> None:
        """A sentence shown inside lane `key` (why it is empty), or none."""
        note = self.notes[key]
        note.setText(text or "")
        note.adjustSize()
        note.setVisible(bool(text))

    def set_lane_visible(self, key: str, visible: bool) -> None:
        """Show or hide a lane (View ▸ Lanes). The words lane shows only while there are words to show."""
        self._wanted[key] = visible
        has = key != "words" or self.words_lane is not None and bool(self.words_lane.words())
        self.widgets[key].setVisible(visible and has)

    def lane_visible(self, key: str) -> bool:
        """Whether the user wants the lane (it may still be hidden for having nothing to show)."""
        return self._wanted.get(key, True)

    def save_state(self) -> QByteArray:
        return self.splitter.saveState()

    def restore_state(self, state) -> None:
        if state:
            self.splitter.restoreState(state)

    def setFocus(self) -> None:  # noqa: N802 - keys (digits, Delete) go to the lanes
        self.widgets["mouth"].setFocus()

    # ------------------------------------------------------------------ data
    def set_project(self, model) -> None:
        """Rebuild every lane from the studio model's open project."""
        for items in (self._dynamic, self._data_items, self._marker_items, self._range_items):
            _remove_all(items)
        self.run_labels.clear()
        self._ends_key, self._ends = None, []
        self.curves.clear()
        self.lanes.clear()
        self.set_range(None)                  # a range of the last session means nothing here (Generate forgets it)
        project = model.project
        step = project.plan.step_ms / 1000.0
        self.axis.step_s = step
        dur = model.duration_s
        self._data = {"model": model, "step": step, "n": len(project.plan)}
        self.pyramid = model.waveform
        rules = project.atlas.rules
        self._thresholds = []
        for key, color, pos in (("left30_max_yaw_deg", 0, 0.01), ("left15_max_yaw_deg", 0, 0.01),
                                ("right15_min_yaw_deg", 0, 0.01), ("right30_min_yaw_deg", 0, 0.01),
                                ("up15_max_pitch_deg", 1, 0.99), ("up7_max_pitch_deg", 1, 0.99),
                                ("down7_min_pitch_deg", 1, 0.99), ("down15_min_pitch_deg", 1, 0.99)):
            self._threshold(rules[key], style.POSE_CURVES[color][2], key.split("_")[0], pos)
        self._strips = {}
        for key, plot, y0, h, z in STRIPS:
            item = strips.StripItem(y0, h, z)
            self.plots[plot].addItem(item)
            self._dynamic.append((self.plots[plot], item))
            self._strips[key] = item
        self.words_lane = WordsLaneItem(model)
        self.plots["words"].addItem(self.words_lane)
        self._dynamic.append((self.plots["words"], self.words_lane))
        for kind, (y0, h) in {"mouth": (0.0, 1.0), "expression": (0.5, 0.45)}.items():
            lane = EventLaneItem(kind, model, y0, h)
            lane.snap = self.snap
            self.plots[kind].addItem(lane)
            self._dynamic.append((self.plots[kind], lane))
            self.lanes[kind] = lane
        vb = self.ruler_box
        vb.setLimits(xMin=-0.02 * max(dur, step), xMax=max(dur, step) * 1.02, minXRange=step * 4,
                     maxXRange=max(dur, step) * 1.04)
        self.overview.set_session(dur, project.plan)
        self.update_data()
        self.set_sync(None)
        self.ruler.getPlotItem().setXRange(0, max(dur, step), padding=0.01)
        self._refresh_wave()

    def update_data(self, kinds=None) -> None:
        """Redraw what depends on the timelines that changed (all of them when `kinds` is None): pose
        curves and the view strip, the mouth and expression strips, fallback ticks, end markers."""
        kinds = {"pose", "mouth", "expression"} if kinds is None else set(kinds)
        model = self._data["model"]
        plan = model.project.plan
        step, n, dur = self._data["step"], len(plan), model.duration_s
        if "pose" in kinds:
            self._pose_curves(plan)
            self._strips["view"].show_values(plan.view, style.view_color_list(), n * step)
        if "mouth" in kinds:
            self._strips["mouth"].show_values(plan.mouth, style.MOUTH_COLORS, n * step)
            self.overview.set_mouth(plan)
        if "expression" in kinds:
            colors = [style.EXPR_COLORS.get(lbl, (150, 150, 150)) for lbl in plan.labels]
            self._strips["expression"].show_values(plan.expression, colors, n * step)
            changes, overlays = strips.expression_events(model.project.session.expression, n, plan.step_ms,
                                                          dur * 1000.0)
            self._strips["expression_changes"].show_image(changes, 0.0, n * step)
            self._strips["expression_overlays"].show_image(overlays, 0.0, n * step)
        fb = plan.fallback_mask()                 # any edit can change which sprites are missing
        img = np.zeros((1, n, 4), np.uint8)
        img[0, fb] = (*style.FALLBACK, 255)
        self._strips["fallback"].show_image(img if fb.any() else None, 0.0, n * step)
        self._end_markers(model, n, step, dur)
        for kind, lane in self.lanes.items():
            if kind in kinds:
                lane.refresh()
        if "mouth" in kinds:
            self._refresh_labels()
            self.words_lane.refresh()
            self.set_lane_visible("words", self.lane_visible("words"))
        if self.hover.text and getattr(self, "_last_hover", None):
            self._on_hover(*self._last_hover)   # the pointer rests (or drags) on what just changed: say it now

    def _pose_curves(self, plan) -> None:
        t = plan.t_ms / 1000.0
        for name, col, color in style.POSE_CURVES:
            lane = "angles" if col < 3 else ("offsets" if col < 5 else "scale")
            y = plan.raw_pose[:, col] if col != 5 else (plan.raw_pose[:, col] - 1.0) * 100.0
            if name in self.curves:
                self.curves[name].setData(t, y)
                continue
            curve = pg.PlotDataItem(pen=pg.mkPen(color, width=1.3))
            self.plots[lane].addItem(curve)
            self._dynamic.append((self.plots[lane], curve))
            curve.setDownsampling(auto=True, method="peak")   # after adding: clipToView needs a view
            curve.setClipToView(True)
            _cached(curve.curve)
            curve.setData(t, y)                                # only now: never drawn whole, undownsampled
            self.curves[name] = curve

    def _end_markers(self, model, n, step, dur) -> None:
        """Dashed lines where the audio and each timeline end; frames held past a timeline's end shaded
        (built again only when an end moved: most edits do not move one)."""
        ends = model.end_markers()
        key = repr(ends)
        if key == self._ends_key:
            return
        self._ends_key = key
        _remove_all(self._data_items)
        self._ends = [(ends["audio_ms"] / 1000.0, "audio end", (255, 80, 80))]
        for key in self.plots:
            self._vline(key, ends["audio_ms"] / 1000.0, (255, 80, 80))
        lanes = {"pose": POSE_LANES, "mouth": ("mouth",), "expression": ("expression",)}
        for name, info in ends["timelines"].items():
            end_s = info["end_ms"] / 1000.0
            self._ends.append((end_s, f"{name} end", (255, 200, 80)))
            for key in lanes[name]:
                self._vline(key, end_s, (255, 200, 80))
                if info["held_frames"]:
                    start = (n - info["held_frames"]) * step
                    region = pg.LinearRegionItem((start, dur), movable=False, brush=pg.mkBrush(255, 255, 255, 24),
                                                 pen=pg.mkPen(None))
                    region.setToolTip(f"{info['held_frames']} frames held after the {name} timeline ends")
                    self._add_data(key, region)
        self._place_end_names()

    def _place_end_names(self) -> None:
        """Where the audio and each timeline end, named once, at the top of the audio lane (never over events or
        threshold names): only ends in view, each name beside its line on the side with room, and ends whose
        names would run into each other at this zoom share one name."""
        lane = self.plots["wave"]
        for item in self._end_texts:
            lane.removeItem(item)
        self._end_texts = []
        vb = lane.getViewBox()
        (a, b), _ = vb.viewRange()
        px = max(vb.width(), 1.0) / max(b - a, 1e-9)
        groups: list[list] = []                                  # [(t, name, colour), ...]
        for end in sorted(e for e in self._ends if a <= e[0] <= b):
            if groups:
                last = groups[-1]
                text = " · ".join(n for _, n, _ in last + [end])
                if (end[0] - a) * px - _text_px(text) < (last[0][0] - a) * px + 4 or \
                        (end[0] - last[-1][0]) * px < _text_px(end[1]) + 8:
                    last.append(end)                              # would overlap the last name: share it
                    continue
            groups.append([end])
        for group in groups:
            label = " · ".join(n for _, n, _ in group)
            x = group[-1][0]
            right_room = (x - a) * px >= _text_px(label)         # the name ends at its line, else starts there
            text = pg.TextItem(label, color=group[0][2], anchor=(1, 0) if right_room else (0, 0),
                               fill=pg.mkBrush(20, 20, 24, 190))
            text.setZValue(30)
            text.setPos(x if right_room else group[0][0], 1.0)
            lane.addItem(text, ignoreBounds=True)
            self._end_texts.append(text)

    def set_snap(self, on: bool) -> None:
        self.snap = on
        for lane in self.lanes.values():
            lane.snap = on

    def _add_data(self, key: str, item) -> None:
        self.plots[key].addItem(item)
        self._data_items.append((self.plots[key], item))

    def _threshold(self, value, color, label, pos) -> None:
        anchors = [(0, 1), (0, 1)] if pos < 0.5 else [(1, 1), (1, 1)]
        line = pg.InfiniteLine(value, angle=0, movable=False,
                               pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine),
                               label=label, labelOpts={"position": pos, "color": color, "anchors": anchors})
        line.setToolTip(f"view threshold {label}: {value:g}°")
        self.plots["angles"].addItem(line)
        self._dynamic.append((self.plots["angles"], line))
        self._thresholds.append((line, value, pos < 0.5))

    def _place_threshold_labels(self, *_) -> None:
        """Each side's threshold names only where they fit whole inside the lane and do not run into each
        other (a short lane, close thresholds): a name left out is still on its line's tooltip."""
        vb = self.plots["angles"].getViewBox()
        (_, _), (y0, y1) = vb.viewRange()
        height = vb.height()
        px = height / max(y1 - y0, 1e-9)
        for left in (True, False):
            placed: list[float] = []
            for line, value, _ in sorted((t for t in self._thresholds if t[2] == left), key=lambda t: t[1]):
                h = line.label.boundingRect().height()          # the name sits on its line, above it
                y = (value - y0) * px
                room = 0 <= y and y + h <= height and all(abs(y - other) >= h for other in placed)
                line.label.setVisible(room)
                if room:
                    placed.append(y)

    def _vline(self, key, x, color) -> None:
        line = pg.InfiniteLine(x, angle=90, movable=False, pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine))
        self._add_data(key, line)

    def _legend_text(self) -> None:
        mouth = " ".join(style.swatch(c, n) for c, n in zip(style.MOUTH_COLORS, MOUTHS))
        views = " ".join(style.swatch(style.VIEW_COLORS[v], v) for v in VIEWS[:FIRST_DIAGONAL])
        verdict = " ".join(style.swatch(style.VERDICT_COLORS[v], v) for v in ("pass", "warn", "fail"))
        pose = " ".join(style.swatch(c, n.replace("_deg", "")) for n, _, c in style.POSE_CURVES)
        self.legend.setText(f"<b>mouth</b> {mouth} &nbsp; <b>sync</b> {verdict} &nbsp; "
                            f"{style.swatch(style.FALLBACK, 'fallback frame')} "
                            f"{style.swatch(style.PROBLEM, 'mouth problem')} &nbsp; <b>pose</b> {pose}"
                            f"<br><b>views</b> {views} (diagonals in between)")

    # ------------------------------------------------------------------ sync
    def set_sync(self, report) -> None:
        self.sync_report = report
        if self._data is None:
            return
        bars = strips.sync_bars(report)
        self._strips["sync"].show_image(*(bars or (None, 0.0, 0.0)))
        n, step = self._data["n"], self._data["step"]
        band = strips.problem_band(report, n, step * 1000.0)
        self._strips["problems"].show_image(band, 0.0, n * step)
        self.overview.problems.show_image(band, 0.0, n * step)

    # --------------------------------------------------------------- markers
    def set_markers(self, markers_ms: list[float]) -> None:
        _remove_all(self._marker_items)
        self.overview.set_markers(markers_ms)
        for k, m in enumerate(markers_ms):
            for key, p in [("ruler", self.ruler.getPlotItem()), *self.plots.items()]:
                line = pg.InfiniteLine(m / 1000.0, angle=90, movable=False,
                                       pen=pg.mkPen(style.MARKER, width=1, style=Qt.PenStyle.DotLine),
                                       label=f"M{k + 1}" if key == "ruler" else None,
                                       labelOpts={"position": 0.9, "color": style.MARKER})
                line.setZValue(90)
                p.addItem(line, ignoreBounds=True)
                self._marker_items.append((p, line))

    # ----------------------------------------------------------- range select
    def _on_ruler_drag(self, t0: float, t1: float, finished: bool) -> None:
        if self._data is None:
            return
        step = self._data["step"]
        if self.snap:
            t0, t1 = round(t0 / step) * step, round(t1 / step) * step
        dur = self._data["model"].duration_s
        t0, t1 = max(0.0, t0), min(dur, t1)
        self.set_range((t0, t1) if t1 > t0 else None)

    def set_range(self, rng: tuple[float, float] | None) -> None:
        _remove_all(self._range_items)
        self._range = rng
        if rng is not None:
            for key, p in [("ruler", self.ruler.getPlotItem()), *self.plots.items()]:   # over every lane
                region = pg.LinearRegionItem(rng, movable=False, brush=pg.mkBrush(*style.SELECTION, 70),
                                             pen=pg.mkPen(style.SELECTION, width=2))
                region.setZValue(25)  # over the lane's event outlines (z 20), which hid its edges
                p.addItem(region, ignoreBounds=True)
                self._range_items.append((p, region))
        self.range_changed.emit(rng)

    def selected_range(self) -> tuple[float, float] | None:
        return self._range

    # --------------------------------------------------------------- playhead
    def set_playhead(self, seconds: float) -> None:
        self.overview.set_playhead(seconds)
        for line in self.playheads:
            if line.value() != seconds:
                line.blockSignals(True)
                line.setValue(seconds)
                line.blockSignals(False)

    def _on_drag(self, line) -> None:
        self.set_playhead(line.value())
        self.scrubbed.emit(line.value())

    def _on_click(self, key: str, event) -> None:
        vb = self.plots[key].getViewBox()
        t = vb.mapSceneToView(event.scenePos()).x()
        if event.button() == Qt.MouseButton.RightButton and key in self.lanes:
            self.lane_context.emit(key, t, event.screenPos())
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton or event.double() or event.isAccepted():
            return  # an editable lane took the click
        self.seek_requested.emit(t)

    # ------------------------------------------------------------------ hover
    def _on_hover(self, key: str, pos) -> None:
        if self._data is None:
            return
        vb = self.plots[key].getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            return
        self._last_hover = (key, pos)
        w = self.widgets[key]
        self.hover.show(self.hover_text(key, vb.mapSceneToView(pos).x()), w, w.mapToGlobal(w.mapFromScene(pos)))

    def hover_text(self, key: str, t: float) -> str:
        """The value under the pointer in a lane (what the tooltip shows)."""
        model = self._data["model"]
        plan = model.project.plan
        if not 0 <= t < model.duration_s:
            return ""
        i = model.frame_at(t)
        head = f"{t:.3f} s · frame {i}"
        if key == "sync":
            rep = self.sync_report
            wins = [w for w in (rep.windows if rep else []) if w["t0_ms"] <= t * 1000 < w["t1_ms"]]
            if not wins:
                return f"{head}\nnot scored yet" if rep is None else f"{head}\nno sync window here"
            w = min(wins, key=lambda w: abs((w["t0_ms"] + w["t1_ms"]) / 2 - t * 1000))
            if w["offset_ms"] is None:
                return f"{head}\nwindow {w['t0_ms'] / 1000:.1f}–{w['t1_ms'] / 1000:.1f} s: too little speech to score"
            return (f"{head}\nwindow {w['t0_ms'] / 1000:.1f}–{w['t1_ms'] / 1000:.1f} s: {w['verdict']}, local offset "
                    f"{w['offset_ms']:+.0f} ms (confidence {w['confidence']:.2f}), score {w['score']:.2f}")
        if key in POSE_LANES:
            r = model.readout(i)
            if key == "angles":
                return f"{head}\nyaw {r['yaw_deg']:+.1f}°  pitch {r['pitch_deg']:+.1f}°  roll {r['roll_deg']:+.1f}°"
            if key == "offsets":
                return f"{head}\ntx {r['tx']:+.1f} px  ty {r['ty']:+.1f} px"
            return f"{head}\nscale {r['scale']:.3f}"
        if key == "view":
            r = model.readout(i)
            fb = f"\nFALLBACK {r['fallback']}: {'; '.join(r['missing'])}" if r["fallback"] else ""
            return f"{head}\nview {VIEWS[plan.view[i]]}, sprite {r['sprite']}{fb}"
        if key in self.lanes:
            lane = self.lanes[key]
            k = lane.event_at(t)
            text = f"{head}\n{lane.describe(k)}" if k is not None else f"{head}\nno {key} event here"
            problem = strips.problem_at(self.sync_report, t * 1000.0) if key == "mouth" else None
            return text + (f"\nproblem: {problem}" if problem else "")
        if key == "words":
            return f"{head}\n{self.words_lane.describe(t)}"
        if key == "wave":
            return head
        return ""

    # ------------------------------------------------------------- zoom/view
    def visible_range(self) -> tuple[float, float]:
        (a, b), _ = self.ruler_box.viewRange()
        return a, b

    def show_range(self, t0: float, t1: float) -> None:
        """Show [t0, t1], slid inside the session when it pokes past an end (Home, N framing a problem
        at 0 s, following the playhead): the span asked for is kept, no time before 0 s is shown."""
        if self._data is not None:
            dur = max(self._data["model"].duration_s, self._data["step"])
            span = t1 - t0
            if span < dur:
                t0 = min(max(t0, 0.0), dur - span)
                t1 = t0 + span
        self.ruler.getPlotItem().setXRange(t0, t1, padding=0)

    def zoom_to_fit(self) -> None:
        if self._data is not None:
            self.show_range(0.0, max(self._data["model"].duration_s, self._data["step"]))

    def zoom_to_selection(self) -> bool:
        """Zoom to the selected time range, else to the selected events; False when nothing is selected."""
        rng = self._range
        if rng is None:
            spans = [lane.selected_range() for lane in self.lanes.values()]
            spans = [s for s in spans if s]
            rng = (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None
        if rng is None:
            return False
        t0, t1 = rng
        self.frame_span(t0, t1, pad=max((t1 - t0) * 0.1, 2 * self._step()))
        return True

    def frame_span(self, t0: float, t1: float, pad: float | None = None) -> None:
        """Show [t0, t1] with context either side. A problem gets at least a second each side
        by default: a 0.2 s span framed alone reads as a blur of blocks with no cause in view."""
        if pad is None:
            pad = max((t1 - t0) * 0.25, 1.0)
        self.show_range(t0 - pad, t1 + pad)

    def _step(self) -> float:
        return self._data["step"] if self._data else 0.04

    def ensure_visible(self, seconds: float) -> None:
        a, b = self.visible_range()
        if not a <= seconds <= b:
            span = b - a
            self.show_range(seconds - span * 0.1, seconds + span * 0.9)

    def set_curve_visible(self, name: str, visible: bool) -> None:
        if name in self.curves:
            self.curves[name].setVisible(visible)

    def _on_range(self, *_):
        self.overview.show_visible(*self.visible_range())
        self._refresh_wave()
        self._refresh_labels()
        if self._ends:
            self._place_end_names()

    def _refresh_wave(self) -> None:
        if self.pyramid is None:
            self.wave_curve.setData([], [])
            return
        a, b = self.visible_range()
        x, y = self.pyramid.envelope(max(a, 0.0), b, max(int(self.plots["wave"].getViewBox().width()), 200))
        self.wave_curve.setData(x, y)

    def _refresh_labels(self) -> None:
        """Mouth names on the runs wide enough to hold them (labels.py)."""
        if not self._data:
            return
        step = self._data["step"]
        a, b = self.visible_range()
        i0, i1 = max(0, int(a / step)), min(self._data["n"], int(b / step) + 1)
        px_per_s = self.plots["mouth"].getViewBox().width() / max(b - a, 1e-9)
        self.run_labels.show(self._data["model"].project.plan.mouth[i0:i1], i0, step, px_per_s, max(a, 0.0))
