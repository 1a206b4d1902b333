"""Export from the studio: runs the FG export on a worker with progress, frames/s and cancel.

The folder can be typed or browsed (the dialog starts in the session's folder); the line under it
always says what will be written where, as the folder is typed.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
                               QPushButton, QVBoxLayout)

from studio.export.fg import ExportOptions, export_fg
from widgets.workers import Job


def _export_with_sync(project, options, progress, cancel, audio=None):  # on the job's thread
    from studio.qa.sync import sync_for_report
    sync, note = sync_for_report(project, audio)
    return export_fg(project, options, progress, cancel, sync=sync, sync_note=note)


class ExportDialog(QDialog):
    jump_to_frame = Signal(int)

    def __init__(self, project, out_dir: Path, parent=None, audio: tuple | None = None):
        super().__init__(parent)
        self.audio = audio if audio and audio[0] is not None else None   # the studio's decoded WAV, reused
        self.setWindowTitle("Export FG sequence")
        self.project = project
        self.result = None
        self.job: Job | None = None
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Output folder:"))
        self.out_edit = QLineEdit(str(out_dir))
        self.out_edit.setToolTip("The export writes <folder>/in/fg/%08d.png, frames.csv and run_report.json")
        row.addWidget(self.out_edit)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Choose the output folder")
        self.browse_button.clicked.connect(self.browse)
        row.addWidget(self.browse_button)
        lay.addLayout(row)
        self.bar = QProgressBar()
        self.bar.setRange(0, len(project.plan))
        lay.addWidget(self.bar)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.out_edit.textChanged.connect(self._describe_target)
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
        self.resize(560, 180)
        self._t0 = 0.0

    def _describe_target(self) -> None:
        if self.job is None:
            folder = Path(self.out_edit.text() or ".")
            self.status.setText(f"{len(self.project.plan)} frames to {folder / 'in' / 'fg'}")

    def browse(self) -> None:
        start = self.out_edit.text() or str(Path(self.project.session.path).parent)
        path = QFileDialog.getExistingDirectory(self, "Export to folder", start)
        if path:
            self.out_edit.setText(path)

    def start(self) -> None:
        opts = ExportOptions(out_dir=Path(self.out_edit.text()))
        self.browse_button.setEnabled(False)
        self.start_button.setEnabled(False)
        self.out_edit.setEnabled(False)
        self._t0 = time.perf_counter()
        self.job = Job(self._run_export, opts, parent=self)
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_done)
        self.job.failed.connect(self._on_failed)
        self.job.start()

    def _run_export(self, opts: ExportOptions):  # on the job's thread
        return _export_with_sync(self.project, opts, self.job.progress.emit, self.job.cancel, self.audio)

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
        self.status.setText("Export cancelled: the previous sequence is intact." if cancelled
                            else f"Export failed: {message} The previous sequence is intact.")
        self.cancel_button.setText("Close")
        self.start_button.setEnabled(True)
        self.out_edit.setEnabled(True)
        self.browse_button.setEnabled(True)
        self.job = None

    def _cancel(self) -> None:
        if self.job is not None and self.result is None and not self.job.cancel.is_set():
            self.job.cancel.set()
            self.status.setText("Cancelling…")
            return
        self.reject()

    def _jump(self) -> None:
        self.jump_to_frame.emit(self.result.report["first_fallback_frames"][0]["frame"])
        self.accept()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.job is not None and self.result is None:
            self.job.cancel.set()
            self.job.wait(10)
        super().closeEvent(event)

