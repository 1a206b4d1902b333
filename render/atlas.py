"""atlas.min.json (SPEC §6): views, expression folders, fallback chains, sprite loading."""
from __future__ import annotations

import difflib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import cv2
import numpy as np

from render.views import rules_with_defaults
from contracts.errors import ContractError, display_path
from contracts.jsonfile import read_json, validate
from contracts.timelines import MOUTHS, mouth_from_label

DEFAULT_LABELS = ["normal", "smile", "angry", "sad", "blink"]


@dataclass(frozen=True)
class Resolved:
    """The sprite drawn for a wanted (expression, view, mouth), and why it is a fallback if it is one."""
    sprite: str                  # path relative to the assets dir
    view: str
    mouth: str
    expression_variant: bool     # True: drawn from an <expr>_<view>/ folder
    reasons: tuple[str, ...]     # () when the frame is not a fallback frame


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
            hit = self._exists[rel] = (self.assets_dir / rel).is_file()
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
        fv, fm = self.fallback_view, self.fallback_mouth
        wants_variant = expression != self.default
        chain = [(view, mouth), (view, fm), (fv, mouth), (fv, fm)]
        for v, m in dict.fromkeys(chain):  # ordered, without repeats
            if m not in self.views.get(v, {}):
                continue
            tries = ([(self.variant(expression, v, m), True)] if wants_variant else []) + [(self.views[v][m], False)]
            for rel, is_variant in tries:
                if self.exists(rel):
                    reasons = []
                    if v != view:
                        reasons.append("view_missing")
                    if m != mouth:
                        reasons.append("mouth_missing")
                    if wants_variant and not is_variant:
                        reasons.append("expression_missing")
                    return Resolved(rel, v, m, is_variant, tuple(reasons))
        raise AssertionError("the fallback sprite is checked at load time")  # pragma: no cover

    # ---------------------------------------------------------------- pixels
    def sprite(self, rel: str) -> "Sprite":
        return _load_sprite(str(self.assets_dir / rel))


class Sprite:
    """A decoded BGRA sprite, stored as the crop of its visible pixels.

    For resampling it also offers a premultiplied 16-bit version of the crop: colour * alpha
    (0..65025) and alpha * 255, exact, so bilinear blends have no fringes and no 8-bit loss. That
    version is derived on demand and kept while memory allows (see SpriteCache).
    """

    def __init__(self, bgra: np.ndarray):
        self.h, self.w = bgra.shape[:2]
        x0, y0, cw, ch = cv2.boundingRect(cv2.extractChannel(bgra, 3))  # box of the visible pixels
        if cw == 0 or ch == 0:
            x0, y0, cw, ch = 0, 0, 1, 1
        self.offset = (x0, y0)
        self.crop = np.ascontiguousarray(bgra[y0:y0 + ch, x0:x0 + cw])
        # invisible pixels may still carry colour; the exact copy at identity must keep it
        outside = (bgra[:y0].any() or bgra[y0 + ch:].any() or bgra[y0:y0 + ch, :x0].any()
                   or bgra[y0:y0 + ch, x0 + cw:].any())
        self.full = bgra if outside else None
        self._premult = None

    @property
    def nbytes(self) -> int:
        extra = self.full.nbytes if self.full is not None else 0
        return self.crop.nbytes + extra + (self._premult.nbytes if self._premult is not None else 0)

    def premultiplied(self):
        """(premultiplied uint16 crop, (x0, y0) of the crop in the sprite)."""
        p = self._premult
        if p is None:
            a = cv2.extractChannel(self.crop, 3)
            opaque = np.full(a.shape, 255, np.uint8)
            p = self._premult = cv2.multiply(self.crop, cv2.merge([a, a, a, opaque]), dtype=cv2.CV_16U)
        return p, self.offset

    def drop_premultiplied(self) -> int:
        freed = self._premult.nbytes if self._premult is not None else 0
        self._premult = None
        return freed


class SpriteCache:
    """Decoded sprites, bounded in bytes: over budget, the least recently used first lose their
    premultiplied copy, then are dropped. Shared by every session of the process."""

    def __init__(self, budget_bytes: int = 640 << 20):
        self.budget = budget_bytes
        self._items: OrderedDict[str, Sprite] = OrderedDict()
        self._lock = threading.Lock()
        self._checked = 0  # cache hits since the last size check

    def get(self, path: str) -> Sprite:
        with self._lock:
            hit = self._items.get(path)
            if hit is not None:
                self._items.move_to_end(path)
                self._checked += 1
                if self._checked >= 64:  # premultiplied copies grow on hits: check now and then
                    self._trim()
                return hit
        sprite = _decode_sprite(path)  # outside the lock: decoding is slow, threads may decode others
        with self._lock:
            self._items[path] = sprite
            self._trim()
        return sprite

    def _trim(self) -> None:
        self._checked = 0
        total = sum(s.nbytes for s in self._items.values())
        if total <= self.budget:
            return
        for sprite in list(self._items.values())[:-1]:  # premultiplied copies first, oldest first
            total -= sprite.drop_premultiplied()
            if total <= self.budget:
                return
        while total > self.budget and len(self._items) > 1:
            _, old = self._items.popitem(last=False)
            total -= old.nbytes


SPRITES = SpriteCache()


def _load_sprite(path: str) -> Sprite:
    return SPRITES.get(path)


def _decode_sprite(path: str) -> Sprite:
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ContractError(path, "", "the sprite cannot be decoded as an image")
    if img.dtype != np.uint8:
        img = (img / 257).astype(np.uint8) if img.dtype == np.uint16 else img.astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA)
    elif img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    return Sprite(np.ascontiguousarray(img))


def _is_view(value) -> bool:
    return isinstance(value, dict) and any(mouth_from_label(k) == "closed" for k in value)


def _did_you_mean(assets_dir: Path, rel: str) -> str:
    folder = (assets_dir / rel).parent
    try:
        names = os.listdir(folder)
    except OSError:
        return ""
    close = difflib.get_close_matches(PurePosixPath(rel).name, names, n=1, cutoff=0.6)
    return f" (did you mean {PurePosixPath(rel).parent / close[0]}?)" if close else ""


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
                raise ContractError(path, f"{where}.{label}", f"unknown mouth label; expected one of {', '.join(MOUTHS)} (or close)")
            if not isinstance(rel, str):
                raise ContractError(path, f"{where}.{label}", "expected a sprite path string")
            clean[mouth] = rel
        views[name] = clean
    if not views:
        raise ContractError(path, "top level", "the atlas lists no views (objects with a 'closed' sprite)")

    fb = doc.get("fallback", {})
    fallback_view = fb.get("view", "front")
    fallback_mouth = mouth_from_label(fb.get("mouth", "closed"))
    if fallback_mouth is None:
        raise ContractError(path, "fallback.mouth", f"unknown mouth label {fb.get('mouth')!r}")
    labels = list(doc.get("expression_labels", DEFAULT_LABELS))
    default = doc.get("expression_default", "normal")
    if default not in labels:
        raise ContractError(path, "expression_default", f"'{default}' is not one of expression_labels {labels}")

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
                                              f"is missing under {display_path(base)}{_did_you_mean(base, fb_rel)}")
    for (v, m, rel), ok in zip(listed, present):
        if not ok:
            atlas.warnings.append(f"sprite {rel} ({v}/{m}) is missing{_did_you_mean(base, rel)}; "
                                  f"frames that need it are fallback frames")
    return atlas
