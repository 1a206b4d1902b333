"""Fixtures shared by the studio (pytest-qt) tests: a copy of the demo session and a window.

conftest.py loads them as a plugin; a module sets `WINDOW_SIZE = (w, h)` to choose the window's
size. `lane_point` and `drag` are real mouse gestures on a timeline lane.
"""
import json
import os
import shutil

import pytest
from helpers import ROOT

os.environ["LIPSYNC_NO_AUDIO"] = "1"      # the silent clock: no sound card on CI
os.environ["LIPSYNC_NO_DIALOGS"] = "1"    # errors go to the status bar, no modal prompts

from PySide6.QtCore import QPoint, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from widgets.main_window import MainWindow  # noqa: E402


@pytest.fixture()
def demo(tmp_path):
    """The demo session copied to tmp_path, its atlas pointed back at the bundled one."""
    d = tmp_path / "demo"
    shutil.copytree(ROOT / "assets_min" / "demo", d)
    doc = json.loads((d / "session.json").read_text())
    doc["inputs"]["atlas_json"] = str(ROOT / "assets_min" / "atlas.min.json")
    (d / "session.json").write_text(json.dumps(doc, indent=2))
    return d / "session.json"


@pytest.fixture()
def window(request, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LIPSYNC_STATE_DIR", str(tmp_path / "state"))
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(*getattr(request.module, "WINDOW_SIZE", (1500, 900)))
    w.show()
    yield w
    if w.model.editor:
        w.model.editor.mark_saved()   # no unsaved-changes prompt when the test ends
    w.close()


def lane_point(w, kind, t, y=None) -> QPoint:
    """The widget pixel of time t (and lane y, default its middle) in a timeline lane."""
    lane = w.timeline.lanes[kind]
    vb = lane.getViewBox()
    y = lane.y0 + lane.height / 2 if y is None else y
    p = w.timeline.lane_widget(kind).mapFromScene(vb.mapViewToScene(QPointF(t, y)))
    return QPoint(p.x(), p.y())


def drag(w, qtbot, kind, t_from, t_to, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Press at t_from, move there in 8 steps as a hand would, release at t_to."""
    vp = w.timeline.lane_widget(kind).viewport()
    a, b = lane_point(w, kind, t_from), lane_point(w, kind, t_to)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, modifier, a)
    for k in range(1, 9):
        QTest.mouseMove(vp, a + (b - a) * k / 8)
        qtbot.wait(15)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, modifier, b)
    qtbot.wait(30)
