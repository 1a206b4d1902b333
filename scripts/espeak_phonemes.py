"""Speak text with libespeak-ng and return the audio plus its phoneme timing (ground truth).

Used to make the demo session and the sync test set: espeak-ng's phoneme events give the
exact time each phoneme starts in the WAV, so a mouth track built from them is correctly timed.
Needs Debian's espeak-ng (libespeak-ng1); a developer tool, not a run-time dependency.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

import numpy as np

EVENT_PHONEME, EVENT_END, EVENT_TERMINATED = 7, 5, 0
AUDIO_OUTPUT_SYNCHRONOUS = 2
INIT_PHONEME_EVENTS, INIT_DONT_EXIT = 0x0001, 0x8000


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
_lib = None
_rate = 0


def _load():
    global _lib, _rate
    if _lib is None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        _lib = ctypes.CDLL(name)
        _rate = _lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, None, INIT_PHONEME_EVENTS | INIT_DONT_EXIT)
        if _rate <= 0:
            raise RuntimeError("espeak-ng failed to initialise")
    return _lib


def speak(text: str, voice: str = "en-us", rate_wpm: int = 150, pitch: int = 50
          ) -> tuple[np.ndarray, int, list[tuple[float, str]]]:
    """Return (mono int16 samples, sample rate, [(start_ms, phoneme), ...])."""
    lib = _load()
    chunks: list[np.ndarray] = []
    events: list[tuple[float, str]] = []
    total = [0]

    def on_synth(wav, n, ev):
        if n > 0 and wav:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while ev[i].type != EVENT_TERMINATED:
            e = ev[i]
            if e.type == EVENT_PHONEME:
                events.append((float(e.sample) * 1000.0 / _rate, e.id.string.decode("ascii", "replace")))
            i += 1
        total[0] += max(n, 0)
        return 0

    cb = _CALLBACK(on_synth)
    lib.espeak_SetSynthCallback(cb)
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise RuntimeError(f"espeak-ng has no voice {voice!r}")
    lib.espeak_SetParameter(1, rate_wpm, 0)  # espeakRATE
    lib.espeak_SetParameter(3, max(0, min(100, pitch)), 0)  # espeakPITCH (0-100, 50 normal)
    data = text.encode("utf-8")
    lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, 0, None, None)  # POS_CHARACTER, espeakCHARS_AUTO
    lib.espeak_Synchronize()
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    return audio, _rate, events


VOWEL_MOUTH = {"a": 1, "A": 1, "V": 1, "&": 1, "@": 4, "3": 4, "e": 4, "E": 4,
               "i": 2, "I": 2, "y": 2, "o": 5, "O": 5, "0": 5, "u": 3, "U": 3, "w": 3}
CLOSING = set("pbmfv")


def mouth_events(phonemes: list[tuple[float, str]], end_ms: float) -> list[tuple[float, float, int]]:
    """(start, end, mouth_id) per phoneme: vowels by their first letter, lips closed for p/b/m/f/v
    and pauses; other consonants keep the shape of the vowel before them."""
    out = []
    current = 0
    for k, (t, ph) in enumerate(phonemes):
        nxt = phonemes[k + 1][0] if k + 1 < len(phonemes) else end_ms
        head = ph.strip("'\",%=:;")[:1]
        if not head or head == "_":
            current = 0
        elif head in VOWEL_MOUTH:
            current = VOWEL_MOUTH[head]
        elif head in CLOSING:
            current = 0
        out.append((t, nxt, current))
    return out


if __name__ == "__main__":
    audio, sr, ev = speak(" ".join(sys.argv[1:]) or "hello world")
    print(sr, len(audio) / sr, ev[:20])
