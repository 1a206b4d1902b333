"""Production-like sprites for the benchmarks (bench only; never shipped or tested against as truth).

Real production sprites are photographs of a cat: 720x720 BGRA, alpha 254 (not 255) over the
whole body, soft feathered edges (3-10 px), only ~0.1 % of pixels fully opaque, and a rendered
frame compresses to ~700 KB with fpng; some views hold 1080x1080 sprites. This draws a character
with those properties: a photo-like texture (several octaves of smoothed noise over gradients),
alpha 254 inside a silhouette feathered by a blur of 3-10 px, a scatter of 255 pixels, and the
`up15` view at 1080x1080. Same layout and atlas keys as the production atlas.

    .venv/bin/python bench/prodlike.py [--out bench/out/prodlike]   (cached: re-run is a no-op)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "out" / "prodlike"
VERSION = "prodlike-v2"
VIEWS = ("front", "left15", "left30", "right15", "right30", "up7", "up15", "down7", "down15",
         "left15_up7", "left15_down7", "right15_up7", "right15_down7")
MOUTH_FILES = {"closed": "mouth_close.png", "a": "mouth_a.png", "i": "mouth_i.png", "u": "mouth_u.png",
               "e": "mouth_e.png", "o": "mouth_o.png"}
EXPRESSIONS = ("smile", "angry", "sad", "blink")
BIG_VIEW = "up15"          # its sprites are 1080x1080, as in some production trees


def _octave_noise(rng, h, w, octaves=5) -> np.ndarray:
    out = np.zeros((h, w), np.float32)
    amp = 1.0
    for k in range(octaves):
        cell = max(2, 96 >> k)
        small = rng.standard_normal((h // cell + 2, w // cell + 2)).astype(np.float32)
        out += amp * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        amp *= 0.55
    return out


def fur_texture(rng, h, w) -> np.ndarray:
    """A photo-like BGR texture: gradients, blotches and fine grain (what makes a frame ~700 KB)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([90 + 40 * (yy / h), 110 + 30 * (xx / w), 140 - 20 * (yy / h)], axis=2)
    blot = _octave_noise(rng, h, w)[:, :, None] * np.array([18, 22, 26], np.float32)
    grain = rng.standard_normal((h, w, 3)).astype(np.float32) * 9.0
    streak = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.2, sigmaY=4.0)[:, :, None] * 30
    return np.clip(base + blot + grain + streak, 0, 255).astype(np.uint8)


def silhouette(h, w, view: str, mouth: str, expression: str | None) -> np.ndarray:
    """A cat-ish body mask (float 0..1) that turns with the view and moves its mouth."""
    m = np.zeros((h, w), np.uint8)
    s = w / 720.0
    dx = {"left": -40, "right": 40}.get(view.split("_")[0][:-2] if view[:-2] in ("left", "right") else "", 0)
    dx = -40 if view.startswith("left") else 40 if view.startswith("right") else 0
    dy = -25 if "up" in view else 25 if "down" in view else 0
    cx, cy = int((360 + dx) * s), int((380 + dy) * s)
    cv2.ellipse(m, (cx, int(cy + 150 * s)), (int(260 * s), int(200 * s)), 0, 0, 360, 255, -1)      # body
    cv2.circle(m, (cx, int(cy - 60 * s)), int(170 * s), 255, -1)                                  # head
    for side in (-1, 1):                                                                           # ears
        pts = np.array([[cx + side * 150 * s, cy - 150 * s], [cx + side * 60 * s, cy - 200 * s],
                        [cx + side * 140 * s, cy - 290 * s]], np.int32)
        cv2.fillConvexPoly(m, pts, 255)
    opening = {"closed": 0, "a": 42, "i": 14, "u": 22, "e": 28, "o": 36}[mouth]
    if opening:
        cv2.ellipse(m, (cx, int(cy + 10 * s)), (int(34 * s), int(opening * s / 2)), 0, 0, 360, 0, -1)
    if expression == "blink":
        for side in (-1, 1):
            cv2.line(m, (int(cx + side * 70 * s), int(cy - 80 * s)), (int(cx + side * 20 * s), int(cy - 80 * s)), 0,
                     max(2, int(6 * s)))
    return m.astype(np.float32) / 255.0


def sprite(rng, size: int, view: str, mouth: str, expression: str | None, texture: np.ndarray) -> np.ndarray:
    mask = silhouette(size, size, view, mouth, expression)
    feather = float(rng.uniform(3, 10))                       # 3-10 px soft edge
    soft = cv2.GaussianBlur(mask, (0, 0), feather / 2.5)
    alpha = np.where(soft >= 0.999, 254.0, soft * 254.0)      # alpha 254 over the whole body
    alpha = alpha.round().astype(np.uint8)
    solid = np.flatnonzero(alpha.ravel() == 254)
    if len(solid):                                            # ~0.1 % of pixels fully opaque
        alpha.ravel()[rng.choice(solid, max(1, len(alpha.ravel()) // 1000), replace=False)] = 255
    bgr = texture if texture.shape[0] == size else cv2.resize(texture, (size, size), interpolation=cv2.INTER_LINEAR)
    tint = {None: (0, 0, 0), "smile": (0, 8, 14), "angry": (-10, -10, 25), "sad": (20, 0, -10), "blink": (0, 0, 0)}
    bgr = np.clip(bgr.astype(np.int16) + np.array(tint[expression], np.int16), 0, 255).astype(np.uint8)
    out = np.dstack([bgr, alpha])
    out[alpha == 0] = 0
    return out


def generate(out: Path = DEFAULT_OUT, views=VIEWS, expressions=EXPRESSIONS) -> Path:
    """Write the atlas and sprites under `out` (skipped when this version is already there)."""
    atlas = out / "atlas.min.json"
    stamp = out / ".stamp"
    if atlas.exists() and stamp.exists() and stamp.read_text() == VERSION:
        return atlas
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    doc = {"view_rules": {"diag_yaw_max_deg": 22.0, "diag_pitch_max_deg": 10.0},
           "fallback": {"view": "front", "mouth": "closed"},
           "expression_labels": ["normal", "smile", "angry", "sad", "blink"], "expression_default": "normal"}
    for view in views:
        size = 1080 if view == BIG_VIEW else 720
        texture = fur_texture(rng, size, size)
        doc[view] = {m: f"{view}/{f}" for m, f in MOUTH_FILES.items()}
        for e in (None, *expressions):
            folder = out / (view if e is None else f"{e}_{view}")
            folder.mkdir(exist_ok=True)
            for m, f in MOUTH_FILES.items():
                cv2.imwrite(str(folder / f), sprite(rng, size, view, m, e, texture), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    atlas.write_text(json.dumps(doc, indent=1))
    stamp.write_text(VERSION)
    return atlas


def describe(atlas: Path) -> dict:
    """Facts that show the sprites are production-like: alpha histogram, frame size with fpng."""
    from studio.export.png import encode_png
    img = cv2.imread(str(atlas.parent / "front" / "mouth_a.png"), cv2.IMREAD_UNCHANGED)
    a = img[:, :, 3]
    body = a > 0
    return {"alpha_254_share_of_body": round(float((a == 254).sum() / body.sum()), 3),
            "alpha_255_share": round(float((a == 255).mean()), 4),
            "partly_transparent_share_of_canvas": round(float(((a > 0) & (a < 255)).mean()), 3),
            "fpng_frame_kb": round(len(encode_png(img)) / 1024),
            "sizes": sorted({cv2.imread(str(p), cv2.IMREAD_UNCHANGED).shape[0]
                             for p in (atlas.parent / "front" / "mouth_a.png", atlas.parent / BIG_VIEW / "mouth_a.png")})}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = generate(ap.parse_args().out)
    print(a, describe(a))
