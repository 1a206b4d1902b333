"""SPEC §12: time stays proportional to the input. Speed itself is measured by
bench/validate_bench.py; these tests count work, which a noisy machine cannot disturb: lines of
our code executed at two sizes of one input shape, and frames written while sampling overlapping
events (each frame once, however many events cover it)."""
import json
import random
import sys

import numpy as np
import pytest
from helpers import ROOT, make_atlas, make_session, write_json

from contracts.timelines import parse_expression, parse_mouth

MOUTH_FILES = ["mouth_close.png", "mouth_a.png", "mouth_i.png", "mouth_u.png", "mouth_e.png", "mouth_o.png"]


# ------------------------------------------------------------------ the cover, against painting
def painted(a, b, n):
    """The rule as the SPEC states it: paint events in file order, later paints win."""
    out = np.full(n, -1)
    for k, (x, y) in enumerate(zip(a, b)):
        if y > x:
            out[x:y] = k
    return out


@pytest.mark.parametrize("overlapping", [False, True])
def test_s4_s5_latest_cover_is_painting_in_file_order(overlapping):
    from contracts.coverage import any_cover, latest_cover
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randrange(1, 60)
        a = sorted(rng.randrange(0, n + 1) for _ in range(rng.randrange(0, 25)))
        if overlapping:
            b = [min(n, x + rng.randrange(0, n)) for x in a]
        else:
            b = [min(n, nxt) for nxt in a[1:] + [n]]
            b = [max(x, y - rng.randrange(0, 2)) for x, y in zip(a, b)]   # gaps too
        assert latest_cover(np.array(a, int), np.array(b, int), n).tolist() == painted(a, b, n).tolist(), (a, b)
        assert any_cover(np.array(a, int), np.array(b, int), n).tolist() == (painted(a, b, n) >= 0).tolist()


class CountingArray(np.ndarray):
    """An array that counts the elements written into it."""
    writes = 0

    def __setitem__(self, key, value):
        CountingArray.writes += int(np.count_nonzero(np.ones(self.shape, bool)[key]))
        super().__setitem__(key, value)


@pytest.fixture()
def counted_writes(monkeypatch):
    """Arrays made by np.full / np.zeros count the elements written into them."""
    full, zeros = np.full, np.zeros
    monkeypatch.setattr(np, "full", lambda *a, **k: full(*a, **k).view(CountingArray))
    monkeypatch.setattr(np, "zeros", lambda *a, **k: zeros(*a, **k).view(CountingArray))
    CountingArray.writes = 0
    return CountingArray


def test_s12_overlapping_expression_events_write_each_frame_once(counted_writes):
    n, events = 20_000, 2_000   # each event lasts to the end: painting them in turn writes 20 million frames
    track = parse_expression([{"t_ms": 40 * i, "dur_ms": 40 * n, "expression": ("smile", "blink", "sad")[i % 3]}
                              for i in range(events)], None)
    counted_writes.writes = 0
    out, _ = track.sample(n, 40.0, ["normal", "smile", "angry", "sad", "blink"], "normal")
    assert counted_writes.writes <= 4 * n, counted_writes.writes
    assert out[-1] == 4 and out[0] == 1   # a blink covers the end; the first frame shows the first smile


def test_s12_overlapping_mouth_events_write_each_frame_once(counted_writes):
    n, events = 20_000, 2_000
    track = parse_mouth({"step_ms": 40, "frames": [{"t_ms": 40 * i, "dur_ms": 40 * n, "mouth_id": 1 + i % 5}
                                                   for i in range(events)]}, None)
    counted_writes.writes = 0
    out = track.sample(n, 40.0)
    assert counted_writes.writes <= 4 * n, counted_writes.writes
    assert out[0] == 1 and out[-1] == 1 + (events - 1) % 5


# ---------------------------------------------------------------- our lines at two sizes
def lines_run(fn) -> int:
    """Lines of the project's own code (not numpy's or the standard library's) executed by fn()."""
    ours = str(ROOT)
    venv = str(ROOT / ".venv")
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        name = frame.f_code.co_filename
        if not name.startswith(ours) or name.startswith(venv):
            return None
        if event == "line":
            count += 1
        return tracer
    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


def atlas_session(folder, views):
    """A session whose atlas lists `views` views whose sprites are all missing (warnings, hints)."""
    atlas = make_atlas(folder / "atlas", views=("front",), expressions=("blink",))
    doc = json.loads(atlas.read_text())
    for k in range(views):
        doc[f"view_{k:05d}"] = {m: f"v{k % 7}/{f}" for m, f in zip(("closed", "a", "i", "u", "e", "o"), MOUTH_FILES)}
    write_json(atlas, doc)
    return make_session(folder, atlas=atlas, audio_ms=400)


def events_session(folder, events, kind):
    """A two-minute session with `events` expression or mouth events of one shape."""
    if kind == "expression overlays":
        return make_session(folder, audio_ms=120_000, expression={"timeline": [
            {"t_ms": 120_000 * i // events, "dur_ms": 120_000, "expression": "smile"} for i in range(events)]})
    if kind == "legacy emo_ids, each unknown":
        return make_session(folder, audio_ms=120_000, expression=[
            {"t_ms": i * 40, "emo_id": f"nosuch_{i}", "blink": i % 3} for i in range(events)])
    if kind == "mouth overlaps":
        return make_session(folder, audio_ms=120_000, mouth={"step_ms": 40, "frames": [
            {"t_ms": i * 40, "dur_ms": 120_000, "mouth6": "aiueo"[i % 5]} for i in range(events)]})
    return make_session(folder, audio_ms=120_000, pose=[{"t_ms": i * 40, "yaw": i % 30 - 15} for i in range(events)])


@pytest.mark.parametrize("kind, sizes", [("atlas of missing sprites", (60, 240)),
                                         ("expression overlays", (500, 2000)),
                                         ("legacy emo_ids, each unknown", (500, 2000)),
                                         ("mouth overlaps", (500, 2000)), ("pose keys", (500, 2000))])
def test_s12_validate_does_work_proportional_to_the_input(kind, sizes, tmp_path):
    """Four times the input, about four times our lines (a quadratic step would be sixteen)."""
    from studio.plan import open_project
    counts = []
    for size in sizes:
        folder = tmp_path / f"{size}"
        session = atlas_session(folder, size) if kind.startswith("atlas") else events_session(folder, size, kind)
        open_project(session)  # warm: imports and the schemas' first compile are not the input's cost
        counts.append(lines_run(lambda: open_project(session).warnings))
    assert counts[1] / counts[0] < 6, counts
