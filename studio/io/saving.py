"""Writing edited timelines back: the edit and nothing else, all or nothing, with backups.

A document is written into the text of the file it was read from (splice.py): unchanged events keep
their bytes, an edited event its unchanged fields, a new event follows the file's key order and
number forms. A file the studio did not read (gone, or changed on disk since) is written afresh
in the original's layout (TextFormat: BOM, line endings, indentation, one event per line …). Files
keep their permissions; several are saved all or nothing through the session's journal
(contracts/journal.py).

A save is described by a request taken on the interface thread (documents are never changed in
place, so they are a snapshot) and written by `write_*` on a worker thread.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from contracts.atomic import mode_for, write_atomic
from contracts.errors import ContractError, OutputError, os_reason
from contracts.journal import save_all
from contracts.paths import candidate_bases, resolve_path
from studio.io.splice import Mismatch, rewrite
from studio.io.textformat import TextFormat

SESSION_TIMELINE_KEYS = {"pose": "pose_timeline", "mouth": "mouth_timeline", "expression": "expression_timeline"}
_NO_BASE = object()
_TEMP = re.compile(r"\.(.+)\.[0-9a-f]{8}\.save\.tmp")


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def dump_like(doc, original: bytes | str | None, base=_NO_BASE) -> bytes:
    """JSON bytes for `doc`: spliced into `original` when `base` is the document that file holds
    (only what changed is written), else written afresh the way the original file was."""
    raw = original.encode("utf-8") if isinstance(original, str) else original
    if raw is not None and base is not _NO_BASE:
        try:
            return rewrite(doc, base, raw)
        except Mismatch:
            pass
    return TextFormat.detect(raw).dumps(doc)


def fingerprint(path) -> tuple[int, int] | None:
    """What tells a file was rewritten by someone else since we read or wrote it (None: it is gone)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


@dataclass(frozen=True)
class SaveRequest:
    """Save: the changed timeline documents, what their files hold, and where they are."""
    session_path: Path
    docs: dict                 # kind -> document to write
    bases: dict                # kind -> the document its file holds (as read or last saved)
    paths: dict                # kind -> file
    marker: object = None      # the undo step this save corresponds to (the caller's)


@dataclass(frozen=True)
class SaveAsRequest:
    """Save As: the session and every timeline, written beside `new_session`."""
    session_path: Path
    session_doc: dict
    form: str
    resolved: dict             # session key -> the file the loader found for it (None: not known)
    docs: dict                 # kind -> document to write
    bases: dict                # kind -> the document its current file holds
    paths: dict                # kind -> current file
    new_session: Path
    marker: object = None


@dataclass
class SavedAs:
    """Where Save As put things: the open session is re-pointed at them."""
    session_path: Path
    session_doc: dict
    paths: dict = field(default_factory=dict)   # kind -> new file
    docs: dict = field(default_factory=dict)    # kind -> the document written there


def _save_all(session_path: Path, writes: list) -> None:
    """The journal's all-or-nothing write; an OS failure becomes one sentence naming the file."""
    try:
        save_all(Path(session_path), writes)
    except OSError as exc:
        where = Path(exc.filename) if isinstance(exc.filename, str) else Path(session_path)
        temp = _TEMP.fullmatch(where.name)              # name the file, not the journal's temp beside it
        raise OutputError(where.with_name(temp.group(1)) if temp else where,
                          os_reason(exc)) from None


def write_timelines(req: SaveRequest, backup: bool = True) -> list[Path]:
    """Write each changed timeline to its file, all or nothing (previous files kept as .bak)."""
    writes = []
    for kind, doc in req.docs.items():
        path = req.paths.get(kind)
        if path is None:
            continue
        original = _read(path)
        if backup and original is not None:
            try:
                write_atomic(path.with_name(path.name + ".bak"), original, mode=mode_for(path, True))
            except OSError as exc:
                raise OutputError(path.with_name(path.name + ".bak"), os_reason(exc)) from None
        writes.append((Path(path), dump_like(doc, original, req.bases.get(kind, _NO_BASE)), mode_for(path, True)))
    _save_all(req.session_path, writes)
    return [p for p, _, _ in writes]


def save_timelines(docs: dict, paths: dict[str, Path], session_path: Path, backup: bool = True,
                   bases: dict | None = None) -> list[Path]:
    """Write each edited timeline document to its file, all or nothing (previous files kept as .bak)."""
    return write_timelines(SaveRequest(Path(session_path), docs, bases or {}, paths), backup)


def _moved(value: str, resolved: Path | None, old_base: Path, new_base: Path) -> str:
    """A path written in a file, rewritten so it names the same file (`resolved`) from the new folder;
    absolute paths stay absolute, and nothing changes when the folder is the same."""
    if Path(value).expanduser().is_absolute() or resolved is None or Path(old_base) == Path(new_base):
        return value
    return os.path.relpath(os.path.abspath(resolved), new_base)


def _timeline_file_path(value: str, timeline: Path, session_path: Path) -> Path:
    """The file a path written inside a timeline names: resolved against the timeline's own folder
    first (SPEC §2), then the session's; one that resolves nowhere stays relative to the timeline."""
    folder = Path(os.path.abspath(timeline)).parent
    try:
        return resolve_path(value, "audio", timeline, candidate_bases(Path(session_path).parent, None), first=[folder])
    except ContractError:
        return folder / value


def save_as_request(session, docs: dict, new_session: Path, bases: dict | None = None,
                    marker=None) -> SaveAsRequest:
    """What Save As needs from the open session, taken now (the session may change while it writes)."""
    resolved = {"audio": session.audio_path, "audio_path": session.audio_path, "assets_dir": session.assets_dir,
                "atlas_json": None if session.atlas_bundled else session.atlas_path}
    paths = {k: Path(getattr(session, k).path) for k in SESSION_TIMELINE_KEYS
             if getattr(session, k) is not None and getattr(session, k).path is not None}
    docs = {k: docs.get(k, getattr(session, k).doc) for k in paths}
    return SaveAsRequest(Path(session.path), session.doc, session.form, resolved, docs,
                         {k: (bases or {}).get(k, getattr(session, k).doc) for k in paths}, paths,
                         Path(os.path.abspath(new_session)), marker)


def write_session_as(req: SaveAsRequest) -> SavedAs:
    """Write the session and its timelines to a new place, all or nothing: timelines beside the new
    session file (their own file names); relative paths rewritten to keep naming the same files (a
    path inside a timeline against the timeline's own folder), absolute ones kept; unknown keys kept;
    every file written as the edit and nothing else."""
    new_session = req.new_session
    folder = new_session.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(folder, os_reason(exc)) from None
    old_folder = Path(os.path.abspath(req.session_path)).parent
    doc = json.loads(json.dumps(req.session_doc))
    target = doc.get("inputs", doc) if req.form == "A" else doc
    out = SavedAs(new_session, doc)
    writes = []
    for kind, key in SESSION_TIMELINE_KEYS.items():
        if kind not in req.paths:
            continue
        path = req.paths[kind]
        dest = folder / path.name
        target[key] = dest.name
        tdoc = req.docs[kind]
        if kind == "mouth" and isinstance(tdoc, dict) and isinstance(tdoc.get("audio"), str):
            audio = _moved(tdoc["audio"], _timeline_file_path(tdoc["audio"], path, req.session_path),
                           Path(os.path.abspath(path)).parent, folder)
            if audio != tdoc["audio"]:
                tdoc = dict(tdoc, audio=audio)
        writes.append((dest, dump_like(tdoc, _read(path), req.bases.get(kind, _NO_BASE)), mode_for(path, True)))
        out.paths[kind], out.docs[kind] = dest, tdoc
    for holder in {id(target): target, id(doc): doc}.values():
        for key in ("audio", "audio_path", "atlas_json", "assets_dir", "sync_policy"):
            value = holder.get(key)
            if isinstance(value, str):
                where = req.resolved.get(key) if key in req.resolved else old_folder / value
                holder[key] = _moved(value, where, old_folder, folder)
    writes.append((new_session, dump_like(doc, _read(req.session_path), req.session_doc),
                   mode_for(Path(req.session_path), True)))
    _save_all(new_session, writes)
    return out


def save_session_as(session, docs: dict, new_session: Path, bases: dict | None = None) -> Path:
    """Save As in one call (the studio runs `write_session_as` on a worker thread)."""
    return write_session_as(save_as_request(session, docs, new_session, bases)).session_path
