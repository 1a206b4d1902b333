"""Speak English with Festival and return the audio plus its segment timing (a second engine for the
aligner's training and evaluation: diphone and HTS voices, not formant synthesis like espeak-ng).
Needs Debian's festival and its voices (festvox-kallpc16k, festvox-us-slt-hts); a developer tool."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

VOICES = ("kal_diphone", "cmu_us_slt_arctic_hts")
# Festival's phone names -> espeak-ng symbols, so studio/qa/align/phones.py scores both alike
_TO_ESPEAK = {"pau": "_", "aa": "A:", "ae": "a", "ah": "V", "ao": "O:", "aw": "aU", "ax": "@", "ay": "aI", "eh": "E",
              "er": "3:", "ey": "eI", "ih": "I", "iy": "i:", "ow": "oU", "oy": "OI", "uh": "U", "uw": "u:",
              "p": "p", "b": "b", "m": "m", "w": "w", "y": "j"}


def available() -> list[str]:
    if shutil.which("festival") is None:
        return []
    roots = [Path("/usr/share/festival/voices")]
    have = {p.name for r in roots if r.exists() for p in r.glob("*/*")}
    return [v for v in VOICES if v in have]


def speak(text: str, voice: str) -> tuple[np.ndarray, int, list[tuple[float, str]]] | None:
    """(mono int16 samples, sample rate, [(start_ms, espeak-style phoneme)]) or None if Festival failed."""
    import soundfile
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wav, segs, scm = tmp / "f.wav", tmp / "f.segs", tmp / "f.scm"
        safe = text.replace('"', "").replace("\\", "")
        scm.write_text(f'(voice_{voice})\n(set! u (utt.synth (Utterance Text "{safe}")))\n'
                       f'(utt.save.wave u "{wav}")\n(utt.save.segs u "{segs}")\n')
        res = subprocess.run(["festival", "--batch", str(scm)], capture_output=True, text=True, timeout=120)
        if res.returncode or not wav.exists() or not segs.exists():
            return None
        audio, sr = soundfile.read(str(wav), dtype="int16")
        phones, start = [], 0.0
        for line in segs.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0][0].isdigit():
                end = float(parts[0]) * 1000.0
                phones.append((start, _TO_ESPEAK.get(parts[2], parts[2])))
                start = end
    return audio, int(sr), phones
