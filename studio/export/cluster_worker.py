"""What runs on a render farm's workers (SPEC §14): the checks a coordinator asks for, and the
frame tasks of a cluster export (cluster.py is the coordinator's side).

Start workers with `--preload studio.export.cluster_worker` so the imports and the version
identity are ready before the first check. A task checks between frames that the scheduler still
wants it (`TaskCancel`): when its coordinator cancels or dies, it stops at the next frame.
"""
from __future__ import annotations

import os
import socket
import time

from contracts.errors import ClusterError, ContractError, OutputError, os_reason, printable, shorten
from studio.export.identity import identity
from studio.export.workers import RenderSpec, render_into

WORKER_SPRITE_CACHE = 96 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3      # glibc's mallopt parameters
_MALLOC = {"tuned": False}


def keep_freed_frames() -> None:
    """Undo the memory trimming a Dask nanny asks of its workers (MALLOC_TRIM_THRESHOLD_=65536).
    Setting it turns off glibc's adaptive mmap threshold, so every frame-sized buffer is mapped and
    unmapped and its pages faulted in again: measured 1.5x slower exports (6.2 s -> 9.5 s CPU for
    ten 7 s sessions). Heap-served buffers up to 32 MiB and 64 MiB of freed heap kept restore the
    default's speed; idempotent, and a no-op without the variable or without glibc."""
    if _MALLOC["tuned"] or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    _MALLOC["tuned"] = True
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 64 << 20)
    except (OSError, AttributeError):   # not glibc: its allocator was never told to trim this way
        pass


def dask_setup(worker) -> None:
    """`dask worker ADDR --preload studio.export.cluster_worker` runs this as the worker starts: the imports
    and the identity a first task or check would pay for are done before the worker takes work."""
    import fsspec  # noqa: F401 - the store's I/O layer, for runs that write to an object store
    keep_freed_frames()

    from render.atlas import load_atlas  # noqa: F401
    identity()


async def probe(files: dict[str, int], folders: list[str], urls: list[str]) -> dict:
    """This worker's identity and the paths it cannot use, computed off its event loop (imports, a
    slow shared filesystem or store must not stall the worker's heartbeats)."""
    import asyncio
    return await asyncio.to_thread(lambda: {"identity": identity(), "unseen": probe_paths(files, folders, urls)})


def probe_paths(files: dict[str, int], folders: list[str], urls: list[str]) -> list[tuple[str, str]]:
    """(path, why) for every path this worker cannot use as the coordinator does."""
    bad = []
    for path, size in files.items():
        try:
            st = os.stat(path)
            if st.st_size != size:
                bad.append((path, f"it has {st.st_size} bytes here, {size} on the coordinator (another file)"))
        except OSError as exc:
            bad.append((path, os_reason(exc)))
    for path in folders:
        if not os.path.isdir(path):
            bad.append((path, "no such folder"))
    for url in urls:
        try:
            from studio.export.store import filesystem
            fs, root = filesystem(url)
            fs.exists(root)
        except Exception as exc:
            from studio.export.store import scrub
            bad.append((url, scrub(reason_of(exc))))
    return bad


def plan_identity(project) -> dict:
    """What a session's frames are drawn from, as this machine sees it: every file the plan draws
    (with its size) and a digest of which sprite each frame draws. A worker that opens the same
    session and finds another identity would render other frames (a sprite it cannot see becomes a
    fallback frame), so a remote batch compares the two before exporting."""
    import hashlib
    files = {}
    paths = [project.atlas.path, *(project.atlas.assets_dir / rel for rel, _ in project.sprites_used())]
    for p in paths:
        try:
            files[os.path.abspath(p)] = os.stat(p).st_size
        except OSError:
            files[os.path.abspath(p)] = -1
    plan = project.plan
    names = "\n".join(plan.resolved[k].sprite for k in plan.sprite.tolist())
    return {"files": files, "sprites": hashlib.blake2b(names.encode(), digest_size=12).hexdigest()}


def check_same_plan(expected: dict, project, where: str) -> None:
    """ClusterError naming `where` and the first file this worker sees differently from the coordinator."""
    here = plan_identity(project)
    for path, size in expected["files"].items():
        if here["files"].get(path, _size(path)) != size:
            mine = here["files"].get(path, _size(path))
            seen = "cannot see" if mine < 0 else f"sees another file at ({mine} bytes here, {size} there)"
            raise ClusterError(where, f"{seen} {printable(path)}; every path must mean the same file on every worker")
    extra = sorted(set(here["files"]) - set(expected["files"]))
    if here["sprites"] != expected["sprites"]:
        detail = f" (it draws {printable(extra[0])})" if extra else ""
        raise ClusterError(where, f"draws other sprites for this session than the coordinator{detail}; every path "
                                  f"must mean the same file on every worker")


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1


def worker_name() -> str:
    """'worker tcp://… (host …)' inside a task, else this host."""
    try:
        from distributed import get_worker
        return f"worker {get_worker().address} (host {socket.gethostname()})"
    except (ImportError, ValueError):
        return f"host {socket.gethostname()}"


_WORKER: dict = {"run": None, "atlases": {}}


def _worker_atlas(spec: RenderSpec, run: str):
    """The atlas of this run, loaded once per worker process. A new run starts with an empty sprite
    cache: a long-lived worker must never draw a sprite file as it was in an earlier run."""
    from render.atlas import load_atlas
    from render.sprites import SPRITES
    if _WORKER["run"] != run:
        import cv2
        keep_freed_frames()
        cv2.setNumThreads(1)   # one worker thread per core: OpenCV's own threads would oversubscribe
        SPRITES.clear()
        SPRITES.budget = WORKER_SPRITE_CACHE
        _WORKER.update(run=run, atlases={})
    key = (spec.atlas_path, spec.assets_dir)
    if key not in _WORKER["atlases"]:
        _WORKER["atlases"][key] = load_atlas(spec.atlas_path, spec.assets_dir)
    return _WORKER["atlases"][key]


class TaskCancel:
    """A cancel flag for code running in a Dask task: set once the scheduler no longer wants the task
    (the client cancelled it, or the client — the coordinator — is gone)."""

    def __init__(self):
        try:
            from distributed import get_worker
            from distributed.worker import thread_state
            self._worker, self._key = get_worker(), thread_state.key
        except (ImportError, ValueError, AttributeError):  # not in a task: never cancelled
            self._worker = None
        self._last, self._answer = 0.0, False

    def is_set(self) -> bool:
        if self._worker is None or self._answer:
            return self._answer
        now = time.monotonic()
        if now - self._last >= 0.05:
            self._last = now
            ts = self._worker.state.tasks.get(self._key)
            self._answer = ts is None or ts.state in ("cancelled", "released", "forgotten")
        return self._answer


def render_chunk(spec: RenderSpec, folder: str, run: str) -> dict:
    """One task: render `spec`'s frames (a subset) into `folder` (staging, or a store URL) and say which."""
    from distributed import get_worker
    from studio.export.store import is_url
    addr = get_worker().address
    t0 = time.perf_counter()
    cancel = TaskCancel()
    try:
        atlas = _worker_atlas(spec, run)
        if is_url(folder):
            done = _render_upload(spec, atlas, folder, cancel)
        else:
            done = render_into(spec, atlas, range(len(spec.pose)), folder, cancel)
    except ContractError as err:  # the coordinator read it fine: this worker sees another file, or none
        raise ClusterError(worker_name(), f"cannot use {err}") from None
    except OSError as exc:
        raise OutputError(folder, f"{os_reason(exc)} (on {worker_name()})") from None
    return {"frames": [int(i) for i in spec.frame_ids[:done]], "worker": addr, "seconds": time.perf_counter() - t0}


def _render_upload(spec: RenderSpec, atlas, url: str, cancel) -> int:
    import tempfile

    from studio.export.store import filesystem, upload_frames
    fs, dest = filesystem(url)
    with tempfile.TemporaryDirectory(prefix="lipsync-task-") as tmp:
        done = render_into(spec, atlas, range(len(spec.pose)), tmp, cancel)
        upload_frames(fs, tmp, [int(i) for i in spec.frame_ids[:done]], dest)
    return done




def reason_of(exc: BaseException) -> str:
    """An exception as a short printable phrase for a sentence."""
    return shorten(printable(str(exc).strip() or exc.__class__.__name__), 160)
