"""Edit flows: what the Edit menu, the keys and the lane context menu do to the selection.

Every change goes through the Qt-free TimelineEditor as one command; a refused edit changes
nothing and says why in the status bar.
"""
from __future__ import annotations

import os

from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QInputDialog, QMenu

from contracts.timelines import MOUTHS
from studio.edit.editor import EditError


class EditFlows:
    def __init__(self, window):
        self.w = window

    @property
    def editor(self):
        return self.w.model.editor

    def run(self, fn, *args) -> bool:
        if self.editor is None:
            return False
        try:
            fn(*args)
            return True
        except EditError as err:
            self.w.report_edit_error(str(err))
            return False

    def selection(self):
        """(kind, indices) of the lane with a selection, mouth first."""
        for kind in ("mouth", "expression"):
            lane = self.w.timeline.lanes.get(kind)
            if lane is not None and lane.selected:
                return kind, sorted(lane.selected)
        return None, []

    # ------------------------------------------------------------------ verbs
    def undo(self) -> None:
        if self.editor and self.editor.undo():
            self.w.statusBar().showMessage("undone", 2000)

    def redo(self) -> None:
        if self.editor and self.editor.redo():
            self.w.statusBar().showMessage("redone", 2000)

    def undo_to(self, applied: int) -> None:
        """The history view: undo or redo until `applied` edits are in effect."""
        ed = self.editor
        if ed is None:
            return
        while len(ed.undo_stack) > applied and ed.undo():
            pass
        while len(ed.undo_stack) < applied and ed.redo():
            pass

    def delete_selected(self) -> None:
        kind, sel = self.selection()
        if kind and self.run(self.editor.delete, kind, sel):
            self.w.timeline.lanes[kind].selected.clear()

    def set_mouth(self, mouth_id: int) -> None:
        """Digits (SPEC §15): paint the range selected on the ruler when there is one, else give the
        selected mouth events the shape; with neither, say how to choose what to paint."""
        lane = self.w.timeline.lanes.get("mouth")
        if self.w.timeline.selected_range() is not None:
            self.paint_range(mouth_id)
        elif lane is not None and lane.selected:
            self.run(self.editor.set_mouth, sorted(lane.selected), mouth_id)
        else:
            self.w.statusBar().showMessage("select mouth events, or drag a range on the ruler, to set a shape", 4000)

    def clear_selection(self) -> None:
        """Esc: no range, no selected events (in a dense track there is no empty space to click)."""
        self.w.timeline.set_range(None)
        for lane in self.w.timeline.lanes.values():
            if lane.selected:
                lane.selected.clear()
                lane.update()

    def paint_range(self, mouth_id: int) -> None:
        rng = self.w.timeline.selected_range()
        if rng is None:
            self.w.statusBar().showMessage("select a time range on the ruler first (drag on it)", 5000)
            return
        self.run(self.editor.paint_mouth, rng[0] * 1000.0, rng[1] * 1000.0, mouth_id)

    def set_expression(self, label: str) -> None:
        lane = self.w.timeline.lanes.get("expression")
        if lane is not None and lane.selected:
            self.run(self.editor.set_expression, sorted(lane.selected), label)

    def split_selected(self) -> None:
        kind, sel = self.selection()
        if kind and len(sel) == 1:
            self.run(self.editor.split, kind, sel[0], self.w.model.time_of(self.w.model.frame) * 1000.0)

    def merge_selected(self) -> None:
        kind, sel = self.selection()
        if kind and sel and self.run(self.editor.merge, kind, sel[0]):
            self.w.timeline.lanes[kind].selected = {sel[0]}

    def merge_identical(self) -> None:
        """Ctrl+J: identical neighbours merged within the selection; one selected event merges with the
        identical events either side of it; nothing selected, the whole track."""
        kind, sel = self.selection()
        kind = kind or "mouth"
        if self.editor is None or kind not in self.editor.docs:
            return
        if len(sel) == 1:
            sel = self.editor.identical_run(kind, sel[0])
        try:
            n = self.editor.merge_identical(kind, sel or None)
        except EditError as err:
            self.w.report_edit_error(str(err))
            return
        self.w.timeline.lanes[kind].selected.clear()
        self.w.statusBar().showMessage(f"merged {n} identical neighbour{'s' if n != 1 else ''}" if n
                                       else "no identical neighbours to merge", 4000)

    def shift(self, kind: str, ms: float) -> bool:
        return self.run(self.editor.shift, kind, ms)

    def shift_dialog(self, kind: str) -> None:
        if self.editor is None or kind not in self.editor.docs:
            return
        ms, ok = QInputDialog.getInt(self.w, "Shift timeline", f"Shift the {kind} track by (ms, + later):",
                                     0, -60000, 60000, int(self.w.model.step_ms))
        if ok and ms and self.w.timeline.snap:        # a typed 250 lands on the grid (240) as drags do
            snapped = self.editor.grid_shift(kind, ms)
            if snapped != ms:
                self.w.statusBar().showMessage(f"shift {ms:+d} ms snapped to {snapped:+g} ms on the frame grid "
                                               f"(Ctrl+G turns snapping off)", 6000)
            ms = snapped
        if ok and ms:
            self.shift(kind, ms)

    # ------------------------------------------------------------- context
    def lane_context(self, kind: str, t: float, _pos) -> QMenu | None:
        lane = self.w.timeline.lanes.get(kind)
        if lane is None:
            return None
        rng = self.w.timeline.selected_range()
        i = lane.event_at(t)
        if i is None and not (kind == "mouth" and rng):
            return None
        menu = QMenu(self.w)
        if kind == "mouth" and rng:
            paint = menu.addMenu(f"Paint the range {rng[0]:.2f}–{rng[1]:.2f} s")
            for mid, label in enumerate(MOUTHS):
                paint.addAction(f"{mid}: {label}", lambda m=mid: self.paint_range(m))
            menu.addAction("Clear the selection (Esc)", self.clear_selection)
            if i is None:
                self.w._context_menu = menu
                if not os.environ.get("LIPSYNC_NO_DIALOGS"):
                    menu.popup(QCursor.pos())
                return menu
            menu.addSeparator()
        if i not in lane.selected:
            lane.selected = {i}
            lane.update()
        if kind == "mouth":
            for mid, label in enumerate(MOUTHS):
                menu.addAction(f"{mid}: {label}" + (" (the selected events)" if rng else ""),
                               lambda m=mid: self.run(self.editor.set_mouth, sorted(lane.selected), m))
        else:
            for label in self.w.model.project.atlas.labels:
                menu.addAction(f"expression: {label}", lambda lb=label: self.set_expression(lb))
        menu.addSeparator()
        menu.addAction("Split at playhead", self.split_selected)
        menu.addAction("Merge with next", self.merge_selected)
        menu.addAction("Merge identical neighbours", self.merge_identical)
        menu.addAction("Delete", self.delete_selected)
        self.w._context_menu = menu
        if not os.environ.get("LIPSYNC_NO_DIALOGS"):
            menu.popup(QCursor.pos())
        return menu
