"""Where a drag may put events without hiding any (issue 13: dense production tracks).

Lip-sync timing is locked to the audio, so an edit must not shift what it does not touch. The rule
is *overwrite*, as in a video editor's overwrite mode:

- a moved or grown event takes the time it now covers: events wholly inside it are replaced
  (removed, as part of the same undoable command, and named in it), the one it partly covers is
  trimmed (a step that was in force where the moved event ends starts again right after it);
- the time a moved event leaves is taken by the event before it (a step lasts until the next one);
- a shrunk event gives its time to its neighbour;
- nothing moves before 0 ms or past the end of the session.
So no event is ever left hidden under another, nothing else in the track moves, and no duplicate
starts are saved. Steps (no `dur_ms`) and spans (`dur_ms`: blinks, mouth events with lengths)
overwrite only their own kind. Pose keys are instants: they keep their order, a frame apart.
"""
from __future__ import annotations

from contracts.jsonfile import json_number as _num


def _is_step(e: dict) -> bool:
    return "dur_ms" not in e


def step_end(events: list[dict], i: int, step: float, session_ms: float | None, expression: bool) -> float:
    """Where step event i ends: the next step's start; the last one after a frame (mouth) or at the
    session's end (an expression change point)."""
    for j in range(i + 1, len(events)):
        if _is_step(events[j]) or not expression:
            return float(events[j]["t_ms"])
    t = float(events[i]["t_ms"])
    return max(session_ms or 0.0, t + step) if expression else t + step


def paint(events: list[dict], runs: list[tuple[float, float, dict]], expression: bool, step: float,
          session_ms: float | None) -> tuple[list[dict], int]:
    """Put each run's event over [t0, t1) of its own kind, overwriting: (new sorted event list, how many
    events were replaced). Each run's dict is a fresh copy owned by the caller: its t_ms (and dur_ms)
    are set and the dict itself goes into the list. `events` must not contain the painted events
    themselves (a move takes them out first)."""
    out = list(events)
    replaced = 0
    for t0, t1, ev in sorted(runs, key=lambda r: r[0]):
        if _is_step(ev):
            kind = [k for k, e in enumerate(out) if _is_step(e) or not expression]
            before = [k for k in kind if float(out[k]["t_ms"]) <= t1]
            in_force = out[before[-1]] if before else None            # what shows at t1 before painting
            inside = {k for k in kind if t0 <= float(out[k]["t_ms"]) < t1}
            replaced += len(inside) - (1 if in_force is not None and out.index(in_force) in inside else 0)
            keep = [e for k, e in enumerate(out) if k not in inside]
            ev["t_ms"] = _num(t0)
            keep.append(ev)
            if in_force is not None and not any(float(e["t_ms"]) == t1 and (_is_step(e) or not expression)
                                                for e in keep) and t1 < _end_of(out, in_force, step, session_ms,
                                                                                 expression):
                keep.append(dict(in_force, t_ms=_num(t1)))             # it goes on after the painted one
            out = keep
        else:
            keep = []
            for e in out:
                if _is_step(e):
                    keep.append(e)
                    continue
                s, d = float(e["t_ms"]), float(e["dur_ms"])
                if s >= t1 or s + d <= t0:
                    keep.append(e)
                elif t0 <= s and s + d <= t1:
                    replaced += 1
                else:
                    if s < t0:
                        keep.append(dict(e, dur_ms=_num(t0 - s)))
                    if s + d > t1:
                        keep.append(dict(e, t_ms=_num(t1), dur_ms=_num(s + d - t1)))
            ev["t_ms"], ev["dur_ms"] = _num(t0), _num(t1 - t0)
            keep.append(ev)
            out = keep
        out.sort(key=lambda e: float(e["t_ms"]))                       # stable: equal starts keep their order
    return out, replaced


def _end_of(events, e, step, session_ms, expression) -> float:
    i = next(k for k, x in enumerate(events) if x is e)
    return float(e["t_ms"]) + float(e["dur_ms"]) if not _is_step(e) else step_end(events, i, step, session_ms,
                                                                                  expression)


def point_limits(events: list[dict], selected: set[int], step: float) -> tuple[float, float]:
    """(lowest, highest) dt for moving pose keys: they keep their order, a frame apart."""
    t = [float(e["t_ms"]) for e in events]
    lo, hi = -min(t[i] for i in selected), float("inf")
    for a, b in zip(range(len(t)), range(1, len(t))):
        gap = t[b] - t[a]
        if gap < step:
            continue
        if a in selected and b not in selected:
            hi = min(hi, gap - step)
        elif b in selected and a not in selected:
            lo = max(lo, step - gap)
    return lo, hi
