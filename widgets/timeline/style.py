"""Colours of the lanes, in one place, so the lanes and the legend always agree.

`front` is neutral grey and no view is red: red means a fallback frame, and only that.
"""
from __future__ import annotations


from render.views import VIEWS

BACKGROUND = (30, 30, 34)
MOUTH_COLORS = [(96, 96, 104), (230, 80, 70), (240, 200, 60), (80, 140, 230), (90, 190, 110), (240, 150, 50)]
EXPR_COLORS = {"normal": (150, 150, 158), "smile": (240, 140, 180), "angry": (200, 90, 40),
               "sad": (90, 120, 220), "blink": (170, 120, 255)}
VERDICT_COLORS = {"pass": (70, 180, 90), "warn": (240, 180, 40), "fail": (220, 60, 50), "none": (70, 70, 76)}
FALLBACK = (255, 50, 50)
PROBLEM = (255, 60, 220)   # open-in-silence / closed-in-speech band on the mouth lane
VIEW_COLORS = {
    "front": (125, 125, 132),
    "left15": (90, 160, 235), "left30": (40, 100, 200), "right15": (110, 210, 150), "right30": (40, 150, 90),
    "up7": (235, 215, 110), "up15": (210, 170, 40), "down7": (190, 150, 230), "down15": (140, 90, 200),
    "left15_up7": (120, 200, 220), "left15_down7": (120, 130, 230), "right15_up7": (170, 220, 100),
    "right15_down7": (80, 190, 190),
}
POSE_CURVES = [("yaw_deg", 0, (255, 140, 90)), ("pitch_deg", 1, (90, 170, 255)), ("roll_deg", 2, (210, 210, 100)),
               ("tx", 3, (255, 120, 200)), ("ty", 4, (120, 230, 200)), ("scale", 5, (220, 220, 220))]
PLAYHEAD = (255, 255, 255)
MARKER = (120, 220, 255)
SELECTION = (255, 230, 90)


def view_color_list() -> list[tuple[int, int, int]]:
    return [VIEW_COLORS.get(v, (150, 150, 150)) for v in VIEWS]


def swatch(color, text: str) -> str:
    r, g, b = color
    return f'<span style="color: rgb({r},{g},{b});">■</span>&nbsp;{text}'
