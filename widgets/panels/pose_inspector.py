"""Pose key inspector: the key at or before the playhead, with the values the render takes from it.

Apply writes only the fields the user changed, each where the key keeps it (a legacy `yaw` stays
`yaw`, a `pose_timeline.v1` key's angles stay in its `euler`), as one undo step; Add key inserts a
key at the playhead in the form of the key before it. Disabled while no pose timeline is open.
"""
from __future__ import annotations

import bisect

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QLabel, QPushButton, QWidget

from studio.edit.editor import EditError, EventTimes

FIELDS = [("yaw_deg", "yaw", -90, 90), ("pitch_deg", "pitch", -90, 90), ("roll_deg", "roll", -180, 180),
          ("tx", "tx", -5000, 5000), ("ty", "ty", -5000, 5000), ("scale", "scale", 0.01, 10)]
DECIMALS = 3


class PoseInspector(QWidget):
    edit_failed = Signal(str)
    applied = Signal(str)        # what was written (for the status bar)

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        self.index: int | None = None
        self.shown: dict[str, float] = {}
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("pose key: —")
        lay.addWidget(self.title, 0, 0, 1, 6)
        self.boxes: dict[str, QDoubleSpinBox] = {}
        for k, (name, label, lo, hi) in enumerate(FIELDS):
            box = QDoubleSpinBox()
            box.setRange(lo, hi)
            box.setDecimals(DECIMALS)
            box.setSingleStep(0.5 if name != "scale" else 0.01)
            box.setMinimumWidth(66)
            box.setKeyboardTracking(False)
            box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)   # never focused by Tab or at start: keys go to the timeline
            box.setToolTip(f"{label} of the pose key at or before the playhead; Enter or Apply to key writes it, "
                           f"Escape puts the key's value back")
            box.revert = lambda b=box, n=name: b.setValue(self.shown.get(n, b.value()))   # Escape (focus.py)
            box.lineEdit().returnPressed.connect(self.apply)
            lay.addWidget(QLabel(label), 1 + k // 3, 2 * (k % 3))
            lay.addWidget(box, 1 + k // 3, 2 * (k % 3) + 1)
            self.boxes[name] = box
        self.apply_button = QPushButton("Apply to key")
        self.apply_button.setToolTip("Write the values you changed into the pose key shown (one undoable edit)")
        self.apply_button.clicked.connect(self.apply)
        self.add_button = QPushButton("Add key here")
        self.add_button.setToolTip("Add a pose key at the playhead with these values, in the form of the key before it")
        self.add_button.clicked.connect(self.add_key)
        for b in (self.apply_button, self.add_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        lay.addWidget(self.apply_button, 3, 0, 1, 3)
        lay.addWidget(self.add_button, 3, 3, 1, 3)
        self._set_enabled(False)

    def _editor(self):
        ed = self.model.editor
        return ed if ed is not None and "pose" in ed.docs and ed.events("pose") else None

    def _set_enabled(self, on: bool) -> None:
        for w in (*self.boxes.values(), self.apply_button, self.add_button):
            w.setEnabled(on)
        if not on:
            for name, box in self.boxes.items():      # a neutral pose, not a box's minimum (scale 0.010)
                box.blockSignals(True)
                box.setValue(1.0 if name == "scale" else 0.0)
                box.blockSignals(False)
            self.index = None
            self.title.setText("pose key: — (no pose timeline)" if self.model.project else "pose key: —")

    def show_frame(self, frame: int) -> None:
        ed = self._editor()
        if ed is None:
            self._set_enabled(False)
            return
        self._set_enabled(True)
        events = ed.events("pose")
        t = self.model.time_of(frame) * 1000.0
        self.index = max(0, bisect.bisect_right(EventTimes(events), t) - 1)
        e = events[self.index]
        self.title.setText(f"pose key {self.index} at {e['t_ms']} ms (of {len(events)})")
        self.shown = ed.pose_values(self.index)
        for name, box in self.boxes.items():
            box.blockSignals(True)
            box.setValue(self.shown[name])
            box.blockSignals(False)

    def values(self) -> dict:
        return {name: box.value() for name, box in self.boxes.items()}

    def changed(self) -> dict:
        """The fields whose box differs from what the key holds (at the boxes' precision)."""
        return {n: v for n, v in self.values().items() if round(v, DECIMALS) != round(self.shown.get(n, v), DECIMALS)}

    def apply(self) -> None:
        ed = self._editor()
        if ed is None or self.index is None:
            return
        changed = self.changed()
        if not changed:
            self.applied.emit("nothing changed in the pose key")
            return
        try:
            ed.set_pose(self.index, changed)
            self.applied.emit(f"pose key {self.index}: {', '.join(n.replace('_deg', '') for n in changed)} set")
        except EditError as err:
            self.edit_failed.emit(str(err))

    def add_key(self) -> None:
        ed = self._editor()
        if ed is None:
            return
        t_ms = round(self.model.time_of(self.model.frame) * 1000.0)
        events = ed.events("pose")
        i = bisect.bisect_left(EventTimes(events), t_ms)
        if i < len(events) and events[i]["t_ms"] == t_ms:     # a key is already here: it is the one shown
            self.apply()
            return
        try:   # a copy of the key before it, with the values changed in the boxes
            ed.insert("pose", ed.pose_key_at(t_ms, self.changed()))
        except EditError as err:
            self.edit_failed.emit(str(err))
