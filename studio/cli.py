"""Command line (SPEC §11): the studio, `export`, `validate`, `score`, `align`, `batch`, with the contract's exit codes.

0 ok · 2 invalid input (one sentence, nothing written) · 3 rendered but not accepted ·
4 the output cannot be written (names the path) · 5 the cluster could not run the work ·
130 SIGINT, 143 SIGTERM (the work stops, the previous output untouched) · 1 an internal error
(a bug: LIPSYNC_DEBUG=1 shows the traceback). Every line printed is escaped and at most 400
characters; native libraries are kept off stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

from contracts.errors import MAX_MESSAGE, ClusterError, ContractError, OutputError, plain, printable, shorten
from contracts.interrupts import Terminated, stop_signals
from contracts.native import quiet_native_stderr

EXIT_OK, EXIT_INTERNAL, EXIT_INVALID, EXIT_REJECTED, EXIT_OUTPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_TERMINATED = 143
EXIT_CLUSTER = 5
EXIT_PIPE_CLOSED = 141      # 128 + SIGPIPE: what a shell reports for a tool whose reader closed the pipe
DEMO_SESSION = Path(__file__).resolve().parent.parent / "assets_min" / "demo" / "session.json"
COMMANDS = ("export", "validate", "score", "align", "batch")


def wants_studio(argv: list[str]) -> bool:
    """No command (and no option) means the studio window."""
    return not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-"))


def say(text: str, stream=None) -> None:
    """One line to the user: escaped, at most 400 characters."""
    print(shorten(printable(text), MAX_MESSAGE), file=stream or sys.stdout, flush=True)


def warn(text: str) -> None:
    say(f"warning: {text}", sys.stderr)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors are invalid input: one line, exit 2
        say(f"{self.prog}: error: {message} (see --help)", sys.stderr)
        self.exit(EXIT_INVALID)


def _canvas(text: str) -> tuple[int, int]:
    try:
        w, h = (float(v) for v in text.lower().split("x"))
        if w.is_integer() and h.is_integer():
            return int(w), int(h)
    except (ValueError, OverflowError):
        pass
    raise argparse.ArgumentTypeError(f"--canvas expects WxH with whole numbers (e.g. 720x720), "
                                     f"got {shorten(printable(text), 40)!r}")


def _workers(text: str) -> int:
    try:
        n = int(text)
        if 1 <= n <= 64:
            return n
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"--workers expects a whole number from 1 to 64, got {shorten(printable(text), 20)!r}")


def _out(text: str) -> Path | str:
    """An output folder, or an object-store URL (s3://bucket/prefix) kept as text."""
    from studio.export.store import is_url
    return text if is_url(text) else Path(text)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="main.py", description="Lip-sync Studio: the studio (no command) or a headless command.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    def session_args(sp):
        sp.add_argument("session", type=Path, help="session.json")
        sp.add_argument("--atlas", type=Path, help="atlas.min.json to use instead of the session's")
        sp.add_argument("--assets-dir", type=Path, help="folder the atlas's sprite paths are relative to")
        sp.add_argument("--root", type=Path, help="the only base folder for paths written in the session")
        sp.add_argument("--canvas", type=_canvas, help="canvas size WxH (default 720x720)")

    ex = sub.add_parser("export", help="write the FG PNG sequence and run_report.json")
    session_args(ex)
    ex.add_argument("--out", type=_out, default=Path("out/fg"),
                    help="output folder, or a store URL s3://bucket/prefix (default out/fg)")
    ex.add_argument("--mp4", action="store_true", help="also write a debug MP4 with the audio muxed in")
    ex.add_argument("--allow-fallback", action="store_true", help="exit 0 even when fallback frames are the only failure")
    ex.add_argument("--workers", type=_workers, default=None, help="worker processes (default: CPU count, at most 4)")
    ex.add_argument("--scheduler", help="render on the Dask cluster at ADDR, tcp://host:8786 "
                                        "(default: DASK_SCHEDULER_ADDRESS; unset: this machine)")
    ba = sub.add_parser("batch", help="export many sessions, one task each, into DEST/<session_id>/")
    ba.add_argument("sessions", nargs="*", type=Path, help="session.json files")
    ba.add_argument("--list", type=Path, help="a file naming one session.json per line")
    ba.add_argument("--out-root", type=_out, required=True, help="DEST folder or store URL (s3://bucket/prefix)")
    where = ba.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="the Dask cluster at ADDR (default: DASK_SCHEDULER_ADDRESS)")
    where.add_argument("--local", type=_workers, default=None, help="N worker processes on this machine")
    ba.add_argument("--json", action="store_true", help="print the batch report as one JSON object")
    ba.add_argument("--allow-fallback", action="store_true", help="exit 0 for sessions whose only failure is fallback frames")
    va = sub.add_parser("validate", help="run every contract check")
    session_args(va)
    va.add_argument("--json", action="store_true", help="print one JSON object")
    sc = sub.add_parser("score", help="A/V sync report (exit 3 on fail, 2 without audio)")
    session_args(sc)
    sc.add_argument("--json", action="store_true", help="print one JSON object")
    sc.add_argument("--policy", type=Path, help="sync policy JSON overriding resources/sync_policy.json")
    al = sub.add_parser("align", help="write a mouth timeline from the audio (and the text)")
    al.add_argument("source", type=Path, help="AUDIO.wav or SESSION.json")
    text = al.add_mutually_exclusive_group()
    text.add_argument("--text", help="what was said (kana/kanji or English words)")
    text.add_argument("--text-file", type=Path, help="a UTF-8 file holding what was said")
    al.add_argument("--lang", choices=("ja", "en"), default=None, help="language of the speech (default ja)")
    al.add_argument("--step-ms", type=float, default=None, help="frame step in ms (default: the session's, else 40)")
    al.add_argument("--out", type=Path, default=None, help="output file (default <input name>.mouth.json beside the input)")
    al.add_argument("--json", action="store_true", help="print one JSON object")
    return p


POSITIONALS = {"session": "the SESSION.json argument", "source": "the AUDIO.wav|SESSION.json argument"}
_NOT_TEXT = re.compile(r"[\ud800-\udfff]")  # undecodable argv bytes arrive as lone surrogates (PEP 383)


def text_error(name: str, value) -> ContractError | None:
    """Text and paths from the command line must be valid text (SPEC §12): bytes that are not UTF-8,
    or a lone surrogate, are invalid input naming the argument, never an internal error later on."""
    if not isinstance(value, (str, Path)) or not _NOT_TEXT.search(str(value)):
        return None
    shown = re.sub(r"[\udc80-\udcff]", lambda m: f"\\x{ord(m.group()) - 0xdc00:02x}", str(value))  # the bytes
    return ContractError(None, name, f"'{shorten(printable(shown), 60)}' is not valid text "
                                     f"(bytes that are not UTF-8, or a lone surrogate)")


def check_text_args(args) -> None:
    for dest, value in vars(args).items():
        err = text_error(POSITIONALS.get(dest, "--" + dest.replace("_", "-")), value)
        if err is not None:
            raise err


def _overrides(args):
    from contracts.session import Overrides
    return Overrides(atlas=args.atlas, assets_dir=args.assets_dir, root=args.root, canvas=args.canvas)


def _progress_printer():
    if not sys.stderr.isatty():
        return None
    t0 = time.perf_counter()

    def show(done: int, total: int) -> None:
        rate = done / max(1e-6, time.perf_counter() - t0)
        end = "\n" if done >= total else ""
        print(f"\rexport: {done}/{total} frames ({100 * done // max(1, total)}%), {rate:.0f} frames/s",
              end=end, file=sys.stderr, flush=True)
    return show


def cmd_export(args) -> int:
    from studio.export.fg import ExportOptions, export_fg
    from studio.plan import open_project
    from studio.qa.sync import sync_for_report
    from render.sprites import SPRITES
    SPRITES.budget = 256 << 20  # frames are rendered grouped by sprite: a batch needs no large cache
    from studio.export.cluster import scheduler_address
    project = open_project(args.session, _overrides(args), check_sprites=True)  # exit 2 before writing
    opts = ExportOptions(out_dir=args.out, allow_fallback=args.allow_fallback, mp4=args.mp4)
    if args.workers:
        opts.workers = args.workers
    address, cluster = scheduler_address(args.scheduler), None
    if address:   # exit 5 within 10 s, before anything is written
        from studio.export.cluster import ClusterRenderer, cluster_for_export
        cluster = cluster_for_export(project, args.out, address)
        opts.renderer = ClusterRenderer(cluster)
    try:
        sync, sync_note = sync_for_report(project)
        result = export_fg(project, opts, _progress_printer(), sync=sync, sync_note=sync_note)
    finally:
        if cluster is not None:
            cluster.close()
    r = result.report
    for note in result.notes:
        say(f"note: {note}", sys.stderr)
    for w in r["warnings"]:
        warn(w)
    verdict = "passed" if r["passed"] else "FAILED"
    reasons = ", ".join(f"{k} {v}" for k, v in r["fallback_reasons"].items())
    say(f"{verdict}: {r['rendered_frames']}/{r['target_frames']} frames -> {r['frames_dir']} "
        f"({r['fallback_frames']} fallback frames{': ' + reasons if reasons else ''}; "
        f"{r['elapsed_s']:.2f} s); report {r['frames_csv'][:-len('frames.csv')] + 'run_report.json'}")
    return result.exit_code


def cmd_validate(args) -> int:
    from studio.plan import open_project
    from studio.report import frame_stats, timeline_line, timeline_summary
    try:
        project = open_project(args.session, _overrides(args), check_sprites=True)
    except ContractError as err:
        if args.json:
            print(json.dumps({"valid": False, "errors": [str(err)], "warnings": []}))
            return EXIT_INVALID
        raise
    s = project.session
    stats = frame_stats(project)
    info = {
        "valid": True, "errors": [], "warnings": project.warnings, "session_id": s.session_id,
        "form": s.form, "step_ms": s.step_ms, "fps": s.fps, "audio_ms": s.audio_ms, "wav_ms": s.wav_ms,
        "target_frames": s.target_frames, "audio": str(s.audio_path) if s.audio_path else None,
        "atlas": os.path.abspath(project.atlas.path), "atlas_bundled": s.atlas_bundled,
        "assets_dir": str(project.atlas.assets_dir), "timelines": timeline_summary(s), **stats,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return EXIT_OK
    say(f"valid: {s.session_id} (form {s.form}) — {s.target_frames} frames at {plain(s.step_ms)} ms "
        f"({plain(round(s.fps, 3))} fps), audio_ms {plain(s.audio_ms)}"
        + (f", WAV {s.wav_ms} ms" if s.wav_ms is not None else ", no WAV"))
    for name, t in info["timelines"].items():
        say(timeline_line(name, t))
    say(f"  atlas      {info['atlas']} ({len(project.atlas.views)} views)" + (" — bundled" if s.atlas_bundled else ""))
    say(f"  fallback frames: {stats['fallback_frames']}"
        + (f" ({', '.join(f'{k} {v}' for k, v in stats['fallback_reasons'].items())})" if stats['fallback_reasons'] else ""))
    for w in info["warnings"]:   # computed once: it reads every sprite's size
        say(f"warning: {w}")
    return EXIT_OK


def cmd_score(args) -> int:
    from contracts.policy import load_policy
    from studio.plan import open_project
    from studio.qa.sync import score_project
    project = open_project(args.session, _overrides(args))
    policy = load_policy(args.policy, project.session)
    if project.session.audio_path is None:
        missing = project.session.audio_missing or "the session has no audio file"
        raise ContractError(args.session, "audio", f"{missing}, so there is nothing to score")
    report = score_project(project, policy)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        for line in report.summary().splitlines():
            say(line)
    return EXIT_REJECTED if report.verdict == "fail" else EXIT_OK


def cmd_align(args) -> int:
    from studio.qa.align.cli import run_align
    return run_align(args, say)


def cmd_batch(args) -> int:
    from studio.batch_cli import run
    return run(args, say)


def main(argv: list[str] | None = None) -> int:
    """The headless commands; main.py sends everything else to the studio window."""
    for stream in (sys.stdout, sys.stderr):  # a surrogate that slips through never crashes the output
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    argv = list(sys.argv[1:] if argv is None else argv)
    with quiet_native_stderr():                 # only the project speaks on stderr (SPEC §12)
        try:
            with stop_signals():                # SIGTERM stops the work like SIGINT does
                return _run(argv)
        except (KeyboardInterrupt, Terminated) as exc:  # a signal between the command and the return
            return _stopped(exc)


def _stopped(exc: BaseException) -> int:
    """One sentence for a stop signal: what happened to the output (a signal during the final swap
    of an export waits for it, so then the new output is whole)."""
    what = str(exc) or "stopped before finishing; the previous output is untouched"
    if isinstance(exc, Terminated):
        say(f"terminated (SIGTERM): {what}", sys.stderr)
        return EXIT_TERMINATED
    say(f"interrupted (SIGINT): {what}", sys.stderr)
    return EXIT_INTERRUPTED


def _run(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command is None:
            _parser().print_help()
            return EXIT_OK
        check_text_args(args)
        return {"export": cmd_export, "validate": cmd_validate, "score": cmd_score,
                "align": cmd_align, "batch": cmd_batch}[args.command](args)
    except ContractError as err:
        say(f"error: {err}", sys.stderr)
        return EXIT_INVALID
    except OutputError as err:
        say(f"error: {err}", sys.stderr)
        return EXIT_OUTPUT
    except ClusterError as err:
        say(f"error: {err}", sys.stderr)
        return EXIT_CLUSTER
    except (KeyboardInterrupt, Terminated) as exc:
        return _stopped(exc)
    except BrokenPipeError:   # the reader left (`... --json | head -1`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error at exit
        return EXIT_PIPE_CLOSED
    except Exception as exc:  # an internal error: one line, the traceback only on request
        if os.environ.get("LIPSYNC_DEBUG"):
            traceback.print_exc()
        say(f"internal error: {exc.__class__.__name__}: {exc} (set LIPSYNC_DEBUG=1 for the traceback)", sys.stderr)
        return EXIT_INTERNAL
