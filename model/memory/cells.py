"""A photo as the matcher sees it: one descriptor per stride-8 cell of the spatial
model's working size, with the cell's lightness and colour.

The descriptor is the backbone's stride-8 map (40 channels) beside its stride-16 map
(112 channels, resized to the stride-8 grid), each centred on the photo's own mean and
scaled to unit length per cell, then joined and scaled to unit length again, so a dot
product is a cosine similarity in which each stride has an equal say. Centring removes
what every cell of a photo shares (its exposure, its grain) and keeps what tells its
regions apart; the choice of strides and centring was measured in
``benchmarks/reference_eval.py`` on training photos (the module docstring of
``model.memory.reference`` has the numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from model import color

CELL = 8  # pixels of the working size per cell: the stride of the finer backbone map


@dataclass
class Cells:
    """A photo's stride-8 cells, row-major on an ``h``×``w`` grid."""

    h: int
    w: int
    descriptors: np.ndarray   # n×C float32, unit length
    L: np.ndarray             # n, mean lightness 0..100
    ab: np.ndarray            # n×2 mean a/b in Lab units: the true colours of a reference,
                              # the model's automatic colours of a black-and-white photo
    spread: np.ndarray        # n, a/b standard deviation inside the cell (Lab units)

    @property
    def n(self) -> int:
        return self.h * self.w

    def centre(self, i: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """Cell ``i``'s centre relative to the photo's width and height (x, y)."""
        i = np.asarray(i)
        return (i % self.w + 0.5) / self.w, (i // self.w + 0.5) / self.h

    def at(self, x: float, y: float) -> int:
        """The cell holding a point given relative to the photo's width and height."""
        cx = min(self.w - 1, max(0, int(x * self.w)))
        cy = min(self.h - 1, max(0, int(y * self.h)))
        return cy * self.w + cx


def stacked(*cells: Cells) -> Cells:
    """Several photos' cells as one (one grid under the other, all as wide): a photo and
    its mirror image, matched as one reference."""
    w = cells[0].w
    if any(c.w != w for c in cells):
        raise ValueError("only cells of grids as wide stack")
    return Cells(sum(c.h for c in cells), w,
                 *(np.concatenate([getattr(c, k) for c in cells])
                   for k in ("descriptors", "L", "ab", "spread")))


def _unit(f: np.ndarray, centre: bool) -> np.ndarray:
    f = f.reshape(-1, f.shape[-1]).astype(np.float32)
    if centre:
        f = f - f.mean(0, keepdims=True)
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-6)


def descriptors(features8: np.ndarray, features16: np.ndarray, strides: str = "8+16",
                centre: bool = True) -> np.ndarray:
    """The backbone's maps (h8×w8×40 and h16×w16×112) → (h8·w8)×C unit descriptors.
    ``strides``: "8", "16" or "8+16"; ``centre``: subtract the photo's mean first."""
    h, w = features8.shape[:2]
    parts = []
    if "8" in strides.split("+"):
        parts.append(_unit(features8, centre))
    if "16" in strides.split("+"):
        up = color.resize_maps(features16.transpose(2, 0, 1)[None].astype(np.float32), h, w)
        parts.append(_unit(up[0].transpose(1, 2, 0), centre))
    if not parts:
        raise ValueError(f"strides must be '8', '16' or '8+16', not {strides!r}")
    joined = np.concatenate(parts, 1)
    return joined / np.maximum(np.linalg.norm(joined, axis=1, keepdims=True), 1e-6)


def _cell_means(maps: np.ndarray, h: int, w: int) -> np.ndarray:
    """H×W×C maps (H, W multiples of h, w) → (h·w)×C means over each cell."""
    H, W, C = maps.shape
    return maps.reshape(h, H // h, w, W // w, C).mean((1, 3)).reshape(h * w, C)


def cells_of(analysis, lab: np.ndarray | None = None, strides: str = "8+16",
             centre: bool = True) -> Cells:
    """A photo's cells from its ``Analysis`` (``Colorizer.analyse``). ``lab``: the
    photo's true colours (H×W×3 CIE Lab at any size, a reference), resized to the working
    size; None: a black-and-white photo, whose cells hold the model's automatic colours."""
    h, w = analysis.features8.shape[:2]
    L = analysis.L.astype(np.float32)
    H, W = L.shape
    if H != h * CELL or W != w * CELL:  # the working size is a multiple of 8
        L = cv2.resize(L, (w * CELL, h * CELL), interpolation=cv2.INTER_AREA)
        H, W = L.shape
    if lab is None:
        ab = cv2.resize(analysis.ab.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
        ab = ab * color.AB_SCALE
    else:
        interp = cv2.INTER_AREA if lab.shape[0] * lab.shape[1] > H * W else cv2.INTER_LINEAR
        ab = cv2.resize(np.ascontiguousarray(lab[..., 1:], np.float32), (W, H),
                        interpolation=interp)
    mean = _cell_means(ab, h, w)
    square = _cell_means((ab ** 2).sum(-1, keepdims=True), h, w)[:, 0]
    spread = np.sqrt(np.maximum(square - (mean ** 2).sum(1), 0.0))
    return Cells(h, w, descriptors(analysis.features8, analysis.features16, strides, centre),
                 _cell_means(L[..., None], h, w)[:, 0], mean.astype(np.float32),
                 spread.astype(np.float32))
