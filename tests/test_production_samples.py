"""The production files in shared/reference/production_samples open unchanged (SPEC §2–6).
The suite reads its copy in tests/data/production_samples; the first test keeps the two equal."""
import json
import shutil
from pathlib import Path

import pytest
from helpers import SAMPLES, SHARED_SAMPLES, run_cli, write_wav

from contracts.errors import ContractError
from studio.plan import open_project
from contracts.session import Overrides, load_session


@pytest.mark.skipif(not SHARED_SAMPLES.exists(), reason="shared/ is not beside the checkout: nothing to compare")
def test_the_suites_copy_of_the_samples_is_the_original():
    names = sorted(p.name for p in SHARED_SAMPLES.iterdir() if p.is_file())
    assert names == sorted(p.name for p in SAMPLES.iterdir() if p.is_file())
    for name in names:
        assert (SAMPLES / name).read_bytes() == (SHARED_SAMPLES / name).read_bytes(), name


def lay_out(root: Path) -> Path:
    """The layout the form B session's repo-relative paths expect, with a synthesised WAV."""
    (root / "timelines").mkdir(parents=True)
    shutil.copy(SAMPLES / "mouth_timeline_test1.json", root / "timelines")
    shutil.copy(SAMPLES / "sess_real_01.expression_timeline.json", root / "timelines")
    shutil.copy(SAMPLES / "pose_timeline_m0_wrapper_scroll6.json",
                root / "timelines" / "pose_timeline_m0_wrapper_leaning3.json")
    write_wav(root / "audio" / "1_0_72.wav", 36040)
    (root / "sessions").mkdir()
    shutil.copy(SAMPLES / "sess_real_01.session.json", root / "sessions")
    return root / "sessions" / "sess_real_01.session.json"


def test_real_session_paths_that_resolve_nowhere_name_key_and_places(tmp_path):
    shutil.copy(SAMPLES / "sess_real_01.session.json", tmp_path)
    with pytest.raises(ContractError) as e:
        load_session(tmp_path / "sess_real_01.session.json")
    assert "pose_timeline" in str(e.value) and "pose_timeline_m0_wrapper_leaning3.json" in str(e.value)


def test_real_session_opens_with_repo_relative_paths(tmp_path):
    session = lay_out(tmp_path)
    p = open_project(session)
    s = p.session
    assert (s.form, s.session_id, s.audio_ms, s.step_ms, s.target_frames) == ("B", "sess_real_01", 36040, 40, 901)
    assert s.wav_ms == 36040 and s.pose.shape == "frames"
    assert any("scale_mode is 'relative'" in w for w in p.warnings)
    # expression: change-point blinks from production, extra keys (source, emo_id strings) ignored
    labels = [p.plan.labels[i] for i in p.plan.expression]
    assert labels[:4] == ["blink", "blink", "blink", "normal"] and labels[375] == "blink"
    # mouth: dense 40 ms events ending at 33800; everything after is closed
    assert p.plan.mouth[10] == 5 and (p.plan.mouth[846:] == 0).all()
    assert {"left30", "right30", "up15", "down7"} <= {p.plan.row(i)["view"] for i in range(901)}


def test_real_session_with_root_flag(tmp_path):
    session = lay_out(tmp_path / "repo")
    moved = tmp_path / "elsewhere" / "s.json"
    moved.parent.mkdir()
    shutil.copy(session, moved)
    assert load_session(moved, Overrides(root=tmp_path / "repo")).target_frames == 901


def test_real_session_exports_and_validates_via_cli(tmp_path):
    session = lay_out(tmp_path)
    v = run_cli("validate", session, "--json")
    assert v.returncode == 0, v.stderr
    info = json.loads(v.stdout)
    assert info["timelines"]["mouth"] == {"end_ms": 33800, "drift_ms": -2240, "held_frames": 55}
    assert info["timelines"]["pose"]["drift_ms"] == 640 and info["fallback_frames"] == 0
    res = run_cli("export", session, "--out", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    assert len(list((tmp_path / "out" / "in" / "fg").glob("*.png"))) == 901
