"""Training losses: the spatial model's (regression on a/b plus the class head's
rarity-weighted cross-entropy) and the paper model's MSE with rare colours weighted."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from model import color
from model.io.imageio import ImageReadError, read_photo
from model.nets.spatial import AB_BINS, SpatialNet, ab_bins


def spatial_loss(net: SpatialNet, L: torch.Tensor, ab: torch.Tensor, features, hints,
                 kind: str = "l1+ce", ce_weight: float = 0.05) -> torch.Tensor:
    """The training loss at the network's own output size: regression on a/b at half
    size (L1 or the paper's MSE) plus, with "+ce", ``ce_weight`` × a rarity-weighted
    cross-entropy over a/b bins (Zhang et al. 2016) on the quarter-size side head."""
    pred, logits = net.outputs(L, features, hints)
    target = F.avg_pool2d(ab, 2)
    reg = kind.split("+")[0]
    if reg == "l1":
        loss = (pred.float() - target).abs().mean()
    elif reg == "mse":
        loss = (pred.float() - target).pow(2).mean()
    else:
        raise ValueError(f"unknown loss {kind!r}")
    if kind.endswith("+ce"):
        if logits is None:
            raise ValueError("the +ce loss needs a model with a class head")
        bins = ab_bins(F.avg_pool2d(ab, 4))
        w = net.class_weights[bins]
        ce = F.cross_entropy(logits.float(), bins, reduction="none")
        loss = loss + ce_weight * (w * ce).sum() / w.sum()
    return loss


def _decoded(path: Path) -> np.ndarray:
    return read_photo(path).rgb


def colour_weights(paths: list[Path], power: float, sample: int = 800, seed: int = 0,
                   photo: Callable[[Path], np.ndarray] | None = None) -> torch.Tensor:
    """Per-bin pixel weights that rebalance rare (saturated) colours, after Zhang et al.
    2016: w ∝ (½·p̃ + ½/Q)^-power, p̃ the smoothed a/b distribution of the training
    photos, Q the number of bins in use, normalised so the mean weight per pixel is 1.

    The paper's MSE pulls every prediction toward the conditional mean, which for most
    objects is a gray-brown; weighting the rarer colours keeps outputs colourful.
    ``photo`` reads a photo as float RGB (default: decode the file; a training set's own
    ``photo`` serves them from memory).
    """
    import cv2

    from model.training.data import center_square

    rng = np.random.default_rng(seed)
    pick = [paths[i] for i in rng.permutation(len(paths))[:sample]]
    hist = np.zeros((AB_BINS, AB_BINS), np.float64)
    for path in pick:
        try:
            rgb = center_square((photo or _decoded)(path), 64)
        except ImageReadError:
            continue
        lab = color.rgb_to_lab(rgb)
        idx = ab_bins(torch.from_numpy(color.normalise_ab(lab[..., 1:]).transpose(2, 0, 1))[None])
        hist += np.bincount(idx.ravel().numpy(), minlength=AB_BINS**2).reshape(AB_BINS, AB_BINS)
    p = hist / max(hist.sum(), 1.0)
    smooth = cv2.GaussianBlur(p, (3, 3), 0.5)
    smooth /= max(smooth.sum(), 1e-12)
    q = max(int((p > 0).sum()), 1)
    w = (0.5 * smooth + 0.5 / q) ** -power
    w /= max(float((p * w).sum()), 1e-12)
    return torch.from_numpy(w.astype(np.float32).ravel())


def rebalanced_loss(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The paper's MSE with each pixel weighted by its true colour's rarity weight."""
    w = weights.to(pred.device)[ab_bins(target)]
    return (w * (pred - target).pow(2).mean(dim=1)).mean()
