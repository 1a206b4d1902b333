"""Which event covers each frame, in time proportional to frames plus events (SPEC §4, §5, §12).

Mouth and expression events may overlap ("the one that starts later wins"). Painting each event's
frames in order is exact but costs the sum of the events' lengths: a million overlays that each
last the hour repaint the hour a million times. Here every frame is written once.
"""
from __future__ import annotations

import numpy as np


def latest_cover(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """For each frame f in [0, n): the index of the last event k with a[k] <= f < b[k], -1 where none.

    `a` and `b` are frame indices clipped to [0, n], events in file order with `a` non-decreasing
    (sorted tracks), so "last in order" is "started latest, ties: later in the file".
    """
    out = np.full(n, -1, np.int64)
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    k = np.flatnonzero(b > a)
    if not len(k):
        return out
    a, b = a[k], b[k]
    if np.all(b[:-1] <= a[1:]):          # no event reaches into the next: production tracks
        lengths = b - a
        starts = np.repeat(a - (np.cumsum(lengths) - lengths), lengths)
        out[starts + np.arange(int(lengths.sum()))] = np.repeat(k, lengths)
        return out
    return _latest_cover_overlapping(a.tolist(), b.tolist(), k.tolist(), n, out)


def _latest_cover_overlapping(a: list, b: list, k: list, n: int, out: np.ndarray) -> np.ndarray:
    """The latest event paints first; later (earlier-starting) events fill only frames still empty,
    found through next-empty pointers with path compression: O((frames + events) α)."""
    nxt = list(range(n + 1))        # nxt[f]: f if frame f is empty, else a step towards the next empty one
    fill = [-1] * n

    def find(f: int) -> int:
        root = f
        while nxt[root] != root:
            root = nxt[root]
        while nxt[f] != root:
            nxt[f], f = root, nxt[f]
        return root

    for j in range(len(a) - 1, -1, -1):
        f, end, who = find(a[j]), b[j], k[j]
        while f < end:
            fill[f] = who
            nxt[f] = f + 1
            f = find(f + 1)
    out[:] = fill
    return out


def any_cover(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """For each frame f in [0, n): whether some event has a[k] <= f < b[k]."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    keep = b > a
    depth = np.bincount(a[keep], minlength=n + 1) - np.bincount(b[keep], minlength=n + 1)
    return np.cumsum(depth[:n]) > 0
