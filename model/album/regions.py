"""Print regions on a page: where it differs from the page (two thresholds, as Canny's
hysteresis), holes filled; and cutting a region that is prints run together, at its
neck or along a gap of page between them. Working size, Lab, as ``model.album.pages``.
"""

from __future__ import annotations

import cv2
import numpy as np

from model.album.background import PageModel
from model.album.rect import PrintRect

# region thresholds on the difference from the page (ΔE): × the page's own noise, at least
LOW_FACTOR, LOW_MIN = 4.0, 2.0
HIGH_FACTOR, HIGH_MIN = 10.0, 8.0
# ... and clears the page's own difference by this many spreads (MAD × 1.4826) above
# its median
PAGE_SPREADS = 6.0
# a region is a print when it fills this much of its rectangle; below, it is tried as
# two prints run together, and below REJECT_FILL it is not a print at all (writing)
MIN_FILL = 0.86
# prints laid close: a region is cut along a straight line within GAP_TURN degrees of
# its sides along which GAP_SHARE of it is page
GAP_TURN, GAP_SHARE = 12.0, 0.6
# ... if it fills its rectangle less than one print does (0.98-1 with photo corners;
# the gap's open ends leave notches)
GAP_FILL = 0.96
# ... and if that line is in a band of such lines narrower than this share of the
# region (a gap of 2-15 mm between prints of 90-150 mm)
GAP_WIDTH = 0.15


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with every hole (background not reachable from the border) filled."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = mask
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 1)
    return (padded | (1 - flood))[1:-1, 1:-1]


def regions(page: PageModel) -> tuple[np.ndarray, float]:
    """The print regions: hysteresis on the difference from the page, cleaned, holes
    filled (uint8 0/1); and the lower threshold (ΔE)."""
    d = page.difference
    high = d > max(HIGH_FACTOR * page.noise, HIGH_MIN)
    # the low threshold clears the page's own extremes (mottled or woven paper), measured
    # away from every clear print, so that a region never runs out over the page
    reach = max(3, int(0.02 * max(d.shape)))
    near = cv2.dilate(high.astype(np.uint8), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1)))
    away = d[::2, ::2][near[::2, ::2] == 0]
    extreme = 0.0
    if away.size > 100:  # median and MAD: a large faint print (a night scene on black
        # paper) among these pixels must not raise it, as a high percentile did
        middle = float(np.median(away))
        extreme = middle + PAGE_SPREADS * 1.4826 * float(np.median(np.abs(away - middle)))
    low_level = max(LOW_FACTOR * page.noise, LOW_MIN, extreme)
    low = (d > low_level).astype(np.uint8)
    n, labels = cv2.connectedComponents(low, connectivity=8)
    keep = np.zeros(n, np.uint8)
    keep[np.unique(labels[high])] = 1
    keep[0] = 0
    mask = keep[labels]
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    return fill_holes(mask), low_level


def outline(region: np.ndarray) -> np.ndarray | None:
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    return max(contours, key=cv2.contourArea).reshape(-1, 2).astype(np.float32)


def rectangular_parts(region: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(part, seed) pairs: the region itself (its own seed) when it fills its rectangle
    well, else the parts it falls into at its necks (two prints run together) if each
    is rectangular, each with its core as the seed its rectangle grows from (a part's
    own outline still holds a piece of its neighbour)."""
    contour = outline(region)
    if contour is None:
        return []
    (_, _), (w, h), _ = cv2.minAreaRect(contour)
    if region.sum() >= MIN_FILL * w * h:
        return [(region, region)]
    dist = cv2.distanceTransform(region, cv2.DIST_L2, 5)
    for share in (0.35, 0.5, 0.65):
        seeds = (dist > share * dist.max()).astype(np.uint8)
        n, seed_labels = cv2.connectedComponents(seeds, connectivity=8)
        if n <= 2:
            continue
        # each pixel to its nearest seed (a Voronoi split of the region)
        _, nearest = cv2.distanceTransformWithLabels(
            (seed_labels == 0).astype(np.uint8), cv2.DIST_L2, 5,
            labelType=cv2.DIST_LABEL_PIXEL)
        seed_of_pixel = seed_labels[seeds > 0]
        pixel_labels = np.zeros(nearest.max() + 1, np.int32)
        pixel_labels[1:len(seed_of_pixel) + 1] = seed_of_pixel
        split = pixel_labels[nearest] * region
        parts = [((split == k).astype(np.uint8), (seed_labels == k).astype(np.uint8))
                 for k in range(1, n)]
        parts = [p for p in parts if p[0].sum() > 0.1 * region.sum()]
        if len(parts) >= 2 and all(_fill_of(p) >= MIN_FILL for p, _ in parts):
            return parts
    return [(region, region)]


def split_at_gaps(region: np.ndarray, pageish: np.ndarray, depth: int = 0) -> list[np.ndarray]:
    """A region cut along the gaps of page it holds: prints laid close together, whose
    gap the blur, their shadows or photo corners bridged here and there. A gap is a
    straight line across the region, within GAP_TURN of its sides (each print is turned
    its own way), not near its ends, along which GAP_SHARE or more is page (GAP_FILL)."""
    contour = outline(region)
    if contour is None or depth >= 3 or region.sum() < 400:
        return [region]
    rect = PrintRect.from_box(cv2.minAreaRect(contour))
    w, h = int(rect.width), int(rect.height)
    if w < 20 or h < 20 or region.sum() > GAP_FILL * rect.area:
        return [region]  # as full as one print: no gap open at its ends
    # within the region's convex hull: a gap open at both ends is no part of the region
    hull = np.zeros_like(region)
    cv2.fillConvexPoly(hull, cv2.convexHull(contour.astype(np.int32)), 1)
    inside = hull.astype(np.float32)
    page_in = (pageish & (hull > 0)).astype(np.float32)
    best = (GAP_SHARE, None)
    c = np.array([rect.cx, rect.cy])
    for turn in np.arange(-GAP_TURN, GAP_TURN + 0.5, 1.0):
        u, v = PrintRect(0, 0, 1, 1, rect.angle + turn).axes
        x0, y0 = -w / 2, -h / 2
        m = np.array([[u[0], v[0], c[0] + x0 * u[0] + y0 * v[0]],
                      [u[1], v[1], c[1] + x0 * u[1] + y0 * v[1]]], np.float32)
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        filled = cv2.warpAffine(inside, m, (w, h), flags=flags)
        gap = cv2.warpAffine(page_in, m, (w, h), flags=flags)
        for axis, length in ((0, w), (1, h)):  # a gap across the width, then the height
            lines_filled = filled.sum(axis=axis)
            share = gap.sum(axis=axis) / np.maximum(lines_filled, 1.0)
            share[lines_filled < 0.5 * lines_filled.max()] = 0  # the region's ends
            lo, hi = int(0.15 * len(share)), int(0.85 * len(share))
            if hi <= lo:
                continue
            k = lo + int(np.argmax(share[lo:hi]))
            wide = share >= GAP_SHARE
            a = b = k
            while a > 0 and wide[a - 1]:
                a -= 1
            while b + 1 < len(share) and wide[b + 1]:
                b += 1
            if b - a + 1 > GAP_WIDTH * len(share):
                continue  # a broad band of page colour: part of a photo (a dark ground)
            if share[k] > best[0]:
                normal = u if axis == 0 else v
                offset = (k - (w if axis == 0 else h) / 2 + 0.5)
                best = (float(share[k]), (normal, offset))
    if best[1] is None:
        return [region]
    normal, offset = best[1]
    yy, xx = np.mgrid[0:region.shape[0], 0:region.shape[1]]
    side = (xx - c[0]) * normal[0] + (yy - c[1]) * normal[1] - offset
    pieces = [(region * (side < -1)).astype(np.uint8), (region * (side > 1)).astype(np.uint8)]
    if min(p.sum() for p in pieces) < 0.15 * region.sum():
        return [region]
    return [q for p in pieces for q in split_at_gaps(_largest(p), pageish, depth + 1)]


def _largest(region: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
    if n <= 2:
        return region
    return (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)


def _fill_of(region: np.ndarray) -> float:
    contour = outline(region)
    if contour is None:
        return 0.0
    (_, _), (w, h), _ = cv2.minAreaRect(contour)
    return float(region.sum()) / max(w * h, 1.0)


def without_duplicates(rects: list[PrintRect]) -> list[PrintRect]:
    """Drop a rectangle whose centre lies inside a larger one."""
    rects = sorted(rects, key=lambda r: -r.area)
    kept: list[PrintRect] = []
    for r in rects:
        if not any(_inside(k, r.cx, r.cy) for k in kept):
            kept.append(r)
    return kept


def _inside(r: PrintRect, x: float, y: float) -> bool:
    u, v = r.axes
    d = np.array([x - r.cx, y - r.cy])
    return abs(d @ u) <= r.width / 2 and abs(d @ v) <= r.height / 2
