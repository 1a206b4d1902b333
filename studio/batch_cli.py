"""`main.py batch` (SPEC §14): per-session lines as sessions finish, a progress bar on a terminal,
the summary table, DEST/batch_report.json, and the worst exit status."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from contracts.errors import ContractError
from studio.batch import batch_report, check_cluster_sees, local_cluster, plan_items, read_list, run_batch, worst, write_report
from studio.export.cluster import Cluster, scheduler_address


def default_local_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class ProgressBar:
    """`[#####.....] 12/50 sessions, 3.1 s/session` on stderr, redrawn in place; only on a terminal."""

    def __init__(self, total: int):
        self.total, self.done, self.t0 = total, 0, time.perf_counter()
        self.on = sys.stderr.isatty() and total > 0

    def clear(self) -> None:
        if self.on:
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)

    def step(self) -> None:
        self.done += 1
        self.draw()

    def draw(self) -> None:
        if not self.on:
            return
        width = 30
        fill = width * self.done // self.total
        rate = (time.perf_counter() - self.t0) / max(1, self.done)
        print(f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} sessions, {rate:.1f} s/session",
              end="", file=sys.stderr, flush=True)


def line(row: dict) -> str:
    name = row.get("session_id") or row["input"]
    if row["error"]:
        return f"exit {row['exit']}  {name}: {row['error']}"
    verdict = "passed" if row["passed"] else ("FAILED" if row["exit"] == 3 else "accepted (fallback allowed)")
    return (f"{verdict:<7} {name}: {row['frames']} frames ({row['rendered']} rendered, {row['reused']} reused), "
            f"sync {row['sync'] or 'not scored'}, {row['seconds']:.2f} s -> {row['out']}")


def table(rows: list[dict]) -> list[str]:
    head = ("session", "exit", "frames", "rendered", "reused", "passed", "sync", "seconds")
    body = [(str(r.get("session_id") or Path(r["input"]).name), str(r["exit"]), _n(r["frames"]), _n(r["rendered"]),
             _n(r["reused"]), "yes" if r["passed"] else "no", r["sync"] or "-",
             f"{r['seconds']:.2f}" if r["seconds"] is not None else "-") for r in rows]
    widths = [min(40, max(len(x[i]) for x in [head, *body])) for i in range(len(head))]
    fmt = lambda cols: "  ".join(c[:w].ljust(w) for c, w in zip(cols, widths)).rstrip()  # noqa: E731
    return [fmt(head), fmt(["-" * w for w in widths]), *map(fmt, body)]


def _n(v) -> str:
    return "-" if v is None else str(v)


def run(args, say) -> int:
    if bool(args.sessions) == bool(args.list):
        raise ContractError(None, "batch", "give the sessions either as SESSION.json arguments or as --list FILE")
    inputs = args.sessions or read_list(args.list)
    if not inputs:
        raise ContractError(args.list, "", "the session list names no session")
    out_root = args.out_root
    items = plan_items(inputs, str(out_root))
    address = None if args.local else scheduler_address(args.scheduler)
    t0 = time.perf_counter()
    if address:
        cluster = Cluster.connect(address)   # exit 5 within 10 s, before anything is written
        try:
            check_cluster_sees(cluster, items, str(out_root))
        except BaseException:
            cluster.close()
            raise
        client, where, closer = cluster.client, f"scheduler {address}", cluster.close
    else:
        n = args.local or default_local_workers()
        lc = local_cluster(n)
        from distributed import Client
        client, where = Client(lc, set_as_default=False), f"{n} local worker processes"

        def closer():
            client.close(timeout=2)
            lc.close(timeout=5)
    bar = ProgressBar(len(items))
    bar.draw()

    def on_row(row: dict) -> None:
        bar.clear()
        if not args.json:
            say(line(row))
        bar.step()
    rows = []
    try:
        rows = run_batch(items, client, args.allow_fallback, on_row, remote=bool(address))
    finally:
        bar.clear()
        closer()
    report = batch_report(rows, str(out_root), where, time.perf_counter() - t0)
    target = write_report(report, str(out_root))
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for text in table(rows):
            say(text)
        fps = report["frames"] / max(1e-6, report["seconds"])
        say(f"{report['passed']}/{report['sessions']} sessions passed; {report['frames']} frames "
            f"({report['rendered']} rendered, {report['reused']} reused) in {report['seconds']:.1f} s "
            f"({fps:.0f} frames/s) on {where}; report {target}; exit {report['exit']}")
    return worst(r["exit"] for r in rows)
