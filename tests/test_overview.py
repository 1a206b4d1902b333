"""The overview strip shows the whole session truthfully at any length (SPEC §15 "What is shown is
true"): past a frame per pixel, a column stacks the share of each shape among its frames — never
one frame sampled out of sixty (false stripes), nor the most frequent shape (false bands)."""
import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from widgets.timeline import style  # noqa: E402
from widgets.timeline.overview import Overview, share_columns  # noqa: E402


def test_s15_a_column_stacks_the_share_of_each_shape_among_its_frames():
    values = np.array([0, 0, 3, 1, 1, 1, 2, 2, 2, 2], np.int64)
    stack = share_columns(values, 2, 6, rows=5)     # [0,0,3,1,1] and [1,2,2,2,2], bottom row first
    assert stack[:, 0].tolist() == [0, 0, 1, 1, 3] and stack[:, 1].tolist() == [1, 2, 2, 2, 2]
    assert share_columns(values, 10, 6) is None     # a frame per column while they fit


def strip_row(widget, height: float) -> list[tuple[int, int, int]]:
    """The colours along the mouth strip at `height` (0 its bottom, 1 its top) as drawn, left to right."""
    img = widget.grab().toImage()
    box = widget.box.sceneBoundingRect()
    y = int(box.bottom() - box.height() * (0.15 + 0.7 * height))   # the strip spans 0.15-0.85 of the box (y up)
    return [img.pixelColor(x, y).getRgb()[:3] for x in range(int(box.left()) + 2, int(box.right()) - 2)]


def plan_of(mouth: np.ndarray):
    """What the overview reads of a session's plan: one mouth shape per 40 ms frame."""
    return type("Plan", (), {"mouth": mouth, "step_ms": 40, "__len__": lambda self: len(mouth)})()


def shown_overview(qtbot, width: int, seconds: float, mouth: np.ndarray) -> Overview:
    w = Overview(40)
    qtbot.addWidget(w)
    w.resize(width, 22)
    w.show()
    qtbot.waitExposed(w)
    w.set_session(seconds, plan_of(mouth))
    return w


def test_s15_an_hour_of_periodic_speech_is_drawn_without_false_stripes(qtbot):
    """90,000 frames: 75 blocks of 1,200 frames alternately mostly `a` and mostly closed, each with
    `u` two frames in seven. Drawn: through the strip's lower part 150 blocks of red and grey, its top
    part blue all along; also after the strip was given the session while it was still small (the
    window being laid out)."""
    a_block = np.resize(np.array([1, 1, 1, 1, 1, 3, 3], np.int8), 600)
    closed_block = np.resize(np.array([0, 0, 0, 0, 0, 3, 3], np.int8), 600)
    w = shown_overview(qtbot, 120, 3600.0, np.tile(np.concatenate([a_block, closed_block]), 75))
    w.resize(1540, 22)
    w.show_visible(3590.0, 3600.0)          # the window and the playhead at the far end
    w.set_playhead(3599.0)
    qtbot.wait(50)
    closed, a, u = (tuple(style.MOUTH_COLORS[k]) for k in (0, 1, 3))
    low = strip_row(w, 0.4)[:-60]
    assert set(low) == {closed, a}
    assert 140 <= sum(1 for p, q in zip(low, low[1:]) if p != q) <= 150
    assert set(strip_row(w, 0.9)[:-60]) == {u}


def ranges_asked(w: Overview) -> list[tuple[float, float]]:
    asked = []
    w.range_requested.connect(lambda a, b: asked.append((a, b)))
    return asked


def pixel_of(w: Overview, t: float) -> QPoint:
    box = w.box.sceneBoundingRect()
    return QPoint(int(box.left() + box.width() * t / w.duration), 11)


def drag(w: Overview, qtbot, a: QPoint, b: QPoint) -> None:
    """Press at a, move to b in 8 steps as a hand would, release."""
    vp = w.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for k in range(1, 9):
        QTest.mouseMove(vp, a + (b - a) * k / 8)
        qtbot.wait(10)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def test_s15_a_click_on_the_overview_centres_the_view_there(qtbot):
    w = shown_overview(qtbot, 1040, 100.0, np.zeros(2500, np.int8))
    w.show_visible(0.0, 10.0)
    asked = ranges_asked(w)
    QTest.mouseClick(w.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pixel_of(w, 50.0))
    assert asked and abs(sum(asked[-1]) / 2 - 50.0) < 0.5 and abs(asked[-1][1] - asked[-1][0] - 10.0) < 1e-6


def test_s15_dragging_the_overview_window_pans_the_view(qtbot):
    w = shown_overview(qtbot, 1040, 100.0, np.zeros(2500, np.int8))
    w.show_visible(20.0, 30.0)
    qtbot.wait(50)                          # drawn once: the window sits where it is seen
    asked = ranges_asked(w)
    drag(w, qtbot, pixel_of(w, 25.0), pixel_of(w, 45.0))
    assert asked, "the window did not move"
    t0, t1 = asked[-1]
    assert abs(t0 - 40.0) < 0.5 and abs(t1 - t0 - 10.0) < 1e-6


def test_s15_after_a_short_session_a_long_one_is_shown_whole(qtbot):
    """Opening the 7 s demo and then an hour: the overview spans the hour, not the demo's 7 s."""
    w = shown_overview(qtbot, 1040, 7.08, np.zeros(177, np.int8))
    qtbot.wait(20)
    w.set_session(3600.0, plan_of(np.zeros(90_000, np.int8)))
    qtbot.wait(20)
    assert w.box.viewRange()[0] == [0.0, 3600.0]


@pytest.mark.parametrize("offset_px", [0, -3, 3])
def test_s15_a_window_a_few_pixels_wide_is_dragged_whole_not_stretched(qtbot, offset_px):
    """An hour zoomed to 5 s: the window is 1-2 px wide; a drag that starts on it (or a few pixels
    beside it, where its edges are) pans the view, keeping the 5 s (it used to pull an edge: 460 s)."""
    w = shown_overview(qtbot, 1040, 3600.0, np.zeros(90_000, np.int8))
    w.show_visible(1800.0, 1805.0)
    qtbot.wait(50)
    asked = ranges_asked(w)
    a = pixel_of(w, 1802.5) + QPoint(offset_px, 0)
    drag(w, qtbot, a, a + QPoint(100, 0))
    assert asked, "the window did not move"
    t0, t1 = asked[-1]
    per_px = 3600.0 / w.box.width()
    assert abs(t1 - t0 - 5.0) < 1e-6 and abs(t0 - (1800.0 + 100 * per_px)) < 3 * per_px
