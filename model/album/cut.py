"""Cutting a print out of its page, straight: the page turned back by the print's angle
about the print's centre, at the page's full resolution (no perspective: a flatbed sees
a print flat). A print that needs no turn (under ``STRAIGHT_ENOUGH``) is cut with whole
pixels and no resampling, so a lossless page gives the print's pixels bit for bit.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from model.album.rect import PrintRect

# below this turn, over a 6-inch print at 600 dpi, the far corner moves under 0.2 px
STRAIGHT_ENOUGH = 0.003  # degrees


def cut_size(rect: PrintRect) -> tuple[int, int]:
    return max(1, int(round(rect.width))), max(1, int(round(rect.height)))


def cut_print(image: np.ndarray, rect: PrintRect) -> np.ndarray:
    """The print in ``rect`` (page pixels) cut out of ``image`` (H×W or H×W×C, any dtype
    OpenCV warps: float32 RGB, uint8/uint16 alpha) and turned upright."""
    w, h = cut_size(rect)
    if abs(rect.angle) < STRAIGHT_ENOUGH:
        x0 = int(round(rect.cx - (w - 1) / 2))
        y0 = int(round(rect.cy - (h - 1) / 2))
        x0 = min(max(x0, 0), max(image.shape[1] - w, 0))
        y0 = min(max(y0, 0), max(image.shape[0] - h, 0))
        return np.ascontiguousarray(image[y0:y0 + h, x0:x0 + w])
    t = math.radians(rect.angle)
    u = np.array([math.cos(t), math.sin(t)])
    v = np.array([-math.sin(t), math.cos(t)])
    # cut(x, y) = page(centre + (x - (w-1)/2) u + (y - (h-1)/2) v)
    ox, oy = -(w - 1) / 2, -(h - 1) / 2
    m = np.array([[u[0], v[0], rect.cx + ox * u[0] + oy * v[0]],
                  [u[1], v[1], rect.cy + ox * u[1] + oy * v[1]]], np.float64)
    interpolation = cv2.INTER_CUBIC if image.dtype == np.float32 else cv2.INTER_LINEAR
    out = cv2.warpAffine(image, m, (w, h), flags=interpolation | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REPLICATE)
    if image.dtype == np.float32:
        np.clip(out, 0.0, 1.0, out=out)  # cubic overshoots at hard edges
    return out
