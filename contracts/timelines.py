"""The three timelines (SPEC §3–5): parsing every accepted form, and sampling them on the frame grid.

Each track keeps the parsed document (`doc`) and its shape so it can be written back in the
form it came in; sampling works on whole frame grids at once (numpy), because preview, export,
lanes and scoring all need every frame.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from contracts.errors import ContractError
from contracts.jsonfile import RESOURCES, read_json, require_finite, validate

POSE_FIELDS = ("yaw_deg", "pitch_deg", "roll_deg", "tx", "ty", "scale")
POSE_DEFAULTS = (0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
LEGACY_ANGLE = {"yaw_deg": "yaw", "pitch_deg": "pitch", "roll_deg": "roll"}
MOUTHS = ("closed", "a", "i", "u", "e", "o")
MOUTH_ALIASES = {"close": "closed"}


def mouth_from_label(label: str) -> str | None:
    """Case-insensitive mouth label, `close` = `closed`; None when it is not a mouth."""
    key = label.strip().lower()
    key = MOUTH_ALIASES.get(key, key)
    return key if key in MOUTHS else None


def frame_times(n_frames: int, step_ms: float) -> np.ndarray:
    """t_i = i * step_ms (SPEC §1)."""
    return np.arange(n_frames, dtype=np.float64) * step_ms


def first_frame_at_or_after(t_ms, step_ms: float):
    """Index of the first frame whose time is >= t_ms (vectorised over arrays)."""
    return np.ceil(np.asarray(t_ms, dtype=np.float64) / step_ms - 1e-9).astype(np.int64)


def _events_list(doc, keys: tuple[str, ...], path: Path, what: str):
    """Return (events, shape) for a document that is either an array or a wrapper object."""
    if isinstance(doc, list):
        return doc, "array"
    for k in keys:
        if k in doc:
            return doc[k], k
    raise ContractError(path, "top level", f"the {what} has no {' or '.join(keys)} list")


def _check_sorted(times: list[float], path: Path, list_key: str) -> None:
    for i in range(1, len(times)):
        if times[i] < times[i - 1]:
            raise ContractError(path, f"{list_key}[{i}].t_ms",
                                f"events must be sorted by t_ms ascending ({times[i]:g} comes after {times[i - 1]:g})")


def _index_key(shape: str) -> str:
    return "" if shape == "array" else shape


# --------------------------------------------------------------------------------- pose
@dataclass
class PoseTrack:
    path: Path | None
    doc: object
    shape: str                # "array", "frames" or "timeline"
    t_ms: np.ndarray          # (K,) sorted, duplicates removed (last one wins)
    values: np.ndarray        # (K, 6) in POSE_FIELDS order
    interpolation: str = "linear"
    scale_mode: str = "absolute"
    step_ms: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def end_ms(self) -> float:
        return float(self.t_ms[-1])

    def sample(self, times: np.ndarray) -> np.ndarray:
        """Values at each time: linear (or hold-previous) inside, first/last values outside."""
        out = np.empty((len(times), len(POSE_FIELDS)), dtype=np.float64)
        if self.interpolation == "step":
            idx = np.clip(np.searchsorted(self.t_ms, times, side="right") - 1, 0, len(self.t_ms) - 1)
            out[:] = self.values[idx]
        else:
            for j in range(len(POSE_FIELDS)):
                out[:, j] = np.interp(times, self.t_ms, self.values[:, j])
        return out


def parse_pose(doc, path: Path | None) -> PoseTrack:
    validate(doc, "pose_timeline", path, "pose timeline")
    frames, shape = _events_list(doc, ("frames", "timeline"), path, "pose timeline")
    meta = doc.get("meta", {}) if isinstance(doc, dict) else {}
    key = _index_key(shape)
    times, rows = [], []
    for i, fr in enumerate(frames):
        where = f"{key}[{i}]" if key else f"[{i}]"
        times.append(require_finite(fr["t_ms"], path, f"{where}.t_ms"))
        row = []
        for name, default in zip(POSE_FIELDS, POSE_DEFAULTS):
            src = name if name in fr else LEGACY_ANGLE.get(name, name)
            row.append(require_finite(fr[src], path, f"{where}.{src}") if src in fr else default)
        rows.append(row)
    _check_sorted(times, path, key)
    t = np.asarray(times)
    v = np.asarray(rows, dtype=np.float64)
    keep = np.append(t[1:] != t[:-1], True)  # equal t_ms: only the last in the file counts
    track = PoseTrack(path, doc, shape, t[keep], v[keep],
                      interpolation=meta.get("interpolation", "linear"),
                      scale_mode=str(meta.get("scale_mode", "absolute")),
                      step_ms=meta.get("step_ms"))
    if track.scale_mode != "absolute":
        track.warnings.append(f"pose timeline meta.scale_mode is '{track.scale_mode}'; "
                              f"v0.1 renders it as 'absolute'")
    return track


# -------------------------------------------------------------------------------- mouth
@dataclass
class MouthTrack:
    path: Path | None
    doc: object
    shape: str                       # "array" or "frames"
    starts: np.ndarray               # (K,) event starts
    durs: np.ndarray                 # (K,) dur_ms, NaN where absent
    ids: np.ndarray                  # (K,) mouth ids 0..5
    step_ms: float | None = None
    audio: str | None = None

    def ends(self, step_ms: float) -> np.ndarray:
        """Event ends: t+dur_ms, else the next event's start, the last one t+step_ms (SPEC §4)."""
        nxt = np.append(self.starts[1:], self.starts[-1] + step_ms) if len(self.starts) else self.starts
        return np.where(np.isnan(self.durs), nxt, self.starts + np.nan_to_num(self.durs))

    @property
    def end_ms(self) -> float | None:
        if not len(self.starts):
            return None
        d = self.durs[-1]
        return float(self.starts[-1] + (0.0 if math.isnan(d) else d))

    def sample(self, n_frames: int, step_ms: float) -> np.ndarray:
        """Mouth id per frame; gaps and everything after the last event are closed (0).

        Events are painted in file order: as they are sorted, a later paint is a later start
        (or an equal start later in the file), which is exactly the overlap rule.
        """
        out = np.zeros(n_frames, dtype=np.int8)
        i0 = np.clip(first_frame_at_or_after(self.starts, step_ms), 0, n_frames)
        i1 = np.clip(first_frame_at_or_after(self.ends(step_ms), step_ms), 0, n_frames)
        for a, b, m in zip(i0, i1, self.ids):
            if b > a:
                out[a:b] = m
        return out


def parse_mouth(doc, path: Path | None) -> MouthTrack:
    validate(doc, "mouth_timeline", path, "mouth timeline")
    events, shape = _events_list(doc, ("frames",), path, "mouth timeline")
    key = _index_key(shape)
    starts, durs, ids = [], [], []
    for i, ev in enumerate(events):
        where = f"{key}[{i}]" if key else f"[{i}]"
        starts.append(require_finite(ev["t_ms"], path, f"{where}.t_ms"))
        durs.append(require_finite(ev["dur_ms"], path, f"{where}.dur_ms") if "dur_ms" in ev else math.nan)
        if "mouth_id" in ev:
            mid = ev["mouth_id"]
            if not 0 <= mid < len(MOUTHS):
                raise ContractError(path, f"{where}.mouth_id",
                                    f"expected a mouth_id from 0 to 5 (closed, a, i, u, e, o), got {mid}")
        else:
            label = mouth_from_label(ev["mouth"])
            if label is None:
                raise ContractError(path, f"{where}.mouth",
                                    f"expected one of closed/close, a, i, u, e, o, got {json.dumps(ev['mouth'])}")
            mid = MOUTHS.index(label)
        ids.append(mid)
    _check_sorted(starts, path, key)
    wrapper = doc if isinstance(doc, dict) else {}
    return MouthTrack(path, doc, shape, np.asarray(starts, dtype=np.float64), np.asarray(durs, dtype=np.float64),
                      np.asarray(ids, dtype=np.int8), step_ms=wrapper.get("step_ms"), audio=wrapper.get("audio"))


# --------------------------------------------------------------------------- expression
def load_expression_map(override: dict | None = None) -> tuple[dict[str, str], float]:
    """The emo_id -> label table of resources/expression_map.json, with a session's `emo_map` on top."""
    data = json.loads((RESOURCES / "expression_map.json").read_text(encoding="utf-8"))
    table = {str(k): v for k, v in data["emo_map"].items()}
    table.update({str(k): v for k, v in (override or {}).items()})
    return table, float(data.get("blink_ms", 120))


@dataclass
class ExpressionEvent:
    t_ms: float
    dur_ms: float | None  # None: a change point
    label: str | None     # None: an emo_id the map does not know (shown as the default)
    index: int            # position in the file's event list


@dataclass
class ExpressionTrack:
    path: Path | None
    doc: object
    shape: str            # "array" or "timeline"
    events: list[ExpressionEvent]
    step_ms: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def end_ms(self) -> float | None:
        if not self.events:
            return None
        last = self.events[-1]
        return last.t_ms + (last.dur_ms or 0.0)

    def intervals(self, session_ms: float) -> list[tuple[float, float, str, int]]:
        """(start, end, label, index): overlays cover dur_ms; a change point lasts until the next
        change point starts, the last one to the end of the session."""
        changes = [e for e in self.events if e.dur_ms is None]
        nxt = {id(a): b.t_ms for a, b in zip(changes, changes[1:])}
        out = []
        for e in self.events:
            end = e.t_ms + e.dur_ms if e.dur_ms is not None else nxt.get(id(e), max(session_ms, e.t_ms))
            out.append((e.t_ms, end, e.label, e.index))
        return out

    def sample(self, n_frames: int, step_ms: float, labels: list[str], default: str,
               blink: str = "blink") -> tuple[np.ndarray, list[str]]:
        """Resolved expression per frame (index into `labels`) and warnings for unknown labels.

        Priority (SPEC §5): any active blink; else the active non-blink event that started
        latest (ties: later in the file); else the default. An unknown label reads as the default.
        """
        known = set(labels)
        warnings, seen = [], set()
        d = labels.index(default)
        out = np.full(n_frames, d, dtype=np.int16)
        blink_mask = np.zeros(n_frames, dtype=bool)
        for start, end, label, index in self.intervals(n_frames * step_ms):
            if label is None:
                label = default
            elif label not in known:
                if label not in seen:
                    seen.add(label)
                    where = f"{self.shape}[{index}]" if self.shape != "array" else f"[{index}]"
                    warnings.append(f"expression label '{label}' (first at {where}) is not in the atlas's "
                                    f"expression_labels; shown as '{default}'")
                label = default
            a, b = np.clip(first_frame_at_or_after([start, end], step_ms), 0, n_frames)
            if b <= a:
                continue
            if label == blink:
                blink_mask[a:b] = True
            else:
                out[a:b] = labels.index(label)  # sorted events: later paint = later start
        if blink in known:
            out[blink_mask] = labels.index(blink)
        return out, warnings


def parse_expression(doc, path: Path | None, emo_map: dict | None = None) -> ExpressionTrack:
    validate(doc, "expression_timeline", path, "expression timeline")
    events_doc, shape = _events_list(doc, ("timeline",), path, "expression timeline")
    key = _index_key(shape)
    table, blink_ms = load_expression_map(emo_map)
    events, times, warnings = [], [], []
    for i, ev in enumerate(events_doc):
        where = f"{key}[{i}]" if key else f"[{i}]"
        t = require_finite(ev["t_ms"], path, f"{where}.t_ms")
        times.append(t)
        dur = require_finite(ev["dur_ms"], path, f"{where}.dur_ms") if "dur_ms" in ev else None
        if "expression" in ev:
            events.append(ExpressionEvent(t, dur, ev["expression"], i))
            continue
        # Legacy {t_ms, emo_id, blink}: emo_id is a change point, blink: 1 a blink overlay.
        if "emo_id" in ev:
            raw = str(ev["emo_id"])
            label = table.get(raw) or table.get(raw.split("_")[0])
            if label is None:
                warnings.append(f"{where}.emo_id {raw} is not in the expression map; shown as the default")
            events.append(ExpressionEvent(t, dur, label, i))
        if ev.get("blink"):
            events.append(ExpressionEvent(t, blink_ms, "blink", i))
    _check_sorted(times, path, key)
    wrapper = doc if isinstance(doc, dict) else {}
    return ExpressionTrack(path, doc, shape, events, step_ms=wrapper.get("step_ms"), warnings=warnings)


def load_timeline(kind: str, path: Path, emo_map: dict | None = None):
    """Read and parse one timeline file ("pose", "mouth" or "expression")."""
    doc = read_json(path, f"{kind} timeline")
    if kind == "pose":
        return parse_pose(doc, path)
    if kind == "mouth":
        return parse_mouth(doc, path)
    return parse_expression(doc, path, emo_map)
