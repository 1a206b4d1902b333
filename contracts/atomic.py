"""Atomic file replacement: write a temp file beside the target, fsync, rename over it.

Files get the permissions of an ordinary new file under the user's umask (SPEC §8), or, with
`keep_mode`, the permissions of the file they replace (a saved timeline stays readable by
whoever could read it before). Temp files never outlive the call. These are the floor's
primitives: the save journal, the export and every save write through them.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path



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


def current_umask() -> int:
    """The process umask, read without changing it (Linux /proc); else set-and-restore."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def new_file_mode() -> int:
    return 0o666 & ~current_umask()


def mode_for(path: Path, keep_mode: bool) -> int:
    """The mode a file written at `path` should get."""
    if keep_mode:
        try:
            return os.stat(path).st_mode & 0o7777
        except OSError:
            pass
    return new_file_mode()


def write_temp(path: Path, raw: bytes, mode: int, temp: Path | None = None) -> Path:
    """A fsynced temp file beside `path` holding `raw`, with `mode`; the caller renames or removes it.
    `temp` names it (created exclusively: the save journal lists its temps before writing them)."""
    if temp is None:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    else:
        fd, tmp = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), str(temp)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _refuse_special(path: Path) -> None:
    """A rename over a device, FIFO or socket would replace it with a plain file (`--out /dev/full`
    as root would remove the device): only regular files (or nothing) are replaced."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if not stat.S_ISREG(mode):
        from contracts.jsonfile import kind_name  # (jsonfile is heavy; only needed on this refusal)
        raise OSError(errno.EEXIST, f"it is {kind_name(mode)}, not a regular file", str(path))


def write_atomic(path: str | Path, data: str | bytes, backup: bool = False, keep_mode: bool = False,
                 mode: int | None = None) -> None:
    """Replace `path` with `data` so a reader (or a crash) sees the old file or the new one, never half.

    With `backup`, the previous file is kept as `<name>.bak` first.
    """
    path = Path(path)
    _refuse_special(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = write_temp(path, raw, mode if mode is not None else mode_for(path, keep_mode))
    try:
        if backup and path.exists():
            # copy, not rename: the target must exist until the new one replaces it
            write_atomic(path.with_name(path.name + ".bak"), path.read_bytes(), mode=mode_for(path, True))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
