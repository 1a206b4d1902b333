"""The sync policy (SPEC §9): thresholds in resources/sync_policy.json, overridable per session
(`sync_policy`, an object or a file path) and on the command line (`score --policy FILE`).

Every known key must be a finite number in a range the scorer can work with, so a bad policy is
refused by `validate` as it would be by `score`.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from contracts.errors import ContractError, plain
from contracts.jsonfile import RESOURCES, describe, read_json

RANGES = {
    "pass_late_ms": (0, 10000), "pass_early_ms": (0, 10000), "warn_late_ms": (0, 10000),
    "warn_early_ms": (0, 10000), "min_confidence": (0, 10), "acoustic_lead_ms": (-1000, 1000),
    "max_lag_ms": (10, 10000), "window_ms": (100, 600000), "window_hop_ms": (10, 600000),
    "window_max_lag_ms": (10, 10000), "min_open_in_silence_ms": (0, 1e7), "min_closed_in_speech_ms": (0, 1e7),
    "span_warn_ms": (0, 1e7), "vad_floor_db": (0, 200), "vad_range_db": (0, 200),
}


def default_policy() -> dict:
    return json.loads((RESOURCES / "sync_policy.json").read_text(encoding="utf-8"))


def _checked(layer, file, where_prefix: str) -> dict:
    if not isinstance(layer, dict):
        raise ContractError(file, where_prefix or "top level", "a sync policy must be a JSON object")
    for k, v in layer.items():
        if k not in RANGES:
            continue
        where = f"{where_prefix}.{k}" if where_prefix else k
        lo, hi = RANGES[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
            raise ContractError(file, where, f"expected a number from {plain(lo)} to {plain(hi)}, got {describe(v)}")
    return layer


def session_layer(doc: dict, session_path: Path) -> dict | None:
    """The session's own `sync_policy` (object, or a file path relative to the session), checked."""
    if "sync_policy" not in doc:
        return None
    sp = doc["sync_policy"]
    if isinstance(sp, str):
        from contracts.paths import candidate_bases, resolve_path
        p = resolve_path(sp, "sync_policy", session_path, candidate_bases(session_path.parent, None))
        return _checked(read_json(p, "sync policy"), p, "")
    return _checked(sp, session_path, "sync_policy")


def load_policy(path: Path | None = None, session=None) -> dict:
    """The default policy, then a session's `sync_policy`, then --policy FILE; each layer checked."""
    policy = default_policy()
    if session is not None and session.sync_policy:
        policy.update(session.sync_policy)
    if path is not None:
        policy.update(_checked(read_json(Path(path), "sync policy"), path, ""))
    return policy
