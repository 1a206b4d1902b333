"""SPEC §2 path resolution: absolute as is; relative against the session folder, then each ancestor.

Any OS error on the way (a name too long, an unknown `~user`, a symlink loop, no permission) is
an error naming the key and the path (SPEC §12), never a traceback.
"""
from __future__ import annotations

import os
from pathlib import Path

from contracts.errors import ContractError, display_path, os_reason, printable, shorten
from contracts.jsonfile import file_problem


class MissingPath(ContractError):
    """A path that resolves nowhere (as opposed to one that exists but cannot be used)."""


def candidate_bases(session_dir: Path, root: Path | None) -> list[Path]:
    """Folders a relative session path is tried against, in order (`--root` makes DIR the only one)."""
    if root is not None:
        return [Path(os.path.abspath(root))]
    start = Path(os.path.abspath(session_dir))
    return [start, *start.parents]


def _probe(p: Path) -> str | None:
    """None when something exists at p, 'missing' when nothing does, else the OS's reason."""
    try:
        os.stat(p)
        return None
    except FileNotFoundError:
        return "missing"
    except NotADirectoryError:
        return "missing"
    except OSError as exc:
        return os_reason(exc)
    except ValueError:
        return "not a valid path"


def _expand(value: str, session_file: Path, key: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ContractError(session_file, key, "expected a non-empty path string")
    try:
        return Path(value).expanduser()
    except RuntimeError:  # '~nosuchuser/...'
        raise ContractError(session_file, key, f"'{shorten(value, 120)}' names an unknown user's home folder") from None


def resolve_path(value: str, key: str, session_file: Path, bases: list[Path], first: list[Path] = (),
                 kind: str = "file") -> Path:
    """Resolve `value` (written under `key` in `session_file`) to an existing regular file (or folder,
    with kind='folder'); the error names the key and every place tried."""
    p = _expand(value, session_file, key)
    shown = printable(shorten(value, 120))
    if p.is_absolute():
        places = [p]
    else:
        # '../x.json' from '/' and from '/a' is the same place: list (and try) each place once
        places, seen = [], set()
        for base in [*first, *bases]:
            if os.path.normpath(base / p) not in seen:
                seen.add(os.path.normpath(base / p))
                places.append(base / p)
    for cand in places:
        why = _probe(cand)
        if why == "missing":
            continue
        if why is not None:
            raise ContractError(session_file, key, f"'{shown}' cannot be used ({why}: {display_path(cand)})")
        return _check_kind(Path(os.path.abspath(cand)), kind, session_file, key, shown)
    if p.is_absolute():
        raise MissingPath(session_file, key, f"'{shown}' does not exist")
    tried = ", ".join(display_path(t) for t in places)
    raise MissingPath(session_file, key, f"'{shown}' was not found; tried {tried}")


def _check_kind(path: Path, kind: str, session_file: Path, key: str, shown: str) -> Path:
    if kind == "folder":
        if not path.is_dir():
            raise ContractError(session_file, key, f"'{shown}' is not a folder")
        return path
    problem = file_problem(path)
    if problem is not None:
        raise ContractError(session_file, key, f"'{shown}' {problem}")
    return path
