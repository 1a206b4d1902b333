"""`validate` throughput on large inputs of different shapes (SPEC §12: at least 1 MB of JSON per
second on one core, whatever the shape; no slower per byte than the demo).

Each shape is the demo session with one part made large: a 20,000-view atlas (sprites present, or
all missing), a million expression events (change points and blinks, or overlays that all
overlap), a million mouth events (or long overlapping ones), a million pose keys, long strings,
thousands of distinct warnings. Each is validated in a fresh process (the timing covers `main()`,
not Python's start-up and imports) that reports its CPU seconds (user + system, all threads: the
SPEC's "on one core", and what a busy shared machine does not distort), wall seconds and peak
memory. MB/s is the shape's JSON bytes (session, timelines, atlas) per CPU second. The demo,
measured in the same run, is the baseline: its time is mostly decoding the sprites it draws,
which every shape also does, so "extra MB/s" shows the rate beyond that fixed part.

    .venv/bin/python bench/validate_bench.py [--events 1000000] [--views 20000] [--score] [--only SHAPE ...]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "assets_min" / "demo"
ATLAS = ROOT / "assets_min" / "atlas.min.json"
MOUTH_FILES = {"closed": "mouth_close.png", "a": "mouth_a.png", "i": "mouth_i.png", "u": "mouth_u.png",
               "e": "mouth_e.png", "o": "mouth_o.png"}


# -------------------------------------------------------------------------------- shapes
HOUR_MS = 3_600_000


def _demo_copy(folder: Path, hour: bool = False) -> tuple[Path, dict]:
    """The demo session; with `hour`, declared one hour long, so a million events fall inside it."""
    shutil.copytree(DEMO, folder)
    doc = json.loads((folder / "session.json").read_text())
    doc["inputs"]["atlas_json"] = str(ATLAS)
    if hour:
        doc["audio_ms"] = HOUR_MS
    return folder / "session.json", doc


def _write(path: Path, doc) -> None:
    path.write_text(json.dumps(doc, separators=(",", ":")))


def shape_demo(folder: Path, n: int, views: int) -> Path:
    session, doc = _demo_copy(folder)
    _write(session, doc)
    return session


def _atlas_shape(folder: Path, views: int, missing: bool) -> Path:
    session, doc = _demo_copy(folder)
    atlas = json.loads(ATLAS.read_text())
    for k in range(views):
        where = f"v{k % 50}" if missing else "front"
        atlas[f"view_{k:05d}"] = {m: f"{where}/{f}" for m, f in MOUTH_FILES.items()}
    _write(folder / "atlas.min.json", atlas)
    doc["inputs"]["atlas_json"] = "atlas.min.json"
    doc["assets_dir"] = str(ROOT / "assets_min")
    _write(session, doc)
    return session


def shape_atlas_views(folder, n, views):
    return _atlas_shape(folder, views, missing=False)


def shape_atlas_missing_sprites(folder, n, views):
    return _atlas_shape(folder, views, missing=True)


def _expression_shape(folder: Path, events: list) -> Path:
    session, doc = _demo_copy(folder, hour=True)
    _write(folder / "expression_timeline.json", {"schema_version": "session_expression_timeline_v0.1",
                                                 "session_id": "demo", "step_ms": 40, "timeline": events})
    _write(session, doc)
    return session


def shape_expression_events(folder, n, views):
    """Change points and blinks, spread over the session and far past its end."""
    labels = ["normal", "smile", "blink", "sad", "angry"]
    step = HOUR_MS * 2 // n
    return _expression_shape(folder, [{"t_ms": i * step, "expression": labels[i % 5],
                                       **({"dur_ms": 120} if i % 5 == 2 else {})} for i in range(n)])


def shape_expression_overlays(folder, n, views):
    """Every event an overlay lasting to the end of the hour: each one overlaps all those before it."""
    labels = ["smile", "blink", "sad", "angry"]
    return _expression_shape(folder, [{"t_ms": i * HOUR_MS // n, "dur_ms": HOUR_MS, "expression": labels[i % 4]}
                                      for i in range(n)])


def shape_legacy_emo_events(folder, n, views):
    return _expression_shape(folder, [{"t_ms": i * HOUR_MS // n, "emo_id": ["joy_1", 2, "sad_2", "3"][i % 4],
                                       "blink": int(i % 9 == 0)} for i in range(n)])


def shape_mouth_events(folder, n, views):
    session, doc = _demo_copy(folder, hour=True)
    _write(folder / "mouth_timeline.json", {"audio": "demo.wav", "step_ms": 40,
                                            "frames": [{"t_ms": i * HOUR_MS // n, "mouth_id": i % 6} for i in range(n)]})
    _write(session, doc)
    return session


def shape_mouth_overlaps(folder, n, views):
    """Events with a dur_ms of an hour starting every few ms: each covers the rest of the session."""
    session, doc = _demo_copy(folder, hour=True)
    _write(folder / "mouth_timeline.json", {"audio": "demo.wav", "step_ms": 40, "frames": [
        {"t_ms": i * HOUR_MS // n, "dur_ms": HOUR_MS, "mouth6": "aiueo"[i % 5]} for i in range(n)]})
    _write(session, doc)
    return session


def shape_pose_keys(folder, n, views):
    session, doc = _demo_copy(folder, hour=True)
    _write(folder / "pose_timeline.json", {"meta": {"step_ms": 40}, "frames": [
        {"t_ms": i * HOUR_MS // n, "yaw_deg": (i % 30) - 15, "pitch_deg": 1.5, "roll_deg": 0.25, "tx": 1, "ty": 2, "scale": 1.0}
        for i in range(n)]})
    _write(session, doc)
    return session


def shape_long_strings(folder, n, views):
    """20 M characters in strings: a session note, an unknown key of every event, escaped text."""
    session, doc = _demo_copy(folder)
    doc["note"] = "x" * 10_000_000
    doc["text"] = "\\u3042" * 100_000 + "の" * 1_000_000
    _write(session, doc)
    mouth = json.loads((folder / "mouth_timeline.json").read_text())
    for ev in mouth["frames"]:
        ev["comment"] = "y" * (8_000_000 // len(mouth["frames"]))
    _write(folder / "mouth_timeline.json", mouth)
    return session


def shape_many_warnings(folder, n, views):
    """A distinct unknown label or emo_id on every event: one warning each, before the cap."""
    events = [{"t_ms": i * 70, **({"expression": f"label_{i}"} if i % 2 else {"emo_id": f"nosuch_{i}"})}
              for i in range(n // 10)]
    return _expression_shape(folder, events)


def shape_wide_and_deep(folder, n, views):
    """Unknown keys kept and ignored (SPEC §2): a million of them in one object, and lists nested
    60 deep (the limit is 64) side by side."""
    session, doc = _demo_copy(folder)
    doc["unknown_wide"] = {f"key_{i}": i for i in range(n)}
    deep = 1
    for _ in range(60):
        deep = [deep]
    doc["unknown_deep"] = [deep] * (n // 20)
    _write(session, doc)
    return session


SHAPES = {name[6:]: fn for name, fn in globals().items() if name.startswith("shape_")}


def json_bytes(session: Path) -> int:
    folder = session.parent
    total = sum(p.stat().st_size for p in folder.glob("*.json"))
    doc = json.loads(session.read_text())
    atlas = doc.get("inputs", {}).get("atlas_json", "")
    return total + (ATLAS.stat().st_size if atlas == str(ATLAS) else 0)


# ------------------------------------------------------------------------------- measuring
def measure_one(command: str, session: str) -> None:
    """In the child: run the command once in this process and print {seconds, peak_mb, code}."""
    sys.path.insert(0, str(ROOT))
    import studio.plan, studio.qa.sync, studio.report, contracts.policy  # noqa: F401,E401 (imports: not the input's cost)
    from studio.cli import main
    out = open(os.devnull, "w")
    saved = sys.stdout
    sys.stdout = out
    t0, c0 = time.perf_counter(), _cpu()
    try:
        code = main([command, session])
    finally:
        sys.stdout = saved
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), "code": code}))


def _peak_mb() -> float:
    """This process's peak resident memory: VmHWM (ru_maxrss would also count the bench process
    that forked it, before the exec)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run(command: str, session: Path, timeout: float) -> dict | None:
    """One command in a fresh process; None when it ran past `timeout` seconds."""
    try:
        res = subprocess.run([sys.executable, __file__, "--child", command, str(session)], capture_output=True,
                             text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if res.returncode != 0 or not res.stdout.strip():
        raise SystemExit(f"{command} {session} failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--views", type=int, default=20_000)
    ap.add_argument("--score", action="store_true", help="also time `score` on each shape")
    ap.add_argument("--only", nargs="*", choices=sorted(SHAPES), help="shapes to run (the demo always runs)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds (wall) before a run counts as too slow")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        measure_one(*args.child)
        return 0
    names = ["demo"] + [s for s in SHAPES if s != "demo" and (not args.only or s in args.only)]
    commands = ["validate", "score"] if args.score else ["validate"]
    print(f"{'shape':<24} {'JSON MB':>8} " + " ".join(
        f"{c + ' cpu s':>14} {'wall s':>7} {'MB/s':>7} {'extra MB/s':>10} {'peak MB':>8}" for c in commands))
    base = {}
    with tempfile.TemporaryDirectory(prefix="lipsync-validate-bench-") as tmp:
        for name in names:
            session = SHAPES[name](Path(tmp) / name, args.events, args.views)
            mb = json_bytes(session) / 1e6
            cells = []
            for c in commands:
                r = run(c, session, args.timeout)
                if r is None:
                    cells.append(f"{'timeout':>14} {'>' + format(args.timeout, '.0f'):>7} "
                                 f"{'<' + format(mb / args.timeout, '.2f'):>7} {'':>10} {'':>8}")
                    continue
                base.setdefault(c, r["cpu"])
                extra = r["cpu"] - base[c]
                extra_rate = f"{mb / extra:>10.2f}" if name != "demo" and extra > 0.01 else f"{'—':>10}"
                cells.append(f"{r['cpu']:>14.2f} {r['seconds']:>7.2f} {mb / r['cpu']:>7.2f} {extra_rate} "
                             f"{r['peak_mb']:>8.0f}" + ("" if r["code"] in (0, 3) else f" (exit {r['code']})"))
            print(f"{name:<24} {mb:>8.2f} " + " ".join(cells), flush=True)
            shutil.rmtree(session.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
