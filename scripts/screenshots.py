"""Screenshots of the running studio for docs/ (run under Xvfb: a real X server, real windows).

    xvfb-run -s "-screen 0 1600x940x24" .venv/bin/python scripts/screenshots.py

Opens the demo, scrubs to a frame, zooms the timeline, plays for a moment, runs an export, and
grabs the whole screen at each step into docs/.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LIPSYNC_NO_AUDIO", "1")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from widgets.main_window import MainWindow  # noqa: E402

DOCS = ROOT / "docs"


def main() -> None:
    app = QApplication([])
    tmp = Path(tempfile.mkdtemp())
    w = MainWindow(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    w.resize(1580, 900)
    w.move(10, 10)
    w.show()
    w.open_session(ROOT / "assets_min" / "demo" / "session.json")
    steps = []

    def grab(name):
        def do():
            app.primaryScreen().grabWindow(0).save(str(DOCS / name))
            print("wrote", DOCS / name)
        return do

    steps.append((1500, lambda: w.go_to_frame(61)))
    steps.append((2500, grab("studio.png")))
    steps.append((2600, lambda: (w.timeline.show_range(2.0, 3.6), w.go_to_frame(66))))
    steps.append((3600, grab("studio_zoomed.png")))
    steps.append((3700, lambda: (w.timeline.show_range(0, 7.1), w.go_to_frame(0), w.playback.play())))
    steps.append((5200, lambda: w.playback.pause()))
    steps.append((5400, grab("studio_after_play.png")))

    def export():
        dlg = w.export_dialog()
        dlg.out_edit.setText(str(tmp / "out"))
        dlg.start()
    steps.append((5600, export))
    steps.append((9000, grab("studio_export.png")))

    def edit():
        for d in w.findChildren(type(w.export_dialog())):  # close the export dialog
            d.close()
        w.timeline.show_range(1.0, 2.4)
        lane = w.timeline.lanes["expression"]
        ed = w.model.editor
        blink = [i for i, e in enumerate(ed.events("expression")) if e["expression"] == "blink"][0]
        lane.selected = set(ed.move("expression", [blink], 160))   # as a drag would
        mouth = w.timeline.lanes["mouth"]
        mouth.selected = {i for i, e in enumerate(ed.events("mouth")) if 1600 <= e["t_ms"] < 1760}
        w.go_to_frame(42)
    steps.append((9300, edit))
    steps.append((10300, grab("studio_editing.png")))

    def finish():
        w.model.editor.mark_saved()  # the demo is not changed on disk
        w.close()
        app.quit()
    steps.append((10500, finish))
    for ms, fn in steps:
        QTimer.singleShot(ms, fn)
    app.exec()


if __name__ == "__main__":
    main()
