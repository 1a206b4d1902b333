"""All-or-nothing saves of several files (SPEC §12), with a journal beside the session file.

    1. the journal says "preparing" and names every temp file to be written;
    2. the temps are written and fsynced (each with the mode the file it replaces has);
    3. the journal says "committed": from here the save will happen;
    4. each temp is renamed over its file; 5. the journal is removed.
A kill before 3 leaves every file old (the next open deletes the temps: rolled back); a kill
after 3 leaves the rest of the renames to the next open (completed). Opening a session runs
`recover` first, so nobody ever reads a half-saved set.
"""
from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path

from contracts.errors import ContractError, display_path, os_reason
from contracts.faults import fault_point

SUFFIX = ".save-journal"


def journal_path(session_path: Path) -> Path:
    p = Path(session_path)
    return p.with_name(f".{p.name}{SUFFIX}")


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort: some file systems refuse)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, doc: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.save.tmp")


def _is_our_temp(target: Path, temp: Path) -> bool:
    """Only files named like ours, beside their target, are ever renamed or deleted by a recovery."""
    return (temp.parent == target.parent and temp.name.startswith(f".{target.name}.")
            and temp.name.endswith(".save.tmp"))


def save_all(session_path: Path, writes: list[tuple[Path, bytes, int]]) -> None:
    """Write every (path, bytes, mode) or none of them. OSError propagates with nothing changed
    (unless it happens during the renames, which the next open completes)."""
    journal = journal_path(session_path)
    entries = [(Path(os.path.abspath(p)), data, mode) for p, data, mode in writes]
    plan = [{"target": str(p), "temp": str(temp_name(p))} for p, _, _ in entries]
    _write_json_atomic(journal, {"state": "preparing", "files": plan})
    fault_point("save:prepared")
    try:
        for (target, data, mode), item in zip(entries, plan):
            fd = os.open(item["temp"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fchmod(f.fileno(), mode)
                os.fsync(f.fileno())
            fault_point("save:temp_written")
        _write_json_atomic(journal, {"state": "committed", "files": plan})
        fault_point("save:committed")
    except BaseException:
        _roll_back(plan)
        journal.unlink(missing_ok=True)
        raise
    _complete(plan)
    fault_point("save:all_renamed")
    journal.unlink(missing_ok=True)
    fsync_dir(journal.parent)


def _roll_back(plan: list[dict]) -> None:
    for item in plan:
        target, temp = Path(item["target"]), Path(item["temp"])
        if _is_our_temp(target, temp):
            temp.unlink(missing_ok=True)


def _complete(plan: list[dict]) -> None:
    folders = set()
    for item in plan:
        target, temp = Path(item["target"]), Path(item["temp"])
        if _is_our_temp(target, temp) and temp.exists():
            os.replace(temp, target)
            folders.add(target.parent)
            fault_point("save:renamed")
    for folder in folders:
        fsync_dir(folder)


def recover(session_path: Path) -> str | None:
    """Finish or undo a save that was interrupted; returns a sentence saying which, or None."""
    journal = journal_path(session_path)
    if not journal.is_file():
        return None
    try:
        doc = json.loads(journal.read_text(encoding="utf-8"))
        plan = [{"target": str(i["target"]), "temp": str(i["temp"])} for i in doc["files"]]
        committed = doc.get("state") == "committed"
    except (OSError, ValueError, KeyError, TypeError):
        plan, committed = [], False  # a journal we cannot read never got to "committed" safely
    try:
        (_complete if committed else _roll_back)(plan)
        journal.unlink(missing_ok=True)
    except OSError as exc:
        raise ContractError(session_path, "", f"an interrupted save cannot be {'completed' if committed else 'undone'} "
                                              f"({os_reason(exc)}; journal {display_path(journal)})") from None
    names = ", ".join(Path(i["target"]).name for i in plan) or "the timelines"
    return (f"an interrupted save was completed: {names} hold the saved version" if committed else
            f"an interrupted save was rolled back: {names} hold the version from before it")
