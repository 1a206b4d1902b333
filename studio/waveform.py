"""Min/max envelope pyramid of the session audio: draws an hour of audio as fast as a second.

Level k holds (min, max) per block of BASE * FACTOR**k samples; a view asks for the coarsest
level that still gives at least one block per pixel of the visible range.
"""
from __future__ import annotations

import numpy as np

BASE, FACTOR = 64, 8


class WaveformPyramid:
    def __init__(self, mono: np.ndarray, sample_rate: int):
        self.sample_rate = sample_rate
        self.duration_s = len(mono) / sample_rate if sample_rate else 0.0
        self.levels: list[tuple[int, np.ndarray, np.ndarray]] = []  # (block, mins, maxs)
        n = len(mono) // BASE * BASE
        if n == 0:
            return
        blocks = mono[:n].reshape(-1, BASE)
        mins, maxs, block = blocks.min(axis=1), blocks.max(axis=1), BASE
        while True:
            self.levels.append((block, mins, maxs))
            if len(mins) < FACTOR * 2:
                break
            m = len(mins) // FACTOR * FACTOR
            mins = mins[:m].reshape(-1, FACTOR).min(axis=1)
            maxs = maxs[:m].reshape(-1, FACTOR).max(axis=1)
            block *= FACTOR

    def envelope(self, t0: float, t1: float, pixels: int) -> tuple[np.ndarray, np.ndarray]:
        """(x seconds, y) of a min/max zigzag for [t0, t1] with about one column per pixel (never coarser):
        each column is the min and max of the samples it covers, drawn at its centre."""
        if not self.levels or t1 <= t0:
            return np.zeros(0), np.zeros(0)
        want = (t1 - t0) * self.sample_rate / max(pixels, 1)
        block, mins, maxs = self.levels[0]
        for b, mn, mx in self.levels:
            if b <= want:
                block, mins, maxs = b, mn, mx
        group = max(1, int(want // block))          # blocks per column: about one column per pixel
        i0 = max(0, (int(t0 * self.sample_rate / block) - 1) // group * group)
        i1 = min(len(mins), int(t1 * self.sample_rate / block) + 2)
        i1 = i0 + (i1 - i0) // group * group if i1 - i0 >= group else i1
        lo = mins[i0:i1].reshape(-1, group).min(axis=1) if group > 1 else mins[i0:i1]
        hi = maxs[i0:i1].reshape(-1, group).max(axis=1) if group > 1 else maxs[i0:i1]
        t = (i0 + (np.arange(len(lo)) + 0.5) * group) * block / self.sample_rate   # each column's centre
        x = np.repeat(t, 2)
        y = np.empty(2 * len(lo), np.float32)
        y[0::2], y[1::2] = lo, hi
        return x, y
