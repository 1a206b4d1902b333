"""Acoustic features for the aligner: MFCCs every 10 ms, streamed from any WAV.

25 ms Hamming windows every 10 ms, power spectrum at the file's own rate, 40 mel bands from
60 Hz to 7.6 kHz (so 16, 22.05, 44.1 or 48 kHz audio give the same features), log, DCT to 13
cepstra (c0 = log energy), deltas and delta-deltas, then normalised per utterance (mean and
variance), which removes most of what differs between voices and recording chains.
"""
from __future__ import annotations

import math

import numpy as np

from contracts.audio import AudioSource

HOP_MS = 10.0
WIN_MS = 25.0
N_MELS, N_CEPS = 40, 13
F_LO, F_HI = 60.0, 7600.0
CHUNK_HOPS = 6000        # one minute of hops per batch: memory stays flat on long audio


def _mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)


def _mel_bank(sr: int, n_fft: int, warp: float = 1.0) -> np.ndarray:
    """Triangular mel filters; `warp` != 1 applies vocal-tract-length perturbation (training only):
    the spectrum's frequencies are scaled by `warp` below 4.8 kHz and bent linearly above, so the
    band edges stay put (Jaitly & Hinton 2013)."""
    hi = min(F_HI, sr / 2 - 1)
    edges = 700.0 * (10 ** (np.linspace(_mel(F_LO), _mel(hi), N_MELS + 2) / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    nyq, cut = sr / 2, 4800.0 * min(warp, 1.0)
    if warp != 1.0 and nyq > warp * cut:
        freqs = np.where(freqs <= cut, freqs * warp, nyq - (nyq - warp * cut) / (nyq - cut) * (nyq - freqs))
    bank = np.zeros((N_MELS, len(freqs)))
    for m in range(N_MELS):
        a, c, b = edges[m], edges[m + 1], edges[m + 2]
        up = (freqs - a) / max(c - a, 1e-9)
        down = (b - freqs) / max(b - c, 1e-9)
        bank[m] = np.clip(np.minimum(up, down), 0.0, None)
    return bank


def _dct(n_in: int, n_out: int) -> np.ndarray:
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    return np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * math.sqrt(2.0 / n_in)


def n_hops(audio: AudioSource) -> int:
    return max(1, int(math.ceil(audio.frames / audio.sample_rate * 1000.0 / HOP_MS)))


def mfcc(audio: AudioSource, progress=None, energy_db: np.ndarray | None = None, warp: float = 1.0) -> np.ndarray:
    """(hops, 13) cepstra, hop h centred at h * 10 ms + 5 ms; fills `energy_db` (hops,) when given.
    `warp`: vocal-tract-length perturbation (training's augmentation; 1.0 at run time)."""
    sr = audio.sample_rate
    hop = sr * HOP_MS / 1000.0
    win = int(round(sr * WIN_MS / 1000.0))
    n_fft = 1 << (win - 1).bit_length()
    bank = _mel_bank(sr, n_fft, warp)
    dct = _dct(N_MELS, N_CEPS)
    window = np.hamming(win).astype(np.float32)
    total = n_hops(audio)
    out = np.empty((total, N_CEPS), np.float32)
    for h0 in range(0, total, CHUNK_HOPS):
        h1 = min(total, h0 + CHUNK_HOPS)
        centres = (np.arange(h0, h1) + 0.5) * hop
        first = int(math.floor(centres[0] - win / 2))
        x = audio.read(first, int(math.ceil(centres[-1] + win / 2)) + 1)
        starts = np.floor(centres - win / 2).astype(np.int64) - first
        frames = x[starts[:, None] + np.arange(win)[None, :]] * window
        frames = np.concatenate([frames[:, :1], frames[:, 1:] - 0.97 * frames[:, :-1]], axis=1)  # pre-emphasis
        power = np.abs(np.fft.rfft(frames, n_fft, axis=1)) ** 2
        out[h0:h1] = np.log(power @ bank.T + 1e-8) @ dct.T
        if energy_db is not None:
            energy_db[h0:h1] = 10.0 * np.log10(power.sum(axis=1) / (win * n_fft) + 1e-10)
        if progress:
            progress(h1, total)
    return out


def deltas(c: np.ndarray, k: int = 2) -> np.ndarray:
    """Regression deltas over ±k hops (edges repeat)."""
    pad = np.pad(c, ((k, k), (0, 0)), mode="edge")
    num = sum(i * (pad[k + i:len(c) + k + i] - pad[k - i:len(c) + k - i]) for i in range(1, k + 1))
    return num / (2 * sum(i * i for i in range(1, k + 1)))


def features(audio: AudioSource, progress=None, energy_db: np.ndarray | None = None, warp: float = 1.0
             ) -> np.ndarray:
    """(hops, 39): normalised cepstra with deltas and delta-deltas (fills `energy_db` like mfcc;
    `warp`: training's vocal-tract-length perturbation)."""
    c = mfcc(audio, progress, energy_db, warp)
    d = deltas(c)
    f = np.hstack([c, d, deltas(d)])
    return ((f - f.mean(axis=0)) / (f.std(axis=0) + 1e-6)).astype(np.float32)


def stack(f: np.ndarray, context: int) -> np.ndarray:
    """Each hop with its ±context neighbours side by side (edges repeat): (hops, dims * (2 context + 1))."""
    pad = np.pad(f, ((context, context), (0, 0)), mode="edge")
    return np.hstack([pad[i:i + len(f)] for i in range(2 * context + 1)])
