"""Spread a user's colour hints over the region they sit in, stopping at edges.

The network takes hints as input channels, but from one small patch it recolours only a
small blob around it (docs/results.md: 10 hints from the truth, +0.12 dB). A user who puts
one blue dot on a dress expects the dress to turn blue. So the change each hint asks for
(its colour minus the network's colour there) is spread over the photo by an
edge-aware diffusion on the lightness, after Levin, Lischinski & Weiss (2004),
"Colorization using optimization": neighbouring pixels of similar lightness get similar
changes, a lightness edge stops the spread, and the change fades with distance (a weak
pull toward "no change") so one hint never recolours the whole photo.

Solved on the network's own output grid (~128² for a 256² input): one sparse
factorisation for both a and b channels, 0.05–0.1 s on the build machine. ``EDGE_L`` and
``REACH`` were chosen on 60 training photos (``imagenet_extra``, never ``eval/``) with 1
and 10 hints from the truth: a longer reach scores higher still (reach 1: +0.4 dB more),
but one hint then tints far parts of the photo, which a user does not expect. Adding the
automatic colours to the edge guide changed nothing (±0.01 dB).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

EDGE_L = 8.0    # lightness step (L units) at which a neighbour's pull falls to 1/e
REACH = 0.5     # how far a change carries in a flat region, relative to the longer side
PIN = 100.0     # how strongly a hinted pixel holds its change


def _neighbour_weights(L: np.ndarray, edge: float) -> tuple[np.ndarray, np.ndarray]:
    """exp(-(ΔL / edge)²) between horizontal and vertical neighbours."""
    wh = np.exp(-((L[:, 1:] - L[:, :-1]) / edge) ** 2)
    wv = np.exp(-((L[1:, :] - L[:-1, :]) / edge) ** 2)
    return wh, wv


def spread(L: np.ndarray, change: np.ndarray, mask: np.ndarray, edge: float = EDGE_L,
           reach: float = REACH) -> np.ndarray:
    """Spread a sparse change over the image.

    ``L``: H×W lightness (0..100); ``change``: H×W×C, meaningful where ``mask`` (H×W,
    0..1) is positive. Returns the H×W×C change everywhere: equal to ``change`` at the
    masked pixels (up to the pin strength), fading with edge-aware distance elsewhere.
    """
    H, W = L.shape
    n = H * W
    wh, wv = _neighbour_weights(L.astype(np.float64), edge)
    idx = np.arange(n).reshape(H, W)
    rows = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    cols = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    w = np.concatenate([wh.ravel(), wv.ravel()])
    adj = sp.coo_matrix((w, (rows, cols)), shape=(n, n))
    adj = (adj + adj.T).tocsr()
    degree = np.asarray(adj.sum(1)).ravel()
    steps = max(1.0, reach * max(H, W))
    pin = PIN * mask.astype(np.float64).ravel()
    # (graph Laplacian + 1/steps² + pin) x = pin · change
    system = sp.diags(degree + 1.0 / steps ** 2 + pin) - adj
    rhs = pin[:, None] * change.reshape(n, -1).astype(np.float64)
    out = splu(system.tocsc()).solve(rhs)
    return out.reshape(change.shape).astype(np.float32)
