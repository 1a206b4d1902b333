"""Placing one sprite on the canvas (SPEC §7 steps 3–7): size, roll, placement, resampling.

Resampling is bilinear in premultiplied alpha, so no dark or coloured fringe appears where
transparent pixels are blended in; the canvas stores straight alpha. The identity case is an
exact copy. Both paths share one placement rule: the sprite pixel grid maps to the canvas with
its top-left at (W//2 - w//2 + tx, H//2 - h//2 + ty) at identity, and the sprite centre stays
fixed under scale and roll.

With the project's C extension (render/native.py) the warp and the un-premultiply are one pass
over the covered box (float bilinear, no intermediate 16-bit rounding: within 2 levels of the
OpenCV path on under 1 % of pixels). Without it: OpenCV's warp, then one vectorised division
over the box, whatever its alpha: its cost does not depend on how many pixels are partly
transparent (production sprites are photographs with alpha 254 over the whole body and
feathered edges). Intermediate buffers are kept per thread and per box size, so a frame
allocates nothing once warm.
"""
from __future__ import annotations

import math
import threading

import cv2
import numpy as np

from render import native
from render.sprites import Sprite

SCALE_MIN, SCALE_MAX = 0.5, 2.0
OFFSET_LIMIT = 0.45  # tx, ty clamped to ±0.45 × canvas width / height
OPAQUE16 = 65025     # alpha * 255 of an opaque pixel in the premultiplied 16-bit form
_scratch = threading.local()


def clamp_pose(tx, ty, scale, canvas_w: int, canvas_h: int):
    """Clamp translation and scale (vectorised); returns (tx, ty, scale, tx/ty-clamped mask)."""
    lim_x, lim_y = OFFSET_LIMIT * canvas_w, OFFSET_LIMIT * canvas_h
    ctx, cty = np.clip(tx, -lim_x, lim_x), np.clip(ty, -lim_y, lim_y)
    return ctx, cty, np.clip(scale, SCALE_MIN, SCALE_MAX), (ctx != tx) | (cty != ty)


def compose(sprite: Sprite, roll_deg: float, tx: float, ty: float, scale: float,
            canvas_w: int, canvas_h: int, target_h_ratio: float | None = None,
            out: np.ndarray | None = None) -> np.ndarray:
    """Render one sprite (pose already clamped) onto a transparent BGRA canvas."""
    canvas = out if out is not None else np.zeros((canvas_h, canvas_w, 4), np.uint8)
    if out is not None:
        canvas.fill(0)
    w, h = sprite.w, sprite.h
    k = scale if target_h_ratio is None else canvas_h * target_h_ratio * scale / h
    ox, oy = canvas_w // 2 - w // 2, canvas_h // 2 - h // 2  # top-left at identity, before tx/ty
    if k == 1.0 and roll_deg == 0.0 and float(tx).is_integer() and float(ty).is_integer():
        if sprite.full is not None:
            _copy_exact(sprite.full, canvas, ox + int(tx), oy + int(ty))
        else:  # everything outside the crop is (0, 0, 0, 0), as the canvas already is
            _copy_exact(sprite.crop, canvas, ox + int(tx) + sprite.offset[0], oy + int(ty) + sprite.offset[1])
        return canvas

    crop, (cx0, cy0) = sprite.premultiplied()
    # Affine map from crop pixel indices to canvas pixel indices (pixel centres at integers):
    # dst = A (src + c0 + 0.5 - centre) + centre + offset - 0.5, with centre = (w/2, h/2).
    # Plain floats, not numpy: a 2x2 matmul wakes OpenBLAS's threads, which then spin on the cores
    # the export's workers need.
    th = math.radians(roll_deg)
    cos, sin = math.cos(th) * k, math.sin(th) * k   # A = [[cos, sin], [-sin, cos]]: positive roll = counter-
    ux, uy = cx0 + 0.5 - w / 2.0, cy0 + 0.5 - h / 2.0  # clockwise on screen (y down)
    sx = cos * ux + sin * uy + w / 2.0 + (ox + tx) - 0.5
    sy = -sin * ux + cos * uy + h / 2.0 + (oy + ty) - 0.5
    ch, cw = crop.shape[:2]
    xs, ys = [], []
    for px, py in ((-0.5, -0.5), (cw - 0.5, -0.5), (-0.5, ch - 0.5), (cw - 0.5, ch - 0.5)):  # the crop's corners
        xs.append(px * cos + py * sin + sx)
        ys.append(-px * sin + py * cos + sy)
    x0 = max(int(math.floor(min(xs))), 0)
    y0 = max(int(math.floor(min(ys))), 0)
    x1 = min(int(math.ceil(max(xs))) + 1, canvas_w)
    y1 = min(int(math.ceil(max(ys))) + 1, canvas_h)
    if x1 <= x0 or y1 <= y0:
        return canvas
    m = np.array([[cos, sin, sx - x0], [-sin, cos, sy - y0]], np.float64)
    if native.ext is not None:   # warp + un-premultiply in one pass; it takes the box-to-crop map
        inv = cv2.invertAffineTransform(m)
        native.ext.warp_unpremultiply(crop, canvas[y0:y1, x0:x1], tuple(inv.ravel()), simd=native.SIMD)
        return canvas
    buf = _buffers(y1 - y0, x1 - x0, canvas_h, canvas_w)
    warped = cv2.warpAffine(crop, m, (x1 - x0, y1 - y0), dst=buf["warped"], flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    unpremultiply(warped, canvas[y0:y1, x0:x1], buf)
    return canvas


def _buffers(h: int, w: int, max_h: int | None = None, max_w: int | None = None) -> dict:
    """Scratch arrays for an h x w box: views into arrays of the canvas size that this thread
    keeps, so frames whose boxes differ by a pixel allocate nothing."""
    max_h, max_w = max(h, max_h or h), max(w, max_w or w)
    full = getattr(_scratch, "bufs", None)
    if full is None or full["warped"].shape[0] < max_h or full["warped"].shape[1] < max_w:
        full = _scratch.bufs = {
            "warped": np.empty((max_h, max_w, 4), np.uint16), "alpha": np.empty((max_h, max_w), np.uint16),
            "divisor": np.empty((max_h, max_w, 4), np.uint16), "straight": np.empty((max_h, max_w, 4), np.uint16),
            "opaque": np.full((max_h, max_w), OPAQUE16, np.uint16)}
    return {k: v[:h, :w] for k, v in full.items()}


def unpremultiply(p: np.ndarray, out: np.ndarray | None = None, buf: dict | None = None) -> np.ndarray:
    """Premultiplied uint16 BGRA (colour*alpha, alpha*255) -> straight uint8 BGRA, into `out`.

    colour = round(255 * p / alpha16), alpha = round(alpha16 / 255), in one division over the
    box. Pixels whose alpha rounds to 0 come out (0, 0, 0, 0): their divisor is made 0, and a
    division by 0 gives 0.
    """
    h, w = p.shape[:2]
    buf = buf if buf is not None else _buffers(h, w)
    alpha = cv2.extractChannel(p, 3, dst=buf["alpha"])
    cv2.threshold(alpha, 127, 0, cv2.THRESH_TOZERO, dst=alpha)      # alpha16 <= 127: alpha rounds to 0
    divisor = cv2.merge([alpha, alpha, alpha, buf["opaque"]], dst=buf["divisor"])
    straight = cv2.divide(p, divisor, dst=buf["straight"], scale=255.0)
    if out is None:
        return cv2.convertScaleAbs(straight)
    cv2.convertScaleAbs(straight, dst=out)
    return out


def _copy_exact(src: np.ndarray, dst: np.ndarray, x: int, y: int) -> None:
    """Copy src into dst with its top-left at (x, y), clipped to dst."""
    h, w = src.shape[:2]
    H, W = dst.shape[:2]
    sx0, sy0 = max(0, -x), max(0, -y)
    dx0, dy0 = max(0, x), max(0, y)
    dx1, dy1 = min(W, x + w), min(H, y + h)
    if dx1 > dx0 and dy1 > dy0:
        dst[dy0:dy1, dx0:dx1] = src[sy0:sy0 + dy1 - dy0, sx0:sx0 + dx1 - dx0]
