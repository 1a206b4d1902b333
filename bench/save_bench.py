"""Saving one edit on a 1-hour session (SPEC §15): how long it takes, and how long it keeps the
interface thread waiting, against the previous way (the whole document written afresh) measured in
the same run.

    .venv/bin/python bench/save_bench.py [--minutes 60] [--repeat 3]

Builds bench/export_bench.py's long session (90,000 pose keys and 90,000 mouth events per hour,
compact JSON), opens it in the studio's model, edits one mouth event and one pose key, and for each
timeline prints: the time to make the file's bytes by splicing the edit into the original text
(studio/io/splice.py) and by writing the whole document (TextFormat, the baseline); a whole save
(backup, journal, fsync); and the longest stall of a 2 ms ticker on the main thread while the save
runs on a worker thread, as the studio runs it (the interface thread's view: the GIL).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from export_bench import make_long_session  # noqa: E402

from studio.io.saving import dump_like, write_timelines  # noqa: E402
from studio.io.textformat import TextFormat  # noqa: E402
from studio.model import StudioModel  # noqa: E402


def timed(fn, repeat: int) -> tuple[float, object]:
    runs, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), out


def differing_bytes(a: bytes, b: bytes) -> int:
    """Bytes between the common head and the common tail of two files (the size of the edit)."""
    n = min(len(a), len(b))
    x, y = np.frombuffer(a[:n], np.uint8), np.frombuffer(b[:n], np.uint8)
    head = int(np.argmax(x != y)) if (x != y).any() else n
    xr, yr = np.frombuffer(a[::-1][:n], np.uint8), np.frombuffer(b[::-1][:n], np.uint8)
    tail = int(np.argmax(xr != yr)) if (xr != yr).any() else n
    return max(len(a), len(b)) - min(n, head + tail)


def longest_stall(work) -> tuple[float, float]:
    """Run `work` on a worker thread; a 2 ms ticker here measures its worst lateness (s) and the total."""
    done = threading.Event()
    worker = threading.Thread(target=lambda: (work(), done.set()))
    worst, t0 = 0.0, time.perf_counter()
    worker.start()
    last = time.perf_counter()
    while not done.is_set():
        time.sleep(0.002)
        now = time.perf_counter()
        worst = max(worst, now - last - 0.002)
        last = now
    worker.join()
    return worst, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        session = make_long_session(Path(tmp), args.minutes)
        m = StudioModel()
        t = time.perf_counter()
        m.open(session)
        print(f"{args.minutes:g} min session: {len(m.editor.events('mouth')):,} mouth events, "
              f"{len(m.editor.events('pose')):,} pose keys; opened in {time.perf_counter() - t:.1f} s")
        middle = len(m.editor.events("mouth")) // 2
        m.editor.set_mouth([middle], (m.editor.events("mouth")[middle]["mouth_id"] + 1) % 6)
        m.editor.set_pose(middle, {"yaw_deg": 7.25})
        print(f"{'timeline':<8} {'MB':>5} {'splice':>8} {'afresh':>8} {'ratio':>6} "
              f"{'save':>7} {'stall':>8} {'afresh stall':>13}")
        for kind in ("mouth", "pose"):
            path = getattr(m.project.session, kind).path
            raw, doc, base = path.read_bytes(), m.editor.docs[kind], m._saved_docs[kind]
            splice_s, spliced = timed(lambda: dump_like(doc, raw, base), args.repeat)
            fresh_s, _ = timed(lambda: TextFormat.detect(raw).dumps(doc), args.repeat)
            changed = differing_bytes(raw, spliced)
            stall, _ = longest_stall(lambda: dump_like(doc, raw, base))
            fresh_stall, _ = longest_stall(lambda: TextFormat.detect(raw).dumps(doc))
            req = m.save_request()
            req = type(req)(req.session_path, {kind: doc}, {kind: base}, {kind: path}, req.marker)
            save_s, _ = timed(lambda: write_timelines(req), 1)
            path.write_bytes(raw)
            print(f"{kind:<8} {len(raw) / 1e6:>5.1f} {splice_s:>7.3f}s {fresh_s:>7.3f}s {splice_s / fresh_s:>5.2f}x "
                  f"{save_s:>6.3f}s {stall * 1000:>6.1f}ms {fresh_stall * 1000:>11.1f}ms"
                  f"   (the files differ in {changed} bytes)")


if __name__ == "__main__":
    main()
