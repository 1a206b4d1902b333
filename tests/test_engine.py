"""SPEC §10 audio engine: contracts, DawDreamer renders, the transport clock, no-PortAudio fallback."""
import subprocess
import sys
import time
import tracemalloc
from dataclasses import fields

import numpy as np
import pytest
import soundfile
from helpers import ROOT

from engine.client import bootstrap_engine
from engine.contracts import RenderRequest, TransportState
from engine.offline import render_audio, warp_offset_samples

SR = 22050


class ManualOutput:
    """A fake device: the test advances its clock block by block."""
    name, has_sound, latency = "manual", True, 0.0

    def __init__(self, blocksize=256, channels=1):
        self.blocksize, self.channels = blocksize, channels
        self.now = 100.0
        self.callback = None
        self.out = np.zeros((blocksize, channels), np.float32)
        self.played = []

    def time(self):
        return self.now

    def start(self, callback):
        self.callback = callback

    def tick(self, blocks=1):
        for _ in range(blocks):
            self.callback(self.out, self.blocksize, self.now)
            self.played.append(self.out[:, 0].copy())
            self.now += self.blocksize / SR

    def close(self):
        pass


def ramp_engine(seconds=4.0, **kw):
    """Audio whose sample value encodes its own index, so positions can be read from the output."""
    n = int(seconds * SR)
    audio = (np.arange(n, dtype=np.float64) / n).astype(np.float32)[None]
    from engine.client import InProcessEngine
    out = ManualOutput()
    return InProcessEngine("t", audio, SR, seconds, output=out), out, n


def index_of(value, n):
    return int(round(value * n))


def test_s10_transport_state_has_the_contract_fields():
    names = [f.name for f in fields(TransportState)]
    assert names[:7] == ["session_id", "running", "position_seconds", "sample_rate", "buffer_size_frames",
                         "tempo_bpm", "last_update_iso8601"]
    eng, out, _ = ramp_engine()
    st = eng.get_transport_state()
    assert st.session_id == "t" and st.sample_rate == SR and st.buffer_size_frames == 256 and not st.running
    assert st.to_dict()["last_update_iso8601"].endswith("+00:00")


def test_s10_position_advances_at_real_rate_and_pause_holds():
    eng, out, n = ramp_engine()
    eng.play()
    out.tick(86)                        # 86 * 256 / 22050 = 0.998 s
    assert eng.position_seconds() == pytest.approx(86 * 256 / SR, abs=1e-6)
    out.now -= 128 / SR                 # half-way through the last block: interpolated from the DAC time
    assert eng.position_seconds() == pytest.approx(85.5 * 256 / SR, abs=1e-6)
    out.now += 128 / SR
    eng.pause()
    held = eng.position_seconds()
    out.tick(20)
    assert eng.position_seconds() == pytest.approx(held) and not eng.get_transport_state().running
    assert not out.played[-1].any()     # paused: silence


def test_s10_played_samples_are_the_buffer_in_order():
    eng, out, n = ramp_engine()
    eng.play()
    out.tick(3)
    got = np.concatenate(out.played[-3:])
    assert [index_of(v, n) for v in got[:3]] == [0, 1, 2] and index_of(got[-1], n) == 3 * 256 - 1


def test_s10_seek_lands_on_the_right_sample_playing_and_paused():
    eng, out, n = ramp_engine()
    eng.seek(1.5)
    assert eng.position_seconds() == pytest.approx(1.5, abs=1 / SR)
    eng.play()
    out.tick()
    assert index_of(out.played[-1][0], n) == int(round(1.5 * SR))
    eng.seek(0.25)                      # while playing
    out.tick()
    assert index_of(out.played[-1][0], n) == int(round(0.25 * SR))


def test_s10_loop_wraps_to_the_loop_start_sample():
    eng, out, n = ramp_engine()
    a, b = int(0.5 * SR), int(0.5 * SR) + 300
    eng.set_loop(a / SR, b / SR)
    eng.seek(a / SR)
    eng.play()
    out.tick(3)
    got = [index_of(v, n) for v in np.concatenate(out.played[-3:])]
    assert got[:300] == list(range(a, b)) and got[300:600] == list(range(a, b))
    eng.set_loop(None)
    out.tick(2)
    assert max(index_of(v, n) for v in out.played[-1]) > b


def test_s10_end_stops_and_stop_returns_to_start():
    eng, out, n = ramp_engine(seconds=0.05)
    eng.play()
    out.tick(10)
    assert not eng.get_transport_state().running
    assert eng.position_seconds() == pytest.approx(n / SR, abs=1e-6)
    eng.stop()
    assert eng.position_seconds() == 0.0


def test_s10_volume_and_mute_scale_the_output():
    eng, out, n = ramp_engine()
    eng.seek(1.0)
    eng.set_volume(0.5)
    eng.play()
    out.tick()
    assert out.played[-1][0] == pytest.approx(0.5 * (1.0 * SR) / n, rel=1e-4)
    eng.set_muted(True)
    out.tick()
    assert not out.played[-1].any()


def tone(freq, seconds, sr=SR, bursts=(0.5, 1.5)):
    t = np.arange(int(seconds * sr)) / sr
    x = np.zeros_like(t, dtype=np.float32)
    for b in bursts:
        m = (t >= b) & (t < b + 0.3)
        x[m] = 0.4 * np.sin(2 * np.pi * freq * t[m])
    return x


def peak_freq(x, sr=SR):
    seg = x[: 8192] * np.hanning(min(len(x), 8192))
    return np.argmax(np.abs(np.fft.rfft(seg, 8192))) * sr / 8192


def onsets_ms(x, sr=SR):
    env = np.abs(x) > 0.2
    idx = np.flatnonzero(env[1:] & ~env[:-1]) + 1
    keep = [idx[0]] + [b for a, b in zip(idx[:-1], idx[1:]) if b - a > sr * 0.2]
    return [k * 1000 / sr for k in keep]


def test_s10_rendered_buffer_equals_the_wav_at_1x(tmp_path):
    x = tone(330, 2.0)
    soundfile.write(str(tmp_path / "a.wav"), x, SR, subtype="FLOAT")
    eng = bootstrap_engine("t", tmp_path / "a.wav", 2.0, prefer_device=False)
    res = eng.render(RenderRequest("r1", 2.0, SR, 1))
    assert res.status == "ok" and res.frames == len(x)
    assert np.array_equal(eng.get_buffer(res.buffer_handle)[0], x)
    eng.close()


@pytest.mark.parametrize("ratio", [2.0, 4.0])
def test_s10_slowed_audio_has_length_pitch_and_timing(ratio):
    x = tone(440, 2.5)
    y = render_audio(x[None], SR, ratio)[0]
    assert len(y) == int(round(len(x) * ratio))                       # right length
    i = int(0.6 * ratio * SR)
    assert peak_freq(y[i:]) == pytest.approx(440, rel=0.02)          # pitch preserved
    want = [500 * ratio, 1500 * ratio]
    got = onsets_ms(y)
    assert len(got) == 2 and all(abs(g - w) < 20 for g, w in zip(got, want)), (got, want)  # in sync


def test_s10_warp_offset_is_measured_and_compensated():
    assert warp_offset_samples(SR, 1.0) == 0
    assert abs(warp_offset_samples(SR, 2.0)) < SR  # measured, bounded


def test_s10_rate_change_keeps_media_position_and_media_time_runs_at_rate():
    eng, out, n = ramp_engine()
    eng.seek(1.0)
    eng.set_rate(0.5, wait=True)
    assert eng.get_transport_state().extensions["rate"] == 0.5
    assert eng.position_seconds() == pytest.approx(1.0, abs=2 / SR)
    eng.play()
    out.tick(86)                        # ~1 s of wall time = ~0.5 s of media time
    assert eng.position_seconds() == pytest.approx(1.0 + 0.5 * 86 * 256 / SR, abs=0.002)
    eng.set_rate(0.25, wait=True)
    p = eng.position_seconds()
    out.tick(86)
    assert eng.position_seconds() - p == pytest.approx(0.25 * 86 * 256 / SR, abs=0.002)
    eng.set_rate(1.0)
    assert eng.transport.buffer.ratio == 1.0


def test_s10_silent_clock_runs_in_real_time():
    eng = bootstrap_engine("t", None, 5.0, prefer_device=False)
    assert eng.output_status == "audio output disabled"
    eng.play()
    t0, p0 = time.monotonic(), eng.position_seconds()
    time.sleep(0.3)
    rate = (eng.position_seconds() - p0) / (time.monotonic() - t0)
    eng.close()
    assert 0.7 < rate < 1.3  # a loaded 2-core machine may delay the clock thread a little


def test_s10_callback_allocates_nothing_that_grows():
    eng, out, n = ramp_engine(seconds=10)
    eng.play()
    out.tick(5)
    tracemalloc.start()
    base = tracemalloc.take_snapshot()
    for _ in range(200):
        out.callback(out.out, out.blocksize, out.now)
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(base, "filename"))
    tracemalloc.stop()
    assert grown < 4096


def test_s10_engine_works_without_portaudio(tmp_path):
    code = ("import sys; sys.modules['sounddevice'] = None\n"
            "from engine.client import bootstrap_engine\n"
            "e = bootstrap_engine('t', None, 1.0)\n"
            "assert 'PortAudio' in e.output_status, e.output_status\n"
            "e.play(); e.seek(0.5); print(e.get_transport_state().extensions['output']); e.close()")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "silent"
