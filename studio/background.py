"""Long computations in a process of their own (scoring, aligning), driven from a waiting thread.

The studio's interface thread must never wait (SPEC §15). A thread alone is not enough: pure-Python
work in a thread holds the GIL the interface thread needs. In a separate process the work cannot
slow the interface at all, and Cancel is immediate — the process is ended, and nothing it did is
kept. Arguments and results cross by pickling, so callers pass arrays and paths, not a project.

    result = run_in_process(score, source, mouth, ..., progress=cb, cancel=event)

blocks the calling (worker) thread until the result is back; `progress(done, total)` is called on
that thread; `cancel` (a threading.Event) ends the process within POLL_S.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time

POLL_S = 0.05            # how often the waiting thread looks at cancel and at the pipe
PROGRESS_EVERY_S = 0.1   # the child reports progress at most this often


class Cancelled(Exception):
    """The work was cancelled; its process is gone."""


class WorkerFailed(Exception):
    """The work raised in its process (the message is its one sentence) or the process died."""


def _context():
    # forkserver: never a fork of a process with Qt's threads; the server is started once, on first use
    return multiprocessing.get_context("forkserver")


def _watch_parent(pid: int) -> None:
    while True:
        time.sleep(0.5)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            return


def _child(conn, fn, args, kwargs, parent_pid: int, with_progress: bool) -> None:
    conn.send(("started",))          # the arguments are read: ending this process is now clean
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    last = [0.0]

    def progress(done, total):
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S or done >= total:
            last[0] = now
            conn.send(("progress", int(done), int(total)))
    if with_progress:
        kwargs = dict(kwargs, progress=progress)
    try:
        if isinstance(fn, str):                      # "package.module:function": imported here, not by the caller
            import importlib
            module, name = fn.split(":")
            fn = getattr(importlib.import_module(module), name)
        result = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - becomes the caller's one sentence
        conn.send(("error", str(exc) or exc.__class__.__name__))
        return
    conn.send(("ok", result))


def run_in_process(fn, *args, progress=None, cancel: threading.Event | None = None, **kwargs):
    """fn(*args, **kwargs) in a new process (with `progress=` when a progress callback is given). `fn` may
    be named as "package.module:function", so the caller need not import a module only the work uses."""
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, fn, args, kwargs, os.getpid(), progress is not None),
                       daemon=True, name=f"studio-{str(fn).split(':')[-1] if isinstance(fn, str) else fn.__name__}")
    proc.start()
    sender.close()
    started = False
    try:
        while True:
            if cancel is not None and cancel.is_set():
                if not started and receiver.poll(2.0):    # never end it while it still reads its arguments
                    receiver.recv()
                raise Cancelled("cancelled")
            if not receiver.poll(POLL_S):
                if not proc.is_alive() and not receiver.poll(0):
                    raise WorkerFailed(f"the {proc.name} process ended unexpectedly (exit code {proc.exitcode})")
                continue
            try:
                kind, *rest = receiver.recv()
            except EOFError:
                raise WorkerFailed(f"the {proc.name} process ended unexpectedly (exit code {proc.exitcode})") from None
            if kind == "started":
                started = True
            elif kind == "progress":
                progress(*rest)
            elif kind == "ok":
                return rest[0]
            else:
                raise WorkerFailed(rest[0])
    finally:
        receiver.close()
        if proc.is_alive():
            proc.terminate()
            proc.join(1.0)
            if proc.is_alive():
                proc.kill()
        proc.join(1.0)
