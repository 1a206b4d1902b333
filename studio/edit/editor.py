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

import bisect
import copy
import dataclasses
import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from contracts.errors import ContractError
from contracts.jsonfile import json_number as _num
from contracts.timelines import (LEGACY_ANGLE, MOUTHS, POSE_FIELDS, mouth_from_label, parse_expression, parse_mouth,
                                 parse_pose)
from studio.edit import limits, tracks
from studio.events import Event

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
    key: str | None = None    # set: a top-level value of the document (old/new are the values, ABSENT for none)


ABSENT = object()            # a key the document does not have


@dataclass
class Command:
    name: str
    splices: list[Splice] = field(default_factory=list)
    last_name: str = ""      # in a group: the name of the last command (a drag names itself after it)


def _drag_name(macro: Command) -> str:
    """'drag mouth' becomes what the drag did: 'move 2 mouth events' / 'resize mouth event …'."""
    parts = macro.last_name.split(" ")
    return " ".join(parts[:4] if parts[0] == "move" else parts) + " (drag)"


class TimelineEditor:
    """Holds the three timeline documents and the undo stack; emits `changed(kinds)` on every edit."""

    def __init__(self, docs: dict, step_ms: float, emo_map: dict | None = None, audio_ms: float | None = None,
                 parsed: dict | None = None):
        """`docs` are shared, never changed in place (edits build new lists and dicts); `tracks` may
        pass the already parsed timelines so a long session is not parsed twice."""
        self.docs = {k: v for k, v in docs.items() if v is not None}
        self.step_ms = step_ms
        self.audio_ms = audio_ms
        self.emo_map = emo_map or {}
        self.undo_stack: list[Command] = []
        self.redo_stack: list[Command] = []
        self._macro: Command | None = None
        self._depth = 0                            # nesting of begin()/end()
        self.saved_marker: Command | None = None   # the command the saved file corresponds to
        self.changed = Event("changed")            # emitted with the set of kinds that changed
        self.history_changed = Event("history_changed")  # the undo stack or the saved point moved
        self.last_replaced = 0                     # events the last move or resize overwrote (drag indicator)
        self.tracks = {k: (parsed or {}).get(k) or self._parse(k, d) for k, d in self.docs.items()}
        self._rows = {"pose": tracks.PoseRows.of(self.tracks["pose"], len(self.events("pose")))} \
            if "pose" in self.tracks else {}
        self.touched: dict[str, tuple[float, float]] = {}   # ms each timeline's edits touched (take_touched)

    # ------------------------------------------------------------- state
    @property
    def dirty(self) -> bool:
        top = self.undo_stack[-1] if self.undo_stack else None
        return top is not self.saved_marker

    def mark_saved(self) -> None:
        self.saved_marker = self.undo_stack[-1] if self.undo_stack else None
        self.history_changed.emit()

    @property
    def undo_name(self) -> str | None:
        return self.undo_stack[-1].name if self.undo_stack else None

    @property
    def redo_name(self) -> str | None:
        return self.redo_stack[-1].name if self.redo_stack else None

    def history(self) -> list[str]:
        """Names of the undoable steps, oldest first (what the history view lists)."""
        return [c.name for c in self.undo_stack]

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

    def _spliced_track(self, kind: str, new_doc, start: int, stop: int, new_events: list):
        """The parsed track of `new_doc` = the current document with events[start:stop] replaced by
        `new_events`: only the new events are parsed when the track is long (tracks.py)."""
        old = self.tracks[kind]
        n_old = len(self.events(kind))
        if kind == "expression" or n_old < tracks.FULL_PARSE_BELOW:
            track = self._parse(kind, new_doc)
            self._rows[kind] = tracks.PoseRows.of(track, len(events_of(new_doc))) if kind == "pose" else None
            return track
        mini = self._parse(kind, with_events(new_doc, list(new_events)))   # the format's rules, on the new events
        if kind == "mouth":
            track = tracks.spliced_mouth(old, new_doc, start, stop, mini)
        else:
            rows = self._rows.get("pose")
            done = rows.spliced(old, new_doc, start, stop, mini, len(new_events)) if rows is not None else None
            track = None
            if done is not None:
                track, self._rows["pose"] = done
        if track is None:                       # out of order, or unusual: the loader decides (and explains)
            track = self._parse(kind, new_doc)
            if kind == "pose":
                self._rows["pose"] = tracks.PoseRows.of(track, len(events_of(new_doc)))
        return track

    def _splice(self, kind: str, start: int, stop: int, new_events: list) -> Splice:
        """Replace events[start:stop] with `new_events` (all or nothing: EditError changes nothing)."""
        events = self.events(kind)
        # event dicts are never changed in place (commands build new ones), so lists may share them
        candidate = events[:start] + list(new_events) + events[stop:]
        new_doc = with_events(self.docs[kind], candidate)
        track = self._spliced_track(kind, new_doc, start, stop, new_events)   # raises EditError: nothing changed
        splice = Splice(kind, start, events[start:stop], candidate[start:start + len(new_events)])
        self._touch(kind, events, candidate, start, stop, start + len(new_events))
        self.docs[kind] = new_doc
        self.tracks[kind] = track
        return splice

    def _touch(self, kind: str, old: list, new: list, start: int, old_stop: int, new_stop: int) -> None:
        """Remember the time an edit can have changed: from the event before the splice (a step before it
        may now end elsewhere; pose interpolates from it) to the event after it (or the end)."""
        t0 = float(new[start - 1]["t_ms"]) if start > 0 else 0.0
        t1 = float(new[new_stop]["t_ms"]) if new_stop < len(new) else math.inf
        for e in old[start:old_stop] + new[start:new_stop]:
            t1 = max(t1, float(e["t_ms"]) + float(e.get("dur_ms", 0) or 0) + self.step_ms)
        a, b = self.touched.get(kind, (t0, t1))
        self.touched[kind] = (min(a, t0), max(b, t1))

    def take_touched(self) -> dict[str, tuple[float, float]]:
        """The time (ms) each timeline's edits touched since the last call: the plan is redone there only."""
        out, self.touched = self.touched, {}
        return out

    # -------------------------------------------------- long commands elsewhere
    def fork(self) -> "TimelineEditor":
        """A copy to run one long command on another thread (documents and events are never changed in
        place, so it shares them); `adopt` then takes its result over in one cheap step."""
        c = copy.copy(self)
        c.docs, c.tracks, c._rows, c.touched = dict(self.docs), dict(self.tracks), dict(self._rows), {}
        c.undo_stack, c.redo_stack, c._macro, c._depth = [], [], None, 0
        c.changed, c.history_changed = Event("changed"), Event("history_changed")
        c.forked_from = dict(self.docs)
        return c

    def adopt(self, fork: "TimelineEditor") -> bool:
        """Take over the one command `fork` did, when the documents are still the ones it started from
        (False: something changed meanwhile, nothing is done; run the command here instead)."""
        base = getattr(fork, "forked_from", None)
        if base is None or self._macro is not None or len(fork.undo_stack) != 1 or \
                any(self.docs.get(k) is not base.get(k) for k in set(base) | set(self.docs)):
            return False
        cmd = fork.undo_stack[0]
        kinds = {sp.kind for sp in cmd.splices}
        for k in kinds:
            self.docs[k], self.tracks[k] = fork.docs[k], fork.tracks[k]
            if k in fork._rows:
                self._rows[k] = fork._rows[k]
        for k, (a, b) in fork.touched.items():
            c, d = self.touched.get(k, (a, b))
            self.touched[k] = (min(a, c), max(b, d))
        self.undo_stack.append(cmd)
        self.redo_stack.clear()
        self.changed.emit(kinds)
        self.history_changed.emit()
        return True

    # ----------------------------------------------------------- commands
    def apply(self, name: str, kind: str, new_events: list, start: int = 0, stop: int | None = None) -> None:
        """Replace events[start:stop] of `kind` with `new_events`, all or nothing."""
        if kind not in self.docs:
            raise EditError(f"the session has no {kind} timeline")
        stop = len(self.events(kind)) if stop is None else stop
        if self.events(kind)[start:stop] == list(new_events):
            return      # it would change nothing: no undo step, nothing unsaved, the file's bytes kept
        self._record(name, self._splice(kind, start, stop, new_events))

    def _record(self, name: str, splice: Splice) -> None:
        """A done splice joins the open group, or becomes an undo step of its own."""
        if self._macro is not None:
            self._macro.splices.append(splice)
            self._macro.last_name = name
        else:
            self.undo_stack.append(Command(name, [splice]))
            self.redo_stack.clear()
        self.changed.emit({splice.kind})
        if self._macro is None:
            self.history_changed.emit()

    def begin(self, name: str) -> None:
        """Group the following commands into one undo step (e.g. a drag). Groups nest: the outermost
        one is the undo step."""
        if self._macro is None:
            self._macro = Command(name)
        self._depth += 1

    def end(self) -> None:
        self._depth = max(0, self._depth - 1)
        if self._depth:
            return
        macro, self._macro = self._macro, None
        if macro is not None and macro.splices:
            if macro.name.startswith("drag") and macro.last_name:
                macro.name = _drag_name(macro)
            self.undo_stack.append(macro)
            self.redo_stack.clear()
            self.history_changed.emit()

    def cancel_group(self) -> None:
        """Abandon a group in progress: undo what it did so far."""
        macro, self._macro, self._depth = self._macro, None, 0
        if macro is not None and macro.splices:
            self.changed.emit(self._revert(macro))

    @contextmanager
    def transaction(self, name: str):
        """Commands inside are one step, all or nothing: an EditError takes back what they did (only
        theirs, inside a larger group) and is raised on."""
        self.begin(name)
        mark = len(self._macro.splices)
        try:
            yield
        except EditError:
            done = Command(name, self._macro.splices[mark:])
            del self._macro.splices[mark:]
            if done.splices:
                self.changed.emit(self._revert(done))
            raise
        finally:
            self.end()

    def restart_group(self, step, *args, **kwargs):
        """Within a group (a drag), take back what the group did so far and do `step(*args)` instead, from
        the state the group started in. A drag is computed from where it began to where the pointer is
        now — never step by step — so what it passed over on the way is untouched, and a drag that ends
        where it began changes nothing. Observers hear of the result once."""
        macro = self._macro
        kinds = self._revert(macro) if macro is not None and macro.splices else set()
        if macro is not None:
            macro.splices.clear()
        before = len(macro.splices) if macro is not None else 0
        try:
            return step(*args, **kwargs)
        finally:
            if kinds and (macro is None or len(macro.splices) == before):   # the step changed nothing
                self.changed.emit(kinds)

    def _revert(self, cmd: Command) -> set:
        kinds = set()
        for sp in reversed(cmd.splices):
            self._replay(sp, forward=False)
            kinds.add(sp.kind)
        return kinds

    def _replay(self, sp: Splice, forward: bool) -> None:
        if sp.key is not None:
            self._set_key(sp.kind, sp.key, sp.new if forward else sp.old)
        elif forward:
            self._splice(sp.kind, sp.start, sp.start + len(sp.old), sp.new)
        else:
            self._splice(sp.kind, sp.start, sp.start + len(sp.new), sp.old)

    def _set_key(self, kind: str, key: str, value) -> None:
        doc = self.docs[kind]
        if not isinstance(doc, dict):
            raise EditError(f"the {kind} timeline is a bare array: it has no place for '{key}'")
        new_doc = {k: v for k, v in doc.items() if k != key} if value is ABSENT else dict(doc, **{key: value})
        self._parse(kind, with_events(new_doc, []))       # the value checked by the loader's rules
        self.docs[kind] = new_doc
        self.tracks[kind] = dataclasses.replace(self.tracks[kind], doc=new_doc)

    def set_key(self, kind: str, key: str, value, name: str) -> None:
        """Set (or with ABSENT remove) a top-level value of a timeline document, e.g. the mouth track's
        `units` (the words it was aligned to); one undoable step, or part of a group."""
        doc = self.docs[kind]
        old = doc.get(key, ABSENT) if isinstance(doc, dict) else ABSENT
        self._set_key(kind, key, value)
        self._record(name, Splice(kind, 0, old, value, key=key))

    def undo(self) -> bool:
        if self._macro is not None or not self.undo_stack:
            return False
        cmd = self.undo_stack.pop()
        kinds = self._revert(cmd)
        self.redo_stack.append(cmd)
        self.changed.emit(kinds)
        self.history_changed.emit()
        return True

    def redo(self) -> bool:
        if not self.redo_stack:
            return False
        cmd = self.redo_stack.pop()
        kinds = set()
        for sp in cmd.splices:
            self._replay(sp, forward=True)
            kinds.add(sp.kind)
        self.undo_stack.append(cmd)
        self.changed.emit(kinds)
        self.history_changed.emit()
        return True

    # -------------------------------------------------------- edit verbs
    def _snap(self, t: float, snap: bool) -> float:
        t = max(0.0, t)
        # unsnapped: whole milliseconds (t_ms is an integer in the format; a file of integers stays one)
        return float(round(t / self.step_ms) * self.step_ms) if snap else float(round(t))

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

    def interval(self, kind: str, i: int) -> tuple[float, float]:
        e = self.events(kind)[i]
        if "dur_ms" in e:
            return float(e["t_ms"]), float(e["t_ms"]) + float(e["dur_ms"])
        return float(e["t_ms"]), self.event_end(kind, i)

    def move(self, kind: str, indices: list[int], dt_ms: float, snap: bool = True) -> list[int]:
        """Move events (or pose keys) by dt_ms; with snap the earliest moved start lands on the step grid.
        A moved event overwrites what it now covers and leaves its old time to the event before it
        (limits.py): nothing else in the track moves and nothing is left hidden. Stops at 0 ms and at
        the session's end. Returns the moved events' new indices."""
        events = self.events(kind)
        if not indices:
            return []
        indices = sorted(set(indices))
        first = min(float(events[i]["t_ms"]) for i in indices)
        shift = self._snap(first + dt_ms, snap) - first
        if kind == "pose":
            lo, hi = limits.point_limits(events, set(indices), self.step_ms)
        else:
            spans = [self.interval(kind, i) for i in indices]
            # the last expression change point lasts to the session's end wherever it starts: moved, it
            # still does (a rigid move left the end's frames to the default expression)
            to_end = [kind == "expression" and bool(self.audio_ms) and "dur_ms" not in events[i]
                      and b >= self.audio_ms - 1e-6 for i, (_, b) in zip(indices, spans)]
            lo = -min(a for a, _ in spans)
            ends = [a + self.step_ms if last else b for (a, b), last in zip(spans, to_end)]
            hi = (self.audio_ms - max(ends)) if self.audio_ms else float("inf")
        shift = min(max(shift, lo), hi)
        if snap and shift % self.step_ms:    # a limit off the grid: the last grid step inside it
            shift = math.trunc(shift / self.step_ms) * self.step_ms
        self.last_replaced = 0
        if shift == 0:
            return list(indices)
        n = len(indices)
        name = f"move {n} {kind} {'event' if n == 1 else 'events'} {shift:+g} ms"
        if kind == "pose":
            changed = {i: dict(events[i], t_ms=_num(float(events[i]["t_ms"]) + shift)) for i in indices}
            self._resorted(kind, changed, name)
            moved = {id(v) for v in changed.values()}
        else:
            runs = [(a + shift, b if last else b + shift, dict(events[i]))
                    for i, (a, b), last in zip(indices, spans, to_end)]
            lo, hi = self._window(kind, min(a for a, _ in spans) + min(shift, 0.0),
                                  max(b for _, b in spans) + max(shift, 0.0), indices)
            taken = set(indices)
            rest = [e for k, e in enumerate(events[lo:hi], lo) if k not in taken]
            new, self.last_replaced = limits.paint(rest, runs, kind == "expression", self.step_ms, self.audio_ms)
            self._replace(kind, new, name + (f", replacing {self.last_replaced}" if self.last_replaced else ""),
                          lo, hi)
            moved = {id(r[2]) for r in runs}
        return self._indices_of(kind, moved, min(indices)) or list(indices)

    def _indices_of(self, kind: str, ids: set, near: int) -> list[int]:
        """Indices of the events with these ids, looked for around index `near` first (long tracks)."""
        now = self.events(kind)
        found: list[int] = []
        reach = 16
        while len(found) < len(ids) and reach < 2 * len(now):
            lo, hi = max(0, near - reach), min(len(now), near + reach)
            found = [k for k in range(lo, hi) if id(now[k]) in ids]
            reach *= 4
        return found

    def _window(self, kind: str, t0: float, t1: float, indices) -> tuple[int, int]:
        """[lo, hi): the events an overwrite of [t0, t1) can touch — every event overlapping it, the step
        in force where it starts and the first event after it (whose start ends the step before) — so
        a long track is edited locally. Short tracks and expressions are taken whole."""
        events = self.events(kind)
        n = len(events)
        if kind != "mouth" or n < tracks.FULL_PARSE_BELOW:
            return 0, n
        tr = self.tracks[kind]
        starts, ends = tr.starts, tracks.mouth_ends(tr, self.step_ms)
        hit = np.flatnonzero((starts < t1) & (ends > t0))
        lo = min([int(np.searchsorted(starts, t0, side="right")) - 1, *indices])
        hi = max([int(np.searchsorted(starts, t1, side="right")) + 1, *(i + 2 for i in indices)])
        if len(hit):
            lo, hi = min(lo, int(hit[0])), max(hi, int(hit[-1]) + 2)
        return max(0, lo - 1), min(n, hi)

    def resize(self, kind: str, index: int, start_ms: float | None = None, end_ms: float | None = None,
               snap: bool = True) -> None:
        """Set an event's start and/or end. Growing overwrites what the event now covers; shrinking gives
        the time to the neighbour (limits.py). Without dur_ms an event ends where the next one starts."""
        events = self.events(kind)
        a, b = self.interval(kind, index)
        new_a = a if start_ms is None else self._snap(start_ms, snap)
        new_b = b if end_ms is None else self._snap(end_ms, snap)
        if self.audio_ms:
            new_b = min(new_b, max(float(self.audio_ms), b))
        new_a = max(0.0, new_a)
        if new_b - new_a < min(self.step_ms, b - a) - 1e-9:
            raise EditError("an event must keep a positive length")
        self.last_replaced = 0
        if (new_a, new_b) == (a, b):
            return
        e = events[index]
        name = f"resize {kind} event to {_num(new_a)}–{_num(new_b)} ms"
        if kind == "pose":
            self._set_field("pose", [index], name, lambda x: dict(x, t_ms=_num(new_a)))
            return
        step_like = "dur_ms" not in e
        j = self._next_boundary(kind, index) if step_like else None
        if step_like and new_b < b and j is not None and new_a == a:
            self._resorted(kind, {j: dict(events[j], t_ms=_num(new_b))}, name)   # shrink: the next one grows
            return
        if step_like and j is None and new_b != b:   # the last step: its end becomes an explicit length
            e = dict(e, dur_ms=_num(new_b - new_a))
            step_like = False
        lo, hi = self._window(kind, min(a, new_a), max(b, new_b), [index])
        rest = [x for k, x in enumerate(events[lo:hi], lo) if k != index]   # shrinking from the left: the previous one takes it
        new, self.last_replaced = limits.paint(rest, [(new_a, new_b, dict(e))], kind == "expression", self.step_ms,
                                               self.audio_ms)
        self._replace(kind, new, name + (f", replacing {self.last_replaced}" if self.last_replaced else ""), lo, hi)

    def _replace(self, kind: str, new: list, name: str, lo: int = 0, hi: int | None = None) -> None:
        """Apply `new` in place of events[lo:hi] (default: the whole list) as the smallest splice (long
        tracks stay cheap to edit and to undo)."""
        old = self.events(kind)
        base, old = lo, old[lo:hi]
        lo = 0
        while lo < min(len(old), len(new)) and old[lo] is new[lo]:
            lo += 1
        hi_old, hi_new = len(old), len(new)
        while hi_old > lo and hi_new > lo and old[hi_old - 1] is new[hi_new - 1]:
            hi_old -= 1
            hi_new -= 1
        if lo == hi_old == hi_new:
            return
        self.apply(name, kind, new[lo:hi_new], base + lo, base + hi_old)

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
        self.apply(f"insert {kind} event at {_num(event['t_ms'])} ms", kind, [copy.deepcopy(event)], i, i)
        return i

    def delete(self, kind: str, indices: list[int]) -> None:
        events = self.events(kind)
        if not indices:
            return
        keep = set(range(len(events))) - set(indices)
        lo, hi = min(indices), max(indices) + 1
        n = len(set(indices))
        self.apply(f"delete {n} {kind} event{'s' if n != 1 else ''}", kind,
                   [events[i] for i in range(lo, hi) if i in keep], lo, hi)

    def set_mouth(self, indices: list[int], mouth_id: int) -> None:
        if not 0 <= mouth_id < len(MOUTHS):
            raise EditError(f"mouth_id must be 0..5, got {mouth_id}")
        n = len(indices)
        self._set_field("mouth", indices, f"set mouth to {MOUTHS[mouth_id]} ({n} event{'s' if n != 1 else ''})",
                        lambda e: _with_mouth(e, mouth_id))

    def set_expression(self, indices: list[int], label: str) -> None:
        # an `expression` key wins over a legacy emo_id (which is kept, as every unknown key is)
        n = len(indices)
        self._set_field("expression", indices, f"set expression to {label} ({n} event{'s' if n != 1 else ''})",
                        lambda e: dict(e, expression=label))

    def set_pose(self, index: int, values: dict) -> None:
        """Set fields of a pose key, each where that key keeps it (pose_key_path): a legacy `yaw` stays
        `yaw`, a `pose_timeline.v1` key's angles stay in its `euler`; nothing else of the key changes."""
        names = ", ".join(n.replace("_deg", "") for n in values)
        self._set_field("pose", [index], f"edit pose key {names}", lambda e: with_pose_values(e, values))

    def pose_values(self, index: int) -> dict[str, float]:
        """The values a pose key gives the render (its fields as the loader reads them, defaults filled in)."""
        doc = with_events(self.docs["pose"], [self.events("pose")[index]])
        row = self._parse("pose", doc).values[0]
        return {name: float(v) for name, v in zip(POSE_FIELDS, row)}

    def pose_key_at(self, t_ms: float, values: dict) -> dict:
        """A new pose key at t_ms in the form of the key in force there (its keys, their order, euler or
        not, a frame_index kept in step), holding `values`."""
        events = self.events("pose")
        prev = events[max(0, bisect.bisect_right(EventTimes(events), t_ms) - 1)] if events else {}
        e = copy.deepcopy(prev) if prev else {}
        e["t_ms"] = _num(t_ms)
        if "frame_index" in e:
            e["frame_index"] = int(round(t_ms / self.step_ms))
        return with_pose_values(e, values)

    def _set_field(self, kind: str, indices: list[int], name: str, change) -> None:
        events = self.events(kind)
        if not indices:
            return
        lo, hi = min(indices), max(indices) + 1
        new = [change(events[i]) if i in indices else events[i] for i in range(lo, hi)]
        self.apply(name, kind, new, lo, hi)

    def grid_shift(self, kind: str, dt_ms: float) -> float:
        """The shift to apply for a measured offset: on the step grid when the track is on it
        (production tracks are), else whole milliseconds; timelines keep integer times."""
        on_grid = all(float(e["t_ms"]) % self.step_ms == 0 for e in self.events(kind))
        return float(round(dt_ms / self.step_ms) * self.step_ms) if on_grid else float(round(dt_ms))

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
        self.apply(f"split {kind} event at {_num(at)} ms", kind, [first, second], index, index + 1)

    def merge(self, kind: str, index: int) -> None:
        """Merge event `index` with the next one (the first one's label, covering both)."""
        events = self.events(kind)
        if index + 1 >= len(events):
            raise EditError("there is no next event to merge with")
        first = dict(events[index])
        end = self.event_end(kind, index + 1)
        if "dur_ms" in first:
            first["dur_ms"] = _num(end - first["t_ms"])
        self.apply(f"merge {kind} events", kind, [first], index, index + 2)

    def identical_run(self, kind: str, index: int) -> list[int]:
        """Event `index` and the neighbours either side that show the same thing (what Ctrl+J merges
        when one event is selected)."""
        events = self.events(kind)
        same = _same_look(kind)
        lo = hi = index
        while lo > 0 and same(events[lo - 1], events[index]):
            lo -= 1
        while hi + 1 < len(events) and same(events[hi + 1], events[index]):
            hi += 1
        return list(range(lo, hi + 1))

    def merge_identical(self, kind: str = "mouth", indices: list[int] | None = None) -> int:
        """Merge neighbours that show the same thing (a run of equal mouth shapes or expression labels)
        into the first of them, over the whole track or the selection; returns how many were merged."""
        events = self.events(kind)
        lo, hi = (min(indices), max(indices) + 1) if indices else (0, len(events))
        same = _same_look(kind)
        out, merged = [], 0
        for e in events[lo:hi]:
            prev = out[-1] if out else None
            if prev is not None and same(prev, e) and ("dur_ms" in prev) == ("dur_ms" in e):
                if "dur_ms" not in e:
                    merged += 1
                    continue                      # a step: the previous one now lasts until the next start
                if float(prev["t_ms"]) + float(prev["dur_ms"]) == float(e["t_ms"]):
                    out[-1] = dict(prev, dur_ms=_num(float(prev["dur_ms"]) + float(e["dur_ms"])))
                    merged += 1
                    continue
            out.append(e)
        if merged:
            self.apply(f"merge {merged} identical {kind} neighbour{'s' if merged != 1 else ''}", kind, out, lo, hi)
        return merged

    def paint_mouth(self, t0: float, t1: float, mouth_id: int, name: str | None = None) -> None:
        """Make the mouth `mouth_id` throughout [t0, t1) (e.g. close it in a silent span)."""
        self.paint_mouth_runs([(t0, t1, mouth_id)], name or f"paint {MOUTHS[mouth_id]} over {_num(t0)}–{_num(t1)} ms")

    def paint_mouth_runs(self, runs: list[tuple[float, float, int]], name: str) -> None:
        """Replace the mouth over [first start, last end) with consecutive runs (start, end, mouth id),
        in the track's own form (labels stay labels, steps stay steps); one undoable command.
        A track with an event on every frame (production's form) gets one event per painted frame;
        otherwise runs of the same shape next to each other are joined, and a step track painted to
        the session's end gets an event on the last frame, so the track still reaches the end."""
        runs = [r for r in runs if r[1] > r[0]]
        if not runs:
            return
        events = self.events("mouth")
        uses_dur = not np.isnan(self.tracks["mouth"].durs).all()
        if self.per_frame("mouth"):
            step = self.step_ms
            runs = [(t, t + step, m) for a, b, m in runs for t in np.arange(a, b - 1e-9, step).tolist()]
            joined = [list(r) for r in runs]
        else:
            joined = [list(runs[0])]
            for a, b, m in runs[1:]:
                if m == joined[-1][2] and a == joined[-1][1]:
                    joined[-1][1] = b
                else:
                    joined.append([a, b, m])
        t0, t1 = joined[0][0], joined[-1][1]
        painted = self.mouth_events(joined)
        last_frame = (math.ceil(self.audio_ms / self.step_ms - 1e-9) - 1) * self.step_ms if self.audio_ms else None
        if not uses_dur and last_frame is not None and t1 >= last_frame + self.step_ms and joined[-1][0] < last_frame:
            painted.append(self.mouth_event(last_frame, t1, joined[-1][2]))
        lo, hi = self._window("mouth", t0, t1, [])
        ends = tracks.mouth_ends(self.tracks["mouth"], self.step_ms)
        after = None   # without dur_ms: the event in force at t1, to restore after the span
        new = []
        for i in range(lo, hi):
            e = events[i]
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
        new.extend(painted)
        if not uses_dur and after is not None and not any(float(e["t_ms"]) == t1 for e in new):
            new.append(dict(after, t_ms=_num(t1)))
        new.sort(key=lambda e: e["t_ms"])  # stable: equal starts keep their file order
        self._replace("mouth", new, name, lo, hi)

    def per_frame(self, kind: str) -> bool:
        """True when the track has an event on every frame (the production mouth tracks' form)."""
        tr = self.tracks.get(kind)
        starts = getattr(tr, "starts", None)
        if starts is None or len(starts) < 3 or not np.isnan(tr.durs).all():
            return False
        return bool(np.mean(np.diff(starts) == self.step_ms) >= 0.9)

    def mouth_event(self, t0: float, t1: float, mouth_id: int) -> dict:
        """A mouth event over [t0, t1) in the track's own form: its mouth key (id or label, production's
        'close' spelling kept), and dur_ms when the track uses lengths."""
        return self.mouth_events([(t0, t1, mouth_id)])[0]

    def mouth_events(self, runs) -> list[dict]:
        """mouth_event for many (t0, t1, mouth id) at once: the track's form is read once, so a generated
        hour (90,000 runs) costs a pass, not a pass per run."""
        uses_dur = not np.isnan(self.tracks["mouth"].durs).all() if "mouth" in self.tracks else False
        events = self.events("mouth") if "mouth" in self.docs else []
        template = events[0] if events else {"t_ms": 0, "mouth_id": 0}
        keys = {k: v for k, v in template.items() if k in ("mouth", "mouth_id", "mouth6")} or {"mouth_id": 0}
        shaped = [_with_mouth(keys, m) for m in range(len(MOUTHS))]   # one per shape, copied per event
        out = []
        for t0, t1, m in runs:
            e = dict(shaped[int(m)])
            e["t_ms"] = _num(t0)
            if uses_dur:
                e["dur_ms"] = _num(t1 - t0)
            out.append(e)
        return out


def pose_key_path(e: dict, name: str) -> tuple[str, ...]:
    """Where a pose key keeps field `name` (SPEC §3): its top-level `*_deg`, else its legacy name, else in
    its `euler` (the `pose_timeline.v1` form, legacy names inside too); a field the key lacks goes where
    the key keeps its other angles."""
    legacy = LEGACY_ANGLE.get(name)
    if name in e:
        return (name,)
    if legacy and legacy in e:
        return (legacy,)
    euler = e.get("euler")
    if legacy and isinstance(euler, dict):
        return ("euler", legacy if legacy in euler and name not in euler else name)
    if legacy and any(k in e for k in LEGACY_ANGLE.values()):
        return (legacy,)
    return (name,)


def with_pose_values(e: dict, values: dict) -> dict:
    """A copy of pose key `e` with `values` (field -> number) written where the key keeps each field."""
    out = dict(e)
    for name, v in values.items():
        if not math.isfinite(v):
            raise EditError(f"{name} must be a finite number")
        path = pose_key_path(out, name)
        if len(path) == 1:
            out[path[0]] = _num(v)
        else:
            out["euler"] = dict(out["euler"], **{path[1]: _num(v)})
    return out


class EventTimes:
    """The events' t_ms as a sequence for bisect, without building a list of 90,000 of them."""

    def __init__(self, events):
        self.events = events

    def __len__(self):
        return len(self.events)

    def __getitem__(self, i):
        return self.events[i]["t_ms"]


def _same_look(kind: str):
    """Whether two events show the same thing: the same mouth shape, or the same expression label."""
    if kind == "mouth":
        return lambda a, b: _mouth_of(a) == _mouth_of(b)
    return lambda a, b: a.get("expression") == b.get("expression") and a.get("emo_id") == b.get("emo_id")


def _mouth_of(e: dict) -> int | None:
    if "mouth_id" in e:
        return int(e["mouth_id"])
    label = mouth_from_label(e.get("mouth", e.get("mouth6")))
    return MOUTHS.index(label) if label else None


def _with_mouth(e: dict, mouth_id: int) -> dict:
    e = dict(e)
    key = next((k for k in ("mouth_id", "mouth", "mouth6") if k in e), "mouth_id")
    if key == "mouth_id":
        e["mouth_id"] = mouth_id
    else:  # a label stays a label; production's 'close' spelling is kept
        spell_close = str(e[key]).lower() == "close" or key == "mouth6"
        e[key] = "close" if mouth_id == 0 and spell_close else MOUTHS[mouth_id]
    for other in ("mouth_id", "mouth", "mouth6"):   # an event with two mouth keys keeps them agreeing
        if other != key and other in e:
            e[other] = mouth_id if other == "mouth_id" else MOUTHS[mouth_id]
    return e
