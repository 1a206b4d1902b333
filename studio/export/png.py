"""PNG encoding for the FG sequence: the project's own encoder (native/, render/native.py; ~2.5x
fpng, smaller files), else fpng (3–6x faster than libpng through OpenCV on our frames), else OpenCV.
All write standard 8-bit RGBA PNGs that cv2.imread(..., IMREAD_UNCHANGED) reads back as the same
BGRA values (tested). When the native encoder is missing, FALLBACK_NOTE says so (once per export)."""
from __future__ import annotations

import cv2
import numpy as np

from render import native

try:
    import fpng as _fpng
except ImportError:  # pragma: no cover - the pinned set installs it
    _fpng = None

ENCODER = native.ENCODER or ("fpng" if _fpng is not None else "opencv")
FALLBACK_NOTE = None if native.ENCODER else (
    f"the native PNG encoder is not available ({native.missing}): frames are encoded with {ENCODER}, "
    "about 2.5x slower; scripts/bootstrap.sh builds it (it needs a C compiler)")


def encode_png(bgra: np.ndarray, encoder: str = ENCODER) -> bytes:
    if encoder == native.ENCODER:
        return native.ext.encode_png(bgra, swap_rb=True, simd=native.SIMD)
    if encoder == "fpng":
        return _fpng.fpng_ext.encode_ndarray(cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA))
    ok, buf = cv2.imencode(".png", bgra)
    if not ok:
        raise OSError("PNG encoding failed")
    return buf.tobytes()


def encode_rgba_png(rgba: np.ndarray, encoder: str = ENCODER) -> bytes:
    """The same PNG from pixels already in RGBA order (the export renders them so)."""
    if encoder == native.ENCODER:
        return native.ext.encode_png(rgba, simd=native.SIMD)
    if encoder == "fpng":
        return _fpng.fpng_ext.encode_ndarray(rgba)
    return encode_png(cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA), encoder)


def encoder_identity() -> str:
    """The PNG encoder in use, with its version: what a render farm's workers must share with the
    coordinator (frame hashes assume identical bytes; studio/export/identity.py compares it).
    An encoder added here must name itself and its build here too."""
    if ENCODER == native.ENCODER:   # its name carries the sources' version; AVX2 and portable give the same bytes
        return ENCODER
    if ENCODER == "fpng":
        from importlib.metadata import PackageNotFoundError, version
        try:
            return f"fpng {version('fpng')}"
        except PackageNotFoundError:  # pragma: no cover - installed some other way
            return f"fpng {getattr(_fpng, '__file__', '?')}"
    return f"opencv {cv2.__version__}"
