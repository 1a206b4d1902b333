"""How a JSON file is written, learnt from the file itself, so a saved file looks like the original:
BOM, line endings, indentation (spaces or tabs), compact or pretty, separators, escaped or raw
non-ASCII, a final newline, and the production layout of one event per line."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from contracts.jsonfile import utf8_safe

EVENT_KEYS = ("frames", "timeline")
_SENTINEL = "\u0000events\u0000"


@dataclass(frozen=True)
class TextFormat:
    bom: bool = False
    newline: str = "\n"
    indent: str | None = "  "          # None: compact, on one line
    item_sep: str = ", "               # separators inside compact text and one-line events
    key_sep: str = ": "
    ascii_only: bool = False
    final_newline: bool = True
    event_per_line: bool = False       # the event list has one compact event per line

    @classmethod
    def detect(cls, raw: bytes | None) -> "TextFormat":
        if raw is None:
            return cls()
        bom = raw.startswith(b"\xef\xbb\xbf")
        text = raw[3:].decode("utf-8", "replace") if bom else raw.decode("utf-8", "replace")
        newline = "\r\n" if "\r\n" in text else "\n"
        body = text.strip()
        compact = "\n" not in body
        indent = None
        if not compact:
            m = re.search(r"\n([ \t]+)\S", body)
            indent = m.group(1) if m else ""
        sample = _outside_strings(body[:20000])
        item_sep = ", " if re.search(r",[ ]\S", sample) or not re.search(r",\S", sample) else ","
        key_sep = ": " if re.search(r":[ ]\S", sample) or not re.search(r":\S", sample) else ":"
        ascii_only = bool(re.search(r"\\u[0-9a-fA-F]{4}", body)) and not re.search(r"[^\x00-\x7f]", body)
        return cls(bom, newline, indent, item_sep, key_sep, ascii_only, text.endswith(("\n", "\r")),
                   not compact and _one_event_per_line(body))

    def dumps(self, doc) -> bytes:
        if self.indent is None:
            text = json.dumps(doc, ensure_ascii=self.ascii_only, separators=(self.item_sep, self.key_sep))
        elif self.event_per_line and _events(doc) is not None:
            text = self._with_event_lines(doc)
        else:
            text = json.dumps(doc, ensure_ascii=self.ascii_only, indent=self.indent,
                              separators=(",", self.key_sep))
        if self.final_newline:
            text += "\n"
        if self.newline != "\n":
            text = text.replace("\n", self.newline)
        text = utf8_safe(text)
        return (b"\xef\xbb\xbf" if self.bom else b"") + text.encode("utf-8")

    def _with_event_lines(self, doc) -> str:
        events = _events(doc)
        placeholder = _SENTINEL if isinstance(doc, list) else dict(doc, **{_event_key(doc): _SENTINEL})
        text = json.dumps(placeholder, ensure_ascii=self.ascii_only, indent=self.indent, separators=(",", self.key_sep))
        quoted = json.dumps(_SENTINEL)
        at = text.index(quoted)
        line_start = text.rfind("\n", 0, at) + 1
        pad = re.match(r"[ \t]*", text[line_start:]).group(0)
        inner = pad + self.indent if not isinstance(doc, list) else ""
        lines = [inner + json.dumps(e, ensure_ascii=self.ascii_only, separators=(self.item_sep, self.key_sep))
                 for e in events]
        block = "[\n" + ",\n".join(lines) + "\n" + pad + "]" if lines else "[]"
        return text[:at] + block + text[at + len(quoted):]


def _outside_strings(text: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)


def _event_key(doc) -> str | None:
    if isinstance(doc, dict):
        return next((k for k in EVENT_KEYS if isinstance(doc.get(k), list)), None)
    return None


def _events(doc):
    if isinstance(doc, list):
        return doc
    key = _event_key(doc)
    return doc[key] if key else None


def _one_event_per_line(body: str) -> bool:
    """True when the event list's first two items each sit on one line of their own."""
    m = re.search(r'"(?:frames|timeline)"\s*:\s*\[', body) or (re.match(r"\[", body) if body.startswith("[") else None)
    if not m:
        return False
    rest = body[m.end():].lstrip(" \t")
    if not rest.startswith(("\n", "\r")):
        return False
    lines = [ln.strip() for ln in rest.splitlines()[1:3]]
    return len(lines) == 2 and all(ln.startswith("{") and ln.rstrip(",").endswith("}") for ln in lines)
