"""Where the transport's samples go: a PortAudio device, or a silent clock with the same timing.

Each output calls `callback(outdata, frames, dac_time)` once per block from its own thread and
reports its clock with `time()`. The device output is the master clock (its DAC timestamps);
the silent output is driven by the monotonic clock, so preview and tests behave the same
without a sound card.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np

try:  # PortAudio missing must never break the import of the engine
    import sounddevice
except (ImportError, OSError):  # OSError: libportaudio2 not installed
    sounddevice = None

Callback = Callable[[np.ndarray, int, float], None]


class SilentOutput:
    """A time-driven clock: blocks are 'played' in real time into a scratch buffer nobody hears."""

    name = "silent"
    has_sound = False

    def __init__(self, sample_rate: int, channels: int, blocksize: int = 512, clock=time.monotonic):
        self.sample_rate, self.channels, self.blocksize = sample_rate, channels, blocksize
        self.latency = 0.0
        self._clock = clock
        self._scratch = np.zeros((blocksize, channels), np.float32)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def time(self) -> float:
        return self._clock()

    def start(self, callback: Callback) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(callback,), name="silent-clock", daemon=True)
        self._thread.start()

    def _run(self, callback: Callback) -> None:
        period = self.blocksize / self.sample_rate
        due = self._clock()
        while not self._stop.is_set():
            callback(self._scratch, self.blocksize, due)
            due += period
            delay = due - self._clock()
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -0.25:  # fell far behind (suspended machine): resynchronise, don't burst
                due = self._clock()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


class DeviceOutput:
    """A sounddevice OutputStream; the callback only copies from the pre-rendered buffer."""

    name = "device"
    has_sound = True

    def __init__(self, sample_rate: int, channels: int, blocksize: int = 512, device=None):
        self.sample_rate, self.channels, self.blocksize = sample_rate, channels, blocksize
        self._stream = sounddevice.OutputStream(samplerate=sample_rate, channels=channels, dtype="float32",
                                                blocksize=blocksize, device=device, latency="low",
                                                callback=self._on_block)
        self.latency = float(self._stream.latency)
        self._callback: Callback | None = None
        self._use_stream_clock = float(self._stream.time) > 0.0  # some host APIs report 0 forever

    def time(self) -> float:
        return float(self._stream.time) if self._use_stream_clock else time.monotonic()

    def _on_block(self, outdata, frames, time_info, status):  # PortAudio's thread
        dac = time_info.outputBufferDacTime
        now = time_info.currentTime if self._use_stream_clock else time.monotonic()
        if not (now - 1.0 < dac < now + 2.0):  # DAC time missing or implausible: estimate from latency
            dac = now + self.latency
        self._callback(outdata, frames, dac)

    def start(self, callback: Callback) -> None:
        self._callback = callback
        self._stream.start()

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


def open_output(sample_rate: int, channels: int, blocksize: int = 512, prefer_device: bool = True):
    """A device output when PortAudio and an output device exist, else the silent clock (and why)."""
    if not prefer_device:
        return SilentOutput(sample_rate, channels, blocksize), "audio output disabled"
    if sounddevice is None:
        return SilentOutput(sample_rate, channels, blocksize), "no audio output (PortAudio library not found)"
    try:
        sounddevice.check_output_settings(samplerate=sample_rate, channels=channels, dtype="float32")
        return DeviceOutput(sample_rate, channels, blocksize), None
    except Exception as exc:  # no device, unsupported rate, server not running ...
        return SilentOutput(sample_rate, channels, blocksize), f"no audio output ({exc})"
