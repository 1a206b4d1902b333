"""Export throughput benchmark: our FG export vs a plain sequential cv2.imwrite baseline, same run.

    .venv/bin/python bench/export_bench.py [--minutes 10] [--workers N]

Builds a long session (head sway across views, dense mouth track, blinks) on the bundled
atlas at 720x720, then runs each contender in its own subprocess so peak memory (max RSS)
is its own. Prints frames/s, real-time factor, peak memory and the ratio to the baseline.
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_long_session(folder: Path, minutes: float, step: int = 40) -> Path:
    import numpy as np
    import soundfile
    audio_ms = int(minutes * 60_000)
    sr = 16000
    t = np.arange(int(audio_ms * sr / 1000)) / sr
    voice = (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 2.5 * t) > 0)).astype(np.float32)
    soundfile.write(str(folder / "long.wav"), voice, sr, subtype="PCM_16")
    pose, mouth = [], []
    for ms in range(0, audio_ms, step):
        s = ms / 1000
        pose.append({"t_ms": ms, "yaw": round(18 * math.sin(s / 0.7), 3), "pitch": round(9 * math.sin(s / 0.45), 3),
                     "roll": round(3 * math.sin(s / 0.6), 3), "tx": round(12 * math.sin(s / 0.8), 2),
                     "ty": round(5 * math.sin(s / 0.3), 2), "scale": round(1 + 0.03 * math.sin(s / 1.1), 4)})
        mouth.append({"t_ms": ms, "mouth_id": int((ms // 120) % 6) if math.sin(2 * math.pi * 2.5 * s) > 0 else 0})
    expr = [{"t_ms": 0, "expression": "normal"}]
    for k, ms in enumerate(range(2000, audio_ms, 3500)):
        expr.append({"t_ms": ms, "dur_ms": 120, "expression": "blink"})
        if k % 5 == 0:
            expr.append({"t_ms": ms + 200, "expression": ["smile", "normal", "sad", "angry"][k // 5 % 4]})
    (folder / "pose.json").write_text(json.dumps({"meta": {"step_ms": step}, "frames": pose}))
    (folder / "mouth.json").write_text(json.dumps({"audio": "long.wav", "step_ms": step, "frames": mouth}))
    (folder / "expr.json").write_text(json.dumps({"timeline": expr}))
    session = {"schema_version": "runtime_session_v0.1", "session_id": f"bench_{minutes:g}min", "audio_ms": audio_ms,
               "step_ms": step, "inputs": {"pose_timeline": "pose.json", "mouth_timeline": "mouth.json",
                                           "expression_timeline": "expr.json", "audio": "long.wav",
                                           "atlas_json": str(ROOT / "assets_min" / "atlas.min.json")}}
    path = folder / "session.json"
    path.write_text(json.dumps(session))
    return path


def run_ours(session: str, out: str, workers: int | None) -> dict:
    from studio.export.fg import ExportOptions, export_fg
    from studio.plan import open_project
    t0 = time.perf_counter()
    project = open_project(session)
    opts = ExportOptions(out_dir=Path(out), incremental=False)
    if workers:
        opts.workers = workers
    result = export_fg(project, opts)
    return {"frames": result.report["rendered_frames"], "seconds": time.perf_counter() - t0,
            "encoder": result.report["encoder"], "workers": opts.workers}


def run_incremental(session: str, out: str, workers: int | None) -> dict:
    """Edit one mouth event after a full export, then re-export: only the touched frames render."""
    from studio.export.fg import ExportOptions, export_fg
    from studio.plan import open_project
    opts = ExportOptions(out_dir=Path(out))
    if workers:
        opts.workers = workers
    export_fg(open_project(session), opts)
    mouth = Path(session).parent / "mouth.json"
    doc = json.loads(mouth.read_text())
    mid = len(doc["frames"]) // 2
    doc["frames"][mid]["mouth_id"] = (doc["frames"][mid]["mouth_id"] + 1) % 6
    mouth.write_text(json.dumps(doc))
    t0 = time.perf_counter()
    r = export_fg(open_project(session), opts).report
    return {"frames": r["rendered_frames"] - r["reused_frames"], "seconds": time.perf_counter() - t0,
            "reused": r["reused_frames"]}


def run_baseline(session: str, out: str, _workers) -> dict:
    """What a straightforward exporter does: render each frame, cv2.imwrite it, one after another."""
    import cv2
    from studio.plan import open_project
    t0 = time.perf_counter()
    project = open_project(session)
    folder = Path(out) / "in" / "fg"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(len(project.plan)):
        cv2.imwrite(str(folder / f"{i:08d}.png"), project.render_frame(i))
    return {"frames": len(project.plan), "seconds": time.perf_counter() - t0}


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it does not carry over across exec).
    Worker processes have their own; each is bounded by its sprite cache budget (256 MB)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, session: str, out: str, workers: int | None) -> None:
    fn = {"ours": run_ours, "baseline": run_baseline, "incremental": run_incremental}[kind]
    res = fn(session, out, workers)
    res["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(res))


def measure(kind: str, session: Path, out: Path, workers: int | None) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, str(session), str(out), str(workers or 0)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, session, out, workers = args.child
        child(kind, session, out, int(workers) or None)
        return
    with tempfile.TemporaryDirectory(prefix="lipsync-bench-") as tmp:
        tmp = Path(tmp)
        session = make_long_session(tmp, args.minutes)
        audio_s = args.minutes * 60
        print(f"session: {args.minutes:g} min of audio, {int(audio_s * 25)} frames at 720x720")
        rows = {}
        for kind in ("baseline", "ours"):
            r = measure(kind, session, tmp / f"out_{kind}", args.workers)
            r["fps"] = r["frames"] / r["seconds"]
            rows[kind] = r
            print(f"{kind:>9}: {r['frames']} frames in {r['seconds']:.1f} s = {r['fps']:.1f} frames/s "
                  f"({r['fps'] / 25 * 1:.2f}x real time), peak memory {r['peak_rss_mb']:.0f} MB")
        ratio = rows["ours"]["fps"] / rows["baseline"]["fps"]
        print(f"    ratio: export is {ratio:.2f}x the sequential cv2.imwrite baseline "
              f"(encoder {rows['ours']['encoder']}, {rows['ours']['workers']} workers; targets: 750 frames/s, 10x)")
        inc = measure("incremental", session, tmp / "out_inc", args.workers)
        print(f"incremental: one mouth event edited -> {inc['frames']} frames re-rendered, {inc['reused']} reused, "
              f"{inc['seconds']:.2f} s (full export {rows['ours']['seconds']:.1f} s)")


if __name__ == "__main__":
    main()
