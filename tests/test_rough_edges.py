"""SPEC §11–12 rough edges of hostile input: command-line text that is not text, native libraries on
stderr, plain numbers in messages, places tried listed once, the true reason for special paths."""
import json
import os
import subprocess
import sys

import pytest
from helpers import ROOT, make_atlas, make_session, write_json, write_wav
from hostile_files import PNG_DAMAGE, WAV_DAMAGE, project_lines_only

MAIN = str(ROOT / "main.py")
DEMO = ROOT / "assets_min" / "demo"


def run_main(*args, env=None, timeout=120):
    """main.py in a child process; bytes arguments reach argv exactly as a shell would pass them."""
    return subprocess.run([sys.executable, MAIN, *args], capture_output=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


# ------------------------------------------------------------------------ text on the command line
@pytest.mark.parametrize("args, named", [
    (["align", str(DEMO / "demo.wav"), "--text", b"\xff\xfe"], "--text"),
    (["align", str(DEMO / "demo.wav"), "--text", "\ud800".encode("utf-8", "surrogatepass")], "--text"),
    (["validate", b"/tmp/\xff.json"], "SESSION.json argument"),
    (["export", str(DEMO / "session.json"), "--out", b"@TMP@/\xffout"], "--out"),
    (["score", str(DEMO / "session.json"), "--policy", b"\xc3(.json"], "--policy"),
    ([b"\xff.json"], "SESSION.json argument"),   # the studio's argument
])
def test_s12_command_line_text_that_is_not_text_is_exit_2_naming_it(args, named, tmp_path):
    args = [a.replace(b"@TMP@", bytes(tmp_path)) if isinstance(a, bytes) else a for a in args]
    res = run_main(*args)
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and named in err
    assert "internal error" not in err
    assert os.listdir(tmp_path) == []   # nothing written


def test_s12_a_lone_surrogate_from_a_caller_is_exit_2_too(capsys):
    from studio.cli import main
    assert main(["align", str(DEMO / "demo.wav"), "--text", "a\ud800"]) == 2
    err = capsys.readouterr().err
    assert "--text" in err and "\\ud800" in err and "internal error" not in err


def test_s12_a_text_longer_than_the_dictionary_takes_is_read_in_pieces(tmp_path, capsys):
    """SudachiPy refuses more than 49,149 bytes at once; an hour of Japanese is longer than that."""
    from studio.cli import main
    wav = write_wav(tmp_path / "a.wav", 1000, tone_spans=[(100, 400), (500, 900)])
    assert main(["align", str(wav), "--text", "x" * 50_000 + "。", "--out", str(tmp_path / "m.json")]) == 0, \
        capsys.readouterr().err


# --------------------------------------------------------------------------- native libraries
@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """One small session per damaged sprite or WAV, and the word each sentence must carry."""
    root = tmp_path_factory.mktemp("damaged")
    atlas_src = make_atlas(root / "atlas_src", views=("front",), expressions=())
    sprite = (atlas_src.parent / "front" / "mouth_close.png").read_bytes()
    cases = {}
    for name, damage in PNG_DAMAGE.items():
        d = root / name.replace(" ", "_")
        atlas = make_atlas(d / "atlas", views=("front",), expressions=())
        (atlas.parent / "front" / "mouth_close.png").write_bytes(damage(sprite))
        cases[name] = make_session(d, atlas=atlas, audio_ms=400)
    for name, damage in WAV_DAMAGE.items():
        d = root / name.replace(" ", "_").replace("(", "").replace(")", "")
        s = make_session(d, atlas=atlas_src, audio_ms=400, wav_ms=400)
        damage(d / "audio.wav")
        cases[name] = s
    return cases


MEANING = {"png without IEND": "truncated", "png IHDR CRC broken": "CRC", "png truncated": "truncated",
           "png IDAT corrupt": "IDAT", "wav MPEG (0x55)": "MPEG", "wav extensible MPEG": "MPEG",
           "wav A-law": "A-law", "wav mu-law": "µ-law", "wav IMA ADPCM": "ADPCM", "wav MS ADPCM": "ADPCM",
           "wav GSM 6.10": "GSM"}


def test_s12_only_the_project_speaks_on_stderr(damaged):
    """Every damaged file through validate, score and export in one real process: stderr holds our
    lines only (no 'libpng error', no OpenCV log, no libmpg123 notes), and each error sentence says
    what the library meant, about the file it names."""
    script = ("import sys, json; sys.path.insert(0, sys.argv[1]); from studio.cli import main\n"
              "for s in json.loads(sys.argv[2]):\n"
              "    for cmd in (['validate', s], ['score', s], ['export', s, '--out', s + '.out']):\n"
              "        print(cmd[0], main(cmd), flush=True)\n")
    sessions = [str(s) for s in damaged.values()]
    res = subprocess.run([sys.executable, "-c", script, str(ROOT), json.dumps(sessions)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert project_lines_only(res.stderr) == [], res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error: ")]
    for name, session in damaged.items():
        mine = [e for e in errors if str(session.parent) in e and "nothing to score" not in e]
        assert len(mine) == (3 if name.startswith("wav") else 2), (name, res.stderr)  # sprites: score needs none
        bad_file = "audio.wav" if name.startswith("wav") else "mouth_close.png"
        assert all(bad_file in e and MEANING[name] in e and "does not exist" not in e for e in mine), (name, mine)
    codes = res.stdout.split()
    assert set(codes[1::2]) == {"2"}, res.stdout   # validate, score (WAVs) and export all refuse


def test_s12_the_stderr_guard_keeps_python_and_catches_native_lines():
    """Descriptor 2 goes to the sink; Python's own stderr, from any thread, still reaches the terminal;
    what native code said during a call is returned to the caller."""
    script = """
import os, sys, threading
sys.path.insert(0, sys.argv[1])
from contracts.native import native_messages, quiet_native_stderr
with quiet_native_stderr():
    os.write(2, b"libpng error: noise\\n")
    print("ours", file=sys.stderr)
    t = threading.Thread(target=lambda: print("ours from a thread", file=sys.stderr)); t.start(); t.join()
    with native_messages() as said:
        os.write(2, b"libpng error: IHDR: CRC error\\n")
    print(said, file=sys.stderr)
os.write(2, b"after\\n")
"""
    res = subprocess.run([sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert res.stderr.splitlines() == ["ours", "ours from a thread", "['libpng error: IHDR: CRC error']", "after"]


def test_s12_qt_messages_stay_off_the_terminal(tmp_path):
    """The studio on the offscreen platform: Qt warns about window size hints on stderr by itself;
    started through main.py, nothing reaches the terminal."""
    script = """
import sys
sys.path.insert(0, sys.argv[1])
sys.argv = ["main.py"]
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(["main.py"])
QTimer.singleShot(1500, app.quit)
import main
sys.exit(main.studio([]))
"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LIPSYNC_NO_AUDIO="1", LIPSYNC_NO_DIALOGS="1",
               LIPSYNC_STATE_DIR=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    res = subprocess.run([sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""


# --------------------------------------------------------------------------------- messages
@pytest.fixture(scope="module")
def atlas(tmp_path_factory):
    return make_atlas(tmp_path_factory.mktemp("atlas"), views=("front",), expressions=())


def test_s11_places_tried_are_listed_once(tmp_path, atlas):
    from contracts.errors import ContractError
    from contracts.session import load_session
    s = make_session(tmp_path / "a" / "b", audio_ms=400, atlas=atlas)
    doc = json.loads(s.read_text())
    depth = len(s.parent.parts)
    doc["inputs"]["mouth_timeline"] = "../" * (depth + 1) + "nope_mouth.json"  # climbs past / from every base
    write_json(s, doc)
    with pytest.raises(ContractError) as err:
        load_session(s)
    tried = str(err.value).split("tried ", 1)[1].rstrip(".").split(", ")
    assert len(tried) == len(set(tried)) == 1, str(err.value)


def test_s11_numbers_in_messages_are_written_plainly(tmp_path, atlas):
    from contracts.errors import ContractError, plain
    from contracts.session import load_session
    assert [plain(v) for v in (40000000.0, 4e7, 0.3, -12.5, 720.0, 1e16, 2 ** 64, 1e-300, 1e300, -0.0)] == [
        "40000000", "40000000", "0.3", "-12.5", "720", "10000000000000000", "18446744073709551616",
        "1e-300", "1e+300", "0"]
    s = make_session(tmp_path / "w", audio_ms=40000000.0, wav_ms=1000, atlas=atlas)
    assert any("declared audio_ms 40000000 differs" in w for w in load_session(s).warnings)
    s = make_session(tmp_path / "u", audio_ms=400, pose=[{"t_ms": 40000040.0}, {"t_ms": 40000000.0}], atlas=atlas)
    with pytest.raises(ContractError, match=r"\(40000000 comes after 40000040\)"):
        load_session(s)
    s = make_session(tmp_path / "m", audio_ms=400, mouth={"step_ms": 40, "meta": {"step_ms": 1e3}, "frames": []},
                     atlas=atlas)
    with pytest.raises(ContractError, match="step_ms 40 and meta.step_ms 1000 disagree"):
        load_session(s)
    s = make_session(tmp_path / "r", audio_ms=400, extra={"render": {"target_h_ratio": 1e20}}, atlas=atlas)
    with pytest.raises(ContractError, match="from 0.01 to 10, got 100000000000000000000"):
        load_session(s)


def test_s11_validate_prints_plain_numbers(tmp_path, atlas, capsys):
    from studio.cli import main
    s = make_session(tmp_path / "v", audio_ms=400, step_ms=30, atlas=atlas,
                     mouth=[{"t_ms": 0, "mouth_id": 1}, {"t_ms": 1e17, "mouth_id": 0}])
    assert main(["validate", str(s)]) == 0
    out = capsys.readouterr().out
    assert "at 30 ms (33.333 fps)" in out and "ends at 100000000000000000 ms" in out, out
    assert "e+" not in out


@pytest.mark.parametrize("out, reason", [("/proc/self", "proc filesystem"), ("/proc/self/fd", "proc filesystem"),
                                         ("/dev/null", "character device, not a folder")])
def test_s11_export_to_a_special_path_gives_the_true_reason(out, reason, capsys, tmp_path, atlas):
    from studio.cli import main
    code = main(["export", str(make_session(tmp_path, audio_ms=400, atlas=atlas)), "--out", out])
    err = capsys.readouterr().err
    assert code == 4 and reason in err and "no such file" not in err, err


def test_s11_align_never_replaces_a_device_or_fifo(tmp_path, capsys):
    """`align --out /dev/full` as root used to rename a JSON file over the device; now every output that
    exists and is not a regular file is exit 4, left as it was (a FIFO stands in for the device)."""
    from studio.cli import main
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    wav = write_wav(tmp_path / "a.wav", 400)
    assert main(["align", str(wav), "--out", str(fifo)]) == 4
    assert "it is a FIFO, not a regular file" in capsys.readouterr().err
    assert fifo.is_fifo()
    assert main(["align", str(wav), "--out", "/proc/self/mouth.json"]) == 4
    assert "proc filesystem" in capsys.readouterr().err
