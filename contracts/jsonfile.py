"""Reading contract files: guarded reads, JSON parsing and JSON Schema validation with one-sentence errors.

Only regular files are read (a FIFO would hang, a device never end); files over MAX_JSON_BYTES
and documents nested deeper than MAX_DEPTH are refused before parsing (SPEC §12).
"""
from __future__ import annotations

import functools
import gc
import json
import math
import os
import re
import stat
import threading
from functools import lru_cache
from pathlib import Path

import jsonschema
import numpy as np
from referencing import Registry, Resource

try:  # Rust validator: fast yes/no on big timelines; the Python one explains what is wrong
    import jsonschema_rs
except ImportError:  # pragma: no cover - the pinned set installs it
    jsonschema_rs = None

from contracts.errors import ContractError, format_index_path, os_reason, plain, printable, shorten

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SCHEMAS = RESOURCES / "schemas"
MAX_JSON_BYTES = 256 << 20
MAX_DEPTH = 64   # the top-level container is level 1

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def kind_name(mode: int) -> str:
    """'a folder', 'a FIFO', 'a character device' … for a stat mode ('a file' for a regular file)."""
    if stat.S_ISREG(mode):
        return "a file"
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_resume = False   # whether the last holder out turns the collector back on


def gc_paused(fn):
    """Run `fn` with Python's cyclic garbage collector paused (decorator; nests, and threads share it).

    Reading a contract file builds millions of small objects and no reference cycles; meanwhile the
    collector would walk every object alive again and again: a million events parsed three times
    slower (SPEC §12: time proportional to the input). Reference counting still frees everything."""
    @functools.wraps(fn)
    def paused(*args, **kwargs):
        global _gc_holders, _gc_resume
        with _gc_lock:
            if _gc_holders == 0:
                _gc_resume = gc.isenabled()
                gc.disable()
            _gc_holders += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with _gc_lock:
                _gc_holders -= 1
                if _gc_holders == 0 and _gc_resume:
                    gc.enable()
    return paused


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a regular file, or None when it can (follows symlinks)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return f"cannot be reached ({os_reason(exc)})"
    except ValueError:  # an embedded NUL byte
        return "is not a valid path"
    if stat.S_ISREG(st.st_mode):
        return None
    return f"is {kind_name(st.st_mode)}, not a regular file"


def read_bytes(path: Path, what: str, limit: int = MAX_JSON_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; anything else is a ContractError naming it."""
    problem = file_problem(path)
    if problem is not None:
        raise ContractError(path, "", f"the {what} file {problem}")
    try:
        size = os.path.getsize(path)
        if size > limit:
            raise ContractError(path, "", f"the {what} file is {size / (1 << 20):.0f} MiB, over the "
                                          f"{limit >> 20} MiB limit")
        with open(path, "rb") as f:
            return f.read(limit + 1)
    except OSError as exc:
        raise ContractError(path, "", f"the {what} file cannot be read ({os_reason(exc)})") from None


def nesting_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in JSON text (1 for a flat list), without parsing it.

    Vectorised: brackets inside strings are skipped by counting the unescaped quotes before them.
    """
    a = np.frombuffer(raw, np.uint8)
    quotes = np.flatnonzero(a == 34)
    backslashes = np.flatnonzero(a == 92)
    if len(backslashes) and len(quotes):  # a quote after an odd run of backslashes is escaped
        brk = np.diff(backslashes) != 1
        starts, ends = backslashes[np.r_[True, brk]], backslashes[np.r_[brk, True]]
        k = np.minimum(np.searchsorted(ends, quotes - 1), len(ends) - 1)
        run = np.where(ends[k] == quotes - 1, ends[k] - starts[k] + 1, 0)
        quotes = quotes[(run & 1) == 0]
    opens = np.flatnonzero((a == 91) | (a == 123))
    closes = np.flatnonzero((a == 93) | (a == 125))
    opens = opens[(np.searchsorted(quotes, opens) & 1) == 0]
    closes = closes[(np.searchsorted(quotes, closes) & 1) == 0]
    if not len(opens):
        return 0
    pos = np.concatenate([opens, closes])
    step = np.concatenate([np.ones(len(opens), np.int32), np.full(len(closes), -1, np.int32)])
    return int(np.cumsum(step[np.argsort(pos, kind="stable")]).max())


def read_json(path: Path, what: str):
    """Parse a JSON file; every problem raises ContractError naming the file (and line and column)."""
    raw = read_bytes(Path(path), what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContractError(path, f"byte {exc.start}", f"the {what} file is not UTF-8 text") from None
    depth = nesting_depth(raw)
    if depth > MAX_DEPTH:
        raise ContractError(path, "", f"the {what} nests {depth} levels deep, over the limit of {MAX_DEPTH}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:   # "Unterminated string starting at" + where, as one clause
        where = f"line {exc.lineno} column {exc.colno}"
        reason = exc.msg[:1].lower() + exc.msg[1:]
        reason = f"{reason} {where}" if reason.endswith(" at") else f"{reason} at {where}"
        raise ContractError(path, "", f"the {what} is not valid JSON: {reason}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer literal of thousands of digits
        raise ContractError(path, "", f"the {what} cannot be parsed as JSON ({shorten(str(exc), 80)})") from None


@lru_cache(maxsize=None)
def _registry() -> Registry:
    """Every shipped schema, addressable by its $id (session schemas share `common`)."""
    resources = []
    for f in sorted(SCHEMAS.glob("*.schema.json")):
        doc = json.loads(f.read_text(encoding="utf-8"))
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


@lru_cache(maxsize=None)
def _validator(name: str):
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=_registry())


@lru_cache(maxsize=None)
def _fast_validator(name: str):
    if jsonschema_rs is None:
        return None
    docs = [json.loads(f.read_text(encoding="utf-8")) for f in sorted(SCHEMAS.glob("*.schema.json"))]
    registry = jsonschema_rs.Registry([(d["$id"], d) for d in docs])
    return jsonschema_rs.validator_for(_validator(name).schema, registry=registry)


def describe(value) -> str:
    """A value as it appears in a message: JSON, at most 40 characters, escaped."""
    if isinstance(value, float):
        text = plain(value)   # 40000000, not 4e+07; NaN and Infinity as JSON writes them
    elif isinstance(value, (dict, list)):
        text = "an object" if isinstance(value, dict) else "a list"
        inner = json.dumps(value, ensure_ascii=False) if len(value) < 8 else ""
        text = inner if inner and len(inner) <= 40 else text
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
    return printable(shorten(text, 40))


_TYPE_WORDS = {"object": "an object", "array": "a list", "string": "a string", "number": "a number",
               "integer": "a whole number", "boolean": "true or false", "null": "null"}


def _expected(err, what: str) -> str:
    """One clause for a schema error, never echoing a whole document."""
    kind, want = err.validator, err.validator_value
    if kind == "required":
        missing = err.message.split("'")[1] if "'" in err.message else "?"
        return f"the required key '{printable(shorten(missing, 60))}' is missing from the {what}"
    if kind == "type":
        names = [want] if isinstance(want, str) else list(want)
        return f"expected {' or '.join(_TYPE_WORDS.get(n, n) for n in names)}, got {describe(err.instance)}"
    if kind in ("enum", "const"):
        allowed = want if kind == "enum" else [want]
        return f"expected one of {', '.join(describe(a) for a in allowed)}, got {describe(err.instance)}"
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[kind]
        return f"expected a number {op} {plain(want)}, got {describe(err.instance)}"
    if kind == "minItems":
        return f"expected at least {want} item{'s' if want != 1 else ''}"
    if kind == "minLength":
        return "expected a non-empty string"
    if kind in ("anyOf", "oneOf"):
        return f"does not have a shape the {what} accepts"
    return f"does not match the {what} format ({kind})"


def validate(doc, name: str, path: Path | None, what: str) -> None:
    """Validate `doc` against resources/schemas/<name>.schema.json; the first error becomes a sentence."""
    fast = _fast_validator(name)
    try:
        if fast is not None and fast.is_valid(doc):
            return
    except ValueError:  # strings Rust cannot hold (lone surrogates): the Python validator decides
        pass
    err = jsonschema.exceptions.best_match(_validator(name).iter_errors(doc))
    if err is None:
        return
    where = format_index_path(err.absolute_path) or "top level"
    raise ContractError(path, where, _expected(err, what))


def require_finite(value, path: Path | None, where: str) -> float:
    """Numbers in timelines must be finite (JSON NaN/Infinity parse, but are errors)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ContractError(path, where, f"expected a number, got {describe(value)}")
    try:
        out = float(value)
    except OverflowError:  # an integer beyond float range
        raise ContractError(path, where, "expected a finite number, got an integer too large to use") from None
    if not math.isfinite(out):
        raise ContractError(path, where, f"expected a finite number, got {plain(value)}")
    return out


def json_number(x: float):
    """A number as contract files write it: to the thousandth, an int when whole (t_ms 120, not 120.0)."""
    x = round(float(x), 3)
    return int(x) if x.is_integer() else x


def whole_number(value, path: Path | None, where: str, lo: int, hi: int) -> int:
    """A whole number in [lo, hi] (720.0 is the whole number 720), else a ContractError."""
    x = require_finite(value, path, where)
    if not x.is_integer() or not lo <= x <= hi:
        raise ContractError(path, where, f"expected a whole number from {lo} to {hi}, got {describe(value)}")
    return int(x)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def utf8_safe(text: str) -> str:
    """Lone surrogates (JSON allows them as escapes, UTF-8 cannot hold them) written as \\uXXXX escapes.
    In JSON text this stays the same string; elsewhere (CSV) it is the readable escape."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def dumps(doc, **kw) -> str:
    """json.dumps that always gives text encodable as UTF-8 (files are valid UTF-8 JSON, SPEC §12)."""
    return utf8_safe(json.dumps(doc, **kw))
