"""SIGTERM is handled like SIGINT (SPEC §11, §12): the work stops, the previous output is untouched,
one sentence, exit 143 (SIGINT: 130).

`stop_signals()` (the CLI runs in it) turns SIGTERM into a `Terminated` exception, as Python turns
SIGINT into KeyboardInterrupt, so the same cleanup runs for both (staging removed, workers shut
down, the lock released). A few steps must not be cut in half, such as the renames that swap a new
sequence in: inside `signals_deferred()` a signal waits until the block ends, then acts.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


class Terminated(BaseException):
    """SIGTERM arrived (exit 143). Not an Exception: nothing may swallow it as an ordinary error."""


_pending: type[BaseException] | None = None
_depth = 0          # nesting of signals_deferred() blocks
_stopping = False   # one stop at a time: a second signal while cleaning up waits its turn


def _on_signal(signum, _frame) -> None:
    global _pending, _stopping
    exc = KeyboardInterrupt if signum == signal.SIGINT else Terminated
    if _depth or _stopping:
        _pending = _pending or exc
        return
    _stopping = True
    raise exc()


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Raise KeyboardInterrupt on SIGINT and Terminated on SIGTERM while the block runs (main thread)."""
    global _pending, _stopping
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    _pending, _stopping = None, False
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        _pending, _stopping = None, False


@contextlib.contextmanager
def signals_deferred(done: str = "") -> Iterator[None]:
    """A signal that arrives inside the block is acted on when the block ends; `done` says what the
    block completed meanwhile (the stop message tells the user)."""
    global _depth, _pending, _stopping
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None and not _stopping:
            exc, _pending, _stopping = _pending, None, True
            raise exc(done)
