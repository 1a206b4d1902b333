"""SPEC §8 FG export: the sequence, atomic swap, no stale frames, run report, frames.csv, exit codes."""
import csv
import json
import threading

import cv2
import numpy as np
import pytest
from helpers import make_atlas, make_session, run_cli

from studio.export import workers as export_mod
from studio.export.fg import ExportCancelled, ExportOptions, export_fg, fg_dir
from contracts.errors import OutputError
from contracts.jsonfile import validate
from studio.plan import open_project

POSE = [{"t_ms": t, "yaw_deg": -15 + t / 40, "pitch_deg": 3, "roll_deg": t / 200, "tx": t / 50, "scale": 1.02}
        for t in range(0, 1200, 40)]


@pytest.fixture()
def session(tmp_path):
    atlas = make_atlas(tmp_path / "at")
    return make_session(tmp_path / "s", atlas=atlas, audio_ms=1010, pose=POSE, wav_ms=1010,
                        mouth={"step_ms": 40, "frames": [{"t_ms": 0, "mouth_id": 1}, {"t_ms": 200, "mouth_id": 3}]},
                        expression=[{"t_ms": 0, "expression": "smile"}, {"t_ms": 400, "dur_ms": 120, "expression": "blink"}])


def frames_in(out):
    return sorted(p.name for p in fg_dir(out).iterdir())


def test_s8_exact_count_names_and_bgra_values(session, tmp_path):
    p = open_project(session)
    res = export_fg(p, ExportOptions(out_dir=tmp_path / "out", workers=2))
    assert res.exit_code == 0 and res.report["passed"]
    names = frames_in(tmp_path / "out")
    assert names == [f"{i:08d}.png" for i in range(26)]  # ceil(1010 / 40)
    for i in (0, 7, 25):
        img = cv2.imread(str(fg_dir(tmp_path / "out") / names[i]), cv2.IMREAD_UNCHANGED)
        assert img.shape == (720, 720, 4)
        assert np.array_equal(img, p.render_frame(i))  # preview frame i == exported frame i


def test_s8_run_report_fields_and_schema(session, tmp_path):
    out = tmp_path / "out"
    export_fg(open_project(session), ExportOptions(out_dir=out))
    r = json.loads((out / "run_report.json").read_text())
    validate(r, "run_report", out / "run_report.json", "run report")
    for key in ("session_id", "audio_ms", "wav_ms", "step_ms", "fps", "target_frames", "rendered_frames",
                "fallback_frames", "fallback_reasons", "first_fallback_frames", "timelines", "clamped_frames",
                "views", "warnings", "audio_mux_succeeded", "sync", "elapsed_s", "passed"):
        assert key in r, key
    assert r["schema_version"] == "run_report_v0.1"
    assert (r["audio_ms"], r["wav_ms"], r["step_ms"], r["fps"], r["target_frames"]) == (1010, 1010, 40, 25, 26)
    assert r["rendered_frames"] == 26 and r["audio_mux_succeeded"] is None
    assert sum(r["views"].values()) == 26 and set(r["views"]) <= {"left30", "left15", "front", "right15", "right30"}
    assert r["timelines"]["mouth"] == {"end_ms": 200, "drift_ms": -810, "held_frames": 20}
    assert r["timelines"]["pose"]["held_frames"] == 0


def test_s8_frames_csv_is_the_qa_trail_and_fg_index(session, tmp_path):
    out = tmp_path / "out"
    export_fg(open_project(session), ExportOptions(out_dir=out))
    rows = list(csv.DictReader(open(out / "frames.csv")))
    assert list(rows[0]) == ["frame", "t_ms", "view", "expression", "mouth", "sprite", "fallback", "yaw_deg",
                             "pitch_deg", "roll_deg", "scale", "tx", "ty", "path"]
    assert len(rows) == 26 and rows[5]["t_ms"] == "200" and rows[5]["mouth"] == "u"
    assert rows[10]["expression"] == "blink" and rows[10]["sprite"].startswith("blink_")
    assert rows[0]["path"] == str((fg_dir(out) / "00000000.png").resolve())
    assert all(__import__("os").path.exists(r["path"]) for r in rows)


def test_s8_shorter_export_leaves_no_stale_frames(session, tmp_path):
    out = tmp_path / "out"
    export_fg(open_project(session), ExportOptions(out_dir=out))
    doc = json.loads(session.read_text())
    doc["audio_ms"] = 400
    session.write_text(json.dumps(doc))
    export_fg(open_project(session), ExportOptions(out_dir=out))
    assert frames_in(out) == [f"{i:08d}.png" for i in range(10)]
    assert [p.name for p in (out / "in").iterdir()] == ["fg"]  # no staging or old folders left


def test_s8_failed_export_leaves_previous_sequence_intact(session, tmp_path, monkeypatch):
    out = tmp_path / "out"
    export_fg(open_project(session), ExportOptions(out_dir=out))
    before = {n: (fg_dir(out) / n).read_bytes() for n in frames_in(out)}
    report_before = (out / "run_report.json").read_text()
    real = export_mod.render_row
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        if len(calls) == 17:
            raise OSError("disk full")
        return real(*args, **kwargs)
    monkeypatch.setattr(export_mod, "render_row", broken)
    with pytest.raises(OutputError, match="disk full"):  # an OS error while writing: exit 4, path named
        export_fg(open_project(session), ExportOptions(out_dir=out, incremental=False))
    assert {n: (fg_dir(out) / n).read_bytes() for n in frames_in(out)} == before
    assert (out / "run_report.json").read_text() == report_before
    assert [p.name for p in (out / "in").iterdir()] == ["fg"]


def test_s8_cancelled_export_leaves_previous_sequence_intact(session, tmp_path):
    out = tmp_path / "out"
    export_fg(open_project(session), ExportOptions(out_dir=out))
    before = frames_in(out)
    cancel = threading.Event()

    def progress(done, total):
        if done >= 8:
            cancel.set()
    with pytest.raises(ExportCancelled):
        export_fg(open_project(session), ExportOptions(out_dir=out, workers=1, incremental=False), progress, cancel)
    assert frames_in(out) == before and [p.name for p in (out / "in").iterdir()] == ["fg"]


def test_s12_cancelled_first_export_leaves_no_empty_sequence_folder(session, tmp_path):
    """Nothing was there before, so nothing but the (hidden) lock is there after: no empty in/."""
    out = tmp_path / "out"
    cancel = threading.Event()

    def progress(done, total):
        if done >= 8:
            cancel.set()
    with pytest.raises(ExportCancelled):
        export_fg(open_project(session), ExportOptions(out_dir=out, workers=1), progress, cancel)
    assert [p.name for p in out.iterdir()] == [".export.lock"]


def test_s8_fallback_frames_fail_acceptance_exit_3_and_allow_fallback(tmp_path):
    atlas = make_atlas(tmp_path / "at", expressions=())
    s = make_session(tmp_path / "s", atlas=atlas, audio_ms=200,
                     expression=[{"t_ms": 80, "dur_ms": 40, "expression": "blink"}])
    r = export_fg(open_project(s), ExportOptions(out_dir=tmp_path / "o1"))
    assert r.exit_code == 3 and not r.report["passed"]
    assert r.report["fallback_frames"] == 1 and r.report["fallback_reasons"] == {"expression_missing": 1}
    assert r.report["first_fallback_frames"] == [{"frame": 2, "reasons": ["expression_missing"]}]
    assert len(frames_in(tmp_path / "o1")) == 5  # rendered all the same
    r2 = export_fg(open_project(s), ExportOptions(out_dir=tmp_path / "o2", allow_fallback=True))
    assert r2.exit_code == 0 and not r2.report["passed"]


def test_s8_clamped_frames_counted_in_report(tmp_path):
    s = make_session(tmp_path, audio_ms=120, pose=[{"t_ms": 0, "ty": -900}, {"t_ms": 40, "ty": 0}])
    r = export_fg(open_project(s), ExportOptions(out_dir=tmp_path / "o"))
    assert r.report["clamped_frames"] == 1


def test_s8_debug_mp4_with_audio(session, tmp_path):
    r = export_fg(open_project(session), ExportOptions(out_dir=tmp_path / "o", mp4=True))
    assert r.report["audio_mux_succeeded"] is True and (tmp_path / "o" / "debug.mp4").stat().st_size > 1000
    assert r.exit_code == 0


def test_s8_debug_mp4_without_audio_fails_acceptance(tmp_path):
    s = make_session(tmp_path, audio_ms=200)
    r = export_fg(open_project(s), ExportOptions(out_dir=tmp_path / "o", mp4=True))
    assert r.report["audio_mux_succeeded"] is False and r.exit_code == 3 and not r.report["passed"]


def test_s8_cli_export_writes_sequence_and_report(session, tmp_path):
    res = run_cli("export", session, "--out", tmp_path / "cli")
    assert res.returncode == 0, res.stderr
    assert "passed: 26/26 frames" in res.stdout
    assert len(frames_in(tmp_path / "cli")) == 26 and (tmp_path / "cli" / "run_report.json").exists()


def _sequence(out):
    return {p.name: p.read_bytes() for p in sorted(fg_dir(out).iterdir())}


def test_incremental_export_renders_only_changed_frames_and_equals_full(session, tmp_path):
    out = tmp_path / "out"
    first = export_fg(open_project(session), ExportOptions(out_dir=out))
    assert first.report["reused_frames"] == 0
    again = export_fg(open_project(session), ExportOptions(out_dir=out))
    assert again.report["reused_frames"] == 26 and again.report["rendered_frames"] == 26
    # edit one mouth event (frames 5..9 change), re-export incrementally, compare with a full export
    doc = json.loads((session.parent / "mouth.json").read_text())
    doc["frames"].insert(2, {"t_ms": 240, "dur_ms": 80, "mouth_id": 5})
    (session.parent / "mouth.json").write_text(json.dumps(doc))
    inc = export_fg(open_project(session), ExportOptions(out_dir=out))
    assert inc.report["reused_frames"] == 24  # frames 6 and 7 re-rendered
    full = export_fg(open_project(session), ExportOptions(out_dir=tmp_path / "full", incremental=False))
    assert full.report["reused_frames"] == 0
    assert _sequence(out) == _sequence(tmp_path / "full")


def test_sprite_file_change_invalidates_its_frames(session, tmp_path):
    out = tmp_path / "out"
    export_fg(open_project(session), ExportOptions(out_dir=out))
    sprite = session.parent.parent / "at" / "blink_front" / "mouth_close.png"  # frames 10..12
    import os
    os.utime(sprite, ns=(sprite.stat().st_atime_ns, sprite.stat().st_mtime_ns + 10**9))
    r = export_fg(open_project(session), ExportOptions(out_dir=out))
    assert 26 - r.report["reused_frames"] == 3


def test_worker_processes_give_the_same_frames_as_in_process(tmp_path):
    from studio.export.workers import MIN_FRAMES_FOR_PROCESSES
    atlas = make_atlas(tmp_path / "at")
    n = MIN_FRAMES_FOR_PROCESSES + 10
    pose = [{"t_ms": t, "yaw_deg": ((t // 40) % 50) - 25, "roll_deg": (t % 700) / 100, "tx": (t % 333) / 7,
             "scale": 1 + (t % 500) / 2000} for t in range(0, n * 40, 40)]
    s = make_session(tmp_path / "s", atlas=atlas, audio_ms=n * 40, pose=pose)
    p = open_project(s)
    pooled = export_fg(p, ExportOptions(out_dir=tmp_path / "pool", workers=2, incremental=False))
    single = export_fg(p, ExportOptions(out_dir=tmp_path / "one", workers=1, incremental=False))
    assert pooled.report["rendered_frames"] == single.report["rendered_frames"] == n
    assert _sequence(tmp_path / "pool") == _sequence(tmp_path / "one")
    img = cv2.imread(str(fg_dir(tmp_path / "pool") / "00000123.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(img, p.render_frame(123))


@pytest.mark.parametrize("encoder", ["fpng", "opencv"])
def test_encoders_write_4_channel_pngs_with_exact_values(encoder):
    from studio.export.png import encode_png
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    back = cv2.imdecode(np.frombuffer(encode_png(img, encoder), np.uint8), cv2.IMREAD_UNCHANGED)
    assert back.shape == (37, 53, 4) and np.array_equal(back, img)


def test_frames_with_identical_inputs_are_rendered_once(tmp_path):
    s = make_session(tmp_path / "s", audio_ms=400, pose=[{"t_ms": 0, "tx": 0.5}, {"t_ms": 80, "tx": 3.5}])
    out = tmp_path / "out"
    r = export_fg(open_project(s), ExportOptions(out_dir=out, incremental=False))
    assert r.report["rendered_frames"] == 10
    inodes = [(fg_dir(out) / f"{i:08d}.png").stat().st_ino for i in range(10)]
    assert len(set(inodes[2:])) == 1 and inodes[0] != inodes[1] != inodes[2]  # held pose: one render, links
    p = open_project(s)
    for i in (0, 5, 9):
        assert np.array_equal(cv2.imread(str(fg_dir(out) / f"{i:08d}.png"), cv2.IMREAD_UNCHANGED), p.render_frame(i))
