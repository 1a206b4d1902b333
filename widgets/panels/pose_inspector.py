"""Pose key inspector: the key at or before the playhead, its values editable (one undo step each)."""
from __future__ import annotations

import bisect

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QLabel, QPushButton, QWidget

FIELDS = [("yaw_deg", "yaw", -90, 90), ("pitch_deg", "pitch", -90, 90), ("roll_deg", "roll", -180, 180),
          ("tx", "tx", -5000, 5000), ("ty", "ty", -5000, 5000), ("scale", "scale", 0.01, 10)]
LEGACY = {"yaw_deg": "yaw", "pitch_deg": "pitch", "roll_deg": "roll"}
DEFAULTS = {"scale": 1.0}


class _Times:
    """The events' t_ms as a sequence for bisect, without a list of 90,000 of them per frame shown."""

    def __init__(self, events):
        self.events = events

    def __len__(self):
        return len(self.events)

    def __getitem__(self, i):
        return self.events[i]["t_ms"]


class PoseInspector(QWidget):
    edit_failed = Signal(str)

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        self.index: int | None = None
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("pose key: —")
        lay.addWidget(self.title, 0, 0, 1, 6)
        self.boxes: dict[str, QDoubleSpinBox] = {}
        for k, (name, label, lo, hi) in enumerate(FIELDS):
            box = QDoubleSpinBox()
            box.setRange(lo, hi)
            box.setDecimals(3)
            box.setSingleStep(0.5 if name != "scale" else 0.01)
            box.setMinimumWidth(66)
            box.setToolTip(f"{label} of the pose key at or before the playhead; Apply to key writes it")
            lay.addWidget(QLabel(label), 1 + k // 3, 2 * (k % 3))
            lay.addWidget(box, 1 + k // 3, 2 * (k % 3) + 1)
            self.boxes[name] = box
        self.apply_button = QPushButton("Apply to key")
        self.apply_button.setToolTip("Write these values into the pose key shown (one undoable edit)")
        self.apply_button.clicked.connect(self.apply)
        self.add_button = QPushButton("Add key here")
        self.add_button.setToolTip("Add a pose key at the playhead with these values")
        self.add_button.clicked.connect(self.add_key)
        lay.addWidget(self.apply_button, 3, 0, 1, 3)
        lay.addWidget(self.add_button, 3, 3, 1, 3)

    def show_frame(self, frame: int) -> None:
        ed = self.model.editor
        if ed is None or "pose" not in ed.docs:
            return
        events = ed.events("pose")
        t = self.model.time_of(frame) * 1000.0
        self.index = max(0, bisect.bisect_right(_Times(events), t) - 1)
        e = events[self.index]
        self.title.setText(f"pose key {self.index} at {e['t_ms']} ms (of {len(events)})")
        for name, box in self.boxes.items():
            value = e.get(name, e.get(LEGACY.get(name, name), DEFAULTS.get(name, 0.0)))
            box.blockSignals(True)
            box.setValue(float(value))
            box.blockSignals(False)

    def values(self) -> dict:
        return {name: box.value() for name, box in self.boxes.items()}

    def apply(self) -> None:
        from studio.edit.editor import EditError
        if self.index is None:
            return
        try:
            self.model.editor.set_pose(self.index, self.values())
        except EditError as err:
            self.edit_failed.emit(str(err))

    def add_key(self) -> None:
        from studio.edit.editor import EditError
        ed = self.model.editor
        t_ms = round(self.model.time_of(self.model.frame) * 1000.0)
        if any(e["t_ms"] == t_ms for e in ed.events("pose")):
            self.apply()
            return
        template = ed.events("pose")[0]
        event = {"t_ms": t_ms}
        for name, value in self.values().items():
            legacy = LEGACY.get(name)
            event[legacy if legacy and legacy in template and name not in template else name] = round(value, 3)
        try:
            ed.insert("pose", event)
        except EditError as err:
            self.edit_failed.emit(str(err))
