"""SPEC §2 path resolution: absolute as is; relative against the session folder, then each ancestor."""
from __future__ import annotations

from pathlib import Path

from contracts.errors import ContractError, display_path


def candidate_bases(session_dir: Path, root: Path | None) -> list[Path]:
    """Folders a relative session path is tried against, in order (`--root` makes DIR the only one)."""
    if root is not None:
        return [Path(root).resolve()]
    start = Path(session_dir).resolve()
    return [start, *start.parents]


def resolve_path(value: str, key: str, session_file: Path, bases: list[Path],
                 first: list[Path] = ()) -> Path:
    """Resolve `value` (written under `key` in `session_file`); error names the key and every place tried."""
    p = Path(value).expanduser()
    if p.is_absolute():
        if p.exists():
            return p
        raise ContractError(session_file, key, f"'{value}' does not exist")
    tried = []
    for base in [*first, *bases]:
        cand = base / p
        if cand in tried:
            continue
        tried.append(cand)
        if cand.exists():
            return cand.resolve()
    places = ", ".join(display_path(t) for t in tried)
    raise ContractError(session_file, key, f"'{value}' was not found; tried {places}")
