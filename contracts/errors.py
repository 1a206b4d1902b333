"""Bad input is reported as one sentence naming the file, the key or index, and what was expected."""
from __future__ import annotations

import os
from pathlib import Path


def display_path(path: str | os.PathLike) -> str:
    """A path as the user would recognise it: relative to the working folder when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


class ContractError(Exception):
    """Invalid input (exit code 2). `str(err)` is the one sentence shown to the user."""

    def __init__(self, file: str | os.PathLike | None, where: str, expected: str):
        self.file = display_path(file) if file else None
        self.where = where
        self.expected = expected.rstrip(".")
        super().__init__(self.sentence())

    def sentence(self) -> str:
        head = f"{self.file}: " if self.file else ""
        loc = f"{self.where}: " if self.where else ""
        return f"{head}{loc}{self.expected}."


def format_index_path(parts) -> str:
    """['frames', 3, 't_ms'] -> 'frames[3].t_ms' (the notation every error uses)."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out
