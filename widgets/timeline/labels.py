"""Mouth-shape names written on the runs wide enough to hold them.

Building a text item costs milliseconds, and the labels change with every edit and zoom: a pool of
items is kept and moved, shown or hidden. A name is drawn only where the run is wider than the name
itself in the lane's font, so names never run into each other at any window size.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from contracts.timelines import MOUTHS

PAD_PX = 4        # space kept clear after a name
LIMIT = 200       # most names drawn at once


class RunLabels:
    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.items: list[pg.TextItem] = []
        self._widths: dict[str, float] = {}

    def _item(self, k: int) -> pg.TextItem:
        while len(self.items) <= k:
            item = pg.TextItem("", color=(255, 255, 255), anchor=(0, 0.5))
            item.setZValue(22)
            self.plot.addItem(item, ignoreBounds=True)
            self.items.append(item)
        return self.items[k]

    def width_px(self, text: str) -> float:
        """The drawn width of a name (the text item's margins included), measured once per name."""
        if text not in self._widths:
            probe = pg.TextItem(text)
            self._widths[text] = probe.textItem.boundingRect().width() + PAD_PX
        return self._widths[text]

    def show(self, mouth: np.ndarray, first: int, step_s: float, px_per_s: float, left_s: float = 0.0) -> None:
        """Name the runs of `mouth` (frames from `first`) that are wide enough; hide the rest. A run that
        starts left of the view (`left_s`) is named from the view's edge, by what is left of it in view."""
        shown = 0
        if len(mouth):
            change = np.flatnonzero(np.diff(np.concatenate([[-1], mouth])) != 0)
            if len(change) <= LIMIT:
                ends = np.append(change[1:], len(mouth))
                for k, e in zip(change.tolist(), ends.tolist()):
                    x = max((first + k) * step_s, left_s)
                    room = ((first + e) * step_s - x) * px_per_s
                    name = MOUTHS[int(mouth[k])]
                    if room < self.width_px(name):
                        name = "cl" if name == "closed" else None     # a short closed run: its short name
                        if name is None or room < self.width_px(name):
                            continue
                    item = self._item(shown)
                    if item.textItem.toPlainText() != name:
                        item.setText(name)
                    item.setPos(x, 0.5)
                    item.setVisible(True)
                    shown += 1
        for item in self.items[shown:]:
            item.setVisible(False)

    def clear(self) -> None:
        for item in self.items:
            self.plot.removeItem(item)
        self.items.clear()
