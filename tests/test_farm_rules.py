"""SPEC §14 rules that need no cluster: the batch's worst exit status, session ids as folder names,
store URLs, the worker version comparison, the task size, the batch's progress bar on a terminal."""
import json
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("codes, worst", [([0, 0], 0), ([0, 3], 3), ([3, 2, 0], 2), ([2, 1, 3], 1), ([4, 1, 2], 4),
                                          ([5, 4, 3, 2, 0], 5), ([0, 130, 5], 130), ([], 0)])
def test_s14_batch_exit_is_the_worst_of_its_sessions(codes, worst):
    from studio.batch import worst as worst_of
    assert worst_of(codes) == worst


@pytest.mark.parametrize("sid, ok", [("sess_001", True), ("utt 12 (retake)", True), ("猫_01", True), ("a/b", False),
                                     ("..", False), (".", False), ("", False), ("  ", False), (None, False), (7, False),
                                     ("x\\y", False), ("bell\x07", False), ("x" * 201, False)])
def test_s14_batch_session_id_must_name_one_folder(sid, ok):
    from studio.batch import folder_name_problem
    assert (folder_name_problem(sid) is None) == ok


def test_s14_batch_plan_flags_unreadable_bad_ids_and_twins(tmp_path):
    from studio.batch import plan_items
    good = tmp_path / "a.json"
    good.write_text(json.dumps({"session_id": "s1"}))
    twin = tmp_path / "b.json"
    twin.write_text(json.dumps({"session_id": "s1"}))
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps({"session_id": "../escape"}))
    items = plan_items([str(good), str(twin), str(bad), str(tmp_path / "missing.json")], str(tmp_path / "dest"))
    assert items[0].error is None and items[0].out == str(tmp_path / "dest" / "s1")
    assert "also the session_id of" in items[1].error
    assert "cannot name one folder" in items[2].error
    assert "does not exist" in items[3].error
    url_items = plan_items([str(good)], "s3://bucket/farm/")
    assert url_items[0].out == "s3://bucket/farm/s1"


def test_s14_store_urls_and_folders_are_told_apart():
    from studio.export.store import is_url
    assert is_url("s3://bucket/prefix") and is_url("memory://x") and is_url("gcs://b/p")
    assert not is_url("out/fg") and not is_url(Path("s3:/bucket")) and not is_url("file:///tmp/x") and not is_url("")


def test_s14_worker_identity_differences_name_the_library():
    from studio.export.identity import differences, identity
    ours = identity()
    assert set(ours) == {"project", "renderer", "render kernel", "opencv", "numpy", "png encoder"}
    assert differences(dict(ours)) == []
    theirs = dict(ours, opencv="4.0.0")
    assert differences(theirs) == [f"opencv 4.0.0 (this machine: {ours['opencv']})"]


def test_s14_png_encoder_identity_follows_the_encoder_in_use(monkeypatch):
    from studio.export import png
    assert png.encoder_identity().startswith(png.ENCODER)
    monkeypatch.setattr(png, "ENCODER", "fpng")
    assert png.encoder_identity().startswith("fpng ")
    monkeypatch.setattr(png, "ENCODER", "opencv")
    import cv2
    assert png.encoder_identity() == f"opencv {cv2.__version__}"


def test_s14_tasks_hold_100_to_500_frames():
    from studio.export.cluster import task_size
    assert task_size(177, 2) == 100 and task_size(90_000, 2) == 500 and task_size(4_000, 2) == 500
    assert task_size(2_400, 4) == 150


def test_s14_batch_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    from studio.batch_cli import ProgressBar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    bar = ProgressBar(2)
    bar.step()
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    bar = ProgressBar(2)
    bar.step()
    bar.step()
    err = capsys.readouterr().err
    assert "\r[###############...............] 1/2 sessions" in err and "] 2/2 sessions" in err
