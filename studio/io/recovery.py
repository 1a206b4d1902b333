"""Autosave of unsaved edits to a recovery file, offered back on the next start.

Autosaves run on a worker thread: the entry is serialised event by event (many short calls, so the
interface thread never waits long for the interpreter lock). A discard waits for an autosave that
is writing, and an autosave scheduled before a discard writes nothing: discarded edits never
come back.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

from contracts.atomic import write_atomic

_PIECEWISE = 1000     # event lists longer than this are serialised one event at a time


def default_folder() -> Path:
    base = os.environ.get("LIPSYNC_STATE_DIR") or os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "lipsync-studio" / "recovery"


def _doc_text(doc) -> str:
    """JSON text of a timeline document (ASCII: no lone surrogate can make it unwritable)."""
    key = next((k for k in ("frames", "timeline") if isinstance(doc, dict) and isinstance(doc.get(k), list)), None)
    events = doc if isinstance(doc, list) else doc.get(key) if key else None
    if events is None or len(events) < _PIECEWISE:
        return json.dumps(doc)
    body = "[" + ",".join(json.dumps(e) for e in events) + "]"
    if isinstance(doc, list):
        return body
    marker = "\u0000events\u0000"
    wrapper = json.dumps(dict(doc, **{key: marker}))
    return wrapper.replace(json.dumps(marker), body, 1)


class Recovery:
    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else default_folder()
        self._lock = threading.Lock()
        self._discards = 0

    def path_for(self, session_path: str | Path) -> Path:
        key = hashlib.sha1(str(Path(session_path).resolve()).encode()).hexdigest()[:16]
        return self.folder / f"{key}.json"

    def ticket(self) -> int:
        """Taken when an autosave is scheduled: a discard after it makes that autosave write nothing."""
        return self._discards

    def save(self, session_path: str | Path, docs: dict, ticket: int | None = None) -> Path | None:
        path = self.path_for(session_path)
        parts = ", ".join(f"{json.dumps(kind)}: {_doc_text(doc)}" for kind, doc in docs.items())
        text = (f'{{"session": {json.dumps(str(Path(session_path).resolve()))}, "saved_at": {time.time()!r}, '
                f'"docs": {{{parts}}}}}')
        with self._lock:
            if ticket is not None and ticket != self._discards:
                return None
            write_atomic(path, text)
        return path

    def entries(self) -> list[dict]:
        """Recovery entries, newest first; unreadable files are skipped."""
        out = []
        if not self.folder.is_dir():
            return out
        for f in self.folder.glob("*.json"):
            try:
                e = json.loads(f.read_text(encoding="utf-8"))
                if isinstance(e, dict) and "session" in e and isinstance(e.get("docs"), dict):
                    out.append(e)
            except (OSError, ValueError):
                continue
        return sorted(out, key=lambda e: e.get("saved_at", 0), reverse=True)

    def discard(self, session_path: str | Path) -> None:
        with self._lock:
            self._discards += 1
            self.path_for(session_path).unlink(missing_ok=True)
