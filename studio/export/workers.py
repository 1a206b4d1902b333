"""Rendering and encoding frames, in this process or in worker processes.

The fast PNG encoder holds the GIL, so threads would not use the second core: long exports use
worker processes started by `forkserver` (never a fork of the GUI's threads). A worker watches
the process that started it and exits when it is gone, so a killed export leaves no orphans
(SPEC §12).
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from contracts.session import RenderSettings
from studio.export.png import ENCODER, encode_rgba_png
from studio.plan import render_row

FRAME_NAME = "{:08d}.png"
CHUNK = 48                           # frames per worker task
MIN_FRAMES_FOR_PROCESSES = 240       # below this, worker start-up costs more than it saves
WATCH_S = 0.2                        # how often a worker checks that its export is still alive


class ExportCancelled(Exception):
    """Raised when an export is cancelled; the previous sequence is intact."""


@dataclass
class RenderSpec:
    """Everything a worker process needs to render any frame: small and picklable."""
    atlas_path: str
    assets_dir: str
    canvas_w: int
    canvas_h: int
    target_h_ratio: float | None
    sprites: list[str]          # relative sprite paths
    sprite_of: np.ndarray       # (N,) index into sprites
    pose: np.ndarray            # (N, 6) as rendered
    encoder: str = ENCODER
    frame_ids: np.ndarray | None = None   # a subset's frame numbers (file names); None: 0..N-1

    def subset(self, frames: list[int]) -> "RenderSpec":
        """Only `frames` (by number), with just the sprites they draw: what one cluster task carries."""
        idx = np.asarray(frames, dtype=np.int64)
        used, sprite_of = np.unique(self.sprite_of[idx], return_inverse=True)
        return RenderSpec(self.atlas_path, self.assets_dir, self.canvas_w, self.canvas_h, self.target_h_ratio,
                          [self.sprites[k] for k in used], sprite_of.astype(np.int32), self.pose[idx].copy(),
                          self.encoder, idx)


def render_into(spec: RenderSpec, atlas, frames, folder: str, cancel: threading.Event | None = None) -> int:
    """Render and write `frames` of `spec` as PNGs into `folder`; returns how many were written."""
    settings = RenderSettings(spec.canvas_w, spec.canvas_h, spec.target_h_ratio)
    buf = np.zeros((spec.canvas_h, spec.canvas_w, 4), np.uint8)
    done = 0
    for i in frames:
        if cancel is not None and cancel.is_set():
            break
        render_row(atlas, settings, spec.sprites[spec.sprite_of[i]], spec.pose[i], buf, rgba=True)  # the preview's
        name = FRAME_NAME.format(i if spec.frame_ids is None else spec.frame_ids[i])               # renderer
        with open(os.path.join(folder, name), "wb") as f:
            f.write(encode_rgba_png(buf, spec.encoder))
        done += 1
    return done


# ------------------------------------------------------------------ workers
_worker_state: dict = {}


def _watch_parent(pid: int) -> None:
    """Exit at once when the export's main process is gone (killed or not)."""
    import time
    while True:
        time.sleep(WATCH_S)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


def _worker_init(spec: RenderSpec, parent_pid: int) -> None:
    import signal

    import cv2
    # The export's main process answers SIGINT/SIGTERM and shuts the pool down (SPEC §12); a Ctrl-C
    # reaching the whole process group must not kill workers mid-file first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    from render.atlas import load_atlas
    from render.sprites import SPRITES
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="watch-parent").start()
    cv2.setNumThreads(1)        # one process per core already: OpenCV's own threads would oversubscribe
    SPRITES.budget = 96 << 20   # frames come grouped by sprite: a worker needs little more than the current one
    _worker_state["spec"] = spec
    _worker_state["atlas"] = load_atlas(spec.atlas_path, spec.assets_dir)


def _worker_task(frames: list[int], folder: str) -> int:
    return render_into(_worker_state["spec"], _worker_state["atlas"], frames, folder)


def render_frames(atlas, spec: RenderSpec, frames: list[int], folder: Path, workers: int,
                  progress: Callable[[int], None] | None = None, cancel: threading.Event | None = None) -> int:
    """Render `frames` of `spec` into `folder`; `progress(n)` reports frames done so far."""
    # Order does not matter for files: group frames by sprite so each worker decodes a sprite once
    # and keeps hitting its cache (a 10-minute session cycles through hundreds of sprites).
    frames = sorted(frames, key=lambda i: (spec.sprite_of[i], i))
    chunks = [frames[a:a + CHUNK] for a in range(0, len(frames), CHUNK)]
    done = 0
    if workers <= 1 or len(frames) < MIN_FRAMES_FOR_PROCESSES:
        for chunk in chunks:
            done += render_into(spec, atlas, chunk, str(folder), cancel)
            if progress:
                progress(done)
            if cancel is not None and cancel.is_set():
                raise ExportCancelled("export cancelled")
        return done
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                             initargs=(spec, os.getpid())) as pool:
        pending = set()
        queue = list(reversed(chunks))
        try:
            while queue or pending:
                while queue and len(pending) < workers * 2:  # bounded in flight: cancel stays quick
                    pending.add(pool.submit(_worker_task, queue.pop(), str(folder)))
                finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for fut in finished:
                    done += fut.result()
                if finished and progress:
                    progress(done)
                if cancel is not None and cancel.is_set():
                    raise ExportCancelled("export cancelled")
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
    return done
