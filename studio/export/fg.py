"""FG export (SPEC §8, §12): frames into a staging folder, swapped in only when complete, then the report.

One export at a time per output folder (a lock); a failed, cancelled or killed export leaves the
previous sequence untouched; a shorter new export leaves no stale frames. Each frame's inputs are
hashed and the hashes kept beside the sequence: a re-export hard-links unchanged frames from the
previous sequence and renders only the rest, with a result identical to a full export. The folder
protocol is in `sequence.py`, the rendering in `workers.py`.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import posixpath
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from contracts.errors import OutputError, os_reason
from contracts.jsonfile import dumps, utf8_safe, validate
from contracts.faults import fault_point
from studio.export.lock import ExportLock
from render import native
from studio.export.png import ENCODER, FALLBACK_NOTE
from studio.export.sequence import SequenceFolder
from studio.export.workers import FRAME_NAME, ExportCancelled, RenderSpec, render_frames
from studio.plan import Project
from studio.report import frame_stats, timeline_summary

__all__ = ["ExportCancelled", "ExportOptions", "ExportResult", "export_fg", "exit_code", "fg_dir", "frame_hashes",
           "frames_csv", "render_missing", "render_spec", "run_report"]

CSV_COLUMNS = ("frame", "t_ms", "view", "expression", "mouth", "sprite", "fallback",
               "yaw_deg", "pitch_deg", "roll_deg", "scale", "tx", "ty", "path")
RENDERER_VERSION = "render-v0.3.0"   # bump when the pixels a given input produces change


# render(atlas, spec, frames, folder, workers, progress, cancel) -> frames written: this machine's
# worker processes (render_frames) or a Dask cluster's tasks (cluster.ClusterRenderer)
FrameRenderer = Callable[..., int]


@dataclass
class ExportOptions:
    out_dir: Path | str = Path("out/fg")   # a folder, or an object-store URL (s3://bucket/prefix: store.py)
    allow_fallback: bool = False
    mp4: bool = False
    workers: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    incremental: bool = True
    renderer: FrameRenderer | None = None   # None: render_frames on this machine


@dataclass
class ExportResult:
    report: dict
    exit_code: int          # 0 passed, 3 rendered but the acceptance rule failed
    notes: list[str] = field(default_factory=list)  # what was found and cleaned up in the folder

    @property
    def frames_dir(self) -> Path:
        return Path(self.report["frames_dir"])


def fg_dir(out_dir: Path) -> Path:
    return Path(out_dir) / "in" / "fg"


def render_spec(project: Project) -> RenderSpec:
    plan, s = project.plan, project.session.render
    return RenderSpec(str(project.atlas.path), str(project.atlas.assets_dir), s.canvas_w, s.canvas_h,
                      s.target_h_ratio, [r.sprite for r in plan.resolved], plan.sprite.copy(), plan.pose.copy())


def frame_hashes(spec: RenderSpec) -> list[str]:
    """Per frame, a digest of everything its pixels and bytes depend on (sprite file, pose, canvas,
    renderer, render kernel, PNG encoder): a frame another kernel or encoder wrote is rendered again."""
    keys = []
    for rel in spec.sprites:
        st = (Path(spec.assets_dir) / rel).stat()
        keys.append(f"{rel}|{st.st_size}|{st.st_mtime_ns}".encode())
    head = (f"{RENDERER_VERSION}|{native.KERNEL}|{spec.encoder}|{spec.canvas_w}x{spec.canvas_h}|"
            f"{spec.target_h_ratio}|").encode()
    pose = np.ascontiguousarray(spec.pose[:, 2:])  # roll, tx, ty, scale: yaw/pitch act through the sprite
    return [hashlib.blake2b(head + keys[k] + pose[i].tobytes(), digest_size=12).hexdigest()
            for i, k in enumerate(spec.sprite_of)]


# --------------------------------------------------------------- sequence
def frames_csv(project: Project, frames_dir: str) -> str:
    """frames.csv; `frames_dir` is the absolute folder (or URL) the frames are read from."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for i in range(len(project.plan)):
        row = project.plan.row(i)
        row["path"] = f"{frames_dir}/{FRAME_NAME.format(i)}"
        w.writerow([_fmt(row[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def _fmt(v):
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else f"{v:.4f}".rstrip("0")
    return v


def _reuse_unchanged(folder: SequenceFolder, staging: Path, hashes: list[str], renderer: str) -> list[int]:
    """Hard-link frames whose inputs did not change from the current sequence; return those to render."""
    old = folder.previous_hashes(renderer)
    todo = []
    for i, h in enumerate(hashes):
        name = FRAME_NAME.format(i)
        if i < len(old) and old[i] == h:
            try:
                os.link(folder.fg / name, staging / name)
                continue
            except OSError:  # missing file, or a filesystem without hard links: render it
                pass
        todo.append(i)
    return todo


def split_duplicates(todo: list[int], hashes: list[str]) -> tuple[list[int], list[tuple[int, int]]]:
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
              cancel: threading.Event | None = None, sync: dict | None = None,
              sync_note: str | None = None) -> ExportResult:
    """Write the FG sequence, frames.csv, frame_hashes.json and run_report.json under options.out_dir.

    `sync` is the sync report's JSON (SPEC §9) or None with `sync_note` saying why scoring failed.
    Raises OutputError (exit 4) when the output cannot be written, ExportCancelled when cancelled;
    in both cases the previous sequence is untouched. An object-store URL as `out_dir` goes to store.py.
    """
    from studio.export.store import export_to_store, is_url  # (store.py builds on this module)
    if is_url(options.out_dir):
        return export_to_store(project, options, progress, cancel, sync, sync_note)
    t0 = time.perf_counter()
    out = Path(options.out_dir)
    with ExportLock(out):
        folder = SequenceFolder(out)
        try:
            notes = folder.recover()
        except OSError as exc:
            raise OutputError(folder.inbox, os_reason(exc)) from None
        spec = render_spec(project)
        hashes = frame_hashes(spec)
        staging = folder.new_staging()
        try:
            rendered, reused, mux, mux_note = _render_sequence(project, options, folder, staging, spec, hashes,
                                                                progress, cancel)
            notes_for_report = [n for n in (mux_note, sync_note, FALLBACK_NOTE) if n]
            report = run_report(project, os.path.abspath(folder.fg), os.path.abspath(out / "frames.csv"),
                                rendered, reused, mux, notes_for_report, sync, t0)
            texts = {"frames.csv": utf8_safe(frames_csv(project, os.path.abspath(folder.fg))),
                     "run_report.json": dumps(report, indent=2, ensure_ascii=False) + "\n"}
            folder.commit(staging, hashes, RENDERER_VERSION, texts)
        except OSError as exc:
            raise OutputError(folder.fg, os_reason(exc)) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # gone already when the commit swapped it in
            _drop_if_empty(folder.inbox)                 # a cancelled first export leaves no empty in/
    return ExportResult(report, exit_code(report, options), notes)


def _drop_if_empty(inbox: Path) -> None:
    try:
        inbox.rmdir()       # only ever succeeds on an empty folder
    except OSError:
        pass


def exit_code(report: dict, options: ExportOptions) -> int:
    """0 passed (or only fallback frames with --allow-fallback), else 3 (SPEC §8)."""
    only_fallback = report["rendered_frames"] == report["target_frames"] and report["audio_mux_succeeded"] is not False
    return 0 if report["passed"] or (options.allow_fallback and only_fallback) else 3


def render_missing(project, options, spec, hashes, todo, reused, target, renderer, link, progress, cancel) -> int:
    """Render the frames in `todo` into `target` (once per distinct input: identical inputs — held poses —
    are rendered once, then `link([(original, duplicate), …])`), reporting progress over all frames; returns
    how many frames are now in place: what the renderers reported written, not a listing (NFS caches those)."""
    n = len(hashes)
    todo, duplicates = split_duplicates(todo, hashes)

    def report_progress(done: int) -> None:
        if progress:
            progress(reused + done, n)
        fault_point("rendering")

    report_progress(0)
    done = (options.renderer or renderer)(project.atlas, spec, todo, target, options.workers, report_progress, cancel)
    if duplicates:
        link([(orig, dup) for dup, orig in duplicates])
        report_progress(n - reused)
    return done + len(duplicates)


def _render_sequence(project, options, folder, staging, spec, hashes, progress, cancel):
    n = len(project.plan)
    todo = _reuse_unchanged(folder, staging, hashes, RENDERER_VERSION) if options.incremental else list(range(n))
    reused = n - len(todo)
    def link(pairs):
        for orig, dup in pairs:
            _link_or_copy(staging / FRAME_NAME.format(orig), staging / FRAME_NAME.format(dup))
    rendered = reused + render_missing(project, options, spec, hashes, todo, reused, staging, render_frames, link,
                                       progress, cancel)
    fault_point("staging_written")
    mux, mux_note = None, None
    if options.mp4:
        from studio.export.debug_video import write_debug_mp4  # optional feature, imported on demand
        mux, mux_note = write_debug_mp4(project, staging, folder.out / "debug.mp4")
    return rendered, reused, mux, mux_note


def run_report(project, frames_dir: str, frames_csv_path: str, rendered, reused, mux, notes, sync, t0) -> dict:
    session = project.session
    warnings = [*project.warnings, *notes]
    stats = frame_stats(project)
    passed = rendered == session.target_frames and stats["fallback_frames"] == 0 and (mux is not False)
    report = {
        "schema_version": "run_report_v0.1",
        "session_id": session.session_id,
        "session": os.path.abspath(session.path),
        "audio_ms": session.audio_ms,
        "wav_ms": session.wav_ms,
        "step_ms": session.step_ms,
        "fps": session.fps,
        "target_frames": session.target_frames,
        "rendered_frames": rendered,
        "reused_frames": reused,
        **stats,
        "timelines": timeline_summary(session),
        "atlas": os.path.abspath(project.atlas.path),
        "atlas_bundled": session.atlas_bundled,
        "canvas": {"w": session.render.canvas_w, "h": session.render.canvas_h},
        "encoder": ENCODER,
        "frames_dir": frames_dir,
        "frames_csv": frames_csv_path,
        "warnings": warnings,
        "audio_mux_succeeded": mux,
        "sync": sync,
        "elapsed_s": round(time.perf_counter() - t0, 3),
        "passed": passed,
    }
    validate(report, "run_report", posixpath.join(posixpath.dirname(frames_csv_path), "run_report.json"), "run report")
    return report
