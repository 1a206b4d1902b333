"""SPEC §14 export on a Dask cluster, on a real one (`dask scheduler` + two `dask worker` processes on
127.0.0.1, farm_fixtures.py): byte-identical to a local export, a worker killed mid-run, the
coordinator killed, an unreachable scheduler, no workers, a worker of another version, a worker
that cannot see a sprite — each cluster problem exit 5 within 10 s with nothing written."""
import json
import os
import shutil
import signal
import socket
import time
from pathlib import Path

import pytest
from farm_fixtures import (local_export, moving_session, report_core, small_session, snapshot, start_scheduler,
                           start_worker, stop, wait_for_listener, wait_for_workers)
from helpers import ROOT, make_atlas, run_cli


def staging_dirs(out: Path) -> list[Path]:
    inbox = Path(out) / "in"
    return [p for p in inbox.iterdir() if p.name.startswith(".fg.staging-")] if inbox.is_dir() else []


def wait_staging_frames(out: Path, n: int, proc, timeout=60) -> Path:
    """The staging folder once it holds at least n frames (the export is mid-run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for d in staging_dirs(out):
            try:
                if len(os.listdir(d)) >= n:
                    return d
            except FileNotFoundError:
                pass
        assert proc.poll() is None, f"the export ended before it was interrupted: {proc.communicate()}"
        time.sleep(0.02)
    raise AssertionError("the export did not start writing frames")


def assert_same_output(out: Path, ref: Path) -> None:
    assert snapshot(out / "in" / "fg") == snapshot(ref / "in" / "fg")
    assert report_core(out / "run_report.json") == report_core(ref / "run_report.json")
    csv = lambda d: (d / "frames.csv").read_text().replace(str(d), "OUT")  # noqa: E731
    assert csv(out) == csv(ref)


def frozen(farm, names):
    """SIGSTOP the named worker processes (the run freezes mid-way, however fast this machine is)."""
    for n in names:
        farm.workers[n].send_signal(signal.SIGSTOP)


def thawed(farm, names):
    for n in names:
        farm.workers[n].send_signal(signal.SIGCONT)


@pytest.fixture(scope="module")
def long_sessions(tmp_path_factory):
    """Two sessions of 600 distinct frames (A, and B whose every frame differs) and their local exports."""
    d = tmp_path_factory.mktemp("long")
    atlas = make_atlas(d / "atlas")
    sessions = {"a": moving_session(d / "a", atlas, 600), "b": moving_session(d / "b", atlas, 600, shift=1.5)}
    refs = {k: local_export(s, d / f"ref_{k}") for k, s in sessions.items()}
    return sessions, refs


def test_s14_cluster_export_is_byte_identical_to_a_local_export_and_reuses_frames(farm, tmp_path):
    s = small_session(tmp_path / "s", frames=330)
    local, remote = tmp_path / "local", tmp_path / "remote"
    ref = run_cli("export", s, "--out", local, "--workers", "2")
    assert ref.returncode == 0
    res = farm.cli("export", s, "--out", "remote", "--scheduler", farm.address, cwd=tmp_path)   # a relative --out:
    assert res.returncode == 0, res.stderr                                                 # workers run elsewhere
    assert res.stderr == ref.stderr                           # only the project speaks (no Dask logs)
    assert_same_output(remote, local)
    # DASK_SCHEDULER_ADDRESS does the same; an edit re-renders only its frames, on the cluster
    mouth = json.loads((s.parent / "mouth.json").read_text())
    mouth[100]["mouth_id"] = (mouth[100]["mouth_id"] + 1) % 6
    (s.parent / "mouth.json").write_text(json.dumps(mouth))
    res = farm.cli("export", s, "--out", remote, DASK_SCHEDULER_ADDRESS=farm.address)
    assert res.returncode == 0, res.stderr
    report = json.loads((remote / "run_report.json").read_text())
    assert report["reused_frames"] == 329 and report["rendered_frames"] == 330
    assert run_cli("export", s, "--out", local, "--workers", "2").returncode == 0
    assert_same_output(remote, local)


def test_s14_worker_killed_mid_run_is_retried_with_identical_result(farm, long_sessions, tmp_path):
    sessions, refs = long_sessions
    out = tmp_path / "out"
    with farm.client() as client:
        names = {addr: w["name"] for addr, w in client.scheduler_info()["workers"].items()}
        proc = farm.cli("export", sessions["a"], "--out", out, "--scheduler", farm.address, wait=False)
        wait_staging_frames(out, 30, proc)
        frozen(farm, names.values())
        busy = [addr for addr, keys in client.processing().items() if keys]
        assert busy, "no worker was running a task"
    victim = names[busy[0]]
    farm.workers[victim].kill()                               # kill -9 a worker in the middle of its task
    thawed(farm, [n for n in names.values() if n != victim])
    try:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert_same_output(out, refs["a"])
    finally:
        farm.replace_worker(victim)


def test_s14_coordinator_killed_leaves_the_previous_output_and_its_tasks_are_cancelled(farm, long_sessions, tmp_path):
    sessions, refs = long_sessions
    out = tmp_path / "out"
    shutil.copytree(refs["a"], out)
    before = snapshot(out / "in" / "fg")
    report_before = (out / "run_report.json").read_text()
    proc = farm.cli("export", sessions["b"], "--out", out, "--scheduler", farm.address, wait=False)
    staging = wait_staging_frames(out, 30, proc)
    frozen(farm, farm.workers)            # mid-run: most frames still to do
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    thawed(farm, farm.workers)
    with farm.client() as client:
        deadline = time.monotonic() + 5
        while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == 0
        time.sleep(0.3)   # a task that was mid-frame finishes that frame, then stops
        count = len(os.listdir(staging))
        time.sleep(1.0)
        assert len(os.listdir(staging)) == count, "tasks kept writing after their coordinator died"
        assert not any(client.processing().values())
    assert snapshot(out / "in" / "fg") == before and (out / "run_report.json").read_text() == report_before
    res = farm.cli("export", sessions["b"], "--out", out, "--scheduler", farm.address)   # cleans up, then B
    assert res.returncode == 0, res.stderr
    assert not staging_dirs(out)
    assert_same_output(out, refs["b"])


def test_s14_unreachable_scheduler_is_exit_5_within_10_s_and_nothing_written(farm, tmp_path):
    s = small_session(tmp_path / "s", frames=20)
    with socket.socket() as silent:        # accepts connections and never answers: the slow kind of unreachable
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]
        closed.close()                     # nothing listens there: refused at once
        for addr in (f"tcp://127.0.0.1:{dead}", f"tcp://127.0.0.1:{port}"):
            t0 = time.monotonic()
            res = farm.cli("export", s, "--out", tmp_path / "out", "--scheduler", addr)
            took = time.monotonic() - t0
            assert res.returncode == 5, res.stderr
            assert took < 10, took
            assert addr in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def lonely(tmp_path_factory, farm):
    """A second scheduler with no workers, for workers the shared cluster must not get."""
    folder = tmp_path_factory.mktemp("lonely")
    address, sched = start_scheduler(folder, farm.env)
    wait_for_listener(address)
    yield address, folder, farm.env
    stop([sched])


def test_s14_no_workers_is_exit_5_within_10_s(farm, lonely, tmp_path):
    address, _, _ = lonely
    s = small_session(tmp_path / "s", frames=20)
    t0 = time.monotonic()
    res = farm.cli("export", s, "--out", tmp_path / "out", "--scheduler", address)
    assert res.returncode == 5 and "has no workers" in res.stderr and time.monotonic() - t0 < 10
    assert not (tmp_path / "out").exists()


def test_s14_worker_of_another_opencv_version_is_exit_5_naming_it(farm, lonely, tmp_path):
    address, folder, env = lonely
    (folder / "other_opencv.py").write_text("import cv2\ncv2.__version__ = '0.0.0-other'\n")
    worker = start_worker(address, folder, dict(env, PYTHONPATH=f"{ROOT}:{folder}"), "other",
                          extra=["--preload", "other_opencv"])   # a real worker whose OpenCV says another version
    try:
        wait_for_workers(address, 1)
        s = small_session(tmp_path / "s", frames=20)
        t0 = time.monotonic()
        res = farm.cli("export", s, "--out", tmp_path / "out", "--scheduler", address)
        assert res.returncode == 5, res.stderr
        assert time.monotonic() - t0 < 10
        assert "runs another version: opencv 0.0.0-other" in res.stderr and "worker tcp://127.0.0.1:" in res.stderr
        assert not (tmp_path / "out").exists()
    finally:
        stop([worker])
        wait_for_workers(address, 0)


@pytest.mark.skipif(not shutil.which("unshare") or os.geteuid() != 0,
                    reason="hiding a folder from one worker needs a mount namespace (unshare, as root)")
def test_s14_worker_that_cannot_see_a_sprite_is_exit_5_naming_worker_and_path(farm, lonely, tmp_path):
    address, folder, env = lonely
    s = small_session(tmp_path / "s", frames=20)
    hidden = tmp_path / "s" / "atlas" / "left30"        # the worker sees an empty folder mounted over it
    wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount -t tmpfs none "$0" && exec "$@"',
            str(hidden)]
    worker = start_worker(address, folder, env, "blind", wrap=wrap)
    try:
        wait_for_workers(address, 1)
        t0 = time.monotonic()
        res = farm.cli("export", s, "--out", tmp_path / "out", "--scheduler", address)
        assert res.returncode == 5, res.stderr
        assert time.monotonic() - t0 < 10
        line = res.stderr.strip()
        assert "worker tcp://127.0.0.1:" in line and f"cannot see {hidden}/" in line and "no such file" in line
        assert not (tmp_path / "out").exists()
        # in a batch the worker opens the session itself: it would draw fallback frames where the
        # coordinator sees sprites, so that session is exit 5 naming the worker and the path, unwritten
        res = farm.cli("batch", s, "--out-root", tmp_path / "dest", "--scheduler", address)
        assert res.returncode == 5, res.stdout + res.stderr
        row = json.loads((tmp_path / "dest" / "batch_report.json").read_text())["rows"][0]
        assert row["exit"] == 5 and "worker tcp://127.0.0.1:" in row["error"] and f"cannot see {hidden}/" in row["error"]
        assert not (tmp_path / "dest" / "small").exists()
    finally:
        stop([worker])
        wait_for_workers(address, 0)


def test_s14_s12_lock_message_names_the_host(tmp_path):
    from studio.export.lock import ExportLock
    s = small_session(tmp_path / "s", frames=5)
    with ExportLock(tmp_path / "out"):
        res = run_cli("export", s, "--out", tmp_path / "out")
    assert res.returncode == 4
    assert f"process {os.getpid()} on host {socket.gethostname()}" in res.stderr
