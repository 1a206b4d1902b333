"""Write the held-out test clips (tests/data/heldout/): a few sentences of the held-out voices of
bench/voiceset.py, 16 kHz FLAC with their phoneme timing, so ./test checks the aligner's worst
held-out voice and the scorer's bias without the engines installed. Sentences are fixed by index
(six of the sixteen, spread evenly), not picked by result. Rerun only to change the set.

    .venv/bin/python scripts/make_heldout_clips.py
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import voiceset  # noqa: E402

OUT = ROOT / "tests" / "data" / "heldout"
VOICES = {"ja": ["openjtalk:mei@1.3^4", "mbrola:jp2"], "en": ["festival:cmu_us_slt_arctic_hts", "festival:en1_mbrola@0.85"]}
SENTENCES = (1, 4, 6, 9, 11, 14)
SR = 16000


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):
        old.unlink()
    for lang, names in VOICES.items():
        for voice in names:
            assert voice in voiceset.HELD_OUT[lang], voice
            for k in SENTENCES:
                c = voiceset.clip(voice, lang, voiceset.SENTENCES[lang][k])
                n = int(round(len(c.audio) * SR / c.sr))           # band-limited resampling (FFT)
                y = (np.fft.irfft(np.fft.rfft(c.audio)[: n // 2 + 1], n) * n / len(c.audio)).astype(np.float32)
                name = f"{lang}_{re.sub(r'[^a-z0-9]+', '-', voice.split(':')[1].lower()).strip('-')}_{k}"
                soundfile.write(str(OUT / f"{name}.flac"), y, SR, subtype="PCM_16")
                (OUT / f"{name}.json").write_text(json.dumps({
                    "voice": voice, "lang": lang, "text": c.text, "audio_ms": round(len(y) * 1000 / SR, 1),
                    "phonemes": c.phonemes}, ensure_ascii=False) + "\n", encoding="utf-8")
                print(name, f"{len(y) / SR:.1f} s")


if __name__ == "__main__":
    main()
