"""The session WAV (SPEC §1, §12): what counts as usable audio, its length, and reading it as mono.

Usable: a readable PCM or float WAV (RIFF, RF64, W64), any channel count (mixed to mono),
8 kHz to 384 kHz, at least one sample. Reading streams in blocks, so an hour of stereo never
sits in memory twice.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile

from contracts.errors import ContractError, os_reason, shorten
from contracts.jsonfile import file_problem
from contracts.native import meaning, native_messages
from contracts.riff import wav_header_problem

RATE_RANGE = (8000, 384000)
CONTAINERS = {"WAV", "WAVEX", "RF64", "W64"}
SUBTYPES = {"PCM_U8", "PCM_S8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"}
BLOCK_FRAMES = 1 << 18


@dataclass(frozen=True)
class WavInfo:
    path: Path
    frames: int
    sample_rate: int
    channels: int

    @property
    def length_ms(self) -> int:
        """floor(samples * 1000 / sample_rate + 0.5) (SPEC §1)."""
        return int(math.floor(self.frames * 1000 / self.sample_rate + 0.5))


def wav_info(path: Path) -> WavInfo:
    """Check that `path` is usable session audio; ContractError naming the file otherwise."""
    problem = file_problem(path)
    if problem is not None:
        raise ContractError(path, "", f"the audio file {problem}")
    try:
        with open(path, "rb") as f:
            problem = wav_header_problem(f)
    except OSError as exc:
        raise ContractError(path, "", f"the audio file cannot be read ({os_reason(exc)})") from None
    if problem is not None:
        raise ContractError(path, "", f"the audio file cannot be used: {problem}")
    try:
        with native_messages() as said:
            info = soundfile.info(str(path))
    except Exception as exc:  # libsndfile reports unreadable files with its own error types
        raise ContractError(path, "", f"the audio file cannot be read as a WAV ({_libsndfile_words(exc, said)})") from None
    if info.format not in CONTAINERS or info.subtype not in SUBTYPES:
        raise ContractError(path, "", f"expected a PCM or float WAV, got {info.format} {info.subtype}")
    if not RATE_RANGE[0] <= info.samplerate <= RATE_RANGE[1]:
        raise ContractError(path, "", f"the sample rate {info.samplerate} Hz is outside 8000 to 384000 Hz")
    if info.frames < 1 or info.channels < 1:
        raise ContractError(path, "", "the WAV holds no samples")
    return WavInfo(Path(path), int(info.frames), int(info.samplerate), int(info.channels))


def _libsndfile_words(exc: Exception, native: list[str]) -> str:
    """libsndfile's reason without the path it repeats, and never its "File does not exist" about a
    file we have just opened (its catch-all when no decoder accepts the data)."""
    text = str(getattr(exc, "error_string", None) or exc)
    text = re.sub(r"^Error opening .*?: ", "", text)
    if "does not exist" in text:
        text = "no decoder accepts its data"
    said = meaning(native)
    return shorten(text.rstrip(".") + (f": {said}" if said else ""), 120)


def downmix(data: np.ndarray) -> np.ndarray:
    """(frames, channels) -> mono, the channels averaged (a column sum: far faster than mean(axis=1))."""
    out = data[:, 0].copy()
    for c in range(1, data.shape[1]):
        out += data[:, c]
    if data.shape[1] > 1:
        out *= np.float32(1.0 / data.shape[1])
    return out


def mono_blocks(path: Path, block: int = BLOCK_FRAMES, start: int = 0, stop: int | None = None
                ) -> Iterator[np.ndarray]:
    """The WAV as consecutive mono float32 blocks (channels averaged)."""
    try:
        with soundfile.SoundFile(str(path)) as f:
            if start:
                f.seek(start)
            left = (f.frames if stop is None else min(stop, f.frames)) - start
            while left > 0:
                data = f.read(min(block, left), dtype="float32", always_2d=True)
                if not len(data):
                    return
                left -= len(data)
                yield downmix(data)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise ContractError(path, "", f"the audio file cannot be decoded ({_libsndfile_words(exc, [])})") from None


def read_mono(path: Path) -> tuple[np.ndarray, int]:
    """The whole WAV as mono float32 and its sample rate."""
    info = wav_info(path)
    out = np.empty(info.frames, np.float32)
    at = 0
    for blk in mono_blocks(path):
        out[at:at + len(blk)] = blk
        at += len(blk)
    return out[:at], info.sample_rate


class AudioSource:
    """Mono audio that can be read by sample range without holding the whole file: a decoded array
    (the studio already has one) or a WAV read on demand (the CLI; an hour stays out of memory)."""

    def __init__(self, samples: np.ndarray | None = None, sample_rate: int = 0, path: Path | None = None):
        if samples is None and path is None:
            raise ValueError("an AudioSource needs samples or a path")
        self.samples, self.path = samples, path
        if samples is not None:
            self.sample_rate, self.frames = int(sample_rate), len(samples)
        else:
            info = wav_info(path)
            self.sample_rate, self.frames = info.sample_rate, info.frames

    @classmethod
    def of(cls, samples: np.ndarray, sample_rate: int) -> "AudioSource":
        return cls(np.asarray(samples, np.float32), sample_rate)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples [start, stop) as float32, zero outside the audio."""
        out = np.zeros(max(0, stop - start), np.float32)
        a, b = max(start, 0), min(stop, self.frames)
        if b <= a:
            return out
        if self.samples is not None:
            out[a - start:b - start] = self.samples[a:b]
        else:
            at = a - start
            for blk in mono_blocks(self.path, start=a, stop=b):
                out[at:at + len(blk)] = blk
                at += len(blk)
        return out

    def chunks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        """(start sample, samples) in consecutive chunks of `size` samples."""
        for a in range(0, self.frames, size):
            yield a, self.read(a, min(a + size, self.frames))
