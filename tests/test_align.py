"""SPEC §13 / §11 `align`: the viseme aligner from the audio (and the text), its output contract,
its robustness, and its accuracy on held-out speech with exact phoneme timing (tests/data/sync:
espeak-ng sentences the model was not trained on; the full table is bench/align_accuracy.py)."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile
from helpers import ROOT, make_session, run_cli, write_json

from contracts.audio import AudioSource
from contracts.timelines import parse_mouth
from studio.qa.align.aligner import align
from studio.qa.align.phones import CLOSED, accuracy, espeak_targets, frame_targets
from studio.qa.align.text import en_units, ja_units

SYNC = ROOT / "tests" / "data" / "sync"


def held_out(name):
    meta = json.loads((SYNC / f"{name}.json").read_text())
    x, sr = soundfile.read(str(SYNC / f"{name}.wav"), dtype="float32")
    lang = "ja" if name.startswith("ja") else "en"
    n = int(np.ceil(meta["audio_ms"] / 40))
    targets = frame_targets(espeak_targets([tuple(p) for p in meta["phonemes"]], meta["audio_ms"], lang), n, 40)
    return AudioSource.of(x, sr), meta, lang, targets


@pytest.mark.parametrize("with_text", [False, True])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_s13_accuracy_on_held_out_speech_meets_the_targets(lang, with_text):
    goals = {("ja", False): (0.90, 0.60, 0.55), ("ja", True): (0.93, 0.80, 0.80),
             ("en", False): (0.85, 0.45, 0.40), ("en", True): (0.90, 0.65, 0.60)}[(lang, with_text)]
    totals = {"frames": 0, "vowel_frames": 0, "open_closed": 0.0, "shapes": 0.0, "vowel_shapes": 0.0}
    for name in sorted(p.stem for p in SYNC.glob(f"{lang}_*.wav")):
        src, meta, lg, targets = held_out(name)
        res = align(src, meta["text"] if with_text else None, lg, 40, meta["audio_ms"])
        a = accuracy(res.shapes.tolist(), targets)
        for k in ("open_closed", "shapes"):
            totals[k] += a[k] * a["frames"]
        totals["vowel_shapes"] += a["vowel_shapes"] * a["vowel_frames"]
        totals["frames"] += a["frames"]
        totals["vowel_frames"] += a["vowel_frames"]
    oc = totals["open_closed"] / totals["frames"]
    shapes = totals["shapes"] / totals["frames"]
    vowels = totals["vowel_shapes"] / totals["vowel_frames"]
    assert oc >= goals[0] and shapes >= goals[1] and vowels >= goals[2], (oc, shapes, vowels)


def test_s13_generated_track_scores_in_sync(tmp_path):
    from contracts.policy import default_policy
    from studio.qa.sync import score
    src, meta, lang, _ = held_out("ja_2")
    res = align(src, meta["text"], lang, 40, meta["audio_ms"])
    rep = score(src, res.shapes, 40, meta["audio_ms"], default_policy())
    assert rep.offset_ms is not None and abs(rep.offset_ms) <= 40 and rep.verdict in ("pass", "warn")


def test_s13_text_units_japanese_and_english():
    ja = ja_units("さんぽ、がっぱ。今日")
    shapes = [(u.kind, u.shapes) for u in ja if u.kind != "pause"]
    assert shapes[:4] == [("cons", ()), ("vowel", (1,)), ("closed", (0,)), ("closed", (0,))]  # さ ん(before p) ぽ
    assert ("glide", (2,)) in shapes                                                        # きょう: the y glide
    en = [(u.label, u.shapes) for u in en_units("Bob, why?") if u.kind != "pause"]
    assert en[0] == ("B", (0,)) and ("W", (3,)) in en and ("AY", (1, 2)) in en


def test_s13_output_is_a_canonical_mouth_timeline_on_the_grid(tmp_path):
    out = tmp_path / "o" / "m.json"
    (tmp_path / "o").mkdir()
    res = run_cli("align", SYNC / "en_1.wav", "--lang", "en", "--out", out)
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text())
    track = parse_mouth(doc, out)
    assert doc["step_ms"] == 40 and (out.parent / doc["audio"]).resolve() == (SYNC / "en_1.wav").resolve()
    assert all(e["t_ms"] % 40 == 0 and e["dur_ms"] > 0 for e in doc["frames"])
    audio_ms = json.loads((SYNC / "en_1.json").read_text())["audio_ms"]
    assert track.end_ms >= audio_ms - 1                        # covers the audio to its end
    assert "frames per shape" in res.stdout and "sync of the result" in res.stdout
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def test_s13_align_over_an_existing_track_keeps_its_last_version_as_bak(tmp_path):
    """`align --out` onto a hand-made track (the session's own mouth file): the track it replaced stays
    beside it as .bak, as the studio's Save keeps it, and the command says so."""
    out = tmp_path / "mouth.json"
    out.write_text('{"step_ms": 40, "frames": [{"t_ms": 0, "mouth_id": 2}]}\n')
    hand_made = out.read_bytes()
    res = run_cli("align", SYNC / "en_1.wav", "--lang", "en", "--out", out)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "mouth.json.bak").read_bytes() == hand_made and out.read_bytes() != hand_made
    assert "the file it replaced: mouth.json.bak" in res.stdout


def _umask():
    old = os.umask(0)
    os.umask(old)
    return old


def test_s13_session_input_uses_its_text_and_step_and_writes_beside_it(tmp_path):
    wav = tmp_path / "ja_2.wav"
    wav.write_bytes((SYNC / "ja_2.wav").read_bytes())
    text = json.loads((SYNC / "ja_2.json").read_text())["text"]
    s = make_session(tmp_path, audio_ms=None, step_ms=20, extra={"text": text, "inputs": {
        "pose_timeline": "pose.json", "audio": "ja_2.wav", "atlas_json": "atlas/atlas.min.json"}})
    res = run_cli("align", s, "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["mode"] == "text" and info["step_ms"] == 20
    assert Path(info["out"]) == tmp_path / "session.mouth.json"
    assert json.loads((tmp_path / "session.mouth.json").read_text())["step_ms"] == 20
    assert run_cli("align", s, "--step-ms", "40", "--out", tmp_path / "b.json", "--json").returncode == 0
    assert json.loads((tmp_path / "b.json").read_text())["step_ms"] == 40
    assert info["lang"] == "ja"


def test_s13_session_lang_key_chooses_the_language_unless_lang_is_given(tmp_path):
    wav = tmp_path / "en_1.wav"
    wav.write_bytes((SYNC / "en_1.wav").read_bytes())
    s = make_session(tmp_path, audio_ms=None, extra={"lang": "en", "inputs": {
        "pose_timeline": "pose.json", "audio": "en_1.wav", "atlas_json": "atlas/atlas.min.json"}})
    assert json.loads(run_cli("align", s, "--json").stdout)["lang"] == "en"
    assert json.loads(run_cli("align", s, "--lang", "ja", "--json").stdout)["lang"] == "ja"


def tone(sr, seconds, f=220.0, amp=0.3):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * f * t)).astype(np.float32)


def test_s13_short_silent_and_noisy_audio(tmp_path):
    sr = 16000
    cases = {"short": tone(sr, 0.3), "silence": np.zeros(sr * 2, np.float32),
             "noise": (0.05 * np.random.default_rng(0).standard_normal(sr * 2)).astype(np.float32)}
    for name, x in cases.items():
        soundfile.write(str(tmp_path / f"{name}.wav"), x, sr)
        res = run_cli("align", tmp_path / f"{name}.wav", "--out", tmp_path / f"{name}.json")
        assert res.returncode == 0, (name, res.stderr)
        frames = parse_mouth(json.loads((tmp_path / f"{name}.json").read_text()), None).sample(len(x) * 25 // sr + 1, 40)
        if name != "short":
            assert (frames == CLOSED).mean() >= 0.9, (name, frames)   # nobody speaks: closed


def test_s13_music_under_speech_stays_mostly_closed_where_nobody_speaks(tmp_path):
    src, meta, lang, targets = held_out("ja_3")
    x = src.samples.copy()
    sr = src.sample_rate
    rng = np.random.default_rng(1)
    music = np.zeros(len(x) + 2 * sr, np.float32)
    t = np.arange(len(music)) / sr
    for k in range(0, len(music), sr // 4):   # a melody of harmonic notes, 4 per second
        f0 = 220 * 2 ** (rng.integers(0, 12) / 12)
        seg = slice(k, min(len(music), k + sr // 4))
        for h in range(1, 4):
            music[seg] += 0.05 / h * np.sin(2 * np.pi * f0 * h * t[seg])
    mixed = music.copy()
    mixed[2 * sr:] += x                       # two seconds of music alone, then speech over music
    res = align(AudioSource.of(mixed, sr), None, lang, 40)
    lead = res.shapes[: 2 * 25 - 3]
    assert (lead == CLOSED).mean() >= 0.7, lead


def test_s13_bad_input_is_exit_2_and_unwritable_output_exit_4(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF nonsense")
    for argv in (["align", bad], ["align", SYNC / "ja_1.wav", "--step-ms", "0"],
                 ["align", SYNC / "ja_1.wav", "--text-file", tmp_path / "missing.txt"],
                 ["align", SYNC / "ja_1.wav", "--lang", "fr"], ["align", tmp_path / "nope.json"]):
        res = run_cli(*argv)
        assert res.returncode == 2, (argv, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    res = run_cli("align", SYNC / "ja_1.wav", "--out", tmp_path)   # a folder
    assert res.returncode == 4 and str(tmp_path) in res.stderr
    s = make_session(tmp_path / "s", audio_ms=400)
    assert run_cli("align", s).returncode == 2                     # a session without audio


def test_s13_text_file_and_empty_text(tmp_path):
    (tmp_path / "t.txt").write_text("\ufeffGood morning.", encoding="utf-8")
    res = run_cli("align", SYNC / "en_1.wav", "--lang", "en", "--text-file", tmp_path / "t.txt",
                  "--out", tmp_path / "o.json", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["mode"] == "text"
    res = run_cli("align", SYNC / "en_1.wav", "--lang", "en", "--text", "...", "--out", tmp_path / "o.json", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["mode"] == "audio" and json.loads(res.stdout)["notes"]
    write_json  # noqa: B018


# --------------------------------------------------------------------- SPEC §13 Words and the grid
def _check_units_on_the_hop_grid(units, audio_ms):
    t = 0
    for u in units:
        assert set(u) >= {"text", "t0_ms", "t1_ms"} and isinstance(u["text"], str)
        assert u["t0_ms"] % 10 == 0 and u["t1_ms"] % 10 == 0, u
        assert t <= u["t0_ms"] <= u["t1_ms"] <= audio_ms, (t, u)
        t = u["t1_ms"]


def test_s13_units_japanese_words_with_morae_at_their_aligned_times():
    src, meta, lang, _ = held_out("ja_2")
    res = align(src, meta["text"], lang, 40, meta["audio_ms"])
    _check_units_on_the_hop_grid(res.units, meta["audio_ms"])
    assert "".join(u["text"] for u in res.units) == meta["text"].replace(" ", "").replace("。", "")
    morae = [m for u in res.units for m in u["morae"]]
    for u in res.units:
        _check_units_on_the_hop_grid(u["morae"], meta["audio_ms"])
        assert u["morae"][0]["t0_ms"] == u["t0_ms"] and u["morae"][-1]["t1_ms"] == u["t1_ms"]
    # each mora here ends with its vowel: its end is where espeak-ng's vowel ends
    ph = meta["phonemes"]
    vowel_ends = [ph[k + 1][0] for k in range(len(ph) - 1) if ph[k][1] in "aiueo"]
    assert len(vowel_ends) == len(morae) == 23
    errors = sorted(abs(m["t1_ms"] - v) for m, v in zip(morae, vowel_ends))
    assert errors[len(errors) // 2] <= 30, errors


def test_s13_units_english_words_at_their_aligned_times():
    src, meta, lang, _ = held_out("en_1")
    res = align(src, meta["text"], lang, 40, meta["audio_ms"])
    _check_units_on_the_hop_grid(res.units, meta["audio_ms"])
    assert [u["text"] for u in res.units] == meta["text"].replace(".", "").split()
    assert all("morae" not in u for u in res.units)
    speech = [t for t, p in meta["phonemes"] if not p.startswith("_")]
    assert abs(res.units[0]["t0_ms"] - speech[0]) <= 60
    assert abs(res.units[-1]["t1_ms"] - meta["phonemes"][-2][0]) <= 80     # "voice" ends at the pause


def test_s13_units_in_json_and_in_the_written_timeline_which_keeps_rendering_the_same(tmp_path):
    from studio.edit.editor import with_events
    out = tmp_path / "m.json"
    text = json.loads((SYNC / "en_2.json").read_text())["text"]
    res = run_cli("align", SYNC / "en_2.wav", "--lang", "en", "--text", text, "--out", out, "--json")
    assert res.returncode == 0, res.stderr
    info, doc = json.loads(res.stdout), json.loads(out.read_text())
    assert info["units"] and doc["units"] == info["units"]
    track = parse_mouth(doc, out)                                  # the schema accepts it, the loader keeps it
    assert track.units == doc["units"]
    bare = parse_mouth({k: v for k, v in doc.items() if k != "units"}, out)
    n = len(track.starts) + 5
    assert (track.sample(n, 40) == bare.sample(n, 40)).all()       # never part of the render
    assert with_events(doc, doc["frames"][:3])["units"] == doc["units"]   # an edit keeps it
    only_audio = run_cli("align", SYNC / "en_2.wav", "--lang", "en", "--out", tmp_path / "a.json", "--json")
    assert json.loads(only_audio.stdout)["units"] == [] and "units" not in json.loads((tmp_path / "a.json").read_text())


def test_s13_malformed_units_name_the_key():
    from contracts.errors import ContractError
    doc = {"step_ms": 40, "frames": [{"t_ms": 0, "mouth_id": 1}], "units": [{"text": "a", "t0_ms": "x", "t1_ms": 5}]}
    with pytest.raises(ContractError, match=r"units\[0\]"):
        parse_mouth(doc, None)


@pytest.mark.parametrize("step", [40, 30, 33.5])
def test_s13_last_event_ends_on_the_grid(step):
    src, meta, lang, _ = held_out("ja_3")
    audio_ms = meta["audio_ms"] - 7                     # not a multiple of any step here
    for text in (None, meta["text"]):
        events = align(src, text, lang, step, audio_ms).events()
        n = int(np.ceil(audio_ms / step))
        assert events[0]["t_ms"] == 0 and events[-1]["t_ms"] + events[-1]["dur_ms"] == pytest.approx(n * step)
        for e, nxt in zip(events, events[1:] + [None]):
            assert e["t_ms"] / step == pytest.approx(round(e["t_ms"] / step))
            assert e["dur_ms"] / step == pytest.approx(round(e["dur_ms"] / step)) and e["dur_ms"] >= step
            if nxt:
                assert e["t_ms"] + e["dur_ms"] == pytest.approx(nxt["t_ms"])


def test_s13_japanese_is_read_as_a_tts_speaks_it():
    from studio.qa.align.text import ja_reading
    assert ja_reading("今日") == "キョー"                      # a long o, not o u
    assert ja_reading("私") == "ワタシ" and ja_reading("明日") == "アシタ"
    assert ja_reading("東京へ行きましょう").endswith("マショー") and "エ" in ja_reading("東京へ")
    units = [u for u in ja_units("今日は") if u.kind == "vowel"]
    assert [u.shapes for u in units] == [(5,), (5,), (1,)]      # o, o, a


def test_s13_reading_prints_nothing_so_json_stays_clean(tmp_path):
    text = json.loads((SYNC / "ja_2.json").read_text())["text"]
    res = run_cli("align", SYNC / "ja_2.wav", "--text", text, "--out", tmp_path / "o.json", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["mode"] == "text" and not res.stderr


def test_s12_a_text_no_one_could_say_in_the_audio_is_not_aligned_to_it(tmp_path):
    """50,000 characters for 7 s of speech: the audio alone is used, at once, and the run says why."""
    from contracts.audio import AudioSource
    from studio.qa.align.aligner import align
    r = align(AudioSource(path=ROOT / "assets_min" / "demo" / "demo.wav"), "x" * 50_000 + "。", "ja")
    assert r.mode == "audio" and any("more than anyone says" in n for n in r.notes)


def test_s13_a_language_with_two_models_hears_their_average(tmp_path, monkeypatch):
    """`ja.npz` and `ja.noisy.npz` (docs/align_accuracy.md, third round): both are loaded, their
    posteriors averaged; the scorer's disk cache knows every member, so a retrained one is not
    served stale results."""
    import shutil

    from studio.qa import articulation
    from studio.qa.align import features, model
    shipped = model.MODEL_DIR
    assert [p.name for p in model.model_files("ja")] == ["ja.npz", "ja.noisy.npz"]
    assert [p.name for p in model.model_files("en")] == ["en.npz", "en.noisy.npz"]
    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("ja.npz", "ja.noisy.npz"):
        shutil.copy(shipped / name, folder / name)
    monkeypatch.setattr(model, "MODEL_DIR", folder)
    model.model_for.cache_clear()
    try:
        x, sr = soundfile.read(str(ROOT / "tests" / "data" / "sync" / "ja_1.wav"), dtype="float32")
        feats = features.features(AudioSource.of(x, sr))
        both = model.model_for("ja")
        plain, noisy = model.load(folder / "ja.npz"), model.load(folder / "ja.noisy.npz")
        np.testing.assert_allclose(both.posteriors(feats), (plain.posteriors(feats) + noisy.posteriors(feats)) / 2,
                                   atol=1e-6)
        assert not np.allclose(plain.posteriors(feats), noisy.posteriors(feats), atol=0.05)   # two models
        np.testing.assert_allclose(both.priors, (plain.priors + noisy.priors) / 2)
        articulation.use_disk_cache(tmp_path / "cache")
        key = ("file", "a.wav", 1, 2, "ja", (1.0,))
        before = articulation._disk_file(key)
        os.utime(folder / "ja.noisy.npz", ns=(1, 1))        # the second model retrained
        assert articulation._disk_file(key) != before
    finally:
        articulation.use_disk_cache(None)
        model.model_for.cache_clear()


def test_s13_align_never_writes_over_a_file_it_reads(tmp_path):
    """`--out` naming the input WAV, the session, or a file the session reads is refused (exit 2, one
    sentence naming it), and nothing is written: it would replace the audio or the session."""
    wav = tmp_path / "en_1.wav"
    wav.write_bytes((SYNC / "en_1.wav").read_bytes())
    before = wav.read_bytes()
    res = run_cli("align", wav, "--lang", "en", "--out", wav)
    assert res.returncode == 2 and "it is the input" in res.stderr and "Traceback" not in res.stderr
    assert wav.read_bytes() == before and not (tmp_path / "en_1.wav.bak").exists()
    s = make_session(tmp_path, audio_ms=None, extra={"inputs": {
        "pose_timeline": "pose.json", "audio": "en_1.wav", "atlas_json": "atlas/atlas.min.json"}})
    session_bytes = s.read_bytes()
    for target, what in ((s, "it is the input"), (wav, "the session's audio"), (tmp_path / "pose.json", "pose timeline")):
        kept = target.read_bytes()
        res = run_cli("align", s, "--out", target)
        assert res.returncode == 2 and what in res.stderr, res.stderr
        assert target.read_bytes() == kept
    assert s.read_bytes() == session_bytes


def test_s13_text_in_the_other_language_is_aligned_as_written_and_says_so():
    """English text under the default Japanese would be spelled out letter by letter in katakana (and
    Japanese text under English dropped): the text's own language is used, with a note."""
    src, meta, _, _ = held_out("en_1")
    r = align(src, meta["text"], "ja", 40, meta["audio_ms"])
    assert r.lang == "en" and r.mode == "text" and any("written in English" in n for n in r.notes)
    assert [u["text"] for u in r.units][:2] == ["Good", "morning"]
    assert all(u["t1_ms"] > u["t0_ms"] for u in r.units)
    src, meta, _, _ = held_out("ja_1")
    r = align(src, meta["text"], "en", 40, meta["audio_ms"])
    assert r.lang == "ja" and r.mode == "text" and any("written in Japanese" in n for n in r.notes)
    assert align(src, meta["text"], "ja", 40, meta["audio_ms"]).notes == []


def test_s13_english_numbers_are_said_as_words():
    from studio.qa.align.text import en_script, spoken_number
    assert spoken_number("25") == ["twenty", "five"] and spoken_number("4th") == ["fourth"]
    assert spoken_number("1,000") == ["one", "thousand"] and spoken_number("3.5") == ["three", "point", "five"]
    assert spoken_number("1990s") == ["nineteen", "nineties"] and spoken_number("12th") == ["twelfth"]
    assert spoken_number("$5") == ["five", "dollars"] and spoken_number("3.5%") == ["three", "point", "five", "percent"]
    assert [w.text for w in en_script("it cost $5, or 3.5% of 1,000,000.").words] == [
        "it", "cost", "$5", "or", "3.5%", "of", "1,000,000"]
    s = en_script("I have 3 cats and 25 dogs on May 4th, 2024.")
    assert [w.text for w in s.words] == ["I", "have", "3", "cats", "and", "25", "dogs", "on", "May", "4th", "2024"]
    for k in (2, 5, 9, 10):       # every number has sounds of its own
        assert any(u.word == k and u.kind == "vowel" for u in s.units), s.words[k]


def test_s11_a_reader_that_closes_the_pipe_ends_the_command_quietly(tmp_path):
    """`main.py score --json | head -1`: the reader leaves early; no "internal error", the shell's
    status for a closed pipe."""
    import subprocess
    import sys
    wav = tmp_path / "en_1.wav"
    wav.write_bytes((SYNC / "en_1.wav").read_bytes())
    s = make_session(tmp_path, audio_ms=None, extra={"inputs": {
        "pose_timeline": "pose.json", "audio": "en_1.wav", "atlas_json": "atlas/atlas.min.json"}})
    p = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "score", str(s), "--json"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()              # the reader is gone before anything is written
    err = p.stderr.read().decode()
    assert p.wait(timeout=300) == 141 and "internal error" not in err and "Traceback" not in err, err


def test_s13_a_session_whose_mouth_timeline_is_broken_can_still_be_aligned(tmp_path):
    """Regenerating is what a broken mouth file needs: the run says why it is not used and writes the
    new one (its last version kept as .bak); any other broken file of the session still stops it."""
    wav = tmp_path / "en_1.wav"
    wav.write_bytes((SYNC / "en_1.wav").read_bytes())
    s = make_session(tmp_path, audio_ms=None, mouth=[{"t_ms": 0, "dur_ms": 40, "mouth_id": 9}], extra={"inputs": {
        "pose_timeline": "pose.json", "mouth_timeline": "mouth.json", "audio": "en_1.wav",
        "atlas_json": "atlas/atlas.min.json"}})
    broken = (tmp_path / "mouth.json").read_bytes()
    res = run_cli("align", s, "--lang", "en", "--out", tmp_path / "mouth.json")
    assert res.returncode == 0, res.stderr
    assert "mouth_id" in res.stderr and "not used" in res.stderr
    assert (tmp_path / "mouth.json.bak").read_bytes() == broken
    assert len(parse_mouth(json.loads((tmp_path / "mouth.json").read_text()), tmp_path / "mouth.json").ids) > 3
    (tmp_path / "mouth.json").unlink()                                  # missing: the same
    res = run_cli("align", s, "--lang", "en", "--out", tmp_path / "mouth.json", "--json")
    assert any("not found" in n for n in json.loads(res.stdout)["notes"])     # --json carries it too
    assert res.returncode == 0 and "not found" in res.stderr and (tmp_path / "mouth.json").exists(), res.stderr
    (tmp_path / "pose.json").write_text("[{]")
    res = run_cli("align", s, "--lang", "en", "--out", tmp_path / "other.json")
    assert res.returncode == 2 and "pose.json" in res.stderr and not (tmp_path / "other.json").exists()


def test_s15_words_after_a_range_generation_are_in_order_and_never_overlap():
    """Words lane after generating over 1000–2000 ms: new words whose middle is in the range, cut to
    it (their morae too); old words on either side stay, cut to their side (a user trial saw a new
    word run 10–2590 ms over six old ones)."""
    from studio.model import _words_after
    w = lambda t, a, b, **k: dict(text=t, t0_ms=a, t1_ms=b, **k)   # noqa: E731
    old = [w("A", 0, 900), w("B", 900, 1300), w("C", 1300, 1800), w("D", 1800, 2200), w("E", 2200, 2600)]
    new = [w("X", 10, 1500), w("Z", 900, 1900, morae=[w("z1", 900, 1200), w("z2", 1200, 1900)]), w("Y", 1900, 2590)]
    got = _words_after(old, new, (1000.0, 2000.0))
    assert [(u["text"], u["t0_ms"], u["t1_ms"]) for u in got] == [
        ("A", 0, 900), ("Z", 1000, 1900), ("D", 2000, 2200), ("E", 2200, 2600)]
    assert [(m["text"], m["t0_ms"], m["t1_ms"]) for m in got[1]["morae"]] == [("z1", 1000, 1200), ("z2", 1200, 1900)]
    assert _words_after(old, new, None) == new
