"""Many sessions at once (SPEC §14): one Dask task per session, each a whole export into
`DEST/<session_id>/` with its own lock and commit (a folder, or a run + CURRENT in a store).

Locally (`--local N`) the tasks run on a Dask LocalCluster of N one-thread worker processes on
127.0.0.1; with a scheduler they run on its workers, after the same checks as a cluster export
(versions, every session file and DEST visible on every worker). A worker process lives across
sessions, so sprites shared by the sessions of a batch are decoded once per worker, not once per
session. Each export is incremental: running the batch again re-renders only what changed.
Exit status: the worst of the sessions' (5 > 4 > 1 > 2 > 3 > 0; 1 is an internal error).
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from contracts.errors import ClusterError, ContractError, OutputError, printable, shorten
from studio.export.cluster import existing_ancestor
from studio.export.store import is_url

SEVERITY = (5, 4, 1, 2, 3, 0)     # worst first; 130: interrupted, worse than all
BATCH_SPRITE_CACHE = 256 << 20
REPORT_NAME = "batch_report.json"


@dataclass
class Item:
    input: str                      # the session file as given
    session_id: str | None = None
    out: str | None = None          # DEST/<session_id>
    error: str | None = None        # invalid before any task ran (exit 2)


def worst(codes) -> int:
    codes = set(codes)
    if 130 in codes:
        return 130
    return next((c for c in SEVERITY if c in codes), 0)


def join(root: str, name: str) -> str:
    """root/name: a store URL, or an absolute path (a worker's working folder is not this process's)."""
    return f"{root.rstrip('/')}/{name}" if is_url(root) else os.path.abspath(os.path.join(root, name))


def folder_name_problem(session_id) -> str | None:
    if not isinstance(session_id, str) or not session_id.strip():
        return "is missing or empty"
    if session_id in (".", "..") or any(c in session_id for c in "/\\\0") or printable(session_id) != session_id:
        return "cannot name one folder (no '/', '\\', control characters, '.' or '..')"
    if len(session_id.encode("utf-8", "surrogatepass")) > 200:
        return "is longer than 200 bytes, too long for a folder name"
    return None


def plan_items(inputs: list[str], out_root: str) -> list[Item]:
    """Read each session's session_id (nothing else: the task reads the rest) and give it its folder.
    Unreadable sessions, ids that cannot name a folder and ids used twice are invalid items."""
    from contracts.jsonfile import read_json
    items, owner = [], {}
    for given in inputs:
        item = Item(str(given))
        try:
            doc = read_json(Path(given), "session")
            sid = doc.get("session_id") if isinstance(doc, dict) else None
            problem = folder_name_problem(sid)
            if problem:
                raise ContractError(given, "session_id", f"{shorten(printable(repr(sid)), 60)} {problem}; "
                                                         f"batch writes each session into DEST/<session_id>/")
            if sid in owner:
                raise ContractError(given, "session_id", f"{sid!r} is also the session_id of {owner[sid]}: both "
                                                         f"would write {join(out_root, sid)}")
            owner[sid] = given
            item.session_id, item.out = sid, join(out_root, sid)
        except ContractError as err:
            item.error = str(err)
        items.append(item)
    return items


def read_list(path: Path) -> list[str]:
    """--list FILE: one session path per line (blank lines and # comments skipped), relative to the file."""
    from contracts.jsonfile import read_bytes
    raw = read_bytes(path, "session list", 64 << 20)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContractError(path, "", "the session list is not UTF-8 text") from None
    base = path.parent
    return [str(p if Path(p).is_absolute() else base / p)
            for p in (line.strip() for line in text.splitlines()) if p and not p.startswith("#")]


# ------------------------------------------------------------------ the task
_RUN: dict = {"id": None}


def export_session(session: str, out: str, allow_fallback: bool, run: str, expected: dict | None = None) -> dict:
    """One session's whole export, on a worker: the batch report's row. `expected` is the coordinator's
    plan_identity of the session (remote clusters): a worker that sees its files differently fails
    that session with exit 5 before writing anything."""
    from render.sprites import SPRITES
    from studio.export.cluster_worker import TaskCancel, check_same_plan, keep_freed_frames, worker_name
    from studio.export.fg import ExportCancelled, ExportOptions, export_fg
    from studio.plan import open_project
    from studio.qa.sync import sync_for_report
    if _RUN["id"] != run:   # a new batch: sprite files may have changed since this worker's last one
        import cv2
        keep_freed_frames()
        cv2.setNumThreads(1)
        SPRITES.clear()
        SPRITES.budget = BATCH_SPRITE_CACHE
        _RUN["id"] = run
    t0 = time.perf_counter()
    row = {"input": session, "out": out, "exit": 1, "frames": None, "rendered": None, "reused": None,
           "passed": False, "sync": None, "seconds": None, "error": None, "host": socket.gethostname()}
    try:
        project = open_project(session)
        project.check_sprites(cached=True)     # exit 2 before writing; the frames find the sprites decoded
        if expected is not None:
            check_same_plan(expected, project, worker_name())
        sync, note = sync_for_report(project)
        opts = ExportOptions(out_dir=out if is_url(out) else Path(out), allow_fallback=allow_fallback, workers=1)
        result = export_fg(project, opts, cancel=TaskCancel(), sync=sync, sync_note=note)
        r = result.report
        row.update(exit=result.exit_code, frames=r["target_frames"], rendered=r["rendered_frames"] - r["reused_frames"],
                   reused=r["reused_frames"], passed=r["passed"], sync=(r["sync"] or {}).get("verdict"),
                   fallback_frames=r["fallback_frames"])
    except ContractError as err:
        row.update(exit=2, error=str(err))
    except OutputError as err:
        row.update(exit=4, error=str(err))
    except ClusterError as err:
        row.update(exit=5, error=str(err))
    except ExportCancelled:
        row.update(exit=130, error="cancelled")
    except Exception as exc:  # a bug: one sentence in the row, the batch goes on
        row.update(exit=1, error=shorten(printable(f"internal error: {exc.__class__.__name__}: {exc}"), 400))
    row["seconds"] = round(time.perf_counter() - t0, 3)
    return row


# ----------------------------------------------------------- the coordinator
def local_cluster(workers: int):
    """N one-thread worker processes on 127.0.0.1 for this batch only; they end with it (and with this
    process: distributed's worker processes exit when their parent's pipe closes)."""
    import dask
    from distributed import LocalCluster
    from studio.export.cluster import quiet_dask
    quiet_dask()
    # the nanny's memory trimming costs every frame a page-faulted buffer (cluster_worker.keep_freed_frames)
    dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        scheduler_port=0, dashboard_address=None, silence_logs=logging.CRITICAL)


def check_cluster_sees(cluster, items: list[Item], out_root: str) -> None:
    """Every worker sees every session file and where DEST is (or reaches the store)."""
    files = {}
    for it in items:
        if it.error is None:
            try:
                files[os.path.abspath(it.input)] = os.stat(it.input).st_size
            except OSError:
                pass   # the task reports it as invalid input
    if is_url(out_root):
        cluster.check(files, urls=[out_root])
    else:
        cluster.check(files, folders=[existing_ancestor(out_root)])


def run_batch(items: list[Item], client, allow_fallback: bool, on_row: Callable[[dict], None],
              cancel=None, remote: bool = False) -> list[dict]:
    """Submit one task per valid item; call on_row(row) as each finishes; rows in input order.
    `remote`: the workers are other machines, so this process opens each session first (between
    polls, while earlier sessions render): invalid input is found here, and each task carries what
    this machine sees so a worker that sees other files fails that session with exit 5."""
    run = uuid.uuid4().hex[:12]
    rows: list[dict | None] = [None] * len(items)
    futures, pending = {}, set()
    queue = list(enumerate(items))
    try:
        while queue or pending:
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt
            if queue:
                k, it = queue.pop(0)
                fut = _submit(client, it, k, run, allow_fallback, remote)
                if isinstance(fut, dict):
                    rows[k] = fut
                    on_row(fut)
                else:
                    futures[fut] = k
                    pending.add(fut)
            finished = [f for f in pending if f.done()]
            if not finished:
                if not queue:
                    time.sleep(0.05)
                continue
            for fut in finished:
                pending.discard(fut)
                k = futures[fut]
                rows[k] = _row(fut, items[k], client)
                on_row(rows[k])
    finally:
        client.cancel(list(pending))
    return rows


def _submit(client, it: Item, k: int, run: str, allow_fallback: bool, remote: bool):
    """The session's task, or its row when it is invalid here."""
    if it.error is not None:
        return failed_row(it, 2, it.error)
    expected = None
    if remote:
        from studio.export.cluster_worker import plan_identity
        from studio.plan import open_project
        try:
            expected = plan_identity(open_project(it.input))
        except ContractError as err:
            return failed_row(it, 2, str(err))
    return client.submit(export_session, os.path.abspath(it.input), it.out, allow_fallback, run, expected,
                         key=f"lipsync-batch-{run}-{k:05d}", pure=False)


def failed_row(item: Item, code: int, error: str) -> dict:
    return {"input": item.input, "session_id": item.session_id, "out": item.out, "exit": code, "frames": None,
            "rendered": None, "reused": None, "passed": False, "sync": None, "seconds": None,
            "error": shorten(printable(error), 400)}


def _row(fut, item: Item, client) -> dict:
    try:
        row = fut.result()
    except Exception as exc:   # the task itself never fails: this is the cluster losing it
        reason = (f"its task was lost beyond its retries (workers died: {exc})" if exc.__class__.__name__ == "KilledWorker"
                  else f"its task failed ({exc.__class__.__name__}: {exc})")
        return failed_row(item, 5, f"{item.input}: {reason}")
    row["input"] = item.input
    row["session_id"] = item.session_id
    return row


def batch_report(rows: list[dict], out_root: str, where: str, seconds: float) -> dict:
    code = worst(r["exit"] for r in rows)
    frames = sum(r.get("frames") or 0 for r in rows)
    return {"schema_version": "batch_report_v0.1", "out_root": out_root, "ran_on": where, "exit": code,
            "sessions": len(rows), "passed": sum(1 for r in rows if r["passed"]),
            "by_exit": {str(c): sum(1 for r in rows if r["exit"] == c) for c in sorted({r["exit"] for r in rows})},
            "frames": frames, "rendered": sum(r.get("rendered") or 0 for r in rows),
            "reused": sum(r.get("reused") or 0 for r in rows), "seconds": round(seconds, 3),
            "rows": rows}


def write_report(report: dict, out_root: str) -> str:
    """DEST/batch_report.json, atomically (a folder) or as one object (a store)."""
    from contracts.jsonfile import dumps
    body = dumps(report, indent=2, ensure_ascii=False) + "\n"
    target = join(out_root, REPORT_NAME)
    if is_url(out_root):
        from studio.export.store import filesystem, store_errors
        with store_errors(target):
            fs, path = filesystem(target)
            fs.pipe_file(path, body.encode("utf-8"))
        return target
    from contracts.atomic import write_atomic
    from studio.export.lock import ensure_folder
    ensure_folder(Path(out_root))
    try:
        write_atomic(target, body)
    except OSError as exc:
        from contracts.errors import os_reason
        raise OutputError(target, os_reason(exc)) from None
    return target
