"""Every production file shape opens as it is (SPEC v0.2 §2–6): session_runtime_v0.2 bundles, the
mouth-track model's mouth6 wrapper, face-tracking pose_timeline.v1, the production emo_id table,
honest fallback reasons, decodable sprites, mixed sprite sizes. Built from the samples in
shared/reference/production_samples and from files written in the same shapes."""
import json
import shutil

import cv2
import numpy as np
import pytest
from helpers import SAMPLES, make_atlas, make_session, make_sprite, run_cli, write_json, write_wav

from contracts.errors import ContractError
from contracts.session import load_session
from contracts.timelines import parse_expression, parse_mouth, parse_pose
from studio.plan import open_project



# ------------------------------------------------------------------ §2 v0.2 session bundle
def test_s2_session_runtime_v0_2_bundle_opens_with_audio_path_and_bundled_atlas_warning(tmp_path):
    for name in ("session_bundle_v0.2.session.json", "mouth_timeline_test1.json",
                 "sess_real_01.expression_timeline.json", "pose_timeline_m0_wrapper_scroll6.json"):
        shutil.copy(SAMPLES / name, tmp_path)
    write_wav(tmp_path / "1_0_72.wav", 36040)
    p = open_project(tmp_path / "session_bundle_v0.2.session.json")
    s = p.session
    assert (s.form, s.session_id, s.audio_ms, s.target_frames) == ("B", "sess_bundle_demo", 36040, 901)
    assert s.audio_path.name == "1_0_72.wav" and s.atlas_bundled
    warning = [w for w in p.warnings if "names no atlas" in w]
    assert warning and "bundled demo character" in warning[0]


def test_s2_v0_2_bundle_with_absolute_paths(tmp_path):
    atlas = make_atlas(tmp_path / "at")
    write_json(tmp_path / "pose.json", [{"t_ms": 0, "yaw": 0}])
    write_wav(tmp_path / "a.wav", 400)
    doc = {"schema_version": "session_runtime_v0.2", "session_id": "abs", "pose_timeline": str(tmp_path / "pose.json"),
           "audio_path": str(tmp_path / "a.wav"), "atlas_json": str(atlas)}
    s = load_session(write_json(tmp_path / "elsewhere" / "s.json", doc))
    assert s.audio_ms == 400 and not s.atlas_bundled and s.audio_path == tmp_path / "a.wav"


def test_s2_bundled_atlas_warning_says_the_sessions_assets_dir_is_ignored(tmp_path):
    s = make_session(tmp_path, audio_ms=80, extra={"assets_dir": "."})
    doc = json.loads(s.read_text())
    del doc["inputs"]["atlas_json"]
    write_json(s, doc)
    p = open_project(s)
    w = [w for w in p.warnings if "names no atlas" in w][0]
    assert "assets_dir is ignored" in w
    assert p.atlas.path.name == "atlas.min.json" and "assets_min" in str(p.atlas.path)


def test_s2_s8_run_report_names_the_atlas_used(tmp_path):
    s = make_session(tmp_path, audio_ms=80)
    doc = json.loads(s.read_text())
    del doc["inputs"]["atlas_json"]
    write_json(s, doc)
    res = run_cli("export", s, "--out", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    assert "names no atlas" in res.stderr
    r = json.loads((tmp_path / "out" / "run_report.json").read_text())
    assert r["atlas"].endswith("assets_min/atlas.min.json") and r["atlas_bundled"] is True
    assert any("names no atlas" in w for w in r["warnings"])


# ------------------------------------------------------------------------ §3 pose v1 euler
def test_s3_pose_timeline_v1_reads_angles_from_euler_and_fps():
    doc = json.loads((SAMPLES / "pose_timeline_v1_euler.json").read_text())
    tr = parse_pose(doc, None)
    assert tr.step_ms == 40 and not tr.warnings
    assert tr.values[2, 0] == pytest.approx(1.508)          # euler.yaw_deg of frame 2
    assert tr.doc["timeline"][0]["bbox"]["w"] == 400         # bbox kept, unused by the FG render
    assert (tr.values[:, 0] != 0).sum() > 20                 # not silently front


def test_s3_euler_rules_top_level_wins_legacy_inside_and_fps():
    doc = {"meta": {"schema": "pose_timeline.v1", "fps": 25}, "timeline": [
        {"t_ms": 0, "yaw_deg": 5, "euler": {"yaw_deg": 30, "pitch": -7, "roll_deg": 2}},
        {"t_ms": 40, "euler": {"yaw": -20}}]}
    tr = parse_pose(doc, None)
    assert tr.values[0, :3].tolist() == [5, -7, 2] and tr.values[1, 0] == -20 and tr.step_ms == 40


def test_s3_euler_is_read_whatever_meta_schema_says():
    tr = parse_pose({"frames": [{"t_ms": 0, "euler": {"pitch_deg": 12}}]}, None)
    assert tr.values[0, 1] == 12


def test_s3_no_angle_anywhere_is_a_warning_naming_the_unusual_keys():
    tr = parse_pose({"meta": {}, "timeline": [{"t_ms": 0, "angles": {"y": 3}, "frame_index": 0},
                                              {"t_ms": 40, "euler": {"y": 1}}]}, None)
    assert len(tr.warnings) == 1 and "angles" in tr.warnings[0] and "euler.y" in tr.warnings[0]
    assert "front" in tr.warnings[0]


def test_s3_bad_euler_names_the_index():
    with pytest.raises(ContractError, match=r"timeline\[1\]\.euler\.yaw_deg"):
        parse_pose({"timeline": [{"t_ms": 0}, {"t_ms": 40, "euler": {"yaw_deg": "left"}}]}, "p.json")
    with pytest.raises(ContractError, match="meta.fps"):
        parse_pose({"meta": {"fps": 0}, "timeline": [{"t_ms": 0, "yaw": 1}]}, "p.json")


def test_s1_pose_meta_fps_counts_in_step_precedence(tmp_path):
    pose = {"meta": {"fps": 30}, "timeline": [{"t_ms": 0, "yaw": 0}]}
    with pytest.raises(ContractError, match="step mismatch"):
        load_session(make_session(tmp_path / "a", audio_ms=400, step_ms=40, pose=pose))
    s = load_session(make_session(tmp_path / "b", audio_ms=400, step_ms=None, pose={"meta": {"fps": 50},
                                                                                   "timeline": [{"t_ms": 0}]}))
    assert s.step_ms == 20


# ------------------------------------------------------------------------- §4 mouth6
def test_s4_mouth_track_model_wrapper_with_mouth6_labels():
    doc = json.loads((SAMPLES / "m3prime_mouth6_track.json").read_text())
    tr = parse_mouth(doc, None)
    assert tr.shape == "timeline" and tr.step_ms == 40 and tr.audio is None
    ids = tr.sample(20, 40)
    assert ids[0] == 0 and ids[1] == 1 and ids[5] == 2 and ids[14] == 0   # 'close' is closed


def test_s4_mouth6_in_a_bare_array_and_case_insensitive():
    assert parse_mouth([{"t_ms": 0, "mouth6": "O"}], None).ids.tolist() == [5]


def test_s4_wrapper_step_ms_disagreeing_is_an_error():
    with pytest.raises(ContractError, match="disagree"):
        parse_mouth({"step_ms": 33, "meta": {"step_ms": 40}, "timeline": [{"t_ms": 0, "mouth6": "a"}]}, "m.json")


def test_s4_two_mouth_keys_that_disagree_name_the_index():
    with pytest.raises(ContractError, match=r"timeline\[1\].*disagree"):
        parse_mouth({"meta": {"step_ms": 40}, "timeline": [{"t_ms": 0, "mouth6": "a", "mouth_id": 1},
                                                           {"t_ms": 40, "mouth6": "a", "mouth": "o"}]}, "m.json")


def test_s4_wrapper_without_audio_needs_inputs_audio_or_audio_ms(tmp_path):
    mouth = {"meta": {"step_ms": 40}, "timeline": [{"t_ms": 0, "mouth6": "a"}]}
    with pytest.raises(ContractError, match="no audio_ms"):
        load_session(make_session(tmp_path / "a", audio_ms=None, mouth=mouth))
    assert load_session(make_session(tmp_path / "b", audio_ms=200, mouth=mouth)).target_frames == 5


# ----------------------------------------------------------------------- §5 emo_id table
@pytest.mark.parametrize("emo_id,label", [("2_0", "normal"), ("2_1", "angry"), ("1_2", "smile"), ("9_1", "sad"),
                                          (2, "angry"), ("2", "angry"), (2.0, "angry"), ("02", "angry")])
def test_s5_string_emo_ids_use_the_production_table_never_the_integer_one(emo_id, label):
    tr = parse_expression([{"t_ms": 0, "emo_id": emo_id}], None)
    assert tr.events[0].label == label and not tr.warnings


def test_s5_unknown_emo_id_is_the_default_with_one_warning():
    tr = parse_expression([{"t_ms": 0, "emo_id": "7_9"}, {"t_ms": 40, "emo_id": "7_9"}, {"t_ms": 80, "emo_id": 42}], None)
    assert [e.label for e in tr.events] == [None, None, None]
    assert len(tr.warnings) == 2 and "2 events" in tr.warnings[0]


def test_s5_session_emo_map_overrides_both_tables():
    tr = parse_expression([{"t_ms": 0, "emo_id": "2_1"}, {"t_ms": 40, "emo_id": 1}], None,
                          emo_map={"2_1": "sad", "1": "angry"})
    assert [e.label for e in tr.events] == ["sad", "angry"]


def test_s5_shipped_production_table_is_the_samples_table():
    from contracts.jsonfile import RESOURCES
    assert (RESOURCES / "emo_id_to_expression.yaml").read_bytes() == (SAMPLES / "emo_id_to_expression.yaml").read_bytes()


# ------------------------------------------------------------------ §6 fallback reasons
def quirk_atlas(tmp_path):
    """The production quirk: the atlas lists left30/mouth_close.png, the disk has mouth_closed.png."""
    p = make_atlas(tmp_path, views=("front", "left30"), expressions=("blink",))
    (tmp_path / "left30" / "mouth_close.png").rename(tmp_path / "left30" / "mouth_closed.png")
    (tmp_path / "blink_left30" / "mouth_close.png").unlink()
    return p


def test_s6_sprite_missing_not_view_missing_and_the_readout_names_the_file(tmp_path):
    atlas = quirk_atlas(tmp_path / "at")
    p = open_project(make_session(tmp_path / "s", atlas=atlas, audio_ms=80, pose=[{"t_ms": 0, "yaw_deg": -20}]))
    row = p.plan.row(0)
    assert row["view"] == "left30" and row["fallback"] == "sprite_missing" and row["sprite"] == "front/mouth_close.png"
    assert row["missing"] == ["left30/mouth_close.png is missing (did you mean left30/mouth_closed.png?)"]


def test_s6_one_reason_per_candidate_passed_over(tmp_path):
    atlas = make_atlas(tmp_path, views=("front",), mouths=("closed", "a"), expressions=("smile",),
                       skip=("smile_front/mouth_close.png",))
    from render.atlas import load_atlas
    r = load_atlas(atlas).resolve("smile", "left30", "u")
    # left30 absent (view_missing), front lists no u (mouth_missing), front/closed drawn without its variant
    assert set(r.reasons) == {"view_missing", "mouth_missing", "expression_missing"} and len(r.reasons) == 3
    assert r.sprite == "front/mouth_close.png"
    assert "view left30 is not in the atlas" in r.missing and "smile_front/mouth_close.png is missing" in r.missing


def test_s6_s12_validate_decodes_every_sprite_the_session_draws(tmp_path):
    atlas = make_atlas(tmp_path / "at")
    (tmp_path / "at" / "left30" / "mouth_a.png").write_bytes(b"\x00")     # a 1-byte production placeholder
    s = make_session(tmp_path / "s", atlas=atlas, audio_ms=160, pose=[{"t_ms": 0}, {"t_ms": 80, "yaw_deg": -20}],
                     mouth=[{"t_ms": 0, "dur_ms": 160, "mouth_id": 1}])
    for cmd in ("validate", "export"):
        res = run_cli(cmd, s, *(["--out", tmp_path / "out"] if cmd == "export" else []))
        assert res.returncode == 2, (cmd, res.stderr)
        assert "left30/mouth_a.png" in res.stderr and "cannot be decoded" in res.stderr and "frame 2" in res.stderr
    assert not (tmp_path / "out").exists()
    # a placeholder the session never draws is not an error
    ok = make_session(tmp_path / "s2", atlas=atlas, audio_ms=160, mouth=[{"t_ms": 0, "mouth_id": 1}])
    assert run_cli("validate", ok).returncode == 0


def test_s6_mixed_sprite_sizes_within_a_view_warn_naming_target_h_ratio(tmp_path):
    atlas = make_atlas(tmp_path / "at", views=("front", "left15"))
    cv2.imwrite(str(tmp_path / "at" / "left15" / "mouth_o.png"), make_sprite((1, 2, 3), size=(108, 108)))
    p = open_project(make_session(tmp_path / "s", atlas=atlas, audio_ms=80))
    w = [w for w in p.warnings if "mixes sprite sizes" in w]
    assert len(w) == 1 and "left15" in w[0] and "target_h_ratio" in w[0] and "108x108" in w[0]
    q = open_project(make_session(tmp_path / "t", atlas=atlas, audio_ms=80, extra={"render": {"target_h_ratio": 0.5}}))
    assert not [w for w in q.warnings if "mixes sprite sizes" in w]


# ------------------------------------------------------------------------ end to end
def test_v0_2_bundle_with_mouth6_and_v1_pose_validates_scores_and_exports(tmp_path):
    shutil.copy(SAMPLES / "m3prime_mouth6_track.json", tmp_path / "mouth.json")
    shutil.copy(SAMPLES / "pose_timeline_v1_euler.json", tmp_path / "pose.json")
    shutil.copy(SAMPLES / "sess_real_01.expression_timeline.json", tmp_path / "expr.json")
    write_wav(tmp_path / "utt.wav", 9000, tone_spans=[(40, 560), (600, 1640), (2920, 3680)])
    write_json(tmp_path / "session.json", {"schema_version": "session_runtime_v0.2", "session_id": "bundle",
                                           "pose_timeline": "pose.json", "mouth_timeline": "mouth.json",
                                           "expression_timeline": "expr.json", "audio_path": "utt.wav"})
    v = run_cli("validate", tmp_path / "session.json", "--json")
    assert v.returncode == 0, v.stderr
    info = json.loads(v.stdout)
    assert info["target_frames"] == 225 and info["atlas_bundled"]
    assert {"right15", "right30"} <= set(info["views"])            # euler yaw really turns the head
    assert run_cli("score", tmp_path / "session.json").returncode in (0, 3)
    res = run_cli("export", tmp_path / "session.json", "--out", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    assert len(list((tmp_path / "out" / "in" / "fg").glob("*.png"))) == 225
    frame = cv2.imread(str(tmp_path / "out" / "in" / "fg" / "00000001.png"), cv2.IMREAD_UNCHANGED)
    assert frame.shape == (720, 720, 4) and np.count_nonzero(frame[:, :, 3]) > 1000


# --------------------------------------------------------------------------- the studio
def test_studio_opens_a_v0_2_bundle_with_mouth6_and_v1_pose_names_missing_files_and_exports(qtbot, tmp_path):
    """pytest-qt, offscreen: the same files open unchanged in the studio, which exports them."""
    import os
    os.environ["LIPSYNC_NO_AUDIO"] = "1"
    os.environ["LIPSYNC_NO_DIALOGS"] = "1"
    from PySide6.QtCore import QSettings

    from widgets.main_window import MainWindow
    shutil.copy(SAMPLES / "m3prime_mouth6_track.json", tmp_path / "mouth.json")
    shutil.copy(SAMPLES / "pose_timeline_v1_euler.json", tmp_path / "pose.json")
    write_wav(tmp_path / "utt.wav", 1200, tone_spans=[(40, 560), (600, 1100)])
    atlas = quirk_atlas(tmp_path / "at")
    write_json(tmp_path / "session.json", {"schema_version": "session_runtime_v0.2", "session_id": "bundle",
                                           "pose_timeline": "pose.json", "mouth_timeline": "mouth.json",
                                           "audio_path": "utt.wav", "atlas_json": str(atlas)})
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    assert w.open_session(tmp_path / "session.json"), w.last_error
    qtbot.waitUntil(lambda: w.preview.shown_frame == 0, timeout=5000)
    assert w.model.n_frames == 30
    fb_frame = next(i for i in range(30) if w.model.readout(i)["fallback"])   # yaw crosses into 'right…': absent
    w.go_to_frame(fb_frame)
    assert "FALLBACK" in w.readout.text() and "is not in the atlas" in w.readout.text()
    assert w.qa.fallbacks.count() >= 1 and "is not in the atlas" in w.qa.fallbacks.item(0).text()
    dlg = w.export_dialog()
    dlg.out_edit.setText(str(tmp_path / "out"))
    dlg.start()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=30000)
    assert dlg.result.report["rendered_frames"] == 30
    assert len(list((tmp_path / "out" / "in" / "fg").glob("*.png"))) == 30
    w.close()


def test_studio_readout_names_the_missing_file_of_a_sprite_missing_frame(qtbot, tmp_path):
    import os
    os.environ["LIPSYNC_NO_AUDIO"] = "1"
    os.environ["LIPSYNC_NO_DIALOGS"] = "1"
    from PySide6.QtCore import QSettings

    from widgets.main_window import MainWindow
    atlas = quirk_atlas(tmp_path / "at")
    s = make_session(tmp_path / "s", atlas=atlas, audio_ms=120, pose=[{"t_ms": 0, "yaw_deg": -20}])
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    assert w.open_session(s)
    assert "sprite_missing" in w.readout.text()
    assert "left30/mouth_close.png is missing (did you mean left30/mouth_closed.png?)" in w.readout.text()
    assert w.qa.fallbacks.count() == 1 and "frames 0–2" in w.qa.fallbacks.item(0).text()
    w.close()
