"""Autosave of unsaved edits to a recovery file, offered back on the next start."""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

from contracts.atomic import write_atomic
from contracts.jsonfile import utf8_safe


def default_folder() -> Path:
    base = os.environ.get("LIPSYNC_STATE_DIR") or os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "lipsync-studio" / "recovery"


class Recovery:
    """Autosaves run on a worker thread; `epoch` orders them against discards: a save that started
    before a discard (the session was saved, or its edits thrown away) never writes afterwards."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else default_folder()
        self._lock = threading.Lock()
        self.epoch = 0

    def path_for(self, session_path: str | Path) -> Path:
        key = hashlib.sha1(str(Path(session_path).resolve()).encode()).hexdigest()[:16]
        return self.folder / f"{key}.json"

    def save(self, session_path: str | Path, docs: dict, epoch: int | None = None) -> Path | None:
        """Write the recovery entry (None when a discard came after `epoch`: nothing is written)."""
        path = self.path_for(session_path)
        entry = {"session": str(Path(session_path).resolve()), "saved_at": time.time(), "docs": docs}
        # the pure-Python encoder in chunks: an hour of events never holds the GIL for seconds at a time
        text = utf8_safe("".join(json.JSONEncoder(ensure_ascii=False).iterencode(entry)))
        with self._lock:
            if epoch is not None and epoch != self.epoch:
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
            self.epoch += 1
            self.path_for(session_path).unlink(missing_ok=True)
