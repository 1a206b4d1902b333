"""Saving edits (issue 6): original form kept, unknown keys kept, atomic with backup, reload equal,
a killed save leaves the original intact, recovery files."""
import json
import signal
import subprocess
import sys
import time

from helpers import ROOT, make_session

from studio.edit.editor import TimelineEditor
from studio.plan import open_project
from studio.io.recovery import Recovery
from studio.io.saving import dump_like, save_session_as, save_timelines

LEGACY_MOUTH = [{"t_ms": 0, "mouth": "A", "note": "x"}, {"t_ms": 40, "mouth": "close"}]
WRAPPED_POSE = {"meta": {"step_ms": 40, "scale_mode": "relative", "note": "n"},
                "frames": [{"t_ms": 0, "yaw": 1.5, "extra": 7}, {"t_ms": 40, "yaw": 3.0}]}


def editable_session(tmp_path):
    return make_session(tmp_path, audio_ms=400, pose=WRAPPED_POSE, mouth=LEGACY_MOUTH,
                        expression={"schema_version": "session_expression_timeline_v0.1", "timeline": [
                            {"t_ms": 0, "expression": "smile", "source": "emo_map"}]})


def test_save_round_trip_keeps_form_and_unknown_keys(tmp_path):
    s = editable_session(tmp_path)
    p = open_project(s)
    ed = TimelineEditor({"pose": p.session.pose.doc, "mouth": p.session.mouth.doc,
                         "expression": p.session.expression.doc}, 40)
    ed.set_mouth([1], 5)
    ed.set_pose(0, {"yaw_deg": -4.0})
    save_timelines(ed.docs, {"pose": p.session.pose.path, "mouth": p.session.mouth.path,
                             "expression": p.session.expression.path}, s)
    mouth = json.loads((tmp_path / "mouth.json").read_text())
    assert mouth == [{"t_ms": 0, "mouth": "A", "note": "x"}, {"t_ms": 40, "mouth": "o"}]  # labels stay labels
    pose = json.loads((tmp_path / "pose.json").read_text())
    assert pose["meta"] == WRAPPED_POSE["meta"] and pose["frames"][0] == {"t_ms": 0, "yaw": -4.0, "extra": 7}
    assert json.loads((tmp_path / "mouth.json.bak").read_text()) == LEGACY_MOUTH   # backup of the previous file
    again = open_project(s)   # reloading shows exactly what was edited
    assert list(again.plan.mouth[:2]) == [1, 5] and again.plan.raw_pose[0, 0] == -4.0


def test_dump_like_follows_original_formatting():
    assert dump_like({"a": [1]}, '{"a":[1]}') == b'{"a":[1]}'
    assert dump_like({"a": [1]}, '{\n    "a": [1]\n}\n') == b'{\n    "a": [\n        1\n    ]\n}\n'


def test_save_as_writes_beside_the_new_session_with_paths_kept_working(tmp_path):
    s = make_session(tmp_path / "orig", audio_ms=None, wav_ms=400, mouth={"step_ms": 40, "frames": [
        {"t_ms": 0, "mouth_id": 1}]}, extra={"future": {"x": 1}})
    p = open_project(s)
    ed = TimelineEditor({"mouth": p.session.mouth.doc, "pose": p.session.pose.doc}, 40)
    ed.set_mouth([0], 2)
    new = save_session_as(p.session, ed.docs, tmp_path / "copy" / "renamed.json")
    q = open_project(new)
    assert q.session.doc["future"] == {"x": 1}
    assert q.plan.mouth[0] == 2 and q.session.audio_path.resolve() == p.session.audio_path.resolve()
    assert open_project(s).plan.mouth[0] == 1   # the original is untouched


def test_killed_save_leaves_the_original_intact(tmp_path):
    """Kill the process while it writes a large file: the target is the old file or the new one."""
    target = tmp_path / "mouth.json"
    original = json.dumps({"frames": [{"t_ms": 0, "mouth_id": 1}]})
    target.write_text(original)
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
            "from contracts.atomic import write_atomic\n"
            "import os\n"
            "data = 'x' * (300 << 20)\n"
            f"print('go', flush=True)\n"
            f"write_atomic({str(target)!r}, data)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "go"
    time.sleep(0.15)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert target.read_text() == original
    leftovers = [p for p in tmp_path.iterdir() if p.name != "mouth.json"]
    for p in leftovers:   # a temp file may remain; it is never the target
        assert p.name.startswith(".mouth.json.") and p.name.endswith(".tmp")


def test_recovery_round_trip(tmp_path):
    rec = Recovery(tmp_path / "rec")
    s = editable_session(tmp_path / "s")
    docs = {"mouth": [{"t_ms": 0, "mouth_id": 3}]}
    rec.save(s, docs)
    entries = rec.entries()
    assert len(entries) == 1 and entries[0]["docs"] == docs and entries[0]["session"] == str(s.resolve())
    rec.discard(s)
    assert rec.entries() == []
    (tmp_path / "rec" / "junk.json").write_text("{broken")
    assert rec.entries() == []


def test_s15_an_autosave_scheduled_before_a_discard_writes_nothing(tmp_path):
    """Discarded edits never come back (issue 17, defect 7): an autosave on its way when the edits are
    discarded leaves no recovery file behind."""
    rec = Recovery(tmp_path / "rec")
    s = editable_session(tmp_path / "s")
    ticket = rec.ticket()
    rec.discard(s)
    assert rec.save(s, {"mouth": [{"t_ms": 0, "mouth_id": 3}]}, ticket) is None and rec.entries() == []
    long = {"mouth": {"step_ms": 40, "frames": [{"t_ms": t, "mouth_id": 1} for t in range(0, 80000, 40)]},
            "pose": [{"t_ms": 0, "yaw": "\ud800"}]}                  # written piece by piece; a lone surrogate
    rec.save(s, long, rec.ticket())
    assert rec.entries()[0]["docs"] == long


def test_s12_a_save_that_fails_at_its_first_rename_leaves_nothing_behind_and_later_saves_clean_up(tmp_path):
    """A timeline replaced by a folder while the studio had it open: the save fails with nothing
    changed — no temp file, no journal that a later open would 'complete' (applying the other file's
    edit behind the user's back). Temps an older failure left are removed by the next save."""
    import os

    from contracts.journal import journal_path, save_all
    session = tmp_path / "session.json"
    session.write_text("{}")
    mouth, pose = tmp_path / "mouth.json", tmp_path / "pose.json"
    mouth.write_text("old mouth")
    pose.mkdir()
    stale = tmp_path / ".mouth.json.deadbeef.save.tmp"
    stale.write_text("left by a failure long ago")
    try:
        save_all(session, [(mouth, b"new mouth", 0o644), (pose, b"new pose", 0o644)])
        raise AssertionError("the save should have failed")
    except OSError as exc:
        assert "directory" in str(exc)
    assert mouth.read_text() == "old mouth" and pose.is_dir()
    assert not journal_path(session).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mouth.json", "pose.json", "session.json"]
    os.rmdir(pose)
    stale.write_text("left by a failure long ago")
    save_all(session, [(mouth, b"new mouth", 0o644), (pose, b"new pose", 0o644)])
    assert mouth.read_text() == "new mouth" and pose.read_text() == "new pose"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mouth.json", "pose.json", "session.json"]
