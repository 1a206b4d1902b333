"""The project's C extension (`native/`, built into .venv by scripts/bootstrap.sh): a SIMD PNG
encoder and the fused warp + un-premultiply kernel of the transformed render path.

Without it (no C compiler where the bootstrap ran) the render uses OpenCV and the export fpng,
and `missing` says why. `LIPSYNC_NATIVE=portable` forces the portable (non-AVX2) code, which
gives the same bytes and pixels; `LIPSYNC_NATIVE=off` leaves the extension out (benches measure
the fallback with it, in the same run).
"""
from __future__ import annotations

import os

import cv2

EXPECTED_VERSION = "1"   # LS_NATIVE_VERSION in native/src/native.h: a stale build is not used
MODE = os.environ.get("LIPSYNC_NATIVE", "auto")

ext = None
missing: str | None = None
if MODE == "off":
    missing = "LIPSYNC_NATIVE=off"
else:
    try:
        import lipsync_native as ext
    except ImportError as exc:
        missing = f"not built: {exc}"
    else:
        if getattr(ext, "VERSION", None) != EXPECTED_VERSION:
            missing, ext = f"built from other sources (version {getattr(ext, 'VERSION', '?')})", None

SIMD = ext is not None and MODE != "portable" and ext.has_avx2()
# What produces the pixels of a transformed frame: part of every frame's input hash.
KERNEL = f"native-{EXPECTED_VERSION}" if ext is not None else f"opencv-{cv2.__version__}"
ENCODER = f"lipsync-png-{EXPECTED_VERSION}" if ext is not None else None
