"""The studio's state without Qt: the open project, the current frame, the sync report, problems.

Views subscribe to its events; each fires only when the value really changed. Opening a
session either succeeds completely or leaves everything as it was.
"""
from __future__ import annotations

import dataclasses
import gc
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.edit.editor import ABSENT, KINDS, TimelineEditor, events_of
from studio.events import Event
from engine.client import read_audio
from studio.plan import Project, open_project
from studio.io.saving import (SaveAsRequest, fingerprint, SavedAs, SaveRequest, save_as_request, write_session_as,
                              write_timelines)
from studio.report import timeline_summary
from contracts.jsonfile import json_number as _num
from contracts.session import Overrides
from studio.waveform import WaveformPyramid
from render.sprites import SPRITES, interactive_budget

RECENT_MAX = 10


@dataclass
class LoadedSession:
    """A session read and checked off the interface thread, ready to be shown (StudioModel.adopt)."""
    project: Project
    channels: np.ndarray | None     # (channels, frames) float32, or None without audio
    mono: np.ndarray | None
    sample_rate: int
    waveform: WaveformPyramid | None


class StudioModel:
    def __init__(self):
        SPRITES.budget = max(SPRITES.budget, interactive_budget())  # scrubbing wants every sprite warm
        self.project: Project | None = None
        self.frame = 0
        self.sync = None
        self.audio: np.ndarray | None = None   # mono float32
        self.sample_rate = 0
        self.channels: np.ndarray | None = None  # (channels, frames) float32: what the audio engine plays
        self.waveform: WaveformPyramid | None = None
        self.editor: TimelineEditor | None = None
        self.project_changed = Event("project_changed")
        self.frame_changed = Event("frame_changed")
        self.sync_changed = Event("sync_changed")
        self.timelines_changed = Event("timelines_changed")  # (kinds) after an edit, undo or redo
        self.dirty_changed = Event("dirty_changed")
        self.history_changed = Event("history_changed")      # the undo stack moved (names, dirty)
        self.markers_changed = Event("markers_changed")
        self.warnings_changed = Event("warnings_changed")
        self.markers: list[float] = []                         # ms, sorted
        self.runtime_warnings: list[str] = []                  # found while working (scoring, aligning)

    # ------------------------------------------------------------------ open
    @staticmethod
    def load(path: str | Path, overrides: Overrides | None = None) -> "LoadedSession":
        """Everything opening a session needs that takes time — reading and checking the files, the WAV
        decoded once, the waveform levels — without touching the model: safe on a worker thread.
        Raises ContractError when the session is invalid."""
        project = open_project(path, overrides)
        project.size_warnings()                 # reads every sprite's size: here, not on the interface thread
        audio, mono, sr = None, None, 0
        if project.session.audio_path is not None:
            audio, sr = read_audio(project.session.audio_path, project.session.audio_ms / 1000.0)
            mono = audio[0] if len(audio) == 1 else audio.mean(axis=0)   # channels averaged, as the scorer does
        return LoadedSession(project, audio, mono, sr, WaveformPyramid(mono, sr) if mono is not None else None)

    def open(self, path: str | Path, overrides: Overrides | None = None) -> Project:
        """Load a session and show it; raises ContractError and keeps the current one when it is invalid."""
        return self.adopt(self.load(path, overrides))

    def adopt(self, loaded: "LoadedSession") -> Project:
        """Make a loaded session the open one (interface thread; quick: the slow part was `load`)."""
        project = loaded.project
        self.project, self.audio, self.sample_rate = project, loaded.mono, loaded.sample_rate
        self.channels = loaded.channels
        self.waveform = loaded.waveform
        self.frame = 0
        self.sync = None
        s = project.session
        present = [k for k in KINDS if getattr(s, k) is not None]
        self.editor = TimelineEditor({k: getattr(s, k).doc for k in present}, s.step_ms, s.emo_map, s.audio_ms,
                                     parsed={k: getattr(s, k) for k in present})
        self.editor.changed.connect(self._on_edit)
        self.editor.history_changed.connect(self._on_history)
        self._saved_docs = dict(self.editor.docs)   # what the files on disk hold
        self._on_disk = self._fingerprints(present)  # how those files looked when read
        self.markers = []
        self.runtime_warnings = []
        self.project_changed.emit(project)
        self.frame_changed.emit(0)
        self.warnings_changed.emit(self.warnings())
        settle_memory()
        return project

    def _on_history(self) -> None:
        self.history_changed.emit()
        self.dirty_changed.emit(self.editor.dirty)

    def no_audio_reason(self) -> str | None:
        """Why the session has no sound (what the audio lane says instead of a waveform), or None."""
        if self.project is None or self.audio is not None:
            return None
        s = self.project.session
        for w in s.warnings:
            if w.startswith("audio missing"):
                return f"no audio — {w}"
        return "no audio: the session names no audio file; preview and export play no sound"

    # -------------------------------------------------------------- warnings
    def warnings(self) -> list[str]:
        """Everything worth a look: the project's warnings, then what came up while working."""
        return ([*self.project.warnings] if self.project else []) + self.runtime_warnings

    def warn(self, text: str) -> None:
        if text not in self.runtime_warnings:
            self.runtime_warnings.append(text)
            self.warnings_changed.emit(self.warnings())

    # --------------------------------------------------------------- markers
    def set_markers(self, ms: list[float]) -> None:
        self.markers = sorted({float(m) for m in ms if 0 <= m <= self.project.session.audio_ms})
        self.markers_changed.emit(self.markers)

    def toggle_marker(self, frame: int) -> None:
        t = frame * self.step_ms
        self.set_markers([m for m in self.markers if m != t] if t in self.markers else [*self.markers, t])

    def next_marker(self, frame: int, backwards: bool = False) -> int | None:
        t = frame * self.step_ms
        cands = [m for m in self.markers if (m < t - 1e-6 if backwards else m > t + 1e-6)]
        if not cands:
            return None
        return self.frame_at((cands[-1] if backwards else cands[0]) / 1000.0)

    def next_event(self, frame: int, kind: str = "mouth", backwards: bool = False) -> int | None:
        """The frame of the next (previous) event start in a lane after (before) `frame`."""
        if self.editor is None or kind not in self.editor.docs:
            return None
        starts = sorted({self.frame_at(float(e["t_ms"]) / 1000.0) for e in self.editor.events(kind)})
        cands = [f for f in starts if (f < frame if backwards else f > frame)]
        return (cands[-1] if backwards else cands[0]) if cands else None

    # ------------------------------------------------- work for another process
    def scoring_work(self, cache_dir: Path | None = None):
        """(function, args) that score the current mouth track against the session WAV, small enough to
        hand to another process (studio/background.py): the WAV by path, the mouth as one array; the
        audio's side of the score is kept in `cache_dir` between scorings."""
        from contracts.audio import AudioSource
        from contracts.policy import load_policy
        s = self.project.session
        source = AudioSource(path=s.audio_path) if s.audio_path is not None else None
        return "studio.qa.sync:score_with_cache", (cache_dir, source, self.project.plan.mouth.copy(), s.step_ms,
                                                  s.audio_ms, load_policy(None, s), timeline_summary(s),
                                                  s.lang or "ja")

    def generation_work(self, text: str | None, lang: str):
        """(function, args) that align a mouth track to the whole session audio (and text) in another
        process. `apply_generated` then makes it, or the part in a selected range, one edit: the text
        covers the whole utterance, so the whole is aligned."""
        from contracts.audio import AudioSource
        s = self.project.session
        if s.audio_path is None or self.audio is None:
            raise ValueError("the session has no audio to align a mouth track to")
        return "studio.qa.align.aligner:align", (AudioSource(path=s.audio_path), text, lang, s.step_ms,
                                                 float(s.audio_ms))

    def apply_generated(self, result, t0_ms: float | None = None, t1_ms: float | None = None) -> None:
        """Put a generated track (or its part in [t0, t1)) into the mouth lane as one undoable edit."""
        _paint_generated(self.editor, result, t0_ms, t1_ms)

    def prepare_generated(self, result, t0_ms: float | None = None, t1_ms: float | None = None):
        """The same edit computed on a fork of the editor (safe on a worker thread: an hour is 90,000
        events); `adopt_generated` takes it over on the interface thread in one cheap step."""
        fork = self.editor.fork()
        _paint_generated(fork, result, t0_ms, t1_ms)
        return fork

    def adopt_generated(self, fork, result, t0_ms=None, t1_ms=None) -> None:
        if not self.editor.adopt(fork):              # edited meanwhile: computed again, here
            self.apply_generated(result, t0_ms, t1_ms)
        settle_memory()

    # ---------------------------------------------------------------- edits
    def _on_edit(self, kinds: set) -> None:
        """An edit, undo or redo: the session takes the edited tracks, the plan is rebuilt."""
        s = self.project.session
        for kind in kinds:
            old, new = getattr(s, kind), self.editor.tracks[kind]
            new.path = old.path
            if kind == "mouth":
                new.audio = old.audio
            setattr(s, kind, new)
        self.project.replan(self.editor.take_touched())
        self.timelines_changed.emit(kinds)   # views redraw; the current frame may have new pixels
        self.dirty_changed.emit(self.editor.dirty)

    @property
    def dirty(self) -> bool:
        return self.editor is not None and self.editor.dirty

    # ---------------------------------------------------------------- saving
    # A save is a request taken here (documents are never changed in place: they are a snapshot),
    # written by studio.io.saving on any thread, then `saved` / `saved_as` here on this one. Edits made
    # while it writes stay unsaved: the saved point is the undo step that was on top when it was taken.
    def save_request(self) -> SaveRequest:
        s = self.project.session
        changed = self.unsaved_docs()
        return SaveRequest(Path(s.path), changed, {k: self._saved_docs.get(k) for k in changed},
                           {k: getattr(s, k).path for k in changed}, self._top())

    def save_as_request(self, new_session: str | Path) -> SaveAsRequest:
        return save_as_request(self.project.session, dict(self.editor.docs), Path(new_session),
                               dict(self._saved_docs), self._top())

    def unsaved_docs(self) -> dict:
        """The timeline documents that differ from what their files hold (what an autosave keeps)."""
        return {k: d for k, d in self.editor.docs.items() if d is not self._saved_docs.get(k)}

    def _top(self):
        return self.editor.undo_stack[-1] if self.editor.undo_stack else None

    def _fingerprints(self, kinds) -> dict:
        s = self.project.session
        return {k: fingerprint(getattr(s, k).path) for k in kinds if getattr(s, k).path is not None}

    def changed_on_disk(self) -> list[Path]:
        """The files Save would write that another program rewrote since they were read or saved: saving
        would replace that change with these edits."""
        s = self.project.session
        return [Path(getattr(s, k).path) for k in self.unsaved_docs()
                if k in self._on_disk and fingerprint(getattr(s, k).path) != self._on_disk[k]]

    def saved(self, req: SaveRequest) -> None:
        """The files now hold `req`'s documents."""
        self._saved_docs = {**self._saved_docs, **req.docs}
        self._on_disk.update(self._fingerprints(req.docs))
        self._mark_saved(req.marker)
        settle_memory()

    def saved_as(self, req: SaveAsRequest, out: SavedAs) -> None:
        """Save As wrote everything to a new place: the open session now lives there, with its undo
        history, view and playhead (nothing is reopened)."""
        s = self.project.session
        s.path, s.doc = out.session_path, out.session_doc
        for kind, path in out.paths.items():
            getattr(s, kind).path = path
        mouth = out.docs.get("mouth")
        if mouth is not None and mouth is not req.docs.get("mouth"):   # its `audio` was re-expressed
            cur = self.editor.docs["mouth"]
            self.editor.docs["mouth"] = mouth if cur is req.docs["mouth"] else dict(cur, audio=mouth["audio"])
            self.editor.tracks["mouth"] = dataclasses.replace(self.editor.tracks["mouth"], doc=self.editor.docs["mouth"])
            s.mouth.audio = mouth["audio"]
        self._saved_docs = {**self._saved_docs, **out.docs}
        self._on_disk = self._fingerprints(out.paths)
        self._mark_saved(req.marker)

    def _mark_saved(self, marker) -> None:
        self.editor.saved_marker = marker
        self.editor.history_changed.emit()     # history and title follow (_on_history)

    def save(self) -> list[Path]:
        """Write every edited timeline back to its own file (atomic, with a .bak of the previous one)."""
        req = self.save_request()
        written = write_timelines(req) if req.docs else []
        self.saved(req)
        return written

    def save_as(self, new_session: str | Path) -> Path:
        req = self.save_as_request(new_session)
        out = write_session_as(req)
        self.saved_as(req, out)
        return out.session_path

    def restore_docs(self, docs: dict) -> None:
        """Put recovered (unsaved) timeline documents back as one undoable edit."""
        self.editor.begin("recovered edits")
        try:
            for kind, doc in docs.items():
                if kind in self.editor.docs:
                    self.editor.apply("recover", kind, list(events_of(doc)), 0, None)
                    if isinstance(doc, dict) and "units" in doc:      # the words lane's words too
                        self.editor.set_key(kind, "units", doc["units"], "recover")
        finally:
            self.editor.end()

    # ---------------------------------------------------------------- frames
    @property
    def n_frames(self) -> int:
        return len(self.project.plan) if self.project else 0

    @property
    def step_ms(self) -> float:
        return self.project.session.step_ms if self.project else 40.0

    @property
    def duration_s(self) -> float:
        return self.project.session.audio_ms / 1000.0 if self.project else 0.0

    def frame_at(self, seconds: float) -> int:
        """The frame showing at `seconds` (frame i covers [i*step, (i+1)*step))."""
        if not self.project:
            return 0
        return int(min(max(math.floor(seconds * 1000.0 / self.step_ms + 1e-9), 0), self.n_frames - 1))

    def time_of(self, frame: int) -> float:
        return frame * self.step_ms / 1000.0

    def set_frame(self, frame: int) -> None:
        if not self.project:
            return
        frame = int(min(max(frame, 0), self.n_frames - 1))
        if frame != self.frame:
            self.frame = frame
            self.frame_changed.emit(frame)

    def readout(self, frame: int | None = None) -> dict:
        """What the preview's readout shows for a frame."""
        i = self.frame if frame is None else frame
        row = self.project.plan.row(i)
        row["time_s"] = self.time_of(i)
        row["fallback_frame"] = bool(row["fallback"])
        return row

    def fallback_runs(self) -> list[dict]:
        """Runs of consecutive fallback frames drawing the same sprite: where, why, and what is missing."""
        plan = self.project.plan
        fb = plan.fallback_mask()
        out = []
        if not fb.any():
            return out
        idx = np.flatnonzero(fb)
        breaks = np.flatnonzero((np.diff(idx) != 1) | (np.diff(plan.sprite[idx]) != 0)) + 1
        for run in np.split(idx, breaks):
            r = plan.resolved[plan.sprite[run[0]]]
            out.append({"first": int(run[0]), "last": int(run[-1]), "reasons": list(r.reasons),
                        "missing": list(r.missing), "sprite": r.sprite})
        return out

    # ----------------------------------------------------------------- lanes
    def end_markers(self) -> dict:
        """audio_ms and each timeline's end (ms), for the markers and held-frame shading."""
        s = self.project.session
        return {"audio_ms": s.audio_ms, "timelines": timeline_summary(s)}

    # ------------------------------------------------------------------ sync
    def set_sync(self, report) -> None:
        self.sync = report
        self.sync_changed.emit(report)

    def problems(self) -> list[tuple[float, float, str]]:
        return self.sync.problem_spans() if self.sync else []

    def next_problem(self, after_s: float, backwards: bool = False) -> tuple[float, float, str] | None:
        """The next (or previous) problem span starting after (before) `after_s` seconds."""
        spans = self.problems()
        t = after_s * 1000.0
        if backwards:
            before = [p for p in spans if p[0] < t - 1e-6]
            return before[-1] if before else None
        later = [p for p in spans if p[0] > t + 1e-6]
        return later[0] if later else None


def settle_memory() -> None:
    """Leave what is alive now (an hour's documents are millions of objects) out of the garbage
    collector's full passes: each pass walks every object and holds the interpreter for a fifth of a
    second at that size — the interface's longest stall. The documents are trees without cycles, so
    what is replaced later is still freed, by reference counting."""
    gc.freeze()


def _paint_generated(editor, result, t0_ms, t1_ms) -> None:
    step = result.step_ms
    n = len(result.shapes)
    f0 = 0 if t0_ms is None else max(0, int(round(t0_ms / step)))
    f1 = n if t1_ms is None else min(n, int(round(t1_ms / step)))
    runs = [(i * step, (i + 1) * step, int(result.shapes[i])) for i in range(f0, f1)]
    where = "the whole session" if t0_ms is None else f"{_ms(f0 * step)}–{_ms(f1 * step)} ms"
    how = "with text" if result.mode == "text" else "from the audio"
    name = f"generate mouth track {how} over {where}"
    with editor.transaction(name):
        editor.paint_mouth_runs(runs, name)
        if t0_ms is None and t1_ms is None:   # the whole session: what a longer track held past its end goes
            end = n * step
            past = [i for i, e in enumerate(editor.events("mouth")) if float(e["t_ms"]) >= end - 1e-6]
            if past:
                editor.delete("mouth", past)
        doc = editor.docs["mouth"]
        if isinstance(doc, dict):
            units = _words_after(doc.get("units"), result.units if result.mode == "text" else [],
                                 None if t0_ms is None else (f0 * step, f1 * step))
            if units:
                editor.set_key("mouth", "units", units, name)   # the words lane shows them
            elif "units" in doc:                                # words of an earlier text no longer hold
                editor.set_key("mouth", "units", ABSENT, name)


def _words_after(old, new: list, span) -> list:
    """The words lane after a generation: the new alignment's words; over a range (t0, t1), the words
    whose middle lies in it come from the new alignment, cut to the range, and the others stay, cut
    to their side of it (the mouth outside did not change): in order, none overlapping."""
    if span is None:
        return list(new)
    lo, hi = (round(t / 10.0) * 10 for t in span)      # words are on the 10 ms grid (SPEC §13)

    def mid(u) -> float | None:
        t = _word_times(u)
        return None if t is None else (t[0] + t[1]) / 2.0

    kept = []
    for u in old if isinstance(old, list) else []:
        m = mid(u)
        if m is None:
            kept.append(u)                             # unreadable times: left as they were
        elif m < lo or m >= hi:
            kept.append(_cut(u, -math.inf, lo) if m < lo else _cut(u, hi, math.inf))
    added = [_cut(u, lo, hi) for u in new if (m := mid(u)) is not None and lo <= m < hi]
    return sorted((u for u in kept + added if u is not None), key=lambda u: (_word_times(u) or (0.0, 0.0))[0])


def _cut(u: dict, lo: float, hi: float) -> dict | None:
    """A word (or mora) cut to [lo, hi), its morae with it; None when nothing of it is left."""
    t = _word_times(u)
    if t is None:
        return u
    a, b = max(t[0], lo), min(t[1], hi)
    if b <= a:
        return None
    out = dict(u, t0_ms=_num(a), t1_ms=_num(b))
    if isinstance(u.get("morae"), list):
        out["morae"] = [m for m in (_cut(x, a, b) if isinstance(x, dict) else x for x in u["morae"]) if m is not None]
    return out


def _word_times(u) -> tuple[float, float] | None:
    try:
        return float(u["t0_ms"]), float(u["t1_ms"])
    except (TypeError, KeyError, ValueError):
        return None


def _ms(x: float):
    return int(x) if float(x).is_integer() else round(x, 1)


class RecentFiles:
    """Most recent first, no duplicates, at most RECENT_MAX; persisted by the caller."""

    def __init__(self, items: list[str] | None = None):
        self.items = [i for i in (items or []) if i][:RECENT_MAX]

    def add(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        self.items = [p] + [i for i in self.items if i != p]
        del self.items[RECENT_MAX:]
