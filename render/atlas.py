"""atlas.min.json (SPEC §6): views, expression folders, fallback chains, sprite loading."""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from contracts.errors import ContractError, display_path, printable, shorten
from contracts.jsonfile import describe, read_json, require_finite, validate
from contracts.timelines import MOUTHS, mouth_from_label
from render.sprites import SPRITES, Sprite, png_size
from render.views import rules_with_defaults

DEFAULT_LABELS = ["normal", "smile", "angry", "sad", "blink"]


@dataclass(frozen=True)
class Resolved:
    """The sprite drawn for a wanted (expression, view, mouth), and why it is a fallback if it is one."""
    sprite: str                  # path relative to the assets dir
    view: str
    mouth: str
    expression_variant: bool     # True: drawn from an <expr>_<view>/ folder
    reasons: tuple[str, ...]     # () when the frame is not a fallback frame
    missing: tuple[str, ...] = ()  # what was passed over, named: views, mouths, files

@dataclass
class Atlas:
    path: Path
    assets_dir: Path
    views: dict[str, dict[str, str]]        # view -> mouth -> sprite path (relative to assets_dir)
    rules: dict[str, float]
    fallback_view: str
    fallback_mouth: str
    labels: list[str]
    default: str
    warnings: list[str] = field(default_factory=list)
    _exists: dict[str, bool] = field(default_factory=dict, repr=False)
    _resolved: dict = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------- files
    def exists(self, rel: str) -> bool:
        hit = self._exists.get(rel)
        if hit is None:
            try:
                hit = (self.assets_dir / rel).is_file()
            except (OSError, ValueError):  # a name too long, a NUL byte: no such sprite
                hit = False
            self._exists[rel] = hit
        return hit

    def variant(self, expression: str, view: str, mouth: str) -> str:
        """<expr>_<view>/<file name of atlas[view][mouth]> (SPEC §6)."""
        return f"{expression}_{view}/{PurePosixPath(self.views[view][mouth]).name}"

    # -------------------------------------------------------------- fallback
    def resolve(self, expression: str, view: str, mouth: str) -> Resolved:
        key = (expression, view, mouth)
        hit = self._resolved.get(key)
        if hit is None:
            hit = self._resolved[key] = self._resolve(expression, view, mouth)
        return hit

    def _resolve(self, expression: str, view: str, mouth: str) -> Resolved:
        """SPEC §6: walk the candidates; one reason per candidate passed over (each reason once),
        plus expression_missing when a base is drawn where the variant was wanted."""
        fv, fm = self.fallback_view, self.fallback_mouth
        wants_variant = expression != self.default
        reasons: dict[str, None] = {}
        missing: dict[str, None] = {}
        for v, m in dict.fromkeys([(view, mouth), (view, fm), (fv, mouth), (fv, fm)]):  # ordered, no repeats
            if v not in self.views:
                reasons["view_missing"] = None
                missing[f"view {v} is not in the atlas"] = None
                continue
            if m not in self.views[v]:
                reasons["mouth_missing"] = None
                missing[f"view {v} lists no '{m}' mouth"] = None
                continue
            tries = ([(self.variant(expression, v, m), True)] if wants_variant else []) + [(self.views[v][m], False)]
            for rel, is_variant in tries:
                if self.exists(rel):
                    if wants_variant and not is_variant:
                        reasons["expression_missing"] = None
                        missing[f"{tries[0][0]} is missing"] = None
                    return Resolved(rel, v, m, is_variant, tuple(reasons), tuple(missing))
            reasons["sprite_missing"] = None
            base = self.views[v][m]
            missing[f"{base} is missing{self.hint(base)}"] = None
        raise AssertionError("the fallback sprite is checked at load time")  # pragma: no cover

    def hint(self, rel: str) -> str:
        """' (did you mean …?)' when a file with a close name exists beside a missing one."""
        return _did_you_mean(self.assets_dir, rel, self.listed())

    def listed(self) -> set[str]:
        return {r for ms in self.views.values() for r in ms.values()}

    def sprite_sizes(self) -> dict[str, dict[tuple[int, int], str]]:
        """Per view, each (w, h) its existing PNG sprites have (bases and expression variants), with one
        file of that size: production trees mix 720 and 1080 px sprites within a view."""
        out: dict[str, dict[tuple[int, int], str]] = {}
        variants = [e for e in self.labels if e != self.default]
        for v, mouths in self.views.items():
            sizes: dict[tuple[int, int], str] = {}
            for m, rel in mouths.items():
                for r in [rel] + [self.variant(e, v, m) for e in variants]:
                    if self.exists(r):
                        size = png_size(str(self.assets_dir / r))
                        if size is not None:
                            sizes.setdefault(size, r)
            out[v] = sizes
        return out

    # ---------------------------------------------------------------- pixels
    def sprite(self, rel: str, rgba: bool = False) -> Sprite:
        return SPRITES.get(str(self.assets_dir / rel), rgba)


def _is_view(value) -> bool:
    return isinstance(value, dict) and any(mouth_from_label(k) == "closed" for k in value)


def _did_you_mean(assets_dir: Path, rel: str, listed: set[str] = frozenset()) -> str:
    """A close name in the same folder that the atlas does not list itself (mouth_closed.png for
    mouth_close.png; never mouth_o.png for a missing mouth_u.png)."""
    folder = (assets_dir / rel).parent
    try:
        names = os.listdir(folder)
    except OSError:
        return ""
    name = PurePosixPath(rel).name
    parent = PurePosixPath(rel).parent
    names = [n for n in names if n != name and str(parent / n) not in listed]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f" (did you mean {printable(str(parent / close[0]))}?)" if close else ""


def load_atlas(path: str | Path, assets_dir: str | Path | None = None) -> Atlas:
    """Load an atlas and check its sprites up front (SPEC §6 load-time checks)."""
    path = Path(path)
    doc = read_json(path, "atlas")
    if not isinstance(doc, dict):
        raise ContractError(path, "top level", "an atlas must be a JSON object")
    validate(doc, "atlas", path, "atlas")
    raw_views = doc["views"] if isinstance(doc.get("views"), dict) else {k: v for k, v in doc.items() if _is_view(v)}
    views: dict[str, dict[str, str]] = {}
    for name, mapping in raw_views.items():
        where = f"views.{name}" if "views" in doc else name
        clean = {}
        for label, rel in mapping.items():
            mouth = mouth_from_label(label)
            if mouth is None:
                raise ContractError(path, f"{where}.{shorten(label, 40)}",
                                    f"unknown mouth label; expected one of {', '.join(MOUTHS)} (or close)")
            if not isinstance(rel, str):
                raise ContractError(path, f"{where}.{shorten(label, 40)}", "expected a sprite path string")
            clean[mouth] = rel
        views[name] = clean
    if not views:
        raise ContractError(path, "top level", "the atlas lists no views (objects with a 'closed' sprite)")

    fb = doc.get("fallback", {})
    fallback_view = fb.get("view", "front")
    fallback_mouth = mouth_from_label(fb.get("mouth", "closed"))
    if fallback_mouth is None:
        raise ContractError(path, "fallback.mouth", f"unknown mouth label {describe(fb.get('mouth'))}")
    labels = list(doc.get("expression_labels", DEFAULT_LABELS))
    default = doc.get("expression_default", "normal")
    if default not in labels:
        raise ContractError(path, "expression_default",
                            f"{describe(default)} is not one of expression_labels {describe(labels)}")
    for key, value in (doc.get("view_rules") or {}).items():
        require_finite(value, path, f"view_rules.{key}")

    base = Path(assets_dir) if assets_dir else path.parent
    atlas = Atlas(path, base, views, rules_with_defaults(doc.get("view_rules")), fallback_view,
                  fallback_mouth, labels, default)

    if fallback_view not in views or fallback_mouth not in views[fallback_view]:
        raise ContractError(path, "fallback", f"the fallback sprite {fallback_view}/{fallback_mouth} is not listed in the atlas")
    listed = [(v, m, rel) for v, ms in views.items() for m, rel in ms.items()]
    present = [atlas.exists(rel) for _, _, rel in listed]
    if not any(present):
        raise ContractError(path, "", f"none of the {len(listed)} sprites it lists exists under the assets dir "
                                      f"{display_path(base)} (wrong assets dir?)")
    fb_rel = views[fallback_view][fallback_mouth]
    if not atlas.exists(fb_rel):
        raise ContractError(path, "fallback", f"the fallback sprite {fb_rel} ({fallback_view}/{fallback_mouth}) "
                                              f"is missing under {display_path(base)}{atlas.hint(fb_rel)}")
    for (v, m, rel), ok in zip(listed, present):
        if not ok:
            atlas.warnings.append(f"sprite {rel} ({v}/{m}) is missing{atlas.hint(rel)}; "
                                  f"frames that need it are fallback frames")
    return atlas
