"""Restoring a faded print's tone before it is colorized, on request only.

A faded black-and-white print has lost its blacks (the darkest parts are a middle
gray) and often turned sepia or yellow. ``restore_tone`` does two things, each only
when the print shows the need:

* the cast: a print whose colour is one hue throughout, weakly (a toned or yellowed
  black-and-white print), is made neutral gray, its lightness kept. A colour photo's
  many hues are left alone.
* the levels: the lightness is stretched so that its 0.5th and 99.5th percentiles (not
  its minimum and maximum, which a speck of dust or a reflection decides) land where an
  unfaded photo's lie. It is done only when the black is lifted and the range narrow
  (``BLACK_LIFTED``, ``FADED_SPAN``): a photo with a true black, or a full range, is
  never stretched, so an unfaded photo comes out as it went in.

The thresholds and targets were chosen on the project's training photos, faded
synthetically (benchmarks/restore_eval.py), and are reported on eval/.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from model import color

# percentiles of the lightness that stand for its black and white
LOW_PERCENTILE, HIGH_PERCENTILE = 0.5, 99.5
# where they lie on unfaded photos (the medians over 2,000 gray train photos: 0.55
# and 95.4); a faded print's are mapped there
TARGET_BLACK, TARGET_WHITE = 0.55, 95.4
# faded: a black lifted to BLACK_LIFTED (L) or more and the range between black and
# white at most FADED_SPAN, or FADED_SPAN_CAST for a print with a cast. On 1,000 gray
# train photos: 0.6% of the unfaded ones are stretched (low contrast: haze, fog) and
# none has a cast; of the same faded (model.album.ageing), 86% are stretched and the
# cast is found on all that have one (two thirds)
BLACK_LIFTED, FADED_SPAN, FADED_SPAN_CAST = 10.0, 55.0, 75.0
# a cast: the median chroma at least CAST_CHROMA, its hues gathered (the mean resultant
# length of the hue angles, weighted by chroma, at least CAST_GATHERED: 1.0 on sepia,
# but 0.79 on the median colour train photo, a warm scene gathers them too), weak
# everywhere (95th percentile under CAST_MAX_CHROMA; sepia about 25), and following
# the lightness (CAST_SPREAD, ``_colour_follows_lightness``), which a colour photo's
# colours do not: of 300 colour train photos 18% passed the first three, 1.3% all
# four; every sepia-faded one passes
CAST_CHROMA, CAST_GATHERED, CAST_MAX_CHROMA, CAST_SPREAD = 2.0, 0.85, 30.0, 4.0


@dataclass(frozen=True)
class ToneChange:
    """What ``restore_tone`` did to a photo."""

    black: float            # the lightness levels it found (percentiles, L 0-100)
    white: float
    stretched: bool         # the levels were mapped to an unfaded photo's
    cast_removed: bool      # a one-hued cast was made neutral

    @property
    def changed(self) -> bool:
        return self.stretched or self.cast_removed

    def describe(self) -> str:
        parts = []
        if self.stretched:
            parts.append(f"levels {self.black:.0f}-{self.white:.0f} stretched to "
                         f"{TARGET_BLACK:.0f}-{TARGET_WHITE:.0f}")
        if self.cast_removed:
            parts.append("colour cast removed")
        return ", ".join(parts) if parts else "tone left as it was (not faded)"


def _sample(image: np.ndarray, most: int = 1_000_000) -> np.ndarray:
    step = max(1, int(np.sqrt(image.shape[0] * image.shape[1] / most)))
    return image[::step, ::step]


def measure_tone(rgb: np.ndarray) -> tuple[float, float, bool]:
    """(black, white, has a cast) of a float RGB photo."""
    lab = color.rgb_to_lab(_sample(rgb))
    black, white = np.percentile(lab[..., 0], (LOW_PERCENTILE, HIGH_PERCENTILE))
    a, b = lab[..., 1].ravel(), lab[..., 2].ravel()
    chroma = np.hypot(a, b)
    cast = False
    if float(np.median(chroma)) >= CAST_CHROMA and \
            float(np.percentile(chroma, 95)) <= CAST_MAX_CHROMA:
        hue = np.arctan2(b, a)
        gathered = np.hypot((chroma * np.cos(hue)).sum(), (chroma * np.sin(hue)).sum()) \
            / max(float(chroma.sum()), 1e-6)
        cast = gathered >= CAST_GATHERED and _colour_follows_lightness(lab)
    return float(black), float(white), cast


def _colour_follows_lightness(lab: np.ndarray) -> bool:
    """Whether a and b are set by the lightness alone (a toned print: its tint scales
    with its density), not by what is in the picture: their spread about the median
    of each tenth of the lightness at most CAST_SPREAD."""
    L, ab = lab[..., 0].ravel(), lab[..., 1:].reshape(-1, 2)
    bins = np.minimum((L / 10).astype(int), 9)
    residual = np.empty(len(L), np.float32)
    for k in np.unique(bins):
        chosen = bins == k
        residual[chosen] = np.linalg.norm(ab[chosen] - np.median(ab[chosen], axis=0), axis=1)
    return float(np.percentile(residual, 90)) <= CAST_SPREAD


def restore_tone(rgb: np.ndarray) -> tuple[np.ndarray, ToneChange]:
    """The photo (float RGB in [0, 1]) with its faded tone restored, and what was done
    (module notes); the photo itself when it needs nothing."""
    black, white, cast = measure_tone(rgb)
    span = white - black
    stretch = black >= BLACK_LIFTED and 5.0 < span <= (FADED_SPAN_CAST if cast else FADED_SPAN)
    change = ToneChange(black, white, stretch, cast)
    if not change.changed:
        return rgb, change
    lab = color.rgb_to_lab(rgb)
    if stretch:
        L = lab[..., 0]
        scale = (TARGET_WHITE - TARGET_BLACK) / (white - black)
        # above the white point the scale is kept to 1 so that highlights are not
        # clipped harder than they were
        lab[..., 0] = np.clip(np.where(L <= white, TARGET_BLACK + (L - black) * scale,
                                       TARGET_WHITE + (L - white)), 0.0, 100.0)
    if cast:
        lab[..., 1:] = 0.0
    return color.lab_to_rgb(lab), change


def before_after(rgb: np.ndarray, restored: np.ndarray, long_side: int = 480) -> np.ndarray:
    """The photo and its restoration side by side, small (what the app shows)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    a = cv2.resize(np.ascontiguousarray(rgb, np.float32), size, interpolation=cv2.INTER_AREA)
    b = cv2.resize(np.ascontiguousarray(restored, np.float32), size, interpolation=cv2.INTER_AREA)
    gap = np.ones((size[1], max(2, size[0] // 60), 3), np.float32)
    return np.concatenate([a, gap, b], axis=1)
