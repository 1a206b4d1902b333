"""One export at a time per output folder (SPEC §12): an advisory lock on `<out>/.export.lock`.

The kernel releases the lock when its holder dies, however it dies, so a killed export never
blocks the next one. The file holds the holder's process id and host name, which a refused export
names (on a render farm's shared folder, a process id alone means nothing: SPEC §14).
"""
from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from contracts.errors import OutputError, write_reason
from contracts.atomic import new_file_mode
from contracts.jsonfile import kind_name

LOCK_NAME = ".export.lock"


def ensure_folder(out: Path) -> None:
    """Create the output folder (and parents); OutputError naming it when that is impossible."""
    try:
        if out.exists() and not out.is_dir():
            raise OutputError(out, f"it is {kind_name(out.stat().st_mode)}, not a folder")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(out, write_reason(exc, out)) from None


class ExportLock:
    def __init__(self, out: Path):
        self.out = Path(out)
        self._fd: int | None = None

    def __enter__(self) -> "ExportLock":
        ensure_folder(self.out)
        path = self.out / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, new_file_mode())
        except OSError as exc:
            raise OutputError(self.out, write_reason(exc, self.out)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, _, host = os.read(fd, 300).decode("utf-8", "replace").strip().partition(" ")
            os.close(fd)
            holder = f"process {pid or 'unknown'}" + (f" on host {host}" if host else "")
            raise OutputError(self.out, f"another export ({holder}) is writing to it") from None
        except OSError as exc:
            os.close(fd)
            raise OutputError(self.out, write_reason(exc, self.out)) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        except OSError:
            pass  # the pid is a courtesy for the message; the lock itself holds
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
