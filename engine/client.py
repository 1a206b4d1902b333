"""EngineClient: the only way the studio and the tests talk to the audio engine (SPEC §10).

`bootstrap_engine` starts the in-process implementation: DawDreamer renders the session audio
(1x, and time-stretched for 0.5x / 0.25x with pitch kept) and the transport streams it to a
device, or runs on a silent clock when there is none.
"""
from __future__ import annotations

import abc
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import soundfile

from engine import offline
from engine.contracts import NodeDescriptor, RenderRequest, RenderResult, TransportState
from engine.outputs import open_output
from engine.transport import Buffer, Transport

RATES = (1.0, 0.5, 0.25)
SLOW_WINDOW_S = 180.0    # slowed renderings cover at most this much media time from the playhead
SILENT_RATE = 22050      # sample rate of the silent buffer used when a session has no audio


class EngineClient(abc.ABC):
    """Control and data plane of the audio engine, in media (session) time."""

    @abc.abstractmethod
    def render(self, request: RenderRequest) -> RenderResult: ...

    @abc.abstractmethod
    def get_buffer(self, handle: str) -> np.ndarray: ...

    @abc.abstractmethod
    def list_nodes(self) -> list[NodeDescriptor]: ...

    @abc.abstractmethod
    def get_transport_state(self) -> TransportState: ...

    @abc.abstractmethod
    def position_seconds(self) -> float: ...

    @abc.abstractmethod
    def play(self) -> None: ...

    @abc.abstractmethod
    def pause(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    @abc.abstractmethod
    def seek(self, seconds: float) -> None: ...

    @abc.abstractmethod
    def set_loop(self, start_s: float | None, end_s: float | None = None) -> None: ...

    @abc.abstractmethod
    def set_rate(self, rate: float, wait: bool = False) -> None: ...

    @abc.abstractmethod
    def set_volume(self, volume: float) -> None: ...

    @abc.abstractmethod
    def set_muted(self, muted: bool) -> None: ...

    @property
    @abc.abstractmethod
    def output_status(self) -> str | None:
        """None when sound is playing on a device, else a sentence such as 'no audio output (...)'."""

    @abc.abstractmethod
    def close(self) -> None: ...


class InProcessEngine(EngineClient):
    def __init__(self, session_id: str, audio: np.ndarray, sample_rate: int, duration_s: float,
                 prefer_device: bool = True, output=None):
        self.session_id = session_id
        self.audio = np.ascontiguousarray(audio, dtype=np.float32)  # (channels, frames)
        self.sample_rate = sample_rate
        self.duration_s = duration_s
        self._buffers: dict[str, np.ndarray] = {}
        self._renders: dict[float, Buffer] = {1.0: Buffer(self.audio.T, sample_rate)}
        self._pending: threading.Thread | None = None
        self._rate = 1.0
        if output is None:
            output, self._status = open_output(sample_rate, self.audio.shape[0], prefer_device=prefer_device)
        else:
            self._status = None if output.has_sound else "no audio output"
        self.transport = Transport(session_id, self._renders[1.0], output, duration_s)

    # ------------------------------------------------------------ data plane
    def render(self, request: RenderRequest) -> RenderResult:
        t0 = time.perf_counter()
        try:
            if request.sample_rate != self.sample_rate:
                raise ValueError(f"sample_rate {request.sample_rate} != the session's {self.sample_rate}")
            start = int(round((request.start_position_seconds or 0.0) * self.sample_rate))
            stop = start + int(round(request.duration_seconds / request.time_ratio * self.sample_rate))
            src = self.audio[:, start:stop]
            if src.shape[0] != request.channels:
                src = np.repeat(src[:1], request.channels, axis=0) if src.shape[0] == 1 else src[:request.channels]
            out = offline.render_audio(src, self.sample_rate, request.time_ratio)
            handle = f"buf-{uuid.uuid4().hex[:12]}"
            self._buffers[handle] = out
            want = int(round(request.duration_seconds * self.sample_rate))
            status = "ok" if out.shape[1] >= want else "partial"
            return RenderResult(request.request_id, status, None, handle, int(out.shape[1]),
                                (time.perf_counter() - t0) * 1000)
        except Exception as exc:
            return RenderResult(request.request_id, "error", str(exc), None, 0, (time.perf_counter() - t0) * 1000)

    def get_buffer(self, handle: str) -> np.ndarray:
        return self._buffers[handle]

    def release_buffer(self, handle: str) -> None:
        self._buffers.pop(handle, None)

    def list_nodes(self) -> list[NodeDescriptor]:
        rates = (22050, 32000, 44100, 48000, 88200, 96000)
        return [NodeDescriptor("playback", "Playback", "DawDreamer", "builtin", rates, 0),
                NodeDescriptor("warp", "Playback warp (Rubber Band time stretch)", "DawDreamer", "builtin", rates,
                               0, ({"name": "time_ratio", "id": "time_ratio", "default": 1.0, "range": [0.25, 8.0]},))]

    # --------------------------------------------------------------- control
    def get_transport_state(self) -> TransportState:
        st = self.transport.state()
        st.extensions.update({"rate": self._rate, "rate_pending": self._pending is not None
                              and self._pending.is_alive(), "output_status": self._status})
        return st

    def position_seconds(self) -> float:
        return self.transport.position_seconds()

    def play(self) -> None:
        self.transport.play()

    def pause(self) -> None:
        self.transport.pause()

    def stop(self) -> None:
        self.transport.stop()

    def seek(self, seconds: float) -> None:
        buf = self.transport.buffer
        end = buf.media_start + buf.frames / (buf.ratio * buf.sample_rate)
        if buf.ratio != 1.0 and not buf.media_start <= seconds < end:
            self._switch(self._renders[1.0], seconds)  # outside the slowed window: back to 1x there
            self._rate = 1.0
        self.transport.seek(seconds)

    def set_loop(self, start_s: float | None, end_s: float | None = None) -> None:
        self.transport.set_loop(start_s, end_s)

    def set_rate(self, rate: float, wait: bool = False) -> None:
        """Switch playback rate; slowed audio is rendered on a worker thread, then swapped in."""
        if rate not in RATES:
            raise ValueError(f"rate must be one of {RATES}")
        if rate == 1.0:
            self._switch(self._renders[1.0])
            self._rate = 1.0
            return
        here = self.position_seconds()

        def work():
            ratio = 1.0 / rate
            start = 0.0 if self.duration_s <= SLOW_WINDOW_S else max(0.0, here - 1.0)
            a = int(start * self.sample_rate)
            b = a + int(SLOW_WINDOW_S * self.sample_rate)
            audio = offline.render_audio(self.audio[:, a:b], self.sample_rate, ratio)
            buf = Buffer(audio.T, self.sample_rate, ratio, media_start=start)
            self._renders[rate] = buf
            self._switch(buf)
            self._rate = rate

        cached = self._renders.get(rate)
        if cached is not None and cached.media_start <= here < cached.to_media(cached.frames):
            self._switch(cached)
            self._rate = rate
            return
        self._pending = threading.Thread(target=work, name=f"render-{rate}x", daemon=True)
        self._pending.start()
        if wait:
            self._pending.join()

    def _switch(self, buf: Buffer, at: float | None = None) -> None:
        if buf is not self.transport.buffer:
            self.transport.swap_buffer(buf)
        if at is not None:
            self.transport.seek(at)

    def set_volume(self, volume: float) -> None:
        self.transport.set_volume(volume)

    def set_muted(self, muted: bool) -> None:
        self.transport.set_muted(muted)

    @property
    def output_status(self) -> str | None:
        return self._status

    def close(self) -> None:
        self.transport.close()


def read_audio(path: Path | None, duration_s: float) -> tuple[np.ndarray, int]:
    """The session WAV as (channels, frames) float32, or silence of the session's length."""
    if path is None:
        return np.zeros((1, max(1, int(duration_s * SILENT_RATE))), np.float32), SILENT_RATE
    data, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T), int(sr)


def bootstrap_engine(session_id: str, audio_path: Path | None, duration_s: float,
                     prefer_device: bool = True, output=None, audio: tuple | None = None) -> EngineClient:
    """The in-process bootstrapper: the engine behind the EngineClient interface. `audio` =
    (channels × frames float32, sample rate) when the caller has already decoded the WAV."""
    audio, sr = audio if audio is not None and audio[0] is not None else read_audio(audio_path, duration_s)
    return InProcessEngine(session_id, audio, sr, duration_s, prefer_device=prefer_device, output=output)
