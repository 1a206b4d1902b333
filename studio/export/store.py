"""FG export into an object store through an fsspec URL (SPEC §14): `s3://bucket/prefix`.

A store has no atomic rename, so a run never overwrites another: it uploads to
`PREFIX/runs/<run_id>/` (the §8 layout: `in/fg/%08d.png`, `frames.csv`, `run_report.json`, and
`frame_hashes.json` for the next run's reuse) and commits by writing `PREFIX/CURRENT` last — a
small JSON naming the run and its frame count. Readers follow CURRENT, so they always see one
complete run; a run killed before CURRENT is never seen and is removed by a later commit.
Frames whose inputs did not change are reused by server-side copy from the current run (looked
up by their hash, wherever they sit in it); runs older than the previous one are removed after a
commit. Run ids sort by time, so a run still uploading is never older than the previous one.

Credentials and endpoints come from the store library's own environment and config (`AWS_*`,
`~/.aws`), never from the command line, and are scrubbed from every message.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import posixpath
import tempfile
import time
import uuid
from pathlib import Path

from contracts.errors import ClusterError, ContractError, OutputError
from contracts.faults import fault_point
from contracts.jsonfile import dumps, utf8_safe
from studio.export.fg import (RENDERER_VERSION, ExportCancelled, ExportResult, exit_code, frame_hashes, frames_csv,
                              render_missing, render_spec, run_report)
from studio.export.workers import FRAME_NAME, render_frames

CURRENT = "CURRENT"
HASHES_FILE = "frame_hashes.json"
UPLOAD_BLOCK = 1024          # frames rendered locally, then uploaded, per block: bounded temp space
SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")


def is_url(out) -> bool:
    """An fsspec URL other than a local file (`s3://…`, `gcs://…`, `memory://…`)."""
    text = str(out) if isinstance(out, str) else ""   # a Path is a folder: 's3:/x' is a local name then
    proto, sep, _ = text.partition("://")
    return bool(sep) and proto.isidentifier() and proto != "file"


def filesystem(url: str):
    """(fsspec filesystem, path without protocol) for a store URL."""
    import fsspec
    return fsspec.core.url_to_fs(url)


def scrub(text: str) -> str:
    """A store library's message without any credential the environment holds."""
    for var in SECRET_VARS:
        value = os.environ.get(var)
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


@contextlib.contextmanager
def store_errors(url: str):
    """Any failure of the store (refused, unreachable, no bucket, no credentials) is exit 4 naming the URL."""
    try:
        yield
    except (ContractError, OutputError, ClusterError, ExportCancelled, KeyboardInterrupt):
        raise
    except Exception as exc:  # botocore/aiohttp errors are not OSErrors: each becomes the one sentence
        reason = str(exc).strip() or exc.__class__.__name__
        if isinstance(exc, PermissionError):
            reason = f"access denied ({reason}); credentials come from AWS_* or ~/.aws"
        raise OutputError(url, scrub(f"the store refused: {reason}")) from None


class StoreRun:
    """One run under PREFIX/runs/<run_id>/ and the CURRENT pointer it commits."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.fs, self.root = filesystem(self.url)
        self.root = self.root.rstrip("/")
        self.previous = self._read_current()
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        self.run_id = f"{stamp}-{uuid.uuid4().hex[:8]}"
        self.path = f"{self.root}/runs/{self.run_id}"
        self.fg_path = f"{self.path}/in/fg"
        self.fg_url = f"{self.url}/runs/{self.run_id}/in/fg"
        self.committed = False

    def _read_current(self) -> dict | None:
        try:
            doc = json.loads(self.fs.cat_file(f"{self.root}/{CURRENT}"))
        except FileNotFoundError:
            return None
        except ValueError:
            return None   # not ours or torn: nothing to reuse, the commit replaces it
        return doc if isinstance(doc, dict) and isinstance(doc.get("run_id"), str) else None

    def previous_hashes(self) -> dict[str, int]:
        """hash -> a frame of the current run that has it (reuse by content, wherever the frame sits)."""
        if not self.previous:
            return {}
        try:
            doc = json.loads(self.fs.cat_file(f"{self.root}/runs/{self.previous['run_id']}/{HASHES_FILE}"))
        except (FileNotFoundError, ValueError):
            return {}
        if not isinstance(doc, dict) or doc.get("renderer") != RENDERER_VERSION or not isinstance(doc.get("hashes"), list):
            return {}
        found: dict[str, int] = {}
        for i, h in enumerate(doc["hashes"]):
            found.setdefault(h, i)
        return found

    def copy_frames(self, pairs: list[tuple[str, int]]) -> None:
        """Server-side copies: (source path, destination frame) — nothing passes through this machine."""
        if pairs:
            self.fs.copy([src for src, _ in pairs], [f"{self.fg_path}/{FRAME_NAME.format(i)}" for _, i in pairs])

    def commit(self, texts: dict[str, str], frames: int) -> None:
        """Upload the small outputs into the run, then write CURRENT last, then remove old runs."""
        self.fs.pipe({f"{self.path}/{name}": body.encode("utf-8") for name, body in texts.items()})
        fault_point("store_uploaded")
        pointer = {"schema_version": "fg_store_current_v0.1", "run_id": self.run_id, "frames": frames,
                   "frames_dir": f"runs/{self.run_id}/in/fg", "previous_run_id": (self.previous or {}).get("run_id"),
                   "committed_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        self.fs.pipe_file(f"{self.root}/{CURRENT}", json.dumps(pointer, indent=1).encode())
        self.committed = True
        fault_point("store_committed")

    def discard(self) -> None:
        """Remove this run's objects after a failure or cancel (best effort: a later commit removes them too)."""
        if self.committed:
            return
        try:
            self.fs.rm(self.path, recursive=True)
        except Exception:
            pass

    def remove_old_runs(self) -> list[str]:
        """Runs older than the previous one (ids sort by time); returns notes. Never fails the export."""
        prev = (self.previous or {}).get("run_id")
        if not prev:
            return []
        try:
            self.fs.invalidate_cache(f"{self.root}/runs")
            old = [p for p in self.fs.ls(f"{self.root}/runs", detail=False) if posixpath.basename(p.rstrip("/")) < prev]
            for p in old:
                self.fs.rm(p, recursive=True)
        except Exception as exc:  # the commit stands; old runs are removed by a later one
            return [scrub(f"old runs under {self.url}/runs were not removed: {exc}")]
        return [f"removed {len(old)} run(s) older than the previous one"] if old else []


def current_run(url: str) -> dict | None:
    """What CURRENT names (run_id, frames, frames_dir), or None before the first commit: what readers follow."""
    with store_errors(url):
        fs, root = filesystem(url.rstrip("/"))
        try:
            return json.loads(fs.cat_file(f"{root.rstrip('/')}/{CURRENT}"))
        except FileNotFoundError:
            return None


def upload_frames(fs, folder: str, frames: list[int], dest: str) -> None:
    """Upload rendered frames from a local folder to `dest` (a store path), concurrently."""
    if frames:
        names = [FRAME_NAME.format(i) for i in frames]
        fs.put([os.path.join(folder, n) for n in names], [f"{dest}/{n}" for n in names])


def render_and_upload(atlas, spec, frames, fg_url, workers, progress=None, cancel=None) -> int:
    """This machine's renderer for a store: blocks of frames rendered by local workers into a temp
    folder, then uploaded (the temp space stays one block)."""
    fs, dest = filesystem(fg_url)
    done = 0
    with tempfile.TemporaryDirectory(prefix="lipsync-store-") as tmp:
        for a in range(0, len(frames), UPLOAD_BLOCK):
            block = frames[a:a + UPLOAD_BLOCK]
            render_frames(atlas, spec, block, Path(tmp), workers,
                          (lambda n, base=done: progress(base + n)) if progress else None, cancel)
            upload_frames(fs, tmp, block, dest)
            for i in block:
                os.unlink(os.path.join(tmp, FRAME_NAME.format(i)))
            done += len(block)
    return done


def export_to_store(project, options, progress=None, cancel=None, sync=None, sync_note=None) -> ExportResult:
    """export_fg for a store URL: the same frames, frames.csv and report, committed by CURRENT."""
    if options.mp4:
        raise ContractError(None, "--mp4", "the debug MP4 needs a local output folder, not a store URL")
    t0 = time.perf_counter()
    url = str(options.out_dir).rstrip("/")
    with store_errors(url):
        run = StoreRun(url)
    try:
        with store_errors(url):
            report = _upload_run(project, options, run, progress, cancel, sync, sync_note, t0)
    except BaseException:
        run.discard()   # like a staging folder: an unfinished run is removed (or by a later commit)
        raise
    notes = run.remove_old_runs()
    return ExportResult(report, exit_code(report, options), notes)


def _upload_run(project, options, run: StoreRun, progress, cancel, sync, sync_note, t0) -> dict:
    spec = render_spec(project)
    hashes = frame_hashes(spec)
    old = run.previous_hashes() if options.incremental else {}
    prev_fg = f"{run.root}/runs/{(run.previous or {}).get('run_id')}/in/fg"
    reuse = [(f"{prev_fg}/{FRAME_NAME.format(old[h])}", i) for i, h in enumerate(hashes) if h in old]
    run.copy_frames(reuse)
    reused = len(reuse)
    todo = [i for i, h in enumerate(hashes) if h not in old]
    link = lambda pairs: run.copy_frames([(f"{run.fg_path}/{FRAME_NAME.format(o)}", d) for o, d in pairs])  # noqa: E731
    rendered = reused + render_missing(project, options, spec, hashes, todo, reused, run.fg_url, render_and_upload,
                                       link, progress, cancel)
    notes = [x for x in (sync_note,) if x]
    report = run_report(project, run.fg_url, f"{run.url}/runs/{run.run_id}/frames.csv", rendered, reused, None,
                        notes, sync, t0)
    texts = {HASHES_FILE: json.dumps({"renderer": RENDERER_VERSION, "hashes": hashes}),
             "frames.csv": utf8_safe(frames_csv(project, run.fg_url)),
             "run_report.json": dumps(report, indent=2, ensure_ascii=False) + "\n"}
    run.commit(texts, rendered)
    return report

