"""Fault injection for the kill tests (SPEC §12): `LIPSYNC_FAULT=<point>` (or `<point>#<n>`, the
n-th time it is reached) kills the process with SIGKILL right there, exactly as `kill -9` at that
moment would. Unset, a call costs one comparison."""
from __future__ import annotations

import os
import signal

_POINT, _, _NTH = (os.environ.get("LIPSYNC_FAULT") or "").partition("#")
_hits = 0


def fault_point(name: str) -> None:
    global _hits
    if _POINT and _POINT == name:
        _hits += 1
        if _hits >= int(_NTH or 1):
            os.kill(os.getpid(), signal.SIGKILL)
