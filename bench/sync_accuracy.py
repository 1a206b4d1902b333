"""Sync scorer accuracy on the espeak-ng test set (tests/data/sync): the table in docs/sync_accuracy.md.

    .venv/bin/python bench/sync_accuracy.py

For each utterance, the ground-truth mouth track (from espeak-ng's phoneme timing, quantised to
the 40 ms grid by rounding, as production does) is shifted by -400..+400 ms; the scorer must
find the shift within one frame (40 ms) with a confident answer. Shuffled tracks (right shapes,
wrong timing) and random tracks measure how often a wrong track is flagged as a guess. Injected
open-mouth-in-silence stretches must be found. Also times scoring 10 minutes of audio.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from contracts.audio import AudioSource  # noqa: E402
from studio.qa.sync import load_policy, score  # noqa: E402

DATA = ROOT / "tests" / "data" / "sync"
STEP = 40
SHIFTS = range(-400, 401, 100)


def truth_track(spans, audio_ms, shift=0.0) -> np.ndarray:
    n = int(np.ceil(audio_ms / STEP))
    m = np.zeros(n, np.int8)
    for a, b, mid in spans:
        i0, i1 = int(round((a + shift) / STEP)), int(round((b + shift) / STEP))
        m[max(0, i0):max(0, min(n, i1))] = mid
    return m


def load(name):
    x, sr = soundfile.read(str(DATA / f"{name}.wav"), dtype="float32")
    return x, sr, json.loads((DATA / f"{name}.json").read_text())


def names():
    return sorted(p.stem for p in DATA.glob("*.wav"))


def main() -> None:
    pol = load_policy()
    rng = np.random.default_rng(0)
    print("| utterance | " + " | ".join(f"{s:+d}" for s in SHIFTS) + " | verdict at 0 | vowel agreement |")
    print("|---|" + "---|" * len(SHIFTS) + "---|---|")
    hits = total = confident = 0
    wrong_flagged = wrong_total = 0
    found = injected = 0
    for nm in names():
        x, sr, meta = load(nm)
        cells = []
        for s in SHIFTS:
            r = score(AudioSource.of(x, sr), truth_track(meta["mouth_spans"], meta["audio_ms"], s), STEP, meta["audio_ms"], pol)
            err = r.offset_ms - s
            ok = abs(err) <= 40 and r.confident
            hits += ok
            confident += r.confident
            total += 1
            cells.append(f"{r.offset_ms:+.0f}{'' if ok else ' ✗'}")
            if s == 0:
                v0, vow = r.verdict, r.vowels["agreement"]
        print(f"| {nm} | " + " | ".join(cells) + f" | {v0} | {vow:.0%} |")
        n = int(np.ceil(meta["audio_ms"] / STEP))
        for _ in range(5):  # wrong tracks: shuffled real events, random blocks
            spans, perm, t, sh = meta["mouth_spans"], rng.permutation(len(meta["mouth_spans"])), 0.0, []
            for i in perm:
                a, b, mid = spans[i]
                sh.append((t, t + b - a, mid))
                t += b - a
            for m in (truth_track(sh, meta["audio_ms"]), np.repeat(rng.integers(0, 6, n // 4 + 1), 4)[:n].astype(np.int8)):
                r = score(AudioSource.of(x, sr), m, STEP, meta["audio_ms"], pol)
                wrong_total += 1
                wrong_flagged += (not r.confident) or r.verdict != "pass"
        # inject open mouth into the leading and trailing silence
        m = truth_track(meta["mouth_spans"], meta["audio_ms"])
        m[1:6] = 1
        m[-7:-2] = 5
        r = score(AudioSource.of(x, sr), m, STEP, meta["audio_ms"], pol)
        for a, b in ((40, 240), (meta["audio_ms"] - 280, meta["audio_ms"] - 80)):
            injected += 1
            found += any(s0 <= a + 40 and s1 >= b - 40 for s0, s1 in r.open_in_silence_spans)
    print(f"\nshifted true tracks: {hits}/{total} within one frame (40 ms) and confident; "
          f"{confident}/{total} confident")
    print(f"wrong tracks (shuffled or random): {wrong_flagged}/{wrong_total} flagged (guess or not pass)")
    print(f"injected open-mouth-in-silence stretches found: {found}/{injected}")
    x, sr, meta = load(names()[0])
    reps = int(np.ceil(600_000 / meta["audio_ms"]))
    long_audio = np.tile(x, reps)[: sr * 600]
    long_mouth = np.tile(truth_track(meta["mouth_spans"], meta["audio_ms"]), reps + 1)[: 600_000 // STEP]
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:   # streamed from a WAV on disk, as `score` reads it
        wav = Path(tmp) / "long.wav"
        soundfile.write(str(wav), long_audio, sr, subtype="PCM_16")
        t0 = time.perf_counter()
        score(AudioSource(path=wav), long_mouth, STEP, 600_000, pol)
        print(f"scoring 10 minutes of audio (streamed from the WAV): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
