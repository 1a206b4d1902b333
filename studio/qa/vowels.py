"""Vowel agreement (viseme alignment): which vowel the audio says against the mouth shape drawn.

Method: for each voiced frame, F1/F2 from LPC (autocorrelation + Levinson, order 10 on audio
resampled to 10 kHz, roots with bandwidth < 400 Hz); per utterance, Lobanov normalisation of
log F1 / log F2 (z-scores, which removes most speaker differences); nearest of five Japanese
vowel centroids in that space.

Limits: five-vowel systems only (Japanese a/i/u/e/o is the main case; English vowels are forced
onto the nearest of the five); formants of short, nasal or creaky frames are unreliable, so
frames whose two nearest vowels are close are left out; a mouth shape may legitimately anticipate
the next vowel by a frame. Treat the figure as a pointer to spans worth a look, not a verdict.
"""
from __future__ import annotations

import numpy as np

VOWELS = ("a", "i", "u", "e", "o")      # mouth ids 1..5
# Lobanov-normalised (z log F1, z log F2) centroids for Japanese vowels.
CENTROIDS = np.array([[1.35, -0.15], [-1.25, 1.45], [-0.95, -0.35], [0.15, 0.95], [0.35, -1.35]])
LPC_RATE = 10000
ORDER = 10
MARGIN = 0.25  # nearest centroid must beat the second by this much (normalised units)


def lpc_batch(frames: np.ndarray, order: int = ORDER) -> tuple[np.ndarray, np.ndarray]:
    """LPC coefficients of every row (autocorrelation + Levinson-Durbin, vectorised over rows).
    Returns (a (K, order+1), ok (K,) where the recursion stayed stable)."""
    k_rows, n = frames.shape
    r = np.stack([(frames[:, : n - lag] * frames[:, lag:]).sum(axis=1) for lag in range(order + 1)], axis=1)
    a = np.zeros((k_rows, order + 1))
    a[:, 0] = 1.0
    err = r[:, 0].copy()
    ok = err > 1e-9
    err[~ok] = 1.0
    for i in range(1, order + 1):
        k = -(r[:, i] + (a[:, 1:i] * r[:, i - 1:0:-1]).sum(axis=1)) / err
        a[:, 1:i] = a[:, 1:i] + k[:, None] * a[:, i - 1:0:-1]
        a[:, i] = k
        err = err * (1.0 - k * k)
        ok &= err > 0
        err[err <= 0] = 1.0
    return a, ok


def formants_batch(frames: np.ndarray, rate: int = LPC_RATE) -> np.ndarray:
    """(K, 2) F1/F2 in Hz per windowed frame; NaN where no two formants are found."""
    x = np.concatenate([frames[:, :1], frames[:, 1:] - 0.63 * frames[:, :-1]], axis=1) * np.hamming(frames.shape[1])
    a, ok = lpc_batch(x)
    companion = np.zeros((len(a), ORDER, ORDER))
    companion[:, 0, :] = -a[:, 1:]
    companion[:, np.arange(1, ORDER), np.arange(ORDER - 1)] = 1.0
    roots = np.linalg.eigvals(companion)
    freqs = np.angle(roots) * rate / (2 * np.pi)
    bws = -np.log(np.maximum(np.abs(roots), 1e-12)) * rate / np.pi
    good = (np.imag(roots) > 0) & (freqs > 200) & (freqs < 4000) & (bws < 400)
    f = np.sort(np.where(good, freqs, np.inf), axis=1)[:, :2]
    f[~ok | ~np.isfinite(f).all(axis=1)] = np.nan
    return f


def formants(frame: np.ndarray, rate: int = LPC_RATE) -> tuple[float, float] | None:
    """(F1, F2) in Hz of one frame, or None."""
    f = formants_batch(frame[None, :], rate)[0]
    return None if np.isnan(f).any() else (float(f[0]), float(f[1]))


def classify(f1f2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vowel index per row (-1 when ambiguous) after Lobanov normalisation of the whole set."""
    logs = np.log(f1f2)
    z = (logs - logs.mean(axis=0)) / np.maximum(logs.std(axis=0), 1e-6)
    d = np.linalg.norm(z[:, None, :] - CENTROIDS[None], axis=2)
    order = np.argsort(d, axis=1)
    best, second = d[np.arange(len(d)), order[:, 0]], d[np.arange(len(d)), order[:, 1]]
    return np.where(second - best >= MARGIN, order[:, 0], -1), z


BATCH = 4096   # frames analysed at once: memory stays flat for an hour of speech


def vowel_agreement(x: np.ndarray, mouth: np.ndarray, step_ms: float, speech_frames: np.ndarray) -> dict | None:
    """Agreement between heard vowels and mouth shapes on voiced frames where the mouth is open.
    `x` is the audio resampled to LPC_RATE (the scorer makes it while it reads the WAV)."""
    if x is None or not len(x):
        return None
    n = len(mouth)
    win = int(0.025 * LPC_RATE)
    cand = np.flatnonzero(speech_frames[:n] & (mouth != 0))
    centres = ((cand + 0.5) * step_ms / 1000 * LPC_RATE).astype(np.int64)
    keep = (centres - win // 2 >= 0) & (centres + win // 2 <= len(x))
    cand, centres = cand[keep], centres[keep]
    if len(cand) < 10:
        return {"frames_compared": 0, "agreement": 0.0, "disagreeing_spans": [], "method": "LPC formants"}
    offsets = np.arange(win)[None, :] - win // 2
    f1f2 = np.concatenate([formants_batch(x[centres[k:k + BATCH, None] + offsets].astype(np.float64))
                           for k in range(0, len(centres), BATCH)])
    found = ~np.isnan(f1f2).any(axis=1)
    frames, f1f2 = cand[found], f1f2[found]
    if len(frames) < 10:
        return {"frames_compared": 0, "agreement": 0.0, "disagreeing_spans": [], "method": "LPC formants"}
    heard, _ = classify(f1f2)
    keep = heard >= 0
    frames, heard = frames[keep], heard[keep] + 1
    drawn = mouth[frames]
    agree = drawn == heard
    spans = []
    for i, d, h, ok in zip(frames, drawn, heard, agree):  # merge consecutive disagreeing frames into spans
        if ok:
            continue
        t0 = round(float(i * step_ms), 1)
        if spans and spans[-1][1] == t0 and spans[-1][2] == VOWELS[int(d) - 1] and spans[-1][3] == VOWELS[int(h) - 1]:
            spans[-1][1] = round(t0 + step_ms, 1)
        else:
            spans.append([t0, round(t0 + step_ms, 1), VOWELS[int(d) - 1], VOWELS[int(h) - 1]])
    return {"frames_compared": int(len(frames)), "agreement": round(float(agree.mean()) if len(agree) else 0.0, 4),
            "disagreeing_spans": spans, "method": "LPC formants, Lobanov-normalised, Japanese five-vowel centroids"}
