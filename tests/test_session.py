"""SPEC §1 (timebase) and §2 (session.json forms, path resolution, overrides)."""
import math

import pytest
from helpers import make_atlas, make_session, write_json, write_wav

from contracts.errors import ContractError
from studio.plan import open_project
from contracts.session import BUNDLED_ATLAS, Overrides, load_session, target_frames


# ---------------------------------------------------------------- §1 timebase
@pytest.mark.parametrize("audio_ms,step,frames", [(2310, 40, 58), (2320, 40, 58), (2321, 40, 59), (1, 40, 1),
                                                  (36040, 40, 901), (1000, 33.333, 31)])
def test_s1_target_frames_is_ceil(audio_ms, step, frames):
    assert target_frames(audio_ms, step) == frames == math.ceil(audio_ms / step)


def test_s1_step_ms_precedence_session_then_mouth_then_pose_then_40(tmp_path):
    mouth = {"step_ms": 20, "frames": [{"t_ms": 0, "mouth_id": 0}]}
    pose = {"meta": {"step_ms": 20}, "frames": [{"t_ms": 0}]}
    s = load_session(make_session(tmp_path / "a", step_ms=None, mouth=mouth, pose=pose))
    assert s.step_ms == 20 and s.fps == 50
    s = load_session(make_session(tmp_path / "b", step_ms=None, pose=pose))
    assert s.step_ms == 20
    s = load_session(make_session(tmp_path / "c", step_ms=None))
    assert s.step_ms == 40 and s.target_frames == 10


def test_s1_step_mismatch_is_an_error(tmp_path):
    mouth = {"step_ms": 20, "frames": [{"t_ms": 0, "mouth_id": 0}]}
    with pytest.raises(ContractError, match="step mismatch"):
        load_session(make_session(tmp_path, step_ms=40, mouth=mouth))


def test_s1_audio_ms_from_wav_when_session_has_none(tmp_path):
    p = make_session(tmp_path, audio_ms=None, wav_ms=1234)
    s = load_session(p)
    assert s.audio_ms == 1234 == s.wav_ms and s.target_frames == 31


def test_s1_wav_length_rounds_half_up(tmp_path):
    # 16000 Hz: 8 samples = 0.5 ms -> floor(x + 0.5) rounds 1000.5 ms up to 1001
    import numpy as np
    import soundfile
    soundfile.write(str(tmp_path / "w.wav"), np.zeros(16008, np.int16), 16000)
    from contracts.session import wav_length_ms
    assert wav_length_ms(tmp_path / "w.wav") == 1001


def test_s1_declared_and_wav_lengths_differ_is_a_warning(tmp_path):
    s = load_session(make_session(tmp_path, audio_ms=1000, wav_ms=1100))
    assert s.audio_ms == 1000 and s.target_frames == 25
    assert any("differs from the WAV" in w for w in s.warnings)
    s2 = load_session(make_session(tmp_path / "ok", audio_ms=1000, wav_ms=1015))
    assert not any("differs" in w for w in s2.warnings)


@pytest.mark.parametrize("audio_ms", [0, -40])
def test_s1_audio_ms_not_positive_is_an_error(tmp_path, audio_ms):
    with pytest.raises(ContractError, match="audio_ms must be greater than 0"):
        load_session(make_session(tmp_path, audio_ms=audio_ms))


def test_s1_no_audio_ms_and_no_wav_is_an_error(tmp_path):
    with pytest.raises(ContractError, match="no audio_ms"):
        load_session(make_session(tmp_path, audio_ms=None))


def test_s1_step_ms_not_positive_is_an_error(tmp_path):
    with pytest.raises(ContractError, match="step_ms must be from 1 to 1000"):
        load_session(make_session(tmp_path, step_ms=0))


def test_s1_render_covers_target_frames_whatever_the_timelines_length(tmp_path):
    pose = [{"t_ms": 0, "yaw_deg": 0}, {"t_ms": 80, "yaw_deg": 8}]
    p = open_project(make_session(tmp_path, audio_ms=1000, pose=pose))
    assert len(p.plan) == 25
    assert p.plan.raw_pose[-1, 0] == 8  # held past its end


# ------------------------------------------------------------ §2 session forms
def test_s2_form_a_and_form_b_load_the_same(tmp_path):
    mouth = [{"t_ms": 0, "mouth_id": 1}]
    a = load_session(make_session(tmp_path / "a", form="A", mouth=mouth, wav_ms=400))
    b = load_session(make_session(tmp_path / "b", form="B", mouth=mouth, wav_ms=400))
    assert (a.form, b.form) == ("A", "B")
    assert a.audio_ms == b.audio_ms == 400 and a.target_frames == b.target_frames
    assert a.audio_path.name == b.audio_path.name == "audio.wav"


def test_s2_form_b_audio_key_spellings(tmp_path):
    p = make_session(tmp_path, form="B", wav_ms=400)
    doc = __import__("json").loads(p.read_text())
    doc["audio"] = doc.pop("audio_path")
    write_json(p, doc)
    assert load_session(p).audio_path.name == "audio.wav"


def test_s2_audio_ms_and_session_audio_ms_disagree(tmp_path):
    p = make_session(tmp_path, audio_ms=400, extra={"session_audio_ms": 480})
    with pytest.raises(ContractError, match="disagree"):
        load_session(p)
    p = make_session(tmp_path / "same", audio_ms=400, extra={"session_audio_ms": 400})
    assert load_session(p).audio_ms == 400


def test_s2_form_a_audio_from_mouth_timeline_resolved_against_its_folder(tmp_path):
    write_wav(tmp_path / "tl" / "voice.wav", 520)
    write_json(tmp_path / "tl" / "mouth.json", {"audio": "voice.wav", "step_ms": 40, "frames": []})
    p = make_session(tmp_path, audio_ms=None)
    doc = __import__("json").loads(p.read_text())
    doc["inputs"]["mouth_timeline"] = "tl/mouth.json"
    write_json(p, doc)
    s = load_session(p)
    assert s.audio_path == (tmp_path / "tl" / "voice.wav").resolve() and s.audio_ms == 520


def test_s2_missing_optional_timelines_and_atlas_defaults(tmp_path):
    write_json(tmp_path / "pose.json", [{"t_ms": 0}])
    write_json(tmp_path / "s.json", {"schema_version": "session_runtime_v0.1", "session_id": "x",
                                     "pose_timeline": "pose.json", "session_audio_ms": 200})
    p = open_project(tmp_path / "s.json")
    assert p.session.mouth is None and p.session.expression is None
    assert p.session.atlas_path == BUNDLED_ATLAS
    assert (p.plan.mouth == 0).all()                       # missing mouth: closed throughout
    assert {p.plan.labels[e] for e in p.plan.expression} == {"normal"}


def test_s2_missing_wav_with_audio_ms_is_a_warning(tmp_path):
    p = make_session(tmp_path, audio_ms=400)
    doc = __import__("json").loads(p.read_text())
    doc["inputs"]["audio"] = "nowhere.wav"
    write_json(p, doc)
    s = load_session(p)
    assert s.audio_path is None and s.target_frames == 10
    assert any("audio missing" in w for w in s.warnings)


def test_s2_unknown_keys_are_kept_and_ignored(tmp_path):
    p = make_session(tmp_path, extra={"future_key": {"x": 1}, "utt_id": "u1"})
    s = load_session(p)
    assert s.doc["future_key"] == {"x": 1}


def test_s2_unknown_schema_version_lists_supported(tmp_path):
    p = make_session(tmp_path, extra={"schema_version": "runtime_session_v9"})
    with pytest.raises(ContractError) as e:
        load_session(p)
    assert "runtime_session_v0.1" in str(e.value) and "session_runtime_v0.1" in str(e.value)


@pytest.mark.parametrize("drop", ["session_id", "pose_timeline"])
def test_s2_required_keys(tmp_path, drop):
    p = make_session(tmp_path, form="B")
    doc = __import__("json").loads(p.read_text())
    del doc[drop]
    write_json(p, doc)
    with pytest.raises(ContractError, match=f"required key '{drop}'"):
        load_session(p)


def test_s2_relative_paths_try_session_folder_then_ancestors(tmp_path):
    # repo-relative paths: the session lives two folders down, paths are written from the top.
    make_atlas(tmp_path / "assets")
    write_json(tmp_path / "timelines" / "pose.json", [{"t_ms": 0}])
    sess = write_json(tmp_path / "sessions" / "deep" / "s.json", {
        "schema_version": "session_runtime_v0.1", "session_id": "x", "session_audio_ms": 200,
        "pose_timeline": "timelines/pose.json", "atlas_json": "assets/atlas.min.json"})
    s = load_session(sess)
    assert s.pose.path == (tmp_path / "timelines" / "pose.json").resolve()
    assert s.atlas_path == (tmp_path / "assets" / "atlas.min.json").resolve()


def test_s2_session_folder_wins_over_ancestor(tmp_path):
    write_json(tmp_path / "pose.json", [{"t_ms": 0, "yaw_deg": 1}])
    write_json(tmp_path / "s" / "pose.json", [{"t_ms": 0, "yaw_deg": 2}])
    sess = write_json(tmp_path / "s" / "s.json", {"schema_version": "session_runtime_v0.1", "session_id": "x",
                                                 "session_audio_ms": 40, "pose_timeline": "pose.json"})
    assert load_session(sess).pose.values[0, 0] == 2


def test_s2_unresolvable_path_names_key_and_every_place_tried(tmp_path):
    sess = write_json(tmp_path / "a" / "s.json", {"schema_version": "session_runtime_v0.1", "session_id": "x",
                                                 "session_audio_ms": 40, "pose_timeline": "tl/pose.json"})
    with pytest.raises(ContractError) as e:
        load_session(sess)
    msg = str(e.value)
    assert "pose_timeline" in msg and "tl/pose.json" in msg
    assert str(tmp_path / "a" / "tl" / "pose.json") in msg or "a/tl/pose.json" in msg
    assert msg.count("tl/pose.json") >= 3  # session folder and its ancestors


def test_s2_root_flag_is_the_only_base(tmp_path):
    write_json(tmp_path / "s" / "pose.json", [{"t_ms": 0}])
    write_json(tmp_path / "r" / "pose.json", [{"t_ms": 0, "yaw_deg": 5}])
    sess = write_json(tmp_path / "s" / "s.json", {"schema_version": "session_runtime_v0.1", "session_id": "x",
                                                 "session_audio_ms": 40, "pose_timeline": "pose.json"})
    s = load_session(sess, Overrides(root=tmp_path / "r"))
    assert s.pose.values[0, 0] == 5
    with pytest.raises(ContractError, match="not found"):
        load_session(sess, Overrides(root=tmp_path / "empty"))


def test_s2_absolute_paths_are_used_as_is(tmp_path):
    pose = write_json(tmp_path / "elsewhere" / "p.json", [{"t_ms": 0, "yaw_deg": 3}])
    sess = write_json(tmp_path / "s" / "s.json", {"schema_version": "session_runtime_v0.1", "session_id": "x",
                                                 "session_audio_ms": 40, "pose_timeline": str(pose)})
    assert load_session(sess).pose.values[0, 0] == 3


def test_s2_flags_override_session_keys(tmp_path):
    other = make_atlas(tmp_path / "other", views=("front",))
    p = make_session(tmp_path, extra={"render": {"canvas_w": 320, "canvas_h": 240}})
    proj = open_project(p, Overrides(atlas=other, canvas=(200, 100)))
    assert proj.atlas.path == other and list(proj.atlas.views) == ["front"]
    assert (proj.session.render.canvas_w, proj.session.render.canvas_h) == (200, 100)
    assert proj.render_frame(0).shape == (100, 200, 4)
    proj2 = open_project(p)
    assert proj2.render_frame(0).shape == (240, 320, 4)


def test_s2_assets_dir_key_and_flag(tmp_path):
    import shutil
    atlas = make_atlas(tmp_path / "atlas_only", views=("front",), expressions=())
    shutil.move(str(tmp_path / "atlas_only" / "front"), str(tmp_path / "sprites" / "front"))
    p = make_session(tmp_path / "s", atlas=atlas)
    with pytest.raises(ContractError, match="none of the 6 sprites"):
        open_project(p)  # sprite paths are relative to the atlas folder by default
    assert open_project(p, Overrides(assets_dir=tmp_path / "sprites")).atlas.assets_dir == tmp_path / "sprites"
    doc = __import__("json").loads(p.read_text())
    doc["assets_dir"] = "../sprites"
    write_json(p, doc)
    assert open_project(p).atlas.assets_dir == (tmp_path / "sprites").resolve()


@pytest.mark.parametrize("key,value,said", [("lang", "xx", "'xx' is neither"), ("text", 123, "not a string")])
def test_s13_a_session_text_or_lang_that_cannot_be_used_is_a_warning(tmp_path, key, value, said):
    s = load_session(make_session(tmp_path, extra={key: value}))
    assert getattr(s, key) is None
    assert any(f"{key}: " in w and said in w for w in s.warnings), s.warnings
