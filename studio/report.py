"""Facts about a loaded project that the run report, `validate` and the sync report share."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from render.views import VIEWS
from studio.plan import Project
from contracts.errors import plain
from contracts.jsonfile import json_number as _num
from contracts.session import Session

FIRST_FALLBACK_FRAMES = 20


def timeline_summary(session: Session) -> dict:
    """Per timeline (SPEC §9): end_ms (last event's t_ms + dur_ms when given), drift against audio_ms,
    and held_frames: frames after the last frame the timeline's data covers."""
    out = {}
    step, n = session.step_ms, session.target_frames
    tracks = {"pose": (session.pose.end_ms, False) if session.pose is not None and session.pose.end_ms is not None
              else None}
    if session.mouth is not None and session.mouth.end_ms is not None:
        has_dur = not math.isnan(session.mouth.durs[-1])
        tracks["mouth"] = (session.mouth.end_ms, has_dur)
    if session.expression is not None and session.expression.end_ms is not None:
        tracks["expression"] = (session.expression.end_ms, session.expression.events[-1].dur_ms is not None)
    for name, val in tracks.items():
        if val is None:
            continue
        end, exclusive = val
        # Without dur_ms the frame at end_ms still shows the last event; with it, that frame does not.
        last_covered = math.ceil(end / step - 1e-9) - 1 if exclusive else math.floor(end / step + 1e-9)
        held = max(0, n - (last_covered + 1))
        out[name] = {"end_ms": _num(end), "drift_ms": _num(end - session.audio_ms), "held_frames": int(min(held, n))}
    return out


def timeline_line(name: str, t: dict) -> str:
    """One line of `validate` and `score` per timeline: its end, drift and held frames."""
    drift = t["drift_ms"]
    return (f"  {name:<10} ends at {plain(t['end_ms'])} ms (drift {'+' if drift >= 0 else ''}{plain(drift)} ms, "
            f"{t['held_frames']} held frames)")


def frame_stats(project: Project) -> dict:
    """Fallback frames and reasons, views, clamps: what the plan says each frame will draw."""
    plan = project.plan
    fallback = plan.fallback_mask()
    reasons = Counter()
    first = []
    for i in np.flatnonzero(fallback):
        rs = plan.resolved[plan.sprite[i]].reasons
        reasons.update(rs)
        if len(first) < FIRST_FALLBACK_FRAMES:
            first.append({"frame": int(i), "reasons": list(rs)})
    counts = np.bincount(plan.view, minlength=len(VIEWS)) if len(plan) else np.zeros(len(VIEWS), int)
    raw_scale = plan.raw_pose[:, 5]
    return {
        "fallback_frames": int(fallback.sum()),
        "fallback_reasons": dict(sorted(reasons.items())),
        "first_fallback_frames": first,
        "clamped_frames": int(plan.clamped.sum()),
        "scale_clamped_frames": int(((raw_scale < 0.5) | (raw_scale > 2.0)).sum()),
        "views": {VIEWS[i]: int(c) for i, c in enumerate(counts) if c},
    }
