"""`main.py align AUDIO.wav|SESSION.json [--text T | --text-file F] [--lang ja|en] [--step-ms 40]
[--out FILE] [--json]` (SPEC §11, §13).

A session gives its audio, its step_ms (unless --step-ms) and its `text` key (unless --text); the
output defaults to `<input name>.mouth.json` beside the input (never the session's own mouth
timeline). The output is a canonical mouth timeline, written atomically, its `audio` relative to
its own folder. The run prints the frames per shape, the speech/silence split and the sync score
of the result; --json prints the same as one object, with the text's words at their aligned times
(`units`, SPEC §13 Words), which the output file carries too.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from contracts.audio import AudioSource, wav_info
from contracts.errors import ContractError, OutputError, plain, write_reason
from contracts.jsonfile import read_bytes
from contracts.policy import load_policy
from contracts.atomic import write_atomic
from contracts.timelines import checked_step

TEXT_LIMIT = 1 << 20


def _text(args) -> str | None:
    if args.text is not None:
        return args.text
    if args.text_file is not None:
        raw = read_bytes(Path(args.text_file), "text", limit=TEXT_LIMIT)
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ContractError(args.text_file, "", "the text file is not UTF-8 text") from None
    return None


def _step(args, session_step: float | None) -> float:
    if args.step_ms is None:
        return float(session_step or 40.0)
    return checked_step(args.step_ms, None, "--step-ms")


def _session(source: Path, warn):
    """The session to align. A mouth timeline that cannot be read is what a new one replaces: when the
    session loads without it, the run goes on and `warn`s why."""
    from contracts.session import load_session
    try:
        return load_session(source)
    except ContractError as err:
        try:
            s = load_session(source, read_mouth=False)
        except ContractError:
            raise err from None
        warn(f"{err} The session's mouth timeline is not used; the aligned one is written.")
        return s


def prepare(args, warn=lambda sentence: None):
    """(audio path, audio_ms, step_ms, text, lang, output path) from the command line; ContractError on bad input."""
    source = Path(args.source)
    lang = args.lang
    inputs = {"the input": source}
    if source.suffix.lower() == ".json":
        s = _session(source, warn)
        if s.audio_path is None:
            raise ContractError(source, "audio", "the session has no audio file to align the mouth track to")
        audio_path, audio_ms, step = s.audio_path, float(s.audio_ms), _step(args, s.step_ms)
        inputs.update({"the session's audio": audio_path, "its pose timeline": s.pose.path, "its atlas": s.atlas_path})
        if s.expression is not None:
            inputs["its expression timeline"] = s.expression.path
        text = _text(args)
        text = text if text is not None else s.text
        lang = lang or s.lang
    else:
        info = wav_info(source)
        audio_path, audio_ms, step, text = source, float(info.length_ms), _step(args, None), _text(args)
        if audio_ms <= 0:
            audio_ms = info.frames * 1000.0 / info.sample_rate
    out = Path(args.out) if args.out else source.with_name(f"{source.stem}.mouth.json")
    for what, path in inputs.items():   # the output replaces its file: never one the run reads
        if path is not None and _same_file(out, Path(path)):
            raise ContractError(out, "--out", f"it is {what}: the mouth timeline would replace it; "
                                "choose another output file")
    return audio_path, audio_ms, step, text, lang or "ja", out


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def run_align(args, say) -> int:
    from studio.qa.align.aligner import align
    from studio.qa.sync import score
    warnings: list[str] = []
    audio_path, audio_ms, step, text, lang, out = prepare(args, warnings.append)
    for w in warnings:
        say(f"warning: {w}", sys.stderr)
    source = AudioSource(path=audio_path)
    result = align(source, text, lang, step, audio_ms)
    lang = result.lang                 # the text's own language when it was written in the other
    out_abs = Path(os.path.abspath(out))
    doc = result.timeline(os.path.relpath(os.path.abspath(audio_path), out_abs.parent))
    backup = out_abs.with_name(out_abs.name + ".bak")
    replaced = out_abs.is_file()
    try:
        if replaced:     # a hand-made track may be overwritten: its last version stays, as a save keeps it
            write_atomic(backup, out_abs.read_bytes())
        write_atomic(out_abs, json.dumps(doc, indent=1) + "\n")   # refuses folders and devices
    except OSError as exc:
        raise OutputError(out_abs, write_reason(exc, out_abs.parent)) from None
    sync = score(source, result.shapes, step, audio_ms, load_policy(), lang=lang)
    summary = {"out": str(out_abs), "audio": str(audio_path), "lang": lang, "step_ms": step,
               "events": len(doc["frames"]), **result.summary(),
               "notes": warnings + result.notes, "units": result.units,
               "sync": {k: v for k, v in sync.to_json().items() if k in ("offset_ms", "confidence", "verdict", "notes")}}
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0
    per = ", ".join(f"{k} {v}" for k, v in summary["frames_per_shape"].items())
    say(f"aligned ({'with text' if result.mode == 'text' else 'audio only'}, {lang}): {summary['frames']} frames "
        f"at {plain(step)} ms in {summary['events']} events -> {out_abs}"
        + (f" (the file it replaced: {backup.name})" if replaced else ""))
    say(f"  frames per shape: {per}")
    say(f"  speech {summary['speech_ms'] / 1000:.2f} s, silence {summary['silence_ms'] / 1000:.2f} s")
    off = sync.offset_ms
    say(f"  sync of the result: {sync.verdict} (offset {'n/a' if off is None else f'{off:+.0f} ms'}, "
        f"confidence {sync.confidence:.2f})")
    for n in result.notes:
        say(f"  note: {n}")
    return 0
