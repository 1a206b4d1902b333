"""Sprites: decoding (with size limits), the premultiplied form the compositor resamples, and the cache."""
from __future__ import annotations

import os
import struct
import threading
from collections import OrderedDict

import cv2
import numpy as np

from contracts.errors import ContractError, os_reason
from contracts.native import meaning, native_messages
from render.pngcheck import PNG_SIGNATURE, png_problem

MAX_SPRITE_SIDE = 8192          # like the canvas: larger images are refused before decoding
if not os.environ.get("LIPSYNC_DEBUG"):  # OpenCV's own log lines are not ours to print (SPEC §12)
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def png_size(path: str) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR without decoding it; None for other files or unreadable ones."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


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


def decode_sprite(path: str, rgba: bool = False) -> Sprite:
    """Decode an image file as a BGRA sprite (RGBA with `rgba`: what the PNG encoder takes, so export
    frames need no channel swap); ContractError naming the file when it cannot be used."""
    size = png_size(path)
    if size is not None and max(size) > MAX_SPRITE_SIDE:
        raise ContractError(path, "", f"the sprite is {size[0]}x{size[1]}, over the {MAX_SPRITE_SIDE} px limit")
    try:
        with open(path, "rb") as f:
            raw = np.frombuffer(f.read(), np.uint8)
    except OSError as exc:
        raise ContractError(path, "", f"the sprite cannot be read ({os_reason(exc)})") from None
    if raw[:8].tobytes() == PNG_SIGNATURE:
        problem = png_problem(raw)
        if problem is not None:
            raise ContractError(path, "", f"the sprite is not a valid PNG: {problem}")
    with native_messages() as said:
        img = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) if len(raw) else None
    if img is None or img.size == 0:
        why = meaning(said)
        raise ContractError(path, "", f"the sprite cannot be decoded as an image ({len(raw)} bytes"
                                      f"{'; the decoder said: ' + why if why else ''})")
    if max(img.shape[:2]) > MAX_SPRITE_SIDE:
        raise ContractError(path, "", f"the sprite is {img.shape[1]}x{img.shape[0]}, over the {MAX_SPRITE_SIDE} px limit")
    if img.dtype != np.uint8:
        img = (img / 257).astype(np.uint8) if img.dtype == np.uint16 else np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA)
    elif img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    elif img.shape[2] != 4:
        raise ContractError(path, "", f"the sprite has {img.shape[2]} channels; expected 1, 3 or 4")
    if rgba:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    return Sprite(np.ascontiguousarray(img))


class SpriteCache:
    """Decoded sprites, bounded in bytes: over budget, the least recently used first lose their
    premultiplied copy, then are dropped. Shared by every session of the process."""

    def __init__(self, budget_bytes: int = 640 << 20):
        self.budget = budget_bytes
        self._items: OrderedDict[tuple[str, bool], Sprite] = OrderedDict()
        self._lock = threading.Lock()
        self._checked = 0  # cache hits since the last size check

    def get(self, path: str, rgba: bool = False) -> Sprite:
        key = (path, rgba)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                self._checked += 1
                if self._checked >= 64:  # premultiplied copies grow on hits: check now and then
                    self._trim()
                return hit
        sprite = decode_sprite(path, rgba)  # outside the lock: decoding is slow, threads may decode others
        with self._lock:
            self._items[key] = sprite
            self._trim()
        return sprite

    def clear(self) -> None:
        """Forget every sprite (a long-lived render worker starting a new run: files may have changed)."""
        with self._lock:
            self._items.clear()

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


def interactive_budget() -> int:
    """The sprite cache an interactive studio gets: an eighth of the machine's memory, between
    640 MB and 3 GB (`LIPSYNC_SPRITE_CACHE_MB` overrides). Production sprites take ~5 MB each
    with their premultiplied copy and a session draws a few hundred: with only 640 MB, random
    scrubbing re-derives premultiplied copies (~3 ms a frame). Batch commands keep the default."""
    env = os.environ.get("LIPSYNC_SPRITE_CACHE_MB", "")
    if env.isdigit():
        return int(env) << 20
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 640 << 20
    return int(min(max(ram // 8, 640 << 20), 3 << 30))
