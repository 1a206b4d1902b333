"""SPEC §11–12 run by an unprivileged user: files they cannot read and outputs they cannot write
get the right one-sentence error and exit code, never a traceback or "System error".

As root the commands run as `nobody` (uid 65534) through setpriv, with an interpreter that user can
execute: ours, or else the system's python of the same version reading our site-packages (here
ours lives under /root, which only root may enter). As any other user the tests run as that user.
Nothing outside a temporary folder changes."""
import json
import os
import shutil
import site
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import ROOT, make_atlas, make_session

NOBODY = 65534
DRIVER = """
import io, json, os, sys
sys.path.insert(0, sys.argv[1])
from studio.cli import main
answers = []
for argv in json.loads(sys.argv[2]):
    err, keep = io.StringIO(), sys.stderr
    sys.stderr = err
    try:
        code = main(argv)
    finally:
        sys.stderr = keep
    answers.append([code, err.getvalue()])
print(json.dumps({"uid": os.getuid(), "answers": answers}))
"""


def _interpreter_for_nobody() -> tuple[list[str], dict] | None:
    """A command prefix running Python as uid 65534, and its environment; None when there is none."""
    if shutil.which("setpriv") is None:
        return None
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    env = dict(os.environ, HOME="/tmp")
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    system = shutil.which(f"python{version}", path="/usr/bin:/usr/local/bin:/bin")
    for python, extra in ((sys.executable, {}),
                          (system, {"PYTHONPATH": os.pathsep.join(site.getsitepackages())})):
        if python is None:
            continue
        probe = subprocess.run([*prefix, python, "-c", "import sys, numpy, cv2, soundfile; print(sys.version_info[:2])"],
                               capture_output=True, text=True, env={**env, **extra}, timeout=60)
        if probe.returncode == 0 and probe.stdout.strip() == str(sys.version_info[:2]):
            return [*prefix, python], {**env, **extra}
    return None


@pytest.fixture(scope="module")
def as_user():
    """run(list of argv) -> [(exit code, stderr)], each command run by an unprivileged user."""
    if os.geteuid() == 0:
        found = _interpreter_for_nobody()
        if found is None:
            pytest.skip("running as root, and no Python that user nobody may execute (ours is under /root) "
                        "with setpriv to switch to it")
        prefix, env = found
    else:
        prefix, env = [sys.executable], dict(os.environ)

    def run(commands):
        res = subprocess.run([*prefix, "-c", DRIVER, str(ROOT), json.dumps(commands)], capture_output=True,
                             text=True, env=env, timeout=180)
        assert res.returncode == 0, res.stderr
        said = json.loads(res.stdout)
        assert said["uid"] != 0   # really unprivileged
        return said["answers"]
    return run


@pytest.fixture()
def place():
    """A folder under /tmp everyone may enter (pytest's own tmp folder is private to its user)."""
    base = Path(tempfile.mkdtemp(prefix="lipsync-unprivileged-", dir="/tmp"))
    os.chmod(base, 0o755)
    yield base
    for p in [base, *base.rglob("*")]:
        if p.is_dir() and not p.is_symlink():
            os.chmod(p, 0o755)
    shutil.rmtree(base, ignore_errors=True)


def session_in(folder: Path) -> Path:
    atlas = make_atlas(folder / "atlas", views=("front",), expressions=())
    s = make_session(folder, atlas=atlas, audio_ms=400, wav_ms=400, mouth=[{"t_ms": 0, "mouth_id": 1}])
    (folder / "said.txt").write_text("hello")
    for p in [folder, *folder.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return s


def test_s12_unreadable_inputs_and_unwritable_outputs_as_an_unprivileged_user(as_user, place):
    cases = []   # (argv, exit code, the path the sentence must name, the reason it must give)

    def case(name, argv_of, code, names, reason, lock=lambda d: None):
        d = place / name
        s = session_in(d)
        lock(d)
        cases.append((argv_of(s, d), code, names(d), reason))

    unreadable = "permission denied"
    case("session", lambda s, d: ["validate", str(s)], 2, lambda d: d / "session.json", unreadable,
         lambda d: os.chmod(d / "session.json", 0))
    case("pose", lambda s, d: ["validate", str(s)], 2, lambda d: d / "pose.json", unreadable,
         lambda d: os.chmod(d / "pose.json", 0))
    case("wav", lambda s, d: ["validate", str(s)], 2, lambda d: d / "audio.wav", unreadable,
         lambda d: os.chmod(d / "audio.wav", 0))
    case("wav-score", lambda s, d: ["score", str(s)], 2, lambda d: d / "audio.wav", unreadable,
         lambda d: os.chmod(d / "audio.wav", 0))
    case("sprite", lambda s, d: ["export", str(s), "--out", str(d / "out")], 2,
         lambda d: d / "atlas" / "front" / "mouth_a.png", unreadable,
         lambda d: os.chmod(d / "atlas" / "front" / "mouth_a.png", 0))
    case("folder", lambda s, d: ["validate", str(s)], 2, lambda d: d / "atlas" / "atlas.min.json", unreadable,
         lambda d: os.chmod(d / "atlas", 0o700 if os.geteuid() == 0 else 0))
    case("text-file", lambda s, d: ["align", str(d / "audio.wav"), "--text-file", str(d / "said.txt"),
                                    "--out", str(place / "m.json")], 2, lambda d: d / "said.txt", unreadable,
         lambda d: os.chmod(d / "said.txt", 0))
    case("out", lambda s, d: ["export", str(s), "--out", str(d / "out")], 4, lambda d: d / "out", unreadable,
         lambda d: os.chmod(d, 0o555))
    case("out-held", lambda s, d: ["export", str(s), "--out", str(d / "out")], 4, lambda d: d / "out", unreadable,
         lambda d: ((d / "out").mkdir(), os.chmod(d / "out", 0o555)))
    case("align-out", lambda s, d: ["align", str(d / "audio.wav"), "--out", str(d / "sub" / "m.json")], 4,
         lambda d: d / "sub" / "m.json", unreadable, lambda d: ((d / "sub").mkdir(), os.chmod(d / "sub", 0o555)))
    answers = as_user([argv for argv, *_ in cases])
    for (argv, code, named, reason), (got, err) in zip(cases, answers):
        lines = err.strip().splitlines()
        assert got == code and len(lines) == 1 and lines[0].startswith("error: "), (argv, got, err)
        assert str(named) in lines[0] and reason in lines[0], (argv, err)
        assert "System error" not in err and "Traceback" not in err
    assert not (place / "out" / "out").exists() and not (place / "sprite" / "out").exists()
