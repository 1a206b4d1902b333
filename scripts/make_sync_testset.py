"""Make the sync-scoring test set (tests/data/sync/): espeak-ng speech with phoneme timing.

Each utterance is a 16 kHz WAV plus `<name>.json` holding the phoneme events and the
ground-truth mouth track built from them (scripts/espeak_phonemes.mouth_events). Japanese
voices are the main case; English is there too. Rerun only to change the set.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from espeak_phonemes import mouth_events, speak  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "sync"
UTTERANCES = [
    ("ja_1", "ja", "こんにちは。きょうは いい てんき ですね。あした も はれる と いい です。"),
    ("ja_2", "ja", "わたしの なまえは あいです。よろしく おねがい します。"),
    ("ja_3", "ja", "この スタジオで くちの うごきと おとを あわせます。"),
    ("ja_4", "ja", "おはよう ございます。いま から かいぎを はじめましょう。"),
    ("en_1", "en-us", "Good morning. Today we check that the mouth follows the voice."),
    ("en_2", "en-us", "Please open the session, play it, and look for problems in the lanes."),
]
SR_OUT = 16000


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, voice, text in UTTERANCES:
        audio, sr, phonemes = speak(text, voice, 150)
        x = audio.astype(np.float32) / 32768.0
        # resample to 16 kHz by linear interpolation (plenty for energy/formant analysis)
        t_out = np.arange(int(len(x) * SR_OUT / sr)) / SR_OUT
        y = np.interp(t_out, np.arange(len(x)) / sr, x)
        pad = np.zeros(int(0.4 * SR_OUT))  # leading and trailing silence, as TTS files have
        y = np.concatenate([pad, y, pad]).astype(np.float32)
        shift = 400.0
        ph = [(round(t + shift, 1), p) for t, p in phonemes]
        end_ms = len(y) * 1000 / SR_OUT
        events = mouth_events(ph, end_ms)
        soundfile.write(str(OUT / f"{name}.wav"), y, SR_OUT, subtype="PCM_16")
        (OUT / f"{name}.json").write_text(json.dumps({
            "text": text, "voice": voice, "audio_ms": round(end_ms),
            "phonemes": ph, "mouth_spans": [[round(a, 1), round(b, 1), m] for a, b, m in events]}, ensure_ascii=False))
        print(name, round(end_ms), "ms", len(ph), "phonemes")


if __name__ == "__main__":
    main()
