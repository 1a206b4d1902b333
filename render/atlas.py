"""atlas.min.json (SPEC §6): views, expression folders, fallback chains, sprite loading."""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from contracts.errors import SAME_KIND_WARNINGS, ContractError, display_path, more_line, printable, shorten
from contracts.jsonfile import describe, gc_paused, read_json, require_finite, validate
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
    # Caches: an atlas of 20,000 views asks about 600,000 files; each answer is computed once and
    # with plain strings (pathlib costs 10x a stat here), so loading stays linear (SPEC §12).
    _exists: dict[str, bool] = field(default_factory=dict, repr=False)
    _resolved: dict = field(default_factory=dict, repr=False)
    _names: dict[str, str] = field(default_factory=dict, repr=False)
    _listed: frozenset | None = field(default=None, repr=False)
    _hints: "HintFinder | None" = field(default=None, repr=False)
    _folders: "FolderIndex" = field(default_factory=lambda: FolderIndex(), repr=False)

    # ---------------------------------------------------------------- files
    def full(self, rel: str) -> str:
        return os.path.join(self.assets_dir, rel)

    def exists(self, rel: str) -> bool:
        hit = self._exists.get(rel)
        if hit is None:
            hit = self._exists[rel] = self._folders.is_file(self.full(rel))
        return hit

    def variant(self, expression: str, view: str, mouth: str) -> str:
        """<expr>_<view>/<file name of atlas[view][mouth]> (SPEC §6)."""
        rel = self.views[view][mouth]
        name = self._names.get(rel)
        if name is None:
            name = self._names[rel] = PurePosixPath(rel).name
        return f"{expression}_{view}/{name}"

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
        if self._hints is None:
            self._hints = HintFinder(self.assets_dir, self.listed())
        return self._hints.hint(rel)

    def listed(self) -> frozenset[str]:
        if self._listed is None:
            self._listed = frozenset(r for ms in self.views.values() for r in ms.values())
        return self._listed

    def sprite_sizes(self) -> dict[str, dict[tuple[int, int], str]]:
        """Per view, each (w, h) its existing PNG sprites have (bases and expression variants), with one
        file of that size: production trees mix 720 and 1080 px sprites within a view."""
        size_of: dict[str, tuple[int, int] | None] = {}   # views often share their files
        out: dict[str, dict[tuple[int, int], str]] = {}
        variants = [e for e in self.labels if e != self.default]
        base = os.fspath(self.assets_dir)
        for v, mouths in self.views.items():
            sizes: dict[tuple[int, int], str] = {}
            live = [e for e in variants if self._folders.may_hold(base, f"{e}_{v}")]
            for m, rel in mouths.items():
                for r in [rel] + [self.variant(e, v, m) for e in live]:
                    if r not in size_of:
                        size_of[r] = png_size(self.full(r)) if self.exists(r) else None
                    if size_of[r] is not None:
                        sizes.setdefault(size_of[r], r)
            out[v] = sizes
        return out

    # ---------------------------------------------------------------- pixels
    def sprite(self, rel: str, rgba: bool = False) -> Sprite:
        return SPRITES.get(str(self.assets_dir / rel), rgba)


def _is_view(value) -> bool:
    return isinstance(value, dict) and any(mouth_from_label(k) == "closed" for k in value)


class FolderIndex:
    """Which names in a folder are files, from one listing per folder: the expression variants of a
    large atlas live in thousands of `<expr>_<view>/` folders that mostly do not exist, and one
    failed listing answers for all their sprites."""

    def __init__(self):
        self._seen: dict[str, tuple[frozenset[str], frozenset[str]] | None] = {}

    def _entries(self, folder: str) -> tuple[frozenset[str], frozenset[str]] | None:
        """(file names, folder names) in `folder`; empty when it does not exist, None when unlistable."""
        hit = self._seen.get(folder, ())
        if hit == ():
            hit = self._seen[folder] = self._list(folder)
        return hit

    def may_hold(self, parent: str, name: str) -> bool:
        """False when `parent` surely has no folder `name` (so nothing inside it needs a look)."""
        if "/" in name or name in ("", ".", ".."):
            return True
        entries = self._entries(parent)
        return entries is None or name in entries[1]

    def is_file(self, path: str) -> bool:
        folder, name = os.path.split(path)
        entries = self._entries(folder)
        if entries is None:  # a folder we may not list (or an odd path): ask about the file itself
            return os.path.isfile(path)   # False for NUL bytes and names too long
        return name in entries[0]

    @staticmethod
    def _list(folder: str) -> tuple[frozenset[str], frozenset[str]] | None:
        try:
            with os.scandir(folder or ".") as it:
                entries = [(e.name, _kind(e)) for e in it]
        except (FileNotFoundError, NotADirectoryError):
            return frozenset(), frozenset()
        except (OSError, ValueError):
            return None
        return (frozenset(n for n, k in entries if k == "file"), frozenset(n for n, k in entries if k == "dir"))


def _kind(entry: os.DirEntry) -> str:
    try:   # both follow symlinks, as os.path.isfile and isdir do
        return "file" if entry.is_file() else "dir" if entry.is_dir() else "other"
    except OSError:
        return "other"


class HintFinder:
    """A close name in the same folder that the atlas does not list itself (mouth_closed.png for
    mouth_close.png; never mouth_o.png for a missing mouth_u.png).

    Linear however many sprites are missing: each folder is listed once, and the fuzzy comparisons
    have a budget for the whole atlas (a hint is a courtesy; once it is spent, warnings go without)."""
    BUDGET = 200_000   # name comparisons: ~0.3 s

    def __init__(self, assets_dir: Path, listed: frozenset[str]):
        self.assets_dir, self.listed = assets_dir, listed
        self._folders: dict[tuple[str, str], list[str]] = {}
        self.budget = self.BUDGET

    def hint(self, rel: str) -> str:
        parent = PurePosixPath(rel).parent
        folder = os.path.dirname(os.path.join(self.assets_dir, rel))
        names = self._folders.get((folder, str(parent)))
        if names is None:
            try:
                names = sorted(os.listdir(folder))
            except (OSError, ValueError):
                names = []
            names = self._folders[folder, str(parent)] = [n for n in names if str(parent / n) not in self.listed]
        name = PurePosixPath(rel).name
        if len(names) > self.budget:
            return ""
        self.budget -= len(names)
        close = difflib.get_close_matches(name, [n for n in names if n != name], n=1, cutoff=0.6)
        return f" (did you mean {printable(str(parent / close[0]))}?)" if close else ""


@gc_paused
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
    missing = [(v, m, rel) for (v, m, rel), ok in zip(listed, present) if not ok]
    for v, m, rel in missing[:SAME_KIND_WARNINGS]:
        atlas.warnings.append(f"sprite {rel} ({v}/{m}) is missing{atlas.hint(rel)}; "
                              f"frames that need it are fallback frames")
    if len(missing) > SAME_KIND_WARNINGS:
        atlas.warnings.append(more_line(len(missing) - SAME_KIND_WARNINGS, "sprites listed in the atlas are missing; "
                                                                          "frames that need them are fallback frames"))
    return atlas
