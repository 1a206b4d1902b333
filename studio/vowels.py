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


def _lpc(frame: np.ndarray, order: int) -> np.ndarray | None:
    r = np.correlate(frame, frame, "full")[len(frame) - 1: len(frame) + order]
    if r[0] <= 1e-9:
        return None
    a = np.zeros(order + 1)
    a[0] = 1.0
    err = r[0]
    for i in range(1, order + 1):  # Levinson-Durbin
        k = -(r[i] + np.dot(a[1:i], r[i - 1:0:-1])) / err
        a[1:i] = a[1:i] + k * a[i - 1:0:-1]
        a[i] = k
        err *= 1.0 - k * k
        if err <= 0:
            return None
    return a


def formants(frame: np.ndarray, rate: int = LPC_RATE) -> tuple[float, float] | None:
    """(F1, F2) in Hz of one windowed frame, or None."""
    x = np.append(frame[0], frame[1:] - 0.63 * frame[:-1]) * np.hamming(len(frame))
    a = _lpc(x, ORDER)
    if a is None:
        return None
    roots = np.roots(a)
    roots = roots[np.imag(roots) > 0]
    freqs = np.angle(roots) * rate / (2 * np.pi)
    bws = -np.log(np.abs(roots)) * rate / np.pi
    f = np.sort(freqs[(freqs > 200) & (freqs < 4000) & (bws < 400)])
    return (float(f[0]), float(f[1])) if len(f) >= 2 else None


def classify(f1f2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vowel index per row (-1 when ambiguous) after Lobanov normalisation of the whole set."""
    logs = np.log(f1f2)
    z = (logs - logs.mean(axis=0)) / np.maximum(logs.std(axis=0), 1e-6)
    d = np.linalg.norm(z[:, None, :] - CENTROIDS[None], axis=2)
    order = np.argsort(d, axis=1)
    best, second = d[np.arange(len(d)), order[:, 0]], d[np.arange(len(d)), order[:, 1]]
    return np.where(second - best >= MARGIN, order[:, 0], -1), z


def vowel_agreement(audio: np.ndarray, sr: int, mouth: np.ndarray, step_ms: float,
                    speech_frames: np.ndarray) -> dict | None:
    """Agreement between heard vowels and mouth shapes on voiced frames where the mouth is open."""
    if audio is None or not len(audio) or sr <= 0:
        return None
    n = len(mouth)
    t = np.arange(int(len(audio) * LPC_RATE / sr)) / LPC_RATE
    x = np.interp(t, np.arange(len(audio)) / sr, audio)
    win = int(0.025 * LPC_RATE)
    frames, f1f2 = [], []
    for i in np.flatnonzero(speech_frames[:n] & (mouth != 0)):
        c = int((i + 0.5) * step_ms / 1000 * LPC_RATE)
        seg = x[max(0, c - win // 2): c + win // 2]
        if len(seg) < win:
            continue
        f = formants(seg)
        if f is not None:
            frames.append(i)
            f1f2.append(f)
    if len(frames) < 10:
        return {"frames_compared": 0, "agreement": 0.0, "disagreeing_spans": [], "method": "LPC formants"}
    heard, _ = classify(np.array(f1f2))
    frames = np.array(frames)
    keep = heard >= 0
    frames, heard = frames[keep], heard[keep] + 1
    drawn = mouth[frames]
    agree = drawn == heard
    spans = []
    for i, ok in zip(frames, agree):  # merge consecutive disagreeing frames into spans
        if ok:
            continue
        t0 = round(float(i * step_ms), 1)
        if spans and spans[-1][1] == t0 and spans[-1][2] == VOWELS[drawn[frames.tolist().index(i)] - 1]:
            spans[-1][1] = round(t0 + step_ms, 1)
        else:
            spans.append([t0, round(t0 + step_ms, 1), VOWELS[int(mouth[i]) - 1],
                          VOWELS[int(heard[frames.tolist().index(i)]) - 1]])
    return {"frames_compared": int(len(frames)), "agreement": round(float(agree.mean()) if len(agree) else 0.0, 4),
            "disagreeing_spans": spans, "method": "LPC formants, Lobanov-normalised, Japanese five-vowel centroids"}
