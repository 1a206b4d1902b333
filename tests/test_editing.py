"""Timeline editing (issue 6): commands, all-or-nothing, undo/redo against full snapshots."""
import copy

import pytest

from studio.edit.editor import EditError, TimelineEditor

MOUTH = {"audio": "a.wav", "step_ms": 40, "custom": {"keep": True},
         "frames": [{"t_ms": 0, "mouth_id": 0}, {"t_ms": 40, "mouth_id": 1, "src": "x"},
                    {"t_ms": 120, "mouth_id": 2}, {"t_ms": 200, "mouth_id": 0}]}
EXPR = {"schema_version": "session_expression_timeline_v0.1", "timeline": [
    {"t_ms": 0, "expression": "normal"}, {"t_ms": 80, "dur_ms": 120, "expression": "blink"},
    {"t_ms": 400, "expression": "smile", "source": "emo_map"}]}
POSE = {"meta": {"step_ms": 40}, "frames": [{"t_ms": 0, "yaw": 1.0}, {"t_ms": 40, "yaw": 2.0, "pitch": 1.0}]}


@pytest.fixture()
def ed():
    return TimelineEditor({"mouth": MOUTH, "expression": EXPR, "pose": POSE}, 40)


def snap(ed):
    return copy.deepcopy(ed.docs)


def test_move_overwrites_what_it_covers_and_never_hides_it(ed):
    """Issue 13 #5: a dragged event used to land on its neighbour (two events at 120, one hidden).
    Now it overwrites the time it covers (the event there is replaced, named in the command), its
    old time goes to the event before it, and nothing else moves."""
    ed.move("mouth", [1], 95)                 # 40 + 95 -> 120 on the grid: +80
    ev = ed.events("mouth")
    assert [(e["t_ms"], e["mouth_id"]) for e in ev] == [(0, 0), (120, 1), (200, 0)]
    assert ev[1].get("src") == "x" and ed.docs["mouth"]["custom"] == {"keep": True}
    assert ed.undo_stack[-1].name == "move 1 mouth event +80 ms, replacing 1"
    ed.undo()
    assert [e["t_ms"] for e in ed.events("mouth")] == [0, 40, 120, 200]


def test_undo_redo_restore_exact_snapshots(ed):
    states = [snap(ed)]
    ed.move("mouth", [2], 80)
    states.append(snap(ed))
    ed.set_mouth([0, 2], 5)
    states.append(snap(ed))
    ed.delete("expression", [1])
    states.append(snap(ed))
    ed.insert("mouth", {"t_ms": 160, "mouth_id": 4})
    states.append(snap(ed))
    for want in reversed(states[:-1]):
        assert ed.undo()
        assert ed.docs == want
    assert not ed.undo()
    for want in states[1:]:
        assert ed.redo()
        assert ed.docs == want
    assert not ed.redo()


def test_a_drag_is_one_undo_step(ed):
    before = snap(ed)
    ed.begin("drag")
    sel = [2]
    for _ in range(5):
        sel = ed.move("mouth", sel, 40)           # the same event, wherever sorting puts it
    ed.end()
    assert [e["t_ms"] for e in ed.events("mouth")] == [0, 40, 320]   # it replaced the closed event it crossed
    assert ed.events("mouth")[sel[0]] == {"t_ms": 320, "mouth_id": 2}
    assert len(ed.undo_stack) == 1
    ed.undo()
    assert ed.docs == before


def test_invalid_edit_changes_nothing(ed):
    before = snap(ed)
    with pytest.raises(EditError):
        ed.set_mouth([1], 9)
    ed.move("mouth", [0], -100, snap=False)     # clamped at 0: nothing to do, nothing recorded
    with pytest.raises(EditError):
        ed.resize("expression", 1, end_ms=60)   # end before start
    assert ed.docs == before and not ed.undo_stack and not ed.dirty


def test_resize_with_and_without_dur(ed):
    ed.resize("expression", 1, end_ms=280)
    assert ed.events("expression")[1] == {"t_ms": 80, "dur_ms": 200, "expression": "blink"}
    ed.resize("mouth", 1, end_ms=160)           # no dur_ms: the next event's start moves
    assert [e["t_ms"] for e in ed.events("mouth")] == [0, 40, 160, 200]
    ed.resize("expression", 1, start_ms=120)
    assert ed.events("expression")[1] == {"t_ms": 120, "dur_ms": 160, "expression": "blink"}


def test_set_mouth_keeps_label_form():
    ed = TimelineEditor({"mouth": [{"t_ms": 0, "mouth": "A"}, {"t_ms": 40, "mouth": "close"}]}, 40)
    ed.set_mouth([0], 3)
    ed.set_mouth([1], 0)
    assert ed.events("mouth") == [{"t_ms": 0, "mouth": "u"}, {"t_ms": 40, "mouth": "close"}]


def test_set_expression_and_pose_values_keep_legacy_keys(ed):
    ed.set_expression([2], "sad")
    assert ed.events("expression")[2] == {"t_ms": 400, "expression": "sad", "source": "emo_map"}
    ed.set_pose(1, {"yaw_deg": 12.5, "roll_deg": 3})   # a key with legacy angles gets its new angle legacy too
    assert ed.events("pose")[1] == {"t_ms": 40, "yaw": 12.5, "pitch": 1.0, "roll": 3}
    with pytest.raises(EditError):
        ed.set_pose(0, {"yaw_deg": float("nan")})


def test_shift_whole_timeline_and_selection(ed):
    ed.shift("mouth", 80)
    assert [e["t_ms"] for e in ed.events("mouth")] == [80, 120, 200, 280]
    ed.undo()
    ed.shift("mouth", -80)                        # the state at 0 survives: event 1 (t=40) now starts at 0
    ev = ed.events("mouth")
    assert ev[0]["t_ms"] == 0 and ev[0]["mouth_id"] == 1 and [e["t_ms"] for e in ev[1:]] == [40, 120]
    ed.undo()
    ed.shift("mouth", 40, indices=[2, 3])
    assert [e["t_ms"] for e in ed.events("mouth")] == [0, 40, 160, 240]


def test_split_and_merge(ed):
    ed.split("expression", 1, 120)
    ev = ed.events("expression")
    assert ev[1] == {"t_ms": 80, "dur_ms": 40, "expression": "blink"}
    assert ev[2] == {"t_ms": 120, "dur_ms": 80, "expression": "blink"}
    ed.merge("expression", 1)
    assert ed.events("expression")[1] == {"t_ms": 80, "dur_ms": 120, "expression": "blink"}
    with pytest.raises(EditError):
        ed.split("mouth", 0, 0)


def test_paint_mouth_closes_a_span_in_a_dense_track():
    frames = [{"t_ms": t, "mouth_id": 1 + (t // 40) % 5} for t in range(0, 400, 40)]
    ed = TimelineEditor({"mouth": {"step_ms": 40, "frames": frames}}, 40)
    ed.paint_mouth(120, 240, 0)
    ids = list(ed.tracks["mouth"].sample(10, 40))
    assert ids[:3] == [1, 2, 3] and ids[3:6] == [0, 0, 0] and ids[6:] == [2, 3, 4, 5]


def test_paint_mouth_inside_a_long_event_restores_after():
    ed = TimelineEditor({"mouth": [{"t_ms": 0, "mouth_id": 1}, {"t_ms": 400, "mouth_id": 2}]}, 40)
    ed.paint_mouth(120, 200, 0)
    assert list(ed.tracks["mouth"].sample(12, 40)) == [1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 2, 0]


def test_paint_mouth_with_dur_events():
    ed = TimelineEditor({"mouth": [{"t_ms": 0, "dur_ms": 400, "mouth_id": 1}]}, 40)
    ed.paint_mouth(120, 200, 0)
    assert list(ed.tracks["mouth"].sample(11, 40)) == [1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0]


def test_dirty_tracks_the_saved_point(ed):
    assert not ed.dirty
    ed.set_mouth([0], 2)
    assert ed.dirty
    ed.mark_saved()
    assert not ed.dirty
    ed.undo()
    assert ed.dirty
    ed.redo()
    assert not ed.dirty


def test_changed_fires_with_the_kinds(ed):
    seen = []
    ed.changed.connect(seen.append)
    ed.set_mouth([0], 2)
    ed.undo()
    assert seen == [{"mouth"}, {"mouth"}]


# ------------------------------------------------------- issue 13: production density
DENSE = {"step_ms": 40, "frames": [{"t_ms": t, "mouth_id": (t // 40) % 6} for t in range(0, 2000, 40)]}


def no_hidden(ed):
    """Every event of the mouth track is visible: starts strictly increase by at least a frame."""
    t = [e["t_ms"] for e in ed.events("mouth")]
    return all(b - a >= 40 for a, b in zip(t, t[1:]))


def test_dense_drag_overwrites_and_leaves_the_rest_of_the_track_alone():
    ed = TimelineEditor({"mouth": DENSE}, 40, audio_ms=2400)
    before = list(ed.tracks["mouth"].sample(60, 40))
    ed.begin("drag")
    sel = [10]
    for dt in (40, 40, 40, -200, 37, 500):
        sel = ed.move("mouth", sel, dt)
        assert no_hidden(ed) and len(sel) == 1
    ed.end()
    ev = ed.events("mouth")
    assert all(isinstance(e["t_ms"], int) and e["t_ms"] % 40 == 0 for e in ev)   # on the grid, integer ms
    assert ev[sel[0]]["t_ms"] == 880 and ev[sel[0]]["mouth_id"] == DENSE["frames"][10]["mouth_id"]
    after = list(ed.tracks["mouth"].sample(60, 40))
    assert after[:8] == before[:8] and after[23:50] == before[23:50]            # nothing else moved


def test_dense_resize_over_neighbours_saves_no_duplicates():
    """Issue 13 #5: resizing over neighbours left three events at 1800 ms."""
    ed = TimelineEditor({"mouth": DENSE}, 40, audio_ms=2400)
    ed.resize("mouth", 30, end_ms=1510)          # over the next events: they are replaced
    assert ed.event_end("mouth", 30) == 1520     # (snapped to the grid)
    t = [e["t_ms"] for e in ed.events("mouth")]
    assert len(t) == len(set(t)) and no_hidden(ed) and 1520 in t and ed.undo_stack[-1].name.endswith("replacing 7")
    ed.resize("mouth", 30, start_ms=1000)        # over the previous ones, too
    assert no_hidden(ed) and ed.events("mouth")[25]["t_ms"] == 1000
    assert [e["t_ms"] for e in ed.events("mouth")][:25] == list(range(0, 1000, 40))


def test_spans_overwrite_spans_and_stop_at_the_ends():
    ed = TimelineEditor({"mouth": [{"t_ms": 0, "dur_ms": 80, "mouth_id": 1}, {"t_ms": 200, "dur_ms": 160, "mouth_id": 2}]},
                        40, audio_ms=1000)
    ed.move("mouth", [0], 240)                                       # onto the middle of the other span
    assert [(e["t_ms"], e["dur_ms"], e["mouth_id"]) for e in ed.events("mouth")] == \
        [(200, 40, 2), (240, 80, 1), (320, 40, 2)]                   # trimmed around it, nothing hidden
    ed.resize("mouth", 1, end_ms=600)
    assert [(e["t_ms"], e["dur_ms"]) for e in ed.events("mouth")] == [(200, 40), (240, 360)]   # replaced
    ed.move("mouth", [1], 2000)                                      # stops at the session's end
    assert ed.events("mouth")[-1]["t_ms"] + ed.events("mouth")[-1]["dur_ms"] == 1000
    ed.move("mouth", [1], -5000)                                     # and at 0
    assert ed.events("mouth")[0]["t_ms"] == 0


def test_blinks_do_not_stop_change_points_and_vice_versa(ed):
    ed.move("expression", [0], 40)   # the first change point moves; the blink over it is not in the way
    assert ed.events("expression")[0]["t_ms"] == 40
