"""Where should I click? The points where a colour hint would change the photo most.

The model's doubt alone points at small busy places (the five most uncertain places gain
only 1.06× what five random points gain): a hint there fixes a few pixels. What a hint
fixes is its reach times the error it meets. So, on the grid the hints are spread on
(``model.propagate``: lightness and the backbone's stride-8 maps, half the working size):

- ``doubt`` at each pixel is the model's expected squared colour error there, from its
  colour-class probabilities: Σ_k p_k |c_k − ab|² (Lab units²), the error a true colour
  could remove;
- a hint pinned at p moves a pixel q by ``w_p(q) = G[q, p] / G[p, p]`` of its change,
  with ``G`` the inverse of the spreading system without pins (the strong-pin limit of
  ``model.propagate.spread``): its reach through the photo's regions;
- where the hint's region shares its error, a pixel's squared error falls by
  ``(1 − (1 − w)²)``; so a place scores ``Σ_q (1 − (1 − w_p(q))²) · doubt(q)^POWER``;
- the points are chosen one by one, each lowering the doubt it reaches
  (``doubt ← doubt · (1 − w)²``), so the next one goes where colour is still in doubt.
  The user's own hints lower the doubt first, in the same way.

Scored on training photos (``benchmarks/suggest_eval.py --split train``: 60 photos of the
grouped validation split, 5 true hints): 1.91× (95% 1.59–2.36) what 5 random points gain,
the 5 most uncertain places 0.93×. That was the first setting tried (``POWER`` 1,
``SPACING`` 3) and no other was scored.

A place is suggested only while a hint there could remove at least ``MIN_SHARE`` of the
photo's doubt. On 40 photos of the validation split the fifth place without hints removed
5.2% or more (5th percentile; median 6.3%), after 20 true hints 0.6% (median 1.1%), and
after 200 (a reference of the photo's own scene gives hundreds) under 0.05%: such places
sat in the photo's corners, under the hints already there.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from model import color
from model.hints import Hint
from model.propagate import EDGE_L, FEATURE_WEIGHT, REACH, neighbour_weights

POWER = 1.0      # doubt's exponent in the score
SPACING = 3      # candidates every this many pixels of the spreading grid (~96² at 192²):
                 # a 1000-column solve, 1.1 of the 1.2 s a 1 MP photo takes (2 cores, quiet)
HINT_SIZE = 0.02  # the suggested hints' patch, as a user's default hint
MIN_SHARE = 0.005  # the least share of the photo's doubt a suggested hint may remove


@dataclass(frozen=True)
class Suggestion:
    x: float       # 0..1 of the photo's width
    y: float       # 0..1 of its height
    a: float       # the model's colour there now (Lab)
    b: float
    score: float   # the squared error (Lab units², summed over the grid) a hint may remove

    def hint(self, size: float = HINT_SIZE) -> Hint:
        return Hint(self.x, self.y, self.a, self.b, size)


def doubt_map(analysis) -> np.ndarray:
    """The model's expected squared colour error at each pixel of its output grid
    (h/2×w/2, Lab units²): zero for a model without a class head."""
    ab = analysis.ab.astype(np.float32)
    h2, w2 = ab.shape[:2]
    if analysis.probabilities is None:
        return np.zeros((h2, w2), np.float32)
    P = analysis.probabilities.astype(np.float32)          # h4×w4×Q
    c = color.bin_centres() * color.AB_SCALE              # Q×2
    mean = P @ c
    second = P @ (c ** 2).sum(1)
    # E|c − ab|² = E|c|² − 2 ab·E[c] + |ab|², with ab the colours shown (at h/2)
    up = lambda m: cv2.resize(m.astype(np.float32), (w2, h2), interpolation=cv2.INTER_LINEAR)  # noqa: E731
    shown = ab * color.AB_SCALE
    d = up(second) - 2 * (shown * up(mean)).sum(-1) + (shown ** 2).sum(-1)
    return np.maximum(d, 0.0)


def _system(analysis) -> tuple:
    """The spreading system without pins on the output grid, factorised, and the grid."""
    ab = analysis.ab
    h2, w2 = ab.shape[:2]
    small = cv2.resize(analysis.L.astype(np.float32), (w2, h2), interpolation=cv2.INTER_AREA)
    features = color.resize_maps(analysis.features8.transpose(2, 0, 1)[None].astype(np.float32),
                                 h2, w2)[0].transpose(1, 2, 0)
    wh, wv = neighbour_weights(small.astype(np.float64), EDGE_L, features, FEATURE_WEIGHT)
    n = h2 * w2
    idx = np.arange(n).reshape(h2, w2)
    rows = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    cols = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    adj = sp.coo_matrix((np.concatenate([wh.ravel(), wv.ravel()]), (rows, cols)), shape=(n, n))
    adj = (adj + adj.T).tocsr()
    steps = max(1.0, REACH * max(h2, w2))
    system = sp.diags(np.asarray(adj.sum(1)).ravel() + 1.0 / steps ** 2) - adj
    return splu(system.tocsc(), permc_spec="MMD_AT_PLUS_A"), h2, w2


def reach(lu, n: int, points: np.ndarray) -> np.ndarray:
    """n×len(points) ``w_p(q)``: how far a hint pinned at each point moves every pixel."""
    rhs = np.zeros((n, len(points)))
    rhs[points, np.arange(len(points))] = 1.0
    G = lu.solve(rhs)
    return np.clip(G / np.maximum(G[points, np.arange(len(points))], 1e-12), 0.0, 1.0)


def suggest(analysis, count: int = 5, hints: list[Hint] = (), current_ab: np.ndarray | None = None,
            power: float = POWER, spacing: int = SPACING) -> tuple[list[Suggestion], np.ndarray]:
    """The ``count`` best places for a hint in the photo of ``analysis``
    (``Colorizer.analyse``), given the user's ``hints`` (fewer, or none, where a hint
    could remove little of the photo's doubt: ``MIN_SHARE``); and the doubt left after those
    hints (h/2×w/2, 0..1 of the photo's doubt without hints: the faint map the app shows).
    ``current_ab``: the colours shown now (h×w×2 normalised, any size; None: the
    automatic ones), whose values the suggestions carry."""
    lu, h2, w2 = _system(analysis)
    n = h2 * w2
    doubt = doubt_map(analysis).ravel().astype(np.float64)
    top = float(np.percentile(doubt, 99)) or 1.0
    least = MIN_SHARE * float(doubt.sum())
    ys, xs = np.mgrid[spacing // 2:h2:spacing, spacing // 2:w2:spacing]
    cand = (ys * w2 + xs).ravel()
    taken = np.zeros(len(cand), bool)
    if hints:
        pts = np.unique([min(h2 - 1, int(h.y * h2)) * w2 + min(w2 - 1, int(h.x * w2))
                         for h in hints])
        for col in reach(lu, n, pts).T:
            doubt *= (1.0 - col) ** 2
        # a place that holds a hint is none to suggest: the doubt it lowers is its own,
        # but its reach still crossed doubt further out, and it was suggested again
        py, px = np.divmod(pts, w2)
        near = (np.abs(ys.ravel()[:, None] - py) <= spacing) & \
            (np.abs(xs.ravel()[:, None] - px) <= spacing)
        taken = near.any(axis=1)
    left = np.clip(doubt.reshape(h2, w2) / top, 0.0, 1.0).astype(np.float32)
    W = reach(lu, n, cand)                         # n × candidates
    gain = 1.0 - (1.0 - W) ** 2
    gain[:, taken] = 0.0
    shown = analysis.ab if current_ab is None else current_ab
    shown = cv2.resize(np.ascontiguousarray(shown, np.float32), (w2, h2),
                       interpolation=cv2.INTER_AREA) * color.AB_SCALE
    out: list[Suggestion] = []
    for _ in range(min(count, len(cand))):
        scores = gain.T @ (doubt ** power)
        k = int(np.argmax(scores))
        if scores[k] <= 0 or scores[k] < least:
            break
        p = cand[k]
        y, x = divmod(int(p), w2)
        a, b = shown[y, x]
        out.append(Suggestion((x + 0.5) / w2, (y + 0.5) / h2, float(a), float(b),
                              float(scores[k])))
        doubt *= (1.0 - W[:, k]) ** 2
        gain[:, k] = 0.0
    return out, left
