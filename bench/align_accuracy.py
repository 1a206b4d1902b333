"""Accuracy of the viseme aligner (SPEC §13) on speech it was not trained on; writes docs/align_accuracy.md.

Evaluation speech: real sentences (never the random training texts of scripts/train_aligner.py),
spoken by espeak-ng voice variants not used in training, at three speaking rates, with espeak-ng's
phoneme timing as exact ground truth; English also by Festival voices (a diphone and an HTS voice,
another synthesis method entirely) when Festival is installed. Japanese is aligned from the
kanji-kana text (the reading step is part of the test); espeak-ng speaks its kana reading.

Per 40 ms frame, the target is that of the phoneme covering the largest share of the frame
(phones.py); frames whose target is "any shape" are not scored. Reported: open/closed agreement
and 6-shape agreement over scored frames, and shape agreement over vowel frames only, audio only
and with text; the sync score of each generated track (offset, verdict); and the time to align
10 minutes of audio.

    .venv/bin/python bench/align_accuracy.py [--rates 140 175 210] [--no-festival] [--no-doc]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from contracts.audio import AudioSource  # noqa: E402
from contracts.policy import default_policy  # noqa: E402
from espeak_phonemes import speak  # noqa: E402
import festival_phonemes  # noqa: E402
from studio.qa.align.aligner import align  # noqa: E402
from studio.qa.align.phones import accuracy, espeak_targets, frame_targets  # noqa: E402
from studio.qa.sync import score  # noqa: E402

TEST_VOICES = {"ja": ["ja+m2", "ja+f2", "ja+m4", "ja+f4"], "en": ["en-us+m2", "en-us+f2", "en+m4", "en-us+f4"]}
STEP = 40.0

JA = [  # (what the aligner is given, what espeak-ng speaks: the kana reading)
    ("今日は良い天気ですね。", "きょうわ いい てんき ですね。"),
    ("明日も晴れるといいです。", "あしたも はれると いいです。"),
    ("私の名前はあいです。よろしくお願いします。", "わたしの なまえわ あいです。よろしく おねがい します。"),
    ("このスタジオで口の動きと音を合わせます。", "この すたじおで くちの うごきと おとを あわせます。"),
    ("おはようございます。今から会議を始めましょう。", "おはよう ございます。いまから かいぎを はじめましょう。"),
    ("駅まで歩いて十分くらいです。", "えきまで あるいて じっぷん くらいです。"),
    ("猫が窓のそばで眠っています。", "ねこが まどの そばで ねむって います。"),
    ("新しいパンを買いに行きました。", "あたらしい ぱんを かいに いきました。"),
    ("東京タワーに登ったことがありますか。", "とうきょうたわーに のぼった ことが ありますか。"),
    ("ありがとうございました。また来てください。", "ありがとう ございました。また きて ください。"),
    ("雨が降りそうなので傘を持っていきます。", "あめが ふりそうなので かさを もって いきます。"),
    ("この本はとても面白かったです。", "この ほんわ とても おもしろかったです。"),
    ("みんなで美味しいご飯を食べましょう。", "みんなで おいしい ごはんを たべましょう。"),
    ("ピアノの練習は毎日一時間です。", "ぴあのの れんしゅうわ まいにち いちじかんです。"),
    ("週末は山へ行って写真を撮りました。", "しゅうまつわ やまえ いって しゃしんを とりました。"),
    ("すみません、もう一度言ってください。", "すみません、もう いちど いって ください。"),
]
EN = [
    "Good morning. Today we check that the mouth follows the voice.",
    "Please open the session, play it, and look for problems in the lanes.",
    "The weather is lovely today, so we will walk to the park.",
    "My brother bought a big blue boat last summer.",
    "Could you tell me where the nearest station is?",
    "We need more paper for the printer before the meeting.",
    "She played the piano beautifully at the concert.",
    "Thank you for waiting. Your order will be ready soon.",
    "The cat sat on the warm mat by the window.",
    "I would like a cup of coffee with milk, please.",
    "Maybe we can meet again next week on Monday.",
    "Every picture tells a story about the people in it.",
    "Open the door slowly and look both ways.",
    "Bright lights made the city shine at night.",
    "Remember to bring your umbrella tomorrow.",
    "How much does this book cost?",
]


def evaluate(lang: str, items, voices, rates, engine: str, tmp: Path) -> dict:
    policy = default_policy()
    acc = {"audio": [], "text": []}
    offsets, verdicts = [], []
    for k, item in enumerate(items):
        given, spoken = item if isinstance(item, tuple) else (item, item)
        for voice in voices:
            for rate in rates:
                if engine == "festival":
                    got = festival_phonemes.speak(spoken, voice)
                    if got is None:
                        continue
                    audio, sr, phonemes = got
                else:
                    audio, sr, phonemes = speak(spoken, voice, rate)
                x = np.concatenate([np.zeros(int(0.3 * sr), np.int16), audio, np.zeros(int(0.3 * sr), np.int16)])
                x = x.astype(np.float32) / 32768.0
                phonemes = [(t + 300.0, p) for t, p in phonemes]
                end_ms = len(x) * 1000.0 / sr
                src = AudioSource.of(x, sr)
                n = int(np.ceil(end_ms / STEP))
                targets = frame_targets(espeak_targets(phonemes, end_ms, lang), n, STEP)
                for mode, text in (("audio", None), ("text", given)):
                    res = align(src, text, lang, STEP, end_ms)
                    acc[mode].append((accuracy(res.shapes.tolist(), targets), len(targets)))
                    if mode == "text":
                        rep = score(src, res.shapes, STEP, end_ms, policy)
                        offsets.append(rep.offset_ms if rep.offset_ms is not None else np.nan)
                        verdicts.append(rep.verdict)
                if engine == "festival":
                    break          # festival voices have one rate
    out = {}
    for mode, rows in acc.items():
        frames = sum(r["frames"] for r, _ in rows)
        vf = sum(r["vowel_frames"] for r, _ in rows)
        out[mode] = {k: sum(r[k] * r["frames"] for r, _ in rows) / max(1, frames) for k in ("open_closed", "shapes")}
        out[mode]["vowel_shapes"] = sum(r["vowel_shapes"] * r["vowel_frames"] for r, _ in rows) / max(1, vf)
        out[mode]["frames"] = frames
    off = np.array(offsets, float)
    out["sync"] = {"utterances": len(verdicts), "median_abs_offset_ms": float(np.nanmedian(np.abs(off))),
                   "within_40ms": int(np.sum(np.abs(off) <= 40)), "pass_or_warn": sum(v in ("pass", "warn") for v in verdicts)}
    return out


def speed(tmp: Path) -> dict:
    """Seconds to align 10 minutes of audio, audio only and with text (repeated test sentences)."""
    parts, texts = [], []
    while sum(len(p) for p in parts) < 600 * 22050:
        for given, spoken in JA:
            a, sr, _ = speak(spoken, "ja", 175)
            parts.append(np.concatenate([a, np.zeros(int(0.3 * sr), np.int16)]))
            texts.append(given)
    x = np.concatenate(parts)[: 600 * 22050].astype(np.float32) / 32768.0
    src = AudioSource.of(x, 22050)
    out = {}
    for mode, text in (("audio", None), ("text", "".join(texts))):
        t0 = time.perf_counter()
        align(src, text, "ja", STEP)
        out[mode] = time.perf_counter() - t0
    return out


TARGETS = {("ja", "audio"): (0.90, 0.60, 0.55), ("ja", "text"): (0.93, 0.80, 0.80),
           ("en", "audio"): (0.85, 0.45, 0.40), ("en", "text"): (0.90, 0.65, 0.60)}


def table(results: dict) -> list[str]:
    lines = ["| speech | mode | frames | open/closed | 6 shapes | vowel frames | target (o/c, 6, vowel) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        lang = name.split()[0]
        for mode in ("audio", "text"):
            m = r[mode]
            t = TARGETS[(lang, mode)]
            ok = lambda v, goal: f"**{v:.1%}**" if v >= goal else f"{v:.1%} (miss)"  # noqa: E731
            lines.append(f"| {name} | {'audio only' if mode == 'audio' else 'with text'} | {m['frames']} | "
                         f"{ok(m['open_closed'], t[0])} | {ok(m['shapes'], t[1])} | {ok(m['vowel_shapes'], t[2])} | "
                         f"{t[0]:.0%}, {t[1]:.0%}, {t[2]:.0%} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", type=int, nargs="+", default=[140, 175, 210])
    ap.add_argument("--no-festival", action="store_true")
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--quick", action="store_true", help="fewer sentences and voices (a smoke run)")
    args = ap.parse_args()
    ja, en = (JA[:4], EN[:4]) if args.quick else (JA, EN)
    voices = {k: v[:2] for k, v in TEST_VOICES.items()} if args.quick else TEST_VOICES
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        results = {"ja (espeak-ng, unseen voices)": evaluate("ja", ja, voices["ja"], args.rates, "espeak", tmp),
                   "en (espeak-ng, unseen voices)": evaluate("en", en, voices["en"], args.rates, "espeak", tmp)}
        fv = [] if args.no_festival else festival_phonemes.available()
        if "kal_diphone" in fv:
            results["en (Festival kal diphone, a training voice)"] = evaluate("en", en, ["kal_diphone"], [175],
                                                                                "festival", tmp)
        if "cmu_us_slt_arctic_hts" in fv:
            results["en (Festival slt HTS, unseen)"] = evaluate("en", en, ["cmu_us_slt_arctic_hts"], [175],
                                                               "festival", tmp)
        sp = speed(tmp) if not args.quick else None
    lines = table(results)
    print("\n".join(lines))
    sync_lines = []
    for name, r in results.items():
        s = r["sync"]
        sync_lines.append(f"- {name}: {s['utterances']} generated tracks (with text): median |offset| "
                          f"{s['median_abs_offset_ms']:.0f} ms, {s['within_40ms']} within 40 ms, "
                          f"{s['pass_or_warn']} pass or warn")
    print("\n".join(sync_lines))
    if sp:
        print(f"speed: 10 min of audio aligned in {sp['audio']:.1f} s (audio only), {sp['text']:.1f} s (with text)")
    if not args.no_doc and not args.quick:
        write_doc(lines, sync_lines, sp, args)


def write_doc(lines, sync_lines, sp, args) -> None:
    doc = ROOT / "docs" / "align_accuracy.md"
    text = (ROOT / "bench" / "align_accuracy.md.in").read_text(encoding="utf-8")
    text = text.replace("{{TABLE}}", "\n".join(lines)).replace("{{SYNC}}", "\n".join(sync_lines))
    text = text.replace("{{SPEED}}", f"{sp['audio']:.1f} s audio only, {sp['text']:.1f} s with text" if sp else "not run")
    text = text.replace("{{RATES}}", ", ".join(map(str, args.rates)))
    doc.write_text(text, encoding="utf-8")
    print(f"wrote {doc}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
