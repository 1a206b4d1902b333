"""The frame plan: every frame's resolved inputs (pose, mouth, expression, view, sprite) as arrays.

Built once per session (vectorised), it is what the preview, the export, the lanes and the
scorer read. Rendering frame i needs nothing but row i, so frames are independent.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from render.atlas import Atlas, Resolved, load_atlas
from render.compositor import clamp_pose, compose
from render.views import VIEWS, select_views
from contracts.session import Overrides, RenderSettings, Session, load_session
from contracts.timelines import MOUTHS, frame_times


@dataclass
class FramePlan:
    step_ms: float
    t_ms: np.ndarray            # (N,)
    raw_pose: np.ndarray        # (N, 6) sampled, before clamping (POSE_FIELDS order)
    pose: np.ndarray            # (N, 6) as rendered (tx, ty, scale clamped)
    clamped: np.ndarray         # (N,) bool: tx or ty was clamped
    mouth: np.ndarray           # (N,) mouth id 0..5
    expression: np.ndarray      # (N,) index into labels
    view: np.ndarray            # (N,) index into VIEWS
    sprite: np.ndarray          # (N,) index into resolved
    labels: list[str]
    resolved: list[Resolved]
    warnings: list[str]

    def __len__(self) -> int:
        return len(self.t_ms)

    def fallback_mask(self) -> np.ndarray:
        bad = np.array([bool(r.reasons) for r in self.resolved], dtype=bool)
        return bad[self.sprite] if len(bad) else np.zeros(len(self), bool)

    def row(self, i: int) -> dict:
        """Frame i as the readout and frames.csv show it."""
        r = self.resolved[self.sprite[i]]
        yaw, pitch, roll, tx, ty, scale = (float(v) for v in self.pose[i])
        return {"frame": i, "t_ms": float(self.t_ms[i]), "view": VIEWS[self.view[i]],
                "expression": self.labels[self.expression[i]], "mouth": MOUTHS[self.mouth[i]],
                "sprite": r.sprite, "fallback": "|".join(r.reasons), "yaw_deg": yaw, "pitch_deg": pitch,
                "roll_deg": roll, "scale": scale, "tx": tx, "ty": ty}


def build_plan(session: Session, atlas: Atlas) -> FramePlan:
    n, step = session.target_frames, session.step_ms
    t = frame_times(n, step)
    raw = session.pose.sample(t)
    rs = session.render
    pose = raw.copy()
    pose[:, 3], pose[:, 4], pose[:, 5], clamped = clamp_pose(raw[:, 3], raw[:, 4], raw[:, 5], rs.canvas_w, rs.canvas_h)
    mouth = session.mouth.sample(n, step) if session.mouth is not None else np.zeros(n, np.int8)
    warnings: list[str] = []
    if session.expression is not None:
        expression, warnings = session.expression.sample(n, step, atlas.labels, atlas.default)
    else:
        expression = np.full(n, atlas.labels.index(atlas.default), np.int16)
    view_names = select_views(raw[:, 0], raw[:, 1], atlas.rules, atlas.views.keys())
    view = np.array([VIEWS.index(v) for v in view_names], dtype=np.int16) if n else np.zeros(0, np.int16)

    # Resolve each distinct (expression, view, mouth) once.
    code = (expression.astype(np.int64) * len(VIEWS) + view) * len(MOUTHS) + mouth
    uniq, sprite = np.unique(code, return_inverse=True)
    resolved = []
    for c in uniq:
        e, rest = divmod(int(c), len(VIEWS) * len(MOUTHS))
        v, m = divmod(rest, len(MOUTHS))
        resolved.append(atlas.resolve(atlas.labels[e], VIEWS[v], MOUTHS[m]))
    return FramePlan(step, t, raw, pose, clamped, mouth, expression, view, sprite.astype(np.int32),
                     atlas.labels, resolved, warnings)


def render_row(atlas: Atlas, settings: RenderSettings, sprite_rel: str, pose_row, out=None) -> np.ndarray:
    """The single frame renderer: BGRA uint8 (h, w, 4). Preview and export both call this."""
    _, _, roll, tx, ty, scale = (float(v) for v in pose_row)
    return compose(atlas.sprite(sprite_rel), roll, tx, ty, scale, settings.canvas_w, settings.canvas_h,
                   settings.target_h_ratio, out)


@dataclass
class Project:
    """A loaded session with its atlas and frame plan: what the CLI and the studio work on."""
    session: Session
    atlas: Atlas
    plan: FramePlan

    @property
    def warnings(self) -> list[str]:
        return [*self.session.warnings, *self.atlas.warnings, *self.plan.warnings]

    def render_frame(self, i: int, out=None) -> np.ndarray:
        plan = self.plan  # one snapshot: an edit may replace the plan while a worker renders
        if not 0 <= i < len(plan):
            raise IndexError(f"frame {i} is outside 0..{len(plan) - 1}")
        return render_row(self.atlas, self.session.render, plan.resolved[plan.sprite[i]].sprite, plan.pose[i], out)

    def warm_sprites(self, cancel=None) -> int:
        """Decode the sprites the plan uses, in order of first use, so scrubbing finds them cached."""
        used, first = np.unique(self.plan.sprite, return_index=True)
        done = 0
        for k in np.argsort(first):
            if cancel is not None and cancel.is_set():
                break
            self.atlas.sprite(self.plan.resolved[int(used[k])].sprite).premultiplied()
            done += 1
        return done

    def replan(self) -> None:
        """Rebuild the plan after the timelines changed (editing)."""
        self.plan = build_plan(self.session, self.atlas)


def open_project(session_path: str | Path, overrides: Overrides | None = None) -> Project:
    session = load_session(session_path, overrides)
    assets = session.assets_dir
    atlas = load_atlas(session.atlas_path, assets)
    return Project(session, atlas, build_plan(session, atlas))
