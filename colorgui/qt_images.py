"""numpy ↔ Qt image conversion (plain data in, QImage out)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def to_qimage(rgb: np.ndarray) -> QImage:
    """Float RGB in [0, 1] or uint8 RGB, H×W×3 → an independent QImage."""
    if rgb.dtype != np.uint8:
        rgb = np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
