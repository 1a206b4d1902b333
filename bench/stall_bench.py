"""How long the studio's interface thread is blocked on a production-length session (SPEC §15).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/stall_bench.py [--minutes 60] [--skip-generate]

A watchdog timer ticks every 5 ms on the interface thread; a tick that comes late means the thread
was busy. The bench drives the real window the way a person does (mouse and keys through QTest)
on bench/hour_session.py's session — the demo's speech repeated to an hour, a mouth event and a
pose key on every frame — and prints, per step, the longest stall, plus:
- open: seconds until the window shows the session's first frame (goal ≤ 3 s), stalls after;
- edit shown: from the mouse release of a drag until its result is painted (goal ≤ 50 ms);
- cancel: from the Cancel click until Generate is idle again (goal ≤ 200 ms).
Goal for every step once the session is open: no stall over 100 ms.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LIPSYNC_NO_AUDIO", "1")
os.environ.setdefault("LIPSYNC_NO_DIALOGS", "1")

from hour_session import make_hour_session  # noqa: E402

TICK_MS = 5


class Watchdog:
    """Ticks on the interface thread; `worst()` is the longest gap beyond the tick since `reset()`."""

    def __init__(self):
        from PySide6.QtCore import QTimer
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.last = time.perf_counter()
        self.gaps: list[float] = []
        self.timer.start()

    def _tick(self):
        now = time.perf_counter()
        self.gaps.append((now - self.last) * 1000.0 - TICK_MS)
        self.last = now

    def reset(self):
        self.last = time.perf_counter()
        self.gaps = []

    def worst(self) -> float:
        self._tick()
        return max(self.gaps, default=0.0)


def wait(ms: float) -> None:
    from PySide6.QtTest import QTest
    QTest.qWait(int(ms))


def wait_until(pred, timeout_s: float) -> bool:
    end = time.perf_counter() + timeout_s
    while time.perf_counter() < end:
        if pred():
            return True
        wait(10)
    return pred()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--skip-generate", action="store_true", help="leave out the full Generate (minutes on an hour)")
    ap.add_argument("--profile", metavar="STEP", help="print where the interface thread spent its time in a step "
                                                       "(open, play, drag, rescore, undo, cancel, generate, save)")
    args = ap.parse_args()
    import cProfile
    prof = cProfile.Profile()

    def profiling(step: str, on: bool) -> None:
        if args.profile == step:
            prof.enable() if on else prof.disable()
    from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from widgets.main_window import MainWindow
    session = make_hour_session(ROOT / "bench" / "out" / f"hour_{args.minutes:g}", args.minutes)
    work = Path(tempfile.mkdtemp(prefix="lipsync-stall-"))
    import shutil
    for f in session.parent.iterdir():         # a copy: the bench saves edits
        (shutil.copy if f.suffix == ".json" else os.symlink)(f, work / f.name)
    session = work / "session.json"
    os.environ["LIPSYNC_STATE_DIR"] = str(work / "state")
    app = QApplication.instance() or QApplication([])
    win = MainWindow(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    win.resize(1600, 1000)
    win.show()
    wait(200)
    dog = Watchdog()
    rows = []

    def row(step, stall, extra=""):
        rows.append((step, stall, extra))
        print(f"{step:<28} longest stall {stall:7.0f} ms   {extra}", flush=True)

    # ---- open
    dog.reset()
    profiling("open", True)
    t0 = time.perf_counter()
    win.open_session(session, background=True)      # as File ▸ Open, Open recent and a drop do
    opened = wait_until(lambda: win.model.project is not None and win.preview.shown_frame == 0, 60)
    painted = time.perf_counter() - t0
    open_stall = dog.worst()      # while reading in the background, and showing it
    profiling("open", False)
    dog.reset()
    wait(3000)
    row("open", open_stall, f"first frame shown after {painted:.2f} s" + ("" if opened else " (NOT OPENED)"))
    row("idle after open (scoring)", dog.worst())

    # ---- play
    dog.reset()
    profiling("play", True)
    QTest.keyClick(win, Qt.Key.Key_Space)
    wait(3000)
    QTest.keyClick(win, Qt.Key.Key_Space)
    profiling("play", False)
    row("play 3 s", dog.worst(), f"{win.playback.drift.history[-1].get('dropped', '?') if win.playback.drift and win.playback.drift.history else ''}")

    # ---- step through frames with the arrow key, zoomed in (every step renders a frame)
    win.timeline.show_range(1799.4, 1800.6)
    win.go_to_time(1799.5)
    wait(300)
    dog.reset()
    profiling("step", True)
    t_s = time.perf_counter()
    for _ in range(100):
        QTest.keyClick(QApplication.focusWidget() or win, Qt.Key.Key_Right)
        wait(15)
    profiling("step", False)
    row("step 100 frames (Right)", dog.worst(), f"{(time.perf_counter() - t_s) / 100 * 1000:.0f} ms a step")

    # ---- edit by dragging a mouth event two frames
    t_edit = 1800.0
    win.timeline.show_range(t_edit - 0.6, t_edit + 0.6)
    wait(300)
    lane = win.timeline.lanes["mouth"]
    vb = lane.getViewBox()
    widget = win.timeline.lane_widget("mouth")
    vp = widget.viewport()

    def px(t):
        p = widget.mapFromScene(vb.mapViewToScene(QPointF(t, 0.5)))
        return QPoint(p.x(), p.y())
    i = lane.event_at(t_edit + 0.02)
    s, e = lane.span(i)
    a, b = px((s + e) / 2), px((s + e) / 2 + 0.08)
    dog.reset()
    profiling("drag", True)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for k in range(1, 9):
        QTest.mouseMove(vp, a + (b - a) * k / 8)
        wait(16)
    t_rel = time.perf_counter()
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)
    app.processEvents()
    shown = (time.perf_counter() - t_rel) * 1000.0
    drag_stall = dog.worst()
    profiling("drag", False)
    dog.reset()
    profiling("rescore", True)
    wait(12000)          # the re-score runs in the background meanwhile
    profiling("rescore", False)
    row("drag an event 2 frames", drag_stall, f"edit shown {shown:.0f} ms after release; "
        f"'{win.model.editor.undo_name}'")
    row("12 s after the edit (re-score)", dog.worst())

    # ---- undo
    dog.reset()
    t_u = time.perf_counter()
    QTest.keyClick(win.focusWidget() or win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    app.processEvents()
    undo_ms = (time.perf_counter() - t_u) * 1000.0
    wait(500)
    row("undo (Ctrl+Z)", dog.worst(), f"undo shown {undo_ms:.0f} ms")
    dog.reset()
    QTest.keyClick(win.focusWidget() or win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier |
                   Qt.KeyboardModifier.ShiftModifier)
    wait(500)
    row("redo (Ctrl+Shift+Z)", dog.worst())

    # ---- generate and cancel
    win.show_dock("align")
    wait(200)
    panel = win.align_panel
    dog.reset()
    profiling("cancel", True)
    QTest.mouseClick(panel.whole, Qt.MouseButton.LeftButton)
    wait(1500)
    t_c = time.perf_counter()
    QTest.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    wait_until(lambda: panel.whole.isEnabled(), 5)
    cancel_ms = (time.perf_counter() - t_c) * 1000.0
    wait(500)
    profiling("cancel", False)
    row("generate, then cancel", dog.worst(), f"cancel answered in {cancel_ms:.0f} ms")
    if not args.skip_generate:
        dog.reset()
        t_g = time.perf_counter()
        QTest.mouseClick(panel.whole, Qt.MouseButton.LeftButton)
        done = wait_until(lambda: panel.whole.isEnabled(), 900)
        row("generate (audio only)", dog.worst(), f"{time.perf_counter() - t_g:.0f} s" + ("" if done else " (TIMEOUT)"))
        dog.reset()
        wait(12000)
        row("12 s after generating", dog.worst())

    # ---- save
    dog.reset()
    profiling("save", True)
    dirty = win.model.dirty
    t_s = time.perf_counter()
    QTest.keyClick(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_until(lambda: not win.model.dirty, 120)
    saved_s = time.perf_counter() - t_s
    wait(300)
    profiling("save", False)
    row("save (Ctrl+S)", dog.worst(), f"written in {saved_s:.1f} s" if dirty else "(nothing to save)")
    win.model.editor.mark_saved()
    dog.reset()
    win.close()
    row("close", dog.worst())
    if args.profile:
        import pstats
        pstats.Stats(prof).sort_stats("cumulative").print_stats(50)
    worst = max(r[1] for r in rows[1:])
    print(f"\nlongest stall once open: {worst:.0f} ms (goal ≤ 100 ms)")


if __name__ == "__main__":
    main()
