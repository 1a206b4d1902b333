"""Transport controls: play/pause, stop, frame step, rate, loop, volume/mute, go to time, output state.

Kept narrow enough for a 1024 px window: the time readout has a fixed width and never gets cut;
"no audio output" is a short label with the reason in its tooltip.
"""
from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QSlider, QStyle,
                               QToolButton, QWidget)

ICON = QStyle.StandardPixmap


def parse_time(text: str, step_ms: float) -> float | None:
    """'12.5', '12.5s', '1:02.5', 'f 310' / '#310' (a frame) -> seconds; None when it is not a time."""
    t = text.strip().lower().replace(",", ".")
    if not t:
        return None
    m = re.fullmatch(r"(?:f|frame|#)\s*(\d+)", t)
    if m:
        return int(m.group(1)) * step_ms / 1000.0
    m = re.fullmatch(r"(?:(\d+):)?(\d+(?:\.\d*)?)\s*(ms|s)?", t)
    if not m:
        return None
    value = float(m.group(2))
    if m.group(3) == "ms":
        value /= 1000.0
    return value + (int(m.group(1)) * 60 if m.group(1) else 0)


class TransportBar(QWidget):
    play_toggled = Signal()
    stop_clicked = Signal()
    step = Signal(int)
    jump = Signal(str)              # "start" | "end"
    rate_changed = Signal(float)
    loop_toggled = Signal(bool)
    volume_changed = Signal(float)
    mute_toggled = Signal(bool)
    go_to_time = Signal(float)      # seconds
    bad_time = Signal(str)

    RATES = (1.0, 0.5, 0.25)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.setSpacing(4)
        style = self.style()
        self.step_ms = 40.0

        def button(icon, tip, slot):
            b = QToolButton(self)
            b.setIcon(style.standardIcon(icon))
            b.setToolTip(tip)
            b.clicked.connect(slot)
            lay.addWidget(b)
            return b
        button(ICON.SP_MediaSkipBackward, "Jump to start (Home)", lambda: self.jump.emit("start"))
        button(ICON.SP_MediaSeekBackward, "Previous frame (Left)", lambda: self.step.emit(-1))
        self.play_button = QPushButton(style.standardIcon(ICON.SP_MediaPlay), "Play", self)
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(self.play_toggled)
        lay.addWidget(self.play_button)
        button(ICON.SP_MediaStop, "Stop (back to the start)", self.stop_clicked.emit)
        button(ICON.SP_MediaSeekForward, "Next frame (Right)", lambda: self.step.emit(1))
        button(ICON.SP_MediaSkipForward, "Jump to end (End)", lambda: self.jump.emit("end"))
        self.rate = QComboBox(self)
        for r in self.RATES:
            self.rate.addItem(f"{r:g}x", r)
        self.rate.setToolTip("Playback rate, pitch kept (Ctrl+1 / Ctrl+2 / Ctrl+3)")
        self.rate.currentIndexChanged.connect(lambda i: self.rate_changed.emit(self.RATES[i]))
        lay.addWidget(self.rate)
        self.loop = QToolButton(self)
        self.loop.setText("Loop")
        self.loop.setIcon(style.standardIcon(ICON.SP_BrowserReload))
        self.loop.setCheckable(True)
        self.loop.setToolTip("Loop the visible range, or the selected range when there is one (Ctrl+L)")
        self.loop.toggled.connect(self.loop_toggled)
        lay.addWidget(self.loop)
        self.mute = QToolButton(self)
        self.mute.setIcon(style.standardIcon(ICON.SP_MediaVolume))
        self.mute.setCheckable(True)
        self.mute.setToolTip("Mute (M)")
        self.mute.toggled.connect(self._on_mute)
        lay.addWidget(self.mute)
        self.volume = QSlider(Qt.Orientation.Horizontal, self)
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setMinimumWidth(36)
        self.volume.setMaximumWidth(90)
        self.volume.setToolTip("Volume")
        self.volume.valueChanged.connect(lambda v: self.volume_changed.emit(v / 100.0))
        lay.addWidget(self.volume)
        self.output_label = QLabel("")   # the window puts it in the status bar: it is a state, not a control
        self.output_label.setStyleSheet("color: #f0b040; font-weight: bold;")
        lay.addStretch(1)
        self.goto = QLineEdit(self)
        self.goto.setPlaceholderText("go to…")
        self.goto.setFixedWidth(70)
        self.goto.setToolTip("Go to a time: 12.5, 1:02.5, 480ms, or a frame: f310 (Ctrl+T)")
        self.goto.returnPressed.connect(self._go)
        lay.addWidget(self.goto)
        self.time_label = QLabel("", self)
        self.time_label.setStyleSheet("font-family: monospace;")
        self.time_label.setMinimumWidth(self.time_label.fontMetrics().horizontalAdvance("0000.000 / 0000.000 s") + 8)
        self.time_label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.time_label.setToolTip("Playhead time / session length")
        lay.addWidget(self.time_label)

    def _go(self) -> None:
        t = parse_time(self.goto.text(), self.step_ms)
        if t is None:
            self.bad_time.emit(f"not a time: {self.goto.text()!r} (try 12.5, 1:02.5, 480ms or f310)")
            return
        self.go_to_time.emit(t)

    def _on_mute(self, muted: bool) -> None:
        self.mute.setIcon(self.style().standardIcon(ICON.SP_MediaVolumeMuted if muted else ICON.SP_MediaVolume))
        self.mute_toggled.emit(muted)

    def set_playing(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(self.style().standardIcon(ICON.SP_MediaPause if playing else ICON.SP_MediaPlay))

    def set_output_status(self, status: str | None) -> None:
        self.output_label.setText("" if status is None else "no audio")
        self.output_label.setToolTip("" if status is None else
                                     f"No audio output: {status}. Playback runs on a silent clock.")

    def set_rate(self, rate: float) -> None:
        self.rate.blockSignals(True)
        self.rate.setCurrentIndex(self.RATES.index(rate))
        self.rate.blockSignals(False)
