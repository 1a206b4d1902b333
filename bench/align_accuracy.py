"""Accuracy of the viseme aligner (SPEC §13) per voice, on voices it was built on and on voices held
out from everything it was trained or tuned on (bench/voiceset.py has the protocol); writes
docs/align_accuracy.md.

Per 40 ms frame, the target is that of the phoneme covering the largest share of the frame
(phones.py); frames whose target is "any shape" are not scored. Reported per voice: open/closed
and 6-shape agreement over scored frames, and shape agreement over vowel frames only, audio only
and with text; the worst held-out voice of each language is named. `--baseline DIR` also scores the
models in DIR (e.g. the previous ones) in the same run, for the "at most 3 points lost" rule.

    .venv/bin/python bench/align_accuracy.py [--baseline DIR] [--no-doc] [--quick]
    .venv/bin/python bench/align_accuracy.py --dev DIR    # development settings (what recipes are chosen on)
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import voiceset  # noqa: E402
from contracts.audio import AudioSource  # noqa: E402
from studio.qa.align import model as align_model  # noqa: E402
from studio.qa.align.aligner import align  # noqa: E402
from studio.qa.align.phones import accuracy, espeak_targets, frame_targets  # noqa: E402

STEP = 40.0
GOALS = {("ja", "audio"): 0.60, ("ja", "text"): 0.85, ("en", "audio"): 0.65, ("en", "text"): 0.80}   # vowel frames
OPEN_CLOSED_GOAL = 0.90


def pooled(rows: list[dict]) -> dict:
    frames = sum(r["frames"] for r in rows)
    vf = sum(r["vowel_frames"] for r in rows)
    out = {k: sum(r[k] * r["frames"] for r in rows) / max(1, frames) for k in ("open_closed", "shapes")}
    out["vowel_shapes"] = sum(r["vowel_shapes"] * r["vowel_frames"] for r in rows) / max(1, vf)
    out.update(frames=frames, vowel_frames=vf)
    return out


def evaluate(lang: str, voice: str, sentences=None) -> dict:
    acc = {"audio": [], "text": []}
    for c in voiceset.clips(lang, voice, sentences):
        src = AudioSource.of(c.audio, c.sr)
        n = int(np.ceil(c.audio_ms / STEP))
        targets = frame_targets(espeak_targets([tuple(p) for p in c.phonemes], c.audio_ms, lang), n, STEP)
        for mode, text in (("audio", None), ("text", c.text)):
            res = align(src, text, lang, STEP, c.audio_ms)
            acc[mode].append(accuracy(res.shapes.tolist(), targets))
    return {mode: pooled(rows) for mode, rows in acc.items()}


def use_models(folder: Path | None) -> None:
    align_model.MODEL_DIR = folder or (align_model.RESOURCES / "aligner")
    align_model.model_for.cache_clear()


def run(models: Path | None, quick: bool, langs=("ja", "en")) -> dict:
    use_models(models)
    out = {}
    for lang in langs:
        sentences = voiceset.SENTENCES[lang][:4] if quick else None
        for group, table in (("built on", voiceset.BUILT_ON), ("held out", voiceset.HELD_OUT)):
            for voice in table[lang]:
                out[(lang, group, voice)] = evaluate(lang, voice, sentences)
                print(f"  {lang} {group:8} {voice:40} " + " ".join(
                    f"{m}: {r['open_closed']:.2f}/{r['shapes']:.2f}/{r['vowel_shapes']:.2f}"
                    for m, r in out[(lang, group, voice)].items()), flush=True)
    return out


def development(models: Path) -> None:
    """The development settings of bench/voiceset.py with the development models in `models` (trained
    without the voice they hear): what recipes and constants are chosen on, never the held-out rows."""
    use_models(models)
    for lang, voices in voiceset.DEVELOPMENT.items():
        if not (models / f"{lang}.npz").exists():
            continue
        rows = {v: evaluate(lang, v) for v in voices}
        for v, r in rows.items():
            print(f"  {lang} {v:32} " + " ".join(f"{m}: {x['open_closed']:.3f}/{x['vowel_shapes']:.3f}" for m, x in r.items()))
        for mode in ("audio", "text"):
            p = pooled([r[mode] for r in rows.values()])["vowel_shapes"]
            low = min(r[mode]["vowel_shapes"] for r in rows.values())
            print(f"{lang} {mode}: vowel frames pooled {pct(p)} %, lowest {pct(low)} %")


def pct(v: float) -> str:
    return f"{100 * v:.1f}"


def table(res: dict, base: dict | None) -> list[str]:
    head = "| lang | voice | group | vowel frames | audio only: o/c · 6 · **vowel** | with text: o/c · 6 · **vowel** |"
    if base:
        head += " before (vowel: audio · text) |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for (lang, group, voice), r in res.items():
        a, t = r["audio"], r["text"]
        mark = lambda m, v: f"**{pct(v)}**" if group == "built on" or v >= GOALS[(lang, m)] else f"**{pct(v)} (miss)**"  # noqa: E731
        row = (f"| {lang} | {voice} | {group} | {a['vowel_frames']} | {pct(a['open_closed'])} · {pct(a['shapes'])} · "
               f"{mark('audio', a['vowel_shapes'])} | {pct(t['open_closed'])} · {pct(t['shapes'])} · "
               f"{mark('text', t['vowel_shapes'])} |")
        if base:
            b = base[(lang, group, voice)]
            row += f" {pct(b['audio']['vowel_shapes'])} · {pct(b['text']['vowel_shapes'])} |"
        lines.append(row)
    return lines


def worst(res: dict) -> list[str]:
    """The worst held-out voice per language and mode, against the SPEC §13 goals."""
    out = []
    for lang in sorted({k[0] for k in res}):
        held = {v: r for (lg, g, v), r in res.items() if lg == lang and g == "held out"}
        for mode in ("audio", "text"):
            v, r = min(held.items(), key=lambda kv: kv[1][mode]["vowel_shapes"])
            oc = min(x[mode]["open_closed"] for x in held.values())
            goal = GOALS[(lang, mode)]
            ok = r[mode]["vowel_shapes"] >= goal and oc >= OPEN_CLOSED_GOAL
            out.append(f"- {lang}, {'audio only' if mode == 'audio' else 'with text'}: worst held-out voice "
                       f"`{v}`, vowel frames {pct(r[mode]['vowel_shapes'])} % (goal {goal:.0%}); lowest "
                       f"open/closed {pct(oc)} % (goal 90 %): {'met' if ok else '**missed**'}")
    return out


def built_on_loss(res: dict, base: dict) -> list[str]:
    out = []
    for lang in sorted({k[0] for k in res}):
        for mode in ("audio", "text"):
            keys = [k for k in res if k[0] == lang and k[1] == "built on"]
            now = pooled([res[k][mode] for k in keys])["vowel_shapes"]
            before = pooled([base[k][mode] for k in keys])["vowel_shapes"]
            out.append(f"- {lang}, {'audio only' if mode == 'audio' else 'with text'}: voices it is built on "
                       f"{pct(before)} % before, {pct(now)} % now ({100 * (now - before):+.1f} points)")
    return out


def speed() -> dict:
    """Seconds to align 10 minutes of audio, audio only and with text."""
    cs = voiceset.clips("ja", "openjtalk:m001")
    parts, texts, sr = [], [], cs[0].sr
    while sum(len(p) for p in parts) < 600 * sr:
        for c in cs:
            parts.append(c.audio)
            texts.append(c.text)
    src = AudioSource.of(np.concatenate(parts)[: 600 * sr], sr)
    out = {}
    for mode, text in (("audio", None), ("text", "".join(texts))):
        t0 = time.perf_counter()
        align(src, text, "ja", STEP)
        out[mode] = time.perf_counter() - t0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", type=Path, help="a folder with other ja.npz / en.npz to score in the same run")
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--quick", action="store_true", help="4 sentences per voice (a smoke run)")
    ap.add_argument("--models", type=Path, help="score the models in this folder instead of resources/aligner")
    ap.add_argument("--lang", nargs="+", default=["ja", "en"])
    ap.add_argument("--no-adapt", action="store_true", help="without the per-utterance adaptation (for comparison)")
    ap.add_argument("--dev", type=Path, help="score the development settings with the development models in this folder")
    args = ap.parse_args()
    if args.no_adapt:
        from studio.qa.align import adapt
        adapt.ROUNDS = 0
    if args.dev:
        development(args.dev)
        return
    base = None
    if args.baseline:
        print(f"baseline models: {args.baseline}")
        base = run(args.baseline, args.quick, args.lang)
    print(f"models: {args.models or 'resources/aligner'}")
    res = run(args.models, args.quick, args.lang)
    lines, w = table(res, base), worst(res)
    loss = built_on_loss(res, base) if base else []
    sp = None if args.quick or args.models else speed()
    print("\n".join(lines + [""] + w + loss))
    if sp:
        print(f"speed: 10 min of audio aligned in {sp['audio']:.1f} s (audio only), {sp['text']:.1f} s (with text)")
    if not args.no_doc and not args.quick and not args.models and len(args.lang) == 2:
        doc = ROOT / "docs" / "align_accuracy.md"
        text = (ROOT / "bench" / "align_accuracy.md.in").read_text(encoding="utf-8")
        text = text.replace("{{TABLE}}", "\n".join(lines)).replace("{{WORST}}", "\n".join(w + loss))
        text = text.replace("{{SPEED}}", f"{sp['audio']:.1f} s audio only, {sp['text']:.1f} s with text")
        doc.write_text(text, encoding="utf-8")
        print(f"wrote {doc}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
