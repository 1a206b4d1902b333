"""Fault injection for the kill tests (SPEC §12): `LIPSYNC_FAULT=<point>` kills the process with
SIGKILL when it reaches that point, exactly as `kill -9` at that moment would. Unset, it costs
one dictionary lookup."""
from __future__ import annotations

import os
import signal

_POINT = os.environ.get("LIPSYNC_FAULT")


def fault_point(name: str) -> None:
    if _POINT is not None and _POINT == name:
        os.kill(os.getpid(), signal.SIGKILL)
