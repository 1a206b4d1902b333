"""Speech with exact phoneme timing from the TTS engines Debian packages (developer tools for the
aligner's training and evaluation, never run-time dependencies of the product).

A voice is named `engine:name`, optionally with `@speed` (1.0 normal, 1.3 faster) and `^pitch`
(semitones up), e.g. `openjtalk:m001@1.3^4`, `espeak:ja+f2@0.8`, `festival:us1_mbrola@1.2`.
`speak(voice, text)` returns (float32 mono samples, sample rate, [(start_ms, phoneme)]) with the
phonemes in espeak-ng's symbols, so studio/qa/align/phones.py scores every engine alike.

Engines (apt packages):
- `espeak`   espeak-ng and its MBROLA voices (`mb-us1`, `mb-jp2`, ...: mbrola, mbrola-us1, ...)
- `festival` festival, festvox-kallpc16k / -kdlpc16k / -rablpc16k / -us-slt-hts / -us1..3 / -en1
- `flite`    flite (its cg voices: awb, rms, slt)
- `openjtalk` open-jtalk, open-jtalk-mecab-naist-jdic, hts-voice-nitech-jp-atr503-m001 (`m001`);
             `mei` is the voice inside the pyopenjtalk-plus wheel (a held-out voice, never trained on)
- `mbrola`   MBROLA's Japanese diphones (`jp1`, `jp2`, `jp3`: mbrola, mbrola-jp1..3) driven by Open
             JTalk's phonemes and durations (espeak-ng's own jp mapping leaves many diphones silent)
An Open JTalk voice may also take `~alpha`, its all-pass constant (another vocal tract: `m001~0.47^7`).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

import espeak_phonemes

# ------------------------------------------------------------------ phone names -> espeak-ng symbols
_RADIO = {"pau": "_", "h#": "_", "aa": "A:", "ae": "a", "ah": "V", "ao": "O:", "aw": "aU", "ax": "@", "ay": "aI",
          "eh": "E", "er": "3:", "ey": "eI", "ih": "I", "iy": "i:", "ow": "oU", "oy": "OI", "uh": "U", "uw": "u:",
          "y": "j"}
_MRPA = {"#": "_", "@": "@", "uh": "V", "ii": "i:", "i": "I", "e": "E", "a": "a", "aa": "A:", "o": "0", "oo": "O:",
         "u": "U", "uu": "u:", "@@": "3:", "ei": "eI", "ai": "aI", "oi": "OI", "ou": "oU", "au": "aU", "i@": "i@",
         "e@": "e@", "u@": "U@", "y": "j"}
MRPA_VOICES = {"rab_diphone", "don_diphone", "en1_mbrola"}
# Open JTalk: devoiced vowels are upper case (their shape counts, SPEC §13); palatalised bilabials close
_OJT = {"sil": "_", "pau": "_", "A": "a", "I": "i", "U": "u", "E": "e", "O": "o", "y": "j",
        "py": "p", "by": "b", "my": "m"}
HTS_VOICES = {"m001": Path("/usr/share/hts-voice/nitech-jp-atr503-m001/nitech_jp_atr503_m001.htsvoice")}
OJT_DIC = Path("/var/lib/mecab/dic/open-jtalk/naist-jdic")


@dataclass(frozen=True)
class Voice:
    engine: str
    name: str
    speed: float = 1.0
    pitch: float = 0.0
    alpha: float = 0.0        # Open JTalk's all-pass constant (`~0.6`): another vocal tract; 0 = the voice's own

    @classmethod
    def parse(cls, spec: str) -> "Voice":
        m = re.fullmatch(r"(\w+):([^@^~]+)(?:~([\d.]+))?(?:@([\d.]+))?(?:\^([-+\d.]+))?", spec)
        if not m:
            raise ValueError(f"not a voice: {spec!r}")
        return cls(m[1], m[2], float(m[4] or 1.0), float(m[5] or 0.0), float(m[3] or 0.0))

    def __str__(self) -> str:
        return (f"{self.engine}:{self.name}" + (f"~{self.alpha:g}" if self.alpha else "")
                + (f"@{self.speed:g}" if self.speed != 1 else "") + (f"^{self.pitch:+g}" if self.pitch else ""))


def speak(voice: Voice | str, text: str) -> tuple[np.ndarray, int, list[tuple[float, str]]] | None:
    """(samples, rate, phonemes) or None when the engine failed on this text."""
    v = Voice.parse(voice) if isinstance(voice, str) else voice
    if v.engine == "espeak":
        a, sr, ph = espeak_phonemes.speak(text, v.name, int(round(175 * v.speed)), int(round(50 + 4 * v.pitch)))
        return a.astype(np.float32) / 32768.0, sr, ph
    with tempfile.TemporaryDirectory() as tmp:
        return {"festival": _festival, "flite": _flite, "openjtalk": _openjtalk,
                "mbrola": _mbrola}[v.engine](v, text, Path(tmp))


def _festival(v: Voice, text: str, tmp: Path):
    wav, segs, scm = tmp / "f.wav", tmp / "f.segs", tmp / "f.scm"
    safe = text.replace('"', "").replace("\\", "")
    scm.write_text(f"(voice_{v.name})\n(Parameter.set 'Duration_Stretch {1.0 / v.speed:.3f})\n"
                   f'(set! u (utt.synth (Utterance Text "{safe}")))\n'
                   f'(utt.save.wave u "{wav}")\n(utt.save.segs u "{segs}")\n')
    res = subprocess.run(["festival", "--batch", str(scm)], capture_output=True, text=True, timeout=120)
    if res.returncode or not wav.exists() or not segs.exists():
        return None
    table = _MRPA if v.name in MRPA_VOICES else _RADIO
    phones, start = [], 0.0
    for line in segs.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0][0].isdigit():
            phones.append((start, table.get(parts[2], parts[2])))
            start = float(parts[0]) * 1000.0
    audio, sr = soundfile.read(str(wav), dtype="float32")
    return _pitch(audio, sr, v.pitch), sr, phones


def _flite(v: Voice, text: str, tmp: Path):
    wav = tmp / "f.wav"
    res = subprocess.run(["flite", "-voice", v.name, "--setf", f"duration_stretch={1.0 / v.speed:.3f}",
                          "-psdur", "-t", text, "-o", str(wav)], capture_output=True, text=True, timeout=120)
    if res.returncode or not wav.exists():
        return None
    phones, start = [], 0.0
    for item in res.stdout.split():
        name, _, end = item.rpartition(":")
        phones.append((start, _RADIO.get(name, name)))
        start = float(end) * 1000.0
    audio, sr = soundfile.read(str(wav), dtype="float32")
    return _pitch(audio, sr, v.pitch), sr, phones


def hts_voice(name: str) -> Path:
    if name == "mei":
        import pyopenjtalk
        return Path(pyopenjtalk.__file__).parent / "htsvoice" / "mei_normal.htsvoice"
    return HTS_VOICES[name]


def _ojt_labels(v: Voice, text: str, tmp: Path) -> tuple[list[tuple[float, str]], Path] | None:
    """Open JTalk's phonemes [(start_ms, phoneme)] and its WAV, at the voice's own rate (48 kHz: at
    -s 16000 these voices come out slow)."""
    src, wav, trace = tmp / "t.txt", tmp / "o.wav", tmp / "trace.txt"
    src.write_text(text + "\n", encoding="utf-8")
    cmd = ["open_jtalk", "-x", str(OJT_DIC), "-m", str(hts_voice(v.name)), "-ow", str(wav), "-ot", str(trace),
           "-r", f"{v.speed:.3f}", "-fm", f"{v.pitch:g}", *(["-a", f"{v.alpha:g}"] if v.alpha else []), str(src)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode or not wav.exists():
        return None
    lines = trace.read_text(encoding="utf-8", errors="replace").split("[Output label]", 1)[-1].splitlines()
    raw = []
    for line in lines:
        m = re.match(r"(\d+) (\d+) [^-]*-([^+]+)\+", line)
        if m:
            raw.append((int(m[1]) / 1e4, m[3]))
        elif raw and not line.strip():
            break
    return raw, wav


def _openjtalk(v: Voice, text: str, tmp: Path):
    """Open JTalk, the trace's label times as the truth."""
    got = _ojt_labels(v, text, tmp)
    if got is None:
        return None
    raw, wav = got
    phones = []
    for k, (t, p) in enumerate(raw):
        nxt = raw[k + 1][1] if k + 1 < len(raw) else "sil"
        if p == "cl":        # a geminate closure: closed before a bilabial, else a consonant
            p = "p" if _OJT.get(nxt, nxt) in ("p", "b", "m") else "t"
        phones.append((t, _OJT.get(p, p)))
    audio, sr = soundfile.read(str(wav), dtype="float32")
    return audio, sr, phones


# Open JTalk phonemes -> MBROLA jp2 symbols (its readme's table); the moraic nasal by what follows.
# jp2 has no diphones into its `Q`: a geminate is its consonant held longer (see _mbrola).
_JP2 = {"sil": "_", "pau": "_", "sh": "S", "ch": "tS", "j": "dZ", "y": "j", "U": "u_0", "I": "i_0",
        "A": "a", "E": "e", "O": "o", "ny": "n1", "hy": "C", "ky": "k j", "gy": "g j", "ry": "r j", "my": "m j",
        "by": "b j", "py": "p j", "dy": "d j", "ty": "t j", "v": "b"}
_JP2_N = {"p": "m:", "b": "m:", "m": "m:", "t": "n:", "d": "n:", "n": "n:", "r": "n:", "ts": "n:", "ch": "n1:",
          "j": "n1:", "ny": "n1:", "k": "G:", "g": "G:"}
# ... and -> MBROLA jp1 / jp3 symbols (Yoram Meron's set: rr, a geminate named by its consonant, no
# devoiced vowels)
_JP13 = {"sil": "_", "pau": "_", "sh": "S", "ch": "tS", "j": "dZ", "y": "j", "r": "rr", "U": "u", "I": "i",
         "A": "a", "E": "e", "O": "o", "ny": "n j", "hy": "h j", "ky": "k j", "gy": "g j", "ry": "rr j",
         "my": "m j", "by": "b j", "py": "p j", "dy": "d j", "ty": "t j", "v": "b"}
_JP13_Q = {"t": "Qt", "p": "Qp", "k": "Qk", "sh": "QS", "s": "Qs", "ts": "Qts", "ch": "QtS", "d": "Qd"}
F0 = {"jp1": 120.0}          # a man's voice; the others are women's
_VOWELS = set("aiueo")
_VOICED = _VOWELS | {"n", "n1", "m", "r", "j", "w", "b", "d", "g", "z", "Z", "dZ", "G"}
# the truth of an MBROLA symbol, in espeak-ng's names where they differ
_TRUTH = {"u_0": "u", "i_0": "i", "rr": "r", "n1": "n", "C": "C", "Z": "dZ"}


def _jp2_in_context(sym: str, prev: str, nxt: str) -> str:
    """jp2 lacks some diphones our plain mapping would ask for (MBROLA then leaves a silence): after a
    vowel j and dz are fricatives, n and h before i are palatal, and a devoiced vowel needs a consonant
    before it."""
    if prev in _VOWELS and sym in ("dZ", "dz"):
        return {"dZ": "Z", "dz": "z"}[sym]
    if sym in ("n", "h") and nxt in ("i", "i_0"):
        return {"n": "n1", "h": "C"}[sym]
    if sym in ("u_0", "i_0") and (prev in _VOWELS or prev == "_" or nxt in _VOICED):
        return sym[0]
    return sym


def _mbrola(v: Voice, text: str, tmp: Path):
    """MBROLA jp1/jp2/jp3 speaking Open JTalk's phonemes with m001's durations (scaled by the speed)
    on a falling pitch line; the .pho durations are the truth."""
    got = _ojt_labels(Voice("openjtalk", "m001"), text, tmp)
    if got is None:
        return None
    raw, _ = got
    ends = [t for t, _ in raw[1:]] + [raw[-1][0] + 200.0]
    items: list[list] = []    # [symbol, ms, truth (espeak-ng name), a closure's geminate symbol] for the .pho and the truth
    for k, ((t0, p), t1) in enumerate(zip(raw, ends)):
        nxt = raw[k + 1][1] if k + 1 < len(raw) else "sil"
        dur = max(10.0, (t1 - t0) / v.speed)
        if p == "cl":        # a geminate's closure, held in the consonant it doubles: jp2 holds it longer,
            # jp1/jp3 name it (Qk, Qt, ...; a palatalised one by its consonant)
            named = None if v.name == "jp2" else _JP13_Q.get(nxt[:-1] if nxt.endswith("y") else nxt)
            items.append([None, dur, "p" if nxt in ("p", "b", "m", "py", "by", "my") else "t", named])
            continue
        if p == "N" and v.name == "jp2":
            items.append([_JP2_N.get(nxt, "N:"), dur, "N", None])
            continue
        parts = (_JP2 if v.name == "jp2" else _JP13).get(p, p).split()
        for part, d in zip(parts, [dur] if len(parts) == 1 else [dur * 0.4, dur * 0.6]):
            items.append([part, d, _TRUTH.get(part, part), None])
    if v.name == "jp2":
        syms = [it[0] for it in items]
        for k, it in enumerate(items):
            if it[0] is not None:
                prev = next((s for s in reversed(syms[:k]) if s is not None), "_")
                it[0] = _jp2_in_context(it[0], prev, syms[k + 1] if k + 1 < len(syms) else "_")
    f0 = F0.get(v.name, 220.0) * 2 ** (v.pitch / 12)
    lines, phones, t, total = [], [], 0.0, sum(it[1] for it in items)
    held = 0.0               # a closure's ms, spoken within the next symbol
    for k, (sym, d, truth, geminate) in enumerate(items):
        phones.append((t, truth))
        if sym is None:      # the closure joins the next symbol
            nxt = items[k + 1] if k + 1 < len(items) else None
            if nxt is not None and nxt[0] is not None:
                nxt[0] = geminate or nxt[0]
                held += round(d)
                t += round(d)
                continue
            sym = "_"
        pitch = f0 * (1.0 - 0.2 * (t - held) / max(total, 1.0))
        lines.append(f"{sym} {round(d) + held:.0f} 50 {pitch:.0f}")
        t += round(d)
        held = 0.0
    pho, wav = tmp / "p.pho", tmp / "m.wav"
    pho.write_text("\n".join(lines) + "\n")
    res = subprocess.run(["mbrola", "-e", f"/usr/share/mbrola/{v.name}/{v.name}", str(pho), str(wav)],
                         capture_output=True, text=True, timeout=120)
    if res.returncode or not wav.exists():
        return None
    audio, sr = soundfile.read(str(wav), dtype="float32")
    return audio, sr, phones


def _pitch(audio: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    """Festival and flite have no portable pitch knob: shift with sox (tempo kept), when asked. sox's
    `pitch` also moves the sound in time, by an amount that depends on the shift (measured on
    speech: ~13 ms later at -4 semitones, 10-20 ms earlier at +3..+10), which would put the
    engine's phoneme times off the sound: the result is moved back to where the original is."""
    if not semitones or shutil.which("sox") is None:
        return audio
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a.wav", Path(tmp) / "b.wav"
        soundfile.write(str(a), audio, sr)
        subprocess.run(["sox", str(a), str(b), "pitch", f"{100 * semitones:.0f}"], check=True, capture_output=True)
        out, _ = soundfile.read(str(b), dtype="float32")
    return realigned(out, audio, sr)


def realigned(moved: np.ndarray, original: np.ndarray, sr: int, max_ms: int = 60) -> np.ndarray:
    """`moved` shifted in time so that its 1 ms loudness envelope lines up with `original`'s (the
    lag of their best cross-correlation within ±max_ms), cut or padded to `original`'s length."""
    step = max(1, sr // 1000)

    def envelope(x: np.ndarray) -> np.ndarray:
        n = len(x) // step
        e = np.sqrt((x[: n * step].astype(np.float64).reshape(n, step) ** 2).mean(axis=1))
        return e - e.mean()

    a, b = envelope(original), envelope(moved)
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    lags = range(-max_ms, max_ms + 1)
    corr = [float(np.dot(a[max(0, -k): n - max(0, k)], b[max(0, k): n - max(0, -k)])) for k in lags]
    delay = lags[int(np.argmax(corr))] * step          # samples `moved` lies after `original`
    out = np.zeros(len(original), np.float32)
    src = moved[delay:] if delay >= 0 else np.concatenate([np.zeros(-delay, np.float32), moved])
    out[: min(len(out), len(src))] = src[: len(out)]
    return out
