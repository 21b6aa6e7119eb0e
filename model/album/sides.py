"""Straightening a print's rectangle and placing its sides: the turn from the straight
parts of its region's outline, then each side moved, on the profile of the difference
from the page across it, to the print's edge (out over faint print such as a white
border or a pale sky, in over a blob of mottled paper). Working size, as
``model.album.pages``.
"""

from __future__ import annotations

import math
import warnings

import cv2
import numpy as np

from model.album.background import PageModel
from model.album.rect import PrintRect

# growing a side: how far (× the rectangle's extent across that side) and how much
# above the page's level the mean difference along the next line must stay (ΔE)
GROW_REACH = 0.45
# ... and how far a side may move in (× the same extent)
INNER_REACH = 0.25
GROW_MARGIN, GROW_NOISE_FACTOR = 0.6, 0.6
# outline points within this distance (working px) of a side are fitted to it
SIDE_BAND = 3.0
# local outline directions are taken between points this far apart along it; a side is
# a line of outline points filling this share of the outline's extent along it
OUTLINE_STEP, SIDE_FILL = 10, 0.3
# (a pixel outline's local directions come in steps of atan(1/20) = 3°: a side's
# points are those within ALONG_SIDE degrees of it)
ALONG_SIDE = 10.0
# a side grows only over lines further above the page's level than this many times the
# spread of the page's own lines beyond it (median less 10th percentile)
GROW_SPREAD_FACTOR = 3.0
# ... and grows over a line only where this share of it differs from the page
LINE_SHARE = 0.7
# a print's edge rises from 20% to 80% within this many working px (the blur's 2 px,
# and a pixel of slant along a side); a wider rise is mottled paper, not an edge
SHARP_WIDTH = 5.0
# mottled paper stepped over so is never further from the page's level than this (ΔE)
BLOB_LEVEL = 6.0


def _fit_side(a: np.ndarray, b: np.ndarray) -> tuple[float, float, int, float] | None:
    """b = k·a + m through side points, twice without the points over 1.5 px off:
    (k, m, inliers, rms)."""
    keep = np.ones(len(a), bool)
    for _ in range(3):
        if keep.sum() < 8:
            return None
        k, m = np.polyfit(a[keep], b[keep], 1)
        resid = b - (k * a + m)
        new_keep = np.abs(resid) < 1.5
        if (new_keep == keep).all():
            break
        keep = new_keep
    if keep.sum() < 8:
        return None
    rms = float(np.sqrt(np.mean(resid[keep] ** 2)))
    return float(k), float(m), int(keep.sum()), rms


def _dominant_turn(contour: np.ndarray) -> float | None:
    """The turn (degrees, in [-45, 45)) shared by most of an outline's local directions:
    a print's four straight sides agree on it, a blob of page joined to it does not."""
    if len(contour) < 40:
        return None
    step = OUTLINE_STEP
    d = np.roll(contour, -step, axis=0) - np.roll(contour, step, axis=0)
    turns = (np.degrees(np.arctan2(d[:, 1], d[:, 0])) + 45.0) % 90.0 - 45.0
    bins = np.histogram(turns, bins=360, range=(-45, 45))[0].astype(np.float32)
    smooth = cv2.GaussianBlur(np.tile(bins, 3).reshape(1, -1), (0, 0), 2.0).ravel()[360:720]
    peak = -45.0 + (int(np.argmax(smooth)) + 0.5) * 0.25
    near = np.abs((turns - peak + 45.0) % 90.0 - 45.0) < 4.0
    if near.sum() < 0.2 * len(contour):
        return None
    return peak + float(np.mean((turns[near] - peak + 45.0) % 90.0 - 45.0))


def _straight_sides(contour: np.ndarray, c: np.ndarray, angle: float, usable: np.ndarray):
    """Fit each of the four sides to the outline points that run along it (their local
    direction within ALONG_SIDE of the side's) and lie on the outermost well-filled line of such
    points: (turns and weights from the fits, {side: offset from c}). A blob joined to
    the print, or a pale sky that left the outline short, gives no straight side there."""
    u, v = PrintRect(0, 0, 1, 1, angle).axes
    rel = contour - c
    a, b = rel @ u, rel @ v
    step = OUTLINE_STEP
    d = np.roll(contour, -step, axis=0) - np.roll(contour, step, axis=0)
    local = (np.degrees(np.arctan2(d[:, 1], d[:, 0])) - angle) % 180.0
    along_u = ((local < ALONG_SIDE) | (local > 180 - ALONG_SIDE)) & usable
    along_v = (np.abs(local - 90) < ALONG_SIDE) & usable
    turns, weights, sides = [], [], {}
    for axis_points, along, across, names in ((along_u, a, b, ("top", "bottom")),
                                               (along_v, b, a, ("left", "right"))):
        if axis_points.sum() < 16:
            continue
        extent = float(np.ptp(along[axis_points]))
        offsets = np.round(across[axis_points]).astype(int)
        lo = offsets.min()
        counts = np.bincount(offsets - lo)
        counts = np.convolve(counts, np.ones(3), mode="same")
        full = np.flatnonzero(counts >= SIDE_FILL * extent)
        if not len(full):
            continue
        middle = (across.min() + across.max()) / 2  # of the whole outline
        for name, at in ((names[0], full[0] + lo), (names[1], full[-1] + lo)):
            if (at > middle) if name in ("top", "left") else (at < middle):
                continue  # the one straight line found is the other side
            pick = axis_points & (np.abs(across - at) < SIDE_BAND)
            fit = _fit_side(along[pick], across[pick]) if pick.sum() >= 8 else None
            if fit is None:
                continue
            k, m, count, rms = fit
            turns.append(math.degrees(math.atan(k)) * (1 if name in ("top", "bottom") else -1))
            weights.append(count / (rms + 0.25))
            sides[name] = m
    return turns, weights, sides


def refined(rect: PrintRect, contour: np.ndarray, page: PageModel,
             frame: tuple[int, int]) -> tuple[PrintRect, int]:
    """Straighten ``rect`` on the straight parts of its region's outline, then place
    each side on the page's edge profile (module notes); with how many of its sides
    the outline showed straight."""
    c = np.array([rect.cx, rect.cy])
    dominant = _dominant_turn(contour)
    angle = rect.angle if dominant is None else dominant
    # the scan's own edge, where a region is cut off, is no side of a print
    w, h = frame
    inside = (contour[:, 0] > 0.5) & (contour[:, 0] < w - 1.5) & \
        (contour[:, 1] > 0.5) & (contour[:, 1] < h - 1.5)
    turns, weights, sides = _straight_sides(contour, c, angle, inside)
    if turns:
        angle += float(np.average(turns, weights=weights))
        turns, weights, sides = _straight_sides(contour, c, angle, inside)
    u, v = PrintRect(0, 0, 1, 1, angle).axes
    rel = contour - c
    a, b = rel @ u, rel @ v
    # a straight side where the outline has one; elsewhere the outline's extreme
    start = (sides.get("left", float(a.min())), sides.get("right", float(a.max())),
             sides.get("top", float(b.min())), sides.get("bottom", float(b.max())))
    (left, right), (top, bottom) = _placed_sides(page, c, u, v, *start)
    centre = c + (left + right) / 2 * u + (top + bottom) / 2 * v
    return (PrintRect(float(centre[0]), float(centre[1]), right - left, bottom - top, angle),
            len(sides))


def _side_edge(q: np.ndarray, most: np.ndarray, k0: int, margin: float) -> float:
    """Where a print's side lies along profiles of the difference from the page across
    it, in outward order, ``k0`` being the region's own edge. ``most``: what most of each
    line (LINE_SHARE) exceeds; ``q``: each line's mean. The side is first moved out while
    most of the next line still differs from the page (faint print, not a neighbour
    that covers part of it), then placed where the mean crosses halfway between the
    page's level and the print's just inside."""
    off_page = np.flatnonzero(~np.isfinite(q) | ~np.isfinite(most))
    if len(off_page):  # the scan ends there: so does what can be seen of the print
        q, most = q[:off_page[0]], most[:off_page[0]]
    outside = most[k0 + 3:]
    if len(outside) < 4:
        return float(min(k0, len(q) - 0.5))
    # the page's level: the low end of what lies beyond (from a seed deep inside a print
    # the first half of that is still print), and its own unevenness at this scale
    # (mottled or woven paper, uneven light) from the lines near that level
    floor = float(np.percentile(outside, 5))
    page_lines = outside[outside <= floor + 2 * margin + 1.0]
    low, typical = np.percentile(page_lines, (10, 50))
    margin = max(margin, GROW_SPREAD_FACTOR * float(typical - low))
    level = float(typical) + margin
    k = k0
    # in first, while most of the line is page (a blob of mottled paper, or a neighbour's
    # corner, that joined the region but covers only part of the side) ...
    while k > 1 and most[k] < level and most[k - 1] < level:
        k -= 1
    # ... then out while most of the next lines still differ from the page
    while k + 1 < len(q) and (most[k] >= level or most[k + 1] >= level):
        k += 1
    floor = float(np.percentile(q[k0 + 3:], 5))
    if k + 1 >= len(q):
        k = k0  # no page beyond: it ran into something else
    # the outermost sharp step at or inside k: a print's edge is as sharp as the blur
    # (20-80% in about 2 px); a blob of mottled paper that joined the side fades out
    # over ten or more, and is stepped over
    first = None
    at = k
    while at > 2:
        step = _step_at(q, at, floor, margin)
        if step is not None:
            x, width = step
            if first is None:
                first = x
            if width <= SHARP_WIDTH:
                return x
        at = int(math.floor(step[0])) - 2 if step is not None else at - 3
        if q[at] > floor + BLOB_LEVEL:
            # into the print itself: its edge is the rise just outside here (a blurred
            # edge whose tail ran into mottled paper), if that is sharp
            step = _step_at(q, at + 3, floor, margin)
            if step is not None and step[1] <= SHARP_WIDTH:
                return step[0]
            break
    return first if first is not None else k - 0.5


def _step_at(q: np.ndarray, k: int, floor: float, margin: float) -> tuple[float, float] | None:
    """The step of the profile ending at about ``k`` (the march stops on the outer tail
    of an edge's blur, about 2.5 px out for a strong edge): where it crosses halfway
    from the page's level to the level just inside (close enough to see a white
    border's level rather than the photo's within it), and how wide its 20-80% rise is."""
    inside = q[max(0, k - 6):max(1, k - 3)]
    if not len(inside):
        return None
    top = float(np.median(inside))
    if top - floor < margin:
        return None
    half, high, low = (floor + f * (top - floor) for f in (0.5, 0.8, 0.2))
    x = None
    for j in range(min(k, len(q) - 1), max(0, k - 8), -1):  # the outermost crossing
        if q[j - 1] >= half > q[j]:
            x = j - 1 + (q[j - 1] - half) / (q[j - 1] - q[j])
            break
    if x is None:
        return None
    j = int(x)
    inner = j
    while inner > 0 and q[inner] < high and j - inner < 12:
        inner -= 1
    outer = j + 1
    while outer < len(q) - 1 and q[outer] > low and outer - j < 12:
        outer += 1
    return x, float(outer - inner)


def _placed_sides(page: PageModel, c, u, v, left, right, top, bottom):
    """((left, right), (top, bottom)) of the print along u and v, from the profiles of
    the difference from the page across each side (over its middle 60%, clear of photo
    corners)."""
    width, height = right - left, bottom - top
    reach_x = int(math.ceil(GROW_REACH * width)) + 4
    reach_y = int(math.ceil(GROW_REACH * height)) + 4
    x0, y0 = math.floor(left) - reach_x, math.floor(top) - reach_y
    size = (int(math.ceil(right - x0)) + reach_x + 1, int(math.ceil(bottom - y0)) + reach_y + 1)
    # crop(x, y) = page(c + (x + x0) u + (y + y0) v)
    m = np.array([[u[0], v[0], c[0] + x0 * u[0] + y0 * v[0]],
                  [u[1], v[1], c[1] + x0 * u[1] + y0 * v[1]]], np.float32)
    crop = cv2.warpAffine(page.difference, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=float("nan"))
    xs = slice(int(left - x0 + 0.2 * width), int(left - x0 + 0.8 * width) + 1)
    ys = slice(int(top - y0 + 0.2 * height), int(top - y0 + 0.8 * height) + 1)
    with warnings.catch_warnings():  # lines wholly off the scan stay NaN: its edge
        warnings.simplefilter("ignore", RuntimeWarning)
        rows = np.nanmean(crop[:, xs], axis=1)
        cols = np.nanmean(crop[ys, :], axis=0)
    # pixels off the scan count as page here: a line half off the scan is no print
    on_scan = np.nan_to_num(crop, nan=-1.0)
    low_share = 100 * (1 - LINE_SHARE)
    rows_most = np.percentile(on_scan[:, xs], low_share, axis=1)
    cols_most = np.percentile(on_scan[ys, :], low_share, axis=0)
    margin = max(GROW_MARGIN, GROW_NOISE_FACTOR * page.noise)
    inner_x, inner_y = int(INNER_REACH * width), int(INNER_REACH * height)

    def outward(at, direction, inner):
        """The slice from ``inner`` px inside the side at ``at`` outward (reversed when
        outward is toward 0), the index of the side in it, and the map from its index
        back to a crop coordinate."""
        i = int(round(at))
        if direction > 0:
            start = max(0, i - inner)
            return slice(start, None), i - start, lambda k: start + k
        end = i + inner
        return slice(end, None, -1), end - i, lambda k: end - k

    found = []
    for (mean, most), at, direction, inner, origin in (
            ((cols, cols_most), left - x0, -1, inner_x, x0),
            ((cols, cols_most), right - x0, 1, inner_x, x0),
            ((rows, rows_most), top - y0, -1, inner_y, y0),
            ((rows, rows_most), bottom - y0, 1, inner_y, y0)):
        part, k0, back = outward(at, direction, inner)
        found.append(back(_side_edge(mean[part], most[part], k0, margin)) + origin)
    return (found[0], found[1]), (found[2], found[3])
