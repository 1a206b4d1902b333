"""Make the bundled demo session (assets_min/demo/): espeak-ng speech and timelines that match it.

The mouth track comes from espeak-ng's own phoneme timing (scripts/espeak_phonemes.py), sampled on
the 40 ms grid as production does; the head sways across the view thresholds; a few blinks and a
change to `smile`. The outputs are committed; rerun only to change the demo.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from espeak_phonemes import mouth_events, speak  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "assets_min" / "demo"
TEXT = ("Hello! I am the studio's demo character. Watch my mouth follow the vowels, "
        "and my head turn as I speak.")
STEP = 40


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    audio, sr, phonemes = speak(TEXT, "en-us", 150)
    soundfile.write(OUT / "demo.wav", audio, sr, subtype="PCM_16")
    audio_ms = math.floor(len(audio) * 1000 / sr + 0.5)
    events = mouth_events(phonemes, audio_ms)
    frames = []
    for t in range(0, audio_ms, STEP):
        mid = next((m for a, b, m in events if a <= t < b), 0)
        frames.append({"t_ms": t, "mouth_id": mid})
    json.dump({"audio": "demo.wav", "step_ms": STEP, "frames": frames},
              open(OUT / "mouth_timeline.json", "w"), indent=1)

    pose = []
    for t in range(0, audio_ms + STEP, STEP):
        s = t / 1000.0
        pose.append({"t_ms": t,
                     "yaw_deg": round(17.0 * math.sin(2 * math.pi * s / 4.2), 3),
                     "pitch_deg": round(8.0 * math.sin(2 * math.pi * s / 2.9 + 0.6), 3),
                     "roll_deg": round(3.0 * math.sin(2 * math.pi * s / 3.7), 3),
                     "tx": round(10.0 * math.sin(2 * math.pi * s / 5.1), 2),
                     "ty": round(4.0 * math.sin(2 * math.pi * s / 1.9), 2),
                     "scale": round(1.0 + 0.02 * math.sin(2 * math.pi * s / 6.0), 4)})
    json.dump({"meta": {"step_ms": STEP, "scale_mode": "absolute"}, "frames": pose},
              open(OUT / "pose_timeline.json", "w"), indent=1)

    timeline = [{"t_ms": 0, "expression": "normal"},
                {"t_ms": 1480, "dur_ms": 120, "expression": "blink"},
                {"t_ms": 3400, "expression": "smile"},
                {"t_ms": 4200, "dur_ms": 120, "expression": "blink"},
                {"t_ms": 6200, "dur_ms": 120, "expression": "blink"}]
    json.dump({"schema_version": "session_expression_timeline_v0.1", "session_id": "demo", "step_ms": STEP,
               "timeline": timeline}, open(OUT / "expression_timeline.json", "w"), indent=1)

    session = {"schema_version": "runtime_session_v0.1", "session_id": "demo", "utt_id": "demo_000001",
               "audio_ms": audio_ms, "step_ms": STEP,
               "inputs": {"pose_timeline": "pose_timeline.json", "mouth_timeline": "mouth_timeline.json",
                          "expression_timeline": "expression_timeline.json", "atlas_json": "../atlas.min.json",
                          "audio": "demo.wav"},
               "text": TEXT, "lang": "en"}  # what was said: the aligner's with-text mode (SPEC §13)
    (OUT / "session.json").write_text(json.dumps(session, indent=2) + "\n")
    print(f"demo: {audio_ms} ms, {len(frames)} mouth events, {len(phonemes)} phonemes")


if __name__ == "__main__":
    main()
