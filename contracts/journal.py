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
import uuid
from pathlib import Path

from contracts.atomic import fsync_dir, write_atomic, write_temp
from contracts.errors import ContractError, display_path, os_reason
from contracts.faults import fault_point

SUFFIX = ".save-journal"


def journal_path(session_path: Path) -> Path:
    p = Path(session_path)
    return p.with_name(f".{p.name}{SUFFIX}")


def temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.save.tmp")


def _is_our_temp(target: Path, temp: Path) -> bool:
    """Only files named like ours, beside their target, are ever renamed or deleted by a recovery."""
    return (temp.parent == target.parent and temp.name.startswith(f".{target.name}.")
            and temp.name.endswith(".save.tmp"))


def save_all(session_path: Path, writes: list[tuple[Path, bytes, int]]) -> None:
    """Write every (path, bytes, mode) or none of them. OSError propagates with nothing changed
    (unless it happens after the first rename, which the next open then completes)."""
    journal = journal_path(session_path)
    entries = [(Path(os.path.abspath(p)), data, mode) for p, data, mode in writes]
    if not journal.exists():
        _sweep_stale_temps([p for p, _, _ in entries])
    plan = [{"target": str(p), "temp": str(temp_name(p))} for p, _, _ in entries]
    write_atomic(journal, json.dumps({"state": "preparing", "files": plan}), mode=0o600)
    fault_point("save:prepared")
    renamed: list[Path] = []
    try:
        for (target, data, mode), item in zip(entries, plan):
            _check_replaceable(target)
            write_temp(target, data, mode, temp=Path(item["temp"]))
            fault_point("save:temp_written")
        write_atomic(journal, json.dumps({"state": "committed", "files": plan}), mode=0o600)
        fault_point("save:committed")
        _complete(plan, renamed)
    except BaseException:
        if not renamed:          # nothing replaced yet: undo it all, no temp and no journal stays
            _roll_back(plan)
            journal.unlink(missing_ok=True)
        raise
    fault_point("save:all_renamed")
    journal.unlink(missing_ok=True)
    fsync_dir(journal.parent)


def _check_replaceable(target: Path) -> None:
    """A rename cannot put a file where a folder now is: fail before anything is committed."""
    if target.is_dir():
        raise IsADirectoryError(21, "is a directory", str(target))


def _sweep_stale_temps(targets: list[Path]) -> None:
    """Temps of these files that no journal names any more (left by a save that failed)."""
    for target in targets:
        for temp in target.parent.glob(f".{target.name}.*.save.tmp"):
            if _is_our_temp(target, temp):
                temp.unlink(missing_ok=True)


def _roll_back(plan: list[dict]) -> None:
    for item in plan:
        target, temp = Path(item["target"]), Path(item["temp"])
        if _is_our_temp(target, temp):
            temp.unlink(missing_ok=True)


def _complete(plan: list[dict], renamed: list[Path] | None = None) -> None:
    """Rename every temp over its file (each done one appended to `renamed`)."""
    folders = set()
    for item in plan:
        target, temp = Path(item["target"]), Path(item["temp"])
        if _is_our_temp(target, temp) and temp.exists():
            os.replace(temp, target)
            if renamed is not None:
                renamed.append(target)
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
