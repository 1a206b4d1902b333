"""Hostile-input fuzzing (SPEC §12): mutated sessions, timelines, atlases, WAVs and paths, run
through `validate`, `score` and (a sample of) `export` in this process, checked for the contract's
answers: exit 0/2/3/4 (never 1), no traceback, no line over 400 characters, no run over the time
limit, nothing on stderr but the project's own lines (native libraries write to descriptor 2
directly: it is captured too, and must stay empty), and `validate` rejecting everything `score`
and `export` reject.

Used by tests/test_fuzz.py (a few hundred cases) and scripts/fuzz.py (thousands, with counts).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import struct
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile

from helpers import ROOT, make_atlas, write_json, write_wav
from hostile_files import PNG_DAMAGE, WAV_DAMAGE, project_lines_only

LIMIT_S = 20.0
MAX_LINE = 400

WEIRD_STRINGS = ["", " ", "\ud800", "a\u0000b", "\x1b[31mred", "\u202eevil", "😀" * 50, "x" * 100_000,
                 "close", "CLOSE", "blink", "../../etc/passwd", "a/b", "%s%n", "{}", "[]", "null", "NaN"]
WEIRD_NUMBERS = [0, -1, 0.3, 1e-300, 1e12, 1e30, 1e308, -1e308, 2 ** 64, 2 ** 63 - 1, 86_400_000, 86_400_001,
                 720.0, 3.5, 1000, 1001, 0.5, 16, 8192, 8193, 200000, -0.0]
RAW_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "1" * 5000]


class Hang(BaseException):  # not an Exception: the CLI must not swallow it as an internal error
    pass


@dataclass
class Outcome:
    command: str
    code: int
    seconds: float
    out: str
    err: str
    native: str = ""     # what reached descriptor 2 behind Python's back
    problems: list[str] = field(default_factory=list)


def run_cli_inprocess(argv: list[str], limit_s: float = LIMIT_S) -> Outcome:
    """studio.cli.main in this process, output captured, with an alarm for hangs."""
    from studio.cli import main
    out, err = io.StringIO(), io.StringIO()

    def on_alarm(*_):
        raise Hang()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    t0 = time.perf_counter()
    fd2 = os.dup(2)
    with tempfile.TemporaryFile() as native:
        os.dup2(native.fileno(), 2)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(list(argv))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 2
        except Hang:
            code = -1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
            os.dup2(fd2, 2)
            os.close(fd2)
        native.seek(0)
        said = native.read().decode("utf-8", "replace")
    return Outcome(argv[0], code, time.perf_counter() - t0, out.getvalue(), err.getvalue(), said)


def check(o: Outcome) -> list[str]:
    """What is wrong with one command's answer (empty when it is a clean answer)."""
    bad = []
    if o.code == -1:
        bad.append(f"{o.command}: hang (over {LIMIT_S:g} s)")
    elif o.code not in (0, 2, 3, 4):
        bad.append(f"{o.command}: exit {o.code}: {o.err.strip()[:300]}")
    if o.seconds > LIMIT_S:
        bad.append(f"{o.command}: took {o.seconds:.1f} s")
    text = o.out + o.err
    if "Traceback" in text:
        bad.append(f"{o.command}: traceback")
    long_lines = [ln for ln in text.splitlines() if len(ln) > MAX_LINE]
    if long_lines:
        bad.append(f"{o.command}: a line of {len(long_lines[0])} characters")
    if o.native.strip():
        bad.append(f"{o.command}: a native library spoke on stderr: {o.native.strip()[:200]!r}")
    strangers = project_lines_only(o.err)
    if strangers:
        bad.append(f"{o.command}: not the project's line on stderr: {strangers[0][:200]!r}")
    if o.code in (2, 4):
        errors = [ln for ln in o.err.splitlines() if ln.startswith(("error:", "main.py"))]
        if len(errors) != 1:
            bad.append(f"{o.command}: exit {o.code} with {len(errors)} error lines")
    return bad


# ------------------------------------------------------------------------ bases
def base_small(folder: Path) -> Path:
    """A small complete session: 64x48 sprites, 1 s of audio, every timeline, form A."""
    folder.mkdir(parents=True, exist_ok=True)
    make_atlas(folder / "atlas", views=("front", "left15", "right15"), expressions=("smile", "blink"))
    write_wav(folder / "a.wav", 1000, tone_spans=[(100, 400), (500, 900)])
    write_json(folder / "pose.json", {"meta": {"step_ms": 40}, "frames": [
        {"t_ms": t, "yaw_deg": (t % 400) / 20 - 10, "pitch_deg": 0, "roll_deg": 1, "tx": 2, "ty": 0, "scale": 1.0}
        for t in range(0, 1000, 40)]})
    write_json(folder / "mouth.json", {"audio": "a.wav", "step_ms": 40, "frames": [
        {"t_ms": t, "mouth_id": (t // 40) % 6} for t in range(0, 1000, 80)]})
    write_json(folder / "expr.json", {"timeline": [{"t_ms": 0, "expression": "smile"},
                                                   {"t_ms": 300, "dur_ms": 120, "expression": "blink"},
                                                   {"t_ms": 500, "emo_id": "2_1", "blink": 1}]})
    return write_json(folder / "session.json", {
        "schema_version": "runtime_session_v0.1", "session_id": "fuzz", "audio_ms": 1000, "step_ms": 40,
        "inputs": {"pose_timeline": "pose.json", "mouth_timeline": "mouth.json", "expression_timeline": "expr.json",
                   "atlas_json": "atlas/atlas.min.json", "audio": "a.wav"}})


def base_bundle(folder: Path, samples: Path) -> Path:
    """The production shapes: a v0.2 bundle with the mouth6 track and the v1 euler pose."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(samples / "m3prime_mouth6_track.json", folder / "mouth.json")
    shutil.copy(samples / "pose_timeline_v1_euler.json", folder / "pose.json")
    shutil.copy(samples / "sess_real_01.expression_timeline.json", folder / "expr.json")
    make_atlas(folder / "atlas", views=("front", "right15", "right30"), expressions=("blink",))
    write_wav(folder / "utt.wav", 1200, tone_spans=[(40, 560), (600, 1100)])
    return write_json(folder / "session.json", {
        "schema_version": "session_runtime_v0.2", "session_id": "bundle", "pose_timeline": "pose.json",
        "mouth_timeline": "mouth.json", "expression_timeline": "expr.json", "audio_path": "utt.wav",
        "atlas_json": "atlas/atlas.min.json"})


def base_demo(folder: Path) -> Path:
    """The demo session with its own copy of the atlas (sprites stay in assets_min/, via assets_dir)."""
    shutil.copytree(ROOT / "assets_min" / "demo", folder)
    shutil.copy(ROOT / "assets_min" / "atlas.min.json", folder / "atlas.min.json")
    doc = json.loads((folder / "session.json").read_text())
    doc["inputs"]["atlas_json"] = "atlas.min.json"
    doc["assets_dir"] = str(ROOT / "assets_min")
    return write_json(folder / "session.json", doc)


# ---------------------------------------------------------------------- mutators
def _nodes(doc, path=()):
    yield path, doc
    if isinstance(doc, dict):
        for k, v in list(doc.items())[:40]:
            yield from _nodes(v, path + (k,))
    elif isinstance(doc, list):
        for i in sorted(set([0, 1, len(doc) - 1, len(doc) // 2]) & set(range(len(doc)))):
            yield from _nodes(doc[i], path + (i,))


def _set(doc, path, value):
    if not path:
        return value
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return doc


def _weird_value(rng: random.Random):
    kind = rng.randrange(7)
    if kind == 0:
        return rng.choice(WEIRD_STRINGS)
    if kind == 1:
        return rng.choice(WEIRD_NUMBERS)
    if kind == 2:
        return rng.choice([None, True, False, [], {}, [1, 2], {"a": 1}])
    if kind == 3:
        v = 1
        for _ in range(rng.choice([10, 63, 70, 200])):
            v = [v]
        return v
    if kind == 4:
        return -rng.random() * 10 ** rng.randrange(1, 12)
    if kind == 5:
        return rng.randrange(-5, 10)
    return {"t_ms": rng.choice([0, 40, -40, 1e9]), "mouth_id": rng.randrange(-1, 8), "mouth6": rng.choice(["a", "x"])}


def mutate_json(doc, rng: random.Random):
    """One structure-aware mutation of a parsed document; returns (doc, class name)."""
    nodes = list(_nodes(doc))
    path, node = rng.choice(nodes)
    op = rng.randrange(8)
    if op == 0 and isinstance(node, dict) and node:
        node.pop(rng.choice(list(node)))
        return doc, "delete key"
    if op == 1 and isinstance(node, dict):
        node[rng.choice(WEIRD_STRINGS[:12])] = _weird_value(rng)
        return doc, "add key"
    if op == 2 and isinstance(node, list) and len(node) > 1:
        rng.shuffle(node)
        return doc, "shuffle list"
    if op == 3 and isinstance(node, list):
        node.clear() if rng.random() < 0.5 else node.extend(node[:1] * rng.choice([1, 50]))
        return doc, "empty or repeat list"
    return _set(doc, path, _weird_value(rng)), "value swap"


def mutate_text(raw: bytes, rng: random.Random) -> tuple[bytes, str]:
    op = rng.randrange(7)
    if op == 0:
        return raw[: rng.randrange(max(1, len(raw)))], "truncated"
    if op == 1:
        return b"\xef\xbb\xbf" + raw, "BOM"
    if op == 2:
        i = rng.randrange(max(1, len(raw)))
        return raw[:i] + bytes([rng.randrange(128, 256)]) + raw[i:], "invalid UTF-8"
    if op == 3:
        return raw.replace(b"\n", b"\r\n"), "CRLF"
    if op == 4:
        text = raw.decode("utf-8", "replace")
        nums = [m for m in __import__("re").finditer(r"(?<![\w.])\d+(\.\d+)?(?![\w.])", text)]
        if nums:
            m = rng.choice(nums)
            text = text[:m.start()] + rng.choice(RAW_NUMBERS) + text[m.end():]
        return text.encode("utf-8", "surrogatepass"), "raw number"
    if op == 5:
        return b"[" * 100_000, "deep brackets"
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))), "garbage"


def mutate_wav(path: Path, rng: random.Random) -> str:
    op = rng.randrange(9 + len(WAV_DAMAGE))
    if op >= 9:
        name = list(WAV_DAMAGE)[op - 9]
        WAV_DAMAGE[name](path)
        return name
    if op == 0:
        b = bytearray(path.read_bytes())
        b[24:28] = struct.pack("<I", rng.choice([1, 7999, 384001, 0]))
        path.write_bytes(bytes(b))
        return "wav rate"
    if op == 1:
        soundfile.write(str(path), np.zeros((0, 1), np.float32), 16000)
        return "wav empty"
    if op == 2:
        raw = path.read_bytes()
        path.write_bytes(raw[: rng.randrange(1, max(2, len(raw)))])
        return "wav truncated"
    if op == 3:
        soundfile.write(str(path), (np.random.default_rng(1).random((800, 6)) - 0.5).astype(np.float32), 8000,
                        subtype="DOUBLE")
        return "wav 6 channels double"
    if op == 4:
        soundfile.write(str(path), np.zeros((1, 1), np.float32), 384000, subtype="PCM_U8")
        return "wav one sample"
    if op == 5:
        soundfile.write(str(path), np.zeros((400, 2), np.float32), 22050, format="FLAC")
        return "flac named wav"
    if op == 6:
        b = bytearray(path.read_bytes())
        b[40:44] = struct.pack("<I", 0xFFFFFFF0)
        path.write_bytes(bytes(b))
        return "wav huge data size"
    if op == 7:
        path.write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
        return "wav header only"
    soundfile.write(str(path), np.zeros((16000, 1), np.float32), 16000, subtype="ULAW")
    return "wav mu-law"


def hostile_path(folder: Path, rng: random.Random) -> tuple[str, str]:
    op = rng.randrange(9)
    if op == 0:
        fifo = folder / "fifo.json"
        if not fifo.exists():
            os.mkfifo(fifo)
        return "fifo.json", "FIFO"
    if op == 1:
        return "/dev/zero", "device"
    if op == 2:
        (folder / "adir").mkdir(exist_ok=True)
        return "adir", "folder"
    if op == 3:
        loop = folder / "loop"
        if not loop.is_symlink():
            loop.symlink_to("loop")
        return "loop/x.json", "symlink loop"
    if op == 4:
        return "~nosuchuser_lipsync/x.json", "unknown user"
    if op == 5:
        return "a" * 300 + "/x.json", "name too long"
    if op == 6:
        return "x\u0000y.json", "NUL in path"
    if op == 7:
        return "", "empty path"
    return "/" + "d" * 5000, "path too long"


def damage_sprite(folder: Path, rng: random.Random) -> str:
    """Damage one of the case's own sprites (never the bundled ones outside the case)."""
    sprites = sorted(p for p in folder.rglob("*.png") if not p.is_symlink())
    if not sprites:
        return "unchanged"
    name = rng.choice(list(PNG_DAMAGE))
    p = rng.choice(sprites[:6]) if rng.random() < 0.5 else rng.choice(sprites)  # often one every frame draws
    p.write_bytes(PNG_DAMAGE[name](p.read_bytes()))
    return name


# Command lines whose text is not text (run_case adds the argument), and odd --text for align.
ARGV_CLASSES = ["argv undecodable path", "argv lone surrogate path", "argv align odd text"]
ODD_TEXTS = ["\udcff\udcfe", "\ud800", "a\x00b", "\x1b[31m", "😀" * 200, "x" * 50_000, "", " ", "kana かな 漢字",
             "\u202eevil", "%s%n{}"]


def _argv_for(cls: str, session: Path, rng: random.Random) -> list[list[str]]:
    if cls == "argv undecodable path":
        return [["validate", str(session) + "\udcff"]]
    if cls == "argv lone surrogate path":
        return [["score", str(session), "--policy", "p\ud800.json"]]
    wav = next(iter(sorted(session.parent.glob("*.wav"))), None)
    if wav is None:
        return []
    return [["align", str(wav), "--text", rng.choice(ODD_TEXTS), "--out", str(session.parent / "aligned.json")]]


# ---------------------------------------------------------------------- cases
FILE_KEYS = {"A": {"pose": ("inputs", "pose_timeline"), "mouth": ("inputs", "mouth_timeline"),
                   "expression": ("inputs", "expression_timeline"), "atlas": ("inputs", "atlas_json"),
                   "audio": ("inputs", "audio")},
             "B": {"pose": ("pose_timeline",), "mouth": ("mouth_timeline",), "expression": ("expression_timeline",),
                   "atlas": ("atlas_json",), "audio": ("audio_path",)}}


def _file_of(session: Path, key_path) -> Path | None:
    doc = json.loads(session.read_text())
    node = doc
    for k in key_path:
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return (session.parent / node) if isinstance(node, str) else None


def make_case(base: Path, folder: Path, rng: random.Random) -> tuple[Path, str]:
    """Copy a base session into `folder` and apply one hostile change; returns (session, class)."""
    shutil.copytree(base.parent, folder, symlinks=True)
    session = folder / base.name
    doc = json.loads(session.read_text())
    form = "A" if doc["schema_version"] == "runtime_session_v0.1" else "B"
    target = rng.choice(["session", "session", "pose", "mouth", "expression", "atlas", "audio", "path", "field",
                         "sprite", "argv"])
    if target == "sprite":
        return session, damage_sprite(folder, rng)
    if target == "argv":
        return session, rng.choice(ARGV_CLASSES)
    if target == "field":
        key = rng.choice(["audio_ms", "step_ms", "render", "emo_map", "sync_policy", "schema_version", "text"])
        value = rng.choice([_weird_value(rng), {"canvas_w": rng.choice(WEIRD_NUMBERS)},
                            {"target_h_ratio": rng.choice(WEIRD_NUMBERS)}, {"window_hop_ms": 0}])
        doc[key] = value
        write_json(session, doc)
        return session, f"field {key}"
    if target == "path":
        kind = rng.choice(list(FILE_KEYS[form]))
        value, cls = hostile_path(folder, rng)
        node = doc
        for k in FILE_KEYS[form][kind][:-1]:
            node = node.setdefault(k, {})
        node[FILE_KEYS[form][kind][-1]] = value
        write_json(session, doc)
        return session, f"path {cls}"
    if target == "session":
        path = session
    else:
        path = _file_of(session, FILE_KEYS[form][target])
        if path is None or not path.is_file():
            return session, "unchanged"
    if not path.resolve().is_relative_to(folder.resolve()):  # never touch a file outside the case
        return session, "unchanged"
    if target == "audio":
        return session, mutate_wav(path, rng)
    if rng.random() < 0.6:
        try:
            mutated, cls = mutate_json(json.loads(path.read_text(encoding="utf-8-sig")), rng)
            path.write_text(json.dumps(mutated, ensure_ascii=rng.random() < 0.5), encoding="utf-8",
                            errors="surrogatepass")
            return session, f"{target} json {cls}"
        except (ValueError, RecursionError):
            pass
    raw, cls = mutate_text(path.read_bytes(), rng)
    path.write_bytes(raw)
    return session, f"{target} text {cls}"


@dataclass
class Tally:
    cases: int = 0
    runs: Counter = field(default_factory=Counter)       # (command, exit) -> count
    classes: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    slowest: float = 0.0


def run_case(session: Path, cls: str, out: Path, tally: Tally, export: bool) -> None:
    tally.cases += 1
    tally.classes[cls] += 1
    results = {}
    extra = _argv_for(cls, session, random.Random(tally.cases)) if cls in ARGV_CLASSES else []
    for argv in (["validate", str(session)], ["score", str(session)],
                 *([["export", str(session), "--out", str(out)]] if export else []), *extra):
        o = run_cli_inprocess(argv)
        results.setdefault(argv[0], o)
        tally.runs[(argv[0], o.code)] += 1
        tally.slowest = max(tally.slowest, o.seconds)
        for p in check(o):
            tally.failures.append(f"[{cls}] {session.parent.name}: {p}")
    v = results["validate"]
    for cmd in ("score", "export"):
        o = results.get(cmd)
        if o is None or v.code != 0 or o.code != 2:
            continue
        if cmd == "score" and "no audio file" in o.err:
            continue  # valid without audio (a warning); only score needs it
        tally.failures.append(f"[{cls}] {session.parent.name}: validate passed but {cmd} said {o.err.strip()[:200]}")


def frames_of(session: Path) -> int | None:
    """Target frames when `validate --json` says valid (to pick sessions small enough to export)."""
    o = run_cli_inprocess(["validate", str(session), "--json"])
    if o.code != 0:
        return None
    try:
        return int(json.loads(o.out)["target_frames"])
    except (ValueError, KeyError):
        return None
