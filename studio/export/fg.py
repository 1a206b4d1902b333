"""FG export (SPEC §8): frames into a staging folder, swapped in only when complete, then the report.

A failed or cancelled export leaves the previous sequence untouched; a shorter new export leaves
no stale frames. Frames are rendered and encoded by worker processes (the fast PNG encoder holds
the GIL, so threads would not use the second core). Each frame's inputs are hashed and the hashes
kept beside the sequence: a re-export hard-links unchanged frames from the previous sequence and
renders only the rest, with a result identical to a full export.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from studio.io.atomic import write_atomic
from contracts.jsonfile import validate
from studio.plan import Project, render_row
from studio.export.png import ENCODER, encode_png
from studio.report import frame_stats, timeline_summary
from contracts.session import RenderSettings

FRAME_NAME = "{:08d}.png"
CSV_COLUMNS = ("frame", "t_ms", "view", "expression", "mouth", "sprite", "fallback",
               "yaw_deg", "pitch_deg", "roll_deg", "scale", "tx", "ty", "path")
HASHES_FILE = "frame_hashes.json"
RENDERER_VERSION = "render-v0.1.2"   # bump when the pixels a given input produces change
CHUNK = 48                           # frames per worker task
MIN_FRAMES_FOR_PROCESSES = 240       # below this, worker start-up costs more than it saves


class ExportCancelled(Exception):
    """Raised when an export is cancelled; the previous sequence is intact."""


@dataclass
class ExportOptions:
    out_dir: Path = Path("out/fg")
    allow_fallback: bool = False
    mp4: bool = False
    workers: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    incremental: bool = True


@dataclass
class ExportResult:
    report: dict
    exit_code: int          # 0 passed, 3 rendered but the acceptance rule failed

    @property
    def frames_dir(self) -> Path:
        return Path(self.report["frames_dir"])


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


def fg_dir(out_dir: Path) -> Path:
    return Path(out_dir) / "in" / "fg"


def render_spec(project: Project) -> RenderSpec:
    plan, s = project.plan, project.session.render
    return RenderSpec(str(project.atlas.path), str(project.atlas.assets_dir), s.canvas_w, s.canvas_h,
                      s.target_h_ratio, [r.sprite for r in plan.resolved], plan.sprite.copy(), plan.pose.copy())


def frame_hashes(spec: RenderSpec) -> list[str]:
    """Per frame, a digest of everything its pixels depend on (sprite file, pose, canvas, renderer)."""
    keys = []
    for rel in spec.sprites:
        st = (Path(spec.assets_dir) / rel).stat()
        keys.append(f"{rel}|{st.st_size}|{st.st_mtime_ns}".encode())
    head = f"{RENDERER_VERSION}|{spec.canvas_w}x{spec.canvas_h}|{spec.target_h_ratio}|".encode()
    pose = np.ascontiguousarray(spec.pose[:, 2:])  # roll, tx, ty, scale: yaw/pitch act through the sprite
    return [hashlib.blake2b(head + keys[k] + pose[i].tobytes(), digest_size=12).hexdigest()
            for i, k in enumerate(spec.sprite_of)]


# ------------------------------------------------------------------ workers
_worker_state: dict = {}


def _worker_init(spec: RenderSpec) -> None:
    import cv2

    from render.atlas import SPRITES, load_atlas
    cv2.setNumThreads(1)        # one process per core already: OpenCV's own threads would oversubscribe
    SPRITES.budget = 256 << 20  # several workers: keep each one's cache modest
    _worker_state["spec"] = spec
    _worker_state["atlas"] = load_atlas(spec.atlas_path, spec.assets_dir)


def _render_frames(spec: RenderSpec, atlas, frames, folder: str, cancel: threading.Event | None = None) -> int:
    settings = RenderSettings(spec.canvas_w, spec.canvas_h, spec.target_h_ratio)
    buf = np.zeros((spec.canvas_h, spec.canvas_w, 4), np.uint8)
    done = 0
    for i in frames:
        if cancel is not None and cancel.is_set():
            break
        render_row(atlas, settings, spec.sprites[spec.sprite_of[i]], spec.pose[i], buf)  # the preview's renderer
        with open(os.path.join(folder, FRAME_NAME.format(i)), "wb") as f:
            f.write(encode_png(buf, spec.encoder))
        done += 1
    return done


def _worker_task(frames: list[int], folder: str) -> int:
    return _render_frames(_worker_state["spec"], _worker_state["atlas"], frames, folder)


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
            done += _render_frames(spec, atlas, chunk, str(folder), cancel)
            if progress:
                progress(done)
            if cancel is not None and cancel.is_set():
                raise ExportCancelled("export cancelled")
        return done
    # forkserver: workers start from a clean process, never a fork of the GUI's threads
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                             initargs=(spec,)) as pool:
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


# --------------------------------------------------------------- sequence
def _frames_csv(project: Project, frames_dir: Path) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    absdir = frames_dir.resolve()
    for i in range(len(project.plan)):
        row = project.plan.row(i)
        row["path"] = str(absdir / FRAME_NAME.format(i))
        w.writerow([_fmt(row[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def _fmt(v):
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else f"{v:.4f}".rstrip("0")
    return v


def _swap_in(staging: Path, target: Path) -> None:
    """Replace `target` with `staging` by renames; the old folder is removed only afterwards."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _previous_hashes(out: Path) -> list[str]:
    try:
        doc = json.loads((out / HASHES_FILE).read_text())
        return doc["hashes"] if doc.get("renderer") == RENDERER_VERSION else []
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _reuse_unchanged(out: Path, staging: Path, hashes: list[str]) -> list[int]:
    """Hard-link frames whose inputs did not change from the current sequence; return those to render."""
    old = _previous_hashes(out)
    current = fg_dir(out)
    todo = []
    for i, h in enumerate(hashes):
        src = current / FRAME_NAME.format(i)
        if i < len(old) and old[i] == h:
            try:
                os.link(src, staging / src.name)
                continue
            except OSError:  # missing file, or a filesystem without hard links: render it
                pass
        todo.append(i)
    return todo


def _split_duplicates(todo: list[int], hashes: list[str]) -> tuple[list[int], list[tuple[int, int]]]:
    """Frames to render (first of each distinct input) and (duplicate, original) pairs to link."""
    first: dict[str, int] = {}
    render, links = [], []
    for i in todo:
        j = first.setdefault(hashes[i], i)
        (render.append(i) if j == i else links.append((i, j)))
    return render, links


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def export_fg(project: Project, options: ExportOptions, progress: Callable[[int, int], None] | None = None,
              cancel: threading.Event | None = None, sync: dict | None = None) -> ExportResult:
    """Write the FG sequence, frames.csv, frame_hashes.json and run_report.json under options.out_dir."""
    t0 = time.perf_counter()
    session = project.session
    out = Path(options.out_dir)
    target = fg_dir(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".fg.staging-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    n = len(project.plan)
    try:
        spec = render_spec(project)
        hashes = frame_hashes(spec)
        todo = _reuse_unchanged(out, staging, hashes) if options.incremental else list(range(n))
        reused = n - len(todo)
        todo, duplicates = _split_duplicates(todo, hashes)  # identical inputs (held poses): render once
        report_progress = (lambda d: progress(reused + d, n)) if progress else None
        if report_progress:
            report_progress(0)
        render_frames(project.atlas, spec, todo, staging, options.workers, report_progress, cancel)
        for dup, orig in duplicates:
            _link_or_copy(staging / FRAME_NAME.format(orig), staging / FRAME_NAME.format(dup))
        if report_progress and duplicates:
            report_progress(n - reused)
        rendered = len(os.listdir(staging))
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    write_atomic(out / HASHES_FILE, json.dumps({"renderer": RENDERER_VERSION, "hashes": hashes}))
    write_atomic(out / "frames.csv", _frames_csv(project, target))

    mux = None
    warnings = list(project.warnings)
    if options.mp4:
        from studio.export.debug_video import write_debug_mp4  # optional feature, imported on demand
        mux, note = write_debug_mp4(project, target, out / "debug.mp4")
        if note:
            warnings.append(note)
    stats = frame_stats(project)
    passed = rendered == session.target_frames and stats["fallback_frames"] == 0 and (mux is not False)
    report = {
        "schema_version": "run_report_v0.1",
        "session_id": session.session_id,
        "session": str(session.path.resolve()),
        "audio_ms": session.audio_ms,
        "wav_ms": session.wav_ms,
        "step_ms": session.step_ms,
        "fps": session.fps,
        "target_frames": session.target_frames,
        "rendered_frames": rendered,
        "reused_frames": reused,
        **stats,
        "timelines": timeline_summary(session),
        "atlas": str(Path(project.atlas.path).resolve()),
        "canvas": {"w": session.render.canvas_w, "h": session.render.canvas_h},
        "encoder": ENCODER,
        "frames_dir": str(target.resolve()),
        "frames_csv": str((out / "frames.csv").resolve()),
        "warnings": warnings,
        "audio_mux_succeeded": mux,
        "sync": sync,
        "elapsed_s": round(time.perf_counter() - t0, 3),
        "passed": passed,
    }
    validate(report, "run_report", out / "run_report.json", "run report")
    write_atomic(out / "run_report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    only_fallback = rendered == session.target_frames and mux is not False
    ok = passed or (options.allow_fallback and only_fallback)
    return ExportResult(report, 0 if ok else 3)
