"""SPEC §15 "Saving writes the edit and nothing else" (issue 17, defect 5): unchanged events keep their
bytes, an edited event its unchanged fields, new events follow the file's own key order and number
forms; Save As keeps a timeline's own relative paths. Round trips on every production sample: open,
make one edit, save — the file's diff is that edit alone. Qt-free (the studio's model)."""
import difflib
import json
import os
import re
import shutil

import pytest
from helpers import SAMPLES, write_wav

from studio.edit.editor import TimelineEditor, events_of
from studio.io.saving import dump_like
from studio.io.splice import Mismatch, number_form, number_text, rewrite
from studio.model import StudioModel


def changed_lines(before: bytes, after: bytes) -> tuple[list[str], list[str]]:
    """The lines only in `before` and the lines only in `after` (difflib)."""
    a, b = before.decode("utf-8-sig").splitlines(), after.decode("utf-8-sig").splitlines()
    diff = list(difflib.ndiff(a, b))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def edit_and_rewrite(raw: bytes, kind: str, edit):
    base = json.loads(raw.decode("utf-8-sig"))
    ed = TimelineEditor({kind: base}, 40)
    edit(ed)
    return rewrite(ed.docs[kind], base, raw), ed


QUIRKY_POSE = (b'{\n  "meta": {"step_ms": 40, "note": "caf\\u00e9 \\/ x", "list": [1, 2.50, -0.0]},\n'
               b'  "frames": [\n'
               b'    {"t_ms": 0, "yaw": 11.191000, "pitch": 0, "roll": 0.0, "tx": 1e-05, "scale": 1.0},\n'
               b'    {"t_ms": 40,  "yaw": 2.500000, "pitch": 3, "roll": 0.0, "tx": 0.25, "scale": 1.0},\n'
               b'    {"t_ms": 80, "yaw": -0.0, "pitch": 1, "roll": 0.5, "tx": 1e-05, "scale": 1.25}\n'
               b'  ]\n}\n')


def test_s15_an_edited_field_is_written_in_the_files_number_form_and_nothing_else_changes():
    out, _ = edit_and_rewrite(QUIRKY_POSE, "pose", lambda ed: ed.set_pose(
        1, {"yaw_deg": 3.25, "pitch_deg": 4.0, "roll_deg": 2, "tx": 0.5, "scale": 2}))
    gone, new = changed_lines(QUIRKY_POSE, out)
    assert gone == ['    {"t_ms": 40,  "yaw": 2.500000, "pitch": 3, "roll": 0.0, "tx": 0.25, "scale": 1.0},']
    # fixed decimals stay fixed, ints stay ints, 0.0-style floats keep .0; the odd spacing stays
    assert new == ['    {"t_ms": 40,  "yaw": 3.250000, "pitch": 4, "roll": 2.0, "tx": 0.5, "scale": 2.0},']
    assert json.loads(out)["frames"][1]["roll"] == 2.0


def test_s15_unchanged_parts_keep_their_bytes_escapes_and_number_forms():
    out, _ = edit_and_rewrite(QUIRKY_POSE, "pose", lambda ed: ed.set_pose(2, {"yaw_deg": 1.5}))
    gone, new = changed_lines(QUIRKY_POSE, out)
    assert gone == ['    {"t_ms": 80, "yaw": -0.0, "pitch": 1, "roll": 0.5, "tx": 1e-05, "scale": 1.25}']
    assert new == ['    {"t_ms": 80, "yaw": 1.5, "pitch": 1, "roll": 0.5, "tx": 1e-05, "scale": 1.25}']
    assert b'"note": "caf\\u00e9 \\/ x", "list": [1, 2.50, -0.0]' in out and b"11.191000" in out


def test_s15_number_forms():
    assert [number_form(x) for x in ("40", "0.0", "1e-05", "11.191000", "0.003", "-0.0")] == \
        ["int", "float", "float", ("fixed", 6), "decimal", "float"]
    assert number_text(3, "float") == "3.0" and number_text(3.0, "int") == "3" and number_text(2.5, "int") == "2.5"
    assert number_text(1.5, ("fixed", 6)) == "1.500000" and number_text(1 / 3, ("fixed", 3)) == repr(1 / 3)
    assert number_text(2, "decimal", ("decimal", "int")) == "2" and number_text(2, "decimal") == "2.0"
    assert number_text(0.00001, "float") == "1e-05"


def test_s15_a_new_event_follows_the_files_key_order_and_layout():
    raw = (b'{"audio": "a.wav", "step_ms": 40, "frames": [\n'
           b'  {"t_ms": 0, "mouth_id": 0},\n  {"t_ms": 40, "mouth_id": 1},\n  {"t_ms": 120, "mouth_id": 2}\n]}')

    def insert(ed):
        e = ed.mouth_event(80, 120, 4)
        assert list(e) == ["mouth_id", "t_ms"]           # the editor's own order…
        ed.insert("mouth", e)
    out, _ = edit_and_rewrite(raw, "mouth", insert)
    gone, new = changed_lines(raw, out)
    assert gone == [] and new == ['  {"t_ms": 80, "mouth_id": 4},']   # …written in the file's
    flipped = re.sub(rb'\{"t_ms": (\d+), "mouth_id": (\d)\}', rb'{"mouth_id": \2, "t_ms": \1}', raw)
    out, _ = edit_and_rewrite(flipped, "mouth", insert)
    assert changed_lines(flipped, out) == ([], ['  {"mouth_id": 4, "t_ms": 80},'])


def test_s15_a_new_pose_key_in_a_pretty_file_takes_its_neighbours_shape():
    raw = (SAMPLES / "pose_timeline_m0_wrapper_scroll6.json").read_bytes()
    new_key = {"scale": 1.0, "roll": 0.0, "t_ms": 60, "pitch": 0.5, "yaw": 2, "ty": 0.0, "tx": 0.001}
    out, ed = edit_and_rewrite(raw, "pose", lambda ed: ed.insert("pose", new_key))
    block = ('    {\n      "t_ms": 60,\n      "yaw": 2.0,\n      "pitch": 0.5,\n      "roll": 0.0,\n'
             '      "scale": 1.0,\n      "tx": 0.001,\n      "ty": 0.0\n    },\n').encode()
    at = raw.index(b'    {\n      "t_ms": 80,')
    assert out == raw[:at] + block + raw[at:]   # the file's key order and number forms, its indentation


def test_s15_a_generated_track_rewrites_only_the_events_whose_shape_changed():
    frames = [{"t_ms": t, "mouth_id": (t // 40) % 6} for t in range(0, 4000, 40)]
    raw = json.dumps({"audio": "a.wav", "step_ms": 40, "frames": frames}, indent=2).encode()
    shapes = [f["mouth_id"] for f in frames]
    shapes[30], shapes[60] = 4, 2               # what the aligner would change (both were 0)
    runs = [(i * 40, i * 40 + 40, m) for i, m in enumerate(shapes)]
    out, ed = edit_and_rewrite(raw, "mouth", lambda ed: ed.paint_mouth_runs(runs, "generate"))
    gone, new = changed_lines(raw, out)
    assert gone == ['      "mouth_id": 0'] * 2 and new == ['      "mouth_id": 4', '      "mouth_id": 2']


def test_s15_undo_and_recovered_documents_write_the_original_bytes():
    raw = (SAMPLES / "mouth_timeline_test1.json").read_bytes()
    out, ed = edit_and_rewrite(raw, "mouth", lambda ed: (ed.set_mouth([5], 3), ed.undo()))
    assert out == raw                            # the same objects again: the same bytes
    base = json.loads(raw)
    recovered = json.loads(json.dumps(dict(base, frames=[dict(e) for e in events_of(base)])))
    recovered["frames"][7]["mouth_id"] = 4       # equal values, new objects (a recovery file) + one change
    gone, new = changed_lines(raw, rewrite(recovered, base, raw))
    assert (gone, new) == (['      "mouth_id": 0'], ['      "mouth_id": 4'])


def test_s15_encoding_details_survive_a_splice():
    raw = b'\xef\xbb\xbf{\r\n\t"step_ms": 40,\r\n\t"frames": [\r\n\t\t{"t_ms": 0, "mouth": "A"},\r\n' \
          b'\t\t{"t_ms": 40, "mouth": "close"}\r\n\t]\r\n}'
    out, _ = edit_and_rewrite(raw, "mouth", lambda ed: ed.set_mouth([1], 2))
    assert out == raw.replace(b'"close"', b'"i"')
    out, _ = edit_and_rewrite(raw, "mouth", lambda ed: ed.insert("mouth", ed.mouth_event(80, 120, 2)))
    assert out == raw.replace(b'"close"}\r\n', b'"close"},\r\n\t\t{"t_ms": 80, "mouth": "i"}\r\n')


def test_s15_a_file_changed_on_disk_is_written_afresh_in_its_layout():
    raw = (SAMPLES / "m3prime_mouth6_track.json").read_bytes()
    base = json.loads(raw)
    changed = raw.replace(b'"t_ms": 200', b'"t_ms": 201', 1)     # someone else's edit since it was read
    with pytest.raises(Mismatch):
        rewrite(base, base, changed)
    out = dump_like(base, changed, base)
    assert json.loads(out) == base and out.startswith(b'{\n  "meta": {\n    "step_ms": 40\n  },')


# ------------------------------------------------------------------ production samples, end to end
@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """The production samples as the sessions they come from: the v0.2 bundle (beside its files), the
    v0.1 session in its own repo layout, and a form A session around the mouth6 track and v1 pose."""
    root = tmp_path_factory.mktemp("samples")
    bundle = root / "bundle"
    shutil.copytree(SAMPLES, bundle)
    write_wav(bundle / "1_0_72.wav", 36040, sr=8000)
    real = root / "real"
    for src, dst in (("sess_real_01.session.json", "sess_real_01.session.json"),
                     ("pose_timeline_m0_wrapper_scroll6.json", "timelines/pose_timeline_m0_wrapper_leaning3.json"),
                     ("mouth_timeline_test1.json", "timelines/mouth_timeline_test1.json"),
                     ("sess_real_01.expression_timeline.json", "timelines/sess_real_01.expression_timeline.json")):
        (real / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / src, real / dst)
    write_wav(real / "audio" / "1_0_72.wav", 36040, sr=8000)
    tracks = root / "tracks"
    tracks.mkdir()
    for name in ("m3prime_mouth6_track.json", "pose_timeline_v1_euler.json"):
        shutil.copy(SAMPLES / name, tracks / name)
    (tracks / "session.json").write_text(json.dumps({
        "schema_version": "runtime_session_v0.1", "session_id": "tracks", "audio_ms": 17000, "step_ms": 40,
        "inputs": {"pose_timeline": "pose_timeline_v1_euler.json", "mouth_timeline": "m3prime_mouth6_track.json"}}))
    return {"bundle": bundle / "session_bundle_v0.2.session.json", "real": real / "sess_real_01.session.json",
            "tracks": tracks / "session.json"}


def _v1_yaw(ed):
    e = ed.events("pose")[3]
    ed.apply("edit pose key", "pose", [dict(e, euler=dict(e["euler"], yaw_deg=12.5))], 3, 4)


ROUND_TRIPS = [   # session, timeline, edit, the line it removes, the line it adds
    ("bundle", "mouth", lambda ed: ed.set_mouth([700], 2), '      "mouth_id": 5', '      "mouth_id": 2'),
    ("bundle", "expression", lambda ed: ed.set_expression([1], "smile"),
     '      "expression": "normal",', '      "expression": "smile",'),
    ("bundle", "pose", lambda ed: ed.set_pose(10, {"yaw_deg": 5.5}), '      "yaw": -0.055,', '      "yaw": 5.5,'),
    ("real", "pose", lambda ed: ed.set_pose(2, {"roll_deg": 2}), '      "roll": 0.0,', '      "roll": 2.0,'),
    ("real", "mouth", lambda ed: ed.set_mouth([0], 5), '      "mouth_id": 0', '      "mouth_id": 5'),
    ("tracks", "mouth", lambda ed: ed.set_mouth([1], 0), '      "mouth6": "i"', '      "mouth6": "close"'),
    ("tracks", "mouth", lambda ed: ed.set_mouth([3], 4), '      "mouth6": "close"', '      "mouth6": "e"'),
    ("tracks", "pose", _v1_yaw, '        "yaw_deg": 2.261,', '        "yaw_deg": 12.5,'),
]


@pytest.mark.parametrize("case", range(len(ROUND_TRIPS)))
def test_s15_production_sample_round_trip_changes_only_the_edit(samples, case):
    name, kind, edit, gone, new = ROUND_TRIPS[case]
    m = StudioModel()
    m.open(samples[name])
    path = getattr(m.project.session, kind).path
    before = path.read_bytes()
    edit(m.editor)
    assert m.dirty
    m.save()
    after = path.read_bytes()
    path.write_bytes(before)                     # the next case starts from the sample again
    assert changed_lines(before, after) == ([gone], [new])
    assert not m.dirty


def test_s15_save_as_rewrites_only_the_paths_and_keeps_a_timelines_own_audio(samples, tmp_path):
    m = StudioModel()
    m.open(samples["real"])
    m.editor.set_mouth([3], 1)
    session_before = samples["real"].read_bytes()
    new = m.save_as(tmp_path / "moved" / "sess.json")
    gone, added = changed_lines(session_before, new.read_bytes())
    assert gone == ['  "pose_timeline": "timelines/pose_timeline_m0_wrapper_leaning3.json",',
                    '  "mouth_timeline": "timelines/mouth_timeline_test1.json",',
                    '  "expression_timeline": "timelines/sess_real_01.expression_timeline.json",',
                    '  "audio": "audio/1_0_72.wav"']
    assert added[:3] == ['  "pose_timeline": "pose_timeline_m0_wrapper_leaning3.json",',
                         '  "mouth_timeline": "mouth_timeline_test1.json",',
                         '  "expression_timeline": "sess_real_01.expression_timeline.json",']
    assert (new.parent / json.loads(new.read_text())["audio"]).resolve() == \
        (samples["real"].parent / "audio" / "1_0_72.wav").resolve()
    mouth_gone, mouth_added = changed_lines((SAMPLES / "mouth_timeline_test1.json").read_bytes(),
                                            (new.parent / "mouth_timeline_test1.json").read_bytes())
    # the mouth file's own `audio` still names the file beside the old mouth file, not the session's WAV
    audio = os.path.relpath(samples["real"].parent / "timelines" / "1_0_72.wav", new.parent)
    assert mouth_gone == ['  "audio": "1_0_72.wav",', '      "mouth_id": 0']
    assert mouth_added == [f'  "audio": "{audio}",', '      "mouth_id": 1']
    assert m.project.session.path == new and not m.dirty
    m.editor.undo()                              # the history came along
    assert m.dirty


def test_s15_save_as_in_the_same_folder_leaves_relative_paths_alone(samples):
    m = StudioModel()
    m.open(samples["bundle"])
    new = m.save_as(samples["bundle"].with_name("renamed.json"))
    before, after = samples["bundle"].read_bytes(), new.read_bytes()
    assert after == before                       # same folder: every path still names the same file
    assert json.loads((new.parent / "mouth_timeline_test1.json").read_text())["audio"] == "1_0_72.wav"
