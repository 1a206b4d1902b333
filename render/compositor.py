"""Placing one sprite on the canvas (SPEC §7 steps 3–7): size, roll, placement, resampling.

Resampling is bilinear in premultiplied alpha, so no dark or coloured fringe appears where
transparent pixels are blended in; the canvas stores straight alpha. The identity case is an
exact copy. Both paths share one placement rule: the sprite pixel grid maps to the canvas with
its top-left at (W//2 - w//2 + tx, H//2 - h//2 + ty) at identity, and the sprite centre stays
fixed under scale and roll.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from render.atlas import Sprite

SCALE_MIN, SCALE_MAX = 0.5, 2.0
OFFSET_LIMIT = 0.45  # tx, ty clamped to ±0.45 × canvas width / height


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
    th = math.radians(roll_deg)
    cos, sin = math.cos(th) * k, math.sin(th) * k
    a = np.array([[cos, sin], [-sin, cos]])  # positive roll = counter-clockwise on screen (y down)
    centre = np.array([w / 2.0, h / 2.0])
    shift = a @ (np.array([cx0, cy0]) + 0.5 - centre) + centre + np.array([ox + tx, oy + ty]) - 0.5
    ch, cw = crop.shape[:2]
    corners = np.array([[-0.5, -0.5], [cw - 0.5, -0.5], [-0.5, ch - 0.5], [cw - 0.5, ch - 0.5]])
    pts = corners @ a.T + shift
    x0 = max(int(math.floor(pts[:, 0].min())), 0)
    y0 = max(int(math.floor(pts[:, 1].min())), 0)
    x1 = min(int(math.ceil(pts[:, 0].max())) + 1, canvas_w)
    y1 = min(int(math.ceil(pts[:, 1].max())) + 1, canvas_h)
    if x1 <= x0 or y1 <= y0:
        return canvas
    m = np.hstack([a, (shift - [x0, y0])[:, None]]).astype(np.float64)
    warped = cv2.warpAffine(crop, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    canvas[y0:y1, x0:x1] = unpremultiply(warped)
    return canvas


def unpremultiply(p: np.ndarray) -> np.ndarray:
    """Premultiplied uint16 BGRA (colour*alpha, alpha*255) -> straight uint8 BGRA.

    Opaque and empty pixels need only a division by 255 (one vectorised pass); the few partly
    transparent edge pixels get colour = p * 255 / (alpha*255) individually. Pixels whose alpha
    rounds to 0 come out (0, 0, 0, 0).
    """
    out = cv2.convertScaleAbs(p, alpha=1.0 / 255.0)          # rounds and saturates
    a16 = cv2.extractChannel(p, 3)
    pts = cv2.findNonZero(cv2.inRange(a16, 1, 65024))       # partly transparent pixels
    if pts is not None:
        pts = pts.reshape(-1, 2)
        xs, ys = pts[:, 0], pts[:, 1]
        edge = p[ys, xs].astype(np.float32)
        alpha = edge[:, 3]
        scale = np.where(alpha >= 127.5, 255.0 / np.maximum(alpha, 1.0), 0.0).astype(np.float32)
        out[ys, xs, :3] = (edge[:, :3] * scale[:, None] + 0.5).clip(0, 255).astype(np.uint8)
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
