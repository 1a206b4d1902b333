"""Offline audio rendering with DawDreamer: the session audio at 1x, and time-stretched (pitch kept).

DawDreamer renders whole buffers, not streams: the studio renders ahead, then plays the buffer.
The warp processor (Rubber Band) shifts audio slightly in time; the shift is measured once per
(sample rate, ratio) on a calibration signal and compensated, so slowed audio stays on the picture.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np

try:
    import dawdreamer
except ImportError:  # pragma: no cover - the pinned wheel is always installed by bootstrap
    dawdreamer = None

BLOCK = 512
# DawDreamer (JUCE) hangs when render engines are driven from more than one thread in a
# process (measured: a render on a second thread never returns), so every render runs on
# this one worker thread; callers on any thread submit and wait.
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dawdreamer")


def available() -> bool:
    return dawdreamer is not None


def _render(audio: np.ndarray, sr: int, ratio: float, seconds: float) -> np.ndarray:
    engine = dawdreamer.RenderEngine(sr, BLOCK)
    if ratio == 1.0:
        proc = engine.make_playback_processor("playback", audio)
    else:
        proc = engine.make_playbackwarp_processor("warp", audio)
        proc.time_ratio = ratio
    engine.load_graph([(proc, [])])
    engine.render(seconds)
    return np.ascontiguousarray(engine.get_audio(), dtype=np.float32)


def _envelope(x: np.ndarray, sr: int) -> np.ndarray:
    hop = sr // 1000  # 1 ms
    n = len(x) // hop
    return np.sqrt((x[: n * hop].reshape(n, hop) ** 2).mean(axis=1))


def warp_offset_samples(sr: int, ratio: float) -> int:
    """How many samples the warp output runs late (+) or early (-) against ideal stretching."""
    return _WORKER.submit(_warp_offset, sr, ratio).result()


@lru_cache(maxsize=None)
def _warp_offset(sr: int, ratio: float) -> int:
    if ratio == 1.0 or dawdreamer is None:
        return 0
    seconds = 3.0
    rng = np.random.default_rng(7)
    sig = np.zeros(int(sr * seconds), np.float32)
    for t0 in (0.5, 1.3, 2.1):  # noise bursts with sharp onsets
        i = int(t0 * sr)
        sig[i:i + sr // 10] = rng.uniform(-0.5, 0.5, sr // 10)
    out = _render(np.stack([sig, sig]), sr, ratio, seconds * ratio)[0]
    ideal = np.repeat(_envelope(sig, sr), int(ratio))[: len(_envelope(out, sr))]
    got = _envelope(out, sr)[: len(ideal)]
    lags = np.arange(-200, 201)
    score = [np.dot(np.roll(ideal, k), got) for k in lags]
    return int(lags[int(np.argmax(score))] * (sr // 1000))


def render_audio(audio: np.ndarray, sr: int, ratio: float = 1.0) -> np.ndarray:
    """(channels, frames) float32 -> rendered (channels, round(frames * ratio)), offset-compensated."""
    return _WORKER.submit(_render_compensated, np.ascontiguousarray(audio, np.float32), sr, ratio).result()


def _render_compensated(audio: np.ndarray, sr: int, ratio: float) -> np.ndarray:
    frames = audio.shape[1]
    want = int(round(frames * ratio))
    if dawdreamer is None:
        if ratio != 1.0:
            raise RuntimeError("slowed playback needs DawDreamer")
        return audio.copy()
    offset = _warp_offset(sr, ratio)
    extra = max(0, offset) + BLOCK
    out = _render(audio, sr, ratio, (want + extra) / sr)
    if offset > 0:          # output runs late: drop its first `offset` samples
        out = out[:, offset:]
    elif offset < 0:        # output runs early: delay it
        out = np.concatenate([np.zeros((out.shape[0], -offset), np.float32), out], axis=1)
    out = out[:, :want]
    if out.shape[1] < want:
        out = np.pad(out, ((0, 0), (0, want - out.shape[1])))
    return np.ascontiguousarray(out)
