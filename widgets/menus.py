"""Menus, actions and keyboard shortcuts, from one table (the F1 list and the README's table come from it).

Every shortcut works whatever has the focus in the window or its docks (SPEC §15), except while a text
field is being edited: a text field takes its own typing first (Qt's shortcut override), so typing
text never plays, mutes or paints; Enter and Escape then hand the keys back (focus.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from contracts.timelines import MOUTHS

# Lanes View ▸ Lanes can hide (the mouth lane, the one edited most, always shows)
HIDEABLE_LANES = {"angles": "Head angles (deg)", "offsets": "Head position (px)", "scale": "Head scale (%)",
                  "sync": "Sync score", "wave": "Audio", "words": "Words", "expression": "Expressions", "view": "Views"}


@dataclass
class Entry:
    menu: str
    text: str
    slot: object                # callable(window)
    keys: str = ""
    checkable: bool = False
    name: str = ""              # a handle for actions the window updates (undo, redo, snap …)


def table(w) -> list[Entry]:
    """Every action of the studio. `w` is the MainWindow (slots are bound late, through it)."""
    e = [
        Entry("&File", "&Open session…", lambda: w.files.open_dialog(), "Ctrl+O"),
        Entry("&File", "&Save", lambda: w.save(), "Ctrl+S"),
        Entry("&File", "Save &as…", lambda: w.files.save_as_dialog(), "Ctrl+Shift+S"),
        Entry("&File", "&Export FG sequence…", lambda: w.export_dialog(), "Ctrl+E"),
        Entry("&File", "&Quit", lambda: w.close(), "Ctrl+Q"),
        Entry("&Edit", "&Undo", lambda: w.undo(), "Ctrl+Z", name="undo"),
        Entry("&Edit", "&Redo", lambda: w.redo(), "Ctrl+Shift+Z", name="redo"),
        Entry("&Edit", "&Delete selected events", lambda: w.edits.delete_selected(), "Delete"),
    ]
    for mid, label in enumerate(MOUTHS):
        e.append(Entry("&Edit", f"Mouth: {label} (selected events, or the selected range)",
                       lambda m=mid: w.edits.set_mouth(m), str(mid)))
    e += [
        Entry("&Edit", "Merge identical neighbours", lambda: w.edits.merge_identical(), "Ctrl+J"),
        Entry("&Edit", "Split selected event at playhead", lambda: w.edits.split_selected(), "Ctrl+K"),
        Entry("&Edit", "Merge selected event with next", lambda: w.edits.merge_selected()),
        Entry("&Edit", "Shift mouth track…", lambda: w.edits.shift_dialog("mouth")),
        Entry("&Edit", "Shift expression track…", lambda: w.edits.shift_dialog("expression")),
        Entry("&Edit", "Shift pose track…", lambda: w.edits.shift_dialog("pose")),
        Entry("&Edit", "Generate mouth track from audio…", lambda: w.show_dock("align"), "Ctrl+Shift+G"),
        Entry("&Edit", "Snap to frame grid", lambda on: w.set_snap(on), "Ctrl+G", checkable=True, name="snap"),
        Entry("&Playback", "Play / pause", lambda: w.playback.toggle(), "Space"),
        Entry("&Playback", "Previous frame", lambda: w.step_frames(-1), "Left"),
        Entry("&Playback", "Next frame", lambda: w.step_frames(1), "Right"),
        Entry("&Playback", "Back 1 second", lambda: w.step_frames(-w.fps()), "Shift+Left"),
        Entry("&Playback", "Forward 1 second", lambda: w.step_frames(w.fps()), "Shift+Right"),
        Entry("&Playback", "Jump to start", lambda: w.go_to_frame(0), "Home"),
        Entry("&Playback", "Jump to end", lambda: w.go_to_frame(w.model.n_frames - 1), "End"),
        Entry("&Playback", "Shuttle back (J)", lambda: w.step_frames(-w.fps()), "J"),
        Entry("&Playback", "Pause (K)", lambda: w.playback.pause(), "K"),
        Entry("&Playback", "Play (L)", lambda: w.playback.play(), "L"),
        Entry("&Playback", "Loop the visible or selected range", lambda: w.transport.loop.toggle(), "Ctrl+L"),
    ]
    for key, rate in (("Ctrl+1", 1.0), ("Ctrl+2", 0.5), ("Ctrl+3", 0.25)):
        e.append(Entry("&Playback", f"Rate {rate:g}x", lambda _=False, r=rate: w.set_rate(r), key, checkable=True,
                       name=f"rate:{rate:g}"))
    e += [
        Entry("&Playback", "Mute", lambda: w.transport.mute.toggle(), "M"),
        Entry("&Navigate", "Go to time…", lambda: w.focus_goto(), "Ctrl+T"),
        Entry("&Navigate", "Next mouth event", lambda: w.step_event(1), "."),
        Entry("&Navigate", "Previous mouth event", lambda: w.step_event(-1), ","),
        Entry("&Navigate", "Add / remove marker at playhead", lambda: w.toggle_marker(), "Ctrl+B"),
        Entry("&Navigate", "Next marker", lambda: w.step_marker(1), "]"),
        Entry("&Navigate", "Previous marker", lambda: w.step_marker(-1), "["),
        Entry("&Navigate", "Zoom to fit the session", lambda: w.timeline.zoom_to_fit(), "Z"),
        Entry("&Navigate", "Zoom to the selection", lambda: w.zoom_to_selection(), "Shift+Z"),
        Entry("&Navigate", "Clear the selection (range and events)", lambda: w.edits.clear_selection(), "Esc"),
        Entry("&View", "Preview fit / 1:1", lambda: w.preview.set_fit(not w.preview.fit), "F"),
        Entry("&View", "Background: checkerboard", lambda: w.preview.set_background(None)),
        Entry("&View", "Background: colour…", lambda: w.pick_background_colour()),
        Entry("&View", "Background: image…", lambda: w.pick_background_image()),
        Entry("&QA", "Next problem", lambda: w.qa_flows.step_problem(1), "N"),
        Entry("&QA", "Previous problem", lambda: w.qa_flows.step_problem(-1), "Shift+N"),
        Entry("&QA", "Re-score", lambda: w.qa_flows.start_scoring()),
        Entry("&QA", "Apply measured offset", lambda: w.apply_measured_offset(), name="apply_offset"),
        Entry("&Help", "Keyboard shortcuts", lambda: w.show_shortcuts(), "F1"),
    ]
    return e


EXTRA_KEYS = [  # gestures that are not menu actions, for the shortcut list
    ("Click / Shift+click / drag on empty lane space", "Select events / add to selection / rubber band"),
    ("Drag an event / its edge", "Move / resize: snaps to frames, overwrites only what it ends on"),
    ("Drag a word boundary (words lane)", "Re-time the mouth shapes of the words either side"),
    ("Double-click a lane", "Insert an event"),
    ("Drag on the time ruler", "Select a time range (then 0–5 paints it, Shift+Z zooms to it)"),
    ("Right-click an event", "Context menu: mouth, expression, split, merge, delete"),
    ("Wheel / drag on a lane", "Zoom / pan in time (zoom stops at the session's ends)"),
    ("Drag the overview's window / pull its edges / click the overview", "Pan / zoom / go there"),
]


class Menus:
    def __init__(self, window):
        self.w = window
        self.actions: dict[str, QAction] = {}
        self.entries = table(window)
        bar = window.menuBar()
        menus = {}
        rates = QActionGroup(window)
        for entry in self.entries:
            menu = menus.get(entry.menu) or menus.setdefault(entry.menu, bar.addMenu(entry.menu))
            act = QAction(entry.text, window)
            if entry.checkable and entry.name.startswith("rate:"):   # one rate ticked at a time
                act.setCheckable(True)
                rates.addAction(act)
                act.triggered.connect(lambda _=False, f=entry.slot: f())
            elif entry.checkable:
                act.setCheckable(True)
                act.toggled.connect(entry.slot)
            else:
                act.triggered.connect(lambda _=False, f=entry.slot: f())
            if entry.keys:
                act.setShortcut(QKeySequence(entry.keys))
                # the window and its docks (Qt counts a floating dock as part of its main window)
                act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            menu.addAction(act)
            if entry.name:
                self.actions[entry.name] = act
            if entry.text == "&Open session…":
                self.recent_menu = menu.addMenu("Open &recent")
        self.menus = menus
        self.actions["snap"].setChecked(True)
        self.actions["rate:1"].setChecked(True)
        self._view_menu(menus["&View"])

    def _view_menu(self, view) -> None:
        w = self.w
        view.addSeparator()
        curves = view.addMenu("Pose curves")
        for name, label in (("yaw_deg", "yaw"), ("pitch_deg", "pitch"), ("roll_deg", "roll"), ("tx", "tx"), ("ty", "ty"),
                            ("scale", "scale")):
            act = curves.addAction(label)
            act.setCheckable(True)
            act.setChecked(True)
            act.toggled.connect(lambda on, n=name: w.timeline.set_curve_visible(n, on))
            self.actions[f"curve:{name}"] = act
        lanes = view.addMenu("Lanes")
        for key, title in HIDEABLE_LANES.items():
            act = lanes.addAction(title)
            act.setCheckable(True)
            act.setChecked(True)
            act.toggled.connect(lambda on, k=key: w.set_lane_visible(k, on))
            self.actions[f"lane:{key}"] = act
        self.panels_menu = view.addMenu("Panels")
        theme = view.addMenu("Theme")
        group = QActionGroup(w)
        for name, label in (("dark", "Dark"), ("system", "Follow the system")):
            act = theme.addAction(label)
            act.setCheckable(True)
            act.setActionGroup(group)
            act.triggered.connect(lambda _=False, n=name: w.set_theme(n))
            self.actions[f"theme:{name}"] = act
        view.addAction("Reset layout", w.reset_layout)

    def add_panel(self, dock) -> None:
        act = dock.toggleViewAction()
        act.triggered.connect(lambda on: on and dock.raise_())   # brought back: in front of its tab group
        self.panels_menu.addAction(act)

    def refresh_recent(self) -> None:
        self.recent_menu.clear()
        for p in self.w.recent.items:
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda _=False, p=p: self.w.open_session(p, background=True))
        self.recent_menu.setEnabled(bool(self.w.recent.items))

    def update_undo(self, editor) -> None:
        """Undo / Redo name the step they act on."""
        undo, redo = self.actions["undo"], self.actions["redo"]
        u, r = (editor.undo_name, editor.redo_name) if editor else (None, None)
        undo.setText(f"&Undo {u}" if u else "&Undo")
        redo.setText(f"&Redo {r}" if r else "&Redo")
        undo.setEnabled(u is not None)
        redo.setEnabled(r is not None)

    def shortcut_rows(self) -> list[tuple[str, str]]:
        rows = [(e.keys, e.text.replace("&", "")) for e in self.entries if e.keys]
        return rows + EXTRA_KEYS
