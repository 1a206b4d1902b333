"""Only the project speaks on stderr (SPEC §12): native libraries (libpng, OpenCV, libsndfile and
its MPEG decoder, Qt) print straight to file descriptor 2, around Python, so their lines would
reach the user's terminal beside our one sentence.

How: inside `quiet_native_stderr()` (the CLI and the studio run in it) descriptor 2 points at a
private sink file, while Python's `sys.stderr` writes to a duplicate of the real stderr. Nothing
is switched per call, so any number of threads is safe, and our own lines, warnings and tracebacks
(LIPSYNC_DEBUG) still reach the terminal; processes started inside it (export workers) inherit the
sink, so their libraries are quiet too. What a library meant is not lost: `native_messages()`
returns what native code wrote during a call, and the caller puts it into its sentence. Where a
library can be silenced at the source it is (OpenCV's log level; WAV and PNG headers are checked
before the decoders see them), so the sink is the net, not the plan. `LIPSYNC_DEBUG=1` leaves
stderr alone.
"""
from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import sys
import tempfile
import threading
from typing import Iterator

SINK_LIMIT = 1 << 20      # the sink is emptied past this size when nobody is reading it
_lock = threading.Lock()
_sink: int | None = None   # the sink's descriptor while the guard is on
_readers = 0


def _writes_to_fd2(stream) -> bool:
    try:
        return stream is not None and stream.fileno() == 2
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Run the block with descriptor 2 in the sink and Python's stderr on the real one (see above)."""
    global _sink
    if _sink is not None or os.environ.get("LIPSYNC_DEBUG"):
        yield
        return
    try:
        sys.stderr.flush()
        real = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no stderr at all: nothing to protect
        yield
        return
    try:
        with tempfile.TemporaryFile(prefix="lipsync-native-stderr-") as tmp:
            sink = os.dup(tmp.fileno())
        fcntl.fcntl(sink, fcntl.F_SETFL, fcntl.fcntl(sink, fcntl.F_GETFL) | os.O_APPEND)
    except OSError:  # no room for a temp file: still quiet, only the libraries' words are lost
        sink = os.open(os.devnull, os.O_WRONLY)
    python_stderr = sys.stderr if _writes_to_fd2(sys.stderr) else None
    if python_stderr is not None:
        sys.stderr = io.TextIOWrapper(io.FileIO(real, "w", closefd=False), encoding=python_stderr.encoding,
                                      errors="backslashreplace", line_buffering=True)
    os.dup2(sink, 2)
    _sink = sink
    try:
        yield
    finally:
        with _lock:
            _sink = None
        if python_stderr is not None:
            sys.stderr.flush()
            sys.stderr = python_stderr
        os.dup2(real, 2)
        os.close(real)
        os.close(sink)


@contextlib.contextmanager
def native_messages() -> Iterator[list[str]]:
    """Yield a list that, after the block, holds the lines native code wrote to stderr during it
    (empty when the guard is off). Another thread's library may add a line of its own meanwhile."""
    global _readers
    said: list[str] = []
    with _lock:
        sink = _sink
        if sink is not None:
            start = os.fstat(sink).st_size
            if start > SINK_LIMIT and _readers == 0:
                os.ftruncate(sink, 0)   # appends continue at the (new) end
                start = 0
            _readers += 1
    try:
        yield said
    finally:
        if sink is not None:
            with _lock:
                _readers -= 1
                try:
                    end = os.fstat(sink).st_size
                    raw = os.pread(sink, min(end - start, 1 << 16), start) if end > start else b""
                except OSError:
                    raw = b""
            said += [ln.strip() for ln in raw.decode("utf-8", "replace").splitlines() if ln.strip()]


_NOISE = re.compile(r"^(\[[^\]]*\]\s*)+|^(libpng (error|warning)|note|warning|error)\s*:\s*", re.IGNORECASE)


def meaning(lines: list[str], limit: int = 120) -> str:
    """What native lines said, as a clause for our sentence: prefixes like 'libpng error:' or
    '[src/libmpg123/parse.c:…]' dropped, at most two lines, shortened."""
    parts = []
    for ln in lines:
        text = _NOISE.sub("", ln).strip().rstrip(".")
        if text and text not in parts:
            parts.append(text)
        if len(parts) == 2:
            break
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"
