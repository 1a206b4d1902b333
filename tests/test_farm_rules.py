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


ALLOC_PROBE = r"""
import ctypes, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
if sys.argv[2] == "fix":
    from studio.export.cluster_worker import keep_freed_frames
    keep_freed_frames()
before = libc.mallinfo2().hblks                # buffers mapped on their own (unmapped again when freed)
frame = np.empty((720, 720, 4), np.float32)    # one frame-sized buffer, 8 MB
print(libc.mallinfo2().hblks - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
@pytest.mark.parametrize("fix, mapped", [("none", "1"), ("fix", "0")])
def test_s14_farm_workers_reuse_freed_frame_buffers_under_a_dask_nanny(fix, mapped):
    """§14 scale: a Dask nanny sets MALLOC_TRIM_THRESHOLD_, which turns off glibc's adaptive mmap
    threshold, so every frame buffer was mapped, faulted in and unmapped again (1.5x slower exports);
    the worker-side code puts frame-sized buffers back on the heap."""
    import os
    import subprocess
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536")
    out = subprocess.run([sys.executable, "-c", ALLOC_PROBE, str(root), fix], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == mapped


def test_s14_local_batch_workers_are_not_told_to_trim_memory():
    """§14 scale: the workers `batch --local` starts do not get the nanny's MALLOC_TRIM_THRESHOLD_."""
    import os

    from distributed import Client

    from studio.batch import local_cluster
    cluster = local_cluster(1)
    try:
        with Client(cluster, set_as_default=False) as client:
            seen = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    finally:
        cluster.close(timeout=5)
    assert list(seen.values()) == [None]
