"""The page behind the prints: what colour it is everywhere, and how far each pixel of
the scan is from it.

A scanner lid is lit unevenly (the lamp falls off toward its ends), album paper is
mottled or woven, and prints may touch the edge of the scan. So the page is first
recognised on the scan's border (the sides that are uniform and agree in colour), then
modelled as a smooth surface: per Lab channel, a row profile plus a column profile,
each a robust median over the pixels still thought to be page. That separable model
follows a lamp's falloff along and across the scan, which a low-order polynomial fitted
to a white lid did not (up to ΔE 4 left over at the far end). Album paper on a lid (a
page smaller than the scanner) is not separable; ``model.album.pages`` handles it by
looking inside the paper again with the paper as the page.

All of this works on the downscaled page (``pages.WORK_SIDE``), in Lab, float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# how uniform a side of the scan must be to be page: the share of its band within
# SIDE_TOLERANCE (ΔE) of the side's median colour
SIDE_UNIFORM_SHARE = 0.6
SIDE_TOLERANCE = 6.0
# sides of one page differ by the lamp's falloff (measured up to ΔE 12 between the near
# and far end of a lid scanned with a 15% falloff); sides further apart are not one page
SIDES_AGREE = 16.0
# ΔE from the border's colour below which a pixel may be page when the model is first
# fitted (INITIAL_SPREADS × the border's median difference from it, within these
# bounds); it is refitted twice, each time on the pixels within PAGE_NOISE_FACTOR × the
# typical page difference
INITIAL_TOLERANCE, INITIAL_SPREADS = (4.0, 12.0), 6.0
PAGE_NOISE_FACTOR = 4.0
MIN_PAGE_TOLERANCE = 2.5
# a row or column of the page model is measured where page fills this share of it, and
# otherwise filled in from its neighbours; rows and columns are measured in turn, each
# with the other taken out, SEPARABLE_PASSES times (a single pass left a ΔE 6 band
# across a lid along rows whose only page lay at the lid's ends, which the lamp
# lights least)
MIN_LINE_SHARE, SEPARABLE_PASSES = 0.2, 2
# mottled paper: a smooth local correction over 2.5% of the page's size (7 mm on A4),
# used only where it reaches LOCAL_MIN ΔE on a tenth of the page; pixels within
# LOCAL_CLEARANCE of the page's size (3 mm on A4: a print's blurred edge and shadow) of
# anything CLEARLY_PRINT (ΔE) are left out of it
LOCAL_SIGMA, LOCAL_MIN, CLEARLY_PRINT, LOCAL_CLEARANCE = 0.025, 0.8, 8.0, 0.01


@dataclass
class PageModel:
    """The page found on a (working-size) scan."""

    found: bool                    # False: no uniform page around the scan's border
    lab: np.ndarray | None         # H×W×3 the page's colour at every pixel
    difference: np.ndarray | None  # H×W ΔE of the (smoothed) scan from the page
    noise: float = 0.0             # the page's typical difference from its own model
    colour: np.ndarray | None = None  # the page's median Lab on the border


def smoothed_lab(rgb: np.ndarray, sigma: float) -> np.ndarray:
    """Lab of a float RGB image after a Gaussian blur that averages away scanner noise,
    linen weave and dust before anything is compared with the page."""
    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    lab = cv2.cvtColor(np.clip(rgb, 0.0, 1.0), cv2.COLOR_RGB2Lab)
    return cv2.GaussianBlur(lab, (0, 0), sigma) if sigma > 0 else lab


def band_width(h: int, w: int) -> int:
    return max(3, int(round(0.015 * min(h, w))))


def _side_colours(lab: np.ndarray) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """(median Lab, share within SIDE_TOLERANCE of it, the band's pixels) of each side."""
    h, w = lab.shape[:2]
    b = band_width(h, w)
    bands = (lab[:b].reshape(-1, 3), lab[-b:].reshape(-1, 3),
             lab[:, :b].reshape(-1, 3), lab[:, -b:].reshape(-1, 3))
    out = []
    for band in bands:
        median = np.median(band, axis=0)
        share = float(np.mean(np.linalg.norm(band - median, axis=1) < SIDE_TOLERANCE))
        out.append((median, share, band))
    return out


def page_colour(lab: np.ndarray, min_sides: int = 2) -> np.ndarray | None:
    """The page's colour seen on the border: the median of the largest group of uniform
    sides that agree in colour, if it holds ``min_sides`` sides; None if the border is
    not a page (a photo scanned on its own, full bleed)."""
    sides = [(m, band) for m, share, band in _side_colours(lab) if share >= SIDE_UNIFORM_SHARE]
    best: list[int] = []
    for i, (mi, _) in enumerate(sides):
        group = [j for j, (mj, _) in enumerate(sides) if np.linalg.norm(mi - mj) < SIDES_AGREE]
        if len(group) > len(best):
            best = group
    if len(best) < min_sides:
        return None
    pixels = np.concatenate([sides[j][1] for j in best])
    return np.median(pixels, axis=0).astype(np.float32)


def _robust_profile(values: np.ndarray, weights: np.ndarray, axis: int, smooth: float) -> np.ndarray:
    """Median of ``values`` along ``axis`` over the pixels where ``weights``, each line
    with too few such pixels filled in from its neighbours, then smoothed."""
    counts = weights.sum(axis=axis)
    n = values.shape[1 - axis]
    ok = counts >= max(3, MIN_LINE_SHARE * values.shape[axis])
    if not ok.any():
        level = float(np.median(values[weights])) if weights.any() else float(np.median(values))
        return np.full(n, level, np.float32)
    # the median of each line's masked values: sorted with the rest put last (a tenth
    # of the time np.nanmedian takes)
    ordered = np.sort(np.where(weights, values, np.inf), axis=axis)
    middle = np.maximum(counts - 1, 0) // 2
    prof = np.take_along_axis(ordered, np.expand_dims(middle, axis), axis=axis).squeeze(axis)
    idx = np.arange(n)
    if ok.sum() > 8 and not ok.all():
        # lines crossed by prints from end to end: from a cubic through the measured
        # ones (a lamp's falloff is no straight line between them)
        x = idx / max(n - 1, 1)
        fit = np.polyval(np.polyfit(x[ok], prof[ok], 3), x)
        # a cubic through a few lines bunched at one end (a portrait on a plain backdrop)
        # ran off to values that overflowed float32: no lamp goes further than the range
        # of what was measured beyond it
        low, high = float(prof[ok].min()), float(prof[ok].max())
        fit = np.clip(fit, 2 * low - high, 2 * high - low)
        prof = np.where(ok, prof, fit).astype(np.float32)
    else:
        prof = np.interp(idx, idx[ok], prof[ok]).astype(np.float32)
    return _smooth1d(prof, smooth) if smooth > 0 else prof


def _smooth1d(prof: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(1, int(3 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(prof, radius, mode="edge")
    return np.convolve(padded, kernel, mode="valid").astype(np.float32)


def _separable_fit(lab: np.ndarray, mask: np.ndarray, step: int) -> np.ndarray:
    """Per channel: page(y, x) = row(y) + column(x) - level, from the masked pixels
    (on every ``step``-th row and column, which is plenty for a smooth surface)."""
    h, w = lab.shape[:2]
    # the page's pixels away from anything else (a print's blurred edge or shadow is not
    # page), on every step-th row and column
    m = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8))[::step, ::step] > 0
    sub = lab[::step, ::step]
    out = np.empty_like(lab)
    smooth = max(1.0, 0.01 * max(sub.shape[:2]))
    for c in range(3):
        v = sub[..., c]
        level = float(np.median(v[m])) if m.any() else float(np.median(v))
        cols = np.full(v.shape[1], level, np.float32)
        for _ in range(SEPARABLE_PASSES):  # each profile measured with the other taken out
            rows = _robust_profile(v - cols[None, :] + level, m, axis=1, smooth=smooth)
            cols = _robust_profile(v - rows[:, None] + level, m, axis=0, smooth=smooth)
        rows = _robust_profile(v - cols[None, :] + level, m, axis=1, smooth=smooth)
        ry = np.interp(np.arange(h) / step, np.arange(len(rows)), rows).astype(np.float32)
        cx = np.interp(np.arange(w) / step, np.arange(len(cols)), cols).astype(np.float32)
        out[..., c] = ry[:, None] + cx[None, :] - level
    return out


def model_page(lab: np.ndarray, min_sides: int = 2) -> PageModel:
    """Find the page on a smoothed working-size Lab scan and model it (module notes)."""
    colour = page_colour(lab, min_sides)
    if colour is None:
        return PageModel(False, None, None)
    h, w = lab.shape[:2]
    step = max(1, int(round(max(h, w) / 400)))
    page = np.broadcast_to(colour, lab.shape)
    difference = np.linalg.norm(lab - page, axis=2)
    # as strict as the border allows: a lid's falloff and textured album paper leave
    # its border ΔE 2-5 from its median colour, black paper 0.3-0.5, and a dark print's
    # black ground next to black paper (ΔE 5-8) must be no page from the start
    b = band_width(h, w)
    spread = float(np.median(np.concatenate([difference[:b].ravel(), difference[-b:].ravel(),
                                             difference[:, :b].ravel(), difference[:, -b:].ravel()])))
    mask = difference < float(np.clip(INITIAL_SPREADS * spread, *INITIAL_TOLERANCE))
    noise = 1.0
    for _ in range(3):
        if mask.sum() < 0.02 * h * w:
            break
        page = _separable_fit(lab, mask, step)
        difference = np.linalg.norm(lab - page, axis=2)
        noise = float(np.median(difference[mask])) + 1e-3
        mask = difference < max(PAGE_NOISE_FACTOR * noise, MIN_PAGE_TOLERANCE)
    local = _local_correction(lab - page, mask, difference, step)
    if local is not None:
        page = page + local
        difference = np.linalg.norm(lab - page, axis=2)
        noise = float(np.median(difference[mask])) + 1e-3
    return PageModel(True, np.ascontiguousarray(page), difference.astype(np.float32),
                     noise, colour)


def _local_correction(residual: np.ndarray, mask: np.ndarray, difference: np.ndarray,
                      step: int) -> np.ndarray | None:
    """What the separable model leaves of the page, smoothed over LOCAL_SIGMA of the
    page's size (normalised convolution over the page's own pixels: under a print it
    is filled in from around it), when that is more than LOCAL_MIN ΔE anywhere much:
    mottled or yellowed album paper. None for a page that needs none (a lid), so that
    a pale sky next to a print is never taken for page."""
    h, w = mask.shape
    # page pixels well away from anything clearly a print
    clear = (difference > CLEARLY_PRINT).astype(np.uint8)
    reach = max(3, int(LOCAL_CLEARANCE * max(h, w)))
    near = cv2.dilate(clear, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2))
    weight = (mask & (near == 0)).astype(np.float32)[::step, ::step]
    sub = np.ascontiguousarray(residual[::step, ::step] * weight[..., None])
    sigma = LOCAL_SIGMA * max(weight.shape)
    norm = cv2.GaussianBlur(weight, (0, 0), sigma)
    smooth = cv2.GaussianBlur(sub, (0, 0), sigma) / np.maximum(norm, 1e-3)[..., None]
    smooth[norm < 0.05] = 0.0  # nothing of the page nearby: no correction
    spread = np.linalg.norm(smooth, axis=2)[weight > 0]
    if spread.size == 0 or float(np.percentile(spread, 90)) < LOCAL_MIN:
        return None
    return cv2.resize(smooth, (w, h), interpolation=cv2.INTER_LINEAR)
