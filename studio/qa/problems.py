"""What QA reads from a sync report: problems merged into spans, and whether an offset may be applied.

Sync windows overlap (2 s windows every 1 s), so one problem shows in several windows in a row;
those are merged into one span that lists the local offsets it saw. Every offset is shown with
its confidence. The measured global offset may be applied only when it is a measurement: a
guess (low confidence) or the edge of the search window is refused, with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from contracts.errors import plain

SEVERITY = {"none": 0, "pass": 0, "warn": 1, "fail": 2}


@dataclass
class Problem:
    t0_ms: float
    t1_ms: float
    kind: str                    # "open in silence", "closed in speech", "offset warn", "offset fail"
    offsets: list[float] = field(default_factory=list)       # local offsets (window problems)
    confidences: list[float] = field(default_factory=list)
    at_search_edge: bool = False  # a window's best lag was the search's limit: at least that far, or no match

    @property
    def label(self) -> str:
        span = f"{self.t0_ms / 1000:7.2f}–{self.t1_ms / 1000:.2f} s"
        if not self.offsets:
            return f"{span}  {self.kind}"
        lo, hi = min(self.offsets), max(self.offsets)
        offs = f"{lo:+.0f} ms" if lo == hi else f"{lo:+.0f}…{hi:+.0f} ms"
        conf = min(self.confidences) if self.confidences else 0.0
        edge = ", the edge of the search: at least that far, or nothing matches there" if self.at_search_edge else ""
        return f"{span}  {self.kind}: local offset {offs} (confidence ≥ {conf:.2f}{edge})"

    @property
    def fixable(self) -> bool:
        return self.kind in ("open in silence", "closed in speech")


def problems(report) -> list[Problem]:
    """Every problem of a SyncReport in time order; overlapping warn/fail windows merged into spans."""
    if report is None:
        return []
    out = [Problem(a, b, "open in silence") for a, b in report.open_in_silence_spans]
    out += [Problem(a, b, "closed in speech") for a, b in report.closed_in_speech_spans]
    run: Problem | None = None
    for w in sorted(report.windows, key=lambda w: w["t0_ms"]):
        bad = w.get("verdict") in ("warn", "fail")
        if run is not None and (not bad or w["t0_ms"] > run.t1_ms):
            out.append(run)
            run = None
        if not bad:
            continue
        kind = f"offset {w['verdict']}"
        if run is None:
            run = Problem(w["t0_ms"], w["t1_ms"], kind)
        else:
            run.t1_ms = max(run.t1_ms, w["t1_ms"])
            if SEVERITY[w["verdict"]] > SEVERITY[run.kind.split()[-1]]:
                run.kind = kind
        run.offsets.append(float(w["offset_ms"]))
        run.confidences.append(float(w.get("confidence") or 0.0))
        run.at_search_edge |= bool(w.get("at_search_edge"))
    if run is not None:
        out.append(run)
    return sorted(out, key=lambda p: (p.t0_ms, p.t1_ms))


def offset_fix(report, step_ms: float) -> tuple[float | None, str]:
    """(shift in ms to apply to the mouth track, why) — None with the reason when it must not be applied."""
    if report is None or report.offset_ms is None:
        return None, "there is no measured offset"
    if getattr(report, "at_search_edge", False):
        return None, (f"the offset {report.offset_ms:+.0f} ms is the edge of the ±{report.search_ms:.0f} ms search, "
                      f"not a measurement")
    if not report.confident:
        return None, (f"the offset {report.offset_ms:+.0f} ms has confidence {report.confidence:.2f}, "
                      f"below {plain(report.policy.get('min_confidence', 0))}: a guess")
    if abs(report.offset_ms) < step_ms / 2:
        return None, f"the offset {report.offset_ms:+.0f} ms is less than half a frame ({plain(step_ms / 2)} ms)"
    return -float(report.offset_ms), f"shift the mouth track by {-report.offset_ms:+.0f} ms (one undoable edit)"


def open_run_in_silence(mouth, speech, a: int, b: int) -> tuple[int, int]:
    """Frames [a, b) of an open-in-silence span grown over the rest of the same shapes around it while
    nobody speaks: the span stops ~60 ms short of speech (the mouth may lead or trail it), and closing
    only the span would leave the shape flickering on either side of it in the pause."""
    n = min(len(mouth), len(speech))
    if not 0 <= a < b <= n:
        return a, b
    while a > 0 and mouth[a - 1] == mouth[a] != 0 and not speech[a - 1]:
        a -= 1
    while b < n and mouth[b] == mouth[b - 1] != 0 and not speech[b]:
        b += 1
    return a, b
