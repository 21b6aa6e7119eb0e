"""Old age, made on purpose, with the answer kept: fading (contrast down to 50-70%, the
black lifted, a sepia or yellow cast) and dust and scratches (specks and thin lines,
light or dark), for the tests and ``benchmarks/restore_eval.py``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

CASTS = {"sepia": (1.0, 0.86, 0.66), "yellowed": (1.0, 0.97, 0.80)}
OPAQUE = 0.9  # how much of the photo a speck or scratch hides, unless told otherwise


def gray(rgb: np.ndarray) -> np.ndarray:
    """A colour photo as the black-and-white print it stands for (Lab L kept)."""
    from model import color

    return color.gray_to_rgb(color.luminance(rgb))


def faded(rgb: np.ndarray, rng, *, contrast: float | None = None, black: float | None = None,
          cast: str | None = "random") -> np.ndarray:
    """A faded copy of a float RGB photo: v' = black + contrast × v (per channel, so
    white fades toward black + contrast), then tinted by a cast."""
    contrast = rng.uniform(0.5, 0.7) if contrast is None else contrast
    black = rng.uniform(0.12, 1.0 - contrast) if black is None else black
    out = black + contrast * np.asarray(rgb, np.float32)
    if cast == "random":
        cast = ("sepia", "yellowed", None)[int(rng.integers(3))]
    if cast:
        out = out * np.array(CASTS[cast], np.float32)
    return np.clip(out, 0, 1).astype(np.float32)


def damaged(rgb: np.ndarray, rng, *, specks_per_mp: float = 400.0, scratches: int | None = None,
            opacity: tuple[float, float] = (OPAQUE, OPAQUE)) -> tuple[np.ndarray, np.ndarray]:
    """A float RGB photo with dust specks (round, 1-5 px across, light or dark, each as
    opaque as drawn from the range ``opacity``) and thin scratches (1-2 px wide, straight
    or gently bent, a fifth to two thirds of the photo long, OPAQUE); and the mask of the
    pixels it changed (by more than 2 levels of 255)."""
    h, w = rgb.shape[:2]
    layer = np.zeros((h * 4, w * 4), np.float32)   # drawn at 4× for soft edges
    value = np.zeros_like(layer)
    alpha = np.zeros_like(layer)
    count = max(1, int(specks_per_mp * h * w / 1e6))
    for _ in range(count):
        r = rng.uniform(0.5, 2.5) * 4
        x, y = rng.uniform(0, w) * 4, rng.uniform(0, h) * 4
        level = 1.0 if rng.random() < 0.6 else 0.0   # dust on a print scans light or dark
        # (a fixed opacity draws nothing, so the benchmark's damage stays as it was)
        a = rng.uniform(*opacity) if opacity[0] < opacity[1] else opacity[0]
        cv2.circle(layer, (int(x), int(y)), int(r), 1.0, -1, cv2.LINE_AA)
        cv2.circle(value, (int(x), int(y)), int(r), level, -1, cv2.LINE_AA)
        cv2.circle(alpha, (int(x), int(y)), int(r), a, -1, cv2.LINE_AA)
    n_lines = int(rng.integers(2, 6)) if scratches is None else scratches
    for _ in range(n_lines):
        length = rng.uniform(0.2, 0.66) * max(h, w) * 4
        angle = rng.uniform(0, math.pi)
        x0, y0 = rng.uniform(0, w) * 4, rng.uniform(0, h) * 4
        bend = rng.uniform(-0.05, 0.05) * length
        pts = []
        for t in np.linspace(0, 1, 24):
            along = (t - 0.5) * length
            off = bend * (1 - (2 * t - 1) ** 2)
            pts.append((x0 + along * math.cos(angle) - off * math.sin(angle),
                        y0 + along * math.sin(angle) + off * math.cos(angle)))
        width = int(round(rng.uniform(1.0, 2.0) * 4))
        level = 1.0 if rng.random() < 0.7 else 0.0
        poly = np.round(np.array(pts)).astype(np.int32)
        cv2.polylines(layer, [poly], False, 1.0, width, cv2.LINE_AA)
        cv2.polylines(value, [poly], False, level, width, cv2.LINE_AA)
        cv2.polylines(alpha, [poly], False, OPAQUE, width, cv2.LINE_AA)
    cover = cv2.resize(layer, (w, h), interpolation=cv2.INTER_AREA)
    tone = cv2.resize(value, (w, h), interpolation=cv2.INTER_AREA) / np.maximum(cover, 1e-6)
    # each pixel as opaque as what covers it, times how much of it is covered
    strength = np.clip(cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA), 0, 1)[..., None]
    out = np.asarray(rgb, np.float32) * (1 - strength) + np.clip(tone, 0, 1)[..., None] * strength
    out = out.astype(np.float32)
    changed = np.abs(out - rgb).max(axis=2) > 2.0 / 255
    return out, changed
