"""Autosave of unsaved edits to a recovery file, offered back on the next start."""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from contracts.jsonfile import dumps
from contracts.atomic import write_atomic


def default_folder() -> Path:
    base = os.environ.get("LIPSYNC_STATE_DIR") or os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "lipsync-studio" / "recovery"


class Recovery:
    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else default_folder()

    def path_for(self, session_path: str | Path) -> Path:
        key = hashlib.sha1(str(Path(session_path).resolve()).encode()).hexdigest()[:16]
        return self.folder / f"{key}.json"

    def save(self, session_path: str | Path, docs: dict) -> Path:
        path = self.path_for(session_path)
        entry = {"session": str(Path(session_path).resolve()), "saved_at": time.time(), "docs": docs}
        write_atomic(path, dumps(entry, ensure_ascii=False))
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
        self.path_for(session_path).unlink(missing_ok=True)
