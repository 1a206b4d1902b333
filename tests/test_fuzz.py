"""SPEC §12 hostile input, fuzzed (the fast part; scripts/fuzz.py runs thousands): every mutated
session, timeline, atlas, sprite, WAV, path and command-line text gets a clean answer from
validate, score and export (and align for the text classes) — exit 0/2/3/4, never 1, no
traceback, no line over 400 characters, nothing over 20 s, nothing on stderr but the project's
own lines (descriptor 2 included, where native libraries write), and validate rejects everything
score and export reject."""
import random

import pytest
from fuzzing import Tally, base_bundle, base_demo, base_small, frames_of, make_case, run_case
from helpers import SAMPLES

CASES = 300


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-bases")
    return [base_small(root / "small"), base_demo(root / "demo"), base_bundle(root / "bundle", SAMPLES)]


def test_s12_fuzzed_inputs_get_clean_answers(bases, tmp_path):
    rng = random.Random(20261206)
    tally = Tally()
    for k in range(CASES):
        base = bases[0] if k % 4 else rng.choice(bases)
        session, cls = make_case(base, tmp_path / f"c{k}", rng)
        n = frames_of(session)
        run_case(session, cls, tmp_path / f"c{k}" / "out", tally, export=n is not None and n <= 60)
    assert not tally.failures, "\n".join(tally.failures[:20])
    assert tally.cases == CASES and sum(c for (cmd, _), c in tally.runs.items() if cmd == "export") >= 20
    # the mutations really reach both answers: plenty are rejected, plenty still pass
    assert tally.runs[("validate", 2)] > CASES // 5 and tally.runs[("validate", 0)] > CASES // 5
