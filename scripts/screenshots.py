"""Screenshots of the running studio for docs/ (run under Xvfb: a real X server, real windows).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py --size 1600x1000
    xvfb-run -a -s "-screen 0 1024x700x24" .venv/bin/python scripts/screenshots.py --size 1024x700

At 1600x1000: the demo (docs/studio.png), zoomed in (studio_zoomed.png), after playback
(studio_after_play.png), an export (studio_export.png), editing (studio_editing.png), QA on a
session whose mouth is late (studio_qa.png), a mouth track before and after "Generate mouth
track" with the text, the words lane showing (studio_align_before.png, studio_align_after.png),
and a 1-hour session with the overview (studio_hour.png). At 1024x700: studio_1024.png.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LIPSYNC_NO_AUDIO", "1")
os.environ.setdefault("LIPSYNC_NO_DIALOGS", "1")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from widgets.main_window import MainWindow  # noqa: E402

DOCS = ROOT / "docs"
DEMO = ROOT / "assets_min" / "demo"


def demo_copy(tmp: Path, name: str) -> Path:
    """A copy of the demo session (its atlas pointed back at the bundled one) to edit freely."""
    d = tmp / name
    shutil.copytree(DEMO, d)
    doc = json.loads((d / "session.json").read_text())
    doc["inputs"]["atlas_json"] = str(ROOT / "assets_min" / "atlas.min.json")
    (d / "session.json").write_text(json.dumps(doc, indent=2))
    return d / "session.json"


def rough_demo(tmp: Path) -> Path:
    """A copy of the demo with a rough, blocky mouth track, as before generating one."""
    session = demo_copy(tmp, "rough")
    audio_ms = json.loads(session.read_text())["audio_ms"]
    frames = [{"t_ms": t, "mouth_id": 1 if (t // 600) % 2 else 0} for t in range(0, audio_ms, 40)]
    (session.parent / "mouth_timeline.json").write_text(json.dumps({"audio": "demo.wav", "step_ms": 40,
                                                                     "frames": frames}))
    return session


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1600x1000")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    app = QApplication([])
    tmp = Path(tempfile.mkdtemp())
    w = MainWindow(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    w.resize(width, height)
    w.move(0, 0)
    w.show()
    w.open_session(DEMO / "session.json")
    steps = []
    at = [0]

    def later(ms, fn):
        at[0] += ms
        steps.append((at[0], fn))

    def grab(name):
        def do():
            app.primaryScreen().grabWindow(0).save(str(DOCS / name))
            print("wrote", DOCS / name, flush=True)
        return do

    if width < 1200:
        later(1500, lambda: w.go_to_frame(61))
        later(2000, grab("studio_1024.png"))
    else:
        later(1500, lambda: w.go_to_frame(61))
        later(2000, grab("studio.png"))
        later(100, lambda: (w.timeline.show_range(2.0, 3.6), w.go_to_frame(66)))
        later(1000, grab("studio_zoomed.png"))
        later(100, lambda: (w.timeline.zoom_to_fit(), w.go_to_frame(0), w.playback.play()))
        later(1500, lambda: w.playback.pause())
        later(300, grab("studio_after_play.png"))

        def export():
            dlg = w.export_dialog()
            dlg.out_edit.setText(str(tmp / "out"))
            dlg.show()
            dlg.start()
        later(200, export)
        later(4000, grab("studio_export.png"))

        def edit():
            for d in w.findChildren(type(w.export_dialog())):
                d.close()
            w.timeline.show_range(1.0, 2.4)
            lane = w.timeline.lanes["expression"]
            ed = w.model.editor
            blink = [i for i, e in enumerate(ed.events("expression")) if e["expression"] == "blink"][0]
            lane.selected = set(ed.move("expression", [blink], 160))   # as a drag would
            mouth = w.timeline.lanes["mouth"]
            mouth.selected = {i for i, e in enumerate(ed.events("mouth")) if 1600 <= e["t_ms"] < 1760}
            w.timeline.set_range((1.84, 2.08))
            w.docks["history"].raise_()
            w.go_to_frame(42)
        later(300, edit)
        later(1000, grab("studio_editing.png"))

        def qa():
            w.model.editor.mark_saved()
            w.open_session(demo_copy(tmp, "late"))     # made late below
            w.shift_timeline("mouth", 200)
            w.docks["qa"].raise_()
        later(300, qa)

        def qa_next():
            w.qa_flows.step_problem(1)
        later(4000, qa_next)
        later(800, grab("studio_qa.png"))

        def rough():
            w.model.editor.mark_saved()
            w.open_session(rough_demo(tmp))
            w.docks["align"].raise_()
            w.timeline.show_range(0.5, 4.0)
        later(300, rough)
        later(3000, grab("studio_align_before.png"))
        later(100, lambda: w.align_panel.whole.click())
        later(6000, lambda: w.timeline.show_range(0.5, 4.0))
        later(1500, grab("studio_align_after.png"))

        def hour():
            sys.path.insert(0, str(ROOT / "bench"))
            from hour_session import make_hour_session
            w.model.editor.mark_saved()
            w.open_session(make_hour_session(ROOT / "bench" / "out" / "hour_60", 60.0))
            w.docks["qa"].raise_()
        later(300, hour)
        later(200, lambda: (w.timeline.show_range(1795.0, 1811.0), w.go_to_time(1802.0)))
        later(20000, grab("studio_hour.png"))

    def finish():
        if w.model.editor:
            w.model.editor.mark_saved()   # nothing of the demo is changed on disk
        w.close()
        app.quit()
    later(300, finish)
    for ms, fn in steps:
        QTimer.singleShot(ms, fn)
    app.exec()


if __name__ == "__main__":
    main()
