"""SPEC §15 "a gesture changes exactly what it names", without a display: drags computed from where
they began, the overwrite rule under the final position only, and long tracks edited locally with
the same result as editing the whole track (issue 17, defects 1 and 4)."""
import copy
import json
import random

import numpy as np
import pytest

from contracts.timelines import MOUTHS, parse_mouth, parse_pose
from studio.edit import tracks
from studio.edit.editor import TimelineEditor
from studio.plan import mouth_frames

STEP = 40


def dense_doc(n: int, seed: int = 1) -> dict:
    rnd = random.Random(seed)
    return {"audio": "x.wav", "step_ms": STEP, "frames": [{"t_ms": i * STEP, "mouth_id": rnd.randrange(6)}
                                                          for i in range(n)]}


def editor_for(doc, audio_ms=None) -> TimelineEditor:
    n = len(doc["frames"])
    return TimelineEditor({"mouth": copy.deepcopy(doc)}, STEP, audio_ms=audio_ms or n * STEP)


def drag(ed, indices, positions_ms):
    """A drag as the lane does it: every pointer position is applied from where the drag began."""
    ed.begin("drag mouth")
    for dt in positions_ms:
        ed.restart_group(ed.move, "mouth", indices, dt)
    ed.end()


def test_s15_a_drag_that_passes_over_neighbours_leaves_them_alone():
    # the reported case: i@27600, a@27640, closed@27680, closed@27720, o@27760, drag `i` two frames right
    frames = [{"t_ms": t, "mouth_id": m} for t, m in ((27560, 5), (27600, 2), (27640, 1), (27680, 0), (27720, 0),
                                                       (27760, 5), (27800, 1))]
    ed = TimelineEditor({"mouth": {"step_ms": STEP, "frames": frames}}, STEP, audio_ms=28000)
    drag(ed, [1], [10, 30, 50, 80])
    got = {e["t_ms"]: e["mouth_id"] for e in ed.events("mouth")}
    # the drop covers 27680 only: `a` moves to... nothing else; the time `i` left goes to the event before it
    assert got == {27560: 5, 27640: 1, 27680: 2, 27720: 0, 27760: 5, 27800: 1}
    assert len(ed.undo_stack) == 1


def test_s15_a_drag_back_to_where_it_began_changes_nothing():
    frames = [{"t_ms": t, "mouth_id": m} for t, m in ((27600, 2), (27640, 1), (27680, 0), (27720, 0), (27760, 5))]
    ed = TimelineEditor({"mouth": {"step_ms": STEP, "frames": frames}}, STEP, audio_ms=28000)
    before = json.dumps(ed.docs["mouth"])
    drag(ed, [0], [40, 80, 40, 0])
    assert json.dumps(ed.docs["mouth"]) == before
    assert ed.undo_stack == [] and not ed.dirty


@pytest.mark.parametrize("seed", range(6))
def test_s15_random_drags_ending_where_they_began_are_byte_identical(seed):
    rnd = random.Random(seed)
    doc = dense_doc(120, seed)
    ed = editor_for(doc)
    before = json.dumps(ed.docs["mouth"])
    for _ in range(8):
        i = rnd.randrange(len(ed.events("mouth")))
        sel = sorted({i, min(i + rnd.randrange(2), len(ed.events("mouth")) - 1)})
        path = [rnd.uniform(-400, 400) for _ in range(rnd.randrange(1, 12))] + [0.0]
        drag(ed, sel, path)
        assert json.dumps(ed.docs["mouth"]) == before
    assert not ed.undo_stack


@pytest.mark.parametrize("seed", range(8))
def test_s15_a_single_drag_replaces_exactly_the_events_under_its_final_position(seed):
    rnd = random.Random(100 + seed)
    doc = dense_doc(80, seed)
    ed = editor_for(doc)
    old = [(e["t_ms"], e["mouth_id"]) for e in ed.events("mouth")]
    i = rnd.randrange(5, 75)
    frames = rnd.choice([-3, -2, -1, 1, 2, 3, 5])
    drag(ed, [i], [rnd.uniform(-600, 600) for _ in range(6)] + [frames * STEP])
    new = {e["t_ms"]: e["mouth_id"] for e in ed.events("mouth")}
    target = old[i][0] + frames * STEP
    assert new[target] == old[i][1]                         # the dragged event sits at its final place
    for t, m in old:
        if t == target:
            continue
        if t == old[i][0]:                                   # the time it left is taken by the event before it
            assert t not in new
            continue
        assert new.get(t) == m, t                           # every other event is untouched
    assert ed.last_replaced == 1


# -------------------------------------------------------------- long tracks, edited locally
def _ops(rnd, ed, n_ops):
    for _ in range(n_ops):
        n = len(ed.events("mouth"))
        op = rnd.choice(["move", "drag", "resize", "paint", "delete", "set", "insert", "undo", "redo"])
        i = rnd.randrange(n)
        if op == "move":
            ed.move("mouth", sorted({i, min(n - 1, i + rnd.randrange(3))}), rnd.choice([-120, -40, 40, 80, 200]))
        elif op == "drag":
            drag(ed, [i], [rnd.uniform(-300, 300), rnd.choice([-80, 40, 120])])
        elif op == "resize":
            ed.resize("mouth", i, end_ms=ed.event_end("mouth", i) + rnd.choice([-40, 40, 120]))
        elif op == "paint":
            t0 = rnd.randrange(0, n * STEP // STEP) * STEP
            ed.paint_mouth(t0, t0 + rnd.choice([40, 120, 400]), rnd.randrange(6))
        elif op == "delete":
            ed.delete("mouth", [i])
        elif op == "set":
            ed.set_mouth([i], rnd.randrange(6))
        elif op == "insert":
            ed.insert("mouth", {"t_ms": rnd.randrange(n) * STEP + 20, "mouth_id": rnd.randrange(6)})
        elif op == "undo":
            ed.undo()
        else:
            ed.redo()


@pytest.mark.parametrize("seed", range(3))
def test_s15_long_tracks_are_edited_locally_with_the_same_result_as_the_whole_track(seed, monkeypatch):
    from studio.edit.editor import EditError
    doc = dense_doc(2600, seed)
    local = editor_for(doc)
    assert len(local.events("mouth")) >= tracks.FULL_PARSE_BELOW   # the incremental path is taken
    results = []
    for whole in (False, True):
        if whole:
            monkeypatch.setattr(tracks, "FULL_PARSE_BELOW", 10 ** 9)
        ed = editor_for(doc)
        rnd = random.Random(seed)
        try:
            _ops(rnd, ed, 60)
        except EditError:
            pass
        results.append(ed)
    a, b = results
    assert json.dumps(a.docs["mouth"]) == json.dumps(b.docs["mouth"])
    full = parse_mouth(a.docs["mouth"], None)
    for f in ("starts", "durs", "ids"):
        np.testing.assert_array_equal(getattr(a.tracks["mouth"], f), getattr(full, f))


def test_s15_pose_keys_spliced_like_a_full_parse():
    frames = [{"t_ms": i * STEP, "yaw": float(i % 30), "pitch": 1.0} for i in range(2500)]
    ed = TimelineEditor({"pose": {"meta": {"step_ms": STEP}, "frames": frames}}, STEP, audio_ms=2500 * STEP)
    ed.set_pose(100, {"roll_deg": 3.0})
    ed.move("pose", [200], 20.0, snap=False)
    ed.insert("pose", {"t_ms": 4000, "yaw": 9.0})            # an equal time: the later key counts
    ed.delete("pose", [7])
    full = parse_pose(ed.docs["pose"], None)
    np.testing.assert_array_equal(ed.tracks["pose"].t_ms, full.t_ms)
    np.testing.assert_array_equal(ed.tracks["pose"].values, full.values)


def test_s15_an_out_of_order_splice_is_refused_like_the_loader_refuses_it():
    from studio.edit.editor import EditError
    ed = editor_for(dense_doc(2500))
    with pytest.raises(EditError, match="sorted"):
        ed.apply("bad", "mouth", [{"t_ms": 10 ** 7, "mouth_id": 1}], 5, 6)
    assert len(ed.events("mouth")) == 2500 and not ed.undo_stack


@pytest.mark.parametrize("step", [40.0, 1000 / 30])
def test_s4_mouth_sampled_in_a_window_equals_the_whole_track(step):
    rnd = random.Random(3)
    t, frames = 0.0, []
    while t < 20000:
        e = {"t_ms": round(t, 3), "mouth": MOUTHS[rnd.randrange(6)]}
        if rnd.random() < 0.3:
            e["dur_ms"] = rnd.choice([20, 40, 300])
        frames.append(e)
        t += rnd.choice([0, 13, 40, 90, 500])
    track = parse_mouth({"frames": frames}, None)
    n = int(20000 / step)
    whole = track.sample(n, step)
    for _ in range(40):
        f0 = rnd.randrange(n)
        f1 = min(n, f0 + rnd.randrange(1, 200))
        np.testing.assert_array_equal(mouth_frames(track, f0, f1, step), whole[f0:f1])


def test_s7_a_plan_redone_only_where_edits_touched_equals_a_whole_new_plan(tmp_path):
    from helpers import make_session
    from studio.model import StudioModel
    from studio.plan import build_plan
    rnd = random.Random(7)
    n = 2600
    pose = {"meta": {"step_ms": STEP}, "frames": [{"t_ms": i * STEP, "yaw": 20 * np.sin(i / 40), "pitch": 8 * np.cos(i / 30),
                                                   "roll": 2.0, "tx": 400 * np.sin(i / 90)} for i in range(0, n, 3)]}
    expr = {"timeline": [{"t_ms": 0, "expression": "normal"}, {"t_ms": 3000, "dur_ms": 120, "expression": "blink"},
                         {"t_ms": 9000, "expression": "smile"}]}
    session = make_session(tmp_path / "s", audio_ms=n * STEP, pose=pose, mouth=dense_doc(n), expression=expr)
    m = StudioModel()
    m.open(session)
    ed = m.editor
    for _ in range(25):
        i = rnd.randrange(len(ed.events("mouth")))
        rnd.choice([lambda: ed.move("mouth", [i], rnd.choice([-80, 40, 160])),
                    lambda: ed.set_mouth([i], rnd.randrange(6)),
                    lambda: ed.paint_mouth(i * STEP, i * STEP + 400, rnd.randrange(6)),
                    lambda: ed.set_pose(rnd.randrange(len(ed.events("pose"))), {"yaw_deg": rnd.uniform(-30, 30)}),
                    lambda: ed.set_expression([rnd.randrange(3)], rnd.choice(["sad", "angry"])),
                    ed.undo, ed.redo])()
    full, plan = build_plan(m.project.session, m.project.atlas), m.project.plan
    for f in ("raw_pose", "pose", "clamped", "mouth", "expression", "view"):
        np.testing.assert_array_equal(getattr(plan, f), getattr(full, f), err_msg=f)
    assert [plan.resolved[k].sprite for k in plan.sprite] == [full.resolved[k].sprite for k in full.sprite]


# ------------------------------------------------------------------- pose keys in their own form
V1_KEY = {"t_ms": 600, "frame_index": 15, "euler": {"yaw_deg": 11.191, "pitch_deg": -2.5, "roll_deg": 0.4},
          "bbox": {"x": 1, "y": 2, "w": 3, "h": 4, "frame_w": 1280, "frame_h": 720}}


def v1_editor():
    frames = [dict(V1_KEY, t_ms=560, frame_index=14), V1_KEY, dict(V1_KEY, t_ms=640, frame_index=16)]
    return TimelineEditor({"pose": {"meta": {"schema": "pose_timeline.v1", "fps": 25}, "timeline": frames}}, STEP,
                          audio_ms=1000)


def test_s15_editing_one_field_of_a_v1_pose_key_changes_that_euler_angle_only():
    ed = v1_editor()
    assert ed.pose_values(1)["yaw_deg"] == pytest.approx(11.191)      # what the render uses, not 0
    ed.set_pose(1, {"roll_deg": 3.0})
    key = ed.events("pose")[1]
    assert key == dict(V1_KEY, euler=dict(V1_KEY["euler"], roll_deg=3))
    assert ed.pose_values(1)["yaw_deg"] == pytest.approx(11.191)


def test_s15_a_new_pose_key_takes_the_form_of_the_key_before_it():
    ed = v1_editor()
    new = ed.pose_key_at(680, {"yaw_deg": 5.0})
    assert list(new) == list(V1_KEY) and new["frame_index"] == 17 and new["euler"]["yaw_deg"] == 5
    assert new["bbox"] == V1_KEY["bbox"] and new["bbox"] is not V1_KEY["bbox"]


# ------------------------------------------------------------------------------- the words lane
def words_editor():
    from studio.edit import words as wmod
    frames = [{"t_ms": i * STEP, "mouth_id": m} for i, m in enumerate([0, 0, 1, 1, 1, 1, 2, 2, 0, 0, 3, 3, 3, 5, 0, 0])]
    units = [{"text": "ka", "t0_ms": 80, "t1_ms": 320, "morae": [{"text": "ka", "t0_ms": 80, "t1_ms": 320}]},
             {"text": "su", "t0_ms": 400, "t1_ms": 560}]
    ed = TimelineEditor({"mouth": {"step_ms": STEP, "frames": frames, "units": units}}, STEP, audio_ms=640)
    return ed, wmod


def test_s15_words_cut_the_session_into_words_and_pauses():
    ed, wmod = words_editor()
    names = [b.name for b in wmod.boundaries(wmod.words_of(ed), 640)]
    assert names == ["pause | ka", "ka | pause", "pause | su", "su | pause"]


def test_s15_dragging_a_word_boundary_stretches_both_sides_as_one_undo_step():
    from studio.plan import mouth_frames
    ed, wmod = words_editor()
    before = json.dumps(ed.docs["mouth"])
    b = wmod.boundaries(wmod.words_of(ed), 640)[1]           # end of "ka" (320) | pause until 400
    assert b.left == (80, 320) and b.right == (320, 400)
    landed = wmod.retime(ed, b, 245)                          # snapped to the frame grid: 240
    assert landed == 240
    shown = mouth_frames(ed.tracks["mouth"], 0, 16, STEP).tolist()
    assert shown[:2] == [0, 0] and shown[2:6] == [1, 1, 1, 2]   # "ka" squeezed into frames 2..5
    assert shown[6:10] == [0, 0, 0, 0] and shown[10:] == [3, 3, 3, 5, 0, 0]   # the pause stretched; "su" untouched
    ka = wmod.words_of(ed)[0]
    assert ka["t1_ms"] == 240 and ka["morae"][0]["t1_ms"] == 240 and wmod.words_of(ed)[1]["t0_ms"] == 400
    assert len(ed.undo_stack) == 1
    ed.undo()
    assert json.dumps(ed.docs["mouth"]) == before
    ed.redo()
    assert wmod.words_of(ed)[0]["t1_ms"] == 240


def test_s15_a_word_boundary_stays_a_frame_inside_its_neighbours():
    ed, wmod = words_editor()
    b = wmod.boundaries(wmod.words_of(ed), 640)[0]            # 80: between the opening pause and "ka"
    assert wmod.retime(ed, b, -500) == 40 and wmod.retime(ed, wmod.boundaries(wmod.words_of(ed), 640)[0], 5000) == 280
