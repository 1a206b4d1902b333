"""Writing edited timelines back: their original form, unknown keys kept, all or nothing, with backups.

The studio edits the parsed documents in place of the files' text, so what is written is the
document itself: canonical or legacy, wrapper or bare array, exactly as it was read, with the
edited events. The text follows the original file (TextFormat: BOM, line endings, indentation,
one event per line …) and keeps its permissions. Several files are saved all or nothing through
the session's journal (contracts/journal.py).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from contracts.journal import save_all
from contracts.atomic import mode_for, write_atomic
from studio.io.textformat import TextFormat

SESSION_TIMELINE_KEYS = {"pose": "pose_timeline", "mouth": "mouth_timeline", "expression": "expression_timeline"}


def _read(path: Path) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def dump_like(doc, original: bytes | str | None) -> bytes:
    """JSON bytes for `doc`, written the way the original file was."""
    raw = original.encode("utf-8") if isinstance(original, str) else original
    return TextFormat.detect(raw).dumps(doc)


def save_timelines(docs: dict, paths: dict[str, Path], session_path: Path, backup: bool = True) -> list[Path]:
    """Write each edited timeline document to its file, all or nothing (previous files kept as .bak)."""
    writes = []
    for kind, doc in docs.items():
        path = paths.get(kind)
        if path is None:
            continue
        original = _read(path)
        if backup and original is not None:
            write_atomic(path.with_name(path.name + ".bak"), original, mode=mode_for(path, True))
        writes.append((Path(path), dump_like(doc, original), mode_for(path, True)))
    save_all(Path(session_path), writes)
    return [p for p, _, _ in writes]


def _moved(value: str, resolved: Path | None, new_base: Path) -> str:
    """A path written in the session, rewritten so it names the same file (`resolved`, where the
    loader found it) from the new folder; absolute paths stay absolute."""
    if Path(value).expanduser().is_absolute() or resolved is None:
        return value
    return os.path.relpath(os.path.abspath(resolved), new_base)


def save_session_as(session, docs: dict, new_session: Path) -> Path:
    """Write the session and its timelines to a new place, all or nothing: timelines beside the new
    session file (their own file names); other relative paths rewritten to keep naming the same
    files, absolute ones kept; unknown keys kept."""
    new_session = Path(os.path.abspath(new_session))
    folder = new_session.parent
    folder.mkdir(parents=True, exist_ok=True)
    old_folder = Path(os.path.abspath(session.path)).parent
    resolved = {"audio": session.audio_path, "audio_path": session.audio_path, "assets_dir": session.assets_dir,
                "atlas_json": None if session.atlas_bundled else session.atlas_path}
    doc = json.loads(json.dumps(session.doc))
    target = doc.get("inputs", doc) if session.form == "A" else doc
    writes = []
    for kind, key in SESSION_TIMELINE_KEYS.items():
        track = getattr(session, kind)
        if track is None or track.path is None:
            continue
        dest = folder / Path(track.path).name
        target[key] = dest.name
        tdoc = docs.get(kind, track.doc)
        if kind == "mouth" and isinstance(tdoc, dict) and isinstance(tdoc.get("audio"), str):
            tdoc = dict(tdoc, audio=_moved(tdoc["audio"], session.audio_path, folder))  # form A's audio key
        writes.append((dest, dump_like(tdoc, _read(Path(track.path))), mode_for(Path(track.path), True)))
    for holder in {id(target): target, id(doc): doc}.values():
        for key in ("audio", "audio_path", "atlas_json", "assets_dir", "sync_policy"):
            value = holder.get(key)
            if isinstance(value, str):
                where = resolved.get(key) if key in resolved else old_folder / value
                holder[key] = _moved(value, where, folder)
    writes.append((new_session, dump_like(doc, _read(session.path)), mode_for(Path(session.path), True)))
    save_all(new_session, writes)
    return new_session
