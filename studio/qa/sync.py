"""A/V sync scoring (SPEC §9): offset and confidence, windows, problem spans, verdict.

No video is needed: the mouth state of every frame is known from the plan. The speech side is
an energy envelope and voice activity from the WAV (10 ms hops); the picture side is mouth
openness per frame. Their normalised cross-correlation over lags gives the offset (positive =
mouth late) and a SyncNet-style confidence: how far the best lag stands above the median lag.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from contracts.audio import AudioSource
from contracts.errors import plain
from contracts.policy import load_policy  # noqa: F401  (the scorer's policy, re-exported for callers)
from studio.qa import articulation
from studio.qa.vowels import LPC_RATE, vowel_agreement

HOP_MS = 10.0
# How open each mouth shape is (closed, a, i, u, e, o): the picture-side signal.
OPENNESS = np.array([0.0, 1.0, 0.45, 0.35, 0.7, 0.8])


def verdict_for(offset_ms: float, policy: dict) -> str:
    """BT.1359 windows: pass inside detectability, warn inside acceptability, fail beyond."""
    if -policy["pass_early_ms"] <= offset_ms <= policy["pass_late_ms"]:
        return "pass"
    if -policy["warn_early_ms"] <= offset_ms <= policy["warn_late_ms"]:
        return "warn"
    return "fail"


# ------------------------------------------------------------------ signals
SPEECH_BAND_HZ = (200.0, 3000.0)  # voice band: drops rumble and hiss that the mouth does not make


ENVELOPE_CHUNK_HOPS = 8192  # hops per FFT batch: memory stays flat for an hour of audio


def envelopes(audio: AudioSource, n_hops: int, band: tuple[float, float], resample_to: int = LPC_RATE
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(full-band dB, band dB) per 10 ms hop over 20 ms windows centred on the hop, and the audio
    resampled to `resample_to` Hz (linear interpolation) for the vowel analysis.

    One FFT per 10 ms block; a 20 ms window is two neighbouring blocks (their energies added),
    which halves the work of overlapping 20 ms FFTs for the same resolution. The audio is decoded
    once, in batches, so memory does not grow with the length of a WAV on disk.
    """
    sr = audio.sample_rate
    hop_f = sr * HOP_MS / 1000.0                   # 220.5 samples at 22,050 Hz: blocks start on the exact
    hop = max(1, int(round(hop_f)))                # time (a whole-sample hop would drift 8 s an hour)
    f = np.fft.rfftfreq(hop, 1.0 / sr)
    sel = (f >= band[0]) & (f <= band[1])
    full = np.empty(n_hops + 1)
    part = np.empty(n_hops + 1)
    n_rs = int(audio.frames * resample_to / sr)
    resampled = np.zeros(n_rs, np.float32)
    start_of = lambda k: int(round((k - 0.5) * hop_f))   # noqa: E731 - block k covers [(k - 0.5), (k + 0.5)) hops
    for k0 in range(0, n_hops + 1, ENVELOPE_CHUNK_HOPS):
        k1 = min(n_hops + 1, k0 + ENVELOPE_CHUNK_HOPS)
        starts = np.round((np.arange(k0, k1) - 0.5) * hop_f).astype(np.int64)
        s0, s1 = start_of(k0), start_of(k1)             # this batch's samples; s1 starts the next one
        x = audio.read(s0, max(s1, int(starts[-1]) + hop) + 1)   # one sample more: interpolation across the seam
        spec = np.abs(np.fft.rfft(x[(starts - s0)[:, None] + np.arange(hop)[None, :]], axis=1)) ** 2
        full[k0:k1] = spec.sum(axis=1)
        part[k0:k1] = spec[:, sel].sum(axis=1)
        j0 = min(n_rs, int(math.ceil(max(s0, 0) * resample_to / sr)))
        j1 = min(n_rs, int(math.ceil(s1 * resample_to / sr)))
        if j1 > j0:
            pos = np.arange(j0, j1) * (sr / resample_to) - s0
            resampled[j0:j1] = np.interp(pos, np.arange(len(x)), x)
    to_db = lambda e: 10.0 * np.log10((e[:-1] + e[1:]) / (2 * hop * hop) + 1e-10)  # noqa: E731
    return to_db(full), to_db(part), resampled


def voice_activity(env_db: np.ndarray, policy: dict) -> np.ndarray:
    """Energy VAD: above max(noise floor + floor_db, peak - range_db), gaps < 60 ms closed, blips < 40 ms dropped."""
    if not len(env_db):
        return np.zeros(0, bool)
    floor, peak = np.percentile(env_db, 10), np.percentile(env_db, 99)
    if peak - floor < 6.0:  # silence or a flat signal: nothing is speech
        return np.zeros(len(env_db), bool)
    active = env_db > max(floor + policy["vad_floor_db"], peak - policy["vad_range_db"])
    active = _fill_runs(active, False, 6)
    return _fill_runs(active, True, 4, value=False)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _fill_runs(mask: np.ndarray, which: bool, shorter_than: int, value: bool | None = None) -> np.ndarray:
    """Runs of `which` shorter than n hops (not touching the ends) are set to `value` (default: not which)."""
    out = mask.copy()
    src = mask if which else ~mask
    for a, b in _runs(src):
        if b - a < shorter_than and a > 0 and b < len(mask):
            out[a:b] = (not which) if value is None else value
    return out


def mouth_openness(mouth: np.ndarray, step_ms: float, n_hops: int) -> np.ndarray:
    """Openness per 10 ms hop from the per-frame mouth ids (a frame holds for step_ms)."""
    idx = np.clip(((np.arange(n_hops) + 0.5) * HOP_MS / step_ms).astype(np.int64), 0, max(len(mouth) - 1, 0))
    return OPENNESS[mouth[idx]] if len(mouth) else np.zeros(n_hops)


def _zscore(x: np.ndarray) -> np.ndarray:
    s = x.std()
    return (x - x.mean()) / s if s > 1e-9 else np.zeros_like(x)


def lag_correlation(speech: np.ndarray, mouth: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Pearson-like correlation of speech[t] with mouth[t + lag] for lag in [-max_lag, max_lag] hops."""
    s, m = _zscore(speech), _zscore(mouth)
    n = len(s)
    max_lag = max(0, min(max_lag, n - 1))
    lags = np.arange(-max_lag, max_lag + 1)
    corr = np.zeros(len(lags))
    for k, lag in enumerate(lags):
        if lag >= 0:
            a, b = s[: n - lag], m[lag:]
        else:
            a, b = s[-lag:], m[: n + lag]
        if len(a) > 1:
            corr[k] = float(np.dot(a, b)) / len(a)
    return lags, corr


def best_lag(lags: np.ndarray, corr: np.ndarray) -> tuple[float, float, float]:
    """(lag in hops with parabolic refinement, peak value, confidence = peak - median)."""
    k = int(np.argmax(corr))
    frac = 0.0
    if 0 < k < len(corr) - 1:
        y0, y1, y2 = corr[k - 1], corr[k], corr[k + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            frac = 0.5 * (y0 - y2) / den
    return float(lags[k] + frac), float(corr[k]), float(corr[k] - np.median(corr))


# ------------------------------------------------------------------- report
@dataclass
class SyncReport:
    offset_ms: float | None
    confidence: float
    confident: bool
    verdict: str
    windows: list[dict]
    open_in_silence_spans: list[list[float]]
    closed_in_speech_spans: list[list[float]]
    timelines: dict
    vowels: dict | None
    policy: dict
    notes: list[str] = field(default_factory=list)
    speech: np.ndarray | None = None     # per frame: voice activity (for the lanes)
    lag_curve: tuple | None = None       # (lags_ms, corr)
    at_search_edge: bool = False         # the best lag is the edge of the search: not a measurement
    search_ms: float = 0.0               # the lag search covered ±search_ms

    @property
    def open_in_silence_ms(self) -> float:
        return float(sum(b - a for a, b in self.open_in_silence_spans))

    @property
    def closed_in_speech_ms(self) -> float:
        return float(sum(b - a for a, b in self.closed_in_speech_spans))

    def problem_spans(self) -> list[tuple[float, float, str]]:
        """Every problem span in time order, for 'next problem' navigation."""
        out = [(a, b, "open in silence") for a, b in self.open_in_silence_spans]
        out += [(a, b, "closed in speech") for a, b in self.closed_in_speech_spans]
        out += [(w["t0_ms"], w["t1_ms"], f"window {w['verdict']}") for w in self.windows
                if w.get("verdict") in ("warn", "fail")]
        return sorted(out)

    def to_json(self) -> dict:
        return {
            "offset_ms": self.offset_ms, "confidence": round(self.confidence, 4), "confident": self.confident,
            "offset_at_search_edge": self.at_search_edge, "search_ms": self.search_ms,
            "verdict": self.verdict, "windows": self.windows,
            "open_in_silence_ms": self.open_in_silence_ms, "closed_in_speech_ms": self.closed_in_speech_ms,
            "open_in_silence_spans": self.open_in_silence_spans,
            "closed_in_speech_spans": self.closed_in_speech_spans,
            "timelines": self.timelines, "vowels": self.vowels, "notes": self.notes,
            "policy": {k: v for k, v in self.policy.items() if k != "comment"},
        }

    def summary(self) -> str:
        from studio.report import timeline_line
        off = "n/a" if self.offset_ms is None else f"{self.offset_ms:+.0f} ms"
        guess = "" if self.confident else " (low confidence: a guess)"
        lines = [f"sync {self.verdict.upper()}: offset {off} (positive = mouth late), "
                 f"confidence {self.confidence:.3f}{guess}",
                 f"  open mouth in silence: {self.open_in_silence_ms:.0f} ms in {len(self.open_in_silence_spans)} spans; "
                 f"closed mouth in speech: {self.closed_in_speech_ms:.0f} ms in {len(self.closed_in_speech_spans)} spans"]
        bad = [w for w in self.windows if w["verdict"] in ("warn", "fail")]
        lines.append(f"  windows: {len(self.windows)}, {len(bad)} warn/fail"
                     + (f" (worst at {max(bad, key=lambda w: abs(w['offset_ms']))['t0_ms']} ms)" if bad else ""))
        for name, t in self.timelines.items():
            lines.append(timeline_line(name, t))
        if self.vowels:
            v = self.vowels
            lines.append(f"  vowel agreement: {v['agreement']:.0%} of {v['frames_compared']} voiced open-mouth frames")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _spans_ms(mask: np.ndarray, step_ms: float, min_ms: float, audio_ms: float) -> list[list[float]]:
    out = []
    for a, b in _runs(mask):
        t0, t1 = float(a * step_ms), float(min(b * step_ms, audio_ms))
        if t1 - t0 >= min_ms:
            out.append([round(t0, 1), round(t1, 1)])
    return out


def dilate(mask: np.ndarray, k: int) -> np.ndarray:
    """`mask` grown by k samples either side."""
    out = mask.copy()
    for s in range(1, k + 1):
        out[s:] |= mask[:-s]
        out[:-s] |= mask[s:]
    return out


SPEECH_SIDE = "articulation"


def score(audio: AudioSource | None, mouth: np.ndarray, step_ms: float, audio_ms: float,
          policy: dict, timelines: dict | None = None, lang: str = "ja") -> SyncReport:
    """Score a mouth track (ids per frame) against mono audio. Any length works: on short audio the
    lag search shrinks to what the audio allows (and the notes say so)."""
    notes: list[str] = []
    n_frames = len(mouth)
    if audio is None or audio.frames == 0:
        notes.append("no audio: sync cannot be measured")
        return SyncReport(None, 0.0, False, "warn", [], [], [], timelines or {}, None, policy, notes)
    n_hops = max(1, int(math.ceil(audio_ms / HOP_MS)))
    # past the end of the WAV there is only silence: no FFT there (a session may declare hours more)
    heard = min(n_hops, int(math.ceil(audio.frames / audio.sample_rate * 1000.0 / HOP_MS)) + 1)
    env, band = np.full(n_hops, -100.0), np.full(n_hops, -100.0)
    env[:heard], band[:heard], audio_10k = envelopes(audio, heard, SPEECH_BAND_HZ)
    vad = np.zeros(n_hops, bool)
    vad[:heard] = voice_activity(env[:heard], policy)
    if SPEECH_SIDE == "envelope":
        speech = 10.0 ** (band / 20.0)
        speech /= max(float(speech.max()), 1e-9)
    else:
        speech = articulation.openness(audio, n_hops, OPENNESS[1:], lang)
    openness = mouth_openness(mouth, step_ms, n_hops)
    wanted = int(policy["max_lag_ms"] / HOP_MS)
    max_lag = min(wanted, (n_hops - 1) // 2)   # keep at least half the signal overlapping
    span = min(n_hops, heard + max_lag)        # the lag search looks where there is audio
    if max_lag < wanted:
        notes.append(f"the audio is only {plain(audio_ms)} ms long: the lag search covers ±{plain(max_lag * HOP_MS)} ms, "
                     f"not ±{plain(wanted * HOP_MS)} ms")
    offset_ms, confidence, edge, lag_curve = None, 0.0, False, None
    if max_lag >= 1:
        lags, corr = lag_correlation(speech[:span], openness[:span], max_lag)
        lag, peak, confidence = best_lag(lags, corr)
        # acoustic_lead_ms is 0 by default: the speech side is already the mouth a truthful track draws
        offset_ms = round(lag * HOP_MS - policy["acoustic_lead_ms"], 1)
        edge = abs(lag) >= max_lag - 0.5       # the best lag is the search's edge: no peak was found
        lag_curve = (lags * HOP_MS, corr)
    else:
        notes.append("the audio is too short to measure an offset")
    confident = confidence >= policy["min_confidence"] and not edge
    if edge:
        notes.append("the best offset is at the edge of the search: it is not a measurement")
    if not vad.any():
        notes.append("no speech found in the audio")
    if not openness.any():
        notes.append("the mouth never opens")

    speech_frames = _speech_per_frame(vad, step_ms, n_frames)
    open_ = mouth != 0
    tol = max(1, int(round(60.0 / step_ms)))  # coarticulation: the mouth may lead or trail by ~60 ms
    ois = _spans_ms(open_ & ~dilate(speech_frames, tol), step_ms, policy["min_open_in_silence_ms"], audio_ms)
    cis = _spans_ms(~open_ & speech_frames, step_ms, policy["min_closed_in_speech_ms"], audio_ms)

    windows = _windows(speech, openness, vad, policy, audio_ms)
    measurable = offset_ms is not None and vad.any() and openness.any()
    verdict = verdict_for(offset_ms, policy) if measurable else "warn"
    if verdict == "pass" and not confident:
        verdict = "warn"
        notes.append("low confidence downgrades pass to warn")
    longest = max([b - a for a, b in ois + cis], default=0.0)
    if verdict == "pass" and longest > policy["span_warn_ms"]:
        verdict = "warn"
        notes.append(f"a problem span of {longest:.0f} ms (over span_warn_ms) downgrades pass to warn")
    vowels = vowel_agreement(audio_10k, mouth, step_ms, speech_frames)
    return SyncReport(offset_ms, confidence, confident, verdict, windows, ois, cis, timelines or {}, vowels,
                      policy, notes, speech_frames, lag_curve, at_search_edge=edge, search_ms=max_lag * HOP_MS)


def _speech_per_frame(vad: np.ndarray, step_ms: float, n_frames: int) -> np.ndarray:
    """Per frame: speech if at least half of the frame's hops are voiced (frames shorter than a hop
    take the hop they start in)."""
    if not n_frames:
        return np.zeros(0, bool)
    if step_ms < HOP_MS:
        idx = np.minimum((np.arange(n_frames) * step_ms / HOP_MS).astype(np.int64), len(vad) - 1)
        return vad[idx]
    fidx = np.minimum((np.arange(len(vad)) * HOP_MS / step_ms).astype(np.int64), n_frames - 1)
    voiced = np.bincount(fidx, weights=vad.astype(float), minlength=n_frames)
    total = np.bincount(fidx, minlength=n_frames)
    return voiced >= 0.5 * np.maximum(total, 1)


def _windows(speech, openness, vad, policy, audio_ms) -> list[dict]:
    w, hop = int(policy["window_ms"] / HOP_MS), int(policy["window_hop_ms"] / HOP_MS)
    max_lag = int(policy["window_max_lag_ms"] / HOP_MS)
    out = []
    n = len(speech)
    starts = list(range(0, max(1, n - w + 1), hop)) if n >= w else [0]
    for a in starts:
        b = min(n, a + w)
        entry = {"t0_ms": round(a * HOP_MS), "t1_ms": round(min(b * HOP_MS, audio_ms)),
                 "offset_ms": None, "score": None, "confidence": None, "verdict": "none", "at_search_edge": False}
        if vad[a:b].mean() > 0.1 and openness[a:b].any():
            # pad with context so lags see real data, not zeros
            pa, pb = max(0, a - max_lag), min(n, b + max_lag)
            lags, corr = lag_correlation(speech[pa:pb], openness[pa:pb], min(max_lag, (pb - pa - 1) // 2))
            if len(lags) < 3:
                out.append(entry)
                continue
            lag, peak, conf = best_lag(lags, corr)
            off = lag * HOP_MS - policy["acoustic_lead_ms"]
            # at the search's limit the offset is "at least this far" (or nothing there correlates)
            edge = abs(lag) >= lags[-1] - 0.5
            entry.update(offset_ms=round(off, 1), score=round(max(0.0, peak), 4), confidence=round(conf, 4),
                         verdict=verdict_for(off, policy), at_search_edge=bool(edge))
        out.append(entry)
    return out


def score_with_cache(cache_dir, *args, **kwargs) -> SyncReport:
    """`score` in a process the studio starts after each edit: the audio's side of the score (the same
    for every edit) is kept on disk in `cache_dir` between those processes."""
    articulation.use_disk_cache(cache_dir)
    return score(*args, **kwargs)


def score_project(project, policy: dict | None = None, audio: tuple | None = None) -> SyncReport:
    """Score a loaded project: its WAV against its planned mouth track. `audio` = (mono, sample_rate)
    when the caller already holds the decoded WAV (the studio re-scores after every edit); otherwise
    the WAV is streamed from disk."""
    from studio.report import timeline_summary
    s = project.session
    policy = policy or load_policy(None, s)
    if audio is not None and audio[0] is not None:
        source = AudioSource.of(*audio)
    else:
        source = AudioSource(path=s.audio_path) if s.audio_path is not None else None
    return score(source, project.plan.mouth, s.step_ms, s.audio_ms, policy, timeline_summary(s), s.lang or "ja")


def sync_for_report(project, audio: tuple | None = None) -> tuple[dict | None, str | None]:
    """The run report's `sync` (SPEC §9): scoring never blocks an export, so a failure becomes
    (None, a warning saying why)."""
    try:
        return score_project(project, None, audio).to_json(), None
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the export goes on
        return None, f"sync scoring failed, the report's sync is null: {exc.__class__.__name__}: {exc}"
