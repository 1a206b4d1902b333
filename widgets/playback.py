"""Playback: the audio engine's clock drives the preview (drop frames, never queue them)."""
from __future__ import annotations

import os

from PySide6.QtCore import QObject, QTimer, Signal

from engine.client import EngineClient, bootstrap_engine
from studio.qa.drift import DriftMonitor

TICK_MS = 8  # how often the GUI reads the audio clock while playing


class PlaybackController(QObject):
    position_changed = Signal(float)   # seconds, from the audio clock while playing
    playing_changed = Signal(bool)

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        self.engine: EngineClient | None = None
        self.drift: DriftMonitor | None = None
        self._playing = False
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def load(self, project) -> None:
        self.close()
        s = project.session
        prefer = not os.environ.get("LIPSYNC_NO_AUDIO")
        self.engine = bootstrap_engine(s.session_id, s.audio_path, s.audio_ms / 1000.0, prefer_device=prefer,
                                       audio=(self.model.channels, self.model.sample_rate))
        self.drift = DriftMonitor(s.step_ms)

    @property
    def playing(self) -> bool:
        return self._playing

    def toggle(self) -> None:
        self.pause() if self._playing else self.play()

    def play(self) -> None:
        if self.engine is None:
            return
        self.engine.seek(self.model.time_of(self.model.frame))
        self.engine.play()
        self.drift.reset()
        self._set_playing(True)
        self._timer.start()

    def pause(self) -> None:
        if self.engine is None or not self._playing:
            return
        self.engine.pause()
        self._stop_run()
        self.model.set_frame(self.model.frame_at(self.engine.position_seconds()))

    def stop(self) -> None:
        if self.engine is None:
            return
        self.engine.stop()
        self._stop_run()
        self.model.set_frame(0)

    def seek(self, seconds: float) -> None:
        if self.engine is not None:
            self.engine.seek(seconds)

    def _stop_run(self) -> None:
        self._timer.stop()
        if self.drift:
            self.drift.finish_run()
        self._set_playing(False)

    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.playing_changed.emit(playing)

    def _tick(self) -> None:
        pos = self.engine.position_seconds()
        self.position_changed.emit(pos)
        self.model.set_frame(self.model.frame_at(pos))
        if not self.engine.get_transport_state().running:
            self._stop_run()

    def presented(self, frame: int) -> None:
        """The preview showed `frame`: record its drift against the audio clock."""
        if self._playing and self.drift is not None:
            self.drift.presented(frame, self.engine.position_seconds())

    def close(self) -> None:
        self._timer.stop()
        self._set_playing(False)
        if self.engine is not None:
            self.engine.close()
            self.engine = None
