"""The viseme aligner (SPEC §13): a mouth track from the audio, and from the text when it is known.

    result = align(AudioSource(path=wav), text=None, lang="ja", step_ms=40)
    doc = result.timeline("utt.wav")          # a canonical mouth timeline (SPEC §4)

Pipeline: MFCC features (features.py) -> frame-class probabilities from a small MLP trained on
synthesised speech (model.py) -> shapes per 10 ms hop, by Viterbi over shapes (audio only) or by
forced alignment of the text's units (decode.py, text.py) -> per frame the shape most of its hops
show -> events on the step grid, none shorter than a frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from contracts.audio import AudioSource
from contracts.jsonfile import json_number as _num
from contracts.policy import default_policy
from studio.qa.align import adapt, decode, features
from studio.qa.align.model import model_for
from studio.qa.align.phones import SHAPES
from studio.qa.align.text import Script, script_for, text_language
from studio.qa.sync import dilate, voice_activity

LANGS = ("ja", "en")
LANG_NAMES = {"ja": "Japanese", "en": "English"}
MAX_CHARS_PER_S = 40      # nobody says more characters a second (Japanese speech is ~8-10 morae a second)
MIN_TEXT_CAP = 400        # a short clip still takes a sentence or two of text


@dataclass
class AlignResult:
    shapes: np.ndarray            # (frames,) mouth id per frame
    step_ms: float
    audio_ms: float
    mode: str                     # "audio" or "text"
    hop_shapes: np.ndarray        # (hops,) per 10 ms
    speech_hops: np.ndarray       # (hops,) bool
    notes: list[str] = field(default_factory=list)
    units: list[dict] = field(default_factory=list)   # with text: the words at their aligned times (SPEC §13)
    lang: str = "ja"              # the language aligned (the text's own when it was written in the other)

    def events(self) -> list[dict]:
        """Runs of equal frames as events on the step grid: they cover [0, n * step_ms) with
        n = ceil(audio_ms / step_ms), the last one included (SPEC §13)."""
        out = []
        s = self.shapes
        if not len(s):
            return out
        edges = np.flatnonzero(np.diff(s)) + 1
        starts = np.concatenate([[0], edges])
        ends = np.concatenate([edges, [len(s)]])
        for a, b in zip(starts, ends):
            out.append({"t_ms": _num(a * self.step_ms), "dur_ms": _num((b - a) * self.step_ms), "mouth_id": int(s[a])})
        return out

    def timeline(self, audio_ref: str) -> dict:
        doc = {"audio": audio_ref, "step_ms": _num(self.step_ms), "frames": self.events()}
        if self.mode == "text":
            doc["units"] = self.units
        return doc

    def summary(self) -> dict:
        counts = np.bincount(self.shapes.astype(np.int64), minlength=6) if len(self.shapes) else np.zeros(6, int)
        speech_ms = float(self.speech_hops.sum()) * features.HOP_MS
        return {"frames": int(len(self.shapes)), "frames_per_shape": {SHAPES[k]: int(c) for k, c in enumerate(counts)},
                "speech_ms": round(min(speech_ms, self.audio_ms), 1),
                "silence_ms": round(max(0.0, self.audio_ms - speech_ms), 1), "mode": self.mode}


def speech_mask(energy_db: np.ndarray) -> np.ndarray:
    """Hops with speech energy: the scorer's voice activity (SPEC §9), so the aligner and the sync
    score agree on where somebody speaks; silence and steady noise are not speech."""
    return voice_activity(energy_db, default_policy())


def align(audio: AudioSource, text: str | None = None, lang: str = "ja", step_ms: float = 40.0,
          audio_ms: float | None = None, progress=None) -> AlignResult:
    """Align a mouth track to the audio (and the text). `progress(done, total)` in hops."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}")
    audio_ms = float(audio_ms if audio_ms is not None else audio.frames * 1000.0 / audio.sample_rate)
    notes = []
    if text and len(text) > max(MIN_TEXT_CAP, audio_ms / 1000.0 * MAX_CHARS_PER_S):
        notes.append(f"the text has {len(text)} characters, more than anyone says in {audio_ms / 1000.0:g} s: "
                     f"it cannot be this audio's text, so the audio alone was used")
        text = None
    written = text_language(text) if text else None
    if written is not None and written != lang:   # English read as Japanese is spelled out letter by letter
        notes.append(f"the text is written in {LANG_NAMES[written]}, not {LANG_NAMES[lang]}: it was aligned as "
                     f"{LANG_NAMES[written]} (lang {written})")
        lang = written
    model = model_for(lang)
    energy = np.zeros(features.n_hops(audio))
    feats = features.features(audio, progress, energy)
    speech = speech_mask(energy)
    post = quiet_is_closed(model.posteriors(feats), speech)
    script = script_for(text, lang) if text and text.strip() else Script([], [])
    units = script.units
    if len(units) > len(post):                 # more sounds than 10 ms hops: no alignment can hold them
        notes.append("the text has more sounds than the audio has room for; the audio alone was used")
        script, units, text = Script([], []), [], None
    words: list[dict] = []
    if units and any(u.kind != "pause" for u in units):
        path = _forced(post, model.priors, units, lang)
        hops = decode.unit_shapes(path, units, post)
        for _ in range(adapt.ROUNDS):          # learn this voice from the file, along the alignment
            labels = adapt.hop_labels(path, units, hops, adapt.SPLIT_CLOSED[lang])
            mixed = quiet_is_closed(adapt.adapted(feats, post, labels, adapt.MIX_TEXT[lang], adapt.KEEP_TEXT[lang]),
                                    speech)
            path = _forced(mixed, model.priors, units, lang)
            hops = decode.unit_shapes(path, units, mixed)
        if lang == "ja" and DEVOICED_HOLD:
            _hold_devoiced(hops, path, units)
        hops[~speech & (hops != 0) & _far_from_speech(speech)] = 0   # no mouth movement in long silence
        words = word_times(path, script, audio_ms)
        mode = "text"
    else:
        if text and text.strip():
            notes.append("the text gave no sounds to align; the audio alone was used")
        mixed = post
        for _ in range(adapt.ROUNDS):              # learn this voice from the hops the classifier is sure of
            mixed = quiet_is_closed(adapt.adapted(feats, post, adapt.confident_labels(mixed), adapt.MIX,
                                                  adapt.KEEP_AUDIO[lang]), speech)
        hops = decode.audio_only(mixed, speech, lang)
        mode = "audio"
    n_frames = max(1, int(math.ceil(audio_ms / step_ms - 1e-9)))
    return AlignResult(_frames(hops, step_ms, n_frames), step_ms, audio_ms, mode, hops, speech, notes, words, lang)


# With text, a vowel lasts at least 40 ms (Japanese 50 ms): on a voice the classifier hears poorly the
# alignment otherwise squeezes a vowel it cannot see into one hop and its neighbours show instead. Set on
# the development setting (adapt.py): Open JTalk m001 heard by the previous model, 1 -> 4 hops: +4.6
# points of vowel frames over both modes; English unchanged. Japanese 4 -> 5 (issue 18, with the
# stronger adaptation): +1.6 points with text on that setting, espeak-ng -0.3.
MIN_VOWEL_HOPS = {"ja": 5, "en": 4}
# A closure in speech (p b m, a moraic nasal or geminate before them) lasts at least this many hops:
# the stronger Japanese adaptation otherwise lets vowels eat espeak-ng's short closures (open/closed
# +0.5..1.3 points on espeak-ng with text; vowel frames unchanged on the development setting). English
# 1 -> 3 (issue 18, fourth round): open/closed with text 93.8 -> 95.4 % on its development setting
# (vowel frames 91.4 both), 94.5 -> 95.4 % on the voices it is built on (91.6 -> 91.3 %).
MIN_CLOSURE_HOPS = {"ja": 3, "en": 3}


def _forced(post: np.ndarray, priors: np.ndarray, units: list, lang: str = "ja") -> np.ndarray:
    """Forced alignment in which a vowel lasts at least MIN_VOWEL_HOPS hops and a closure in speech
    MIN_CLOSURE_HOPS (a unit is that many states in a row); the unit index per hop."""
    least, closure = MIN_VOWEL_HOPS[lang], MIN_CLOSURE_HOPS[lang]
    if least <= 1 and closure <= 1:
        return decode.forced(post, priors, units)
    reps = [least if u.kind == "vowel" else closure if u.kind == "closed" else 1 for u in units]
    origin = np.repeat(np.arange(len(units)), reps)
    return origin[decode.forced(post, priors, [units[j] for j in origin])]


# Japanese i and u after a voiceless consonant before a pause are devoiced (です。 desu): the
# fricative's tail carries them and TTS engines time them past the audible end (Open JTalk m001: the u
# of です。 lasts 70 ms after the s), so the alignment ends them early. Before a pause such a vowel's
# shape holds this many hops (development setting: +0.8 points with text at 3 hops, +1.1 at 5, where
# espeak-ng, whose u is voiced and ends where it says, loses 1-1.5 points of open/closed).
DEVOICED_HOLD = 3
_VOICELESS = {*"キクシスチツヒフピプ", "キュ", "シュ", "チュ", "ヒュ", "ピュ"}   # morae whose i or u can be devoiced


def _hold_devoiced(hops: np.ndarray, path: np.ndarray, units: list) -> None:
    """Before a pause, a devoiced vowel's shape holds DEVOICED_HOLD hops into it (in place)."""
    ends = np.flatnonzero(np.diff(path) != 0)        # last hop of each unit run
    for h in ends:
        j = int(path[h])
        u = units[j]
        if (u.kind == "vowel" and u.label in _VOICELESS and j + 1 < len(units) and units[j + 1].kind == "pause"
                and path[h + 1] == j + 1):
            stop = h + 1
            while stop < min(len(hops), h + 1 + DEVOICED_HOLD) and path[stop] == j + 1:
                stop += 1
            hops[h + 1:stop] = hops[h]


def word_times(path: np.ndarray, script: Script, audio_ms: float) -> list[dict]:
    """The text's words (and Japanese morae) at the hops their units were aligned to: times in ms on
    the 10 ms hop grid, in order, within [0, audio_ms]. A word that gave no sound (no units) sits,
    zero long, where the previous one ended."""
    end_ms = math.floor(audio_ms / features.HOP_MS + 1e-9) * features.HOP_MS
    m = len(script.units)
    first = np.full(m, -1, np.int64)
    last = np.full(m, -1, np.int64)
    seen = np.flatnonzero(np.diff(np.concatenate([[-1], path])) != 0)   # hop where each unit run starts
    for h0, h1 in zip(seen, np.concatenate([seen[1:], [len(path)]])):
        j = int(path[h0])
        first[j] = h0 if first[j] < 0 else first[j]
        last[j] = h1
    spans: dict[tuple[int, int], list[int]] = {}
    for j, u in enumerate(script.units):
        if u.word < 0 or first[j] < 0:
            continue
        for key in ((u.word, -1), (u.word, u.mora)) if u.mora >= 0 else ((u.word, -1),):
            a, b = spans.get(key, (first[j], last[j]))
            spans[key] = [min(a, first[j]), max(b, last[j])]

    def ms(h) -> int:
        return int(min(h * features.HOP_MS, end_ms))

    out, t = [], 0
    for wi, w in enumerate(script.words):
        a, b = spans.get((wi, -1), (None, None))
        entry = {"text": w.text, "t0_ms": ms(a) if a is not None else t, "t1_ms": ms(b) if b is not None else t}
        t = entry["t1_ms"]
        if w.morae:
            morae, mt = [], entry["t0_ms"]
            for k, label in enumerate(w.morae):
                ma, mb = spans.get((wi, k), (None, None))
                morae.append({"text": label, "t0_ms": ms(ma) if ma is not None else mt,
                              "t1_ms": ms(mb) if mb is not None else mt})
                mt = morae[-1]["t1_ms"]
            entry["morae"] = morae
        out.append(entry)
    return out


QUIET_OPEN = 0.3      # where there is no speech energy, anything but closed is this much less likely


def quiet_is_closed(post: np.ndarray, speech: np.ndarray) -> np.ndarray:
    """Hops without speech energy lean to closed. Per-file normalisation makes a recording's quiet
    room noise look like a consonant to the classifier, and the alignment would start the first
    word in it."""
    out = post.copy()
    out[~speech, 1:] *= QUIET_OPEN
    return out / out.sum(axis=1, keepdims=True)


def _far_from_speech(speech: np.ndarray, hops: int = 15) -> np.ndarray:
    """Hops more than `hops` away from any speech (a pause the text did not mark)."""
    return ~dilate(speech, hops)


def _frames(hops: np.ndarray, step_ms: float, n_frames: int) -> np.ndarray:
    """Per frame i: the shape most hops in [t_i, t_i + step) show (the hop at t_i when a frame is
    shorter than a hop)."""
    out = np.zeros(n_frames, np.int8)
    if not len(hops):
        return out
    per = step_ms / features.HOP_MS
    for i in range(n_frames):
        a = int(math.floor(i * per + 1e-9))
        b = max(a + 1, int(math.floor((i + 1) * per + 1e-9)))
        seg = hops[min(a, len(hops) - 1):min(b, len(hops))]
        out[i] = np.bincount(seg, minlength=6).argmax() if len(seg) else 0
    return out
