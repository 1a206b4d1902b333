"""Live A/V drift monitor: how far each presented frame is from the audio clock when it appears.

Frame i covers [t_i, t_i + step). Drift is 0 while the clock is inside the frame it shows;
otherwise it is the distance to the frame's interval: negative when the picture is late (the
clock has passed the frame's end), positive when it is early (the clock has not reached t_i).
"""
from __future__ import annotations

from collections import deque

import numpy as np


class DriftMonitor:
    def __init__(self, step_ms: float, history: int = 20):
        self.step_ms = step_ms
        self.history: deque[dict] = deque(maxlen=history)  # summaries of finished playback runs
        self.reset()

    def reset(self) -> None:
        self._drift: list[float] = []
        self.dropped = 0
        self._last_frame: int | None = None
        self._last_clock: float | None = None

    def presented(self, frame: int, audio_clock_s: float) -> None:
        """A frame reached the screen while the audio clock read `audio_clock_s`.

        When the clock jumps back (a loop wrapped, a seek), the frame on its way was asked for before
        the jump: that sample is not drift, and frames are not counted as dropped across the jump."""
        start, clock = frame * self.step_ms, audio_clock_s * 1000.0
        jumped_back = (self._last_clock is not None and clock < self._last_clock - 1e-6) or \
            (self._last_frame is not None and frame < self._last_frame)
        self._last_clock = clock
        if jumped_back:
            self._last_frame = None
            return
        if self._last_frame is not None and start > clock + 4 * self.step_ms:
            return   # the clock wrapped between the request and the presentation
        end = start + self.step_ms
        self._drift.append(start - clock if clock < start else (end - clock if clock >= end else 0.0))
        if self._last_frame is not None and frame > self._last_frame + 1:
            self.dropped += frame - self._last_frame - 1
        self._last_frame = frame

    def stats(self) -> dict | None:
        if not self._drift:
            return None
        d = np.asarray(self._drift)
        a = np.abs(d)
        return {"frames": len(d), "mean_ms": float(d.mean()), "p95_ms": float(np.percentile(a, 95)),
                "max_ms": float(a.max()), "dropped": self.dropped}

    def finish_run(self) -> None:
        """Playback stopped: keep this run's summary in the history and start afresh."""
        s = self.stats()
        if s:
            self.history.append(s)
        self.reset()

    @staticmethod
    def describe(s: dict | None) -> str:
        if not s:
            return "drift: —"
        return (f"drift mean {s['mean_ms']:+.1f} ms, p95 {s['p95_ms']:.1f} ms, max {s['max_ms']:.1f} ms, "
                f"{s['dropped']} dropped")
