"""The three timelines (SPEC §3–5): parsing every accepted form, and sampling them on the frame grid.

Each track keeps the parsed document (`doc`) and its shape so it can be written back in the
form it came in; sampling works on whole frame grids at once (numpy), because preview, export,
lanes and scoring all need every frame.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from contracts.coverage import any_cover, latest_cover
from contracts.errors import SAME_KIND_WARNINGS, ContractError, more_line, plain, printable, shorten
from contracts.jsonfile import RESOURCES, describe, gc_paused, read_json, require_finite, validate

POSE_FIELDS = ("yaw_deg", "pitch_deg", "roll_deg", "tx", "ty", "scale")
POSE_DEFAULTS = (0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
LEGACY_ANGLE = {"yaw_deg": "yaw", "pitch_deg": "pitch", "roll_deg": "roll"}
ANGLE_KEYS = {*LEGACY_ANGLE, *LEGACY_ANGLE.values()}
POSE_KNOWN_KEYS = {"t_ms", "euler", "bbox", "frame_index", *POSE_FIELDS, *LEGACY_ANGLE.values()}
MOUTHS = ("closed", "a", "i", "u", "e", "o")
MOUTH_ALIASES = {"close": "closed"}
MOUTH_KEYS = ("mouth_id", "mouth", "mouth6")   # the id, the label, the mouth-track model's label
FRAME_LIMIT = float(2 ** 53)                   # times beyond any session are clipped before indexing
STEP_RANGE = (1.0, 1000.0)                     # step_ms wherever it is declared (SPEC §1)


def mouth_from_label(label) -> str | None:
    """Case-insensitive mouth label, `close` = `closed`; None when it is not a mouth."""
    if not isinstance(label, str):
        return None
    key = label.strip().lower()
    key = MOUTH_ALIASES.get(key, key)
    return key if key in MOUTHS else None


def frame_times(n_frames: int, step_ms: float) -> np.ndarray:
    """t_i = i * step_ms (SPEC §1)."""
    return np.arange(n_frames, dtype=np.float64) * step_ms


def first_frame_at_or_after(t_ms, step_ms: float):
    """Index of the first frame whose time is >= t_ms (vectorised; huge times are clipped, not wrapped)."""
    f = np.ceil(np.asarray(t_ms, dtype=np.float64) / step_ms - 1e-9)
    return np.clip(f, -1.0, FRAME_LIMIT).astype(np.int64)


def _events_list(doc, keys: tuple[str, ...], path: Path, what: str):
    """Return (events, shape) for a document that is either an array or a wrapper object."""
    if isinstance(doc, list):
        return doc, "array"
    for k in keys:
        if k in doc:
            return doc[k], k
    raise ContractError(path, "top level", f"the {what} has no {' or '.join(keys)} list")


def finite_column(values: list, path: Path | None, shape: str, key: str, index: list[int] | None = None) -> np.ndarray:
    """values[j] (the `key` of event index[j], or of event j) as float64 in one pass; the first that is
    not a finite number is the ContractError naming its event (found only then: the common case
    builds no message)."""
    try:
        if all(type(v) is int or type(v) is float for v in values):   # bool is not a number here
            column = np.asarray(values, dtype=np.float64)
            if np.isfinite(column).all():
                return column
    except OverflowError:   # an integer beyond float range: named below
        pass
    for j, v in enumerate(values):
        require_finite(v, path, f"{_where(shape, j if index is None else index[j])}.{key}")
    return np.asarray(values, dtype=np.float64)


def _check_sorted(times: list[float], path: Path, list_key: str) -> None:
    t = np.asarray(times, dtype=np.float64)
    bad = np.flatnonzero(t[1:] < t[:-1])
    if len(bad):
        i = int(bad[0]) + 1
        raise ContractError(path, f"{list_key}[{i}].t_ms",
                            f"events must be sorted by t_ms ascending ({plain(times[i])} comes after {plain(times[i - 1])})")


def _index_key(shape: str) -> str:
    return "" if shape == "array" else shape


def _where(shape: str, i: int) -> str:
    key = _index_key(shape)
    return f"{key}[{i}]" if key else f"[{i}]"


def checked_step(value, path: Path | None, where: str) -> float | None:
    """A declared step_ms (None when absent); outside STEP_RANGE is a ContractError."""
    if value is None:
        return None
    v = require_finite(value, path, where)
    if not STEP_RANGE[0] <= v <= STEP_RANGE[1]:
        raise ContractError(path, where, f"step_ms must be from 1 to 1000, got {describe(value)}")
    return v


# --------------------------------------------------------------------------------- pose
@dataclass
class PoseTrack:
    path: Path | None
    doc: object
    shape: str                # "array", "frames" or "timeline"
    t_ms: np.ndarray          # (K,) sorted, duplicates removed (last one wins); K may be 0
    values: np.ndarray        # (K, 6) in POSE_FIELDS order
    interpolation: str = "linear"
    scale_mode: str = "absolute"
    step_ms: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def end_ms(self) -> float | None:
        return float(self.t_ms[-1]) if len(self.t_ms) else None

    def sample(self, times: np.ndarray) -> np.ndarray:
        """Values at each time: linear (or hold-previous) inside, first/last values outside."""
        out = np.empty((len(times), len(POSE_FIELDS)), dtype=np.float64)
        if not len(self.t_ms):
            out[:] = POSE_DEFAULTS
        elif self.interpolation == "step":
            idx = np.clip(np.searchsorted(self.t_ms, times, side="right") - 1, 0, len(self.t_ms) - 1)
            out[:] = self.values[idx]
        else:
            for j in range(len(POSE_FIELDS)):
                out[:, j] = np.interp(times, self.t_ms, self.values[:, j])
        return out


def _pose_value(fr: dict, euler: dict | None, name: str, path, where: str):
    """A field of one pose frame: top level first (`*_deg` before legacy), then inside `euler`."""
    legacy = LEGACY_ANGLE.get(name)
    for src, key, prefix in ((fr, name, ""), (fr, legacy, ""), (euler, name, "euler."), (euler, legacy, "euler.")):
        if src is not None and key is not None and key in src:
            return require_finite(src[key], path, f"{where}.{prefix}{key}")
    return None


def _pose_step(meta: dict, path) -> float | None:
    if meta.get("step_ms") is not None:
        return checked_step(meta["step_ms"], path, "meta.step_ms")
    if meta.get("fps") is not None:  # face tracking writes fps; step_ms = 1000 / fps
        fps = require_finite(meta["fps"], path, "meta.fps")
        if fps <= 0:
            raise ContractError(path, "meta.fps", f"expected a positive number, got {describe(meta['fps'])}")
        return checked_step(1000.0 / fps, path, "meta.fps (as step_ms = 1000 / fps)")
    return None


def parse_pose(doc, path: Path | None) -> PoseTrack:
    validate(doc, "pose_timeline", path, "pose timeline")
    frames, shape = _events_list(doc, ("frames", "timeline"), path, "pose timeline")
    meta = doc.get("meta", {}) if isinstance(doc, dict) else {}
    t = finite_column([fr["t_ms"] for fr in frames], path, shape, "t_ms")
    _check_sorted(t, path, _index_key(shape))
    columns = _pose_columns(frames)
    if columns is None:   # a value that is not a finite number: the frame by frame reading names it
        columns = _pose_rows(frames, path, shape)
    v, any_angle = columns
    keep = np.append(t[1:] != t[:-1], True) if len(t) else np.zeros(0, bool)  # equal t_ms: the last counts
    track = PoseTrack(path, doc, shape, t[keep], v[keep], interpolation=meta.get("interpolation", "linear"),
                      scale_mode=str(meta.get("scale_mode", "absolute")), step_ms=_pose_step(meta, path))
    if track.scale_mode != "absolute":
        track.warnings.append(f"pose timeline meta.scale_mode is '{shorten(track.scale_mode, 40)}'; "
                              f"it is rendered as 'absolute'")
    if not frames:
        track.warnings.append("the pose timeline has no frames; every frame renders front, unmoved")
    elif not any_angle:
        track.warnings.append(f"no frame of the pose timeline carries yaw, pitch or roll (top level or in "
                              f"'euler'){_unusual_keys(frames)}; every frame renders front")
    return track


def _pose_columns(frames: list) -> tuple[np.ndarray, bool] | None:
    """Every pose field as a column at once (a million keys in a few seconds); None when some value is
    not a finite number, for `_pose_rows` to name. Same precedence as `_pose_value`."""
    out = np.empty((len(frames), len(POSE_FIELDS)), dtype=np.float64)
    any_angle = False
    for j, (name, default) in enumerate(zip(POSE_FIELDS, POSE_DEFAULTS)):
        legacy = LEGACY_ANGLE.get(name)
        if legacy is None:
            col = [fr.get(name) for fr in frames]
        else:
            col = [fr[name] if name in fr else fr[legacy] if legacy in fr else _euler_angle(fr, name, legacy)
                   for fr in frames]
            any_angle = any_angle or any(x is not None for x in col)
        try:
            if not all(type(x) is float or type(x) is int or x is None for x in col):
                return None
            out[:, j] = [default if x is None else x for x in col]
        except OverflowError:
            return None
    return (out, any_angle) if np.isfinite(out).all() else None


def _euler_angle(fr: dict, name: str, legacy: str):
    euler = fr.get("euler")
    if euler is None:
        return None
    if not isinstance(euler, dict):
        return math.nan   # not a number: the frame by frame reading says what it is
    return euler[name] if name in euler else euler.get(legacy)


def _pose_rows(frames: list, path, shape: str) -> tuple[np.ndarray, bool]:
    rows, any_angle = [], False
    for i, fr in enumerate(frames):
        where = _where(shape, i)
        euler = fr.get("euler")
        row = []
        for name, default in zip(POSE_FIELDS, POSE_DEFAULTS):
            v = _pose_value(fr, euler if name in LEGACY_ANGLE else None, name, path, where)
            any_angle |= v is not None and name in LEGACY_ANGLE
            row.append(default if v is None else v)
        rows.append(row)
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(POSE_FIELDS)), any_angle


def _unusual_keys(frames: list) -> str:
    seen: dict[str, None] = {}
    for fr in frames[:200]:
        for k, val in fr.items():
            if k not in POSE_KNOWN_KEYS:
                seen[k] = None
            elif k == "euler" and isinstance(val, dict):
                seen.update({f"euler.{e}": None for e in val if e not in ANGLE_KEYS})
    if not seen:
        return ""
    names = list(seen)
    return f"; its frames carry {', '.join(shorten(n, 30) for n in names[:6])}" + (" …" if len(names) > 6 else "")


# -------------------------------------------------------------------------------- mouth
@dataclass
class MouthTrack:
    path: Path | None
    doc: object
    shape: str                       # "array", "frames" or "timeline" (the mouth-track model's wrapper)
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
    def units(self) -> list:
        """The words an aligner wrote beside the events (SPEC §13 Words): shown, never rendered."""
        return self.doc.get("units", []) if isinstance(self.doc, dict) else []

    @property
    def end_ms(self) -> float | None:
        if not len(self.starts):
            return None
        d = self.durs[-1]
        return float(self.starts[-1] + (0.0 if math.isnan(d) else d))

    def sample(self, n_frames: int, step_ms: float) -> np.ndarray:
        """Mouth id per frame; gaps and everything after the last event are closed (0). Where events
        overlap the one that starts later wins (equal starts: the later in the file): as events are
        sorted, that is the last in file order covering the frame."""
        i0 = np.clip(first_frame_at_or_after(self.starts, step_ms), 0, n_frames)
        i1 = np.clip(first_frame_at_or_after(self.ends(step_ms), step_ms), 0, n_frames)
        who = latest_cover(i0, i1, n_frames)
        return np.where(who >= 0, self.ids[np.maximum(who, 0)] if len(self.ids) else 0, 0).astype(np.int8)


_MOUTH_IDS = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5}   # (1.0 == 1 finds 1; True is refused before)


def _mouth_id(ev: dict, path, shape: str, i: int) -> int:
    """The event's mouth as an id; two of mouth_id / mouth / mouth6 that disagree are an error."""
    found = []
    for key in MOUTH_KEYS:
        if key not in ev:
            continue
        raw = ev[key]
        if key == "mouth_id":
            mid = None if isinstance(raw, bool) or not isinstance(raw, (int, float)) else _MOUTH_IDS.get(raw)
            if mid is None:
                raise ContractError(path, f"{_where(shape, i)}.mouth_id",
                                    f"expected a mouth_id from 0 to 5 (closed, a, i, u, e, o), got {describe(raw)}")
            found.append((key, mid))
        else:
            label = mouth_from_label(raw)
            if label is None:
                raise ContractError(path, f"{_where(shape, i)}.{key}",
                                    f"expected one of closed/close, a, i, u, e, o, got {describe(raw)}")
            found.append((key, MOUTHS.index(label)))
    if len(found) > 1 and len({mid for _, mid in found}) > 1:
        said = " but ".join(f"{k} says {MOUTHS[m]}" for k, m in found)
        raise ContractError(path, _where(shape, i), f"the event's mouth keys disagree ({said})")
    return found[0][1]


def _mouth_step(doc, path) -> float | None:
    if not isinstance(doc, dict):
        return None
    top = checked_step(doc.get("step_ms"), path, "step_ms")
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    inner = checked_step(meta.get("step_ms"), path, "meta.step_ms")
    if top is not None and inner is not None and top != inner:
        raise ContractError(path, "step_ms", f"step_ms {plain(top)} and meta.step_ms {plain(inner)} disagree")
    return top if top is not None else inner


def _check_units(units, path, where: str, depth: int = 0) -> None:
    """SPEC §13 Words: a list of {text, t0_ms, t1_ms} (Japanese words also carry their `morae`)."""
    if not isinstance(units, list):
        raise ContractError(path, where, f"expected a list of words {{text, t0_ms, t1_ms}}, got {describe(units)}")
    for i, u in enumerate(units):
        at = f"{where}[{i}]"
        if not isinstance(u, dict) or not isinstance(u.get("text"), str):
            raise ContractError(path, at, f"expected a word {{text, t0_ms, t1_ms}}, got {describe(u)}")
        for key in ("t0_ms", "t1_ms"):
            require_finite(u.get(key), path, f"{at}.{key}")
        if "morae" in u and depth == 0:
            _check_units(u["morae"], path, f"{at}.morae", 1)


def parse_mouth(doc, path: Path | None) -> MouthTrack:
    validate(doc, "mouth_timeline", path, "mouth timeline")
    events, shape = _events_list(doc, ("frames", "timeline"), path, "mouth timeline")
    starts = finite_column([ev["t_ms"] for ev in events], path, shape, "t_ms")
    durs = _optional_column(events, "dur_ms", path, shape)
    ids = np.asarray([_mouth_id(ev, path, shape, i) for i, ev in enumerate(events)], dtype=np.int8)
    _check_sorted(starts, path, _index_key(shape))
    wrapper = doc if isinstance(doc, dict) else {}
    if "units" in wrapper:
        _check_units(wrapper["units"], path, "units")
    return MouthTrack(path, doc, shape, starts, durs, ids, step_ms=_mouth_step(doc, path), audio=wrapper.get("audio"))


def _optional_column(events: list, key: str, path, shape: str) -> np.ndarray:
    """events[i][key] as float64, NaN where the event has no such key."""
    out = np.full(len(events), np.nan)
    has = [i for i, ev in enumerate(events) if key in ev]
    if has:
        out[has] = finite_column([events[i][key] for i in has], path, shape, key, index=has)
    return out


# --------------------------------------------------------------------------- expression
@dataclass(frozen=True)
class EmoTables:
    """emo_id -> label: the session's `emo_map` over the integer table (resources/expression_map.json)
    and the production table for "<emotion>_<level>" ids (resources/emo_id_to_expression.yaml)."""
    session: dict
    integer: dict
    production: dict
    blink_ms: float

    def label(self, raw) -> str | None:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        key = str(raw)
        if key in self.session:
            return self.session[key]
        if isinstance(raw, int) or re.fullmatch(r"[0-9]+", key):  # "2" is the integer id 2
            k = str(int(key))
            return self.session.get(k) or self.integer.get(k)
        return self.production.get(key)                          # never read through the integer table


@lru_cache(maxsize=1)
def _shipped_tables() -> tuple[dict, dict, float]:
    import yaml
    data = json.loads((RESOURCES / "expression_map.json").read_text(encoding="utf-8"))
    prod = yaml.safe_load((RESOURCES / "emo_id_to_expression.yaml").read_text(encoding="utf-8")) or {}
    return ({str(k): v for k, v in data["emo_map"].items()}, {str(k): str(v) for k, v in prod.items()},
            float(data.get("blink_ms", 120)))


def emo_tables(override: dict | None = None) -> EmoTables:
    integer, production, blink_ms = _shipped_tables()
    return EmoTables({str(k): v for k, v in (override or {}).items()}, integer, production, blink_ms)


@dataclass(slots=True)   # a million of them: no per-event __dict__
class ExpressionEvent:
    t_ms: float
    dur_ms: float | None  # None: a change point
    label: str | None     # None: an emo_id no table knows (shown as the default)
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

    def spans(self, session_ms: float) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of the events: overlays cover dur_ms; a change point lasts until the next
        change point starts, the last one to the end of the session."""
        n = len(self.events)
        start = np.fromiter((e.t_ms for e in self.events), np.float64, n)
        dur = np.fromiter((math.nan if e.dur_ms is None else e.dur_ms for e in self.events), np.float64, n)
        end = start + dur
        change = np.flatnonzero(np.isnan(dur))
        if len(change):
            end[change] = np.append(start[change[1:]], max(session_ms, float(start[change[-1]])))
        return start, end

    def intervals(self, session_ms: float) -> list[tuple[float, float, str, int]]:
        """(start, end, label, index) of every event (see `spans`)."""
        _, ends = self.spans(session_ms)
        return [(e.t_ms, end, e.label, e.index) for e, end in zip(self.events, ends.tolist())]

    def sample(self, n_frames: int, step_ms: float, labels: list[str], default: str,
               blink: str = "blink") -> tuple[np.ndarray, list[str]]:
        """Resolved expression per frame (index into `labels`) and warnings for unknown labels.

        Priority (SPEC §5): any active blink; else the active non-blink event that started
        latest (ties: later in the file); else the default. An unknown label reads as the default.
        """
        d = labels.index(default)
        out = np.full(n_frames, d, dtype=np.int16)
        if not self.events:
            return out, []
        code: dict[str, int] = {}
        for i, label in enumerate(labels):
            code.setdefault(label, i)
        unknown: dict[str, int] = {}      # label -> index of its first event, in order
        ids = []
        for e in self.events:
            c = d if e.label is None else code.get(e.label)
            if c is None:
                unknown.setdefault(e.label, e.index)
                c = d
            ids.append(c)
        ids = np.asarray(ids, np.int64)
        start, end = self.spans(n_frames * step_ms)
        a = np.clip(first_frame_at_or_after(start, step_ms), 0, n_frames)
        b = np.clip(first_frame_at_or_after(end, step_ms), 0, n_frames)
        is_blink = ids == code[blink] if blink in code else np.zeros(len(ids), bool)
        who = latest_cover(a[~is_blink], b[~is_blink], n_frames)   # sorted: the last covering = latest start
        out[who >= 0] = ids[~is_blink][who[who >= 0]]
        if blink in code:
            out[any_cover(a[is_blink], b[is_blink], n_frames)] = code[blink]
        warnings = [f"expression label '{shorten(label, 40)}' (first at {_where(self.shape, index)}) "
                    f"is not in the atlas's expression_labels; shown as '{default}'"
                    for label, index in list(unknown.items())[:SAME_KIND_WARNINGS]]
        if len(unknown) > SAME_KIND_WARNINGS:
            warnings.append(more_line(len(unknown) - SAME_KIND_WARNINGS, f"expression labels are not in the "
                                                                        f"atlas's expression_labels; shown as '{default}'"))
        return out, warnings


def parse_expression(doc, path: Path | None, emo_map: dict | None = None) -> ExpressionTrack:
    validate(doc, "expression_timeline", path, "expression timeline")
    events_doc, shape = _events_list(doc, ("timeline",), path, "expression timeline")
    tables = emo_tables(emo_map)
    times = finite_column([ev["t_ms"] for ev in events_doc], path, shape, "t_ms")
    durs = _optional_column(events_doc, "dur_ms", path, shape).tolist()
    events, unknown, read = [], {}, {}
    for i, (ev, t) in enumerate(zip(events_doc, times.tolist())):
        dur = None if math.isnan(durs[i]) else durs[i]
        if "expression" in ev:
            events.append(ExpressionEvent(t, dur, ev["expression"], i))
            continue
        # Legacy {t_ms, emo_id, blink}: emo_id is a change point, blink: 1 a blink overlay.
        if "emo_id" in ev:
            raw = ev["emo_id"]
            key = (type(raw), raw) if isinstance(raw, (str, int, float)) else None
            label = read[key] if key in read else tables.label(raw)   # a file repeats a few ids
            if key is not None:
                read[key] = label
            if label is None:
                first, count = unknown.get(str(raw), (_where(shape, i), 0))
                unknown[str(raw)] = (first, count + 1)
            events.append(ExpressionEvent(t, dur, label, i))
        if ev.get("blink"):
            events.append(ExpressionEvent(t, tables.blink_ms, "blink", i))
    _check_sorted(times, path, _index_key(shape))
    warnings = [f"emo_id {printable(shorten(json.dumps(k, ensure_ascii=False), 40))} (first at {first}, "
                f"{count} event{'s' if count > 1 else ''}) is in neither emo_id table; read as the default"
                for k, (first, count) in list(unknown.items())[:SAME_KIND_WARNINGS]]
    if len(unknown) > SAME_KIND_WARNINGS:
        warnings.append(more_line(len(unknown) - SAME_KIND_WARNINGS, "emo_ids are in neither emo_id table; "
                                                                    "read as the default"))
    wrapper = doc if isinstance(doc, dict) else {}
    step = checked_step(wrapper.get("step_ms"), path, "step_ms")
    return ExpressionTrack(path, doc, shape, events, step_ms=step, warnings=warnings)


@gc_paused
def load_timeline(kind: str, path: Path, emo_map: dict | None = None):
    """Read and parse one timeline file ("pose", "mouth" or "expression")."""
    doc = read_json(path, f"{kind} timeline")
    if kind == "pose":
        return parse_pose(doc, path)
    if kind == "mouth":
        return parse_mouth(doc, path)
    return parse_expression(doc, path, emo_map)
