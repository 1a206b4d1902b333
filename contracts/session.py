"""session.json (SPEC §1–2): both forms, path resolution, and the session timebase."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from contracts.audio import wav_info
from contracts.errors import ContractError, display_path, plain, shorten
from contracts.journal import recover as recover_save
from contracts.jsonfile import (describe, file_problem, gc_paused, json_number, read_json, require_finite, validate,
                                whole_number)
from contracts.paths import MissingPath, candidate_bases, resolve_path
from contracts.policy import session_layer
from contracts.timelines import ExpressionTrack, MouthTrack, PoseTrack, checked_step, load_timeline

FORMS = {"runtime_session_v0.1": "A", "session_runtime_v0.1": "B", "session_runtime_v0.2": "B"}
BUNDLED_ATLAS = Path(__file__).resolve().parent.parent / "assets_min" / "atlas.min.json"
DEFAULT_STEP_MS = 40.0
MAX_AUDIO_MS = 86_400_000          # 24 hours
CANVAS_RANGE = (16, 8192)
TARGET_H_RATIO_RANGE = (0.01, 10.0)
MAX_FRAMES = 4_320_000             # 24 hours at 50 fps; beyond it every per-frame array outgrows memory


@dataclass
class RenderSettings:
    canvas_w: int = 720
    canvas_h: int = 720
    target_h_ratio: float | None = None


@dataclass
class Overrides:
    """Command-line flags that win over the session's keys (SPEC §2, §11)."""
    atlas: Path | None = None
    assets_dir: Path | None = None
    root: Path | None = None
    canvas: tuple[int, int] | None = None


@dataclass
class Session:
    path: Path
    doc: dict
    form: str
    session_id: str
    step_ms: float
    audio_ms: float                   # an int when whole; any positive length (0.3 ms is one frame)
    wav_ms: int | None
    audio_path: Path | None
    pose: PoseTrack
    mouth: MouthTrack | None
    expression: ExpressionTrack | None
    atlas_path: Path
    assets_dir: Path | None
    render: RenderSettings
    emo_map: dict
    warnings: list[str] = field(default_factory=list)
    atlas_bundled: bool = False       # no atlas named: the bundled demo character is drawn
    sync_policy: dict | None = None   # the session's own policy layer (checked)
    text: str | None = None           # what was said (the aligner's optional input, SPEC §13)
    lang: str | None = None           # its language, "ja" or "en" (another value is ignored)
    audio_missing: str | None = None  # the named WAV that was not found: where and what was expected

    @property
    def fps(self) -> float:
        return 1000.0 / self.step_ms

    @property
    def target_frames(self) -> int:
        return target_frames(self.audio_ms, self.step_ms)


def target_frames(audio_ms: float, step_ms: float) -> int:
    """ceil(audio_ms / step_ms) (SPEC §1); any positive length is at least one frame."""
    return max(1, int(math.ceil(audio_ms / step_ms - 1e-9)))


def wav_length_ms(path: Path) -> int:
    """floor(samples * 1000 / sample_rate + 0.5) (SPEC §1)."""
    return wav_info(path).length_ms


def _entries(doc: dict, form: str) -> dict:
    """The session's file keys (as written) -> (key path for messages, value)."""
    src = doc.get("inputs", {}) if form == "A" else doc
    prefix = "inputs." if form == "A" else ""
    out = {}
    for key in ("pose_timeline", "mouth_timeline", "expression_timeline", "audio"):
        if key in src:
            out[key] = (prefix + key, src[key])
    if form == "B" and "audio" not in out and "audio_path" in doc:
        out["audio"] = ("audio_path", doc["audio_path"])
    if "atlas_json" in src:
        out["atlas_json"] = (prefix + "atlas_json", src["atlas_json"])
    elif "atlas_json" in doc:
        out["atlas_json"] = ("atlas_json", doc["atlas_json"])
    if "assets_dir" in doc:
        out["assets_dir"] = ("assets_dir", doc["assets_dir"])
    return out


def _declared_audio_ms(doc: dict, path: Path) -> float | None:
    a, b = doc.get("audio_ms"), doc.get("session_audio_ms")
    for key, v in (("audio_ms", a), ("session_audio_ms", b)):
        if v is not None:
            x = require_finite(v, path, key)
            if x <= 0:
                raise ContractError(path, key, f"{key} must be greater than 0, got {describe(v)}")
            if x > MAX_AUDIO_MS:
                raise ContractError(path, key, f"{key} {describe(v)} is over 24 hours ({MAX_AUDIO_MS} ms)")
    if a is not None and b is not None and a != b:
        raise ContractError(path, "audio_ms", f"audio_ms ({describe(a)}) and session_audio_ms ({describe(b)}) disagree")
    value = a if a is not None else b
    return None if value is None else float(value)


def _resolve_step(doc: dict, path: Path, mouth: MouthTrack | None, pose: PoseTrack) -> float:
    """Session step_ms, else the mouth timeline's, else pose meta.step_ms, else 40; any two that differ is an error."""
    declared = []
    v = checked_step(doc.get("step_ms"), path, "step_ms")
    if v is not None:
        declared.append((display_path(path) + " step_ms", v))
    if mouth is not None and mouth.step_ms is not None:
        declared.append((display_path(mouth.path) + " step_ms", mouth.step_ms))
    if pose.step_ms is not None:
        declared.append((display_path(pose.path) + " meta.step_ms", pose.step_ms))
    for w, v in declared[1:]:
        if v != declared[0][1]:
            raise ContractError(path, "step_ms",
                                f"step mismatch: {declared[0][0]} is {plain(declared[0][1])} but {w} is {plain(v)}")
    return float(declared[0][1]) if declared else DEFAULT_STEP_MS


def _render_settings(doc: dict, path: Path, ov) -> RenderSettings:
    r = doc.get("render") or {}
    rs = RenderSettings()
    if "canvas_w" in r:
        rs.canvas_w = whole_number(r["canvas_w"], path, "render.canvas_w", *CANVAS_RANGE)
    if "canvas_h" in r:
        rs.canvas_h = whole_number(r["canvas_h"], path, "render.canvas_h", *CANVAS_RANGE)
    if r.get("target_h_ratio") is not None:
        ratio = require_finite(r["target_h_ratio"], path, "render.target_h_ratio")
        lo, hi = TARGET_H_RATIO_RANGE
        if not lo <= ratio <= hi:
            raise ContractError(path, "render.target_h_ratio", f"expected a number from {plain(lo)} to {plain(hi)}, "
                                                                f"got {describe(r['target_h_ratio'])}")
        rs.target_h_ratio = ratio
    if ov.canvas:
        rs.canvas_w = whole_number(ov.canvas[0], None, "--canvas width", *CANVAS_RANGE)
        rs.canvas_h = whole_number(ov.canvas[1], None, "--canvas height", *CANVAS_RANGE)
    return rs


@gc_paused
def load_session(path: str | Path, overrides: Overrides | None = None, read_mouth: bool = True) -> Session:
    """Load and check a session and its timelines; raises ContractError on invalid input. With
    read_mouth False its mouth timeline is not read (`mouth` is None): the aligner writes a new one."""
    path = Path(path)
    ov = overrides or Overrides()
    note = recover_save(path) if file_problem(path) is None else None  # finish or undo an interrupted save
    doc = read_json(path, "session")
    if not isinstance(doc, dict):
        raise ContractError(path, "top level", "a session must be a JSON object")
    version = doc.get("schema_version")
    if not isinstance(version, str) or version not in FORMS:
        raise ContractError(path, "schema_version",
                            f"unknown schema_version {describe(version)}; supported: {', '.join(FORMS)}")
    form = FORMS[version]
    validate(doc, f"session_{form.lower()}", path, "session")
    warnings: list[str] = []
    bases = candidate_bases(path.parent, ov.root)
    entries = _entries(doc, form)

    def resolve(name: str, first=(), kind="file") -> Path | None:
        if name not in entries:
            return None
        key, value = entries[name]
        return resolve_path(value, key, path, bases, first, kind=kind)

    pose = load_timeline("pose", resolve("pose_timeline"))
    mouth_path = resolve("mouth_timeline") if read_mouth else None
    mouth = load_timeline("mouth", mouth_path) if mouth_path else None
    emo_map = doc.get("emo_map", {})
    expr_path = resolve("expression_timeline")
    expression = load_timeline("expression", expr_path, emo_map) if expr_path else None
    warnings += ([note] if note else []) + pose.warnings + (expression.warnings if expression else [])

    step_ms = _resolve_step(doc, path, mouth, pose)
    if expression is not None and expression.step_ms not in (None, step_ms):
        warnings.append(f"{display_path(expression.path)} step_ms {plain(expression.step_ms)} differs from "
                        f"the session's {plain(step_ms)}")

    # Audio: the session's key; in form A without one, the mouth timeline's `audio`
    # (resolved against the mouth file's folder first). Only a *missing* WAV is a warning.
    declared_ms = _declared_audio_ms(doc, path)
    audio_path, audio_err = None, None
    try:
        if "audio" in entries:
            audio_path = resolve("audio")
        elif form == "A" and mouth is not None and mouth.audio is not None:
            audio_path = resolve_path(mouth.audio, "audio", mouth.path, bases, first=[mouth.path.parent])
    except MissingPath as err:  # one that exists but cannot be used stays an error, audio_ms or not
        audio_err = err
    audio_missing = None if audio_err is None else f"{audio_err.where}: {audio_err.expected}"
    wav_ms = wav_info(audio_path).length_ms if audio_path else None
    if declared_ms is None:
        if audio_err is not None:
            raise audio_err
        if wav_ms is None:
            raise ContractError(path, "audio_ms", "the session gives no audio_ms and no audio file to measure it from")
        audio_ms = float(wav_ms)
        if audio_ms <= 0:
            raise ContractError(audio_path, "", "the WAV is shorter than half a millisecond, so audio_ms would be 0; "
                                                "give the session an audio_ms")
    else:
        audio_ms = declared_ms
        if audio_err is not None:
            warnings.append(f"audio missing: {audio_missing}; "
                            f"preview and export use audio_ms and play no sound")
        elif audio_path is None:
            warnings.append("the session names no audio file; preview and export play no sound")
    if audio_ms > MAX_AUDIO_MS:
        raise ContractError(audio_path, "", f"the WAV is {plain(round(audio_ms))} ms long, over 24 hours")
    if target_frames(audio_ms, step_ms) > MAX_FRAMES:
        raise ContractError(path, "audio_ms", f"audio_ms {plain(audio_ms)} at step_ms {plain(step_ms)} makes "
                                              f"{target_frames(audio_ms, step_ms):,} frames; at most {MAX_FRAMES:,} "
                                              f"(24 hours at 50 fps) are supported")
    if wav_ms is not None and declared_ms is not None and abs(wav_ms - declared_ms) > step_ms / 2:
        warnings.append(f"declared audio_ms {plain(declared_ms)} differs from the WAV's {wav_ms} ms by more "
                        f"than step_ms/2")

    # Atlas and assets: command-line flags win over the session's keys.
    atlas_bundled = False
    if ov.atlas:
        atlas_path = resolve_path(str(ov.atlas), "--atlas", None, [Path.cwd()])
    else:
        atlas_path = resolve("atlas_json")
        if atlas_path is None:
            atlas_path, atlas_bundled = BUNDLED_ATLAS, True
    if ov.assets_dir:
        assets_dir = resolve_path(str(ov.assets_dir), "--assets-dir", None, [Path.cwd()], kind="folder")
    elif atlas_bundled:
        assets_dir = None
    else:
        assets_dir = resolve("assets_dir", kind="folder")
    if atlas_bundled:
        ignored = "; its assets_dir is ignored" if "assets_dir" in entries and not ov.assets_dir else ""
        warnings.append(f"the session names no atlas: the bundled demo character ({display_path(BUNDLED_ATLAS)}) "
                        f"is drawn, not your character{ignored}")

    text, lang = doc.get("text"), doc.get("lang")
    if text is not None and not isinstance(text, str):
        warnings.append(f"{display_path(path)} text: not a string, so it is not used (the aligner works from the "
                        f"audio alone)")
    if lang is not None and lang not in ("ja", "en"):
        warnings.append(f"{display_path(path)} lang: {shorten(repr(lang), 40)} is neither \"ja\" nor \"en\", so it is "
                        f"not used (Japanese, unless the text is written in English)")
    return Session(path, doc, form, doc["session_id"], step_ms, json_number(audio_ms), wav_ms, audio_path,
                   pose, mouth, expression, atlas_path, assets_dir, _render_settings(doc, path, ov), emo_map,
                   warnings, atlas_bundled, session_layer(doc, path), text if isinstance(text, str) else None,
                   lang if lang in ("ja", "en") else None, audio_missing)
