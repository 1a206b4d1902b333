"""SPEC §14 `batch`: many sessions, one task each, on the test cluster and on local worker processes —
per-session lines, the summary table, DEST/batch_report.json, the worst exit status, and an
incremental rerun that renders nothing that did not change."""
import json
import shutil

import pytest
from farm_fixtures import small_session, snapshot
from helpers import make_atlas, write_json

ROW_KEYS = {"input", "exit", "frames", "rendered", "reused", "passed", "sync", "seconds", "error"}


@pytest.fixture()
def sessions(tmp_path):
    """good (passes), fallback (a sprite missing: fallback frames), invalid (unsorted pose), twin (good's id)."""
    atlas = make_atlas(tmp_path / "atlas")
    holes = make_atlas(tmp_path / "holes", skip=("left30/mouth_a.png", "smile_left30/mouth_a.png",
                                                 "blink_left30/mouth_a.png"))
    s = {"good": small_session(tmp_path / "good", 120, "good", atlas=atlas),
         "fallback": small_session(tmp_path / "fallback", 120, "fallback", atlas=holes),
         "invalid": small_session(tmp_path / "invalid", 30, "invalid", atlas=atlas)}
    pose = json.loads((tmp_path / "invalid" / "pose.json").read_text())
    pose[3]["t_ms"], pose[4]["t_ms"] = pose[4]["t_ms"], pose[3]["t_ms"]
    write_json(tmp_path / "invalid" / "pose.json", pose)
    shutil.copytree(tmp_path / "good", tmp_path / "twin")
    s["twin"] = tmp_path / "twin" / "session.json"
    return s


def test_s14_batch_on_the_cluster_reports_every_session_and_the_worst_exit(farm, sessions, tmp_path):
    dest = tmp_path / "dest"
    lst = tmp_path / "sessions.txt"
    lst.write_text("# today's batch\n" + "\n".join(str(sessions[k]) for k in ("good", "invalid", "fallback", "twin")))
    res = farm.cli("batch", "--list", lst, "--out-root", dest, "--scheduler", farm.address)
    assert res.returncode == 2, res.stderr          # invalid input outranks fallback frames (2 > 3)
    lines = res.stdout.splitlines()
    assert any(ln.startswith("passed") and "good: 120 frames (120 rendered, 0 reused)" in ln for ln in lines)
    assert any(ln.startswith("FAILED") and "fallback:" in ln for ln in lines)
    assert any(ln.startswith("exit 2") and "pose.json" in ln and "sorted" in ln for ln in lines)
    assert any(ln.startswith("exit 2") and "also the session_id of" in ln for ln in lines)
    assert lines[-1].startswith("1/4 sessions passed") and lines[-1].endswith("exit 2")
    assert any(ln.split()[:3] == ["session", "exit", "frames"] for ln in lines)       # the summary table
    report = json.loads((dest / "batch_report.json").read_text())
    rows = {r["session_id"] or r["input"]: r for r in report["rows"]}
    assert report["exit"] == 2 and report["sessions"] == 4 and report["passed"] == 1
    assert all(ROW_KEYS <= set(r) for r in report["rows"])
    good = json.loads((dest / "good" / "run_report.json").read_text())
    assert rows["good"]["exit"] == 0 and rows["good"]["passed"] and rows["good"]["sync"] == good["sync"]["verdict"]
    assert rows["fallback"]["exit"] == 3 and rows["fallback"]["frames"] == 120 and not rows["fallback"]["passed"]
    assert rows["invalid"]["exit"] == 2 and "pose.json" in rows["invalid"]["error"]
    twin = next(r for r in report["rows"] if r["input"] == str(sessions["twin"]))
    assert twin["exit"] == 2 and "good" in twin["error"]
    assert sorted(p.name for p in dest.iterdir()) == ["batch_report.json", "fallback", "good"]   # each its own folder
    assert len(snapshot(dest / "good" / "in" / "fg")) == 120
    assert good["passed"] and good["session_id"] == "good"
    # again, with --allow-fallback: nothing changed, so nothing is rendered; only fallback frames: exit 0
    res = farm.cli("batch", sessions["good"], sessions["fallback"], "--out-root", dest, "--scheduler", farm.address,
                   "--allow-fallback")
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads((dest / "batch_report.json").read_text())
    assert [(r["rendered"], r["reused"]) for r in report["rows"]] == [(0, 120), (0, 120)]


def test_s14_batch_on_local_workers_json(farm, sessions, tmp_path):
    dest = tmp_path / "dest"
    res = farm.cli("batch", sessions["good"], sessions["fallback"], "--out-root", dest, "--local", "2", "--json")
    assert res.returncode == 3, res.stderr          # rendered, but fallback frames fail the acceptance rule
    assert res.stderr == ""                         # no Dask chatter from the local cluster
    report = json.loads(res.stdout)
    assert report == json.loads((dest / "batch_report.json").read_text())
    assert report["ran_on"] == "2 local worker processes"
    assert [(r["session_id"], r["exit"], r["rendered"]) for r in report["rows"]] == [("good", 0, 120),
                                                                                    ("fallback", 3, 120)]
    assert len(snapshot(dest / "fallback" / "in" / "fg")) == 120


def test_s14_batch_cluster_problem_is_exit_5_before_anything_is_written(farm, sessions, tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = farm.cli("batch", sessions["good"], "--out-root", tmp_path / "dest", "--scheduler", f"tcp://127.0.0.1:{port}")
    assert res.returncode == 5 and "refused" in res.stderr
    assert not (tmp_path / "dest").exists()
