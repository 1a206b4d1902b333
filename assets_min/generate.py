"""Draw the bundled character: 13 views x 6 mouths x 5 expressions of 720x720 BGRA sprites.

Run by the bootstrap (the sprites are not stored in git). The layout is the production one:
`<view>/mouth_*.png` for the default expression and `<expr>_<view>/mouth_*.png` for the others,
indexed by assets_min/atlas.min.json. Features are placed on a sphere and projected, so the head
really turns with yaw and nods with pitch; drawing happens at 2x and is downsampled for smooth edges.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
SIZE, SS = 720, 2                      # output size, supersampling factor
VIEW_ANGLES = {                        # view -> (yaw, pitch) in degrees; pitch < 0 looks up
    "front": (0, 0), "left15": (-16, 0), "left30": (-32, 0), "right15": (16, 0), "right30": (32, 0),
    "up7": (0, -9), "up15": (0, -18), "down7": (0, 9), "down15": (0, 18),
    "left15_up7": (-16, -9), "left15_down7": (-16, 9), "right15_up7": (16, -9), "right15_down7": (16, 9),
}
EXPRESSIONS = ("normal", "smile", "angry", "sad", "blink")
MOUTH_FILES = {"closed": "mouth_close.png", "a": "mouth_a.png", "i": "mouth_i.png",
               "u": "mouth_u.png", "e": "mouth_e.png", "o": "mouth_o.png"}

SKIN, SKIN_SHADE = (196, 214, 252), (168, 188, 236)
HAIR, HAIR_DARK, HAIR_HI = (112, 62, 70), (84, 44, 52), (160, 110, 120)
IRIS, IRIS_DARK = (170, 120, 60), (110, 70, 30)
LINE, MOUTH_IN, TONGUE, TEETH = (52, 40, 48), (60, 50, 140), (110, 110, 225), (250, 250, 252)
SHIRT, SHIRT_SHADE, COLLAR, BLUSH = (150, 110, 70), (120, 86, 52), (245, 245, 245), (150, 150, 250)


class Canvas:
    """A supersampled BGR image plus its alpha mask; every shape is drawn into both."""

    def __init__(self):
        n = SIZE * SS
        self.bgr = np.zeros((n, n, 3), np.uint8)
        self.alpha = np.zeros((n, n), np.uint8)

    @staticmethod
    def _p(pt):
        return int(round(pt[0] * SS)), int(round(pt[1] * SS))

    def ellipse(self, c, axes, color, angle=0.0, start=0, end=360, thickness=-1, opaque=True):
        ax = (max(1, int(round(axes[0] * SS))), max(1, int(round(axes[1] * SS))))
        t = thickness if thickness < 0 else max(1, int(round(thickness * SS)))
        cv2.ellipse(self.bgr, self._p(c), ax, angle, start, end, color, t, cv2.LINE_AA)
        if opaque:
            cv2.ellipse(self.alpha, self._p(c), ax, angle, start, end, 255, t, cv2.LINE_AA)

    def poly(self, pts, color, opaque=True):
        arr = np.array([self._p(p) for p in pts], np.int32)
        cv2.fillPoly(self.bgr, [arr], color, cv2.LINE_AA)
        if opaque:
            cv2.fillPoly(self.alpha, [arr], 255, cv2.LINE_AA)

    def polyline(self, pts, color, thickness):
        arr = np.array([self._p(p) for p in pts], np.int32)
        cv2.polylines(self.bgr, [arr], False, color, max(1, int(round(thickness * SS))), cv2.LINE_AA)

    def finish(self) -> np.ndarray:
        out = np.dstack([self.bgr, self.alpha])
        out = cv2.resize(out, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        out[out[:, :, 3] == 0] = 0
        return out


class Head:
    """Projects points given on the face sphere (u right, v down, in head radii) for a yaw/pitch."""

    def __init__(self, yaw_deg: float, pitch_deg: float):
        self.cx, self.cy, self.r = 360.0, 300.0, 158.0
        self.y, self.p = math.radians(yaw_deg), math.radians(pitch_deg)

    def project(self, u, v, depth=1.0):
        z = math.sqrt(max(0.0, 1.0 - u * u - v * v)) * depth
        x1 = u * math.cos(self.y) + z * math.sin(self.y)
        z1 = -u * math.sin(self.y) + z * math.cos(self.y)
        y2 = v * math.cos(self.p) + z1 * math.sin(self.p)
        z2 = -v * math.sin(self.p) + z1 * math.cos(self.p)
        return (self.cx + x1 * self.r, self.cy + y2 * self.r * 1.08), z2

    def squash(self, u, v):
        """Foreshortening (x, y) of a small feature at (u, v)."""
        (x0, y0), _ = self.project(u - 0.02, v)
        (x1, y1), _ = self.project(u + 0.02, v)
        (_, ya), _ = self.project(u, v - 0.02)
        (_, yb), _ = self.project(u, v + 0.02)
        return max(0.25, abs(x1 - x0) / (0.04 * self.r)), max(0.35, abs(yb - ya) / (0.04 * self.r * 1.08))


def draw_body(cv: Canvas, head: Head):
    shift = math.sin(head.y) * 30
    cv.poly([(330 + shift, 420), (390 + shift, 420), (396 + shift, 520), (324 + shift, 520)], SKIN_SHADE)
    cv.poly([(200, 720), (215, 560), (262 + shift * 0.6, 512), (360 + shift, 500), (458 + shift * 0.6, 512),
             (505, 560), (520, 720)], SHIRT)
    cv.poly([(215, 720), (228, 590), (250, 720)], SHIRT_SHADE)
    cv.poly([(470, 720), (492, 590), (505, 720)], SHIRT_SHADE)
    cv.poly([(300 + shift, 506), (360 + shift, 560), (420 + shift, 506), (404 + shift, 500),
             (360 + shift, 536), (316 + shift, 500)], COLLAR)


def draw_hair_back(cv: Canvas, head: Head):
    sx = math.sin(head.y) * -22
    cv.ellipse((head.cx + sx, head.cy + 20), (head.r * 1.18, head.r * 1.22), HAIR_DARK)
    cv.poly([(head.cx - head.r * 1.12 + sx, head.cy), (head.cx + head.r * 1.12 + sx, head.cy),
             (head.cx + head.r * 1.02 + sx, head.cy + 230), (head.cx + sx * 2, head.cy + 250),
             (head.cx - head.r * 1.02 + sx, head.cy + 230)], HAIR_DARK)


def draw_face(cv: Canvas, head: Head):
    for side in (-1, 1):  # ears, visible on the side that turns toward the viewer
        (ex, ey), z = head.project(0.97 * side, 0.12)
        if z > -0.45:
            cv.ellipse((ex, ey), (20, 30), SKIN_SHADE)
    sx = math.sin(head.y) * 10
    sy = math.sin(head.p) * 6
    cv.ellipse((head.cx + sx, head.cy + 8 + sy), (head.r * 0.97, head.r * 1.06), SKIN)
    (chx, chy), _ = head.project(0.0, 0.78)  # jaw follows the turn a little
    cv.poly([(head.cx - head.r * 0.86 + sx, head.cy + 40), (head.cx + head.r * 0.86 + sx, head.cy + 40),
             (chx + 40, chy + 26), (chx, chy + 44), (chx - 40, chy + 26)], SKIN)


def draw_eyes(cv: Canvas, head: Head, expression: str):
    for side in (-1, 1):
        u, v = 0.38 * side, 0.10
        (x, y), z = head.project(u, v)
        if z < 0.05:
            continue
        fx, fy = head.squash(u, v)
        w, h = 30 * fx, 38 * fy
        if expression == "blink":
            cv.polyline([(x - w, y + 2), (x - w * 0.5, y + 10 * fy), (x, y + 13 * fy),
                         (x + w * 0.5, y + 10 * fy), (x + w, y + 2)], LINE, 5)
            continue
        if expression == "smile":
            cv.polyline([(x - w, y + 10 * fy), (x - w * 0.5, y - 6 * fy), (x, y - 11 * fy),
                         (x + w * 0.5, y - 6 * fy), (x + w, y + 10 * fy)], LINE, 6)
            continue
        cv.ellipse((x, y), (w, h), (250, 250, 250))
        gaze = math.sin(head.y) * 8
        cv.ellipse((x + gaze * fx, y + 4), (w * 0.78, h * 0.86), IRIS_DARK)
        cv.ellipse((x + gaze * fx, y + 8), (w * 0.62, h * 0.66), IRIS)
        cv.ellipse((x + gaze * fx, y + 6), (w * 0.30, h * 0.36), (40, 30, 30))
        cv.ellipse((x + gaze * fx - w * 0.28, y - h * 0.32), (w * 0.22, h * 0.18), (255, 255, 255))
        cv.ellipse((x + gaze * fx + w * 0.25, y + h * 0.30), (w * 0.10, h * 0.08), (255, 255, 255))
        lid_drop = {"angry": 0.40, "sad": 0.30}.get(expression, 0.0)
        if lid_drop:  # heavier upper lid: skin over the top of the eye
            top = y - h - 2
            tilt = (1 if expression == "angry" else -1) * side * h * 0.35  # inner corner low when angry
            cv.poly([(x - w - 4, top), (x + w + 4, top), (x + w + 4, y - h + h * 2 * lid_drop - tilt),
                     (x - w - 4, y - h + h * 2 * lid_drop + tilt)], SKIN)
            cv.polyline([(x - w - 2, y - h + h * 2 * lid_drop + tilt), (x + w + 2, y - h + h * 2 * lid_drop - tilt)],
                        LINE, 6)
        else:
            cv.ellipse((x, y + 2), (w + 3, h + 2), LINE, start=195, end=345, thickness=7)
        cv.polyline([(x + side * w * 0.9, y - h * 0.55), (x + side * (w + 9), y - h * 0.85)], LINE, 4)


def draw_brows(cv: Canvas, head: Head, expression: str):
    for side in (-1, 1):
        u, v = 0.38 * side, -0.22
        (x, y), z = head.project(u, v)
        if z < 0.05:
            continue
        fx, _ = head.squash(u, v)
        inner = {"angry": 14, "sad": -12, "smile": -6}.get(expression, 0)
        outer = {"angry": -8, "sad": 8, "smile": -6}.get(expression, -2)
        lift = -8 if expression in ("smile",) else 0
        cv.polyline([(x - side * 30 * fx, y + inner + lift), (x, y - 6 + (inner + outer) / 2 + lift),
                     (x + side * 30 * fx, y + outer + lift)], HAIR_DARK, 7)


def draw_nose_and_cheeks(cv: Canvas, head: Head, expression: str):
    (x, y), _ = head.project(0.0, 0.36)
    cv.polyline([(x, y - 4), (x - 4 - math.sin(head.y) * 6, y + 6)], SKIN_SHADE, 4)
    strength = 0.55 if expression == "smile" else 0.28
    for side in (-1, 1):
        (bx, by), z = head.project(0.58 * side, 0.40)
        if z < 0.1:
            continue
        fx, fy = head.squash(0.58 * side, 0.40)
        overlay = cv.bgr.copy()
        cv2.ellipse(overlay, Canvas._p((bx, by)), (int(30 * fx * SS), int(13 * fy * SS)), 0, 0, 360, BLUSH, -1,
                    cv2.LINE_AA)
        cv.bgr[:] = cv2.addWeighted(overlay, strength, cv.bgr, 1 - strength, 0)


def draw_mouth(cv: Canvas, head: Head, mouth: str, expression: str):
    (x, y), _ = head.project(0.0, 0.60)
    fx, fy = head.squash(0.0, 0.60)
    if mouth == "closed":
        curve = {"smile": 9, "sad": -7, "angry": -4}.get(expression, 4)
        cv.polyline([(x - 22 * fx, y - curve * 0.4), (x, y + curve), (x + 22 * fx, y - curve * 0.4)], LINE, 4.5)
        return
    size = {"a": (30, 30), "i": (36, 11), "u": (13, 14), "e": (30, 18), "o": (21, 27)}[mouth]
    w, h = size[0] * fx, size[1] * fy
    cv.ellipse((x, y + h * 0.3), (w, h), MOUTH_IN)
    if mouth in ("a", "o", "e"):
        cv.ellipse((x, y + h * 0.75), (w * 0.6, h * 0.45), TONGUE)
    if mouth in ("i", "e", "a"):
        cv.ellipse((x, y + h * 0.3 - h * 0.62), (w * 0.82, h * 0.32), TEETH)
    cv.ellipse((x, y + h * 0.3), (w, h), LINE, thickness=3.5)


def draw_hair_front(cv: Canvas, head: Head):
    (tx, ty), _ = head.project(0.0, -0.62)
    cv.ellipse((head.cx + math.sin(head.y) * 8, head.cy - head.r * 0.42), (head.r * 1.04, head.r * 0.68), HAIR,
               start=180, end=360)
    tips = [(-0.92, -0.05), (-0.7, -0.18), (-0.45, -0.28), (-0.18, -0.24), (0.1, -0.30), (0.38, -0.24),
            (0.62, -0.20), (0.9, -0.02)]
    roots = [(-0.95, -0.55), (-0.55, -0.78), (-0.2, -0.82), (0.15, -0.84), (0.5, -0.78), (0.95, -0.55)]
    for i in range(len(tips) - 1):
        a, b = tips[i], tips[i + 1]
        root = roots[min(len(roots) - 1, i * len(roots) // (len(tips) - 1))]
        pts = [head.project(*root, depth=1.05)[0], head.project(*a, depth=1.05)[0],
               head.project((a[0] + b[0]) / 2, min(a[1], b[1]) - 0.16, depth=1.05)[0], head.project(*b, depth=1.05)[0]]
        cv.poly(pts, HAIR)
    for side in (-1, 1):  # side locks framing the face
        (sx, sy), z = head.project(0.93 * side, -0.1)
        cv.poly([(sx - 16, sy - 30), (sx + 16, sy - 30), (sx + 10 * side, sy + 150), (sx - 4 * side, sy + 170)],
                HAIR if z > -0.3 else HAIR_DARK)
    cv.polyline([(tx - 60, ty - 10), (tx - 10, ty - 30), (tx + 40, ty - 22)], HAIR_HI, 6)


def draw_character(view: str, mouth: str, expression: str) -> np.ndarray:
    yaw, pitch = VIEW_ANGLES[view]
    head = Head(yaw, pitch)
    cv = Canvas()
    draw_hair_back(cv, head)
    draw_body(cv, head)
    draw_face(cv, head)
    draw_nose_and_cheeks(cv, head, expression)
    draw_eyes(cv, head, expression)
    draw_brows(cv, head, expression)
    draw_mouth(cv, head, mouth, expression)
    draw_hair_front(cv, head)
    return cv.finish()


def main(out_dir: Path = HERE) -> int:
    atlas = json.loads((out_dir / "atlas.min.json").read_text(encoding="utf-8"))
    default = atlas.get("expression_default", "normal")
    count = 0
    for view in VIEW_ANGLES:
        for mouth, fname in MOUTH_FILES.items():
            assert atlas[view][mouth] == f"{view}/{fname}", (view, mouth)
            for expression in EXPRESSIONS:
                folder = view if expression == default else f"{expression}_{view}"
                path = out_dir / folder / fname
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), draw_character(view, mouth, expression), [cv2.IMWRITE_PNG_COMPRESSION, 6])
                count += 1
    print(f"assets_min: drew {count} sprites", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE))
