"""Sync scorer accuracy (SPEC §9): the tables in docs/sync_accuracy.md.

    .venv/bin/python bench/sync_accuracy.py [--no-voices]

1. Bias per voice: truthful tracks (the mouth exactly on the phonemes, SPEC §13 targets on the
   40 ms grid, a consonant showing the vowel it leads into) of every voice of bench/voiceset.py,
   built on and held out: the mean and spread of the measured offsets and the share within 40 ms,
   for the scorer as it is and, in the same run, for the previous speech side (the loudness
   envelope with a constant 20 ms lead) as the baseline. A voice whose engine's phoneme times are
   not where its sounds are (voiceset.LABELS_OFF, found by bench/engine_timing.py) is marked †.

2. For each utterance of tests/data/sync, the ground-truth mouth track (from espeak-ng's phoneme
timing, quantised to the 40 ms grid by rounding, as production does) is shifted by -400..+400 ms; the scorer must
find the shift within one frame (40 ms) with a confident answer. Shuffled tracks (right shapes,
wrong timing) and random tracks measure how often a wrong track is flagged as a guess. Injected
open-mouth-in-silence stretches must be found. Also times scoring 10 minutes of audio.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from contracts.audio import AudioSource  # noqa: E402
from studio.qa import sync as sync_module  # noqa: E402
from studio.qa.align.phones import espeak_targets, frame_targets  # noqa: E402
from studio.qa.sync import load_policy, score  # noqa: E402

DATA = ROOT / "tests" / "data" / "sync"
STEP = 40
SHIFTS = range(-400, 401, 100)


def lang_of(meta: dict) -> str:
    return "ja" if meta["voice"].startswith("ja") else "en"


def truth_track(meta: dict, shift: float = 0.0) -> np.ndarray:
    """The truthful track of a tests/data/sync utterance, its phonemes shifted by `shift` ms."""
    return truthful_track([(t + shift, p) for t, p in meta["phonemes"]], meta["audio_ms"], lang_of(meta))


def span_track(spans, audio_ms, shift=0.0) -> np.ndarray:
    """A track from (start, end, mouth id) spans, quantised to the grid by rounding."""
    n = int(np.ceil(audio_ms / STEP))
    m = np.zeros(n, np.int8)
    for a, b, mid in spans:
        i0, i1 = int(round((a + shift) / STEP)), int(round((b + shift) / STEP))
        m[max(0, i0):max(0, min(n, i1))] = mid
    return m


def truthful_track(phonemes, audio_ms: float, lang: str, step: float = STEP) -> np.ndarray:
    """The mouth exactly on the phonemes: per frame the SPEC §13 target (the phoneme covering most of
    the frame: a vowel's shape, closed for silence and bilabials); a frame whose target is any shape
    (a consonant) shows the next frame's target that is not (the vowel it leads into, or closed)."""
    n = int(np.ceil(audio_ms / step))
    targets = frame_targets(espeak_targets([tuple(p) for p in phonemes], audio_ms, lang), n, step)
    out = np.zeros(n, np.int8)
    nxt = 0
    for i in range(n - 1, -1, -1):
        if targets[i]:
            nxt = targets[i][0]
        out[i] = nxt
    return out


def bias(voices_by_lang: dict, policy: dict) -> dict:
    """{(lang, group, voice): offsets of its truthful tracks}."""
    import voiceset
    out = {}
    for lang, groups in voices_by_lang.items():
        for group, names in groups.items():
            for voice in names:
                offs = []
                for c in voiceset.clips(lang, voice):
                    r = score(AudioSource.of(c.audio, c.sr), truthful_track(c.phonemes, c.audio_ms, lang), STEP,
                              c.audio_ms, policy, lang=lang)
                    offs.append(np.nan if r.offset_ms is None else r.offset_ms)
                out[(lang, group, voice)] = np.array(offs, float)
    return out


def bias_table(now: dict, before: dict, labels_off: dict) -> list[str]:
    """The per-voice table; a voice in `labels_off` (its engine's phoneme times are not where its
    sounds are) is marked † and its mean is left out of the worst-mean line, which names it apart."""
    lines = ["| lang | voice | group | tracks | offset mean ± sd (ms) | within 40 ms | before: mean ± sd, within 40 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for key, o in now.items():
        b = before[key]
        mark = " †" if key[2] in labels_off else ""
        lines.append(f"| {key[0]} | {key[2]}{mark} | {key[1]} | {len(o)} | {np.nanmean(o):+.1f} ± {np.nanstd(o):.1f} | "
                     f"{np.mean(np.abs(o) <= 40):.0%} | {np.nanmean(b):+.1f} ± {np.nanstd(b):.1f}, "
                     f"{np.mean(np.abs(b) <= 40):.0%} |")
    for lang in sorted({k[0] for k in now}):
        o = np.concatenate([v for k, v in now.items() if k[0] == lang])
        b = np.concatenate([v for k, v in before.items() if k[0] == lang])
        true = [k for k in now if k[0] == lang and k[2] not in labels_off]
        worst = max(true, key=lambda k: abs(np.nanmean(now[k])))
        off = "".join(f"; † `{k[2]}` {np.nanmean(now[k]):+.1f}" for k in now if k[0] == lang and k[2] in labels_off)
        lines.append(f"| {lang} | **all voices** | | {len(o)} | worst mean {np.nanmean(now[worst]):+.1f} "
                     f"(`{worst[2]}`){off} | **{np.mean(np.abs(o) <= 40):.0%}** | {np.mean(np.abs(b) <= 40):.0%} |")
    return lines


def load(name):
    x, sr = soundfile.read(str(DATA / f"{name}.wav"), dtype="float32")
    return x, sr, json.loads((DATA / f"{name}.json").read_text())


def names():
    return sorted(p.stem for p in DATA.glob("*.wav"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-voices", action="store_true", help="skip the per-voice bias table (needs the engines)")
    args = ap.parse_args()
    pol = load_policy()
    if not args.no_voices:
        import voiceset
        groups = {lang: {"built on": voiceset.BUILT_ON[lang], "held out": voiceset.HELD_OUT[lang]} for lang in ("ja", "en")}
        now = bias(groups, pol)
        sync_module.SPEECH_SIDE, old = "envelope", dict(pol, acoustic_lead_ms=20)
        before = bias(groups, old)
        sync_module.SPEECH_SIDE = "articulation"
        print("\n".join(bias_table(now, before, voiceset.LABELS_OFF)) + "\n")
        for voice, why in voiceset.LABELS_OFF.items():
            print(f"† {voice}: its labels are not the truth: {why} (bench/engine_timing.py)\n")
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
            r = score(AudioSource.of(x, sr), truth_track(meta, s), STEP, meta["audio_ms"], pol, lang=lang_of(meta))
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
            for m in (span_track(sh, meta["audio_ms"]), np.repeat(rng.integers(0, 6, n // 4 + 1), 4)[:n].astype(np.int8)):
                r = score(AudioSource.of(x, sr), m, STEP, meta["audio_ms"], pol, lang=lang_of(meta))
                wrong_total += 1
                wrong_flagged += (not r.confident) or r.verdict != "pass"
        # inject open mouth into the leading and trailing silence
        m = truth_track(meta)
        m[1:6] = 1
        m[-7:-2] = 5
        r = score(AudioSource.of(x, sr), m, STEP, meta["audio_ms"], pol, lang=lang_of(meta))
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
    long_mouth = np.tile(truth_track(meta), reps + 1)[: 600_000 // STEP]
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:   # streamed from a WAV on disk, as `score` reads it
        wav = Path(tmp) / "long.wav"
        soundfile.write(str(wav), long_audio, sr, subtype="PCM_16")
        t0 = time.perf_counter()
        score(AudioSource(path=wav), long_mouth, STEP, 600_000, pol)
        print(f"scoring 10 minutes of audio (streamed from the WAV): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
