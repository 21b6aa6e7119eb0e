"""User colour hints as the network sees them, and simulated hints for training.

A hint is a colour (a/b, lightness-independent) at a point of the photo, given in
coordinates relative to the photo's size so it survives resizing, over a small square
patch. The network takes them as three maps at its working size: a and b (normalised,
zero where there is no hint) and a 0/1 mask (``model.nets.spatial.HINT_CHANNELS``).

Where a hint came from (``origin``) matters to the user, not to the network: the user's
own, matched from a reference photo (``model.memory.reference``), or carried from
another photo of the album (``model.memory.album``). ``source`` names the reference
photo or the album memory's entry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


USER, REFERENCE, CARRIED = "user", "reference", "carried"  # a hint's origin
ORIGINS = (USER, REFERENCE, CARRIED)


@dataclass(frozen=True)
class Hint:
    x: float          # 0..1, left to right
    y: float          # 0..1, top to bottom
    a: float          # CIE Lab a (about ±128)
    b: float          # CIE Lab b
    size: float = 0.02  # side of the square patch, relative to the photo's longer side
    origin: str = USER  # USER, REFERENCE (matched from a colour photo) or CARRIED (album)
    source: str = ""    # the reference photo's name, or the album memory entry's id

    def mine(self) -> "Hint":
        """The same hint as the user's own (the user moved or recoloured it)."""
        return replace(self, origin=USER, source="") if self.origin != USER else self


def of_origin(hints, origin: str) -> list[Hint]:
    return [h for h in hints if h.origin == origin]


def hint_maps(hints: list[Hint], height: int, width: int) -> np.ndarray:
    """Hints → 3×height×width float32 maps (a/128, b/128, mask)."""
    out = np.zeros((3, height, width), np.float32)
    for h in hints:
        if not (0.0 <= h.x <= 1.0 and 0.0 <= h.y <= 1.0):
            raise ValueError(f"hint position ({h.x}, {h.y}) lies outside the photo")
        side = max(1, int(round(h.size * max(height, width))))
        cy = min(height - 1, int(h.y * height))
        cx = min(width - 1, int(h.x * width))
        y0, x0 = max(0, cy - side // 2), max(0, cx - side // 2)
        y1, x1 = min(height, y0 + side), min(width, x0 + side)
        out[0, y0:y1, x0:x1] = h.a / 128.0
        out[1, y0:y1, x0:x1] = h.b / 128.0
        out[2, y0:y1, x0:x1] = 1.0
    return out


def sample_hints(ab: np.ndarray, rng: np.random.Generator, count: int) -> list[Hint]:
    """``count`` hints taken from a photo's true colours (normalised a/b, 2×H×W), as in
    Zhang et al. 2017: each a square patch (1-9 px at 256², scaled with the photo) at a
    random place, holding the mean true a/b of that patch."""
    _, H, W = ab.shape
    long = max(H, W)
    out = []
    for _ in range(count):
        side = min(H, W, max(1, int(round(rng.integers(1, 10) * long / 256.0))))
        y, x = int(rng.integers(0, H - side + 1)), int(rng.integers(0, W - side + 1))
        a, b = ab[:, y:y + side, x:x + side].reshape(2, -1).mean(1) * 128.0
        out.append(Hint((x + side / 2) / W, (y + side / 2) / H, float(a), float(b), side / long))
    return out


def simulate_hints(ab: np.ndarray, rng: np.random.Generator, count: int | None = None,
                   none_share: float = 0.5, p_more: float = 0.125) -> np.ndarray:
    """Simulated hint maps for training: normalised a/b (2×H×W) → 3×H×W maps of
    ``sample_hints``. ``count`` fixes the number of points; otherwise none in
    ``none_share`` of the photos, else a geometric number (mean 1/``p_more``)."""
    if count is None:
        count = 0 if rng.random() < none_share else int(rng.geometric(p_more))
    return hint_maps(sample_hints(ab, rng, count), *ab.shape[1:])
