"""Fixtures for the render-farm tests (SPEC §14): a real Dask cluster — `dask scheduler` and two
`dask worker` processes on 127.0.0.1, started once per test session — and moto's S3 server on
127.0.0.1 standing in for an object store. conftest.py loads this module as a plugin.

Every process started here dies with the test run (PR_SET_PDEATHSIG), and talks only to
127.0.0.1: the AWS variables point the store library at moto, and instance-metadata lookups are off.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import ROOT, make_atlas, make_session, write_json

BIN = Path(sys.executable).parent
BUCKET = "farm-tests"
SECRET = "farm-test-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, cwd=str(log.parent),
                            preexec_fn=_die_with_parent)


def stop(procs, kill: bool = False) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill() if kill else p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def farm_env(moto_port: int, **extra) -> dict:
    """The environment of every farm process and of the commands the tests run."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), AWS_ACCESS_KEY_ID="farm-test-key", AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=f"http://127.0.0.1:{moto_port}",
               AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    for k in ("DASK_SCHEDULER_ADDRESS", "LIPSYNC_FAULT"):
        env.pop(k, None)
    env.update(extra)
    return env


def start_scheduler(folder: Path, env: dict) -> tuple[str, subprocess.Popen]:
    port = free_port()
    p = start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
              env, folder / f"scheduler-{port}.log")
    return f"tcp://127.0.0.1:{port}", p


def start_worker(address: str, folder: Path, env: dict, name: str, wrap: list[str] = (),
                 extra: list[str] = ()) -> subprocess.Popen:
    """One worker process of one thread (no nanny: a killed worker is gone, as when its host dies);
    `wrap` runs it inside another command (a mount namespace), `extra` adds options (a preload)."""
    cmd = [*wrap, str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
           "--name", name, "--dashboard-address", ":0", "--death-timeout", "30",
           "--local-directory", str(folder / name), "--preload", "studio.export.cluster_worker", *extra]
    return start(cmd, env, folder / f"worker-{name}.log")


def wait_for_listener(address: str, timeout: float = 30) -> None:
    host, port = address.rsplit("/", 1)[1].rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_for_workers(address: str, n: int, timeout: float = 60) -> None:
    """Until the scheduler has exactly n workers."""
    from distributed import Client
    with Client(address, timeout=timeout, set_as_default=False) as c:
        deadline = time.monotonic() + timeout
        while len(c.scheduler_info()["workers"]) != n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the scheduler did not get to {n} workers")
            time.sleep(0.1)


@dataclass
class Farm:
    address: str
    env: dict
    folder: Path
    moto_port: int
    workers: dict = field(default_factory=dict)   # name -> Popen

    def replace_worker(self, name: str) -> None:
        """Start worker `name` again (after a test killed it) and wait until the cluster has two again."""
        stop([self.workers[name]], kill=True)
        self.workers[name] = start_worker(self.address, self.folder, self.env, name)
        wait_for_workers(self.address, 2)

    def client(self):
        from distributed import Client
        return Client(self.address, timeout=10, set_as_default=False)

    def cli(self, *args, wait=True, cwd=ROOT, **extra):
        """main.py with the farm's environment (and `extra` variables), run in `cwd`."""
        cmd = [sys.executable, str(ROOT / "main.py"), *map(str, args)]
        env = dict(self.env, **extra)
        if not wait:
            return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240, cwd=cwd)


@pytest.fixture(scope="session")
def farm(tmp_path_factory):
    """A scheduler and two one-thread workers (subprocesses) on 127.0.0.1, shared by every farm test."""
    folder = tmp_path_factory.mktemp("farm")
    env = farm_env(free_port())
    address, sched = start_scheduler(folder, env)
    farm = Farm(address, env, folder, int(env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]),
                {name: start_worker(address, folder, env, name) for name in ("w1", "w2")})
    try:
        wait_for_workers(address, 2)
    except Exception:
        stop([sched, *farm.workers.values()], kill=True)
        logs = "\n".join(p.read_text(errors="replace")[-800:] for p in folder.glob("*.log"))
        pytest.fail(f"the test cluster did not start:\n{logs}")
    yield farm
    stop([*farm.workers.values(), sched], kill=True)


@pytest.fixture(scope="session")
def moto(farm):
    """moto's S3 server on the port the farm's AWS_ENDPOINT_URL names, with an empty bucket."""
    log = farm.folder / "moto.log"
    try:
        proc = start([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(farm.moto_port)], farm.env, log)
    except OSError as exc:
        pytest.skip(f"moto's S3 server cannot start: {exc}")
    import urllib.request
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{farm.moto_port}/moto-api/", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop([proc])
                pytest.skip(f"moto's S3 server did not start: {log.read_text(errors='replace')[-300:]}")
            time.sleep(0.2)
    fs = store_fs(farm)
    fs.mkdir(BUCKET)
    yield fs
    stop([proc])


def store_fs(farm):
    """An s3fs filesystem on moto for the test's own checks (not through the environment)."""
    import s3fs
    return s3fs.S3FileSystem(key="farm-test-key", secret=SECRET, endpoint_url=f"http://127.0.0.1:{farm.moto_port}",
                             skip_instance_cache=True, use_listings_cache=False)


# ------------------------------------------------------------------ sessions
def noisy_atlas(folder: Path, size=360) -> Path:
    """Photo-like sprites (random texture, soft alpha): frames cost real render and encode time."""
    rng = np.random.default_rng(7)
    views = {"front": {}, "left15": {}}
    for view in views:
        for mouth, name in (("closed", "mouth_close.png"), ("a", "mouth_a.png")):
            img = rng.integers(0, 255, (size, size, 4), dtype=np.uint8)
            img[..., 3] = 254
            rel = f"{view}/{name}"
            (folder / view).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / rel), img)
            views[view][mouth] = rel
    return write_json(folder / "atlas.min.json", {**views, "fallback": {"view": "front", "mouth": "closed"}})


def moving_session(folder: Path, atlas: Path, frames: int, shift: float = 0.0, session_id="moving") -> Path:
    """Every frame distinct (a slow roll and drift), so none is a duplicate rendered once."""
    pose = [{"t_ms": 40 * i, "yaw_deg": -8.0 if (i // 50) % 2 else 0.0, "roll_deg": round(0.01 * i + shift, 3),
             "tx": round(((i * 7) % 40) - 20 + shift, 2)} for i in range(frames)]
    mouth = [{"t_ms": 40 * i, "mouth_id": (i // 5) % 2} for i in range(frames)]
    return make_session(folder, atlas=atlas, audio_ms=40 * frames, pose=pose, mouth=mouth,
                        extra={"session_id": session_id})


def small_session(folder: Path, frames: int = 250, session_id="small", mouth_shift=0, atlas=None) -> Path:
    pose = [{"t_ms": 40 * i, "yaw_deg": ((i // 10) % 30) - 15, "roll_deg": (i % 5) / 2} for i in range(frames)]
    mouth = [{"t_ms": 40 * i, "mouth_id": ((i + mouth_shift) // 3) % 6} for i in range(frames)]
    return make_session(folder, atlas=atlas or make_atlas(folder / "atlas"), audio_ms=40 * frames, pose=pose,
                        mouth=mouth, extra={"session_id": session_id})


def local_export(session: Path, out: Path) -> Path:
    """What `main.py export SESSION --out OUT --workers 2` writes, done in this process (no start-up cost)."""
    from studio.export.fg import ExportOptions, export_fg
    from studio.plan import open_project
    from studio.qa.sync import sync_for_report
    project = open_project(session, check_sprites=True)
    sync, note = sync_for_report(project)
    export_fg(project, ExportOptions(out_dir=out, workers=2), sync=sync, sync_note=note)
    return out


def snapshot(fg: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(Path(fg).iterdir())} if Path(fg).is_dir() else {}


VOLATILE = {"elapsed_s", "frames_dir", "frames_csv", "session", "reused_frames"}


def report_core(path) -> dict:
    r = json.loads(Path(path).read_text()) if not isinstance(path, dict) else path
    return {k: v for k, v in r.items() if k not in VOLATILE}
