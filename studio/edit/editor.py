"""Timeline editing without Qt: every change is a command on an undo stack.

A command computes a new event list for one timeline from the current one. The result is parsed
with the same loader as a file (so an edit can never produce a timeline the studio would reject);
if that fails the command raises EditError and nothing has changed. Applied commands are kept as
splices (the events replaced and their replacement), so undo and redo restore the exact previous
document, and a long dense track costs memory only where it changed. Several commands can be
grouped into one undo step (a drag).

Events are edited in the form they were read: a label stays a label, a legacy `yaw` key stays
`yaw`, and keys the studio does not know are kept.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from contracts.errors import ContractError
from studio.events import Event
from contracts.timelines import MOUTHS, parse_expression, parse_mouth, parse_pose

KINDS = ("pose", "mouth", "expression")
LIST_KEY = {"pose": ("frames", "timeline"), "mouth": ("frames",), "expression": ("timeline",)}


class EditError(Exception):
    """An edit that cannot be applied; nothing was changed."""


def events_of(doc) -> list:
    """The event list inside a timeline document (the document itself when it is a bare array)."""
    if isinstance(doc, list):
        return doc
    for k in ("frames", "timeline"):
        if k in doc:
            return doc[k]
    raise EditError("the timeline has no event list")


def with_events(doc, events: list):
    """A copy of `doc` whose event list is `events` (everything else kept)."""
    if isinstance(doc, list):
        return events
    out = dict(doc)
    for k in ("frames", "timeline"):
        if k in doc:
            out[k] = events
            return out
    raise EditError("the timeline has no event list")


@dataclass
class Splice:
    kind: str
    start: int
    old: list
    new: list


@dataclass
class Command:
    name: str
    splices: list[Splice] = field(default_factory=list)


class TimelineEditor:
    """Holds the three timeline documents and the undo stack; emits `changed(kinds)` on every edit."""

    def __init__(self, docs: dict, step_ms: float, emo_map: dict | None = None, audio_ms: float | None = None,
                 tracks: dict | None = None):
        """`docs` are shared, never changed in place (edits build new lists and dicts); `tracks` may
        pass the already parsed timelines so a long session is not parsed twice."""
        self.docs = {k: v for k, v in docs.items() if v is not None}
        self.step_ms = step_ms
        self.audio_ms = audio_ms
        self.emo_map = emo_map or {}
        self.undo_stack: list[Command] = []
        self.redo_stack: list[Command] = []
        self._macro: Command | None = None
        self.saved_marker: Command | None = None   # the command the saved file corresponds to
        self.changed = Event("changed")            # emitted with the set of kinds that changed
        self.tracks = {k: (tracks or {}).get(k) or self._parse(k, d) for k, d in self.docs.items()}

    # ------------------------------------------------------------- state
    @property
    def dirty(self) -> bool:
        top = self.undo_stack[-1] if self.undo_stack else None
        return top is not self.saved_marker

    def mark_saved(self) -> None:
        self.saved_marker = self.undo_stack[-1] if self.undo_stack else None

    def events(self, kind: str) -> list:
        return events_of(self.docs[kind])

    def _parse(self, kind: str, doc):
        try:
            if kind == "pose":
                return parse_pose(doc, None)
            if kind == "mouth":
                return parse_mouth(doc, None)
            return parse_expression(doc, None, self.emo_map)
        except ContractError as err:
            raise EditError(f"{kind} timeline: {err.where}: {err.expected}") from None

    # ----------------------------------------------------------- commands
    def apply(self, name: str, kind: str, new_events: list, start: int = 0, stop: int | None = None) -> None:
        """Replace events[start:stop] of `kind` with `new_events`, all or nothing."""
        if kind not in self.docs:
            raise EditError(f"the session has no {kind} timeline")
        events = self.events(kind)
        stop = len(events) if stop is None else stop
        # event dicts are never changed in place (commands build new ones), so lists may share them
        candidate = events[:start] + list(new_events) + events[stop:]
        new_doc = with_events(self.docs[kind], candidate)
        track = self._parse(kind, new_doc)          # raises EditError: nothing changed
        splice = Splice(kind, start, events[start:stop], candidate[start:start + len(new_events)])
        self.docs[kind] = new_doc
        self.tracks[kind] = track
        if self._macro is not None:
            self._macro.splices.append(splice)
        else:
            self.undo_stack.append(Command(name, [splice]))
            self.redo_stack.clear()
        self.changed.emit({kind})

    def begin(self, name: str) -> None:
        """Group the following commands into one undo step (e.g. a drag)."""
        if self._macro is None:
            self._macro = Command(name)

    def end(self) -> None:
        macro, self._macro = self._macro, None
        if macro is not None and macro.splices:
            self.undo_stack.append(macro)
            self.redo_stack.clear()

    def cancel_group(self) -> None:
        """Abandon a group in progress: undo what it did so far."""
        macro, self._macro = self._macro, None
        if macro is not None and macro.splices:
            self._revert(macro)

    def _revert(self, cmd: Command) -> set:
        kinds = set()
        for sp in reversed(cmd.splices):
            ev = self.events(sp.kind)
            ev = ev[:sp.start] + sp.old + ev[sp.start + len(sp.new):]
            self._set(sp.kind, ev)
            kinds.add(sp.kind)
        return kinds

    def _set(self, kind: str, events: list) -> None:
        self.docs[kind] = with_events(self.docs[kind], events)
        self.tracks[kind] = self._parse(kind, self.docs[kind])

    def undo(self) -> bool:
        if self._macro is not None or not self.undo_stack:
            return False
        cmd = self.undo_stack.pop()
        kinds = self._revert(cmd)
        self.redo_stack.append(cmd)
        self.changed.emit(kinds)
        return True

    def redo(self) -> bool:
        if not self.redo_stack:
            return False
        cmd = self.redo_stack.pop()
        kinds = set()
        for sp in cmd.splices:
            ev = self.events(sp.kind)
            ev = ev[:sp.start] + sp.new + ev[sp.start + len(sp.old):]
            self._set(sp.kind, ev)
            kinds.add(sp.kind)
        self.undo_stack.append(cmd)
        self.changed.emit(kinds)
        return True

    # -------------------------------------------------------- edit verbs
    def _snap(self, t: float, snap: bool) -> float:
        t = max(0.0, t)
        return float(round(t / self.step_ms) * self.step_ms) if snap else round(t, 3)

    def _resorted(self, kind: str, changed: dict[int, dict], name: str) -> None:
        """Apply per-index event replacements, keeping the list sorted (stable) and minimal."""
        events = self.events(kind)
        merged = [changed.get(i, e) for i, e in enumerate(events)]
        order = sorted(range(len(merged)), key=lambda i: merged[i]["t_ms"])
        new = [merged[i] for i in order]  # the same dict objects: apply() deep-copies only the splice
        lo = next((i for i in range(len(new)) if new[i] is not events[i]), None)
        if lo is None:
            return
        hi = len(new)
        while hi > lo and new[hi - 1] is events[hi - 1]:
            hi -= 1
        self.apply(name, kind, new[lo:hi], lo, hi)

    def move(self, kind: str, indices: list[int], dt_ms: float, snap: bool = True) -> list[int]:
        """Move events (or pose keys) by dt_ms, not before 0; with snap the earliest moved start lands
        on the step grid. Returns the moved events' new indices (the list stays sorted)."""
        events = self.events(kind)
        if not indices:
            return []
        first = min(events[i]["t_ms"] for i in indices)
        target = self._snap(first + dt_ms, snap)
        shift = target - first
        if shift == 0:
            return list(indices)
        changed = {}
        for i in indices:
            e = dict(events[i])
            e["t_ms"] = _num(e["t_ms"] + shift)
            if e["t_ms"] < 0:
                raise EditError("an event cannot move before 0 ms")
            changed[i] = e
        self._resorted(kind, changed, "move")
        moved = {id(e) for e in changed.values()}
        return [k for k, e in enumerate(self.events(kind)) if id(e) in moved]

    def resize(self, kind: str, index: int, start_ms: float | None = None, end_ms: float | None = None,
               snap: bool = True) -> None:
        """Set an event's start and/or end. Without dur_ms an event ends where the next one starts,
        so its end is moved by moving the next event's start."""
        events = self.events(kind)
        e = dict(events[index])
        changed = {}
        old_end = self.event_end(kind, index)
        if start_ms is not None:
            s = self._snap(start_ms, snap)
            if end_ms is None and s >= old_end:  # with a new end too, that end is checked below
                raise EditError("an event must keep a positive length")
            if "dur_ms" in e:
                e["dur_ms"] = _num(old_end - s)
            e["t_ms"] = _num(s)
        if end_ms is not None:
            end = self._snap(end_ms, snap)
            if end <= e["t_ms"]:
                raise EditError("an event must keep a positive length")
            j = self._next_boundary(kind, index)
            if "dur_ms" in e or j is None or kind == "pose":
                e["dur_ms"] = _num(end - e["t_ms"])
            else:
                nxt = dict(events[j])
                nxt["t_ms"] = _num(end)
                changed[j] = nxt
        changed[index] = e
        self._resorted(kind, changed, "resize")

    def _next_boundary(self, kind: str, index: int) -> int | None:
        """Index of the event whose start ends event `index` when it has no dur_ms: the next event
        (mouth, pose), the next change point (expression: overlays do not end a change point)."""
        events = self.events(kind)
        for j in range(index + 1, len(events)):
            if kind != "expression" or "dur_ms" not in events[j]:
                return j
        return None

    def event_end(self, kind: str, index: int) -> float:
        events = self.events(kind)
        e = events[index]
        if "dur_ms" in e:
            return float(e["t_ms"] + e["dur_ms"])
        j = self._next_boundary(kind, index)
        if j is not None:
            return float(events[j]["t_ms"])
        if kind == "expression" and self.audio_ms:  # the last change point lasts to the session's end
            return float(max(self.audio_ms, e["t_ms"] + self.step_ms))
        return float(e["t_ms"] + self.step_ms)

    def insert(self, kind: str, event: dict) -> int:
        """Insert an event at its sorted place (after others with the same t_ms); returns its index."""
        events = self.events(kind)
        i = next((k for k, e in enumerate(events) if e["t_ms"] > event["t_ms"]), len(events))
        self.apply("insert", kind, [copy.deepcopy(event)], i, i)
        return i

    def delete(self, kind: str, indices: list[int]) -> None:
        events = self.events(kind)
        if not indices:
            return
        keep = set(range(len(events))) - set(indices)
        lo, hi = min(indices), max(indices) + 1
        self.apply("delete", kind, [events[i] for i in range(lo, hi) if i in keep], lo, hi)

    def set_mouth(self, indices: list[int], mouth_id: int) -> None:
        if not 0 <= mouth_id < len(MOUTHS):
            raise EditError(f"mouth_id must be 0..5, got {mouth_id}")
        self._set_field("mouth", indices, "set mouth", lambda e: _with_mouth(e, mouth_id))

    def set_expression(self, indices: list[int], label: str) -> None:
        # an `expression` key wins over a legacy emo_id (which is kept, as every unknown key is)
        self._set_field("expression", indices, "set expression", lambda e: dict(e, expression=label))

    def set_pose(self, index: int, values: dict) -> None:
        """Edit a pose key's values; a frame using legacy `yaw` keeps writing `yaw`."""
        def change(e):
            e = dict(e)
            for name, v in values.items():
                if not math.isfinite(v):
                    raise EditError(f"{name} must be a finite number")
                legacy = name.replace("_deg", "")
                key = legacy if name.endswith("_deg") and name not in e and legacy in e else name
                e[key] = _num(v)
            return e
        self._set_field("pose", [index], "edit pose key", change)

    def _set_field(self, kind: str, indices: list[int], name: str, change) -> None:
        events = self.events(kind)
        if not indices:
            return
        lo, hi = min(indices), max(indices) + 1
        new = [change(events[i]) if i in indices else events[i] for i in range(lo, hi)]
        self.apply(name, kind, new, lo, hi)

    def shift(self, kind: str, dt_ms: float, indices: list[int] | None = None) -> None:
        """Shift a whole timeline (or a selection) by dt_ms. Shifting earlier, what is pushed before
        0 ms is cut there; the last change point before 0 stays in force at 0."""
        if indices is not None:
            self.move(kind, indices, dt_ms, snap=False)
            return
        events = self.events(kind)
        new, carried = [], None
        for e in events:
            t = e["t_ms"] + dt_ms
            if t >= 0:
                new.append(dict(e, t_ms=_num(t)))
            elif "dur_ms" in e:
                if t + e["dur_ms"] > 0:
                    new.append(dict(e, t_ms=0, dur_ms=_num(t + e["dur_ms"])))
            else:
                carried = dict(e, t_ms=0)
        if carried is not None and not any(x["t_ms"] == 0 and "dur_ms" not in x for x in new):
            new.insert(0, carried)
        self.apply(f"shift {kind} {dt_ms:+g} ms", kind, new, 0, len(events))

    def split(self, kind: str, index: int, at_ms: float, snap: bool = True) -> None:
        events = self.events(kind)
        e = events[index]
        at = self._snap(at_ms, snap)
        end = self.event_end(kind, index)
        if not e["t_ms"] < at < end:
            raise EditError("split point must be inside the event")
        first, second = dict(e), dict(e)
        second["t_ms"] = _num(at)
        if "dur_ms" in e:
            first["dur_ms"] = _num(at - e["t_ms"])
            second["dur_ms"] = _num(end - at)
        self.apply("split", kind, [first, second], index, index + 1)

    def merge(self, kind: str, index: int) -> None:
        """Merge event `index` with the next one (the first one's label, covering both)."""
        events = self.events(kind)
        if index + 1 >= len(events):
            raise EditError("there is no next event to merge with")
        first = dict(events[index])
        end = self.event_end(kind, index + 1)
        if "dur_ms" in first:
            first["dur_ms"] = _num(end - first["t_ms"])
        self.apply("merge", kind, [first], index, index + 2)

    def paint_mouth(self, t0: float, t1: float, mouth_id: int, name: str = "set mouth in span") -> None:
        """Make the mouth `mouth_id` throughout [t0, t1) (e.g. close it in a silent span)."""
        events = self.events("mouth")
        ends = self.tracks["mouth"].ends(self.step_ms)
        uses_dur = any("dur_ms" in e for e in events)
        painted = self._mouth_event(events, t0, t1, mouth_id, uses_dur)
        after = None   # without dur_ms: the event in force at t1, to restore after the span
        new = []
        for i, e in enumerate(events):
            s, end = float(e["t_ms"]), float(ends[i])
            if s <= t1 < end:
                after = e
            if t0 <= s < t1:          # starts inside the span: its part after t1 survives (dur_ms only)
                if "dur_ms" in e and end > t1:
                    new.append(dict(e, t_ms=_num(t1), dur_ms=_num(end - t1)))
                continue
            if s < t0 and "dur_ms" in e and end > t0:   # overlaps the span's start: cut, keep its tail
                new.append(dict(e, dur_ms=_num(t0 - s)))
                if end > t1:
                    new.append(dict(e, t_ms=_num(t1), dur_ms=_num(end - t1)))
                continue
            new.append(e)
        new.append(painted)
        if not uses_dur and after is not None and not any(float(e["t_ms"]) == t1 for e in new):
            new.append(dict(after, t_ms=_num(t1)))
        new.sort(key=lambda e: e["t_ms"])  # stable: equal starts keep their file order
        self.apply(name, "mouth", new, 0, len(events))

    def _mouth_event(self, events, t0, t1, mouth_id, uses_dur) -> dict:
        template = events[0] if events else {"t_ms": 0, "mouth_id": 0}
        e = _with_mouth({k: v for k, v in template.items() if k in ("mouth", "mouth_id")} or {"mouth_id": 0}, mouth_id)
        e["t_ms"] = _num(t0)
        if uses_dur:
            e["dur_ms"] = _num(t1 - t0)
        return e


def _with_mouth(e: dict, mouth_id: int) -> dict:
    e = dict(e)
    if "mouth_id" in e or "mouth" not in e:
        e["mouth_id"] = mouth_id
    else:
        e["mouth"] = "close" if e["mouth"].lower() == "close" and mouth_id == 0 else MOUTHS[mouth_id]
    return e


def _num(x: float):
    """Integers stay integers in the JSON (t_ms 120, not 120.0)."""
    x = round(float(x), 3)
    return int(x) if x.is_integer() else x
