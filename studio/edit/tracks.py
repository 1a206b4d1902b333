"""Parsed tracks kept up to date by splices, so an edit costs what it changed, not the track's length.

An edit replaces events[start:stop] of a timeline with a few new events. Parsing the whole
document again (what a file load does) costs ~0.3–0.7 s on a 1-hour track of 90,000 events; here
only the new events are parsed — with the same loader, inside the same wrapper, so every rule of
the format still applies to them — and spliced into the parsed arrays. The order of the events
around the splice is checked; when anything is unusual (the splice is out of order, a pose key
shares its time with another) the whole document is parsed as on load, which also gives the
loader's exact error sentence.
"""
from __future__ import annotations

import numpy as np

from contracts.timelines import MouthTrack, PoseTrack

FULL_PARSE_BELOW = 2000     # short tracks: parse the whole document (simplest, and fast enough)


def mouth_ends(track: MouthTrack, step_ms: float) -> np.ndarray:
    """`track.ends(step_ms)`, computed once per track (a track is never changed: an edit makes a new one),
    since the editor's window, painting and the plan's resampling all ask for it on every edit."""
    cached = track.__dict__.get("_ends")
    if cached is None or cached[0] != step_ms:
        cached = (step_ms, track.ends(step_ms))
        track.__dict__["_ends"] = cached
    return cached[1]


def _ordered(starts: np.ndarray, start: int, stop: int, new: np.ndarray) -> bool:
    """The spliced events fit between their neighbours (sorted, equal times allowed)."""
    if len(new) and (np.diff(new) < 0).any():
        return False
    lo = starts[start - 1] if start > 0 else -np.inf
    hi = starts[stop] if stop < len(starts) else np.inf
    first = new[0] if len(new) else hi
    last = new[-1] if len(new) else lo
    return lo <= first and last <= hi


def spliced_mouth(track: MouthTrack, doc, start: int, stop: int, mini: MouthTrack) -> MouthTrack | None:
    """`track` with events [start, stop) replaced by the parsed `mini` track; None when out of order."""
    if not _ordered(track.starts, start, stop, mini.starts):
        return None
    cat = lambda old, new: np.concatenate([old[:start], new, old[stop:]])  # noqa: E731
    return MouthTrack(track.path, doc, track.shape, cat(track.starts, mini.starts), cat(track.durs, mini.durs),
                      cat(track.ids, mini.ids), step_ms=mini.step_ms, audio=mini.audio)


class PoseRows:
    """A pose track's keys before duplicates are dropped (the parsed track keeps the last of equal
    times): what a splice by event index needs."""

    def __init__(self, t: np.ndarray, v: np.ndarray):
        self.t, self.v = t, v

    @classmethod
    def of(cls, track: PoseTrack, n_events: int) -> "PoseRows | None":
        """The rows of a track that had no equal times (then every event is a row); else None."""
        return cls(track.t_ms, track.values) if len(track.t_ms) == n_events else None

    def spliced(self, track: PoseTrack, doc, start: int, stop: int, mini: PoseTrack, n_new: int
                ) -> tuple[PoseTrack, "PoseRows"] | None:
        if len(mini.t_ms) != n_new or not _ordered(self.t, start, stop, mini.t_ms):
            return None
        t = np.concatenate([self.t[:start], mini.t_ms, self.t[stop:]])
        v = np.concatenate([self.v[:start], mini.values, self.v[stop:]]).reshape(-1, self.v.shape[1])
        keep = np.append(t[1:] != t[:-1], True) if len(t) else np.zeros(0, bool)   # equal t_ms: the last counts
        out = PoseTrack(track.path, doc, track.shape, t[keep], v[keep], interpolation=mini.interpolation,
                        scale_mode=mini.scale_mode, step_ms=mini.step_ms, warnings=list(track.warnings))
        return out, PoseRows(t, v)
