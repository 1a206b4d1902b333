"""Transport controls: play/pause, stop, frame step, rate, loop, volume/mute, output state."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QStyle, QToolButton, QWidget

ICON = QStyle.StandardPixmap


class TransportBar(QWidget):
    play_toggled = Signal()
    stop_clicked = Signal()
    step = Signal(int)
    jump = Signal(str)              # "start" | "end"
    rate_changed = Signal(float)
    loop_toggled = Signal(bool)
    volume_changed = Signal(float)
    mute_toggled = Signal(bool)

    RATES = (1.0, 0.5, 0.25)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)

        style = self.style()

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
        self.rate.setToolTip("Playback rate (pitch kept)")
        self.rate.currentIndexChanged.connect(lambda i: self.rate_changed.emit(self.RATES[i]))
        lay.addWidget(self.rate)
        self.loop = QToolButton(self)
        self.loop.setText("Loop")
        self.loop.setIcon(style.standardIcon(ICON.SP_BrowserReload))
        self.loop.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.loop.setCheckable(True)
        self.loop.setToolTip("Loop the visible range (Ctrl+L)")
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
        self.volume.setFixedWidth(90)
        self.volume.setToolTip("Volume")
        self.volume.valueChanged.connect(lambda v: self.volume_changed.emit(v / 100.0))
        lay.addWidget(self.volume)
        self.output_label = QLabel("", self)
        self.output_label.setStyleSheet("color: #f0b040; font-weight: bold;")
        lay.addWidget(self.output_label)
        lay.addStretch(1)
        self.time_label = QLabel("", self)
        self.time_label.setStyleSheet("font-family: monospace;")
        lay.addWidget(self.time_label)

    def _on_mute(self, muted: bool) -> None:
        self.mute.setIcon(self.style().standardIcon(ICON.SP_MediaVolumeMuted if muted else ICON.SP_MediaVolume))
        self.mute_toggled.emit(muted)

    def set_playing(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(self.style().standardIcon(ICON.SP_MediaPause if playing else ICON.SP_MediaPlay))

    def set_output_status(self, status: str | None) -> None:
        self.output_label.setText("" if status is None else "no audio output")
        self.output_label.setToolTip(status or "")

    def set_rate(self, rate: float) -> None:
        self.rate.blockSignals(True)
        self.rate.setCurrentIndex(self.RATES.index(rate))
        self.rate.blockSignals(False)
