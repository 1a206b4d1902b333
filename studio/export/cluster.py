"""Export on a Dask cluster (SPEC §14): frames rendered as tasks, everything else as a local export.

The process that runs the command — the coordinator — keeps what §8 and §12 promise: the lock,
recovery, reuse of unchanged frames, duplicate links and the commit (fg.py, store.py); a
`ClusterRenderer` only replaces the frame rendering: tasks of 100–500 frames (grouped by sprite,
so a worker decodes each sprite once), each writing its PNGs into the run's staging folder (or
uploading them to the store's run) and reporting which frames it wrote. Before anything is
written the coordinator checks, within 10 s: the scheduler answers, it has workers, every worker
runs the same project code and pixel-affecting libraries (identity.py), and every worker sees
every path the run reads or writes — else ClusterError (exit 5) naming the worker and the path.

Faults: a worker that dies mid-task has its task run again elsewhere by the scheduler (the same
frames, the same bytes: a file it left half-written is rewritten); a task lost beyond the
scheduler's allowed failures is exit 5. When the coordinator dies its connection closes, the
scheduler releases its tasks, and a running task sees that it was cancelled and stops at the next
frame (`cluster_worker.TaskCancel`): nothing keeps writing into a staging folder nobody will commit.
"""
from __future__ import annotations

import logging
import math
import os
import socket
import sys
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Callable

from contracts.errors import ClusterError, ContractError, OutputError, printable
from studio.export.cluster_worker import plan_identity, probe, reason_of, render_chunk
from studio.export.identity import differences
from studio.export.workers import ExportCancelled, RenderSpec

CONNECT_TIMEOUT_S = 4.0      # unreachable scheduler
WORKERS_TIMEOUT_S = 3.0      # a scheduler with no workers yet
PROBE_TIMEOUT_S = 5.0        # every worker's versions and paths: each failure within the 10 s of §14
POLL_S = 0.05                # how often a wait on the cluster checks Cancel
MIN_TASK_FRAMES, MAX_TASK_FRAMES = 100, 500
TASKS_PER_THREAD = 4         # enough tasks to balance the workers and to retry little after a loss


def scheduler_address(given: str | None = None) -> str | None:
    """--scheduler, else DASK_SCHEDULER_ADDRESS, else None (export on this machine)."""
    return (given or os.environ.get("DASK_SCHEDULER_ADDRESS") or "").strip() or None


def quiet_dask() -> None:
    """Only the project speaks on stderr (§12): Dask's logs and version warnings become our sentences,
    and a client that failed to connect does not print its own clean-up from __del__."""
    for name in ("distributed", "dask", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module=r"distributed(\..*)?")
    warnings.filterwarnings("ignore", message=".*(Mismatched versions|large graph).*")
    if getattr(sys.unraisablehook, "__name__", "") != "_quiet_unraisable":
        previous = sys.unraisablehook

        def _quiet_unraisable(info):
            if "distributed" not in repr(getattr(info, "object", "")):
                previous(info)
        sys.unraisablehook = _quiet_unraisable


@dataclass
class WorkerInfo:
    address: str
    host: str
    threads: int
    frames: int = 0          # frames this worker reported written in this run
    tasks: int = 0           # tasks it finished
    running: int = 0         # tasks running on it now (from the scheduler's view, refreshed while rendering)


@dataclass
class Cluster:
    """A connection to a scheduler whose workers passed the version check."""
    address: str
    client: object
    workers: dict[str, WorkerInfo] = field(default_factory=dict)

    @classmethod
    def connect(cls, address: str) -> "Cluster":
        quiet_dask()
        where = f"scheduler {address}"
        _refused_fast(address, where)

        def connect():   # refused, timed out, not a Dask scheduler at all (garbage replies): box["error"]
            import dask
            from distributed import Client
            with dask.config.set({"distributed.comm.timeouts.connect": f"{CONNECT_TIMEOUT_S}s"}):
                return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        box = _on_thread(connect, "cluster-connect", CONNECT_TIMEOUT_S + 1.0)
        if "result" not in box:
            why = reason_of(box["error"]) if "error" in box else "no answer"
            raise ClusterError(where, f"cannot be reached within {CONNECT_TIMEOUT_S:g} s ({why}); "
                                      f"start one with `dask scheduler` or check the address")
        cluster = cls(address, box["result"])
        try:
            try:
                cluster.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
            except (TimeoutError, OSError):
                raise ClusterError(where, f"has no workers (waited {WORKERS_TIMEOUT_S:g} s); start them with "
                                          f"`dask worker {address}`") from None
            cluster.refresh_workers()
        except BaseException:
            cluster.close()
            raise
        return cluster

    def refresh_workers(self) -> None:
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        for addr, w in info.items():
            self.workers.setdefault(addr, WorkerInfo(addr, w.get("host", "?"), int(w.get("nthreads", 1))))

    @property
    def threads(self) -> int:
        return max(1, sum(w.threads for w in self.workers.values()))

    def run_on_workers(self, fn, *args, cancel: threading.Event | None = None) -> dict:
        """fn(*args) on every worker, within PROBE_TIMEOUT_S: {address: result}. A set `cancel` ends the
        wait at once (ExportCancelled): workers that do not answer must not hold a Cancel up."""
        box = _on_thread(lambda: self.client.run(fn, *args, on_error="return"), "cluster-probe", PROBE_TIMEOUT_S, cancel)
        if not box:
            raise ClusterError(f"scheduler {self.address}", f"its workers did not answer within {PROBE_TIMEOUT_S:g} s")
        if "error" in box:   # the scheduler went away between the checks
            raise ClusterError(f"scheduler {self.address}", f"lost while checking the workers ({reason_of(box['error'])})")
        return box["result"]

    def check(self, files: dict[str, int] | None = None, folders=(), urls=(), cancel=None) -> None:
        """One round trip to every worker: it runs this project's code and pixel-affecting libraries, and
        it sees every file (with the size this machine sees), folder and store URL; else ClusterError
        naming the worker and what differs or the first path it cannot see."""
        for addr, result in self.run_on_workers(probe, files or {}, list(folders), list(urls), cancel=cancel).items():
            where = self._name(addr)
            if isinstance(result, BaseException):
                raise ClusterError(where, f"cannot run the project's code ({reason_of(result)}); start workers from the "
                                          f"project folder with its .venv (see README, render farm)")
            diff = differences(result["identity"])
            if diff:
                raise ClusterError(where, "runs another version: " + "; ".join(diff))
            if result["unseen"]:
                unseen = result["unseen"]
                path, why = unseen[0]
                more = f" (and {len(unseen) - 1} more)" if len(unseen) > 1 else ""
                raise ClusterError(where, f"cannot see {printable(path)}: {why}{more}; every path must "
                                          f"mean the same file on every worker")

    def _name(self, addr: str) -> str:
        w = self.workers.get(addr)
        return f"worker {addr}" + (f" (host {w.host})" if w and w.host not in addr else "")

    def close(self) -> None:
        try:
            self.client.close(timeout=2)
        except Exception:  # already gone: nothing to release
            pass

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _on_thread(fn, name: str, timeout: float | None = None, cancel: threading.Event | None = None) -> dict:
    """fn() on a daemon thread, so a peer that never answers cannot hold the caller: waited for up to
    `timeout` s (None: until it ends) while a set `cancel` is answered at once (ExportCancelled).
    {"result": value} or {"error": exception}; empty when the time ran out."""
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
    t = threading.Thread(target=run, daemon=True, name=name)
    t.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    while t.is_alive() and (deadline is None or time.monotonic() < deadline):
        t.join(POLL_S)
        if cancel is not None and cancel.is_set():
            raise ExportCancelled("export cancelled")
    return box


def _refused_fast(address: str, where: str) -> None:
    """A tcp:// address where nothing listens is refused at once: say so without waiting for the timeout."""
    proto, _, rest = address.partition("://")
    host, _, port = (rest if proto == "tcp" else "").rpartition(":")
    if not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except ConnectionRefusedError:
        raise ClusterError(where, "refused the connection: no scheduler listens there "
                                  "(start one with `dask scheduler`, or check the address)") from None
    except OSError:
        pass   # unresolvable or unreachable: the client's own attempt says why, within the timeout


# ---------------------------------------------------------- on the coordinator
def input_files(project) -> dict[str, int]:
    """path -> size of every file the frames are rendered from: the atlas, each sprite drawn, the WAV
    (a missing WAV is a warning, a missing sprite a fallback frame: nothing to compare)."""
    files = {p: size for p, size in plan_identity(project)["files"].items() if size >= 0}
    wav = project.session.audio_path
    if wav is not None and os.path.isfile(wav):
        files[os.path.abspath(wav)] = os.path.getsize(wav)
    return files


def existing_ancestor(path) -> str:
    """The folder itself, or its nearest existing parent: what a worker must see before the export creates it."""
    p = os.path.abspath(path)
    while not os.path.exists(p) and p != os.path.dirname(p):
        p = os.path.dirname(p)
    return p


def cluster_for_export(project, out, address: str) -> Cluster:
    """Connect to `address` and check that every worker can render `project` into `out` (exit 5 within 10 s,
    before anything is written); the renderer checks the staging folder itself once it exists."""
    from studio.export.store import is_url
    cluster = Cluster.connect(address)
    try:
        if is_url(out):
            cluster.check(input_files(project), urls=[str(out)])
        else:
            cluster.check(input_files(project), folders=[existing_ancestor(out)])
    except BaseException:
        cluster.close()
        raise
    return cluster


def task_size(frames: int, threads: int) -> int:
    return int(min(MAX_TASK_FRAMES, max(MIN_TASK_FRAMES, math.ceil(frames / (threads * TASKS_PER_THREAD)))))


class ClusterRenderer:
    """A FrameRenderer (fg.ExportOptions.renderer) that renders on the cluster. `on_workers(workers)`
    is called with the per-worker counts as tasks finish (the studio shows them)."""

    def __init__(self, cluster: Cluster, on_workers: Callable[[dict[str, WorkerInfo]], None] | None = None):
        self.cluster = cluster
        self.on_workers = on_workers

    def __call__(self, atlas, spec: RenderSpec, frames: list[int], folder, workers=None,
                 progress: Callable[[int], None] | None = None, cancel: threading.Event | None = None) -> int:
        import dataclasses

        from studio.export.store import is_url
        folder = str(folder) if is_url(folder) else os.path.abspath(folder)   # workers have other working folders
        spec = dataclasses.replace(spec, atlas_path=os.path.abspath(spec.atlas_path),
                                   assets_dir=os.path.abspath(spec.assets_dir))
        if not frames:
            return 0
        if not is_url(folder):   # the staging folder exists now: every worker must see this very folder
            self.cluster.check(folders=[folder], cancel=cancel)
        client, run = self.cluster.client, uuid.uuid4().hex[:12]
        frames = sorted(frames, key=lambda i: (spec.sprite_of[i], i))
        size = task_size(len(frames), self.cluster.threads)
        futures = [client.submit(render_chunk, spec.subset(frames[a:a + size]), folder, run,
                                 key=f"lipsync-fg-{run}-{a // size:05d}", pure=False)
                   for a in range(0, len(frames), size)]
        try:
            return self._collect(futures, progress, cancel)
        finally:
            client.cancel(futures)   # done ones are released; the rest stop at their next frame

    def _collect(self, futures, progress, cancel) -> int:
        pending, done = set(futures), 0
        last_refresh = 0.0
        while pending:
            if cancel is not None and cancel.is_set():
                raise ExportCancelled("export cancelled")
            finished = [f for f in pending if f.done()]
            if not finished:
                if self.on_workers and time.monotonic() - last_refresh > 1.0:
                    last_refresh = time.monotonic()
                    self._report_workers()
                time.sleep(0.05)
                continue
            for fut in finished:
                pending.discard(fut)
                result = self._result(fut, cancel)
                done += len(result["frames"])
                w = self.cluster.workers.setdefault(result["worker"], WorkerInfo(result["worker"], "?", 1))
                w.frames += len(result["frames"])
                w.tasks += 1
            if progress:
                progress(done)
            if self.on_workers:
                self.on_workers(self.cluster.workers)
        for w in self.cluster.workers.values():
            w.running = 0
        if self.on_workers:
            self.on_workers(self.cluster.workers)
        return done

    def _result(self, fut, cancel: threading.Event | None = None) -> dict:
        """A finished task's result. Its data comes from the worker that holds it, which may be frozen
        or unreachable (done() only says the task ended): fetched on a helper thread while this one
        answers Cancel."""
        box = _on_thread(fut.result, "fetch-result", None, cancel)
        try:
            if "error" in box:
                raise box["error"]
            return box["result"]
        except (ClusterError, OutputError, ContractError, ExportCancelled):
            raise
        except Exception as exc:
            name = exc.__class__.__name__
            if name == "KilledWorker":
                raise ClusterError(f"scheduler {self.cluster.address}",
                                   f"a task was lost beyond its retries (its workers died: {reason_of(exc)})") from None
            raise ClusterError(f"scheduler {self.cluster.address}", f"a task failed ({name}: {reason_of(exc)})") from None

    def _report_workers(self) -> None:
        try:
            processing = self.cluster.client.processing()
        except Exception:
            return
        for addr, keys in processing.items():
            w = self.cluster.workers.get(addr)
            if w is not None:
                w.running = len(keys)
        self.on_workers(self.cluster.workers)
