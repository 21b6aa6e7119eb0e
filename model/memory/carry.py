"""Carrying the user's hints from one photo of an album to another.

A hint is about a thing (the coat, the door), and what the user sees it colour is its
region: the hint's change spread over the photo (``model.propagate``). So a photo with
hints is remembered as its cells (``model.memory.cells``), and the cells the hints reach
(at least ``REACHED`` of their colour change decided by the hints) are the thing each hint
is about. A cell of another photo takes the colour of the hint that decided a remembered
cell when it matches that cell with the album's test, stricter than a reference photo's
(``ALBUM_TEST``): a user's hint is one statement about one thing, and carried to the wrong
thing it does more harm than a reference photo's many matches. The photo and its mirror
image are both remembered, as references are. The carried hint names its hint's memory
id, so that the user can drop it, or remove that hint from the memory everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from model import color
from model.hints import CARRIED, Hint, hint_maps
from model.memory.cells import Cells, cells_of, stacked
from model.memory.reference import MatchTest, match
from model.propagate import spread

# the share of a cell's colour change its hints must decide for the cell to be remembered
REACHED = 0.5
# stricter than a reference photo's (model.memory.reference.REFERENCE_TEST: similarity 0.6,
# ratio 0.8) and at the full colour of the user's hint; on training photos (10 true hints
# on crop A of 30 same-scene pairs, benchmarks/reference_eval.py --split train) carried to
# crop B: +1.88 ± 0.79 dB at similarity 0.65, +1.97 ± 0.80 at 0.6
ALBUM_TEST = MatchTest(similarity=0.65, ratio=0.7, colour_apart=12.0, mutual=1,
                       cell_spread=12.0, lightness=4.0, hint_size=1.0)


@dataclass
class Remembered:
    """A photo with hints, as the album remembers it."""

    name: str
    cells: Cells               # its cells, ``ab`` the colours its hints gave them
    reached: np.ndarray        # n bool: cells whose colour the hints decide
    decided_by: np.ndarray     # n int: the hint (index into ``ids``) deciding each cell
    ids: list[str]             # one memory id per hint
    hint_ab: np.ndarray | None = None  # K×2: each hint's own colour


def remembered(analysis, hints: list[Hint], name: str, ids: list[str] | None = None,
               strides: str = "8+16", centre: bool = True, flipped=None) -> Remembered:
    """A photo (its ``Analysis``) with its user's ``hints``, as the album remembers it;
    with ``flipped`` (the ``Analysis`` of its mirror image) its mirror image too, as a
    reference photo is (``model.memory.reference_photo.reference_cells``)."""
    ids = list(ids) if ids is not None else [f"{name}#{i}" for i in range(len(hints))]
    parts = [_remembered_cells(analysis, hints, strides, centre)]
    if flipped is not None:
        parts.append(_remembered_cells(flipped, [replace(h, x=1.0 - h.x) for h in hints],
                                       strides, centre))
    return Remembered(name, stacked(*(c for c, _, _ in parts)),
                      np.concatenate([r for _, r, _ in parts]),
                      np.concatenate([d for _, _, d in parts]), ids,
                      np.array([(h.a, h.b) for h in hints], np.float32).reshape(-1, 2))


def _remembered_cells(analysis, hints: list[Hint], strides: str, centre: bool):
    """(cells coloured by the hints, the cells they reach, the hint deciding each)."""
    import cv2

    cells = cells_of(analysis, None, strides, centre)
    if not hints:
        return cells, np.zeros(cells.n, bool), np.zeros(cells.n, int)
    ab = analysis.ab.astype(np.float32)                   # h2×w2×2, normalised
    h2, w2 = ab.shape[:2]
    small = cv2.resize(analysis.L.astype(np.float32), (w2, h2), interpolation=cv2.INTER_AREA)
    features = color.resize_maps(analysis.features8.transpose(2, 0, 1)[None].astype(np.float32),
                                 h2, w2)[0].transpose(1, 2, 0)
    maps = hint_maps(hints, h2, w2)
    mask = maps[2]
    own = np.stack([hint_maps([h], h2, w2)[2] for h in hints], -1)   # h2×w2×K
    own = own / np.maximum(own.sum(-1, keepdims=True), 1.0)          # overlapping patches
    change = (maps[:2].transpose(1, 2, 0) - ab) * mask[..., None]
    out = spread(small, np.concatenate([change, own], -1), mask, features=features)
    coloured = (ab + out[..., :2]) * color.AB_SCALE
    share = np.clip(out[..., 2:], 0.0, None)
    H, W = cells.h, cells.w

    def per_cell(m: np.ndarray) -> np.ndarray:
        m = cv2.resize(m, (W * 4, H * 4), interpolation=cv2.INTER_LINEAR) if m.shape[:2] != (
            H * 4, W * 4) else m
        m = m.reshape(H, 4, W, 4, -1).mean((1, 3))
        return m.reshape(H * W, -1)

    cells.ab = per_cell(coloured).astype(np.float32)
    shares = per_cell(share)
    return cells, shares.sum(1) >= REACHED, shares.argmax(1)


def carried_hints(target: Cells, sources: list[Remembered], test: MatchTest = ALBUM_TEST,
                  own_colour: bool = True) -> list[Hint]:
    """The hints carried to a photo (its ``Cells``) from the remembered photos: where two
    carry to one cell, the more similar match gives its colour. ``own_colour``: a carried
    hint holds the colour of the user's hint that decided the matched cell (on training
    photos +2.26 ± 0.87 dB against +1.88 ± 0.79 for the cell's colour as the spreading left
    it, which mixes in the model's); otherwise that cell's colour."""
    best: dict[int, tuple[float, Hint]] = {}
    size = min(1.0, test.hint_size / max(target.h, target.w))
    for src in sources:
        if not src.reached.any():
            continue
        m = match(target, src.cells, test)
        keep = src.reached[m.r]
        x, y = target.centre(m.t[keep])
        for t, r, s, xi, yi in zip(m.t[keep], m.r[keep], m.similarity[keep], x, y):
            k = int(src.decided_by[r])
            a, b = np.clip(src.hint_ab[k] if own_colour else src.cells.ab[r], -128.0, 127.0)
            hint = Hint(float(xi), float(yi), float(a), float(b), size, CARRIED, src.ids[k])
            if int(t) not in best or s > best[int(t)][0]:
                best[int(t)] = (float(s), hint)
    return [best[t][1] for t in sorted(best)]
