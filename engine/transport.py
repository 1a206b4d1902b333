"""The transport: play, pause, stop, seek, loop and rate over pre-rendered buffers.

The output (device or silent clock) pulls blocks through `_on_block`, which only copies from
the current buffer into the output array and advances an integer position; it takes no lock
and builds nothing but the slice views it copies through. Control calls from other threads
write requests into small preallocated arrays that the next block applies. The playing
position is the sample the DAC is emitting now: the position at the start of the last block
plus the time elapsed since that block's DAC time — the master clock the preview follows.
"""
from __future__ import annotations

import threading

import numpy as np

from engine.contracts import TransportState

# control slots (int64): written by any thread, applied by the audio thread
SEEK, PLAY, LOOP_ON, LOOP_A, LOOP_B = range(5)
# timing slots (float64): written by the audio thread after each block
T_POS, T_DAC, T_FRAMES, T_GEN = range(4)


class Buffer:
    """Pre-rendered audio (frames, channels) covering media time [media_start, media_start + len/sr/ratio)."""

    def __init__(self, audio: np.ndarray, sample_rate: int, ratio: float = 1.0, media_start: float = 0.0):
        self.audio = np.ascontiguousarray(audio, dtype=np.float32)
        self.sample_rate, self.ratio, self.media_start = sample_rate, ratio, media_start

    @property
    def frames(self) -> int:
        return self.audio.shape[0]

    def to_frame(self, media_s: float) -> int:
        f = int(round((media_s - self.media_start) * self.ratio * self.sample_rate))
        return min(max(f, 0), self.frames)

    def to_media(self, frame: float) -> float:
        return self.media_start + frame / (self.ratio * self.sample_rate)


class Transport:
    def __init__(self, session_id: str, buffer: Buffer, output, duration_s: float):
        self.session_id = session_id
        self.output = output
        self.duration_s = duration_s
        self._buf = buffer
        self._pos = 0                                    # next frame to hand to the device
        self._ctl = np.array([-1, 0, 0, 0, 0], np.int64)  # SEEK, PLAY, LOOP_ON, LOOP_A, LOOP_B
        self._timing = np.zeros(4, np.float64)            # T_POS, T_DAC, T_FRAMES, T_GEN
        self._gain = np.ones(1, np.float32)
        self._muted = False
        self._volume = 1.0
        self._loop_media: tuple[float, float] | None = None
        self._lock = threading.Lock()                    # control threads only, never the audio thread
        self.output.start(self._on_block)

    # ------------------------------------------------------------ audio thread
    def _on_block(self, outdata: np.ndarray, frames: int, dac_time: float) -> None:
        ctl, buf = self._ctl, self._buf.audio
        seek = ctl[SEEK]
        if seek >= 0:
            self._pos = int(seek)
            ctl[SEEK] = -1
        pos = self._pos
        start = pos
        if not ctl[PLAY]:
            outdata.fill(0)
        else:
            done = 0
            end = ctl[LOOP_B] if ctl[LOOP_ON] else buf.shape[0]
            while done < frames:
                n = min(frames - done, end - pos)
                if n <= 0:
                    if ctl[LOOP_ON] and ctl[LOOP_B] > ctl[LOOP_A]:
                        pos = int(ctl[LOOP_A])
                        continue
                    outdata[done:].fill(0)  # reached the end: stop there
                    ctl[PLAY] = 0
                    break
                np.multiply(buf[pos:pos + n], self._gain[0], out=outdata[done:done + n])
                pos += n
                done += n
            self._pos = pos
        t = self._timing
        t[T_POS], t[T_DAC], t[T_FRAMES] = start, dac_time, frames
        t[T_GEN] += 1

    # --------------------------------------------------------------- position
    def position_seconds(self) -> float:
        """Media time of the sample being played now (the master clock)."""
        buf = self._buf
        if self._ctl[SEEK] >= 0:           # a seek not yet applied by the audio thread
            return float(buf.to_media(float(self._ctl[SEEK])))
        t = self._timing.copy()
        if not self._ctl[PLAY] or t[T_GEN] == 0:
            return float(buf.to_media(float(self._pos)))
        elapsed = self.output.time() - t[T_DAC]
        frame = t[T_POS] + max(0.0, min(elapsed * buf.sample_rate, t[T_FRAMES]))
        if self._ctl[LOOP_ON] and frame >= self._ctl[LOOP_B] > self._ctl[LOOP_A]:
            frame = self._ctl[LOOP_A] + (frame - self._ctl[LOOP_B])
        return float(buf.to_media(min(frame, buf.frames)))

    # ---------------------------------------------------------------- control
    def play(self) -> None:
        with self._lock:
            if self._pos >= self._buf.frames and self._ctl[SEEK] < 0 and not self._ctl[LOOP_ON]:
                self._ctl[SEEK] = 0  # play at the end starts again from the top
            self._ctl[PLAY] = 1

    def pause(self) -> None:
        with self._lock:
            here = self.position_seconds()
            self._ctl[PLAY] = 0
            self._ctl[SEEK] = self._buf.to_frame(here)  # hold exactly where it was heard

    def stop(self) -> None:
        with self._lock:
            self._ctl[PLAY] = 0
            self._ctl[SEEK] = self._buf.to_frame(self._buf.media_start)

    def seek(self, media_s: float) -> None:
        with self._lock:
            self._ctl[SEEK] = self._buf.to_frame(min(max(media_s, 0.0), self.duration_s))

    def set_loop(self, start_s: float | None, end_s: float | None = None) -> None:
        """Loop [start_s, end_s) in media time; None turns looping off."""
        with self._lock:
            if start_s is None or end_s is None or end_s <= start_s:
                self._loop_media = None
                self._ctl[LOOP_ON] = 0
                return
            self._loop_media = (start_s, end_s)
            self._apply_loop()

    def _apply_loop(self) -> None:
        a, b = self._loop_media
        self._ctl[LOOP_A], self._ctl[LOOP_B] = self._buf.to_frame(a), self._buf.to_frame(b)
        self._ctl[LOOP_ON] = 1

    def set_volume(self, volume: float) -> None:
        self._volume = min(max(volume, 0.0), 2.0)
        self._gain[0] = 0.0 if self._muted else self._volume

    def set_muted(self, muted: bool) -> None:
        self._muted = bool(muted)
        self._gain[0] = 0.0 if self._muted else self._volume

    def swap_buffer(self, buffer: Buffer) -> None:
        """Switch to another rendering (another rate) at the same media position."""
        with self._lock:
            here = self.position_seconds()
            playing = bool(self._ctl[PLAY])
            self._ctl[PLAY] = 0
            self._buf = buffer
            self._ctl[SEEK] = buffer.to_frame(here)
            if self._loop_media:
                self._apply_loop()
            self._ctl[PLAY] = int(playing)

    @property
    def buffer(self) -> Buffer:
        return self._buf

    @property
    def running(self) -> bool:
        return bool(self._ctl[PLAY])

    def state(self) -> TransportState:
        buf = self._buf
        return TransportState(self.session_id, self.running, self.position_seconds(), buf.sample_rate,
                              self.output.blocksize, None,
                              extensions={"rate": 1.0 / buf.ratio, "loop": self._loop_media,
                                          "output": self.output.name, "volume": self._volume, "muted": self._muted})

    def close(self) -> None:
        self.output.close()
