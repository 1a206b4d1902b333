"""SPEC §11 command line: bad input of every class gives exit 2, one clear line, nothing written."""
import json

import pytest
from helpers import ROOT, make_atlas, make_session, run_cli, write_json


def break_session(kind, tmp_path):
    s = make_session(tmp_path / "s", audio_ms=400, wav_ms=400, mouth={"step_ms": 40, "frames": [{"t_ms": 0, "mouth_id": 1}]})
    d = tmp_path / "s"
    doc = json.loads(s.read_text())
    if kind == "malformed_json":
        (d / "pose.json").write_text('[{"t_ms": 0,, }]')
        return s, "pose.json", "not valid JSON"
    if kind == "unknown_schema_version":
        doc["schema_version"] = "runtime_session_v2"
        write_json(s, doc)
        return s, "session.json", "supported: runtime_session_v0.1, session_runtime_v0.1"
    if kind == "unsorted":
        write_json(d / "pose.json", [{"t_ms": 40}, {"t_ms": 0}])
        return s, "pose.json", "[1].t_ms"
    if kind == "nan":
        (d / "pose.json").write_text('[{"t_ms": 0, "yaw_deg": NaN}]')
        return s, "pose.json", "[0].yaw_deg"
    if kind == "bad_mouth_id":
        write_json(d / "mouth.json", {"step_ms": 40, "frames": [{"t_ms": 0, "mouth_id": 9}]})
        return s, "mouth.json", "frames[0].mouth_id"
    if kind == "missing_file":
        (d / "mouth.json").unlink()
        return s, "inputs.mouth_timeline", "mouth.json"
    if kind == "missing_fallback_sprite":
        (d / "atlas" / "front" / "mouth_close.png").unlink()
        return s, "atlas.min.json", "fallback sprite"
    if kind == "no_sprites":
        import shutil
        for v in ("front", "left15", "left30", "right15", "right30"):
            shutil.rmtree(d / "atlas" / v)
        return s, "atlas.min.json", "none of the"
    if kind == "step_mismatch":
        write_json(d / "mouth.json", {"step_ms": 33, "frames": [{"t_ms": 0, "mouth_id": 1}]})
        return s, "session.json", "step mismatch"
    if kind == "audio_ms_zero":
        doc["audio_ms"] = 0
        write_json(s, doc)
        return s, "session.json", "audio_ms"
    if kind == "missing_session":
        return d / "nope.json", "nope.json", "does not exist"
    raise AssertionError(kind)


KINDS = ["malformed_json", "unknown_schema_version", "unsorted", "nan", "bad_mouth_id", "missing_file",
         "missing_fallback_sprite", "no_sprites", "step_mismatch", "audio_ms_zero", "missing_session"]


@pytest.mark.parametrize("kind", KINDS)
def test_s11_bad_input_exit_2_one_line_nothing_written(kind, tmp_path):
    session, names, detail = break_session(kind, tmp_path)
    out = tmp_path / "out"
    res = run_cli("export", session, "--out", out)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in res.stderr
    assert names in lines[0] and detail in lines[0], lines[0]
    assert not out.exists()  # nothing written
    v = run_cli("validate", session, "--json")
    assert v.returncode == 2 and json.loads(v.stdout)["valid"] is False


def test_s11_bad_input_keeps_the_previous_export(tmp_path):
    s = make_session(tmp_path / "s", audio_ms=200)
    out = tmp_path / "out"
    assert run_cli("export", s, "--out", out).returncode == 0
    before = sorted(p.name for p in (out / "in" / "fg").iterdir())
    write_json(tmp_path / "s" / "pose.json", [{"t_ms": 40}, {"t_ms": 0}])
    assert run_cli("export", s, "--out", out).returncode == 2
    assert sorted(p.name for p in (out / "in" / "fg").iterdir()) == before


def test_s11_export_default_out_dir(tmp_path):
    s = make_session(tmp_path / "s", audio_ms=120)
    res = run_cli("export", s, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "fg" / "in" / "fg").iterdir()) == \
        ["00000000.png", "00000001.png", "00000002.png"]


def test_s11_run_script_takes_paths_from_where_it_is_called(tmp_path):
    """`./run` passes its arguments to main.py from the caller's folder: `/repo/run validate
    s/session.json` from another folder finds that session, and `export` writes out/fg there."""
    import subprocess
    make_session(tmp_path / "s", audio_ms=120)
    res = subprocess.run(["bash", str(ROOT / "run"), "export", "s/session.json"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert len(list((tmp_path / "out" / "fg" / "in" / "fg").glob("*.png"))) == 3


def test_s11_flags_atlas_assets_dir_canvas(tmp_path):
    atlas = make_atlas(tmp_path / "at")
    s = make_session(tmp_path / "s", audio_ms=80, atlas=atlas)
    res = run_cli("export", s, "--out", tmp_path / "o", "--canvas", "320x200", "--atlas", atlas,
                  "--assets-dir", tmp_path / "at")
    assert res.returncode == 0, res.stderr
    import cv2
    assert cv2.imread(str(tmp_path / "o" / "in" / "fg" / "00000000.png"), cv2.IMREAD_UNCHANGED).shape == (200, 320, 4)
    bad = run_cli("export", s, "--canvas", "wide")
    assert bad.returncode == 2 and "--canvas" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_s11_export_exit_3_on_fallback_frames(tmp_path):
    atlas = make_atlas(tmp_path / "at", expressions=())
    s = make_session(tmp_path / "s", atlas=atlas, audio_ms=80, expression=[{"t_ms": 0, "expression": "sad"}])
    assert run_cli("export", s, "--out", tmp_path / "o").returncode == 3
    assert run_cli("export", s, "--out", tmp_path / "o", "--allow-fallback").returncode == 0


def test_s11_validate_human_and_json(tmp_path):
    s = make_session(tmp_path / "s", audio_ms=400, wav_ms=400, mouth=[{"t_ms": 0, "mouth_id": 1}])
    res = run_cli("validate", s)
    assert res.returncode == 0 and res.stdout.startswith("valid: t (form A) — 10 frames at 40 ms (25 fps)")
    j = json.loads(run_cli("validate", s, "--json").stdout)
    assert j["valid"] and j["target_frames"] == 10 and j["timelines"]["mouth"]["held_frames"] == 9


def test_s11_demo_session_exports_and_passes(tmp_path):
    res = run_cli("export", ROOT / "assets_min" / "demo" / "session.json", "--out", tmp_path / "demo")
    assert res.returncode == 0, res.stderr
    r = json.loads((tmp_path / "demo" / "run_report.json").read_text())
    assert r["passed"] and r["rendered_frames"] == r["target_frames"] > 100
    assert len(r["views"]) >= 5  # the demo's head sway crosses the view thresholds
