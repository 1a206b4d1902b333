"""The speech side of the sync score (SPEC §9): how open the mouth of a truthful track is, hop by hop,
as the audio says.

Why not the loudness envelope: a truthful track opens the mouth for a whole syllable (a consonant
takes the shape of the vowel it leads into, SPEC §13), while a syllable's loudness sits in its
vowel. Their correlation then peaks with the mouth "early" by a part of the consonant's length,
and by how much depends on the voice (how long and loud its consonants are): -25 ms on espeak-ng
Japanese, -10 ms on Open JTalk. So the audio side here is built like the picture side: the
aligner's frame classifier (align/model.py) gives each 10 ms hop the probability of a vowel, of
a consonant, of silence or a closure; a vowel counts as open as the picture side draws its shape,
and a consonant as open as the vowel it leads into (not at all before a closure or a pause), as
the track's consonant does. Both sides then describe the same
thing and a truthful track correlates best at lag 0, whatever the voice.

The classifier's pass costs ~1 s per 10 minutes of audio; the result is kept for the last few
audio sources — and, for the studio, which scores in a new process after every edit, on disk
(`use_disk_cache`) — so a re-score after an edit does not repeat it.
"""
from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from pathlib import Path

import numpy as np

from contracts.atomic import write_atomic
from contracts.audio import AudioSource

ADAPT = True
LEAD_DECAY = 0.95             # per hop: a consonant leads into a vowel close after it (~200 ms)
_CACHE: "OrderedDict[tuple, np.ndarray]" = OrderedDict()
_CACHE_SIZE = 3
_DISK: Path | None = None
DISK_KEEP = 20                # result files kept on disk (a few MB each for an hour)


def _key(audio: AudioSource, lang: str, weights: tuple) -> tuple:
    if audio.samples is not None:
        return ("array", id(audio.samples), audio.frames, audio.sample_rate, lang, weights)
    st = audio.path.stat()
    return ("file", str(audio.path), st.st_size, st.st_mtime_ns, lang, weights)


def use_disk_cache(folder: Path | None) -> None:
    """Also keep results on disk, in `folder` (the studio scores in a new process after every edit:
    memory does not outlive it). Only WAV files are kept, by path, size, time and model."""
    global _DISK
    _DISK = Path(folder) if folder else None


def _disk_file(key: tuple) -> Path | None:
    if _DISK is None or key[0] != "file":
        return None
    from studio.qa.align.model import model_files
    lang = key[4] if key[4] in ("ja", "en") else "ja"
    models = [(st.st_size, st.st_mtime_ns) for st in (f.stat() for f in model_files(lang))]
    name = hashlib.sha1(repr((key, *models)).encode()).hexdigest()[:20]
    return _DISK / f"{name}.npy"


def _from_disk(key: tuple) -> np.ndarray | None:
    path = _disk_file(key)
    try:
        return np.load(path) if path is not None and path.exists() else None
    except (OSError, ValueError):   # a damaged cache file is only a miss
        return None


def _to_disk(key: tuple, got: np.ndarray) -> None:
    path = _disk_file(key)
    if path is None:
        return
    try:
        buf = io.BytesIO()
        np.save(buf, got)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, buf.getvalue())
        for old in sorted(path.parent.glob("*.npy"), key=lambda p: p.stat().st_mtime)[:-DISK_KEEP]:
            old.unlink(missing_ok=True)
    except OSError:                 # a cache that cannot be written is only slower
        pass


def openness(audio: AudioSource, n_hops: int, vowel_openness, lang: str = "ja") -> np.ndarray:
    """(n_hops,) expected mouth openness per 10 ms hop (0..1), each vowel weighted as open as the
    picture side draws it (`vowel_openness` of a, i, u, e, o); zero past the audio."""
    weights = tuple(float(w) for w in vowel_openness)
    key = _key(audio, lang, weights)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        got = _CACHE[key]
    else:
        got = _from_disk(key)
        if got is None:
            got = _compute(audio, lang, np.array(weights))
            _to_disk(key, got)
        _CACHE[key] = got
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    out = np.zeros(n_hops)
    k = min(n_hops, len(got))
    out[:k] = got[:k]
    return out


def _compute(audio: AudioSource, lang: str, weights: np.ndarray) -> np.ndarray:
    from studio.qa.align import adapt, features
    from studio.qa.align.model import model_for
    from studio.qa.align.phones import CONS
    feats = features.features(audio)
    post = model_for(lang if lang in ("ja", "en") else "ja").posteriors(feats)
    if ADAPT:   # learn this voice from the hops the classifier is sure of, as the aligner does
        mixed = post
        for _ in range(adapt.ROUNDS):
            mixed = adapt.adapted(feats, post, adapt.confident_labels(mixed))
        post = mixed
    return leads_to_vowel(post[:, 1:CONS] @ weights, post[:, CONS])


def leads_to_vowel(vowel: np.ndarray, cons: np.ndarray) -> np.ndarray:
    """Per hop: the probability that it is a vowel, or a consonant whose next non-consonant is a
    vowel: r[h] = vowel[h] + cons[h] * LEAD_DECAY * r[h + 1], from the end backwards."""
    out = np.zeros(len(vowel))
    nxt = 0.0
    v, c = vowel.tolist(), (cons * LEAD_DECAY).tolist()
    for h in range(len(v) - 1, -1, -1):
        nxt = v[h] + c[h] * nxt
        out[h] = nxt
    return out
