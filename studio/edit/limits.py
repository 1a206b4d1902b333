"""How far an edit may go without hiding an event (issue 13: dense production tracks).

Two kinds of events share a lane: *steps* (no `dur_ms`: an event lasts until the next step
starts, SPEC §4–5) and *spans* (`dur_ms`: mouth events with lengths, blinks). The rules:

- moving steps keeps their lengths: the step that follows a moved run moves its start with it
  (it is trimmed or extended), and no step may become shorter than one frame;
- moving spans stops at the neighbouring span, never overlapping it;
- resizing moves one boundary, within the same limits.
So a drag can push into a neighbour but never pass over it: nothing ends up hidden under another
event, and no hidden duplicates are saved. Pairs that already break a rule in the file (events
closer than a frame, spans that overlap) do not limit anything: the file stays as it was.
"""
from __future__ import annotations

import math

INF = math.inf


def _is_step(e: dict) -> bool:
    return "dur_ms" not in e


def move_limits(events: list[dict], selected: set[int], step: float, points: bool = False
                ) -> tuple[set[int], float, float]:
    """(events that move, lowest dt, highest dt) for moving `selected` by dt ms.

    `points` (pose keys) are instants: they only keep their order and one frame apart."""
    t = [float(e["t_ms"]) for e in events]
    steps = [i for i, e in enumerate(events) if points or _is_step(e)]
    spans = [] if points else [i for i, e in enumerate(events) if not _is_step(e)]
    moved = set(selected)
    if not points:
        for k, i in enumerate(steps[:-1]):
            if i in selected and steps[k + 1] not in selected:
                moved.add(steps[k + 1])          # the following step keeps its end: it is trimmed
    lo, hi = -min(t[i] for i in moved), INF
    for a, b in zip(steps, steps[1:]):
        gap = t[b] - t[a]
        if gap < step:                           # already closer than a frame in the file
            continue
        if a in moved and b not in moved:
            hi = min(hi, gap - step)
        elif b in moved and a not in moved:
            lo = max(lo, step - gap)
    ordered = sorted(spans, key=lambda i: t[i])
    for a, b in zip(ordered, ordered[1:]):
        end_a = t[a] + float(events[a]["dur_ms"])
        if end_a > t[b]:                         # already overlapping in the file
            continue
        if a in moved and b not in moved:
            hi = min(hi, t[b] - end_a)
        elif b in moved and a not in moved:
            lo = max(lo, end_a - t[b])
    return moved, lo, hi


def next_step(events: list[dict], i: int, expression: bool) -> int | None:
    """The event whose start ends step `i`: the next event (mouth), the next change point (expression:
    blinks do not end a change point)."""
    for j in range(i + 1, len(events)):
        if not expression or _is_step(events[j]):
            return j
    return None


def end_limits(events: list[dict], i: int, step: float, expression: bool) -> tuple[float, float]:
    """(lowest, highest) new end of event i."""
    t0 = float(events[i]["t_ms"])
    if _is_step(events[i]):
        j = next_step(events, i, expression)
        if j is None:
            return t0 + step, INF
        k = next_step(events, j, expression)
        hi = float(events[k]["t_ms"]) - step if k is not None and float(events[k]["t_ms"]) - float(events[j]["t_ms"]) >= step else INF
        return t0 + step, hi
    end = t0 + float(events[i]["dur_ms"])
    later = [float(e["t_ms"]) for e in events if not _is_step(e) and float(e["t_ms"]) >= end and e is not events[i]]
    return t0 + step, min(later, default=INF)


def start_limits(events: list[dict], i: int, end: float, step: float, expression: bool) -> tuple[float, float]:
    """(lowest, highest) new start of event i, whose end stays at `end`."""
    t0 = float(events[i]["t_ms"])
    if _is_step(events[i]):
        prev = [j for j in range(i) if not expression or _is_step(events[j])]
        if prev and t0 - float(events[prev[-1]]["t_ms"]) >= step:
            return float(events[prev[-1]]["t_ms"]) + step, end - step
        return 0.0, end - step
    ends = [float(e["t_ms"]) + float(e["dur_ms"]) for e in events
            if not _is_step(e) and e is not events[i] and float(e["t_ms"]) + float(e["dur_ms"]) <= t0]
    return max(ends, default=0.0), end - step
