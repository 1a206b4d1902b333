"""Reading contract files: JSON parsing and JSON Schema validation with one-sentence errors."""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import jsonschema
from referencing import Registry, Resource

try:  # Rust validator: fast yes/no on big timelines; the Python one explains what is wrong
    import jsonschema_rs
except ImportError:  # pragma: no cover - the pinned set installs it
    jsonschema_rs = None

from contracts.errors import ContractError, format_index_path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SCHEMAS = RESOURCES / "schemas"


def read_json(path: Path, what: str):
    """Parse a JSON file; a missing or malformed file raises ContractError naming line and column."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ContractError(path, "", f"the {what} file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(path, "", f"the {what} file cannot be read as UTF-8 text ({exc.__class__.__name__})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(path, f"line {exc.lineno} column {exc.colno}",
                            f"malformed JSON in the {what} ({exc.msg})") from None


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


def _describe(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def validate(doc, name: str, path: Path, what: str) -> None:
    """Validate `doc` against resources/schemas/<name>.schema.json; the first error becomes a sentence."""
    fast = _fast_validator(name)
    if fast is not None and fast.is_valid(doc):
        return
    err = jsonschema.exceptions.best_match(_validator(name).iter_errors(doc))
    if err is None:
        return
    where = format_index_path(err.absolute_path) or "top level"
    kind = err.validator
    if kind == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        expected = f"the required key '{missing}' is missing from the {what}"
    elif kind == "type":
        want = err.validator_value if isinstance(err.validator_value, str) else " or ".join(err.validator_value)
        expected = f"expected {want}, got {_describe(err.instance)}"
    elif kind in ("enum", "const"):
        allowed = err.validator_value if kind == "enum" else [err.validator_value]
        expected = f"expected one of {', '.join(map(str, allowed))}, got {_describe(err.instance)}"
    elif kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "minItems", "minLength"):
        expected = f"{_describe(err.instance)} is out of range ({kind} {err.validator_value})"
    else:
        expected = err.message
    raise ContractError(path, where, expected)


def require_finite(value, path: Path, where: str) -> float:
    """Numbers in timelines must be finite (JSON NaN/Infinity parse, but are errors)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ContractError(path, where, f"expected a number, got {_describe(value)}")
    if not math.isfinite(value):
        raise ContractError(path, where, f"expected a finite number, got {value}")
    return float(value)
