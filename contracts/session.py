"""session.json (SPEC §1–2): both forms, path resolution, and the session timebase."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import soundfile

from contracts.errors import ContractError, display_path
from contracts.jsonfile import read_json, validate
from contracts.paths import candidate_bases, resolve_path
from contracts.timelines import ExpressionTrack, MouthTrack, PoseTrack, load_timeline

FORMS = {"runtime_session_v0.1": "A", "session_runtime_v0.1": "B"}
BUNDLED_ATLAS = Path(__file__).resolve().parent.parent / "assets_min" / "atlas.min.json"
DEFAULT_STEP_MS = 40.0


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
    audio_ms: int
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

    @property
    def fps(self) -> float:
        return 1000.0 / self.step_ms

    @property
    def target_frames(self) -> int:
        return target_frames(self.audio_ms, self.step_ms)


def target_frames(audio_ms: float, step_ms: float) -> int:
    """ceil(audio_ms / step_ms) (SPEC §1)."""
    return int(math.ceil(audio_ms / step_ms - 1e-9))


def wav_length_ms(path: Path) -> int:
    """floor(samples * 1000 / sample_rate + 0.5) (SPEC §1)."""
    try:
        info = soundfile.info(str(path))
    except Exception as exc:  # soundfile raises its own error types for unreadable files
        raise ContractError(path, "", f"the audio file cannot be read as a WAV ({exc})") from None
    return int(math.floor(info.frames * 1000 / info.samplerate + 0.5))


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
    if a is not None and b is not None and a != b:
        raise ContractError(path, "audio_ms", f"audio_ms ({a}) and session_audio_ms ({b}) disagree")
    value = a if a is not None else b
    if value is not None and not math.isfinite(value):
        raise ContractError(path, "audio_ms", f"expected a finite number, got {value}")
    return value


def _resolve_step(doc: dict, path: Path, mouth: MouthTrack | None, pose: PoseTrack) -> float:
    """Session step_ms, else the mouth timeline's, else pose meta.step_ms, else 40; any two that differ is an error."""
    declared = [(display_path(path) + " step_ms", doc.get("step_ms"))]
    if mouth is not None:
        declared.append((display_path(mouth.path) + " step_ms", mouth.step_ms))
    declared.append((display_path(pose.path) + " meta.step_ms", pose.step_ms))
    declared = [(w, v) for w, v in declared if v is not None]
    for w, v in declared:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise ContractError(None, w, f"step_ms must be a positive number, got {v}")
    for w, v in declared[1:]:
        if v != declared[0][1]:
            raise ContractError(path, "step_ms",
                                f"step mismatch: {declared[0][0]} is {declared[0][1]:g} but {w} is {v:g}")
    return float(declared[0][1]) if declared else DEFAULT_STEP_MS


def load_session(path: str | Path, overrides: Overrides | None = None) -> Session:
    """Load and check a session and its timelines; raises ContractError on invalid input."""
    path = Path(path)
    ov = overrides or Overrides()
    doc = read_json(path, "session")
    if not isinstance(doc, dict):
        raise ContractError(path, "top level", "a session must be a JSON object")
    version = doc.get("schema_version")
    if version not in FORMS:
        raise ContractError(path, "schema_version",
                            f"unknown schema_version {version!r}; supported: {', '.join(FORMS)}")
    form = FORMS[version]
    validate(doc, f"session_{form.lower()}", path, "session")
    warnings: list[str] = []
    bases = candidate_bases(path.parent, ov.root)
    entries = _entries(doc, form)

    def resolve(name: str, first=()) -> Path | None:
        if name not in entries:
            return None
        key, value = entries[name]
        return resolve_path(value, key, path, bases, first)

    pose = load_timeline("pose", resolve("pose_timeline"))
    mouth_path = resolve("mouth_timeline")
    mouth = load_timeline("mouth", mouth_path) if mouth_path else None
    emo_map = doc.get("emo_map", {})
    expr_path = resolve("expression_timeline")
    expression = load_timeline("expression", expr_path, emo_map) if expr_path else None
    warnings += pose.warnings + (expression.warnings if expression else [])

    step_ms = _resolve_step(doc, path, mouth, pose)
    if expression is not None and expression.step_ms not in (None, step_ms):
        warnings.append(f"{display_path(expression.path)} step_ms {expression.step_ms:g} differs from "
                        f"the session's {step_ms:g}")

    # Audio: the session's key; in form A without one, the mouth timeline's `audio`
    # (resolved against the mouth file's folder first).
    declared_ms = _declared_audio_ms(doc, path)
    audio_path, audio_err = None, None
    try:
        if "audio" in entries:
            audio_path = resolve("audio")
        elif form == "A" and mouth is not None and mouth.audio:
            audio_path = resolve_path(mouth.audio, "audio", mouth.path, bases, first=[mouth.path.parent])
    except ContractError as err:
        audio_err = err
    wav_ms = wav_length_ms(audio_path) if audio_path else None
    if declared_ms is None:
        if audio_err is not None:
            raise audio_err
        if wav_ms is None:
            raise ContractError(path, "audio_ms", "the session gives no audio_ms and no audio file to measure it from")
        audio_ms = wav_ms
    else:
        audio_ms = declared_ms
        if audio_err is not None:
            warnings.append(f"audio missing: {audio_err.where}: {audio_err.expected}; "
                            f"preview and export use audio_ms and play no sound")
        elif audio_path is None:
            warnings.append("the session names no audio file; preview and export play no sound")
    if audio_ms <= 0:
        raise ContractError(path, "audio_ms", f"audio_ms must be greater than 0, got {audio_ms:g}")
    if wav_ms is not None and declared_ms is not None and abs(wav_ms - declared_ms) > step_ms / 2:
        warnings.append(f"declared audio_ms {declared_ms:g} differs from the WAV's {wav_ms} ms by more "
                        f"than step_ms/2")

    # Atlas and assets: command-line flags win over the session's keys.
    atlas_path = Path(ov.atlas) if ov.atlas else (resolve("atlas_json") or BUNDLED_ATLAS)
    if ov.atlas and not atlas_path.exists():
        raise ContractError(None, "--atlas", f"'{ov.atlas}' does not exist")
    if ov.assets_dir:
        assets_dir = Path(ov.assets_dir)
        if not assets_dir.is_dir():
            raise ContractError(None, "--assets-dir", f"'{ov.assets_dir}' is not a folder")
    else:
        assets_dir = resolve("assets_dir")

    r = doc.get("render", {})
    render = RenderSettings(r.get("canvas_w", 720), r.get("canvas_h", 720), r.get("target_h_ratio"))
    if ov.canvas:
        render.canvas_w, render.canvas_h = ov.canvas
    return Session(path, doc, form, doc["session_id"], step_ms, int(round(audio_ms)), wav_ms, audio_path,
                   pose, mouth, expression, atlas_path, assets_dir, render, emo_map, warnings)
