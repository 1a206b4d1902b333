"""The words a mouth track was aligned to (SPEC §13 `units`, kept in the mouth timeline) and re-timing
them (SPEC §15 words lane): dragging the boundary between two neighbours — two words, or a word and
the pause beside it — stretches the mouth shapes of each side to its new length, as one undoable
command that also moves the words (and their morae) in `units`.

The time is cut into segments: the words, and the pauses between them (and before the first, after
the last), so every boundary has a segment on either side.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from studio.edit.editor import TimelineEditor
from studio.plan import mouth_frames


@dataclass(frozen=True)
class Boundary:
    t_ms: float
    left: tuple[float, float]       # the segment before it
    right: tuple[float, float]      # the segment after it
    name: str                       # what it separates, for the history and the hover


def words_of(editor: TimelineEditor) -> list[dict]:
    doc = editor.docs.get("mouth")
    units = doc.get("units") if isinstance(doc, dict) else None
    return units if isinstance(units, list) else []


def segments(words: list[dict], session_ms: float) -> list[tuple[float, float, str]]:
    """(start, end, what): the words, and the pauses before, between and after them, covering the session."""
    out: list[tuple[float, float, str]] = []
    t = 0.0
    for w in sorted(words, key=lambda w: float(w["t0_ms"])):
        a, b = max(float(w["t0_ms"]), t), float(w["t1_ms"])
        if b <= a:                      # a word that gave no sound has no time of its own
            continue
        if a > t:
            out.append((t, a, "pause"))
        out.append((a, b, str(w["text"])))
        t = b
    if out and t < session_ms:
        out.append((t, float(session_ms), "pause"))
    return out


def boundaries(words: list[dict], session_ms: float) -> list[Boundary]:
    """Every boundary between neighbouring segments, in time order."""
    segs = segments(words, session_ms)
    return [Boundary(left[1], left[:2], right[:2], f"{left[2]} | {right[2]}") for left, right in zip(segs, segs[1:])]


def retime(editor: TimelineEditor, boundary: Boundary, to_ms: float) -> float:
    """Move `boundary` to `to_ms` (snapped to the frame grid, kept a frame inside its neighbours): the
    mouth of each side is stretched to its new length, and the words and morae follow. Returns where
    the boundary landed. One command (group it for a live drag: TimelineEditor.restart_group)."""
    step = editor.step_ms
    fa, fb, fc = (int(round(boundary.left[0] / step)), int(round(boundary.t_ms / step)),
                  int(round(boundary.right[1] / step)))
    fc = max(fc, fb + 1)
    new_fb = int(min(max(round(to_ms / step), fa + 1), fc - 1))
    if new_fb == fb or fb <= fa:
        return fb * step
    src = mouth_frames(editor.tracks["mouth"], fa, fc, step)
    out = np.empty(fc - fa, np.int8)
    out[:new_fb - fa] = _stretch(src[:fb - fa], new_fb - fa)
    out[new_fb - fa:] = _stretch(src[fb - fa:], fc - new_fb)
    new_t = new_fb * step
    with editor.transaction(f"re-time words {boundary.name}"):
        editor.paint_mouth_runs([((fa + k) * step, (fa + k + 1) * step, int(m)) for k, m in enumerate(out)],
                                f"re-time the mouth of {boundary.name}")
        editor.set_key("mouth", "units", _moved_units(words_of(editor), boundary, new_t),
                       f"re-time words {boundary.name}")
    return new_t


def _stretch(frames: np.ndarray, n: int) -> np.ndarray:
    """`frames` resampled to n frames (nearest, by frame centre)."""
    if not len(frames):
        return np.zeros(n, np.int8)
    idx = np.minimum(((np.arange(n) + 0.5) * len(frames) / n).astype(np.int64), len(frames) - 1)
    return frames[idx]


def _moved_units(words: list[dict], b: Boundary, new_t: float) -> list[dict]:
    """Times in the left segment scaled into [left start, new_t], in the right one into [new_t, right end]."""
    (a, old), (_, c) = b.left, b.right

    def move(t):
        t = float(t)
        if a <= t <= old:
            t = a + (t - a) * (new_t - a) / (old - a) if old > a else a
        elif old < t <= c:
            t = new_t + (t - old) * (c - new_t) / (c - old) if c > old else c
        return int(round(t)) if math.isfinite(t) else t
    out = copy.deepcopy(words)
    for w in out:
        for unit in [w, *w.get("morae", [])]:
            unit["t0_ms"], unit["t1_ms"] = move(unit["t0_ms"]), move(unit["t1_ms"])
    return out
