"""Audio engine figures: output callback cost and playing-position jitter.

    .venv/bin/python bench/audio_bench.py

Callback cost: time per 512-frame block of the transport's callback (the code PortAudio runs),
against a bare numpy copy of the same block as the baseline, in one run. Jitter: while the
transport plays (device if there is one, else the silent clock), the position is read at
~200 Hz and compared with a straight line fitted to (wall time, position); the residuals are
the jitter a picture following this clock would see.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.client import InProcessEngine  # noqa: E402

SR, BLOCK = 44100, 512


class NullOutput:
    name, has_sound, latency, blocksize = "null", False, 0.0, BLOCK

    def time(self):
        return time.monotonic()

    def start(self, cb):
        self.cb = cb

    def close(self):
        pass


def callback_cost(n_calls: int = 20000) -> None:
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, (2, SR * 60)).astype(np.float32)
    out = NullOutput()
    eng = InProcessEngine("bench", audio, SR, 60.0, output=out)
    eng.play()
    outdata = np.zeros((BLOCK, 2), np.float32)
    src = audio.T.copy()
    for _ in range(200):
        out.cb(outdata, BLOCK, 0.0)
    t0 = time.perf_counter_ns()
    for _ in range(n_calls):
        out.cb(outdata, BLOCK, 0.0)
        if eng.transport._pos > SR * 50:
            eng.transport._pos = 0
    ours = (time.perf_counter_ns() - t0) / n_calls / 1000
    t0 = time.perf_counter_ns()
    pos = 0
    for _ in range(n_calls):
        np.copyto(outdata, src[pos:pos + BLOCK])
        pos = (pos + BLOCK) % (SR * 50)
    base = (time.perf_counter_ns() - t0) / n_calls / 1000
    budget = BLOCK / SR * 1e6
    print(f"callback: {ours:.1f} us per {BLOCK}-frame block (bare numpy copy {base:.1f} us, ratio {ours / base:.1f}x); "
          f"block budget {budget:.0f} us -> {100 * ours / budget:.2f}% of it")
    eng.close()


def jitter(seconds: float = 3.0) -> None:
    from engine.client import bootstrap_engine
    eng = bootstrap_engine("bench", None, seconds + 2)
    eng.play()
    time.sleep(0.1)
    wall, pos = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        wall.append(time.monotonic())
        pos.append(eng.position_seconds())
        time.sleep(0.005)
    eng.close()
    w, p = np.array(wall), np.array(pos)
    slope, icpt = np.polyfit(w, p, 1)
    resid = np.abs(p - (slope * w + icpt)) * 1000
    print(f"position jitter ({eng.output_status or 'device'}): rate {slope:.4f} s/s, "
          f"mean {resid.mean():.3f} ms, p95 {np.percentile(resid, 95):.3f} ms, max {resid.max():.3f} ms "
          f"over {len(w)} reads")


if __name__ == "__main__":
    callback_cost()
    jitter()
