"""A production-length, production-density session for studio benchmarks and trials: the demo
utterance (real speech) repeated to an hour, with a mouth event and a pose key on every 40 ms
frame (the production form), blinks and expression changes, and the mouth 200 ms late in every
fourth repeat so QA has problems to find.

    .venv/bin/python bench/hour_session.py [--minutes 60] [--out bench/out/hour]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "assets_min" / "demo"


def make_hour_session(folder: Path, minutes: float = 60.0) -> Path:
    """Write the session (and its WAV and timelines) into `folder`; returns the session path. Reused
    when it is already there."""
    import numpy as np
    import soundfile
    folder.mkdir(parents=True, exist_ok=True)
    session = folder / "session.json"
    if session.exists() and json.loads(session.read_text()).get("minutes") == minutes:
        return session
    voice, sr = soundfile.read(str(DEMO / "demo.wav"), dtype="float32")
    demo = json.loads((DEMO / "session.json").read_text())
    step = int(demo["step_ms"])
    unit_ms = int(demo["audio_ms"])
    repeats = max(1, math.ceil(minutes * 60_000 / unit_ms))
    audio_ms = repeats * unit_ms
    per = int(round(unit_ms * sr / 1000))
    wav = np.zeros(repeats * per, np.float32)
    mouth_one = [f["mouth_id"] for f in json.loads((DEMO / "mouth_timeline.json").read_text())["frames"]]
    pose_one = json.loads((DEMO / "pose_timeline.json").read_text())["frames"]
    expr_one = json.loads((DEMO / "expression_timeline.json").read_text())["timeline"]
    frames_per = unit_ms // step
    mouth, pose, expr = [], [], []
    for r in range(repeats):
        wav[r * per:r * per + min(per, len(voice))] = voice[:per]
        late = 5 if r % 4 == 3 else 0                            # 200 ms late in every fourth repeat
        for k in range(frames_per):
            t = (r * frames_per + k) * step
            src = k - late
            mouth.append({"t_ms": t, "mouth_id": mouth_one[src] if 0 <= src < len(mouth_one) else 0})
            p = dict(pose_one[min(k, len(pose_one) - 1)])
            p["t_ms"] = t
            pose.append(p)
        for e in expr_one:
            expr.append(dict(e, t_ms=e["t_ms"] + r * unit_ms))
    soundfile.write(str(folder / "hour.wav"), wav, sr, subtype="PCM_16")
    dump = lambda doc: json.dumps(doc, separators=(",", ":"))  # noqa: E731
    (folder / "mouth.json").write_text('{"audio": "hour.wav", "step_ms": %d, "frames": [\n%s\n]}\n' % (
        step, ",\n".join(dump(e) for e in mouth)))
    (folder / "pose.json").write_text('{"meta": {"step_ms": %d}, "frames": [\n%s\n]}\n' % (
        step, ",\n".join(dump(e) for e in pose)))
    (folder / "expression.json").write_text(json.dumps({"timeline": expr}, indent=1))
    doc = {"schema_version": "runtime_session_v0.1", "session_id": f"demo_{minutes:g}min", "audio_ms": audio_ms,
           "step_ms": step, "minutes": minutes, "lang": "en",
           "inputs": {"pose_timeline": "pose.json", "mouth_timeline": "mouth.json",
                      "expression_timeline": "expression.json", "audio": "hour.wav",
                      "atlas_json": str(ROOT / "assets_min" / "atlas.min.json")}}
    session.write_text(json.dumps(doc, indent=2))
    return session


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "hour"))
    args = ap.parse_args()
    print(make_hour_session(Path(args.out), args.minutes))
    sys.exit(0)
