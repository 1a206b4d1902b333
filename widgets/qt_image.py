"""numpy BGRA frames to Qt images (no copies beyond the one Qt needs to own the pixels)."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def bgra_to_qimage(frame: np.ndarray) -> QImage:
    """A straight-alpha BGRA uint8 array is QImage.Format_ARGB32 on little-endian machines."""
    h, w = frame.shape[:2]
    buf = np.ascontiguousarray(frame)
    img = QImage(buf.data, w, h, buf.strides[0], QImage.Format.Format_ARGB32)
    return img.copy()  # detach from the numpy buffer, which the renderer reuses
