"""The frame plan: every frame's resolved inputs (pose, mouth, expression, view, sprite) as arrays.

Built once per session (vectorised), it is what the preview, the export, the lanes and the
scorer read. Rendering frame i needs nothing but row i, so frames are independent.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from contracts.errors import ContractError
from render.atlas import Atlas, Resolved, load_atlas
from render.compositor import clamp_pose, compose
from render.sprites import decode_sprite
from render.views import VIEWS, select_view_ids
from contracts.session import Overrides, RenderSettings, Session, load_session
from contracts.timelines import MOUTHS, MouthTrack, frame_times
from studio.edit.tracks import mouth_ends


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
    codes: np.ndarray | None = None   # (len(resolved),) the (expression, view, mouth) code each one resolves

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
                "roll_deg": roll, "scale": scale, "tx": tx, "ty": ty, "missing": list(r.missing)}


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
    view = select_view_ids(raw[:, 0], raw[:, 1], atlas.rules, atlas.views.keys())

    # Resolve each distinct (expression, view, mouth) once.
    uniq, sprite = np.unique(_codes(expression, view, mouth), return_inverse=True)
    resolved = [_resolve(atlas, c) for c in uniq]
    return FramePlan(step, t, raw, pose, clamped, mouth, expression, view, sprite.astype(np.int32),
                     atlas.labels, resolved, warnings, uniq)


def _codes(expression: np.ndarray, view: np.ndarray, mouth: np.ndarray) -> np.ndarray:
    return (expression.astype(np.int64) * len(VIEWS) + view) * len(MOUTHS) + mouth


def _resolve(atlas: Atlas, code) -> Resolved:
    e, rest = divmod(int(code), len(VIEWS) * len(MOUTHS))
    v, m = divmod(rest, len(MOUTHS))
    return atlas.resolve(atlas.labels[e], VIEWS[v], MOUTHS[m])


def mouth_frames(track, f0: int, f1: int, step: float) -> np.ndarray:
    """The mouth of frames [f0, f1), sampled from the events that can show there only (the same
    sampling as the whole track: the events are shifted by whole frames)."""
    if track is None or not len(track.starts):
        return np.zeros(f1 - f0, np.int8)
    starts, ends = track.starts, mouth_ends(track, step)
    hit = np.flatnonzero((starts < f1 * step) & (ends > f0 * step))
    if not len(hit):
        return np.zeros(f1 - f0, np.int8)
    a, b = int(hit[0]), min(len(starts), int(hit[-1]) + 2)   # + the next event: its start ends a step
    sub = MouthTrack(None, None, track.shape, starts[a:b] - f0 * step, track.durs[a:b], track.ids[a:b])
    return sub.sample(f1 - f0, step)


def update_plan(plan: FramePlan, session: Session, atlas: Atlas, touched: dict[str, tuple[float, float]]
                ) -> FramePlan:
    """The plan after edits that touched only the given times (ms per timeline): those frames are
    planned again, the rest is kept (a new plan object: a renderer holding the old one is unaffected)."""
    n, step = len(plan), plan.step_ms
    raw, pose, clamped = plan.raw_pose, plan.pose, plan.clamped
    mouth, expression, view, warnings = plan.mouth, plan.expression, plan.view, plan.warnings
    redo = np.zeros(n, bool)

    def frames(kind):
        t0, t1 = touched[kind]
        return max(0, int(np.floor(t0 / step)) - 1), n if not np.isfinite(t1) else min(n, int(np.ceil(t1 / step)) + 1)

    if "pose" in touched:
        f0, f1 = frames("pose")
        raw, pose, clamped, view = raw.copy(), pose.copy(), clamped.copy(), view.copy()
        raw[f0:f1] = session.pose.sample(plan.t_ms[f0:f1])
        rs = session.render
        pose[f0:f1] = raw[f0:f1]
        pose[f0:f1, 3], pose[f0:f1, 4], pose[f0:f1, 5], clamped[f0:f1] = clamp_pose(
            raw[f0:f1, 3], raw[f0:f1, 4], raw[f0:f1, 5], rs.canvas_w, rs.canvas_h)
        view[f0:f1] = select_view_ids(raw[f0:f1, 0], raw[f0:f1, 1], atlas.rules, atlas.views.keys())
        redo[f0:f1] = True
    if "mouth" in touched:
        f0, f1 = frames("mouth")
        mouth = mouth.copy()
        mouth[f0:f1] = mouth_frames(session.mouth, f0, f1, step)
        redo[f0:f1] = True
    if "expression" in touched:   # few events: sampled whole (change points reach to the next one)
        if session.expression is not None:
            expression, warnings = session.expression.sample(n, step, atlas.labels, atlas.default)
        redo[:] = True
    sprite, resolved, codes = plan.sprite.copy(), list(plan.resolved), plan.codes
    at = np.flatnonzero(redo)
    if len(at):
        code = _codes(expression[at], view[at], mouth[at])
        known = {int(c): k for k, c in enumerate(codes)}
        for c in set(code.tolist()):
            if c not in known:
                known[c] = len(resolved)
                resolved.append(_resolve(atlas, c))
        codes = np.array(sorted(known, key=known.get), dtype=np.int64)
        lut_keys = np.array(list(known), dtype=np.int64)
        lut_vals = np.array(list(known.values()), dtype=np.int32)
        order = np.argsort(lut_keys)
        sprite[at] = lut_vals[order][np.searchsorted(lut_keys[order], code)]
    return FramePlan(step, plan.t_ms, raw, pose, clamped, mouth, expression, view, sprite, plan.labels, resolved,
                     warnings, codes)


def render_row(atlas: Atlas, settings: RenderSettings, sprite_rel: str, pose_row, out=None,
               rgba: bool = False) -> np.ndarray:
    """The single frame renderer: BGRA uint8 (h, w, 4). Preview and export both call this (the export
    asks for the same pixels in RGBA order, the PNG encoder's, so it needs no channel swap)."""
    _, _, roll, tx, ty, scale = (float(v) for v in pose_row)
    return compose(atlas.sprite(sprite_rel, rgba), roll, tx, ty, scale, settings.canvas_w, settings.canvas_h,
                   settings.target_h_ratio, out)


@dataclass
class Project:
    """A loaded session with its atlas and frame plan: what the CLI and the studio work on."""
    session: Session
    atlas: Atlas
    plan: FramePlan
    _size_warnings: list[str] | None = field(default=None, repr=False)

    @property
    def warnings(self) -> list[str]:
        return [*self.session.warnings, *self.atlas.warnings, *self.plan.warnings, *self.size_warnings()]

    def size_warnings(self) -> list[str]:
        """Sprites of different sizes within a view make the face jump in size between mouth shapes,
        unless render.target_h_ratio sizes every sprite to the canvas. (Read from the sprite files once:
        the atlas does not change while a session is open.)"""
        if self.session.render.target_h_ratio is not None:
            return []
        if self._size_warnings is None:
            self._size_warnings = self._read_size_warnings()
        return self._size_warnings

    def _read_size_warnings(self) -> list[str]:
        out = []
        for view, sizes in self.atlas.sprite_sizes().items():
            if len(sizes) > 1:
                shown = ", ".join(f"{w}x{h} ({rel})" for (w, h), rel in list(sizes.items())[:3])
                out.append(f"view {view} mixes sprite sizes {shown}: the face changes size between sprites; "
                           f"set render.target_h_ratio in the session to draw them at one height")
        return out

    def sprites_used(self) -> list[tuple[str, int]]:
        """(sprite, first frame that draws it) for every sprite the plan draws, in order of first use."""
        plan = self.plan
        used, first = np.unique(plan.sprite, return_index=True)
        order = np.argsort(first)
        return [(plan.resolved[int(used[k])].sprite, int(first[k])) for k in order]

    def check_sprites(self, workers: int = 2, cached: bool = False) -> None:
        """Decode every sprite the session draws (SPEC §12: `validate` rejects what `export` would);
        ContractError naming the first one that cannot be used and a frame that needs it. `cached`:
        through the sprite cache, as the export draws them (a batch worker that exports many sessions
        of one character then decodes each sprite once, for the check and the frames alike)."""
        base = self.atlas.assets_dir

        def check(item):
            rel, frame = item
            try:
                if cached:
                    self.atlas.sprite(rel, rgba=True)
                else:
                    decode_sprite(str(base / rel))  # decoded and dropped: checking must not fill memory
            except ContractError as err:
                return ContractError(base / rel, "", f"{err.expected} (frame {frame} draws it)")
            return None
        with ThreadPoolExecutor(max_workers=workers) as pool:  # OpenCV decodes without the GIL
            for err in pool.map(check, self.sprites_used()):
                if err is not None:
                    raise err

    def render_frame(self, i: int, out=None) -> np.ndarray:
        plan = self.plan  # one snapshot: an edit may replace the plan while a worker renders
        if not 0 <= i < len(plan):
            raise IndexError(f"frame {i} is outside 0..{len(plan) - 1}")
        return render_row(self.atlas, self.session.render, plan.resolved[plan.sprite[i]].sprite, plan.pose[i], out)

    def warm_sprites(self, cancel=None) -> int:
        """Decode the sprites the plan uses, in order of first use, so scrubbing finds them cached."""
        done = 0
        for rel, _ in self.sprites_used():
            if cancel is not None and cancel.is_set():
                break
            self.atlas.sprite(rel).premultiplied()
            done += 1
        return done

    def replan(self, touched: dict[str, tuple[float, float]] | None = None) -> None:
        """Plan again after the timelines changed (editing): only the frames `touched` (ms per timeline)
        when given, so an edit of a long session costs what it changed."""
        if touched and self.plan.codes is not None and len(self.plan) == self.session.target_frames:
            self.plan = update_plan(self.plan, self.session, self.atlas, touched)
        else:
            self.plan = build_plan(self.session, self.atlas)


def open_project(session_path: str | Path, overrides: Overrides | None = None,
                 check_sprites: bool = False) -> Project:
    """Load a session, its atlas and its frame plan; with `check_sprites`, also decode every sprite drawn."""
    session = load_session(session_path, overrides)
    atlas = load_atlas(session.atlas_path, session.assets_dir)
    project = Project(session, atlas, build_plan(session, atlas))
    if check_sprites:
        project.check_sprites()
    return project
