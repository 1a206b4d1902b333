"""Writing edited timelines back: their original form, unknown keys kept, atomic, with a backup.

The studio edits the parsed documents in place of the files' text, so what is written is the
document itself: canonical or legacy, wrapper or bare array, exactly as it was read, with the
edited events. Formatting follows the original file (indented or compact).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from studio.io.atomic import write_atomic

SESSION_TIMELINE_KEYS = {"pose": "pose_timeline", "mouth": "mouth_timeline", "expression": "expression_timeline"}


def dump_like(doc, original_text: str | None) -> str:
    """JSON text for `doc`, indented like the original (compact originals stay compact)."""
    compact = original_text is not None and "\n" not in original_text.strip()
    if compact:
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    else:
        indent = 2
        if original_text:
            for line in original_text.splitlines()[1:]:
                stripped = len(line) - len(line.lstrip(" "))
                if stripped:
                    indent = stripped
                    break
        text = json.dumps(doc, ensure_ascii=False, indent=indent)
    return text + ("\n" if original_text is None or original_text.endswith("\n") else "")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError:
        return None


def save_timelines(docs: dict, paths: dict[str, Path], backup: bool = True) -> list[Path]:
    """Write each edited timeline document to its file (atomic; previous file kept as <name>.bak)."""
    written = []
    for kind, doc in docs.items():
        path = paths.get(kind)
        if path is None:
            continue
        write_atomic(path, dump_like(doc, _read(path)), backup=backup)
        written.append(path)
    return written


def save_session_as(session, docs: dict, new_session: Path) -> Path:
    """Write the session and its timelines to a new place: timelines beside the new session file
    (their own file names), other paths rewritten relative to it; unknown keys kept."""
    new_session = Path(new_session).resolve()
    folder = new_session.parent
    folder.mkdir(parents=True, exist_ok=True)
    doc = json.loads(json.dumps(session.doc))
    target = doc.get("inputs", doc) if session.form == "A" else doc
    paths = {}
    for kind, key in SESSION_TIMELINE_KEYS.items():
        track = getattr(session, kind)
        if track is None or track.path is None:
            continue
        dest = folder / Path(track.path).name
        paths[kind] = dest
        target[key] = dest.name
    for key, path in (("audio", session.audio_path), ("atlas_json", session.atlas_path)):
        if path is not None and (key in target or key == "audio"):
            if session.form == "B" and key == "audio" and "audio_path" in doc and "audio" not in doc:
                key = "audio_path"
            target[key] = os.path.relpath(Path(path).resolve(), folder)
    if session.assets_dir is not None and "assets_dir" in doc:
        doc["assets_dir"] = os.path.relpath(Path(session.assets_dir).resolve(), folder)
    all_docs = {k: docs.get(k, getattr(session, k).doc) for k in paths}
    for kind, dest in paths.items():
        src_text = _read(Path(getattr(session, kind).path))
        write_atomic(dest, dump_like(all_docs[kind], src_text), backup=True)
    write_atomic(new_session, dump_like(doc, _read(session.path)), backup=True)
    return new_session
