"""Saving writes the edit and nothing else (SPEC §15): a document is written back *into the text
it was read from*.

Every value that is the same object as the one read (documents are never changed in place, so
identity tells what an edit left alone) or equal to it keeps its original bytes. Only what changed
is serialised, in the style of the value it replaces: its key order, spacing and indentation, and
each number in the form the file uses for that key (0.0 or 0, 1e-05, 11.191000). In an event list,
an event that is not one of the events read takes the place of the event read at the same `t_ms`
(its unchanged fields keep their text), else it is written in the style of the event before it
(a new event follows the file's own key order). Keys the edit added come last; keys it removed go
with their separator.

The original text is scanned lazily with json.JSONDecoder.raw_decode, one list element at a time:
many short calls (a save on a worker thread never holds the interpreter lock for long) and every
scanned value is checked against the document it should hold; a file that changed on disk since
it was read raises Mismatch, and the caller writes the document afresh (TextFormat).
"""
from __future__ import annotations

import json
import math
import re

from contracts.jsonfile import utf8_safe
from studio.io.textformat import TextFormat

_WS = re.compile(r"[ \t\n\r]*")
_SPACE = " \t\n\r"
_DECODER = json.JSONDecoder()
_SCAN = _DECODER.scan_once                     # raw_decode without its wrapper: one value, its end
_SEP = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")
_BIG = 256              # lists longer than this are scanned element by element, never in one call
_INT = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?\d+\.(\d+)")
_KEY_PREFIX = re.compile(r'"(?:[^"\\]|\\.)*"[ \t]*:')
_SIBLINGS = 16          # neighbours asked how a key writes whole numbers


class Mismatch(Exception):
    """The text does not hold the document it should (e.g. the file changed on disk)."""


def rewrite(new, base, raw: bytes) -> bytes:
    """The bytes of a file holding `new`, made from `raw`, the file `base` was read from."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw[3 if bom else 0:].decode("utf-8")
    except UnicodeDecodeError:
        raise Mismatch() from None
    sp = _Splicer(text, raw)
    try:
        s = _WS.match(text).end()
        e = sp.end_of(s, base, top=True)
        if text[e:].strip(_SPACE):
            raise Mismatch()
        body = sp.value(new, base, s, e, None)
    except (IndexError, ValueError, StopIteration) as exc:   # ValueError: raw_decode met something that is not JSON
        raise Mismatch() from exc
    return (b"\xef\xbb\xbf" if bom else b"") + (text[:s] + body + text[e:]).encode("utf-8")


def same(a, b) -> bool:
    """Equal as JSON values: 0 and 0.0 are the same number, true and 1 are not."""
    if a is b:
        return True
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta is dict:
        return tb is dict and len(a) == len(b) and all(k in b and same(v, b[k]) for k, v in a.items())
    if ta is list:
        return tb is list and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if tb in (dict, list):
        return False
    return a == b


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def number_form(literal: str):
    """How a number is written: 'int' (40), 'float' (0.0, 1e-05), ('fixed', 6) (11.191000), or
    'decimal' (0.003: says nothing about how whole numbers are written)."""
    if _INT.fullmatch(literal):
        return "int"
    m = _DECIMAL.fullmatch(literal)
    if m is None:
        return "float"
    frac = m.group(1)
    if len(frac) >= 2 and frac.endswith("0"):
        return ("fixed", len(frac))
    return "float" if frac.strip("0") == "" else "decimal"


def number_text(v, form, sibling_forms=()) -> str:
    """`v` written in `form`; a whole number in a 'decimal' key takes the form its neighbours use."""
    f = float(v)
    if not math.isfinite(f):
        return json.dumps(v)
    whole = f.is_integer()
    if form == "decimal" and whole:
        form = next((x for x in sibling_forms if x != "decimal"), "float")
    if form == "int":
        return str(int(v)) if whole else repr(f)
    if isinstance(form, tuple):
        text = f"{f:.{form[1]}f}"
        return text if float(text) == f else repr(f)
    return repr(f)


class _List:
    __slots__ = ("start", "end", "value", "starts", "ends")


class _Dict:
    __slots__ = ("start", "end", "value", "members", "index")


class _Splicer:
    def __init__(self, text: str, raw: bytes):
        self.text = text
        self.raw = raw
        self.nodes: dict[int, object] = {}
        self._fmt: TextFormat | None = None
        self._forms: dict = {}

    @property
    def fmt(self) -> TextFormat:
        """The file's layout, for values with nothing of their own to follow (a key the edit added)."""
        if self._fmt is None:
            self._fmt = TextFormat.detect(self.raw)
        return self._fmt

    # ---------------------------------------------------------------- scanning
    def _ws(self, i: int) -> int:
        return _WS.match(self.text, i).end() if self.text[i] in _SPACE else i

    def end_of(self, i: int, expected, top: bool = False) -> int:
        """Where the value at `i` ends, checking that it is `expected`. Long lists (and, at the top,
        objects holding them) are scanned piece by piece: never one long call."""
        c = self.text[i]
        if c == "[" and type(expected) is list and len(expected) > _BIG:
            return self.list_node(i, expected).end
        if top and c == "{" and type(expected) is dict:
            return self.dict_node(i, expected).end
        try:
            value, end = _SCAN(self.text, i)
        except StopIteration:
            raise Mismatch() from None
        if value != expected:
            raise Mismatch()
        return end

    def list_node(self, i: int, expected: list) -> _List:
        node = self.nodes.get(i)
        if node is not None:
            return node
        t = self.text
        starts, ends = [], []
        j = self._ws(i + 1)
        if t[j] != "]":
            sep = _SEP.match
            n = len(expected)
            for k, exp in enumerate(expected):
                if t[j] == "[" and type(exp) is list and len(exp) > _BIG:
                    e = self.list_node(j, exp).end
                else:
                    try:
                        value, e = _SCAN(t, j)
                    except StopIteration:
                        raise Mismatch() from None
                    if value != exp:
                        raise Mismatch()
                starts.append(j)
                ends.append(e)
                m = sep(t, e)
                if m is None:
                    raise Mismatch()
                j = m.end()
                if m.group(1) == "]":
                    if k != n - 1:
                        raise Mismatch()
                    j = m.start(1)
                    break
        if len(starts) != len(expected):
            raise Mismatch()
        node = _List()
        node.start, node.end, node.value, node.starts, node.ends = i, j + 1, expected, starts, ends
        self.nodes[i] = node
        return node

    def dict_node(self, i: int, expected: dict) -> _Dict:
        node = self.nodes.get(i)
        if node is not None:
            return node
        t = self.text
        members = []
        j = self._ws(i + 1)
        if t[j] != "}":
            while True:
                if t[j] != '"':
                    raise Mismatch()
                key, kend = _SCAN(t, j)
                c = self._ws(kend)
                if t[c] != ":" or key not in expected:
                    raise Mismatch()
                vs = self._ws(c + 1)
                ve = self.end_of(vs, expected[key])
                members.append((key, j, kend, vs, ve))
                j = self._ws(ve)
                if t[j] == ",":
                    j = self._ws(j + 1)
                elif t[j] == "}":
                    break
                else:
                    raise Mismatch()
        index = {m[0]: k for k, m in enumerate(members)}
        if len(index) != len(members) or len(index) != len(expected):   # duplicate keys: the last one won
            raise Mismatch()
        node = _Dict()
        node.start, node.end, node.value, node.members, node.index = i, j + 1, expected, members, index
        self.nodes[i] = node
        return node

    # ---------------------------------------------------------------- writing
    def value(self, new, base, s: int, e: int, where) -> str:
        """Text for `new` in place of `base`, which was read from text[s:e]. `where` is (list node,
        element index, key path) inside an event list, for the number forms of the event's neighbours."""
        if new is base:
            return self.text[s:e]
        tn = type(new)
        if tn is list and type(base) is list:
            return self.list_text(new, self.list_node(s, base))
        if tn is dict and type(base) is dict:
            if same(new, base):
                return self.text[s:e]
            return self.dict_text(new, self.dict_node(s, base), where)
        if same(new, base):
            return self.text[s:e]
        if _is_number(new) and _is_number(base):
            form = number_form(self.text[s:e])
            siblings = self.sibling_forms(where) if form == "decimal" and float(new).is_integer() else ()
            return number_text(new, form, siblings)
        ml, indent = self._layout_at(s)
        return self.fresh(new, ml, indent)

    def _layout_at(self, pos: int) -> tuple[bool, str]:
        """Whether the value at `pos` starts a line of its own (after its key) in a pretty-printed
        file, and that line's indentation."""
        t = self.text
        line = t.rfind("\n", 0, pos) + 1
        indent = _WS.match(t, line).group(0).rstrip("\r\n")
        prefix = t[line:pos].strip(_SPACE)
        own_line = prefix == "" or _KEY_PREFIX.fullmatch(prefix) is not None
        return own_line and self.fmt.indent is not None, indent

    def fresh(self, value, multiline: bool, indent: str) -> str:
        """A value with nothing of its own to follow, in the file's layout at this indentation."""
        fmt = self.fmt
        if isinstance(value, (dict, list)) and value and multiline and fmt.indent is not None:
            text = json.dumps(value, ensure_ascii=fmt.ascii_only, indent=fmt.indent, separators=(",", fmt.key_sep))
            text = text.replace("\n", fmt.newline + indent)
        else:
            text = json.dumps(value, ensure_ascii=fmt.ascii_only, separators=(fmt.item_sep, fmt.key_sep))
        return utf8_safe(text)

    def _sep(self, starts: list, ends: list, a, b, head: str) -> str:
        """The separator to write between element `a` and element `b` (indices in the original; None
        for one that is not there): the original one between them, else one of its neighbours'."""
        t = self.text
        if a is not None and b is not None and b == a + 1:
            return t[ends[a]:starts[b]]
        if b is not None and b > 0:
            return t[ends[b - 1]:starts[b]]
        if a is not None and a + 1 < len(starts):
            return t[ends[a]:starts[a + 1]]
        if len(starts) >= 2:
            return t[ends[0]:starts[1]]
        return "," + head if "\n" in head else self.fmt.item_sep   # one element: its line layout

    def dict_text(self, new: dict, node: _Dict, where) -> str:
        t = self.text
        mem = node.members
        if not mem:
            return self.fresh(new, False, "")
        head = t[node.start + 1:mem[0][1]]
        multiline = "\n" in head
        indent = head[head.rfind("\n") + 1:] if multiline else ""
        starts = [m[1] for m in mem]
        ends = [m[4] for m in mem]
        colon = t[mem[0][2]:mem[0][3]]
        out = ["{", head]
        prev, first = None, True
        for k, (key, ks, _, vs, ve) in enumerate(mem):
            if key not in new:
                continue
            if not first:
                out.append(self._sep(starts, ends, prev, k, head))
            sub = (where[0], where[1], where[2] + (key,)) if where is not None else None
            out.append(t[ks:vs])
            out.append(self.value(new[key], node.value[key], vs, ve, sub))
            prev, first = k, False
        for key, v in new.items():
            if key in node.index:
                continue
            if not first:
                out.append(self._sep(starts, ends, prev, None, head))
            out.append(utf8_safe(json.dumps(key, ensure_ascii=self.fmt.ascii_only)) + colon
                       + self.fresh(v, multiline, indent))
            prev, first = None, False
        out.append(t[mem[-1][4]:node.end - 1])
        out.append("}")
        return "".join(out)

    def list_text(self, new: list, node: _List) -> str:
        t = self.text
        base = node.value
        n = len(base)
        if n == 0:
            ml, indent = self._layout_at(node.start)
            return self.fresh(new, ml, indent)
        if not new:
            return "[]"
        starts, ends = node.starts, node.ends
        m, head, tail = _anchors(new, base)
        _pair_gaps(new, base, m)
        first = t[node.start + 1:starts[0]]
        out = ["[", first]
        run = None          # [first, last] original indices copied verbatim, not written yet
        prev = None         # original index of the element written last (None: a new one)
        last_seen = None    # the last original index met: the style of a new event

        def verbatim(i: int, j: int, upto: int) -> None:
            nonlocal run, prev, last_seen
            if run is not None and i == run[1] + 1:
                run[1] = upto
            else:
                if run is not None:
                    out.append(t[starts[run[0]]:ends[run[1]]])
                if j:
                    out.append(self._sep(starts, ends, prev, i, first))
                run = [i, upto]
            prev = last_seen = upto

        if head:
            verbatim(0, 0, head - 1)
        for j in range(head, len(new) - tail):
            x, i = new[j], m[j]
            if i is not None and (x is base[i] or same(x, base[i])):
                verbatim(i, j, i)
                continue
            if run is not None:
                out.append(t[starts[run[0]]:ends[run[1]]])
                run = None
            if j:
                out.append(self._sep(starts, ends, prev, i, first))
            like = i if i is not None else (last_seen if last_seen is not None else _next_anchor(m, j))
            out.append(self.value(x, base[like], starts[like], ends[like], (node, like, ())))
            prev = i
            if i is not None:
                last_seen = i
        if tail:
            verbatim(n - tail, len(new) - tail, n - 1)
        if run is not None:
            out.append(t[starts[run[0]]:ends[run[1]]])
        out.append(t[ends[-1]:node.end - 1])
        out.append("]")
        return "".join(out)

    # ------------------------------------------------------------ number forms
    def sibling_forms(self, where) -> tuple:
        """The number forms a key has in the events around this one (how it writes whole numbers)."""
        if where is None or not where[2]:
            return ()
        node, i, path = where
        key = (id(node), i // _SIBLINGS, path)
        if key in self._forms:
            return self._forms[key]
        forms = []
        for k in range(max(0, i - _SIBLINGS), min(len(node.value), i + _SIBLINGS + 1)):
            literal = self._literal(node.value[k], node.starts[k], path)
            if literal is not None:
                forms.append(number_form(literal))
        self._forms[key] = tuple(forms)
        return self._forms[key]

    def _literal(self, value, start: int, path) -> str | None:
        for key in path:
            if type(value) is not dict or key not in value:
                return None
            d = self.dict_node(start, value)
            _, _, _, start, end = d.members[d.index[key]]
            value = value[key]
        return self.text[start:end] if _is_number(value) else None


def _anchors(new: list, base: list) -> tuple[list, int, int]:
    """For each new element, the index of the same object among the originals (increasing), else None;
    and the lengths of the common head and tail (an edit leaves long ones: only the rest is looked up)."""
    n_new, n = len(new), len(base)
    head = 0
    while head < n_new and head < n and new[head] is base[head]:
        head += 1
    tail = 0
    while tail < n_new - head and tail < n - head and new[n_new - 1 - tail] is base[n - 1 - tail]:
        tail += 1
    m = list(range(head)) + [None] * (n_new - head - tail) + list(range(n - tail, n))
    ids = {id(base[i]): i for i in range(head, n - tail) if type(base[i]) in (dict, list)}  # equal numbers share ids
    last = head - 1
    get = ids.get
    for j in range(head, n_new - tail):
        i = get(id(new[j]))
        if i is not None and i > last:
            m[j] = last = i
    return m, head, tail


def _t_ms(x):
    if type(x) is dict:
        t = x.get("t_ms")
        if _is_number(t):
            return float(t)
    return None


def _pair_gaps(new: list, base: list, m: list) -> None:
    """Between anchors, pair a new element with the original it takes the place of: the one at the
    same t_ms (events), else the one at the same position when the counts agree."""
    j, n_new = 0, len(new)
    while j < n_new:
        if m[j] is not None:
            j += 1
            continue
        j0 = j
        while j < n_new and m[j] is None:
            j += 1
        lo = m[j0 - 1] + 1 if j0 else 0
        hi = m[j] if j < n_new else len(base)
        if hi <= lo:
            continue
        tn = [_t_ms(new[k]) for k in range(j0, j)]
        tb = [_t_ms(base[k]) for k in range(lo, hi)]
        if None not in tn and None not in tb:
            a = b = 0
            while a < len(tn) and b < len(tb):
                if tn[a] == tb[b]:
                    m[j0 + a] = lo + b
                    a += 1
                    b += 1
                elif tb[b] < tn[a]:
                    b += 1
                else:
                    a += 1
        elif j - j0 == hi - lo:
            for k in range(j - j0):
                m[j0 + k] = lo + k


def _next_anchor(m: list, j: int) -> int:
    return next((i for i in m[j + 1:] if i is not None), 0)
