"""Does a synthesis engine put its sounds where its phoneme times say? (the truth of the evaluation set)

    .venv/bin/python bench/engine_timing.py [--voices us1 us2 us3 en1]
    .venv/bin/python bench/engine_timing.py --sentences festival:us3_mbrola@1.2 flite:rms ...

The accuracy tables (docs/align_accuracy.md, docs/sync_accuracy.md) take each engine's phoneme times
as the truth. This checks that truth without any model of ours: MBROLA is asked, in a .pho file, for
a voiceless `s` between vowels (s, vowel, s, vowel, ...: 200 ms each, so every boundary is a voiced /
voiceless edge) and the script finds where the 100-1000 Hz energy (voicing) really rises and falls:
the midpoint between the vowel's level and the `s`'s level, crossed within ±100 ms of the asked time.
Positive = the sound comes later than the .pho says. An engine whose sounds land tens of ms away
from its own labels cannot serve as the truth of a timing measurement at that precision.

`--sentences VOICE ...` checks the evaluation clips themselves (bench/voiceset.py) with a second,
independent ear: pocketsphinx's US English acoustic model (trained on human speech; not a dependency
of the studio: `.venv/bin/pip install pocketsphinx`) aligns each clip's text, and the open-mouth
track its phones imply is compared with the truthful track of the engine's labels (the lag, in
10 ms hops, where they agree most; positive = the sound later than the labels).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile

SEG_MS, LEAD_MS = 200, 300
VOWELS = {"en1": ["i:", "u:", "{", "A:"], "jp1": list("iuea"), "jp2": list("iuea"), "jp3": list("iuea")}   # own symbols; US: i u { A
BAND_HZ = (100.0, 1000.0)


def band_energy_db(x: np.ndarray, sr: int) -> np.ndarray:
    """100-1000 Hz energy per 1 ms (10 ms Hann windows centred on each ms)."""
    step, win = sr // 1000, sr // 100
    pad = np.concatenate([np.zeros(win // 2), x, np.zeros(win)])
    f = np.fft.rfftfreq(win, 1.0 / sr)
    sel = (f >= BAND_HZ[0]) & (f <= BAND_HZ[1])
    n = len(x) // step
    frames = pad[(np.arange(n) * step)[:, None] + np.arange(win)[None, :]] * np.hanning(win)
    return 10.0 * np.log10((np.abs(np.fft.rfft(frames, axis=1)) ** 2)[:, sel].sum(axis=1) + 1e-12)


def edges(voice: str) -> list[float]:
    """ms by which each asked vowel/`s` boundary is off in the sound (None when no crossing is found)."""
    vowels = VOWELS.get(voice, ["i", "u", "{", "A"])
    lines, t, asked = ["_ %d" % LEAD_MS, "s %d" % SEG_MS], LEAD_MS + SEG_MS, []
    for v in vowels:
        lines += [f"{v} {SEG_MS} 50 110", f"s {SEG_MS}"]
        asked += [(t, +1), (t + SEG_MS, -1)]        # voicing rises into the vowel, falls out of it
        t += 2 * SEG_MS
    lines.append("_ %d" % LEAD_MS)
    with tempfile.TemporaryDirectory() as tmp:
        pho, wav = Path(tmp) / "t.pho", Path(tmp) / "t.wav"
        pho.write_text("\n".join(lines) + "\n")
        subprocess.run(["mbrola", "-e", f"/usr/share/mbrola/{voice}/{voice}", str(pho), str(wav)],
                       check=True, capture_output=True)
        x, sr = soundfile.read(str(wav), dtype="float64")
    e = band_energy_db(x, sr)
    out = []
    for at, rising in asked:
        vowel_mid = at + SEG_MS // 2 if rising > 0 else at - SEG_MS // 2
        s_mid = at - SEG_MS // 2 if rising > 0 else at + SEG_MS // 2
        mid = 0.5 * (np.median(e[vowel_mid - 30: vowel_mid + 30]) + np.median(e[s_mid - 30: s_mid + 30]))
        seg = e[at - 100: at + 100]
        above = seg > mid
        hits = np.flatnonzero(above[1:] != above[:-1]) + 1
        hits = [h for h in hits if above[h] == (rising > 0)]
        out.append(float(min(hits, key=lambda h: abs(h - 100)) - 100) if hits else None)
    return out


def _sphinx_open(decoder, x: np.ndarray, text: str, n: int) -> np.ndarray:
    """Per 10 ms hop, 1 where pocketsphinx's alignment implies an open mouth (a vowel, or a consonant
    leading into one; silence and p/b/m closed), as the truthful track is built."""
    import re
    vowels = set("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
    pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16).tobytes()
    decoder.set_align_text(" ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split()))
    for phones in (False, True):     # words first, then phones along them
        if phones:
            decoder.set_alignment()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
    kind = np.zeros(n, int)          # 0 closed, 1 vowel, 2 other consonant
    for p in decoder.get_alignment().phones():
        kind[p.start:p.start + p.duration] = 1 if p.name in vowels else (0 if p.name in ("P", "B", "M", "SIL") else 2)
    out, nxt = np.zeros(n), 0.0
    for i in range(n - 1, -1, -1):
        if kind[i] != 2:
            nxt = float(kind[i] == 1)
        out[i] = nxt
    return out


def sentences(voices: list[str]) -> None:
    try:
        from pocketsphinx import Decoder
    except ImportError:
        raise SystemExit("engine_timing --sentences: needs pocketsphinx (.venv/bin/pip install pocketsphinx)")
    import sys
    root = Path(__file__).resolve().parent.parent
    sys.path[:0] = [str(root), str(root / "bench")]
    import voiceset
    from sync_accuracy import truthful_track
    decoder = Decoder(loglevel="FATAL", beam=1e-80, wbeam=1e-60, pbeam=1e-80)   # wide: synthetic voices
    print("| voice | clips | sound vs labels, mean ± sd (ms) |")
    print("| --- | --- | --- |")
    for voice in voices:
        lags = []
        for c in voiceset.clips("en", voice):
            x = c.audio
            if c.sr != 16000:                       # the acoustic model's rate: band-limited resampling
                n = int(round(len(x) * 16000 / c.sr))
                x = np.fft.irfft(np.fft.rfft(x)[: n // 2 + 1], n) * (n / len(x))
            truth = (truthful_track(c.phonemes, c.audio_ms, "en", step=10) > 0).astype(float)
            try:
                heard = _sphinx_open(decoder, x, c.text, len(truth))
            except RuntimeError:                    # no alignment found for this clip
                continue
            agree = {k: np.mean(truth[max(0, -k): len(truth) - max(0, k)] == heard[max(0, k): len(truth) - max(0, -k)])
                     for k in range(-10, 11)}
            lags.append(10 * max(agree, key=agree.get))
        print(f"| {voice} | {len(lags)} | {np.mean(lags):+.1f} ± {np.std(lags):.1f} |" if lags else f"| {voice} | 0 | |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voices", nargs="+", default=["us1", "us2", "us3", "en1"])
    ap.add_argument("--sentences", nargs="+", metavar="VOICE", help="check these evaluation voices' clips")
    args = ap.parse_args()
    if args.sentences:
        return sentences(args.sentences)
    if shutil.which("mbrola") is None:
        raise SystemExit("engine_timing: needs the mbrola program and its voices (apt install mbrola mbrola-us3 ...)")
    print("| MBROLA voice | into a vowel (ms, each vowel) | median | out of it into `s` (ms) | median |")
    print("| --- | --- | --- | --- | --- |")
    for voice in args.voices:
        if not Path(f"/usr/share/mbrola/{voice}/{voice}").exists():
            print(f"| {voice} | not installed | | | |")
            continue
        got = edges(voice)
        cells = []
        for part in (got[0::2], got[1::2]):
            known = [v for v in part if v is not None]
            cells += [" ".join("?" if v is None else f"{v:+.0f}" for v in part),
                      f"{np.median(known):+.0f}" if known else "?"]
        print(f"| {voice} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
