"""Export from the studio: runs the FG export on a worker with progress, frames/s and cancel — on
this machine, or on a Dask cluster (SPEC §14) when a scheduler address is given.

The folder can be typed or browsed (the dialog starts in the session's folder); the line under it
always says what will be written where, as the folder is typed. The scheduler address is remembered
in the studio's settings; *Check* lists the cluster's workers (after the same version and path
checks as an export), and during a cluster export the table shows each worker's frames and running
tasks. Cancel cancels the cluster's tasks too; the previous sequence stays intact either way.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QProgressBar, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout)

from studio.export.fg import ExportCancelled, ExportOptions, export_fg
from widgets.workers import Job

SCHEDULER_KEY = "export/scheduler"
WORKER_COLUMNS = ("Worker", "Host", "Threads", "Frames", "Running")


def _export_with_sync(project, options, progress, cancel, phase):  # on the job's thread
    """Score the sync for the run report, then export. The score's audio side (most of its time: 12 of
    16 s on an hour) is read from the studio's disk cache, filled when the studio scored the same WAV,
    so the WAV is streamed from its file rather than handed over decoded (the cache knows files)."""
    from studio.io.recovery import cache_folder
    from studio.qa import articulation
    from studio.qa.sync import sync_for_report
    phase("Scoring the sync for the run report…")
    articulation.use_disk_cache(cache_folder())
    sync, note = sync_for_report(project)
    if cancel.is_set():
        raise ExportCancelled("export cancelled")
    phase("Checking which frames changed since the last export…")
    return export_fg(project, options, progress, cancel, sync=sync, sync_note=note)


def _worker_rows(workers: dict) -> list[tuple]:
    """A snapshot the GUI thread can show (the renderer's dict keeps changing on the job's thread)."""
    return [(w.address, w.host, w.threads, w.frames, w.running) for w in list(workers.values())]


class _Relay(QObject):
    """Carries per-worker counts from the job's thread to the dialog (a queued signal)."""
    workers = Signal(object)
    phase = Signal(str)       # what the export is doing before its first frame


class ExportDialog(QDialog):
    jump_to_frame = Signal(int)

    def __init__(self, project, out_dir: Path, parent=None, settings: QSettings | None = None,
                 unsaved: bool = False):
        super().__init__(parent)
        self.settings = settings if settings is not None else getattr(parent, "settings", None) or QSettings()
        self.setWindowTitle("Export FG sequence")
        self.project = project
        self.result = None
        self.job: Job | None = None
        self.check_job: Job | None = None
        self.relay = _Relay(self)
        self.relay.workers.connect(self._show_workers)
        self.relay.phase.connect(self._show_phase)
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Output folder:"))
        self.out_edit = QLineEdit(str(out_dir))
        self.out_edit.setToolTip("The export writes <folder>/in/fg/%08d.png, frames.csv and run_report.json "
                                 "(or an object store: s3://bucket/prefix)")
        row.addWidget(self.out_edit)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Choose the output folder")
        self.browse_button.clicked.connect(self.browse)
        row.addWidget(self.browse_button)
        lay.addLayout(row)
        lay.addLayout(self._cluster_row())
        self.workers_table = QTableWidget(0, len(WORKER_COLUMNS))
        self.workers_table.setHorizontalHeaderLabels(WORKER_COLUMNS)
        self.workers_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.workers_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.workers_table.verticalHeader().setVisible(False)
        self.workers_table.setVisible(False)
        lay.addWidget(self.workers_table)
        self.bar = QProgressBar()
        self.bar.setRange(0, len(project.plan))
        lay.addWidget(self.bar)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        if unsaved:   # the studio exports what it shows; `main.py export` reads the files
            note = QLabel("The export uses the timelines as they are in the studio, unsaved edits included.")
            note.setWordWrap(True)
            note.setStyleSheet("color: #f0b040;")
            lay.addWidget(note)
        self.out_edit.textChanged.connect(self._describe_target)
        self.scheduler_edit.textChanged.connect(self._describe_target)
        self._describe_target()
        self.jump_button = QPushButton("Jump to first fallback frame")
        self.jump_button.setVisible(False)
        self.jump_button.clicked.connect(self._jump)
        lay.addWidget(self.jump_button)
        self.buttons = QDialogButtonBox()
        self.start_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._cancel)
        lay.addWidget(self.buttons)
        self.resize(620, 220)
        self._t0 = 0.0

    def _cluster_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Dask scheduler:"))
        remembered = self.settings.value(SCHEDULER_KEY)
        self.scheduler_edit = QLineEdit(str(remembered if remembered is not None
                                            else os.environ.get("DASK_SCHEDULER_ADDRESS", "")))
        self.scheduler_edit.setPlaceholderText("tcp://host:8786 — empty: this machine")
        self.scheduler_edit.setToolTip("Render the frames on this Dask cluster; every worker must see the session's "
                                       "sprites and the output folder at the same paths")
        row.addWidget(self.scheduler_edit)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Connect, check the workers' versions and paths, and list them")
        self.check_button.clicked.connect(self.check_cluster)
        row.addWidget(self.check_button)
        return row

    def scheduler(self) -> str | None:
        return self.scheduler_edit.text().strip() or None

    def _describe_target(self) -> None:
        if self.job is None:
            out = self._out()
            target = f"{out}/runs/<new run>/in/fg (then CURRENT)" if isinstance(out, str) else out / "in" / "fg"
            where = f" on the cluster at {self.scheduler()}" if self.scheduler() else ""
            self.status.setText(f"{len(self.project.plan)} frames to {target}{where}")

    def browse(self) -> None:
        start = self.out_edit.text() or str(Path(self.project.session.path).parent)
        path = QFileDialog.getExistingDirectory(self, "Export to folder", start)
        if path:
            self.out_edit.setText(path)

    def _out(self) -> Path | str:
        """The folder, or a store URL kept as text."""
        from studio.export.store import is_url
        text = self.out_edit.text()
        return text if is_url(text) else Path(text or ".")

    # ---------------------------------------------------------------- cluster
    def check_cluster(self) -> None:
        address = self.scheduler()
        if not address or self.job is not None or self.check_job is not None:
            return
        self.check_button.setEnabled(False)
        self.status.setText(f"Connecting to {address}…")
        self.check_job = Job(self._check, address, self._out(), parent=self)
        self.check_job.finished.connect(self._on_checked)
        self.check_job.failed.connect(self._on_check_failed)
        self.check_job.start()

    def _check(self, address, out):  # on the job's thread
        from studio.export.cluster import cluster_for_export
        with cluster_for_export(self.project, out, address) as cluster:
            return _worker_rows(cluster.workers)

    def _on_checked(self, rows) -> None:
        self.check_job = None
        self.check_button.setEnabled(True)
        self._show_workers(rows)
        self.settings.setValue(SCHEDULER_KEY, self.scheduler_edit.text().strip())
        self.status.setText(f"{len(rows)} workers ready, {sum(r[2] for r in rows)} threads: "
                            f"{len(self.project.plan)} frames can be exported on this cluster")

    def _on_check_failed(self, message: str) -> None:
        self.check_job = None
        self.check_button.setEnabled(True)
        self.status.setText(f"Cluster not usable: {message}")

    def _show_workers(self, rows) -> None:
        t = self.workers_table
        t.setVisible(True)
        t.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, v in enumerate(values):
                item = t.item(r, c)
                if item is None:
                    t.setItem(r, c, QTableWidgetItem(str(v)))
                elif item.text() != str(v):
                    item.setText(str(v))

    # ----------------------------------------------------------------- export
    def start(self) -> None:
        opts = ExportOptions(out_dir=self._out())
        address = self.scheduler()
        self.settings.setValue(SCHEDULER_KEY, address or "")
        for w in (self.browse_button, self.start_button, self.out_edit, self.scheduler_edit, self.check_button):
            w.setEnabled(False)
        self._t0 = time.perf_counter()
        self.job = Job(self._run_export, opts, address, parent=self)
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_done)
        self.job.failed.connect(self._on_failed)
        if address:
            self.status.setText(f"Connecting to {address}…")
        self.job.start()

    def _run_export(self, opts: ExportOptions, address: str | None):  # on the job's thread
        if not address:
            return _export_with_sync(self.project, opts, self.job.progress.emit, self.job.cancel, self.relay.phase.emit)
        from studio.export.cluster import ClusterRenderer, cluster_for_export
        with cluster_for_export(self.project, opts.out_dir, address) as cluster:
            self.relay.workers.emit(_worker_rows(cluster.workers))
            opts.renderer = ClusterRenderer(cluster, lambda ws: self.relay.workers.emit(_worker_rows(ws)))
            return _export_with_sync(self.project, opts, self.job.progress.emit, self.job.cancel, self.relay.phase.emit)

    def _show_phase(self, text: str) -> None:
        if self.job is not None and self.bar.value() <= 0:     # frames already counting say more
            self.status.setText(text)

    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setValue(done)
        fps = done / max(1e-6, time.perf_counter() - self._t0)
        self.status.setText(f"{done}/{total} frames, {fps:.0f} frames/s")

    def _on_done(self, result) -> None:
        self.result = result
        r = result.report
        self.bar.setValue(r["rendered_frames"])
        verdict = "PASSED" if r["passed"] else "NOT PASSED"
        reasons = ", ".join(f"{k}: {v}" for k, v in r["fallback_reasons"].items())
        self.status.setText(f"{verdict}: {r['rendered_frames']}/{r['target_frames']} frames in {r['elapsed_s']:.1f} s "
                            f"→ {r['frames_dir']}\nfallback frames: {r['fallback_frames']}"
                            + (f" ({reasons})" if reasons else "") + f"; sync: {(r['sync'] or {}).get('verdict', 'not scored')}")
        self.jump_button.setVisible(bool(r["first_fallback_frames"]))
        self.cancel_button.setText("Close")

    def _on_failed(self, message: str) -> None:
        cancelled = message == "export cancelled"
        self.status.setText("Export cancelled: nothing in the folder was changed." if cancelled
                            else f"Export failed: {message} Nothing in the folder was changed.")
        self.cancel_button.setText("Close")
        for w in (self.browse_button, self.start_button, self.out_edit, self.scheduler_edit, self.check_button):
            w.setEnabled(True)
        self.job = None

    def _cancel(self) -> None:
        self.reject()

    def reject(self) -> None:  # noqa: D401 - Escape, the Cancel button and the window's close button
        """A running export is cancelled, not hidden (Escape used to hide the dialog while it went on)."""
        if self.job is not None and self.result is None:
            if not self.job.cancel.is_set():
                self.job.cancel.set()
                self.status.setText("Cancelling…")
            return
        super().reject()

    def _jump(self) -> None:
        self.jump_to_frame.emit(self.result.report["first_fallback_frames"][0]["frame"])
        self.accept()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.job is not None and self.result is None:
            self.job.cancel.set()
            self.job.wait(10)
        super().closeEvent(event)
