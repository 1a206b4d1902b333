"""Mouth targets of speech sounds (SPEC §13 "Mouth targets").

Shapes are the mouth ids of SPEC §4: 0 closed, 1 a, 2 i, 3 u, 4 e, 5 o. A sound's target is a
tuple of shapes that count as right (in order: a diphthong's onset first): one shape for a vowel, two where no single Japanese vowel is
nearest (schwa-like vowels, diphthongs); ANY (an empty set) for consonants that take any shape
(not scored). Silence and pauses, the bilabials p b m (also palatalised), and a moraic nasal or
geminate closure before them are closed; the glides y and w are i and u.

The classifier works with one more class, CONS (a consonant: any shape), so it can say "not a
vowel, not closed" instead of guessing a shape.
"""
from __future__ import annotations

from contracts.timelines import MOUTHS

CLOSED, A, I, U, E, O, CONS = range(7)
SHAPES = MOUTHS                # closed a i u e o: the mouth ids
CLASSES = SHAPES + ("cons",)
ANY: tuple = ()

# espeak-ng phoneme symbols (its phoneme events give the evaluation set's exact timing)
_JA_VOWELS = {"a": (A,), "i": (I,), "u": (U,), "e": (E,), "o": (O,), "u~": ANY}
_EN_VOWELS = {  # English (en-us / en): the nearest Japanese vowel, or both candidates
    "i": (I,), "e": (E,), "u": (U,), "A:": (A,), "a#": (A,), "V": (A,), "aa": (A,), "A@": (A,), "a@": (A,),
    "E": (E,), "e": (E,), "e@": (E, A),
    "I": (I,), "i:": (I,), "I#": (I,), "I2": (I,), "i@": (I, E), "i@3": (I, A),
    "0": (O,), "O": (O,), "O:": (O,), "O2": (O,), "O@": (O,), "o@": (O, A),
    "U": (U,), "u:": (U,), "U@": (U, O),
    "@": (A, E), "@2": (A, E), "@5": (A, U), "@L": (A, E), "3": (A, E), "3:": (A, E),
    "a": (A, E), "aI": (A, I), "aU": (A, U), "eI": (E, I), "oU": (O, U), "OI": (O, I),
}
_BILABIAL = {"p", "b", "m"}
_GLIDE = {"j": (I,), "_j": (I,), "w": (U,)}
_NASAL_OR_GEMINATE = {"N", "N\\", "u~"}


def _is_pause(sym: str) -> bool:
    return not sym or sym.startswith("_") and sym != "_j"


def espeak_targets(phonemes: list[tuple[float, str]], end_ms: float, lang: str = "ja"
                   ) -> list[tuple[float, float, tuple]]:
    """(start, end, target shapes) per espeak-ng phoneme event; before the first event and after the
    last there is silence (closed)."""
    vowels = _JA_VOWELS if lang == "ja" else _EN_VOWELS
    out = []
    if phonemes and phonemes[0][0] > 0:
        out.append((0.0, phonemes[0][0], (CLOSED,)))
    for k, (t, sym) in enumerate(phonemes):
        end = phonemes[k + 1][0] if k + 1 < len(phonemes) else end_ms
        nxt = phonemes[k + 1][1] if k + 1 < len(phonemes) else "_"
        sym = sym.strip("'\",%=;")
        if _is_pause(sym):
            target = (CLOSED,)
        elif sym in _BILABIAL or (sym in _NASAL_OR_GEMINATE or sym == nxt) and nxt in _BILABIAL:
            target = (CLOSED,)
        elif sym in _GLIDE:
            target = _GLIDE[sym]
        elif sym in vowels:
            target = vowels[sym]
        else:
            target = ANY
        out.append((t, end, tuple(target)))
    if out and out[-1][1] < end_ms:
        out.append((out[-1][1], end_ms, (CLOSED,)))
    return out


def frame_targets(spans: list[tuple[float, float, tuple]], n_frames: int, step_ms: float) -> list[tuple]:
    """Per frame i: the target of the span covering the largest share of [t_i, t_i + step) (SPEC §13);
    no span: silence (closed)."""
    out = []
    k = 0
    for i in range(n_frames):
        a, b = i * step_ms, (i + 1) * step_ms
        while k < len(spans) and spans[k][1] <= a:
            k += 1
        best, share = (CLOSED,), 0.0
        j = k
        while j < len(spans) and spans[j][0] < b:
            cover = min(b, spans[j][1]) - max(a, spans[j][0])
            if cover > share:
                best, share = spans[j][2], cover
            j += 1
        out.append(best)
    return out


def hop_classes(spans: list[tuple[float, float, tuple]], n_hops: int, hop_ms: float) -> list[int]:
    """A training label per hop (the target at the hop's centre): a shape, or CONS for ANY; where two
    shapes count, the first (the onset of a diphthong, the nearest vowel of a schwa)."""
    out = []
    k = 0
    for h in range(n_hops):
        t = (h + 0.5) * hop_ms
        while k < len(spans) and spans[k][1] <= t:
            k += 1
        if k >= len(spans) or spans[k][0] > t:
            out.append(CLOSED)
            continue
        target = spans[k][2]
        out.append(CONS if not target else _first(target, spans[k][0], spans[k][1], t))
    return out


def _first(target: tuple, a: float, b: float, t: float) -> int:
    """A diphthong's first shape in its first half, its second in the second half."""
    return target[0] if t < (a + b) / 2 else target[-1]


def accuracy(predicted: list[int], targets: list[tuple]) -> dict:
    """SPEC §13's three figures over scored frames: open/closed agreement, 6-shape agreement, and
    shape agreement over vowel frames only."""
    scored = [(p, t) for p, t in zip(predicted, targets) if t]
    vowels = [(p, t) for p, t in scored if CLOSED not in t]
    oc = sum((p == CLOSED) == (CLOSED in t) for p, t in scored)
    shape = sum(p in t for p, t in scored)
    vshape = sum(p in t for p, t in vowels)
    return {"frames": len(scored), "vowel_frames": len(vowels),
            "open_closed": oc / max(1, len(scored)), "shapes": shape / max(1, len(scored)),
            "vowel_shapes": vshape / max(1, len(vowels))}
