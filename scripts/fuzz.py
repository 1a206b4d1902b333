"""The long hostile-input run (SPEC §12): thousands of mutated inputs (timelines, sessions, atlases,
damaged sprites and WAVs, odd paths, command-line text that is not text) through validate, score,
export and align, with counts per command, exit code and mutation class; stderr is checked down to
descriptor 2 (only the project's lines). The fast part runs in ./test
(tests/test_fuzz.py); the README quotes this script's counts.

    .venv/bin/python scripts/fuzz.py --cases 3000 [--seed 1] [--show 20]
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fuzzing import Tally, base_bundle, base_demo, base_small, frames_of, make_case, run_case  # noqa: E402

SAMPLES = ROOT / "tests" / "data" / "production_samples"  # a copy of shared/reference/production_samples


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=20, help="failures to print")
    ap.add_argument("--export-max-frames", type=int, default=120)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tally = Tally()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lipsync-fuzz-") as tmp:
        root = Path(tmp)
        bases = [base_small(root / "small"), base_demo(root / "demo")]
        if SAMPLES.exists():
            bases.append(base_bundle(root / "bundle", SAMPLES))
        for k in range(args.cases):
            case = root / f"c{k}"
            session, cls = make_case(rng.choice(bases), case, rng)
            n = frames_of(session)
            run_case(session, cls, case / "out", tally, export=n is not None and n <= args.export_max_frames)
            import shutil
            shutil.rmtree(case, ignore_errors=True)
            if (k + 1) % 250 == 0:
                print(f"{k + 1} cases, {len(tally.failures)} failures, {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"\n{tally.cases} cases in {time.perf_counter() - t0:.0f} s; slowest command {tally.slowest:.2f} s")
    for cmd in ("validate", "score", "export", "align"):
        codes = {code: c for (c_, code), c in sorted(tally.runs.items()) if c_ == cmd}
        print(f"  {cmd:<9} runs {sum(codes.values()):>5}: " + ", ".join(f"exit {k}: {v}" for k, v in codes.items()))
    print(f"  mutation classes: {len(tally.classes)}")
    print(f"failures: {len(tally.failures)}")
    for f in tally.failures[: args.show]:
        print("  " + f)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
