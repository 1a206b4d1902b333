"""The FG sequence folder and its commit protocol (SPEC §8, §12).

Frames are written into `in/.fg.staging-*`. When all are there, the small outputs are written
as temp files (so an unwritable `--out` fails before anything is swapped), then, in order:
1. `frame_hashes.json` is removed: from here on nothing in the folder is trusted;
2. `in/fg` is renamed to `in/.fg.old-*` and the staging folder to `in/fg`;
3. the new hashes, `frames.csv` and `run_report.json` are renamed into place;
4. the old sequence is deleted.
A kill anywhere leaves `in/fg` holding one complete sequence (or, inside step 2, the previous
one under `.fg.old-*`, which the next export restores), and the hashes exist only while they
describe `in/fg`: an incremental re-export never trusts a frame an interrupted export wrote.
Leftover staging and old folders are removed by the next export (which holds the lock).
"""
from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path

from contracts.errors import OutputError, os_reason
from contracts.faults import fault_point
from contracts.interrupts import signals_deferred
from contracts.atomic import fsync_dir, new_file_mode, write_temp

HASHES_FILE = "frame_hashes.json"
STAGING_PREFIX = ".fg.staging-"
OLD_PREFIX = ".fg.old-"


class SequenceFolder:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.inbox = self.out / "in"
        self.fg = self.inbox / "fg"

    # ------------------------------------------------------------ leftovers
    def recover(self) -> list[str]:
        """Undo what an interrupted export left (call with the export lock held); returns notes."""
        notes = []
        if not self.inbox.is_dir():
            return notes
        olds = sorted(self.inbox.glob(OLD_PREFIX + "*"), key=lambda p: p.stat().st_mtime)
        if not self.fg.exists() and olds:  # killed inside the swap: the previous sequence comes back
            (self.out / HASHES_FILE).unlink(missing_ok=True)
            os.replace(olds.pop(), self.fg)
            notes.append("restored the previous sequence that an interrupted export had set aside")
        leftovers = olds + list(self.inbox.glob(STAGING_PREFIX + "*"))
        for folder in leftovers:
            _remove_tree(folder)
        if leftovers:
            notes.append(f"removed {len(leftovers)} folder(s) left by an interrupted export")
        for tmp in self.out.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        return notes

    # --------------------------------------------------------------- hashes
    def previous_hashes(self, renderer: str) -> list[str]:
        """Per-frame input hashes of the current `in/fg`, or [] when they cannot be trusted."""
        try:
            doc = json.loads((self.out / HASHES_FILE).read_text(encoding="utf-8"))
            if doc.get("renderer") != renderer or doc.get("fg_inode") != os.stat(self.fg).st_ino:
                return []
            hashes = doc["hashes"]
            return hashes if isinstance(hashes, list) else []
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return []

    # -------------------------------------------------------------- staging
    def new_staging(self) -> Path:
        try:
            self.inbox.mkdir(parents=True, exist_ok=True)
            staging = self.inbox / f"{STAGING_PREFIX}{uuid.uuid4().hex[:8]}"
            staging.mkdir()
        except OSError as exc:
            raise OutputError(self.inbox, os_reason(exc)) from None
        return staging

    # --------------------------------------------------------------- commit
    def commit(self, staging: Path, hashes: list[str], renderer: str, texts: dict[str, str]) -> None:
        """Swap `staging` in as `in/fg` and put the small outputs (name -> text) in place, in the
        protocol's order. Every OSError before the swap is an OutputError with `in/fg` untouched."""
        temps: dict[str, Path] = {}
        # the staging folder keeps its inode when renamed: the hashes name the folder they describe
        texts = {HASHES_FILE: json.dumps({"renderer": renderer, "fg_inode": os.stat(staging).st_ino,
                                          "hashes": hashes}), **texts}
        try:
            for name, body in texts.items():
                target = self.out / name
                if target.is_dir():
                    raise OutputError(target, "it is a folder")
                temps[name] = write_temp(target, body.encode("utf-8"), new_file_mode())
            fault_point("temps_written")
        except OSError as exc:
            for t in temps.values():
                t.unlink(missing_ok=True)
            raise OutputError(self.out, os_reason(exc)) from None
        except BaseException:
            for t in temps.values():
                t.unlink(missing_ok=True)
            raise
        # From here a few renames finish the export: SIGINT/SIGTERM wait for them (SPEC §12), so a
        # stopped export never leaves the previous sequence set aside under a temporary name.
        with signals_deferred("the export had finished and its new output was kept"):
            self._replace(staging, temps)

    def _replace(self, staging: Path, temps: dict[str, Path]) -> None:
        try:
            (self.out / HASHES_FILE).unlink(missing_ok=True)       # 1. nothing is trusted any more
            fsync_dir(self.out)
            fault_point("hashes_removed")
        except OSError as exc:
            for t in temps.values():
                t.unlink(missing_ok=True)
            raise OutputError(self.out, os_reason(exc)) from None
        old = self._swap(staging)                                  # 2.
        try:
            for name, tmp in temps.items():                        # 3.
                os.replace(tmp, self.out / name)
                fault_point(f"placed:{name}")
            fsync_dir(self.out)
        except OSError as exc:
            raise OutputError(self.out, os_reason(exc)) from None
        finally:
            for t in temps.values():
                t.unlink(missing_ok=True)
        if old is not None:                                        # 4.
            _remove_tree(old)

    def _swap(self, staging: Path) -> Path | None:
        old = None
        try:
            if self.fg.exists() or self.fg.is_symlink():
                old = self.inbox / f"{OLD_PREFIX}{uuid.uuid4().hex[:8]}"
                os.replace(self.fg, old)
                fault_point("old_moved")
            os.replace(staging, self.fg)
        except OSError as exc:
            if old is not None and not self.fg.exists():
                os.replace(old, self.fg)  # put the previous sequence back
            raise OutputError(self.fg, os_reason(exc)) from None
        fsync_dir(self.inbox)
        fault_point("swapped")
        return old


def _remove_tree(folder: Path) -> None:
    """Remove a folder; an orphaned worker may still be finishing a file in it, so try twice."""
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():
        time.sleep(0.6)
        shutil.rmtree(folder, ignore_errors=True)
