"""Builders for small sessions, timelines and atlases on disk (fast: 64x64 sprites)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
# A copy of shared/reference/production_samples, so the suite runs wherever the checkout is;
# test_production_samples.py checks it still matches the original when shared/ is beside it.
SAMPLES = ROOT / "tests" / "data" / "production_samples"
SHARED_SAMPLES = ROOT.parent / "shared" / "reference" / "production_samples"
MOUTH_FILES = {"closed": "mouth_close.png", "a": "mouth_a.png", "i": "mouth_i.png",
               "u": "mouth_u.png", "e": "mouth_e.png", "o": "mouth_o.png"}
ALL_VIEWS = ["front", "left15", "left30", "right15", "right30", "up7", "up15", "down7", "down15",
             "left15_up7", "left15_down7", "right15_up7", "right15_down7"]


def write_json(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1))
    return path


def sprite_color(view: str, mouth: str, expression: str | None) -> tuple[int, int, int]:
    """A distinct colour per sprite, so a test can tell from pixels which sprite was drawn."""
    v = ALL_VIEWS.index(view) if view in ALL_VIEWS else 20
    m = list(MOUTH_FILES).index(mouth)
    e = ["normal", "smile", "angry", "sad", "blink"].index(expression) if expression else 0
    return (10 + v * 15, 10 + m * 40, 10 + e * 50)


def make_sprite(color, size=(64, 48)) -> np.ndarray:
    h, w = size
    img = np.zeros((h, w, 4), np.uint8)
    img[8:h - 8, 6:w - 6, :3] = color
    img[8:h - 8, 6:w - 6, 3] = 255
    return img


def make_atlas(folder: Path, views=("front", "left15", "left30", "right15", "right30"),
               mouths=tuple(MOUTH_FILES), expressions=("smile", "blink"), skip=(), extra=None,
               size=(64, 48), top_level=True) -> Path:
    """Atlas + sprites: views at the top level (production form) or under `views`.
    `skip` lists relative sprite paths not to write (to make them missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    views_doc = {v: {m: f"{v}/{MOUTH_FILES[m]}" for m in mouths} for v in views}
    for v in views:
        for m in mouths:
            for e in (None, *expressions):
                rel = f"{v}/{MOUTH_FILES[m]}" if e is None else f"{e}_{v}/{MOUTH_FILES[m]}"
                if rel in skip:
                    continue
                p = folder / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(p), make_sprite(sprite_color(v, m, e), size))
    doc = {"fallback": {"view": "front", "mouth": "closed"},
           "expression_labels": ["normal", "smile", "angry", "sad", "blink"], "expression_default": "normal"}
    if top_level:
        doc.update(views_doc)
    else:
        doc["views"] = views_doc
    doc.update(extra or {})
    return write_json(folder / "atlas.min.json", doc)


def write_wav(path: Path, ms: int, sr: int = 16000, tone_spans=()) -> Path:
    n = int(round(ms * sr / 1000))
    x = np.zeros(n, np.float32)
    for a, b in tone_spans:
        i0, i1 = int(a * sr / 1000), int(b * sr / 1000)
        x[i0:i1] = 0.5 * np.sin(2 * np.pi * 220 * np.arange(i1 - i0) / sr)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), x, sr, subtype="PCM_16")
    return path


def make_session(folder: Path, *, audio_ms=400, step_ms=40, pose=None, mouth=None, expression=None,
                 atlas: Path | None = None, form="A", wav_ms=None, extra=None) -> Path:
    """A complete small session; timelines default to a still pose, closed mouth, normal face."""
    folder.mkdir(parents=True, exist_ok=True)
    pose = pose if pose is not None else [{"t_ms": 0, "yaw_deg": 0, "pitch_deg": 0, "roll_deg": 0,
                                           "tx": 0, "ty": 0, "scale": 1.0}]
    write_json(folder / "pose.json", pose)
    files = {"pose_timeline": "pose.json"}
    if mouth is not None:
        write_json(folder / "mouth.json", mouth)
        files["mouth_timeline"] = "mouth.json"
    if expression is not None:
        write_json(folder / "expr.json", expression)
        files["expression_timeline"] = "expr.json"
    if atlas is None:
        atlas = make_atlas(folder / "atlas")
    files["atlas_json"] = str(Path(atlas).relative_to(folder)) if Path(atlas).is_relative_to(folder) else str(atlas)
    if wav_ms is not None:
        write_wav(folder / "audio.wav", wav_ms)
        files["audio"] = "audio.wav"
    if form == "A":
        doc = {"schema_version": "runtime_session_v0.1", "session_id": "t", "inputs": files}
        if audio_ms is not None:
            doc["audio_ms"] = audio_ms
    else:
        doc = {"schema_version": "session_runtime_v0.1", "session_id": "t", **files}
        if "audio" in files:
            doc["audio_path"] = doc.pop("audio")
        if audio_ms is not None:
            doc["session_audio_ms"] = audio_ms
    if step_ms is not None:
        doc["step_ms"] = step_ms
    doc.update(extra or {})
    return write_json(folder / "session.json", doc)


def run_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=300)
