"""Bad input and unwritable output, each reported as one sentence (SPEC §11–12).

A sentence names the file, the key or index, and what was expected; it is at most
MAX_MESSAGE characters, long values are shortened with `…`, and characters a terminal
would not show (lone surrogates, control characters) are printed escaped.
"""
from __future__ import annotations

import math
import numbers
import os
import re
from decimal import Decimal

MAX_MESSAGE = 400
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")


def printable(text: str) -> str:
    """`text` with control characters and lone surrogates escaped (`\\ud800`, `\\x1b`)."""
    def esc(m: re.Match) -> str:
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    return _UNPRINTABLE.sub(esc, str(text))


def plain(x) -> str:
    """A number as people write it: 40000000, 0.3, -12.5, never 4e+07 (SPEC §11: messages are read by
    people). Magnitudes from 1e-6 to 1e21 are written out in full; beyond them digits stop being
    readable, so the exponent stays (1e+300). Not a number: as given."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return str(x)
    x = int(x) if isinstance(x, numbers.Integral) else float(x)   # numpy scalars too
    if isinstance(x, int):
        if abs(x) < 10 ** 21:
            return str(x)
        return f"{'-' if x < 0 else ''}1e+{int(x.bit_length() * math.log10(2))}"  # str() of 5000 digits raises
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("-Infinity" if x < 0 else "Infinity")  # as JSON spells them
    if x == 0 or not 1e-6 <= abs(x) < 1e21:
        return "0" if x == 0 else repr(x)
    text = format(Decimal(repr(x)), "f")  # the shortest digits that give x back, no exponent
    return text.rstrip("0").rstrip(".") if "." in text else text


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters; a longer text keeps its start and ends with `…`."""
    text = str(text)
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


SAME_KIND_WARNINGS = 20   # warnings of one kind listed one by one; the rest are counted in one line


def more_line(count: int, what: str) -> str:
    """The line that stands for `count` further warnings of one kind ('3,120 more missing sprites …')."""
    return f"{count:,} more {what} (not listed one by one)"


def display_path(path: str | os.PathLike) -> str:
    """A path as the user would recognise it: relative to the working folder when inside it.

    Never fails: paths that cannot be resolved (symlink loops, names too long) are shown as given;
    a URL (s3://bucket/prefix) is shown as given.
    """
    if isinstance(path, str) and "://" in path:
        return printable(path)
    try:
        p = os.path.abspath(os.fspath(path))
        cwd = os.getcwd()
        rel = os.path.relpath(p, cwd)
        return printable(rel if not rel.startswith("..") else p)
    except (OSError, ValueError, TypeError):
        return printable(str(path))


def _sentence(*parts: str) -> str:
    """Join parts as 'a: b: c.' within MAX_MESSAGE: every part escaped, the longest shortened first."""
    parts = [printable(p) for p in parts if p]
    budget = MAX_MESSAGE - 1 - 2 * (len(parts) - 1)  # the final '.' and the ': ' separators
    while sum(len(p) for p in parts) > budget:
        k = max(range(len(parts)), key=lambda i: len(parts[i]))
        excess = sum(len(p) for p in parts) - budget
        parts[k] = shorten(parts[k], max(8, len(parts[k]) - excess))
        if len(parts[k]) <= 8:
            break
    return shorten(": ".join(parts).rstrip(".") + ".", MAX_MESSAGE)


class ContractError(Exception):
    """Invalid input (exit code 2). `str(err)` is the one sentence shown to the user."""

    def __init__(self, file: str | os.PathLike | None, where: str, expected: str):
        self.file = display_path(file) if file else None
        self.where = where
        self.expected = str(expected).rstrip(".")
        super().__init__(self.sentence())

    def sentence(self) -> str:
        return _sentence(self.file or "", self.where, self.expected)

    def __reduce__(self):  # survives the trip back from a worker process
        return (_rebuild, (type(self), self.file, self.where, self.expected))


def _rebuild(cls, file, where, expected):
    err = cls.__new__(cls)
    err.file, err.where, err.expected = file, where, expected
    Exception.__init__(err, err.sentence())
    return err


class OutputError(Exception):
    """An output that cannot be written (exit code 4): names the path and the reason."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = display_path(path)
        self.reason = str(reason).rstrip(".")
        super().__init__(_sentence(f"cannot write {self.path}", self.reason))

    def __reduce__(self):
        return (OutputError, (self.path, self.reason))


class ClusterError(Exception):
    """The cluster could not run the work (exit code 5, SPEC §11, §14): names the scheduler or the
    worker and what failed; nothing was committed."""

    def __init__(self, where: str, reason: str):
        self.where, self.reason = str(where), str(reason).rstrip(".")
        super().__init__(_sentence(self.where, self.reason))

    def __reduce__(self):  # raised on a worker, re-raised by the coordinator
        return (ClusterError, (self.where, self.reason))


def os_reason(exc: OSError) -> str:
    """'permission denied', 'no space left on device' …: the OS's words, lower case, no path."""
    text = exc.strerror or str(exc) or exc.__class__.__name__
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


# Kernel interfaces mounted like folders: nothing can be created in them, whatever errno says
# (/proc answers "no such file or directory", /sys "permission denied").
KERNEL_FILESYSTEMS = {"proc", "sysfs", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs", "configfs",
                      "pstore", "bpf", "efivarfs", "binfmt_misc", "fusectl", "nsfs", "devpts", "mqueue", "autofs"}


def mount_type(path: str | os.PathLike) -> str | None:
    """The filesystem type of the mount holding `path` (its nearest existing ancestor), from /proc."""
    try:
        p = os.path.realpath(os.fspath(path))
        while not os.path.lexists(p) and p != os.path.dirname(p):
            p = os.path.dirname(p)
        best, kind = "", None
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split()
                point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
                inside = p == point or p.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= len(best):
                    best, kind = point, fields[fields.index("-") + 1]
        return kind
    except (OSError, ValueError, IndexError):
        return None


def write_reason(exc: OSError, path: str | os.PathLike | None = None) -> str:
    """Why writing at `path` failed, in the user's terms: the OS's words, except on a kernel interface
    (/proc, /sys), whose errno ('no such file or directory') would send the user looking elsewhere."""
    where = path if path is not None else exc.filename
    if where is not None and not isinstance(where, int):
        kind = mount_type(where)
        if kind in KERNEL_FILESYSTEMS:
            return f"it is on the {kind} filesystem, a kernel interface where no files can be created"
    return os_reason(exc)


def format_index_path(parts) -> str:
    """['frames', 3, 't_ms'] -> 'frames[3].t_ms' (the notation every error uses)."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out
