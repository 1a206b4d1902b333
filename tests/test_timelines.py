"""SPEC §3 (pose), §4 (mouth), §5 (expression): forms, legacy keys, sampling semantics, bad input."""
import math

import numpy as np
import pytest
from helpers import make_session

from contracts.errors import ContractError
from studio.plan import open_project
from contracts.timelines import parse_expression, parse_mouth, parse_pose


def pose_at(frames, times, **meta):
    doc = {"meta": meta, "frames": frames} if meta else frames
    return parse_pose(doc, None).sample(np.asarray(times, float))


# ------------------------------------------------------------------------ §3 pose
def test_s3_three_accepted_shapes_give_the_same_track():
    frames = [{"t_ms": 0, "yaw_deg": 1}, {"t_ms": 40, "yaw_deg": 3}]
    for doc in (frames, {"meta": {}, "frames": frames}, {"meta": {}, "timeline": frames}):
        tr = parse_pose(doc, None)
        assert list(tr.values[:, 0]) == [1, 3]
    assert parse_pose({"meta": {}, "timeline": frames}, None).shape == "timeline"


def test_s3_legacy_angle_keys_and_deg_wins():
    tr = parse_pose([{"t_ms": 0, "yaw": 5, "pitch": -3, "roll": 2}], None)
    assert list(tr.values[0, :3]) == [5, -3, 2]
    tr = parse_pose([{"t_ms": 0, "yaw": 5, "yaw_deg": 7}], None)
    assert tr.values[0, 0] == 7


def test_s3_defaults_for_missing_fields():
    tr = parse_pose([{"t_ms": 0}], None)
    assert list(tr.values[0]) == [0, 0, 0, 0, 0, 1]


def test_s3_linear_interpolation_and_hold_outside():
    frames = [{"t_ms": 100, "yaw_deg": 0, "tx": 10}, {"t_ms": 200, "yaw_deg": 10, "tx": 30}]
    v = pose_at(frames, [0, 100, 150, 175, 200, 900])
    assert list(v[:, 0]) == [0, 0, 5, 7.5, 10, 10]
    assert list(v[:, 3]) == [10, 10, 20, 25, 30, 30]


def test_s3_step_interpolation_holds_previous():
    frames = [{"t_ms": 0, "yaw_deg": 0}, {"t_ms": 100, "yaw_deg": 10}]
    v = pose_at(frames, [0, 50, 99, 100, 150], interpolation="step")
    assert list(v[:, 0]) == [0, 0, 0, 10, 10]


def test_s3_dense_grid_data_same_under_both_interpolations():
    frames = [{"t_ms": t, "yaw_deg": math.sin(t / 100)} for t in range(0, 400, 40)]
    t = np.arange(0, 400, 40)
    assert np.array_equal(pose_at(frames, t), pose_at(frames, t, interpolation="step"))


def test_s3_equal_t_ms_last_in_file_counts():
    v = pose_at([{"t_ms": 0, "yaw_deg": 1}, {"t_ms": 0, "yaw_deg": 2}, {"t_ms": 40, "yaw_deg": 2}], [0, 20])
    assert list(v[:, 0]) == [2, 2]


def test_s3_relative_scale_mode_renders_and_warns():
    tr = parse_pose({"meta": {"scale_mode": "relative"}, "frames": [{"t_ms": 0}]}, None)
    assert any("relative" in w for w in tr.warnings)
    assert not parse_pose({"meta": {"scale_mode": "absolute"}, "frames": [{"t_ms": 0, "yaw": 0}]}, None).warnings


def test_s3_extra_keys_are_kept():
    doc = {"meta": {"note": "x"}, "frames": [{"t_ms": 0, "custom": 1}]}
    tr = parse_pose(doc, None)
    assert tr.doc["frames"][0]["custom"] == 1 and tr.doc["meta"]["note"] == "x"


@pytest.mark.parametrize("frames,where,what", [
    ([{"t_ms": 40}, {"t_ms": 0}], "frames[1].t_ms", "sorted"),
    ([{"t_ms": 0, "yaw_deg": float("nan")}], "frames[0].yaw_deg", "finite"),
    ([{"t_ms": 0, "tx": float("inf")}], "frames[0].tx", "finite"),
    ([{"t_ms": 0}, {"t_ms": 40, "scale": "big"}], "frames[1].scale", "expected a number"),
    ([{"t_ms": 0, "yaw": True}], "frames[0].yaw", "expected a number"),
    ([{"yaw_deg": 0}], "frames[0]", "t_ms"),
])
def test_s3_bad_frames_name_the_index(frames, where, what):
    with pytest.raises(ContractError) as e:
        parse_pose({"meta": {}, "frames": frames}, "pose.json")
    assert where in str(e.value) and what in str(e.value) and "pose.json" in str(e.value)


def test_s3_empty_pose_is_a_warning_and_renders_front():
    tr = parse_pose([], "pose.json")
    assert tr.end_ms is None and "no frames" in tr.warnings[0]
    assert tr.sample(np.array([0.0, 40.0])).tolist() == [[0, 0, 0, 0, 0, 1]] * 2


# ----------------------------------------------------------------------- §4 mouth
def mouth_frames(events, n=10, step=40):
    return list(parse_mouth(events, None).sample(n, step))


def test_s4_canonical_and_bare_array_and_labels():
    ev = [{"t_ms": 0, "mouth_id": 1}, {"t_ms": 40, "mouth_id": 2}]
    assert mouth_frames({"audio": "x.wav", "step_ms": 40, "frames": ev}, 3) == mouth_frames(ev, 3) == [1, 2, 0]
    lab = [{"t_ms": 0, "mouth": "A"}, {"t_ms": 40, "mouth": "close"}, {"t_ms": 80, "mouth": "Closed"},
           {"t_ms": 120, "mouth": "o"}]
    assert mouth_frames(lab, 4) == [1, 0, 0, 5]


def test_s4_event_without_dur_lasts_until_next_last_lasts_one_step():
    assert mouth_frames([{"t_ms": 0, "mouth_id": 1}, {"t_ms": 120, "mouth_id": 3}], 6) == [1, 1, 1, 3, 0, 0]


def test_s4_dur_ms_covers_exactly_and_gaps_are_closed():
    ev = [{"t_ms": 0, "dur_ms": 80, "mouth_id": 1}, {"t_ms": 200, "dur_ms": 40, "mouth_id": 4}]
    assert mouth_frames(ev, 8) == [1, 1, 0, 0, 0, 4, 0, 0]


def test_s4_overlap_later_start_wins_equal_start_later_in_file():
    ev = [{"t_ms": 0, "dur_ms": 200, "mouth_id": 1}, {"t_ms": 80, "dur_ms": 40, "mouth_id": 2}]
    assert mouth_frames(ev, 6) == [1, 1, 2, 1, 1, 0]
    ev = [{"t_ms": 0, "dur_ms": 80, "mouth_id": 1}, {"t_ms": 0, "dur_ms": 40, "mouth_id": 3}]
    assert mouth_frames(ev, 3) == [3, 1, 0]


def test_s4_mouth_never_moves_after_audio_ends(tmp_path):
    p = open_project(make_session(tmp_path, audio_ms=400, mouth=[{"t_ms": 0, "dur_ms": 10000, "mouth_id": 1},
                                                                   {"t_ms": 40, "mouth_id": 2}]))
    assert len(p.plan) == 10 and list(p.plan.mouth[:3]) == [1, 2, 1]


@pytest.mark.parametrize("event,where", [({"t_ms": 0, "mouth_id": 6}, "frames[0].mouth_id"),
                                         ({"t_ms": 0, "mouth_id": -1}, "frames[0].mouth_id"),
                                         ({"t_ms": 0, "mouth": "x"}, "frames[0].mouth"),
                                         ({"t_ms": 0}, "frames[0]")])
def test_s4_bad_mouth_names_the_event(event, where):
    with pytest.raises(ContractError) as e:
        parse_mouth({"frames": [event]}, "m.json")
    assert where in str(e.value)


def test_s4_unsorted_mouth_is_an_error():
    with pytest.raises(ContractError, match=r"frames\[1\].t_ms.*sorted"):
        parse_mouth({"frames": [{"t_ms": 40, "mouth_id": 0}, {"t_ms": 0, "mouth_id": 0}]}, "m.json")


# ------------------------------------------------------------------ §5 expression
LABELS = ["normal", "smile", "angry", "sad", "blink"]


def expr_frames(doc, n=10, step=40, labels=LABELS, emo_map=None):
    tr = parse_expression(doc, None, emo_map)
    idx, warnings = tr.sample(n, step, labels, "normal")
    return [labels[i] for i in idx], warnings


def test_s5_array_and_wrapper_forms():
    ev = [{"t_ms": 0, "expression": "smile"}]
    assert expr_frames(ev, 2)[0] == expr_frames({"schema_version": "x", "timeline": ev}, 2)[0] == ["smile"] * 2


def test_s5_change_points_last_until_next_and_the_last_to_the_end():
    ev = [{"t_ms": 0, "expression": "smile"}, {"t_ms": 80, "expression": "sad"}]
    assert expr_frames(ev, 5)[0] == ["smile", "smile", "sad", "sad", "sad"]


def test_s5_default_before_the_first_event():
    assert expr_frames([{"t_ms": 80, "expression": "angry"}], 3)[0] == ["normal", "normal", "angry"]


def test_s5_blink_overlay_has_priority():
    ev = [{"t_ms": 0, "expression": "smile"}, {"t_ms": 40, "dur_ms": 80, "expression": "blink"},
          {"t_ms": 80, "expression": "angry"}]
    assert expr_frames(ev, 5)[0] == ["smile", "blink", "blink", "angry", "angry"]


def test_s5_blink_beats_a_later_overlay():
    ev = [{"t_ms": 0, "dur_ms": 120, "expression": "blink"}, {"t_ms": 40, "dur_ms": 40, "expression": "sad"}]
    assert expr_frames(ev, 4)[0] == ["blink", "blink", "blink", "normal"]


def test_s5_latest_started_non_blink_wins_ties_later_in_file():
    ev = [{"t_ms": 0, "dur_ms": 400, "expression": "smile"}, {"t_ms": 40, "dur_ms": 40, "expression": "sad"}]
    assert expr_frames(ev, 4)[0] == ["smile", "sad", "smile", "smile"]
    ev = [{"t_ms": 0, "dur_ms": 80, "expression": "smile"}, {"t_ms": 0, "dur_ms": 40, "expression": "angry"}]
    assert expr_frames(ev, 3)[0] == ["angry", "smile", "normal"]


def test_s5_production_change_point_blinks():
    """Production: blink at 0 as a change point, 'normal' restored at 120 ms."""
    ev = [{"t_ms": 0, "expression": "blink", "source": "blink"},
          {"t_ms": 120, "expression": "normal", "source": "blink_end_restore"},
          {"t_ms": 200, "expression": "smile"}]
    assert expr_frames({"timeline": ev}, 7)[0] == ["blink"] * 3 + ["normal"] * 2 + ["smile"] * 2


def test_s5_legacy_emo_id_and_blink():
    ev = [{"t_ms": 0, "emo_id": 1, "blink": 0}, {"t_ms": 80, "emo_id": 2, "blink": 1}]
    got, _ = expr_frames(ev, 8)  # blink_ms default 120 -> frames 2,3,4
    assert got == ["smile", "smile", "blink", "blink", "blink", "angry", "angry", "angry"]


def test_s5_emo_map_override_per_session():
    got, _ = expr_frames([{"t_ms": 0, "emo_id": 1}], 2, emo_map={"1": "sad"})
    assert got == ["sad", "sad"]


def test_s5_unknown_emo_id_reads_as_default_with_warning():
    tr = parse_expression([{"t_ms": 0, "emo_id": 9}], None)
    assert tr.warnings and "emo_id" in tr.warnings[0]
    idx, _ = tr.sample(2, 40, LABELS, "normal")
    assert [LABELS[i] for i in idx] == ["normal", "normal"]


def test_s5_unknown_label_is_default_but_still_takes_part_in_rule_2():
    ev = [{"t_ms": 0, "expression": "smile"}, {"t_ms": 40, "dur_ms": 40, "expression": "surprised"},
          {"t_ms": 200, "expression": "surprised"}]
    got, warnings = expr_frames(ev, 6)
    assert got == ["smile", "normal", "smile", "smile", "smile", "normal"]
    assert len(warnings) == 1 and "surprised" in warnings[0]  # once per label


def test_s5_unsorted_and_non_finite_name_the_index():
    with pytest.raises(ContractError, match=r"timeline\[1\].t_ms"):
        parse_expression({"timeline": [{"t_ms": 40, "expression": "a"}, {"t_ms": 0, "expression": "b"}]}, "e.json")
    with pytest.raises(ContractError, match=r"\[0\].dur_ms.*finite"):
        parse_expression([{"t_ms": 0, "dur_ms": float("nan"), "expression": "blink"}], "e.json")


def test_s5_expression_labels_come_from_the_atlas(tmp_path):
    from helpers import make_atlas
    atlas = make_atlas(tmp_path / "at", extra={"expression_labels": ["normal", "joy", "blink"]}, expressions=("blink",))
    p = open_project(make_session(tmp_path, atlas=atlas, expression=[{"t_ms": 0, "expression": "joy"},
                                                                        {"t_ms": 80, "expression": "smile"}]))
    assert [p.plan.labels[i] for i in p.plan.expression[:4]] == ["joy", "joy", "normal", "normal"]
    assert any("'smile'" in w for w in p.warnings)
