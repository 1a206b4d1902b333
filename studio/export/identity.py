"""What a machine must share with another to render the same bytes (SPEC §14): the project's
version and code, the renderer version, and the pixel-affecting libraries (the render kernel —
native or OpenCV —, OpenCV, numpy, the PNG encoder). A render farm compares every worker's identity with the coordinator's before it
writes anything: frame hashes, reuse and byte-identical output assume identical pixels.
"""
from __future__ import annotations

import functools
import hashlib
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CODE_PACKAGES = ("contracts", "render", "studio")   # what a worker runs: a batch task runs a whole export


@functools.cache
def identity() -> dict[str, str]:
    import cv2
    import numpy as np

    from render.native import KERNEL
    from studio.export.fg import RENDERER_VERSION
    from studio.export.png import encoder_identity
    return {"project": f"{_project_version()}+{_code_digest()}", "renderer": RENDERER_VERSION,
            "render kernel": KERNEL, "opencv": cv2.__version__, "numpy": np.__version__,
            "png encoder": encoder_identity()}


def differences(theirs: dict, ours: dict | None = None) -> list[str]:
    """'opencv 4.10.0 (this machine: 5.0.0)' for every component that differs."""
    ours = ours or identity()
    return [f"{k} {theirs.get(k, 'missing')} (this machine: {v})" for k, v in ours.items() if theirs.get(k) != v]


def _project_version() -> str:
    try:
        return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, ValueError, KeyError):
        return "unknown"


def _code_digest() -> str:
    """A digest of the project's Python sources: two checkouts of different commits differ here."""
    h = hashlib.blake2b(digest_size=6)
    for pkg in CODE_PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
