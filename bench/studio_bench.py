"""Studio figures on a long session: opening, preview frame time, scrub latency, playback drift.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/studio_bench.py [--minutes 10] [--hour]

- open: from open_session() to the timeline drawn (events processed), and peak memory;
- preview frame time: the render core's time per 720x720 frame at random positions,
  against copying a 720x720 BGRA frame (the floor any renderer pays) in the same run;
- scrub-to-pixels: from a playhead move to the new frame's pixels in the preview widget;
- playback: drift of presented frames against the audio clock (silent clock), dropped frames.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LIPSYNC_NO_AUDIO", "1")
os.environ.setdefault("LIPSYNC_NO_DIALOGS", "1")

from export_bench import make_long_session, peak_rss_mb as rss_mb, sprite_atlas  # noqa: E402


def pct(a, q):
    return float(np.percentile(np.asarray(a), q))


def open_in_child(path: Path) -> dict:
    """Open a session in a fresh window in a fresh process: time to drawn, and that process's peak memory."""
    import json
    import subprocess
    res = subprocess.run([sys.executable, __file__, "--open-child", str(path)], capture_output=True, text=True,
                         check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def open_child(path: str) -> None:
    import json

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from widgets.main_window import MainWindow
    app = QApplication([])
    w = MainWindow(QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat))
    w.resize(1500, 860)
    w.show()
    app.processEvents()
    t0 = time.perf_counter()
    w.open_session(path)
    while w.preview.shown_frame != 0:
        app.processEvents()
    app.processEvents()
    elapsed = time.perf_counter() - t0
    print(json.dumps({"seconds": elapsed, "frames": w.model.n_frames, "peak_rss_mb": rss_mb()}))
    w.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--hour", action="store_true", help="also open a 60-minute session")
    ap.add_argument("--sprites", choices=("both", "bundled", "prodlike"), default="both")
    ap.add_argument("--open-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.open_child:
        open_child(args.open_child)
        return
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="lipsync-studio-bench-"))
    sizes = [args.minutes] + ([60.0] if args.hour else [])
    sessions = {}
    for minutes in sizes:
        d = tmp / f"m{minutes:g}"
        d.mkdir()
        sessions[minutes] = make_long_session(d, minutes)
    print("== opening (bundled sprites)")
    for minutes, path in sessions.items():
        r = open_in_child(path)
        print(f"open {minutes:g} min session ({r['frames']} frames): {r['seconds']:.2f} s "
              f"(target {'2' if minutes <= 10 else '10'} s), peak memory of the studio process "
              f"{r['peak_rss_mb']:.0f} MB (target 1024 MB for an hour)")
    kinds = ["bundled", "prodlike"] if args.sprites == "both" else [args.sprites]
    for kind in kinds:
        d = tmp / f"studio_{kind}"
        d.mkdir()
        interactive(app, tmp, make_long_session(d, args.minutes, atlas=sprite_atlas(kind)), kind, args.minutes)


def interactive(app, tmp, path, kind, minutes) -> None:
    """Preview frame time, scrub-to-pixels and playback on one session, in one window."""
    from PySide6.QtCore import QSettings

    from widgets.main_window import MainWindow
    print(f"== {kind} sprites, {minutes:g} min session")
    w = MainWindow(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    w.resize(1500, 860)
    w.show()
    app.processEvents()

    w.open_session(path)
    project = w.model.project
    while w.model.sync is None or w._warm_job._thread.is_alive():  # let the background work finish
        app.processEvents()
        time.sleep(0.005)
    n = len(project.plan)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, n, 300)
    buf = np.zeros((720, 720, 4), np.uint8)
    for f in frames[:20]:
        project.render_frame(int(f), buf)
    times = []
    for f in frames:
        t0 = time.perf_counter()
        project.render_frame(int(f), buf)
        times.append((time.perf_counter() - t0) * 1000)
    cached = []
    for f in frames[:60]:
        project.render_frame(int(f), buf)
        t0 = time.perf_counter()
        project.render_frame(int(f), buf)
        cached.append((time.perf_counter() - t0) * 1000)
    base = []
    src = np.zeros((720, 720, 4), np.uint8)
    for _ in range(300):
        t0 = time.perf_counter()
        src.copy()
        base.append((time.perf_counter() - t0) * 1000)
    print(f"preview frame time at random frames: p50 {pct(times, 50):.2f} ms, p95 {pct(times, 95):.2f} ms "
          f"(target p95 <= 5 ms); sprite already cached: p50 {pct(cached, 50):.2f} ms, p95 {pct(cached, 95):.2f} ms; "
          f"baseline 720x720 BGRA copy p50 {pct(base, 50):.3f} ms -> ratio {pct(times, 50) / pct(base, 50):.0f}x")
    from render.sprites import SPRITES
    print(f"   sprite cache: {len(SPRITES._items)} sprites held, budget {SPRITES.budget >> 20} MB; "
          f"the session draws {len(project.plan.resolved)}")

    lat = []
    for f in rng.integers(0, n, 150):
        f = int(f)
        if f == w.model.frame:
            continue
        t0 = time.perf_counter()
        w.timeline.playheads[0].setValue(f * w.model.step_ms / 1000.0)
        w.timeline._on_drag(w.timeline.playheads[0])
        while w.preview.shown_frame != f:
            app.processEvents()
            time.sleep(0.0002)  # an idle event loop sleeps in C; a busy spin would starve the render thread
        lat.append((time.perf_counter() - t0) * 1000)
    print(f"scrub-to-pixels: p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms over {len(lat)} scrubs "
          f"(target p95 <= 30 ms)")

    w.go_to_frame(n // 2)
    w.playback.play()
    t_end = time.perf_counter() + 4.0
    while time.perf_counter() < t_end:
        app.processEvents()
        time.sleep(0.001)
    w.playback.pause()
    s = w.playback.drift.history[-1]
    print(f"playback 4 s: {s['frames']} frames presented, drift mean {s['mean_ms']:+.1f} ms, p95 {s['p95_ms']:.1f} ms, "
          f"max {s['max_ms']:.1f} ms, dropped {s['dropped']}")
    w.close()


if __name__ == "__main__":
    main()
